#!/usr/bin/env python3
"""xfer_trickle.py PORT: send a HELLO and an OFFER header one byte every
0.4 s; print "closed I" when the server closes at byte I, or "open N".
"""
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
msg = struct.pack(">BBHI", 1, 0, 0, 12) + b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)
msg += struct.pack(">BBHI", 2, 0, 0, 100)
s.settimeout(0.4)
for i, b in enumerate(msg):
    try:
        s.sendall(bytes([b]))
        while True:              # drain what the server says; EOF = closed
            if not s.recv(4096):
                print("closed", i); sys.exit(0)
    except socket.timeout:
        pass
    except OSError:
        print("closed", i); sys.exit(0)
print("open", len(msg))
