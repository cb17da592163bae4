#!/usr/bin/env python3
"""httpd_slow_head.py ADDR: a slowloris client: sends a request head one
field at a time and never ends it, until the server answers and closes
(20 s at most: the 408 must come, late on a loaded machine too); prints
the first line of what the server answered (408 expected) or an empty line.
"""
import socket, sys, time
h, p = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((h, int(p)), timeout=20)
s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
out = b""
end = time.time() + 20
while time.time() < end:
    try:
        s.sendall(b"X-Slow: 1\r\n")   # trickle, never finish the head
    except OSError:
        break
    s.settimeout(0.3)
    try:
        c = s.recv(4096)
        if not c:
            break
        out += c
    except socket.timeout:
        pass
print(out.decode().split("\r\n")[0])
