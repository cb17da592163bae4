#!/usr/bin/env python3
"""xfer_pipeline_client.py PORT: pipeline thousands of GET frames at a recv
without reading any answer (small receive buffer); exit 0 when the
server stops reading instead of buffering without bound.
"""
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # read nothing, hold little
def frame(t, p): return struct.pack("!BBHI", t, 0, 0, len(p)) + p
s.sendall(frame(1, b"IBXF" + struct.pack("!HHI", 1, 0, 1 << 20)))
get = frame(7, struct.pack("!BBH", 0, 1, 4) + b"nope")
blob = get * 4096
s.setblocking(False)
sent, stuck = 0, None
while sent < 24 << 20:
    try:
        sent += s.send(blob)
        stuck = None
    except BlockingIOError:
        now = time.monotonic()
        stuck = stuck or now
        if now - stuck > 2:
            break   # the server stopped reading: that is the point
        time.sleep(0.01)
print("sent %d bytes of GET" % sent, file=sys.stderr)
time.sleep(0.5)   # let the server work through what it read
s.close()
