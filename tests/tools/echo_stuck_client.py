#!/usr/bin/env python3
"""echo_stuck_client.py PORT MARK: a client that sends and never reads.

Creates the file MARK once its sends have stalled for a second (the
server holds unsent output and stops reading); gives up after 60 s.
"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setblocking(False)
last, marked = time.time(), False
deadline = time.time() + 60
while time.time() < deadline:
    try:
        s.send(b"x" * 65536)
        last = time.time()
    except BlockingIOError:
        time.sleep(0.01)
    except OSError:
        break
    if not marked and time.time() - last > 1.0:
        open(sys.argv[2], "w").close()
        marked = True
