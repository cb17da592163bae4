#!/usr/bin/env python3
"""xfer_evil_server.py MODE: a hostile recv for `get`: listens on 127.0.0.1,
prints its port, serves one connection. After HELLO and the
client's GET: MODE big sends a 1 GiB frame header and closes; any other
MODE offers "../../evil.txt" (not the name asked for), sends it, and
prints "ACK CODE" of the client's answer.
"""
import socket, struct, sys, hashlib
mode = sys.argv[1]
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
print(ls.getsockname()[1], flush=True)
c, _ = ls.accept(); c.settimeout(10)
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def read_exact(n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: raise SystemExit(0)
        b += x
    return b
def read_frame():
    t, f, r, n = struct.unpack(">BBHI", read_exact(8)); return t, read_exact(n)
read_frame()
c.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
read_frame()                                   # GET
if mode == "big":
    c.sendall(struct.pack(">BBHI", 2, 0, 0, 1 << 30)); c.close(); raise SystemExit(0)
data = b"pwned\n"
name = b"../../evil.txt"
c.sendall(frame(2, struct.pack(">QIqIBBH", len(data), 0o644, 0, 0, 2, 0, len(name)) + name))
read_frame()                                   # client's RESUME
c.sendall(frame(3, struct.pack(">QBBB", 0, 0, 2, 0)))
c.sendall(frame(4, data))
c.sendall(frame(5, struct.pack(">BB", 2, 32) + hashlib.sha256(data).digest()))
t, p = read_frame()
print("ACK", struct.unpack(">H", p[:2])[0], flush=True)
