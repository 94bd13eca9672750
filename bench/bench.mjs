#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Runner side by side with the reference Node service, in one run.
// Usually started through ./run, which prepares the reference and the npm
// dependencies; see `./run --help`.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { CLIENT_LABELS, makeClient } from "./lib/clients.mjs";
import * as cases from "./lib/cases.mjs";
import { evaluate, markdown, rowSpecs } from "./lib/report.mjs";
import { caseS3 } from "./lib/s3.mjs";
import { describeExit, killAll, startServer, stopServer } from "./lib/servers.mjs";
import { makeWorkspace } from "./lib/workspace.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

const USAGE = `usage: bench/run [--quick] [--runner PATH] [--runner-protocol sio|ws]
                 [--servers reference,runner] [--cases LIST] [--build DIR] [--out DIR]
  --quick             small sizes; checks that every case completes for both servers
  --runner PATH       the built runner binary ($RUNNER_BINARY, else ../_build/src/runner)
  --runner-protocol   sio (default): drive Runner over Socket.IO like the reference;
                      ws: over its plain JSON WebSocket /ws (marked in the report)
  --servers LIST      which servers to run (default reference,runner)
  --cases LIST        ${"startup,idle,clients,connect,fetchDir,fetchContent,updateContent,echo,echoTight,stream,s3"}
  --build DIR         scratch directory ($BENCH_BUILD, else bench/build)
  --out DIR           where latest.md and latest.json go (default bench/results)`;

function parseArgs(argv) {
  const o = {
    quick: false,
    runner: process.env.RUNNER_BINARY || path.resolve(here, "../_build/src/runner"),
    runnerProtocol: "sio",
    servers: ["reference", "runner"],
    cases: null,
    build: process.env.BENCH_BUILD || path.join(here, "build"),
    out: path.join(here, "results"),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--runner") o.runner = path.resolve(value());
    else if (a === "--runner-protocol") o.runnerProtocol = value();
    else if (a === "--servers") o.servers = value().split(",").filter(Boolean);
    else if (a === "--cases") o.cases = new Set(value().split(",").filter(Boolean));
    else if (a === "--build") o.build = path.resolve(value());
    else if (a === "--out") o.out = path.resolve(value());
    else if (a === "-h" || a === "--help") { console.log(USAGE); process.exit(0); }
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!["sio", "ws"].includes(o.runnerProtocol)) throw new Error("--runner-protocol is sio or ws");
  return o;
}

const FULL = {
  dirs: 200, filesPerDir: 100, bigBytes: 1024 * 1024, updateBytes: 4096,
  streamRawBytes: 75_000_000, streamTimeoutMs: 180_000, rawRuns: 3,
  echoWarmup: 100, echoSamples: 1000, keyIntervalMs: 10,
  fetchDirSamples: 20, fetchContentSamples: 50, updateSamples: 20, requestTimeoutMs: 30_000,
  startups: 5, clients: 1000, connections: 1000,
  s3Files: 5000, s3FileBytes: 2048, s3BigBytes: 200 * 1024 * 1024,
  caseTimeoutMs: 300_000, budgetMs: Infinity,
};

const QUICK = {
  dirs: 10, filesPerDir: 50, bigBytes: 1024 * 1024, updateBytes: 4096,
  streamRawBytes: 1_500_000, streamTimeoutMs: 30_000, rawRuns: 1,
  echoWarmup: 10, echoSamples: 50, keyIntervalMs: 10,
  fetchDirSamples: 3, fetchContentSamples: 5, updateSamples: 3, requestTimeoutMs: 15_000,
  startups: 1, clients: 50, connections: 50,
  s3Files: 50, s3FileBytes: 2048, s3BigBytes: 2 * 1024 * 1024,
  caseTimeoutMs: 30_000, budgetMs: 120_000,
};

// What each case is, which rows it fills, which client roles it runs with.
const CASES = [
  { id: "startup", run: cases.caseStartup, rows: () => ["ready.http", "ready.socket"], fresh: true },
  { id: "idle", run: cases.caseIdle, rows: () => ["rss.idle"] },
  { id: "clients", run: cases.caseManyClients, rows: () => ["rss.clients"], restartAfter: true },
  { id: "connect", run: cases.caseConnectRate, rows: () => ["connect.rate"], restartAfter: true },
  { id: "fetchDir", run: cases.caseFetchDir, roles: ["real", "lean"], rows: (r) => [`fetchDir.${r}`] },
  { id: "fetchContent", run: cases.caseFetchContent, roles: ["real", "lean"], rows: (r) => [`fetchContent.${r}`] },
  { id: "updateContent", run: cases.caseUpdateContent, roles: ["real", "lean"], rows: (r) => [`updateContent.${r}`] },
  { id: "echo", run: cases.caseEcho, roles: ["real", "lean"], rows: (r) => [`echo.p50.${r}`, `echo.p99.${r}`] },
  { id: "echoTight", run: cases.caseEchoTight, roles: ["real", "lean"], rows: (r) => [`echo.tight.p50.${r}`, `echo.tight.p99.${r}`] },
  { id: "stream", run: cases.caseStream, roles: ["lean", "real"], rows: (r) => [`stream.${r}`, `rss.load.${r}`] },
];

function serverDefs(opts, build) {
  const home = path.join(build, "home");
  fs.mkdirSync(home, { recursive: true });
  const common = { HOME: home, SHELL: "/bin/bash", TERM: "xterm-256color", LANG: "C.UTF-8" };
  const refDir = path.join(build, "node-runner");
  return {
    reference: {
      name: "reference", command: process.execPath, args: [path.join(refDir, "index.js")], cwd: refDir,
      readyLine: /node runner on/, token: null,
      kinds: { real: "sio", lean: "eio", rate: "eio-handshake" },
      check: () => fs.existsSync(path.join(refDir, "node_modules/node-pty/build/Release/pty.node"))
        ? null : `the reference is not set up in ${refDir} (run bench/run, which runs its ./setup there)`,
      env: (port, ws) => ({ ...common, PORT: String(port), WORKSPACE: ws, BIND: "127.0.0.1", SHELL_BIN: "bash" }),
    },
    runner: {
      name: "runner", command: opts.runner, args: ["--no-auth"], cwd: build,
      readyLine: /Runner listening on/, token: null,
      kinds: opts.runnerProtocol === "ws"
        ? { real: "json", lean: "json", rate: "json-handshake" }
        : { real: "sio", lean: "eio", rate: "eio-handshake" },
      check: () => {
        try {
          fs.accessSync(opts.runner, fs.constants.X_OK);
          return null;
        } catch {
          return `no runner binary at ${opts.runner} (build it: meson setup _build && meson compile -C _build, or pass --runner / RUNNER_BINARY)`;
        }
      },
      env: (port, ws) => ({
        ...common, PORT: String(port), WORKSPACE: ws, RUNNER_BIND: "127.0.0.1", RUNNER_NO_AUTH: "1",
        RUNNER_SHELL: "bash", RUNNER_DBUS: "none",
        // serve would restore and sync the workspace with S3 if told of a bucket
        S3_BUCKET: undefined,
      }),
    },
  };
}

function rawPty(build, sizes) {
  const bin = path.join(build, "rawpty");
  const cmd = `head -c ${sizes.streamRawBytes} /dev/zero | base64 -w 0`;
  const runs = [];
  for (let i = 0; i < sizes.rawRuns; i++) {
    const r = JSON.parse(execFileSync(bin, [cmd], { encoding: "utf8", timeout: 60_000 }));
    runs.push(r.bytes / 1e6 / r.seconds);
  }
  return Math.max(...runs);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

function machineNotes(opts, sizes) {
  const cpu = os.cpus();
  let commit = "unknown";
  try { commit = execFileSync("git", ["-C", here, "describe", "--always", "--dirty"], { encoding: "utf8" }).trim(); } catch { /* no git */ }
  return {
    date: new Date().toISOString(), mode: opts.quick ? "quick" : "full", commit,
    host: `${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}`,
    node: process.version, runner: opts.runner, runnerProtocol: opts.runnerProtocol, sizes,
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const loadAtStart = os.loadavg()[0];
  const sizes = opts.quick ? QUICK : FULL;
  const build = opts.build;
  fs.mkdirSync(build, { recursive: true });
  const defs = serverDefs(opts, build);
  const servers = opts.servers.map((n) => {
    if (!defs[n]) throw new Error(`unknown server ${n}`);
    return defs[n];
  });
  const wanted = (id) => !opts.cases || opts.cases.has(id);

  const rows = {};                 // rowId -> { reference: cell, runner: cell }
  const details = {};              // "server/case" -> what the case returned
  const errors = [];
  const put = (row, server, cell) => { (rows[row] ??= {})[server] = cell; };
  const log = (...a) => console.error(`[bench ${(process.uptime()).toFixed(1)}s]`, ...a);

  // Identical workspaces, one per server.
  const expect = {};
  if (CASES.some((c) => wanted(c.id))) {
    for (const def of servers) {
      def.workspace = path.join(build, `ws-${def.name}-${opts.quick ? "quick" : "full"}`, "workspace");
      Object.assign(expect, makeWorkspace(def.workspace, sizes));
    }
    log(`workspaces ready: ${expect.files} files each`);
  }

  let raw = null;
  if (wanted("stream")) {
    try {
      raw = rawPty(build, sizes);
      log(`raw pty: ${raw.toFixed(1)} MB/s`);
    } catch (e) {
      errors.push({ server: "raw pty", case: "stream", message: e.message });
    }
  }

  const main = {};                 // name -> running main instance
  const ensure = async (def) => {
    if (main[def.name] && !main[def.name].exited) return main[def.name];
    if (main[def.name]) {
      const why = describeExit(main[def.name]);
      delete main[def.name];
      log(`${def.name} had exited (${why}); starting it again`);
    }
    main[def.name] = await startServer(def, def.workspace);
    return main[def.name];
  };
  const restart = async (def) => {
    await stopServer(main[def.name]);
    delete main[def.name];
  };

  for (const spec of CASES) {
    if (!wanted(spec.id)) continue;
    for (const role of spec.roles ?? [null]) {
      for (const def of servers) {
        const label = role ? `${spec.id} (${role})` : spec.id;
        const rowIds = spec.rows(role);
        const problem = def.check();
        if (problem) {
          for (const r of rowIds) put(r, def.name, { error: problem });
          if (!errors.some((e) => e.server === def.name && e.message === problem))
            errors.push({ server: def.name, case: "all", message: problem });
          continue;
        }
        const opened = new Set();
        const ctx = {
          def, sizes, expect, workspace: def.workspace, kinds: def.kinds,
          track: (c) => { opened.add(c); return c; },
          open: async (kind) => {
            const c = ctx.track(makeClient(kind, ctx.server));
            await c.connect();
            return c;
          },
        };
        log(`${def.name}: ${label}`);
        try {
          if (process.uptime() * 1000 > sizes.budgetMs)
            throw new Error(`not run: the run's time budget (${sizes.budgetMs / 1000} s) was spent`);
          if (!spec.fresh) ctx.server = await ensure(def);
          const result = await withTimeout(spec.run(ctx, role), sizes.caseTimeoutMs, label);
          details[`${def.name}/${label}`] = result;
          for (const [r, cell] of Object.entries(result.rows)) put(r, def.name, cell);
          if (spec.restartAfter) await restart(def);
        } catch (e) {
          const exited = ctx.server && ctx.server.exited ? ` (server ${describeExit(ctx.server)})` : "";
          const message = `${e.message}${exited}`;
          log(`${def.name}: ${label} FAILED: ${message}`);
          for (const r of rowIds) put(r, def.name, { error: message });
          errors.push({ server: def.name, case: label, message });
          // A failed case may leave the shell or the connections in any state.
          if (main[def.name]) await restart(def);
        } finally {
          for (const c of opened) c.close();
        }
      }
    }
  }
  for (const def of servers) await stopServer(main[def.name]);

  // Derived rows: the peak of both streams, the share of the raw pty.
  for (const def of servers) {
    const loads = ["rss.load.lean", "rss.load.real"].map((r) => rows[r]?.[def.name]).filter((c) => c && !c.error);
    if (loads.length) put("rss.load", def.name, loads.reduce((a, b) => (b.value > a.value ? b : a)));
    else if (rows["rss.load.lean"]?.[def.name]) put("rss.load", def.name, rows["rss.load.lean"][def.name]);
    const lean = rows["stream.lean"]?.[def.name];
    if (lean && raw) put("stream.share", def.name, lean.error ? lean : { value: lean.value / raw, raw });
  }

  // S3: Runner's sync-down against Debian's aws CLI (in the reference column).
  if (wanted("s3") && servers.some((d) => d.name === "runner")) {
    const hasRunner = defs.runner.check() === null;
    if (!hasRunner) for (const r of ["s3.small", "s3.big"]) put(r, "runner", { na: "no runner binary" });
    try {
      log("s3: sync-down");
      const result = await withTimeout(caseS3({ sizes, build, runner: hasRunner ? opts.runner : null, log }), sizes.caseTimeoutMs * 2, "s3");
      details.s3 = result;
      for (const [r, cells] of Object.entries(result.rows)) {
        for (const [who, cell] of Object.entries(cells)) {
          put(r, who, cell);
          if (cell.error) errors.push({ server: who === "reference" ? "aws" : who, case: r, message: cell.error });
        }
      }
    } catch (e) {
      log(`s3 FAILED: ${e.message}`);
      errors.push({ server: "s3", case: "s3", message: e.message });
      for (const r of ["s3.small", "s3.big"]) {
        put(r, "reference", rows[r]?.reference ?? { error: e.message });
        if (!rows[r]?.runner?.na) put(r, "runner", { error: e.message });
      }
    }
  }

  const meta = { ...machineNotes(opts, sizes), load: [loadAtStart, os.loadavg()[0]], clients: Object.fromEntries(servers.map((d) => [d.name, d.kinds])) };
  const labels = { real: CLIENT_LABELS.sio, lean: CLIENT_LABELS.eio, rate: CLIENT_LABELS["eio-handshake"] };
  const evaluated = evaluate(rowSpecs(sizes, labels), rows).filter((r) => r.reference || r.runner);
  const notes = [
    `${meta.date}, ${meta.mode} run, commit ${meta.commit}; ${meta.host}; node ${meta.node}`,
    `reference: Express + socket.io 4.7.5 + node-pty (shared/peers/node-runner); Runner: ${opts.runner}`,
    `1-minute load average ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (other work on the machine makes every figure noisier)`,
    opts.runnerProtocol === "ws"
      ? "Runner driven over its plain JSON WebSocket /ws (both client rows), the reference over Socket.IO"
      : "both servers driven over Socket.IO with the same clients",
    raw ? `raw pty ceiling (bash -c 'head -c ${sizes.streamRawBytes} /dev/zero | base64 -w 0' read by a C program): ${raw.toFixed(1)} MB/s` : "raw pty ceiling: not measured",
    "RSS = sum of VmRSS over the server process and all its descendants (node + bash; runner + bash); ratio = Runner / reference",
    "S3 rows: the reference column is Debian's /usr/bin/aws against the same s3-test-server",
  ];
  for (const [key, result] of Object.entries(details)) {
    for (const [row, cell] of Object.entries(result.rows ?? {}))
      if (cell.extraReplies) notes.push(`${key}: ${cell.extraReplies} more ${row.split(".")[0]} replies than requests arrived (unasked pushes), so its times may be short`);
  }
  for (const [row, what] of [["rss.idle", "idle"], ["rss.clients", "with clients"], ["rss.load", "under load"]]) {
    const parts = servers.filter((d) => rows[row]?.[d.name]?.processes)
      .map((d) => `${d.name}: ${rows[row][d.name].processes.map((p) => `${p.name} ${(p.rss / 2 ** 20).toFixed(1)}`).join(" + ")} MiB`);
    if (parts.length) notes.push(`processes counted ${what}: ${parts.join("; ")}`);
  }
  const md = markdown(evaluated, { title: "Runner vs the reference Node service", notes, errors });
  process.stdout.write(md);
  fs.mkdirSync(opts.out, { recursive: true });
  fs.writeFileSync(path.join(opts.out, "latest.md"), md);
  fs.writeFileSync(path.join(opts.out, "latest.json"), JSON.stringify({ meta, rawPtyMBs: raw, rows: evaluated, details, errors }, null, 2));
  log(`written ${path.join(opts.out, "latest.md")} and latest.json`);
  return errors.length ? 1 : 0;
}

// A case that gave up may leave a wait behind that rejects later: that must
// not end the run.
process.on("unhandledRejection", (e) => console.error(`[bench] late failure: ${e && e.message}`));

const cleanup = () => killAll();
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => { cleanup(); process.exit(130); });

main().then((code) => process.exit(code), (e) => {
  console.error(`bench: ${e.stack || e.message}`);
  process.exit(2);
});
