#!/usr/bin/env python3
"""coro_hold.py PORT N HELD GO: open N connections to an echo server on
127.0.0.1:PORT, each making one round trip (so the server holds it, idle),
then create the file HELD and wait for the file GO; then reset half of the
connections (SO_LINGER 0) and close the others, and exit 0. Exits 1 if a
connection fails. Every wait is bounded (the whole run by 120 s)."""
import os
import resource
import socket
import struct
import sys
import time

port, n, held, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
deadline = time.monotonic() + 120
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    line = b"hold %d\n" % i
    s.sendall(line)
    got = b""
    while len(got) < len(line):
        d = s.recv(len(line) - len(got))
        if not d:
            print("connection %d closed by the server" % i, file=sys.stderr)
            sys.exit(1)
        got += d
    if got != line:
        print("connection %d: wrong echo" % i, file=sys.stderr)
        sys.exit(1)
    socks.append(s)
open(held, "w").close()
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.05)
for i, s in enumerate(socks):
    if i % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
