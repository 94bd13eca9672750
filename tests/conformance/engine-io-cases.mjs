// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// Every case of the Engine.IO protocol test suite (socketio/engine.io-protocol,
// test-suite/test-suite.js), by the same name, against the real `runner
// serve` at /socket.io/ (the suite's /engine.io/ path is its echo server's).
// The Socket.IO suite (socketio/socket.io-protocol) repeats most of them at
// /socket.io/ as its "Engine.IO protocol" part, named "should ...":
// test-socket-io.mjs registers them again under those names.
//
// The suite's server echoes every message; Runner takes Socket.IO packets
// instead, and closes a session whose first message is not a CONNECT. So
// where a case echoes "hello", it sends a Socket.IO packet and checks
// Runner's answer in the same place (the CONNECT's answer, an ack, a pushed
// `error:runner`): the Engine.IO point (framing, payloads, transports) is the
// same. Runner never sends binary frames (files travel as text or base64),
// so the binary cases check the client-to-server half and read the bytes
// back. Where the suite leaves an order to chance, the case waits until the
// upgrade is seen done, accepts either order of two polls, or tries a poll
// and a close packet again on a new session when they crossed, so that it
// cannot pass or fail by luck.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import {
  Runner, TOKEN,
  request, get, post, openPolling, pollUrl, Socket, openWebSocket,
  assertOpenPacket, assertWebSocketRefused, group, testCase,
} from "./lib.mjs";

const CONNECT = `40{"token":"${TOKEN}"}`;

// Registers the cases under the Engine.IO suite's names, or, with @socketIo,
// under the names the Socket.IO suite gives the same cases ("should ..."; it
// has no "message" section).
export function describeEngineIo({ socketIo = false } = {}) {
  const name = (engineIo, socketIoName) => (socketIo ? socketIoName : engineIo);
  let runner;

  group("Engine.IO protocol", () => {
    before(async () => { runner = await new Runner().start(); });
    after(async () => { await runner.stop(); });

    // Polls until the payloads received hold @count packets; pings are answered.
    async function pollPackets(sid, count) {
      const packets = [];
      while (packets.length < count) {
        const { status, body } = await get(pollUrl(runner, sid));
        assert.equal(status, 200, body);
        for (const packet of body.split("\x1e")) {
          if (packet === "2")
            assert.equal((await post(pollUrl(runner, sid), "3")).status, 200);
          else
            packets.push(packet);
        }
      }
      return packets;
    }

    // Two requests in flight on two connections reach the server in an
    // order no client controls. Runs @attempt, on a fresh session each time,
    // until it finds them in the order the case is about (it returns true).
    async function inOrder(what, attempt) {
      for (let i = 0; i < 10; i++)
        if (await attempt()) return;
      assert.fail(`the server never took ${what} in that order`);
    }

    function assertConnected(packet) {
      assert.match(packet, /^40\{"sid":"[^"]+"\}$/);
    }

    group("handshake", () => {
      group("HTTP long-polling", () => {
        testCase(name("successfully opens a session", "should successfully open a session"), async () => {
          const { status, body } = await get(`${runner.url}?EIO=4&transport=polling`);
          assert.equal(status, 200);
          assertOpenPacket(body, ["websocket"]);
        });

        testCase(name("fails with an invalid 'EIO' query parameter", "should fail with an invalid 'EIO' query parameter"), async () => {
          assert.equal((await get(`${runner.url}?transport=polling`)).status, 400);
          assert.equal((await get(`${runner.url}?EIO=abc&transport=polling`)).status, 400);
        });

        testCase(name("fails with an invalid 'transport' query parameter", "should fail with an invalid 'transport' query parameter"), async () => {
          assert.equal((await get(`${runner.url}?EIO=4`)).status, 400);
          assert.equal((await get(`${runner.url}?EIO=4&transport=abc`)).status, 400);
        });

        testCase(name("fails with an invalid request method", "should fail with an invalid request method"), async () => {
          const url = `${runner.url}?EIO=4&transport=polling`;
          assert.equal((await request(url, { method: "POST" }).response).status, 400);
          assert.equal((await request(url, { method: "PUT" }).response).status, 400);
        });
      });

      group("WebSocket", () => {
        testCase(name("successfully opens a session", "should successfully open a session"), async () => {
          const socket = new Socket(`${runner.wsUrl}?EIO=4&transport=websocket`);
          assertOpenPacket(await socket.next("the open packet"), []);
          socket.close();
        });

        // The suite does not wait for these closes; the refusal is checked here.
        testCase(name("fails with an invalid 'EIO' query parameter", "should fail with an invalid 'EIO' query parameter"), async () => {
          await assertWebSocketRefused(`${runner.wsUrl}?transport=websocket`);
          await assertWebSocketRefused(`${runner.wsUrl}?EIO=abc&transport=websocket`);
        });

        testCase(name("fails with an invalid 'transport' query parameter", "should fail with an invalid 'transport' query parameter"), async () => {
          await assertWebSocketRefused(`${runner.wsUrl}?EIO=4`);
          await assertWebSocketRefused(`${runner.wsUrl}?EIO=4&transport=abc`);
        });
      });
    });

    if (!socketIo) group("message", () => {
      group("HTTP long-polling", () => {
        // Adapted: the one packet is a CONNECT; its answer comes in the next poll.
        testCase("sends and receives a payload containing one plain text packet", async () => {
          const sid = await openPolling(runner);
          const push = await post(pollUrl(runner, sid), CONNECT);
          assert.equal(push.status, 200);
          assert.equal(push.body, "ok");
          const [packet] = await pollPackets(sid, 1);
          assertConnected(packet);
        });

        // Adapted: a CONNECT and two events with acks; Runner answers each (an
        // `error:runner` push and the ack, as the events are unknown), in order.
        testCase("sends and receives a payload containing several plain text packets", async () => {
          const sid = await openPolling(runner);
          const push = await post(pollUrl(runner, sid), `${CONNECT}\x1e421["test1"]\x1e422["test2"]`);
          assert.equal(push.status, 200);
          assert.equal(push.body, "ok");
          const packets = await pollPackets(sid, 5);
          assertConnected(packets[0]);
          assert.match(packets[1], /^42\["error:runner",\{.*"code":"ENOSYS"\}\]$/);
          assert.match(packets[2], /^431\[\{"error":\{"code":"ENOSYS",/);
          assert.match(packets[3], /^42\["error:runner",/);
          assert.match(packets[4], /^432\[\{"error":\{"code":"ENOSYS",/);
        });

        // Adapted: the binary packet (`b` + base64) is an attachment of an
        // updateContent; the bytes are read back with fetchContent.
        testCase("sends and receives a payload containing plain text and binary packets", async () => {
          const sid = await openPolling(runner);
          const event = '451-1["updateContent",{"path":"poll.bin","content":{"_placeholder":true,"num":0}}]';
          const push = await post(pollUrl(runner, sid), `${CONNECT}\x1e${event}\x1ebAQIDBA==`);
          assert.equal(push.status, 200);
          assert.equal(push.body, "ok");
          const packets = (await pollPackets(sid, 2)).filter((p) => !p.startsWith("42["));
          assertConnected(packets[0]);
          assert.match(packets[1], /^431\[\{"ok":true,/);

          assert.equal((await post(pollUrl(runner, sid), '422["fetchContent",{"path":"poll.bin"}]')).status, 200);
          let ack;
          while (ack === undefined)
            ack = (await pollPackets(sid, 1)).find((p) => p.startsWith("432"));
          const [reply] = JSON.parse(ack.substring(3));
          assert.equal(reply.content, "\x01\x02\x03\x04");
        });

        testCase("closes the session upon invalid packet format", async () => {
          const sid = await openPolling(runner);
          const push = await post(pollUrl(runner, sid), "abc");
          if (!push.error)
            assert.equal(push.status, 400);
          assert.equal((await get(pollUrl(runner, sid))).status, 400);
        });

        testCase("closes the session upon duplicate poll requests", async () => {
          const sid = await openPolling(runner);
          const first = request(pollUrl(runner, sid));
          await first.sent;
          const second = request(`${pollUrl(runner, sid)}&t=burst`);
          // Whichever of the two the server took first is the pending one.
          const answers = [await first.response, await second.response];
          const pending = answers.findIndex((a) => a.status === 200);
          assert.ok(pending >= 0, `no poll was pending: ${answers.map((a) => a.status)}`);
          assert.equal(answers[pending].body, "1");
          assert.ok([400, 500].includes(answers[1 - pending].status), `other poll: ${answers[1 - pending].status}`);
          assert.equal((await get(pollUrl(runner, sid))).status, 400);
        });
      });

      group("WebSocket", () => {
        // Adapted: the text packet is a CONNECT, answered on the same socket.
        testCase("sends and receives a plain text packet", async () => {
          const socket = await openWebSocket(runner);
          socket.send(CONNECT);
          assertConnected(await socket.nextPacket("the CONNECT's answer"));
          socket.close();
        });

        // Adapted: the binary frame is an attachment of an updateContent; the
        // bytes are read back with fetchContent.
        testCase("sends and receives a binary packet", async () => {
          const socket = await openWebSocket(runner);
          socket.send(CONNECT);
          assertConnected(await socket.nextPacket("the CONNECT's answer"));
          socket.send('451-1["updateContent",{"path":"ws.bin","content":{"_placeholder":true,"num":0}}]');
          socket.send(Uint8Array.from([1, 2, 3, 4]));
          let ack;
          while (!(ack = await socket.nextPacket("the updateContent ack")).startsWith("431"));
          assert.match(ack, /^431\[\{"ok":true,/);
          socket.send('422["fetchContent",{"path":"ws.bin"}]');
          while (!(ack = await socket.nextPacket("the fetchContent ack")).startsWith("432"));
          assert.equal(JSON.parse(ack.substring(3))[0].content, "\x01\x02\x03\x04");
          socket.close();
        });

        testCase("closes the session upon invalid packet format", async () => {
          const socket = await openWebSocket(runner);
          socket.send("abc");
          await socket.waitClosed();
        });
      });
    });

    group("heartbeat", () => {
      group("HTTP long-polling", () => {
        testCase(name("sends ping/pong packets", "should send ping/pong packets"), async () => {
          const sid = await openPolling(runner);
          for (let i = 0; i < 3; i++) {
            const poll = await get(pollUrl(runner, sid));
            assert.equal(poll.status, 200);
            assert.equal(poll.body, "2");
            assert.equal((await post(pollUrl(runner, sid), "3")).status, 200);
          }
        });

        // The suite sleeps pingInterval + pingTimeout; here a pending poll
        // shows when the ping came, and the session is gone once it ends.
        testCase(name("closes the session upon ping timeout", "should close the session upon ping timeout"), async () => {
          const sid = await openPolling(runner);
          const ping = await get(pollUrl(runner, sid));
          assert.equal(ping.body, "2");
          // Pending when the timeout comes, the poll gets a close packet;
          // made after it (a slow machine), it finds the session gone.
          const end = await get(pollUrl(runner, sid));
          if (end.status === 200)
            assert.equal(end.body, "1");
          else
            assert.equal(end.status, 400);
          assert.equal((await get(pollUrl(runner, sid))).status, 400);
        });
      });

      group("WebSocket", () => {
        testCase(name("sends ping/pong packets", "should send ping/pong packets"), async () => {
          const socket = await openWebSocket(runner);
          for (let i = 0; i < 3; i++) {
            assert.equal(await socket.next("a ping"), "2");
            socket.send("3");
          }
          socket.close();
        });

        testCase(name("closes the session upon ping timeout", "should close the session upon ping timeout"), async () => {
          const socket = await openWebSocket(runner);
          await socket.waitClosed();
        });
      });
    });

    group("close", () => {
      group("HTTP long-polling", () => {
        testCase(name("forcefully closes the session", "should forcefully close the session"), async () => {
          await inOrder("the poll before the close packet", async () => {
            const sid = await openPolling(runner);
            const poll = request(pollUrl(runner, sid));
            await poll.sent;
            const push = await post(pollUrl(runner, sid), "1");
            assert.equal(push.status, 200);
            const { status, body } = await poll.response;
            if (status === 400 && JSON.parse(body).code === 1)
              return false; // the close came first: the poll found no session
            assert.equal(status, 200);
            assert.equal(body, "6");
            assert.equal((await get(pollUrl(runner, sid))).status, 400);
            return true;
          });
        });
      });

      group("WebSocket", () => {
        testCase(name("forcefully closes the session", "should forcefully close the session"), async () => {
          const socket = await openWebSocket(runner);
          socket.send("1");
          await socket.waitClosed();
        });
      });
    });

    // Starts an upgrade of a new polling session: returns the probe socket,
    // once open, and the sid.
    async function startUpgrade() {
      const sid = await openPolling(runner);
      const socket = new Socket(`${runner.wsUrl}?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`);
      await socket.opened;
      return { sid, socket };
    }

    group("upgrade", () => {
      testCase(name("successfully upgrades from HTTP long-polling to WebSocket", "should successfully upgrade from HTTP long-polling to WebSocket"), async () => {
        const { sid, socket } = await startUpgrade();
        socket.send("2probe");
        assert.equal(await socket.next("the probe's answer"), "3probe");

        const poll = await get(pollUrl(runner, sid));
        assert.equal(poll.status, 200);
        assert.equal(poll.body, "6");

        socket.send("5");
        socket.send(CONNECT);
        assertConnected(await socket.nextPacket("the CONNECT's answer over the WebSocket"));
        socket.close();
      });

      // The suite polls right after sending "5"; here the CONNECT's answer on the
      // WebSocket shows the upgrade done before the poll is made.
      testCase(name("ignores HTTP requests with same sid after upgrade", "should ignore HTTP requests with same sid after upgrade"), async () => {
        const { sid, socket } = await startUpgrade();
        socket.send("2probe");
        socket.send("5");
        socket.send(CONNECT);
        assert.equal(await socket.next("the probe's answer"), "3probe");
        assertConnected(await socket.nextPacket("the CONNECT's answer over the WebSocket"));

        assert.equal((await get(pollUrl(runner, sid))).status, 400);

        socket.send('421["hello"]');
        while (!(await socket.nextPacket("the ack")).startsWith("431"));
        socket.close();
      });

      testCase(name("ignores WebSocket connection with same sid after upgrade", "should ignore WebSocket connection with same sid after upgrade"), async () => {
        const { sid, socket } = await startUpgrade();
        socket.send("2probe");
        socket.send("5");
        socket.send(CONNECT);
        assert.equal(await socket.next("the probe's answer"), "3probe");
        assertConnected(await socket.nextPacket("the CONNECT's answer over the WebSocket"));

        // As engine.io: the handshake succeeds, then the socket is closed
        // with nothing said (the suite waits for a close, not an error).
        const second = new Socket(`${runner.wsUrl}?EIO=4&transport=websocket&sid=${encodeURIComponent(sid)}`);
        await second.opened;
        await second.waitClosed("the second WebSocket to be closed");
        assert.equal(second.queue.length, 0);

        socket.send('421["hello"]');
        while (!(await socket.nextPacket("the ack")).startsWith("431"));
        socket.close();
      });
    });
  });
}
