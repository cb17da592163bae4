#!/usr/bin/env python3
"""httpd_log_flood.py ADDR: requests that each trigger a server log line:
300 pipelined overlapping Ranges, 300 truncated listings of /many/, 40
clients that pipeline and never read (--max-output); then one last
request, served once the others are done.
"""
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
def run(req, n):
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(req * n + b"GET /many/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    while s.recv(1 << 20):
        pass
    s.close()
run(b"GET /small.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=0-,0-\r\n\r\n", 300)
run(b"GET /many/ HTTP/1.1\r\nHost: a\r\n\r\n", 300)
# clients that pipeline and never read: each reaches --max-output
socks = []
for i in range(40):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.sendall(b"GET /small.bin HTTP/1.1\r\nHost: a\r\n\r\n" * 200)
    socks.append(s)
# a last client is served once every abuser has been read
s = socket.create_connection((host, int(port)), timeout=30)
s.sendall(b"GET /many/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
while s.recv(1 << 20):
    pass
for s in socks:
    s.close()
