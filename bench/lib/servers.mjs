// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Starting the two servers the same way, knowing when they are ready, and
// measuring the memory of their process trees.

import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { performance } from "node:perf_hooks";

// Every process the benchmark starts, so that an exit path can end them all.
const started = new Set();

export function track(child) {
  started.add(child);
  child.once("exit", () => started.delete(child));
  return child;
}

// Signals a process, its process group and every descendant (a shell on a
// pty runs in a session of its own, outside the server's group).
function signalTree(pid, signal, pids = processTree(pid).map((p) => p.pid)) {
  try { process.kill(-pid, signal); } catch { /* no such group */ }
  for (const p of pids) {
    try { process.kill(p, signal); } catch { /* already gone */ }
  }
}

export function killTree(pid, signal = "SIGKILL") {
  signalTree(pid, signal);
}

// Ends every process still running, with all it started.
export function killAll(signal = "SIGKILL") {
  for (const child of started) signalTree(child.pid, signal);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// One GET /files; resolves to the status code, rejects on connection errors.
export function getFiles(port, token) {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = http.get({ host: "127.0.0.1", port, path: "/files", agent: false, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("GET /files timed out")));
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/*
 * A server definition: { name, label, command, args, env(port, workspace),
 * token }. start() spawns it on a fresh port with the given workspace and
 * resolves once GET /files answers 200, with the times measured from spawn.
 */
export async function startServer(def, workspace, { timeoutMs = 30000, pollMs = 2 } = {}) {
  const port = await freePort();
  // A variable the definition sets to undefined is taken out.
  const env = Object.fromEntries(Object.entries({ ...process.env, ...def.env(port, workspace) }).filter(([, v]) => v !== undefined));
  const t0 = performance.now();
  const child = track(spawn(def.command, def.args, {
    cwd: def.cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"],
  }));
  const server = {
    def, name: def.name, port, workspace, child, pid: child.pid,
    url: `http://127.0.0.1:${port}`, token: def.token, spawnedAt: t0,
    stdout: "", stderr: "", exited: null, readyLineMs: null,
  };
  child.stdout.on("data", (b) => {
    if (server.stdout.length < 65536) server.stdout += b;
    if (server.readyLineMs === null && def.readyLine.test(server.stdout)) server.readyLineMs = performance.now() - t0;
  });
  child.stderr.on("data", (b) => { if (server.stderr.length < 65536) server.stderr += b; });
  child.once("exit", (code, signal) => { server.exited = { code, signal }; });
  child.once("error", (e) => { server.exited = { error: e.message }; });

  const deadline = t0 + timeoutMs;
  for (;;) {
    if (server.exited) throw new Error(`${def.name} exited before ready (${describeExit(server)})`);
    try {
      const status = await getFiles(port, def.token);
      if (status === 200) break;
      if (performance.now() > deadline) throw new Error(`GET /files answered ${status}`);
    } catch (e) {
      if (performance.now() > deadline) {
        await stopServer(server);
        throw new Error(`${def.name} not ready after ${timeoutMs} ms: ${e.message}`);
      }
    }
    await delay(pollMs);
  }
  server.readyHttpMs = performance.now() - t0;
  return server;
}

export function describeExit(server) {
  const e = server.exited;
  if (!e) return "running";
  const tail = server.stderr.trim().split("\n").slice(-3).join(" | ");
  const how = e.error ? e.error : e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
  return tail ? `${how}; stderr: ${tail}` : how;
}

export async function stopServer(server, timeoutMs = 5000) {
  if (!server || server.exited) return;
  const pids = processTree(server.pid).map((p) => p.pid);
  const gone = new Promise((r) => server.child.once("exit", r));
  try { process.kill(server.pid, "SIGTERM"); } catch { /* gone */ }
  const timer = setTimeout(() => signalTree(server.pid, "SIGKILL", pids), timeoutMs);
  await gone;
  clearTimeout(timer);
  // Whatever the server left behind (its shell, the shell's children) goes too.
  signalTree(server.pid, "SIGKILL", pids);
}

// ---- memory of a process tree -------------------------------------------

function readProcField(pid, file, field) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function processTree(rootPid) {
  const children = new Map();
  const names = new Map();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8"); } catch { continue; }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  const out = [];
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift();
    if (!names.has(pid)) continue;
    out.push({ pid, name: names.get(pid) });
    queue.push(...(children.get(pid) || []));
  }
  return out;
}

// Sum of VmRSS (and of Pss from smaps_rollup) over the server process and all
// its descendants (for both servers that is the daemon plus its shell).
export function treeMemory(rootPid) {
  const procs = processTree(rootPid).map((p) => ({
    ...p,
    rss: readProcField(p.pid, "status", "VmRSS"),
    pss: readProcField(p.pid, "smaps_rollup", "Pss"),
  }));
  return {
    rss: procs.reduce((a, p) => a + p.rss, 0),
    pss: procs.reduce((a, p) => a + p.pss, 0),
    processes: procs,
  };
}

// Samples the tree until its RSS stops moving (three samples 250 ms apart
// within 1%), or maxMs passes; returns the last sample.
export async function settledMemory(rootPid, maxMs = 6000) {
  const start = performance.now();
  const window = [];
  let last;
  for (;;) {
    last = treeMemory(rootPid);
    window.push(last.rss);
    if (window.length > 3) window.shift();
    if (window.length === 3) {
      const lo = Math.min(...window), hi = Math.max(...window);
      if (hi - lo <= hi * 0.01) break;
    }
    if (performance.now() - start > maxMs) break;
    await delay(250);
  }
  return last;
}

// Samples the tree every intervalMs until stop() is called; keeps the peak.
export function memorySampler(rootPid, intervalMs = 50) {
  let peak = treeMemory(rootPid);
  const timer = setInterval(() => {
    const m = treeMemory(rootPid);
    if (m.rss > peak.rss) peak = m;
  }, intervalMs);
  return { stop() { clearInterval(timer); return peak; } };
}
