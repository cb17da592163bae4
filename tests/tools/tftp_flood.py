#!/usr/bin/env python3
"""tftp_flood.py PORT N: N bad requests, one at a time (each waits for
its ERROR, at most 10 s: every one must be answered, also on a loaded
machine), from 127.0.0.2..9; prints "refused K" (the RRQ/WRQ answered
with ERROR) and "answered A".
"""
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.%d" % (2 + i), 0))
    s.settimeout(10)
    socks.append(s)
refused = answered = 0
for i in range(n):
    s = socks[i % len(socks)]
    kind = i % 4
    if kind == 0:
        pkt = struct.pack("!H", 1) + b"missing-%d\0octet\0" % i
    elif kind == 1:
        pkt = struct.pack("!H", 2) + b"upload-%d\0octet\0" % i
    elif kind == 2:
        pkt = struct.pack("!H", 1) + b"../../etc/passwd\0octet\0"
    else:
        pkt = struct.pack("!H", 9) + b"bogus-opcode-%d\0" % i
    s.sendto(pkt, ("127.0.0.1", port))
    try:
        data, _ = s.recvfrom(1024)
    except socket.timeout:
        continue
    answered += 1
    if kind != 3 and data[:2] == struct.pack("!H", 5):
        refused += 1
print("refused", refused)
print("answered", answered)
