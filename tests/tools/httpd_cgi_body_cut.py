#!/usr/bin/env python3
"""httpd_cgi_body_cut.py ADDR PIDFILE: POST to /cgi-bin/cat.sh a body that
never completes, wait (10 s) until the script wrote its pid to PIDFILE,
then leave.
"""
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly part")
for _ in range(200):   # until the script runs
    if os.path.exists(sys.argv[2]) and os.path.getsize(sys.argv[2]):
        break
    time.sleep(0.05)
s.close()
