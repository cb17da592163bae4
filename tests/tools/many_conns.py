#!/usr/bin/env python3
"""many_conns.py HOST PORT N: open N TCP connections to an echo server, then
send a line on each and count the ones that echo it back and the ones the
server closed. Prints "echoed=E closed=C" and exits 0. Every wait is bounded
(the whole run by 60 s)."""
import resource
import select
import socket
import sys
import time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
deadline = time.monotonic() + 60
socks = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    socks.append(s)
# let the server accept (and refuse) them all before talking
time.sleep(1.0)
echoed = closed = 0
pending = {}
for i, s in enumerate(socks):
    try:
        s.sendall(b"line %d\n" % i)
        pending[s] = b""
    except OSError:
        closed += 1
byfd = {s.fileno(): s for s in pending}
poller = select.poll()   # not select(): these fds pass FD_SETSIZE too
for fd in byfd:
    poller.register(fd, select.POLLIN)
while pending and time.monotonic() < deadline:
    for fd, _ in poller.poll(1000):
        s = byfd[fd]
        if s not in pending:
            continue
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:
            closed += 1
            del pending[s]
            poller.unregister(fd)
            continue
        pending[s] += d
        if pending[s].endswith(b"\n"):
            echoed += 1
            del pending[s]
            poller.unregister(fd)
print("echoed=%d closed=%d unanswered=%d" % (echoed, closed, len(pending)))
