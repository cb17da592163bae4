#!/usr/bin/env python3
"""httpd_static_500_flood.py ADDR: 300 requests for /sock (a socket in the
root: 500), one connection each; prints how many got 500.
"""
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
n = 0
for _ in range(300):  # a 500 closes its connection: one per connection
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b"GET /sock HTTP/1.1\r\nHost: a\r\n\r\n")
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    n += buf.startswith(b"HTTP/1.1 500 ")
    s.close()
print(n)
