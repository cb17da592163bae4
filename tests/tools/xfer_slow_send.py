#!/usr/bin/env python3
"""xfer_slow_send.py PORT HAVE: a sender whose receiver holds a HAVE-byte
zero prefix of f.bin: it checks the RESUME proposal, thinks 2.5 s, then
sends a 10-byte tail. Prints the answer "TYPE CODE" ("6 0" = ACK ok).
"""
import hashlib, socket, struct, sys, time
port, have = int(sys.argv[1]), int(sys.argv[2])
tail = b"0123456789"
h = hashlib.sha256()
zero = bytes(1 << 20)
left = have
while left:
    n = min(left, len(zero)); h.update(zero[:n]); left -= n
prefix = h.copy().digest()
h.update(tail)
full = h.digest()
s = socket.create_connection(("127.0.0.1", port), timeout=30)
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def rx(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("EOF: recv closed the connection")
        b += c
    return b
def read():
    t, _, _, n = struct.unpack(">BBHI", rx(8)); return t, rx(n)
s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
assert read()[0] == 1
name = b"f.bin"
s.sendall(frame(2, struct.pack(">QIqIBBH", have + len(tail), 0o644, 0, 0, 2, 0,
                               len(name)) + name))
t, p = read()
assert t == 3, (t, p)
off, _, _, hl = struct.unpack(">QBBB", p[:11])
assert off == have and p[11:11 + hl] == prefix, "unexpected resume proposal"
time.sleep(2.5)                      # "hashing our prefix"
s.sendall(frame(3, struct.pack(">QBBB", off, 0, 2, 32) + prefix))
s.sendall(frame(4, tail))
s.sendall(frame(5, struct.pack(">BB", 2, 32) + full))
t, p = read()
print(t, struct.unpack(">H", p[:2])[0])
