#!/usr/bin/env python3
"""xfer_flood_peer.py PORT badhello N | gets N: log-flood load for recv at
127.0.0.1:PORT: N connections with a bad HELLO, or N GETs of a missing
file on one connection; prints what came back.
"""
import socket, struct, sys
port, what, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def recvn(s, k):
    b = b""
    while len(b) < k:
        x = s.recv(k - len(b))
        if not x:
            raise EOFError
        b += x
    return b
def read_frame(s):
    t, _, _, k = struct.unpack(">BBHI", recvn(s, 8))
    return t, recvn(s, k)
done = 0
if what == "badhello":
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(frame(1, b"XXXX" + struct.pack(">HHI", 1, 0, 65536)))
        try:
            t, p = read_frame(s)
            if t == 9:
                done += 1
        except (EOFError, ConnectionResetError):
            pass
        s.close()
else:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 65536)))
    assert read_frame(s)[0] == 1
    for i in range(n):
        name = b"missing-%d.bin" % i
        s.sendall(frame(7, struct.pack(">BBH", 0, 1, len(name)) + name))
        t, p = read_frame(s)
        if t == 6 and struct.unpack(">H", p[:2])[0] == 22:
            done += 1
    s.close()
print("answered", done)
