#!/usr/bin/env python3
"""tftp_stall_upload.py PORT NAME FILE: WRQ NAME (octet) to 127.0.0.1:PORT,
send FILE (whole 512-byte blocks) in lock-step, print "ready"; on a line
from stdin send the empty final block, wait (60 s) for its ACK and print
"acked" (or "error MSG", exit 1).
"""
import socket, struct, sys
port, name, data = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
assert len(data) % 512 == 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"\0\2" + name.encode() + b"\0octet\0", ("127.0.0.1", port))
p, tid = s.recvfrom(1000)
assert p[:4] == b"\0\4\0\0", p
n = len(data) // 512
for b in range(1, n + 1):
    s.sendto(struct.pack("!HH", 3, b) + data[(b - 1) * 512:b * 512], tid)
    while True:   # lock-step: the ACK of this block
        p, _ = s.recvfrom(1000)
        if p[:2] == b"\0\4" and struct.unpack("!H", p[2:4])[0] == b:
            break
print("ready", flush=True)
sys.stdin.readline()
s.sendto(struct.pack("!HH", 3, n + 1), tid)
s.settimeout(60)
while True:
    p, _ = s.recvfrom(1000)
    if p[:2] == b"\0\5":
        print("error", p[4:-1].decode(), flush=True)
        sys.exit(1)
    if p[:2] == b"\0\4" and struct.unpack("!H", p[2:4])[0] == (n + 1) & 0xFFFF:
        print("acked", flush=True)
        break
