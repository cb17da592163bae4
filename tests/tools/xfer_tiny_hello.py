#!/usr/bin/env python3
"""xfer_tiny_hello.py PORT DATA_MAX: HELLO v1 announcing DATA_MAX, then GET
big.bin; prints the type of each frame that comes back (and the code of
an ERROR).
"""
import socket, struct, sys
port, dmax = int(sys.argv[1]), int(sys.argv[2])
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def recvn(s, n):
    b = b""
    while len(b) < n:
        x = s.recv(n - len(b))
        if not x:
            raise EOFError
        b += x
    return b
def read_frame(s):
    t, _, _, n = struct.unpack(">BBHI", recvn(s, 8))
    p = recvn(s, n)
    print("frame", t, struct.unpack(">H", p[:2])[0] if t == 9 else "")
    return t
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, dmax)))
if read_frame(s) == 1:
    s.sendall(frame(7, struct.pack(">BBH", 0, 1, 7) + b"big.bin"))
    read_frame(s)
