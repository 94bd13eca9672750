// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Drives a running Runner over its plain JSON WebSocket (/ws):
//   node ws-check.mjs URL TOKEN [terminal] [write:NAME=CONTENT]...
// "terminal" runs `echo h""i` in the default terminal and waits for "hi" in
// terminal:data; write:NAME=CONTENT sends updateContent for /workspace/NAME
// and waits for its {ok}. Exits 0 when every step succeeded within 30 s.
import WebSocket from "ws";

const [url, token, ...steps] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: ws-check.mjs URL TOKEN [terminal] [write:NAME=CONTENT]...");
  process.exit(2);
}
const fail = (why) => { console.error(`ws-check: ${why}`); process.exit(1); };
setTimeout(() => fail(`timed out; steps left: ${steps.join(" ")}`), 30000).unref();

const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws?token=${encodeURIComponent(token)}`);
let nextId = 1;
const waiting = new Map();
let terminalOutput = "";
let onTerminal = null;

ws.on("error", (e) => fail(`websocket: ${e.message}`));
ws.on("message", (raw) => {
  const msg = JSON.parse(raw.toString());
  if (process.env.WS_CHECK_DEBUG) console.error("<-", raw.toString().slice(0, 300));
  if (msg.event === "terminal:data") {
    terminalOutput += msg.data.data;
    if (onTerminal) onTerminal();
  } else if (msg.id !== undefined && waiting.has(msg.id)) {
    waiting.get(msg.id)(msg);
    waiting.delete(msg.id);
  }
});

function call(event, data) {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ event, data, id }));
  });
}

ws.on("open", async () => {
  for (const step of steps) {
    if (step === "terminal") {
      const seen = new Promise((resolve) => {
        onTerminal = () => { if (/(^|[\r\n])hi\r?\n/.test(terminalOutput)) resolve(); };
      });
      const reply = await call("terminal:write", { data: 'echo h""i\n' });
      if (reply.event === "runner:error") fail(`terminal:write: ${JSON.stringify(reply.data)}`);
      await seen;
      console.log("ws-check: the terminal answered");
    } else if (step.startsWith("write:")) {
      const [name, ...rest] = step.slice(6).split("=");
      const reply = await call("updateContent", { path: `/workspace/${name}`, content: rest.join("=") });
      if (reply.event === "runner:error" || !reply.data || !reply.data.ok)
        fail(`updateContent ${name}: ${JSON.stringify(reply)}`);
      console.log(`ws-check: wrote ${name}`);
    } else {
      fail(`unknown step ${step}`);
    }
  }
  ws.close();
  process.exit(0);
});
