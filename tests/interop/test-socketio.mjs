// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Runner's /socket.io/ endpoint driven by the unmodified npm socket.io-client.
// Each test starts the built runner binary itself (RUNNER_BINARY) on a free
// port with a temporary workspace, and stops it at the end. Nothing here
// sleeps: every wait is on an event, bounded by a timeout that fails.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
let io;
try {
  ({ io } = require("socket.io-client"));
} catch (e) {
  throw new Error(`socket.io-client is not installed: run tests/interop/setup.sh (${e.message})`);
}

const BINARY = process.env.RUNNER_BINARY;
if (!BINARY) throw new Error("RUNNER_BINARY is not set (run through meson test)");

const TOKEN = "interop-token-0123456789";
// Deadlines, not expectations: slower builds (sanitizers) stretch them.
const WAIT_MS = 15000 * Math.min(Math.max(Number(process.env.RUNNER_TEST_WAIT_SCALE) || 1, 1), 10);

function within(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function once(emitter, event, what = event) {
  return within(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), what);
}

class Runner {
  constructor({ port = 0, workspace = null, env = {} } = {}) {
    this.dir = workspace ? null : mkdtempSync(path.join(tmpdir(), "runner-interop-"));
    this.workspace = workspace ?? path.join(this.dir, "workspace");
    this.port = port;
    this.env = env;
  }

  async start() {
    const args = ["serve", `--port=${this.port}`, "--bind=127.0.0.1", "--workspace", this.workspace];
    this.child = spawn(BINARY, args, {
      env: { ...process.env, RUNNER_TOKEN: TOKEN, RUNNER_DBUS: "none", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.stderr = "";
    this.child.stderr.on("data", (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));

    let out = "";
    const url = await within(new Promise((resolve, reject) => {
      this.child.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/Runner listening on (http:\/\/[^/\s]+:(\d+)\/)/);
        if (m) resolve(m);
      });
      this.exited.then(({ code }) => reject(new Error(`runner exited (${code}): ${this.stderr}`)));
    }), "the runner to listen");
    this.url = url[1];
    this.port = Number(url[2]);
    return this;
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const { code } = await within(this.exited, "the runner to exit");
    assert.equal(code, 0, `runner exit status (stderr: ${this.stderr})`);
  }

  cleanup() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  connect(options = {}) {
    return io(this.url, { auth: { token: TOKEN }, reconnection: false, forceNew: true, ...options });
  }
}

async function withRunner(options, body) {
  const runner = new Runner(options);
  const sockets = [];
  try {
    await runner.start();
    await body(runner, (opts) => { const s = runner.connect(opts); sockets.push(s); return s; });
    for (const s of sockets) s.close();
    await runner.stop();
  } finally {
    for (const s of sockets) s.close();
    runner.cleanup();
  }
}

async function connected(socket) {
  if (socket.connected) return;
  const result = await within(new Promise((resolve) => {
    socket.once("connect", () => resolve(null));
    socket.once("connect_error", (err) => resolve(err));
  }), "connect");
  if (result) throw new Error(`connect_error: ${result.message}`);
}

function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve();
  return once(engine, "upgrade", "the websocket upgrade");
}

function emitAck(socket, event, data) {
  return within(socket.timeout(WAIT_MS).emitWithAck(event, data), `ack of ${event}`);
}

function eventWhere(socket, event, predicate = () => true) {
  return within(new Promise((resolve) => {
    const handler = (data) => {
      if (!predicate(data)) return;
      socket.off(event, handler);
      resolve(data);
    };
    socket.on(event, handler);
  }), event);
}

function treeNames(tree) {
  return tree.map((e) => e.name).sort();
}

// The old service's events, their acks and pushes, on one transport setup.
async function exerciseFiles(runner, socket, name) {
  writeFileSync(path.join(runner.workspace, `${name}-seed.txt`), "seed");

  const refresh = eventWhere(socket, "file:refresh");
  const listing = await emitAck(socket, "fetchDir", { path: "/workspace" });
  assert.ok(Array.isArray(listing.tree), "fetchDir ack carries the tree");
  assert.ok(treeNames(listing.tree).includes(`${name}-seed.txt`));
  assert.deepEqual(treeNames((await refresh).tree), treeNames(listing.tree));

  const pushed = eventWhere(socket, "file:refresh",
    (d) => JSON.stringify(d.tree).includes(`${name}.txt`));
  const written = await emitAck(socket, "updateContent",
    { path: `/workspace/dir/${name}.txt`, content: `héllo ${name}` });
  assert.equal(written.ok, true);
  await pushed;

  const content = eventWhere(socket, "file:content");
  const read = await emitAck(socket, "fetchContent", { path: `/workspace/dir/${name}.txt` });
  assert.equal(read.content, `héllo ${name}`);
  assert.equal((await content).content, `héllo ${name}`);

  // Errors: the ack carries {error:{code,message}}, and error:runner is pushed.
  const errorEvent = eventWhere(socket, "error:runner");
  const missing = await emitAck(socket, "fetchContent", { path: "/workspace/no/such/file" });
  assert.equal(missing.error.code, "ENOENT");
  const pushedError = await errorEvent;
  assert.equal(pushedError.code, "ENOENT");
  assert.equal(typeof pushedError.error, "string");

  const outside = await emitAck(socket, "fetchContent", { path: "/workspace/../../etc/passwd" });
  assert.equal(outside.error.code, "EACCES");
}

// Binary: a Buffer becomes an attachment (a binary frame, or b<base64> when polling).
async function exerciseBinary(socket, name) {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const written = await emitAck(socket, "updateContent", { path: `/workspace/${name}.bin`, content: bytes });
  assert.equal(written.ok, true, JSON.stringify(written));

  const read = await emitAck(socket, "fetchContent", { path: `/workspace/${name}.bin` });
  assert.equal(read.encoding, "base64");
  assert.deepEqual(Buffer.from(read.content, "base64"), bytes);
}

test("default transports: polling, then the websocket upgrade", async () => {
  await withRunner({}, async (runner, connect) => {
    const socket = connect();
    await connected(socket);
    assert.ok(socket.id, "the CONNECT answer carries a sid");
    await upgraded(socket);
    assert.equal(socket.io.engine.transport.name, "websocket");
    await exerciseFiles(runner, socket, "default");
    await exerciseBinary(socket, "default");
  });
});

test("websocket only", async () => {
  await withRunner({}, async (runner, connect) => {
    const socket = connect({ transports: ["websocket"] });
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, "websocket");
    await exerciseFiles(runner, socket, "ws");
    await exerciseBinary(socket, "ws");
  });
});

test("polling only", async () => {
  await withRunner({}, async (runner, connect) => {
    const socket = connect({ transports: ["polling"], upgrade: false });
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, "polling");
    await exerciseFiles(runner, socket, "polling");
    await exerciseBinary(socket, "polling");
    assert.equal(socket.io.engine.transport.name, "polling");
  });
});

test("authentication: auth token, query token, bearer header, refusals", async () => {
  await withRunner({}, async (runner, connect) => {
    for (const options of [
      { auth: {} },
      { auth: { token: "wrong" } },
      { auth: { token: TOKEN.slice(0, -1) } },
      { auth: { token: 42 } },
    ]) {
      const socket = connect(options);
      const [err] = await once(socket, "connect_error");
      assert.equal(err.message, "not authorized");
      assert.equal(socket.connected, false);
    }

    const byQuery = connect({ auth: {}, query: { token: TOKEN } });
    await connected(byQuery);
    const byHeader = connect({ auth: {}, transports: ["polling"], extraHeaders: { Authorization: `Bearer ${TOKEN}` } });
    await connected(byHeader);

    // Only the main namespace exists.
    const other = io(`${runner.url}term`, { auth: { token: TOKEN }, reconnection: false, forceNew: true });
    try {
      const [err] = await once(other, "connect_error");
      assert.equal(err.message, "Invalid namespace");
    } finally {
      other.close();
    }
  });
});

test("--no-auth lets a client in without a token", async () => {
  await withRunner({ env: { RUNNER_NO_AUTH: "1" } }, async (runner, connect) => {
    const socket = connect({ auth: {} });
    await connected(socket);
    const listing = await emitAck(socket, "fetchDir", {});
    assert.ok(Array.isArray(listing.tree));
  });
});

test("a client reconnects after the server restarts", async () => {
  const first = new Runner();
  let socket;
  try {
    await first.start();
    socket = io(first.url, {
      auth: { token: TOKEN }, forceNew: true,
      reconnectionDelay: 50, reconnectionDelayMax: 200, randomizationFactor: 0,
    });
    await connected(socket);
    // Stopped in the middle of the upgrade, the client would hang: when its
    // probe closes after it paused polling, engine.io-client stays paused
    // until its own ping timeout (45 s); a client behaviour, not Runner's.
    await upgraded(socket);
    const firstId = socket.id;

    const gone = once(socket, "disconnect", "the disconnect");
    await first.stop();
    const [reason] = await gone;
    assert.notEqual(reason, "io server disconnect", "a restart must leave reconnection on");

    const second = new Runner({ port: first.port, workspace: first.workspace });
    try {
      const back = once(socket.io, "reconnect", "the reconnect");
      await second.start();
      await back;
      await connected(socket);
      assert.notEqual(socket.id, firstId);
      const listing = await emitAck(socket, "fetchDir", {});
      assert.ok(Array.isArray(listing.tree));
      socket.close();
      await second.stop();
    } finally {
      second.cleanup();
    }
  } finally {
    socket?.close();
    first.cleanup();
  }
});

test("200 clients at once, and a broadcast reaches every one", async () => {
  await withRunner({}, async (runner, connect) => {
    const n = 200;
    const started = process.hrtime.bigint();
    const sockets = Array.from({ length: n }, () => connect());
    await Promise.all(sockets.map(connected));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`${n} clients connected in ${ms.toFixed(0)} ms (${(n / (ms / 1000)).toFixed(0)}/s)`);
    assert.equal(new Set(sockets.map((s) => s.id)).size, n, "every client has its own sid");

    const all = sockets.map((s) => eventWhere(s, "file:refresh",
      (d) => JSON.stringify(d.tree).includes("broadcast.txt")));
    const written = await emitAck(sockets[0], "updateContent", { path: "/workspace/broadcast.txt", content: "all" });
    assert.equal(written.ok, true);
    await within(Promise.all(all), "the broadcast on every client");

    const metrics = await fetch(`${runner.url}metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), new RegExp(`runner_clients ${n}\\b`));
  });
});
