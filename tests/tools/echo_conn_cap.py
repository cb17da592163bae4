#!/usr/bin/env python3
"""echo_conn_cap.py PORT CAP: the echo server's default connection cap.

CAP clients are served; one more is not served while they stay; once one
leaves it is. Exit 0 when so, else a message.
"""
import socket, sys
port, cap = int(sys.argv[1]), int(sys.argv[2])
socks = []
def echo(s, timeout):
    s.settimeout(timeout)
    s.sendall(b"x")
    try:
        return s.recv(1) == b"x"
    except socket.timeout:
        return False
for i in range(cap):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    socks.append(s)
    if not echo(s, 10):
        sys.exit("client %d of the first %d not served" % (i, cap))
extra = socket.create_connection(("127.0.0.1", port), timeout=10)
if echo(extra, 1):
    sys.exit("client served above the default cap of %d" % cap)
socks[0].close()
extra.settimeout(10)
if extra.recv(1) != b"x":
    sys.exit("waiting client not served after one left")
