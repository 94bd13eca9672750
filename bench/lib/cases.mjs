// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// The benchmark cases. Each runs against one server and returns
// { rows: { rowId: { value, ...details } }, info: {...} }; it throws when the
// server fails the case. ctx.open(kind) connects a client that is closed
// when the case ends, whatever happens.

import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";

import { makeClient } from "./clients.mjs";
import { settledMemory, memorySampler, startServer, stopServer } from "./servers.mjs";
import { BIG_FILE, UPDATE_FILE, asciiText, countTree } from "./workspace.mjs";

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  return {
    n: s.length, min: s[0], max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: at(0.5), p90: at(0.9), p99: at(0.99),
  };
}

const nonce = () => randomBytes(6).toString("hex");
const round = (x, digits = 3) => Number(x.toFixed(digits));

// ---- the shell ------------------------------------------------------------

// Resolves when one of `texts` shows up in the terminal output (across chunk
// edges); on a timeout, the error tells the step and the last output seen.
async function waitForOutput(client, texts, timeoutMs, step) {
  const wanted = [].concat(texts);
  const keep = Math.max(160, ...wanted.map((t) => t.length));
  let tail = "";
  try {
    return await client.waitFor("terminal:data", (m) => {
      const seen = tail + String(m.data().data);
      tail = seen.slice(-keep);
      return wanted.some((t) => seen.includes(t));
    }, timeoutMs);
  } catch (e) {
    const error = new Error(`${step}: ${e.message}; last output: ${JSON.stringify(tail.slice(-160))}`);
    error.tail = tail;
    throw error;
  }
}

// A marker the shell prints: printf writes "BENCH_tag" while the echo of
// the typed command reads "BENCH tag", so only the output matches.
function marker() {
  const tag = nonce();
  return { text: `BENCH_${tag}`, command: `printf '%s_%s\\n' BENCH ${tag}` };
}

/*
 * Brings the shell back to its prompt with a sane tty, whatever a previous
 * case left in the foreground, and waits until it answers. Keys typed right
 * after ^C may still be read by the dying program, so the whole sequence is
 * sent again until a marker comes back.
 */
async function shellReset(client, step, timeoutMs = 20000) {
  const issued = [];
  const deadline = performance.now() + timeoutMs;
  let output = "";
  for (let wait = 500; ; wait = Math.min(wait * 2, 4000)) {
    const m = marker();
    issued.push(m.text);
    const seen = waitForOutput(client, issued, Math.min(wait, Math.max(1, deadline - performance.now())), step);
    client.emit("terminal:write", { data: "\x03" });
    client.emit("terminal:write", { data: `stty sane; ${m.command}\r` });
    try {
      await seen;
      return;
    } catch (e) {
      output = (output + (e.tail ?? "")).slice(-160);
      if (performance.now() >= deadline)
        throw new Error(`${step}: the shell did not answer in ${timeoutMs / 1000} s; last output: ${JSON.stringify(output)}`);
    }
  }
}

// ---- cases ----------------------------------------------------------------

export async function caseStartup(ctx) {
  const http = [], socket = [], line = [];
  for (let i = 0; i < ctx.sizes.startups; i++) {
    const server = await startServer(ctx.def, ctx.workspace);
    try {
      http.push(server.readyHttpMs);
      const c = makeClient(ctx.kinds.real, server);
      try {
        await c.connect();
        socket.push(performance.now() - server.spawnedAt);
      } finally {
        c.close();
      }
      if (server.readyLineMs !== null) line.push(server.readyLineMs);
    } finally {
      await stopServer(server);
    }
  }
  return {
    rows: {
      "ready.http": { value: stats(http).p50, samples: http },
      "ready.socket": { value: stats(socket).p50, samples: socket },
    },
    info: { readyLineMs: line },
  };
}

export async function caseIdle(ctx) {
  const m = await settledMemory(ctx.server.pid);
  return { rows: { "rss.idle": { value: m.rss, pss: m.pss, processes: m.processes } } };
}

async function connectAll(ctx, kind, n, concurrency, afterConnect) {
  const clients = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const c = ctx.track(makeClient(kind, ctx.server));
      clients.push(c);
      await c.connect();
      if (afterConnect) await afterConnect(c);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return clients;
}

export async function caseManyClients(ctx) {
  const n = ctx.sizes.clients;
  const upgrade = ctx.kinds.real === "sio" ? (c) => c.upgraded() : null;
  const clients = await connectAll(ctx, ctx.kinds.real, n, 50, upgrade);
  const m = await settledMemory(ctx.server.pid);
  const still = clients.filter((c) => (c.socket ? c.socket.connected : c.ws.readyState === 1)).length;
  if (still !== n) throw new Error(`${n - still} of ${n} clients of ${ctx.server.name} dropped while connected`);
  for (const c of clients) c.close();
  return { rows: { "rss.clients": { value: m.rss, pss: m.pss, clients: n, processes: m.processes } } };
}

export async function caseConnectRate(ctx) {
  const n = ctx.sizes.connections;
  for (const c of await connectAll(ctx, ctx.kinds.rate, 20, 20)) c.close();   // warm-up
  const t0 = performance.now();
  const clients = await connectAll(ctx, ctx.kinds.rate, n, 100);
  const secs = (performance.now() - t0) / 1000;
  for (const c of clients) c.close();
  return { rows: { "connect.rate": { value: n / secs, clients: n, seconds: round(secs) } } };
}

// Times `samples` requests after `warmup` ones; each completes on the pushed
// reply event, which is how the reference answers (its acks are optional).
async function timeRequests(ctx, client, { event, data, reply, warmup, samples, check, after }) {
  const times = [];
  let replies = 0;
  const offCount = client.on(reply, () => replies++);
  try {
    for (let i = 0; i < warmup + samples; i++) {
      const t0 = performance.now();
      const got = client.waitFor(reply, () => true, ctx.sizes.requestTimeoutMs);
      client.emit(event, typeof data === "function" ? data(i) : data);
      const m = await got;
      const dt = performance.now() - t0;
      if (i === 0 && check) check(m);
      if (i >= warmup) times.push(dt);
    }
  } finally {
    offCount();
  }
  if (after) after(warmup + samples - 1);
  const s = stats(times);
  const info = { ...s };
  if (replies > warmup + samples) info.extraReplies = replies - warmup - samples;
  return info;
}

function fileCase(row, request) {
  return async (ctx, role) => {
    const client = await ctx.open(ctx.kinds[role]);
    const s = await timeRequests(ctx, client, request(ctx));
    return { rows: { [`${row}.${role}`]: { value: s.p50, ...s } } };
  };
}

export const caseFetchDir = fileCase("fetchDir", (ctx) => ({
  event: "fetchDir", data: { path: "/workspace" }, reply: "file:refresh",
  warmup: 2, samples: ctx.sizes.fetchDirSamples,
  check: (m) => {
    const { files } = countTree(m.data().tree || []);
    if (files !== ctx.expect.files) throw new Error(`fetchDir tree has ${files} files, expected ${ctx.expect.files}`);
  },
}));

export const caseFetchContent = fileCase("fetchContent", (ctx) => ({
  event: "fetchContent", data: { path: `/workspace/${BIG_FILE}` }, reply: "file:content",
  warmup: 3, samples: ctx.sizes.fetchContentSamples,
  check: (m) => {
    const len = String(m.data().content).length;
    if (len !== ctx.sizes.bigBytes) throw new Error(`fetchContent returned ${len} characters, expected ${ctx.sizes.bigBytes}`);
  },
}));

export const caseUpdateContent = fileCase("updateContent", (ctx) => {
  const body = asciiText(ctx.sizes.updateBytes - 8);
  const content = (i) => `${String(i).padStart(7, "0")}\n${body}`;
  return {
    event: "updateContent", reply: "file:refresh",
    data: (i) => ({ path: `/workspace/${UPDATE_FILE}`, content: content(i) }),
    warmup: 2, samples: ctx.sizes.updateSamples,
    check: (m) => {
      if (!Array.isArray(m.data().tree)) throw new Error("file:refresh after updateContent carries no tree");
    },
    // The reply comes after the write: the last content must be on disk.
    after: (last) => {
      if (fs.readFileSync(path.join(ctx.workspace, UPDATE_FILE), "utf8") !== content(last))
        throw new Error(`${UPDATE_FILE} does not hold the last content written`);
    },
  };
});

export function caseEcho(ctx, role) {
  return echo(ctx, role, ctx.sizes.keyIntervalMs, "echo");
}

// Each key as soon as the previous one's echo arrived: a server that holds
// output back for a while after its last flush shows it here.
export function caseEchoTight(ctx, role) {
  return echo(ctx, role, 0, "echo.tight");
}

async function echo(ctx, role, keyIntervalMs, prefix) {
  const client = await ctx.open(ctx.kinds[role]);
  await shellReset(client, "shell ready");
  const mark = marker();
  const ready = waitForOutput(client, mark.text, 15000, "cat started");
  // Noncanonical, no tty echo: each key goes to cat, and cat writes it back.
  client.emit("terminal:write", { data: `stty -echo -icanon; ${mark.command}; cat\r` });
  await ready;
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const times = [];
  // Keys go out at most every keyIntervalMs (10 ms: faster than anyone types
  // but with the pauses typing has; 0: back to back): a server may batch
  // output that follows other output closely, which is right for a stream
  // and wrong for a key.
  let lastKey = -Infinity;
  try {
    for (let i = 0; i < ctx.sizes.echoWarmup + ctx.sizes.echoSamples; i++) {
      const ch = letters[i % letters.length];
      const pause = lastKey + keyIntervalMs - performance.now();
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      const t0 = lastKey = performance.now();
      const got = client.waitFor("terminal:data", (m) => String(m.data().data).includes(ch), 5000);
      client.emit("terminal:write", { data: ch });
      await got.catch((e) => { throw new Error(`key ${i}: ${e.message}`); });
      if (i >= ctx.sizes.echoWarmup) times.push(performance.now() - t0);
    }
  } finally {
    await shellReset(client, "shell reset after echo");
  }
  const s = stats(times);
  return { rows: { [`${prefix}.p50.${role}`]: { value: s.p50, ...s }, [`${prefix}.p99.${role}`]: { value: s.p99, ...s } } };
}

// Streams `raw` bytes of /dev/zero as base64 through the shell and counts the
// terminal:data characters until the marker printed after them.
async function streamOnce(ctx, client, raw, sampleMemory) {
  const mark = marker();
  const sentinel = mark.text;
  const expected = 4 * Math.ceil(raw / 3);
  let bytes = 0, tail = "", t1 = 0;
  const done = client.waitFor("terminal:data", (m) => {
    const d = String(m.data().data);
    bytes += d.length;
    const hit = (tail + d.slice(0, sentinel.length)).includes(sentinel) || d.includes(sentinel);
    tail = d.length >= sentinel.length ? d.slice(-sentinel.length) : (tail + d).slice(-sentinel.length);
    if (hit) t1 = performance.now();
    return hit;
  }, ctx.sizes.streamTimeoutMs);
  const sampler = sampleMemory ? memorySampler(ctx.server.pid) : null;
  const t0 = performance.now();
  client.emit("terminal:write", { data: `head -c ${raw} /dev/zero | base64 -w 0; echo; ${mark.command}\r` });
  let peak = null;
  try {
    await done;
  } finally {
    if (sampler) peak = sampler.stop();
  }
  if (bytes < expected) throw new Error(`only ${bytes} of ${expected} bytes of output arrived`);
  return { bytes, secs: (t1 - t0) / 1000, peak };
}

export async function caseStream(ctx, role) {
  const client = await ctx.open(ctx.kinds[role]);
  await shellReset(client, "shell ready");
  // A tenth of the size first, unmeasured, so both servers run warm.
  await streamOnce(ctx, client, Math.ceil(ctx.sizes.streamRawBytes / 10), false);
  const { bytes, secs, peak } = await streamOnce(ctx, client, ctx.sizes.streamRawBytes, true);
  return {
    rows: {
      [`stream.${role}`]: { value: bytes / 1e6 / secs, bytes, seconds: round(secs) },
      [`rss.load.${role}`]: { value: peak.rss, pss: peak.pss, processes: peak.processes },
    },
  };
}
