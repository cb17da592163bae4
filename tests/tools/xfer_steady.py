#!/usr/bin/env python3
"""xfer_steady.py PORT IDLE: upload a 150-byte file as whole 1-byte DATA
frames 0.1 s apart until the connection has lasted IDLE + 1 seconds (the
receiver's --idle: longer in all than it allows a silence), then the rest
in one frame; print the answer "TYPE CODE NAME" ("6 0 NAME" = ACK ok,
NAME the file stored).

The claim is that a peer never silent for long is not cut, however long
it takes. A gap between two of our frames of IDLE / 2 or more (this
process held up on a loaded machine) makes an upload that was cut tell
nothing: it is tried again under a new name ("steady.2", "steady.3");
one cut while every gap stayed under that fails.
"""
import hashlib, socket, struct, sys, time

port, idle = int(sys.argv[1]), float(sys.argv[2])
body = bytes(range(150))


class Cut(Exception):
    def __init__(self, why, gap):
        super().__init__(why)
        self.gap = gap


def upload(name):
    """Returns (TYPE, CODE); raises Cut with the largest gap when cut."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)

    def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p

    def rx(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise ConnectionResetError("closed by the server")
            b += c
        return b

    def read():
        t, _, _, n = struct.unpack(">BBHI", rx(8))
        return t, rx(n)

    start = last = time.monotonic()
    gap = 0.0
    try:
        s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
        assert read()[0] == 1
        s.sendall(frame(2, struct.pack(">QIqIBBH", len(body), 0o644, 0, 0, 2, 0, len(name))
                        + name.encode()))
        assert read()[0] == 3
        s.sendall(frame(3, struct.pack(">QBBB", 0, 0, 2, 0)))
        last = time.monotonic()
        i = 0
        while i < len(body) - 1 and time.monotonic() - start < idle + 1:
            now = time.monotonic()
            gap = max(gap, now - last)
            s.sendall(frame(4, body[i:i + 1]))
            last = now
            i += 1
            time.sleep(0.1)
        gap = max(gap, time.monotonic() - last)
        s.sendall(frame(4, body[i:]))
        s.sendall(frame(5, struct.pack(">BB", 2, 32) + hashlib.sha256(body).digest()))
        t, p = read()
        return t, struct.unpack(">H", p[:2])[0]
    except (ConnectionResetError, BrokenPipeError) as e:
        gap = max(gap, time.monotonic() - last)
        raise Cut("%s after %.1f s, largest gap %.2f s" % (e, time.monotonic() - start, gap), gap)
    finally:
        s.close()


for attempt, name in enumerate(("steady", "steady.2", "steady.3")):
    try:
        t, code = upload(name)
        print(t, code, name)
        break
    except Cut as e:
        if e.gap < idle / 2:
            sys.exit("cut while never silent for %.1f s: %s" % (idle / 2, e))
        print("upload %s told nothing (held up ourselves): %s" % (name, e), file=sys.stderr)
else:
    sys.exit("every upload was held up for %.1f s or more" % (idle / 2))
