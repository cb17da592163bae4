#!/usr/bin/env python3
"""echo_emfile.py PORT: an echo server at its descriptor limit sheds
connections it cannot take and recovers once clients leave (a fresh
client is served within 30 s, then five in a row). Exit 0 when so, else
a message.
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


def again():
    """One fresh client: what it gets back for "again"."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(b"again")
        data = b""
        while len(data) < 5:
            chunk = s.recv(5)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


# fresh clients are served again once the server has taken in the closes
# (bounded: 30 s; until then one may still be shed), then every one
deadline = time.time() + 30
while True:
    try:
        data = again()
    except OSError as e:
        data = repr(e).encode()
    if data == b"again":
        break
    if time.time() > deadline:
        sys.exit("no client served in 30 s after the others left: %r" % data)
    time.sleep(0.1)
for i in range(5):
    data = again()
    if data != b"again":
        sys.exit("client %d after recovery got %r" % (i, data))
