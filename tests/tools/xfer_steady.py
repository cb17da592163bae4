#!/usr/bin/env python3
"""xfer_steady.py PORT: upload "steady" (150 bytes) as 15 DATA frames 0.3 s
apart; print the answer "TYPE CODE" ("6 0" = ACK ok).
"""
import hashlib, socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def rx(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("closed by the server")
        b += c
    return b
def read():
    t, _, _, n = struct.unpack(">BBHI", rx(8)); return t, rx(n)
s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
assert read()[0] == 1
body = bytes(range(150))
s.sendall(frame(2, struct.pack(">QIqIBBH", len(body), 0o644, 0, 0, 2, 0, 6) + b"steady"))
assert read()[0] == 3
s.sendall(frame(3, struct.pack(">QBBB", 0, 0, 2, 0)))
for i in range(15):
    s.sendall(frame(4, body[i * 10:(i + 1) * 10]))
    time.sleep(0.3)
s.sendall(frame(5, struct.pack(">BB", 2, 32) + hashlib.sha256(body).digest()))
t, p = read()
print(t, struct.unpack(">H", p[:2])[0])
