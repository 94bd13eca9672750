// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// What the conformance tests share: the built runner binary started on a free
// port with the suites' heartbeat (RUNNER_PING_INTERVAL=300,
// RUNNER_PING_TIMEOUT=200), raw HTTP requests, and a raw WebSocket whose
// messages are queued so that none is missed between two awaits. Nothing
// sleeps: every wait is on an event, bounded by a deadline that fails.

import assert from "node:assert/strict";
import { test } from "node:test";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
let WebSocket;
try {
  WebSocket = require("ws");
} catch (e) {
  throw new Error(`ws is not installed: run tests/conformance/setup.sh (${e.message})`);
}

const BINARY = process.env.RUNNER_BINARY;
if (!BINARY) throw new Error("RUNNER_BINARY is not set (run through meson test)");

export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const MAX_PAYLOAD = 1000000;
export const TOKEN = "conformance-token-0123456789";

// Deadlines, not expectations: slower builds (sanitizers) stretch them.
export const WAIT_MS = 10000 * Math.min(Math.max(Number(process.env.RUNNER_TEST_WAIT_SCALE) || 1, 1), 10);

export function within(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class Runner {
  constructor(env = {}) {
    this.dir = mkdtempSync(path.join(tmpdir(), "runner-conformance-"));
    this.env = env;
  }

  async start() {
    const args = ["serve", "--port=0", "--bind=127.0.0.1", "--workspace", path.join(this.dir, "workspace")];
    this.child = spawn(BINARY, args, {
      env: {
        ...process.env,
        RUNNER_TOKEN: TOKEN,
        RUNNER_DBUS: "none",
        RUNNER_PING_INTERVAL: String(PING_INTERVAL),
        RUNNER_PING_TIMEOUT: String(PING_TIMEOUT),
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.stderr = "";
    this.child.stderr.on("data", (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));

    let out = "";
    const port = await within(new Promise((resolve, reject) => {
      this.child.stdout.on("data", (d) => {
        out += d;
        const m = out.match(/Runner listening on http:\/\/[^/\s]+:(\d+)\//);
        if (m) resolve(Number(m[1]));
      });
      this.exited.then(({ code }) => reject(new Error(`runner exited (${code}): ${this.stderr}`)));
    }), "the runner to listen");
    this.url = `http://127.0.0.1:${port}/socket.io/`;
    this.wsUrl = `ws://127.0.0.1:${port}/socket.io/`;
    return this;
  }

  async stop() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const { code } = await within(this.exited, "the runner to exit");
      assert.equal(code, 0, `runner exit status (stderr: ${this.stderr})`);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// One HTTP request on a connection of its own. Returns { sent, response }:
// `sent` resolves once the whole request is written, `response` with
// { status, body } (or { error } when the server drops the connection).
export function request(url, { method = "GET", body = null } = {}) {
  let req;
  const sent = new Promise((resolve) => {
    req = http.request(url, { method, agent: false });
    req.on("finish", resolve);
  });
  const response = new Promise((resolve) => {
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (error) => resolve({ error }));
    });
    req.on("error", (error) => resolve({ error }));
  });
  req.end(body ?? undefined);
  return { sent, response: within(response, `${method} ${url}`) };
}

export async function get(url) {
  return request(url).response;
}

export async function post(url, body) {
  return request(url, { method: "POST", body }).response;
}

// A polling handshake; returns the sid.
export async function openPolling(runner, query = "") {
  const { status, body } = await get(`${runner.url}?EIO=4&transport=polling${query}`);
  assert.equal(status, 200, body);
  assert.match(body, /^0/);
  return JSON.parse(body.substring(1)).sid;
}

export function pollUrl(runner, sid) {
  return `${runner.url}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
}

// A raw WebSocket; received messages are queued in order: text as strings,
// binary as Buffers.
export class Socket {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.queue = [];
    this.waiter = null;
    this.ws.on("message", (data, isBinary) => {
      this.queue.push(isBinary ? Buffer.from(data) : data.toString("utf8"));
      this.wake();
    });
    this.ws.on("error", () => {});
    this.opened = within(new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("close", () => reject(new Error("closed before it opened")));
    }), "the WebSocket to open");
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.ws.once("close", (code) => {
      this.wake();
      resolve(code);
    }));
  }

  wake() {
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) waiter();
  }

  get isClosed() {
    return this.ws.readyState === WebSocket.CLOSED;
  }

  // The next message, or a failure when the socket closes first.
  async next(what = "a message") {
    return within((async () => {
      while (this.queue.length === 0) {
        if (this.isClosed) throw new Error(`closed while waiting for ${what}`);
        await new Promise((resolve) => { this.waiter = resolve; });
      }
      return this.queue.shift();
    })(), what);
  }

  // The next message that is not a ping (answered with a pong, as a client does).
  async nextPacket(what = "a packet") {
    for (;;) {
      const message = await this.next(what);
      if (message !== "2") return message;
      this.send("3");
    }
  }

  send(data) {
    this.ws.send(data);
  }

  async waitClosed(what = "the server to close the WebSocket") {
    return within(this.closed, what);
  }

  close() {
    if (!this.isClosed) this.ws.terminate();
  }
}

// Opens a WebSocket session and reads its open packet.
export async function openWebSocket(runner, query = "") {
  const socket = new Socket(`${runner.wsUrl}?EIO=4&transport=websocket${query}`);
  const open = await socket.next("the open packet");
  assert.match(open, /^0/);
  socket.sid = JSON.parse(open.substring(1)).sid;
  return socket;
}

// The suites' checks of the open packet.
export function assertOpenPacket(text, upgrades) {
  assert.ok(text.startsWith("0"), text);
  const value = JSON.parse(text.substring(1));
  assert.deepEqual(Object.keys(value).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
  assert.equal(typeof value.sid, "string");
  assert.deepEqual(value.upgrades, upgrades);
  assert.equal(value.pingInterval, PING_INTERVAL);
  assert.equal(value.pingTimeout, PING_TIMEOUT);
  assert.equal(value.maxPayload, MAX_PAYLOAD);
}

// A WebSocket refused at the handshake: an HTTP error, never an open socket.
export async function assertWebSocketRefused(url) {
  const ws = new WebSocket(url);
  const status = await within(new Promise((resolve) => {
    ws.on("unexpected-response", (req, res) => {
      resolve(res.statusCode);
      req.destroy();
    });
    ws.on("open", () => resolve("open"));
    ws.on("error", () => {});
  }), `the refusal of ${url}`);
  assert.equal(status, 400, url);
}

// Flat test names, "group > group > case": meson's TAP parser reads no
// nested subtests, so the suites' describe() blocks become name prefixes.
const groups = [];

export function group(title, body) {
  groups.push(title);
  try {
    body();
  } finally {
    groups.pop();
  }
}

export function testCase(title, ...rest) {
  return test([...groups, title].join(" > "), ...rest);
}
