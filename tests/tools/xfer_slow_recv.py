#!/usr/bin/env python3
"""xfer_slow_recv.py: a fake receiver that thinks 2.5 s before RESUME and
before its ACK. Listens on 127.0.0.1, prints its port, takes one
connection (one file) and answers ACK stored.
"""
import socket, struct, sys, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
srv.settimeout(30)
s, _ = srv.accept(); s.settimeout(30)
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def rx(n):
    b = bytearray()
    while len(b) < n:
        c = s.recv(min(n - len(b), 1 << 20))
        if not c: raise SystemExit("EOF from send")
        b += c
    return bytes(b)
def read():
    t, _, _, n = struct.unpack(">BBHI", rx(8)); return t, rx(n) if t != 4 else n
assert read()[0] == 1
s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
t, p = read(); assert t == 2, t
size = struct.unpack(">Q", p[:8])[0]
time.sleep(2.5)
s.sendall(frame(3, struct.pack(">QBBB", 0, 0, p[28], 0)))
assert read()[0] == 3
got = 0
while True:
    t, n = read()
    if t != 4: break
    rx(n); got += n
assert t == 5 and got == size, (t, got, size)
time.sleep(2.5)
msg = b"stored"
s.sendall(frame(6, struct.pack(">HH", 0, len(msg)) + msg))
time.sleep(0.5)
