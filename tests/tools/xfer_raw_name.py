#!/usr/bin/env python3
"""xfer_raw_name.py MODE PORT HEXNAME: HELLO, then one frame to recv at
127.0.0.1:PORT; print the answer as "TYPE CODE [MESSAGE]" (ACK 6 / ERROR 9
/ OFFER 2 / RESUME 3).

MODE offer: OFFER of a 5-byte file named by the raw bytes HEXNAME (hex);
get: GET of that name; bigctrl: a control frame header over 8 KiB;
bigdata: a DATA header over 1 MiB; badhdr: a header with flags set.
"""
import socket, struct, sys
mode, port, name = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def read_exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("EOF")
        b += c
    return b
def read_frame():
    t, f, r, n = struct.unpack(">BBHI", read_exact(8))
    return t, read_exact(n)
s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
t, p = read_frame()
assert t == 1 and p[:4] == b"IBXF"
if mode == "offer":
    s.sendall(frame(2, struct.pack(">QIqIBBH", 5, 0o644, 0, 0, 1, 0, len(name)) + name))
elif mode == "get":
    s.sendall(frame(7, struct.pack(">BBH", 0, 1, len(name)) + name))
elif mode == "bigctrl":
    s.sendall(struct.pack(">BBHI", 2, 0, 0, 8193))
elif mode == "bigdata":
    s.sendall(struct.pack(">BBHI", 4, 0, 0, (1 << 20) + 1))
elif mode == "badhdr":
    s.sendall(struct.pack(">BBHI", 2, 1, 0, 0))
t, p = read_frame()
code = struct.unpack(">H", p[:2])[0] if t in (6, 9) else -1
print(t, code, p[4:].decode(errors="replace") if t in (6, 9) else "")
