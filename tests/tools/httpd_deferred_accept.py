#!/usr/bin/env python3
"""httpd_deferred_accept.py ADDR: a connection that says nothing stays with
the kernel (TCP_DEFER_ACCEPT: SYN-RECV per ss), then is served. Prints
"held=N after=M STATUS-LINE".
"""
import socket, subprocess, sys, time
h, p = sys.argv[1].rsplit(":", 1)
def held():
    out = subprocess.run(["ss", "-Htn", "state", "syn-recv", "sport = :" + p],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])
s = socket.create_connection((h, int(p)), timeout=8)
n = 0
for _ in range(50):            # the kernel files it within a moment
    n = held()
    if n:
        break
    time.sleep(0.02)
s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
out = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    out += c
print("held=%d after=%d %s" % (n, held(), out.split(b"\r\n")[0].decode()))
