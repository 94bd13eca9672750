// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// S3 sync-down: `runner sync-down` against Debian's aws CLI, both pulling
// the same objects from the shared s3-test-server (SigV4-checking, on disk).

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";

import { killTree, track } from "./servers.mjs";

const AWS = "/usr/bin/aws";
const BUCKET = "runner";
const CREDS = { AWS_ACCESS_KEY_ID: "runner-test", AWS_SECRET_ACCESS_KEY: "runner-secret" };

function run(cmd, args, env, timeoutMs) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = track(spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true }));
    let out = "";
    child.stdout.on("data", (b) => { if (out.length < 16384) out += b; });
    child.stderr.on("data", (b) => { if (out.length < 16384) out += b; });
    const timer = setTimeout(() => killTree(child.pid), timeoutMs);
    child.once("error", (e) => { clearTimeout(timer); reject(e); });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const secs = (performance.now() - t0) / 1000;
      if (code === 0) resolve(secs);
      else reject(new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(" ")} ended with ${signal ?? `code ${code}`}: ${out.trim().split("\n").slice(-3).join(" | ")}`));
    });
  });
}

function startS3(dir, dataDir) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [path.join(dir, "server.js")], {
      env: { ...process.env, S3_PORT: "0", S3_DIR: dataDir, S3_BUCKETS: BUCKET },
      stdio: ["ignore", "pipe", "pipe"], detached: true,
    }));
    let out = "";
    const timer = setTimeout(() => reject(new Error("s3-test-server did not start in 30 s")), 30000);
    child.stdout.on("data", (b) => {
      out += b;
      const m = /listening (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.stderr.on("data", (b) => { out += b; });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`s3-test-server exited (${code}): ${out.trim()}`)); });
  });
}

function tally(dir) {
  let files = 0, bytes = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith(".runner")) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) { files++; bytes += fs.statSync(p).size; }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { files, bytes };
}

function makeSource(root, { s3Files, s3FileBytes, s3BigBytes }) {
  const small = path.join(root, "small"), big = path.join(root, "big");
  fs.mkdirSync(small, { recursive: true });
  fs.mkdirSync(big, { recursive: true });
  const perDir = 100;
  for (let i = 0; i < s3Files; i++) {
    const d = path.join(small, `d${String(Math.floor(i / perDir)).padStart(3, "0")}`);
    if (i % perDir === 0) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `f${String(i % perDir).padStart(3, "0")}.bin`), randomBytes(s3FileBytes));
  }
  const fd = fs.openSync(path.join(big, "blob.bin"), "w");
  for (let left = s3BigBytes; left > 0; left -= 1 << 20) fs.writeSync(fd, randomBytes(Math.min(left, 1 << 20)));
  fs.closeSync(fd);
  return { small, big };
}

/*
 * ctx: { sizes, build, runner (path, or null when there is none), log }.
 * Rows s3.small and s3.big: seconds; "reference" is the aws CLI.
 */
export async function caseS3({ sizes, build, runner, log }) {
  const serverDir = path.join(build, "s3-test-server");
  if (!fs.existsSync(path.join(serverDir, "node_modules", "s3rver")))
    throw new Error(`s3-test-server is not set up in ${serverDir} (bench/run installs it)`);
  if (!fs.existsSync(AWS)) throw new Error(`${AWS} is missing (apt-get install awscli)`);

  const root = path.join(build, "s3");
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const s3 = await startS3(serverDir, path.join(root, "data"));
  const endpoint = `http://127.0.0.1:${s3.port}`;
  const awsEnv = {
    ...CREDS, AWS_DEFAULT_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: path.join(root, "aws-config"), AWS_SHARED_CREDENTIALS_FILE: path.join(root, "aws-credentials"),
    AWS_PAGER: "",
  };
  const aws = (...args) => run(AWS, [...args, "--endpoint-url", endpoint, "--only-show-errors", "--no-progress"], awsEnv, sizes.caseTimeoutMs);
  const rows = { "s3.small": {}, "s3.big": {} };
  try {
    const src = makeSource(path.join(root, "src"), sizes);
    log(`s3: uploading ${sizes.s3Files} files and ${sizes.s3BigBytes} bytes`);
    await aws("s3", "sync", src.small, `s3://${BUCKET}/code/bench-small/`);
    await aws("s3", "cp", path.join(src.big, "blob.bin"), `s3://${BUCKET}/code/bench-big/blob.bin`);
    const want = { small: tally(src.small), big: tally(src.big) };

    const check = (dir, what) => {
      const got = tally(dir);
      if (got.files !== want[what].files || got.bytes !== want[what].bytes)
        throw new Error(`${what}: got ${got.files} files / ${got.bytes} bytes, expected ${want[what].files} / ${want[what].bytes}`);
    };
    const timed = async (row, what, fn) => {
      const dest = path.join(root, `${row.who}-${what}`);
      fs.mkdirSync(dest, { recursive: true });
      try {
        const secs = await fn(dest);
        check(dest, what);
        rows[`s3.${what}`][row.who] = { value: secs, ...want[what] };
      } catch (e) {
        // A runner from before the subcommand says so and is not a failure.
        rows[`s3.${what}`][row.who] = /unknown command/.test(e.message) ? { na: "runner lacks sync-down" } : { error: e.message };
      } finally {
        fs.rmSync(dest, { recursive: true, force: true });
      }
    };

    const awsRow = { who: "reference" };
    await timed(awsRow, "small", (dest) => aws("s3", "sync", `s3://${BUCKET}/code/bench-small/`, dest));
    await timed(awsRow, "big", (dest) => aws("s3", "cp", `s3://${BUCKET}/code/bench-big/blob.bin`, path.join(dest, "blob.bin")));
    if (runner) {
      const runnerRow = { who: "runner" };
      const syncDown = (prefix) => (dest) => run(runner, ["sync-down"], {
        ...CREDS, AWS_REGION: "us-east-1", S3_BUCKET: BUCKET, S3_PREFIX: prefix, S3_ENDPOINT: endpoint,
        WORKSPACE: dest, RUNNER_STATE_DIR: path.join(root, "runner-state"), RUNNER_DBUS: "none", LANG: "C", LC_ALL: "C",
      }, sizes.caseTimeoutMs);
      await timed(runnerRow, "small", syncDown("code/bench-small/"));
      await timed(runnerRow, "big", syncDown("code/bench-big/"));
    }
  } finally {
    killTree(s3.child.pid, "SIGTERM");
    fs.rmSync(root, { recursive: true, force: true });
  }
  return { rows };
}
