#!/usr/bin/env python3
"""xfer_busy_race.py PORT TMP FINAL: connection A offers f.bin and confirms;
B offers the same path (must get ACK busy, 21) and must leave A's
temporary file TMP alone; C offers it too and leaves after a few bytes;
A then sends and verifies. Prints "A: TYPE CODE" and "final: good" (or
CORRUPT), and a FAIL line if TMP vanished.
"""
import hashlib, socket, struct, subprocess, sys
port, tmp, final = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
class Peer:
    def __init__(s):
        s.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
        assert s.read()[0] == 1
    def rx(s, n):
        b = b""
        while len(b) < n:
            c = s.s.recv(n - len(b))
            if not c: raise SystemExit("unexpected EOF")
            b += c
        return b
    def read(s):
        t, _, _, n = struct.unpack(">BBHI", s.rx(8))
        return t, s.rx(n)
    def offer(s, size):
        name = b"f.bin"   # algo 2 = sha256
        s.s.sendall(frame(2, struct.pack(">QIqIBBH", size, 0o644, 0, 0, 2, 0,
                                         len(name)) + name))
        return s.read()
    def confirm(s): s.s.sendall(frame(3, struct.pack(">QBBB", 0, 0, 2, 0)))
def code(p): return struct.unpack(">H", p[:2])[0]

good = b"G" * 100000
a = Peer()
t, p = a.offer(len(good))
assert t == 3, ("A: want RESUME", t, p)
a.confirm()
# open the temporary file once, like any local reader: this breaks A's
# write lease (recv lets go of it), so B's open below gets the file
subprocess.run(["cat", tmp], stdout=subprocess.DEVNULL, check=True, timeout=10)
b = Peer()
t, p = b.offer(len(good))
assert t == 6 and code(p) == 21, ("B: want ACK busy", t, p)
b.s.close()
import os
if not os.path.exists(tmp):
    print("FAIL: the busy connection removed the temporary file of another")
# C: a third offer of the same path, stalls after a few bytes and goes
c = Peer()
t, p = c.offer(len(good))
if t == 3:
    c.confirm()
    c.s.sendall(frame(4, b"X" * 5000))
c.s.close()
a.s.sendall(frame(4, good))
a.s.sendall(frame(5, struct.pack(">BB", 2, 32) + hashlib.sha256(good).digest()))
t, p = a.read()
print("A:", t, code(p) if t in (6, 9) else -1)
with open(final, "rb") as f:
    got = f.read()
print("final:", "good" if got == good else "CORRUPT (%d bytes)" % len(got))
