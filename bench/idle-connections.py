#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# SPDX-FileCopyrightText: 2026 The Runner authors
# /healthz latency while N idle TCP connections are open (bench/idle-connections.py BINARY [N]; needs a hard RLIMIT_NOFILE of 20000)
import os, resource, socket, subprocess, sys, time, tempfile
binary, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5000
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
work = tempfile.mkdtemp()
os.mkdir(os.path.join(work, "ws"))
p = subprocess.Popen([binary, "serve", "--port", "0", "--workspace", os.path.join(work, "ws"), "--no-auth"],
                     stdout=subprocess.PIPE, text=True, env=dict(os.environ, RUNNER_DBUS="none"))
port = int(p.stdout.readline().split(":")[-1].strip("/\n"))
def cpu():
    f = open(f"/proc/{p.pid}/stat").read().split()
    return (int(f[13]) + int(f[14])) / os.sysconf("SC_CLK_TCK")
def health():
    t = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(120); tc = (time.monotonic() - t) * 1000
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    r = s.recv(20); s.close()
    return (time.monotonic() - t) * 1000, b"%s (connect %.0f ms)" % (r[:12], tc)
print("idle: /healthz %.1f ms %s" % health())
c0, t0 = cpu(), time.monotonic()
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
print("opened %d connections in %.2f s" % (n, time.monotonic() - t0))
ms, r = health()
print("with %d idle: /healthz %.1f ms %s; runner CPU so far %.2f s" % (n, ms, r, cpu() - c0))
time.sleep(1)
ms, r = health()
print("1 s later: /healthz %.1f ms %s; runner CPU %.2f s; fds %d" % (ms, r, cpu() - c0, len(os.listdir(f"/proc/{p.pid}/fd"))))
for c in conns: c.close()
p.terminate(); p.wait()
