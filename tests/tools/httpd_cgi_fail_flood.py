#!/usr/bin/env python3
"""httpd_cgi_fail_flood.py ADDR: CGI failures in bulk: 120 pipelined
requests for /cgi-bin/mute.sh (502), 40 chunked bodies over --max-body
to /cgi-bin/ok.sh (413), 20 requests at once for /cgi-bin/slow.sh (504).
"""
import socket, sys, threading
host, port = sys.argv[1].rsplit(":", 1)
def drain(s):
    s.settimeout(30)
    while s.recv(1 << 20):
        pass
    s.close()
s = socket.create_connection((host, int(port)), timeout=30)
s.sendall(b"GET /cgi-bin/mute.sh HTTP/1.1\r\nHost: a\r\n\r\n" * 120 +
          b"GET /cgi-bin/ok.sh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
drain(s)
for _ in range(40):
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b"POST /cgi-bin/ok.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"c8\r\n" + b"x" * 200 + b"\r\n0\r\n\r\n")
    drain(s)
socks = []
for _ in range(20):
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b"GET /cgi-bin/slow.sh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    socks.append(s)
ts = [threading.Thread(target=drain, args=(s,)) for s in socks]
for t in ts: t.start()
for t in ts: t.join()
