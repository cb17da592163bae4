#!/usr/bin/env python3
"""echo_emfile.py PORT: an echo server at its descriptor limit sheds
connections it cannot take and recovers once clients leave. Exit 0 when
so, else a message.
"""
import socket, sys, time
port = int(sys.argv[1])
socks = []
for i in range(60):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    socks.append(s)
served = shed = 0
for s in socks:
    try:
        s.sendall(b"x")
        served += s.recv(1) == b"x"
    except (socket.timeout, ConnectionResetError):
        pass
    except OSError:
        pass
for s in socks:
    s.close()
if served == 0 or served == 60:
    sys.exit("served %d of 60: expected some served and some shed" % served)
time.sleep(0.2)
# fresh clients are served again
for i in range(5):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"again")
    data = b""
    while len(data) < 5:
        chunk = s.recv(5)
        if not chunk: break
        data += chunk
    if data != b"again":
        sys.exit("client %d after recovery got %r" % (i, data))
    s.close()
