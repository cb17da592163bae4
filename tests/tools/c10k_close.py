#!/usr/bin/env python3
"""c10k_close.py PID PORT N: N connections to an echo server (PID, on
127.0.0.1:PORT), each echoed one line, then all closed at once (every
other one with a reset, SO_LINGER 0). The server must then hold no more
descriptors than before (within 16), and serve a fresh client. Prints a
summary; exit 0 when all holds, else a message. Every wait is bounded
(the whole run by 240 s)."""
import os
import resource
import select
import socket
import struct
import sys
import time

pid, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    if hard < n + 64:
        sys.exit("descriptor limit %d is below %d" % (hard, n + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, hard))
deadline = time.monotonic() + 240


def nfds():
    return len(os.listdir("/proc/%d/fd" % pid))


def line_back(socks, what):
    """Send a line on every socket and wait for each to come back."""
    want = {}
    for i, s in enumerate(socks):
        s.setblocking(True)
        s.settimeout(10)
        s.sendall(b"%s %d\n" % (what, i))
        s.setblocking(False)
        want[s.fileno()] = (s, b"%s %d\n" % (what, i), bytearray())
    poller = select.poll()
    for fd in want:
        poller.register(fd, select.POLLIN)
    while want and time.monotonic() < deadline:
        for fd, _ in poller.poll(1000):
            s, line, got = want[fd]
            try:
                d = s.recv(4096)
            except BlockingIOError:
                continue
            if not d:
                sys.exit("%s: connection %d closed by the server" % (what, socks.index(s)))
            got += d
            if len(got) >= len(line):
                if bytes(got) != line:
                    sys.exit("%s: got %r for %r" % (what, bytes(got), line))
                del want[fd]
                poller.unregister(fd)
    if want:
        sys.exit("%s: %d of %d lines not echoed in time" % (what, len(want), len(socks)))


base = nfds()
t0 = time.monotonic()
socks = []
for i in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=30))
    except OSError as e:
        sys.exit("connection %d: %s" % (i, e))
line_back(socks, b"line")
opened = time.monotonic() - t0
peak = nfds()
for i, s in enumerate(socks):
    if i % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
now = nfds()
while now > base + 16 and time.monotonic() < deadline:
    time.sleep(0.2)
    now = nfds()
if now > base + 16:
    sys.exit("after %d closes the server holds %d descriptors (%d before, %d at the peak)"
             % (n, now, base, peak))
with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
    line_back([s], b"after")
print("%d connections echoed in %.1f s, closed at once: descriptors %d -> %d -> %d"
      % (n, opened, base, peak, now))
