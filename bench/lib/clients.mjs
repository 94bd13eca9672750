// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// The three ways the benchmark talks to a server, behind one small interface:
//   sio   the unmodified npm socket.io-client (default options: polling, then
//         the upgrade to WebSocket), what the front ends use;
//   eio   a lean Socket.IO client of our own: raw Engine.IO 4 over the `ws`
//         package in WebSocket-only mode, for cases where socket.io-client
//         itself would be the bottleneck;
//   json  Runner's plain JSON WebSocket at /ws ({"event","data","id"});
//   eio-handshake, json-handshake  connect and nothing else, for the
//         connection rate.
//
// Every client offers: connect(), emit(event, data), on(event, fn) with
// fn(message) where message.event is the name and message.data() parses the
// payload on demand (so a lean client need not parse a 2 MB tree to know that
// it arrived), waitFor(event, predicate, timeoutMs), close().

import { io } from "socket.io-client";
import net from "node:net";
import WebSocket from "ws";

export const CLIENT_LABELS = {
  sio: "socket.io-client",
  eio: "lean Engine.IO/ws",
  json: "plain JSON /ws",
  "eio-handshake": "handshake-only Engine.IO client",
  "json-handshake": "handshake-only /ws client",
};

class Listeners {
  constructor() {
    this.map = new Map();
  }
  on(event, fn) {
    if (!this.map.has(event)) this.map.set(event, new Set());
    this.map.get(event).add(fn);
    return () => this.map.get(event).delete(fn);
  }
  has(event) {
    const set = this.map.get(event);
    return set !== undefined && set.size > 0;
  }
  dispatch(message) {
    const set = this.map.get(message.event);
    if (set) for (const fn of [...set]) fn(message);
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// No compression and no size cap: the figures are about the servers.
function openWebSocket(server, pathname, search) {
  const url = new URL(server.url);
  url.protocol = "ws:";
  url.pathname = pathname;
  url.search = search;
  return new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
}

class BaseClient {
  constructor(server) {
    this.server = server;
    this.listeners = new Listeners();
    this.closed = false;
  }
  on(event, fn) {
    return this.listeners.on(event, fn);
  }
  // Resolves with the first message of `event` for which predicate is true.
  waitFor(event, predicate = () => true, timeoutMs = 30000) {
    let off;
    const p = new Promise((resolve) => {
      off = this.on(event, (m) => {
        if (predicate(m)) {
          off();
          resolve(m);
        }
      });
    });
    return withTimeout(p, timeoutMs, `"${event}" from ${this.server.name}`).finally(() => off());
  }
}

// socket.io-client with its default options (polling first, then upgrade).
class SioClient extends BaseClient {
  connect(timeoutMs = 20000) {
    const auth = this.server.token ? { token: this.server.token } : undefined;
    this.socket = io(this.server.url, { forceNew: true, reconnection: false, auth, timeout: timeoutMs });
    this.socket.onAny((event, data) => {
      if (this.listeners.has(event)) this.listeners.dispatch({ event, data: () => data, size: -1 });
    });
    return withTimeout(new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("connect_error", (e) => reject(new Error(`connect_error: ${e.message}`)));
    }), timeoutMs, `socket.io connect to ${this.server.name}`);
  }
  // Resolves once the transport is WebSocket (after the default upgrade).
  upgraded(timeoutMs = 20000) {
    const engine = this.socket.io.engine;
    if (engine.transport && engine.transport.name === "websocket") return Promise.resolve();
    return withTimeout(new Promise((resolve) => engine.once("upgrade", resolve)), timeoutMs, "transport upgrade");
  }
  emit(event, data) {
    this.socket.emit(event, data);
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.socket) this.socket.disconnect();
  }
}

// Engine.IO 4 over WebSocket only: open packet, "40" connect, "42[...]"
// events, "2" ping answered by "3".
class EioClient extends BaseClient {
  connect(timeoutMs = 20000) {
    this.ws = openWebSocket(this.server, "/socket.io/", "?EIO=4&transport=websocket");
    return withTimeout(new Promise((resolve, reject) => {
      this.ws.on("error", (e) => reject(e));
      this.ws.on("close", () => reject(new Error("closed before connect")));
      this.ws.on("message", (buf, isBinary) => {
        if (isBinary) return;
        const text = buf.toString();
        const type = text.charCodeAt(0);
        if (type === 0x32 /* 2 ping */) {
          this.ws.send("3");
        } else if (type === 0x30 /* 0 open */) {
          const auth = this.server.token ? JSON.stringify({ token: this.server.token }) : "";
          this.ws.send("40" + auth);
        } else if (text.startsWith("40")) {
          resolve();
        } else if (text.startsWith("44")) {
          reject(new Error(`connect refused: ${text.slice(2)}`));
        } else if (text.startsWith("42")) {
          this.dispatchEvent(text);
        }
      });
    }), timeoutMs, `Engine.IO connect to ${this.server.name}`);
  }
  dispatchEvent(text) {
    // 42["name",data] (no namespace, no ack id from a server push): the name
    // is a JSON string without escapes, so it is read without parsing the rest.
    if (text.charCodeAt(2) !== 0x5b /* [ */ || text.charCodeAt(3) !== 0x22 /* " */) return;
    const end = text.indexOf('"', 4);
    const event = text.slice(4, end);
    if (!this.listeners.has(event)) return;
    let parsed;
    this.listeners.dispatch({
      event,
      size: text.length,
      data: () => (parsed ??= JSON.parse(text.slice(2))[1]),
    });
  }
  emit(event, data) {
    this.ws.send("42" + JSON.stringify([event, data]));
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send("41");
    if (this.ws) this.ws.close();
  }
}

// Runner's plain JSON WebSocket: {"event":E,"data":D,"id":N?} text frames.
class JsonWsClient extends BaseClient {
  connect(timeoutMs = 20000) {
    const search = this.server.token ? `?token=${encodeURIComponent(this.server.token)}` : "";
    this.ws = openWebSocket(this.server, "/ws", search);
    this.ws.on("message", (buf, isBinary) => {
      if (isBinary) return;
      const text = buf.toString();
      // Runner writes {"event":"NAME","data":...}: the name is read without
      // parsing the rest (as the lean Engine.IO client does); any other
      // layout is parsed whole.
      const head = '{"event":"';
      let event, frame;
      if (text.startsWith(head)) {
        event = text.slice(head.length, text.indexOf('"', head.length));
      } else {
        frame = JSON.parse(text);
        event = frame.event;
      }
      if (typeof event === "string" && this.listeners.has(event))
        this.listeners.dispatch({ event, size: text.length, data: () => (frame ??= JSON.parse(text)).data });
    });
    return withTimeout(new Promise((resolve, reject) => {
      this.ws.once("open", resolve);
      this.ws.once("error", reject);
      this.ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode} on /ws`)));
    }), timeoutMs, `WebSocket /ws connect to ${this.server.name}`);
  }
  emit(event, data) {
    this.ws.send(JSON.stringify({ event, data }));
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}

/*
 * Connects only, with as little client work as can be: the WebSocket
 * handshake written by hand on a TCP socket (the accept key is not checked),
 * then for Engine.IO the open packet and one masked "40" frame, done at the
 * server's "40{...}"; for /ws, done at the 101. For the connection rate,
 * where a `ws` client spends more CPU per connection than the server does.
 */
class HandshakeClient {
  constructor(server, path) {
    this.server = server;
    this.path = path;
    this.eio = path.startsWith("/socket.io/");
  }
  connect(timeoutMs = 20000) {
    const url = new URL(this.server.url);
    return withTimeout(new Promise((resolve, reject) => {
      const sock = this.socket = net.connect(Number(url.port), url.hostname);
      sock.setNoDelay(true);
      let buf = Buffer.alloc(0), upgraded = false;
      sock.on("error", reject);
      sock.on("close", () => reject(new Error("closed before connect")));
      sock.on("connect", () => sock.write(
        `GET ${this.path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
      sock.on("data", (chunk) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        if (!upgraded) {
          const end = buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const status = buf.toString("latin1", 0, buf.indexOf("\r\n"));
          if (!/^HTTP\/1\.1 101/.test(status)) return reject(new Error(`upgrade refused: ${status}`));
          upgraded = true;
          buf = buf.subarray(end + 4);
          if (!this.eio) return resolve();
        }
        // Unmasked server frames: 2-byte header, 16-bit length when 126.
        while (buf.length >= 2) {
          let len = buf[1] & 0x7f, off = 2;
          if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
          if (buf.length < off + len) return;
          const text = buf.toString("utf8", off, off + len);
          buf = buf.subarray(off + len);
          if (text[0] === "0") sock.write(maskedText(this.server.token ? `40${JSON.stringify({ token: this.server.token })}` : "40"));
          else if (text.startsWith("40")) return resolve();
          else if (text.startsWith("44")) return reject(new Error(`connect refused: ${text.slice(2)}`));
        }
      });
    }), timeoutMs, `handshake with ${this.server.name}`);
  }
  close() {
    if (!this.socket || this.socket.destroyed) return;
    this.socket.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0]));   // masked close frame, no body
  }
}

// A client frame: FIN + text, masked with a zero key (legal, and XOR-free).
function maskedText(text) {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error("frame too long for the handshake client");
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

export function makeClient(kind, server) {
  switch (kind) {
    case "sio": return new SioClient(server);
    case "eio": return new EioClient(server);
    case "json": return new JsonWsClient(server);
    case "eio-handshake": return new HandshakeClient(server, "/socket.io/?EIO=4&transport=websocket");
    case "json-handshake": return new HandshakeClient(server, "/ws");
    default: throw new Error(`unknown client kind ${kind}`);
  }
}

export { withTimeout };
