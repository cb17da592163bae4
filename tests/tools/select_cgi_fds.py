#!/usr/bin/env python3
"""select_cgi_fds.py PID PORT: httpd under the select model (PID, on
127.0.0.1:PORT, with /cgi-bin/hi.sh printing "hi", a file /x holding "x"
and a long --idle-timeout) whose descriptors reach close to FD_SETSIZE
(1024): keep-alive connections are opened until its lowest
free descriptor is 1012, then 1013 ... 1023, with a CGI request on each
step, so that its script's and pipes' descriptors land on both sides of
1024, past which select cannot watch them. Each such request must end -- with a response (a 5xx is fine) or a close
-- within 20 s, never hang, and leave no descriptor behind. Once the idle
connections are gone, the CGI must answer "hi" again. Exit 0 when all
holds, else a message; prints what each request got."""
import os
import socket
import sys
import time

pid, port = int(sys.argv[1]), int(sys.argv[2])


def fds():
    return [int(x) for x in os.listdir("/proc/%d/fd" % pid)]


def settle(target, deadline):
    """Wait until the server holds at most target descriptors."""
    n = len(fds())
    while n > target and time.monotonic() < deadline:
        time.sleep(0.1)
        n = len(fds())
    return n


def cgi():
    """One CGI request: what came back, b"" for a close, None on a hang."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        s.sendall(b"GET /cgi-bin/hi.sh HTTP/1.0\r\nHost: a\r\n\r\n")
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                return data
            data += d
    except socket.timeout:
        return None
    except OSError:
        return data
    finally:
        s.close()


def keepalive():
    """A connection the server holds: one request answered, kept alive
    (an idle one would wait in the kernel: TCP_DEFER_ACCEPT)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
    data = b""
    while not data.endswith(b"\r\n\r\nx"):
        d = s.recv(4096)
        if not d:
            sys.exit("keep-alive request: %r" % data)
        data += d
    return s


def lowest_free():
    have = set(fds())
    n = 0
    while n in have:
        n += 1
    return n


# For each target, idle connections until the next descriptor the server
# gets (the lowest free one) is the target: the CGI connection lands
# there, and its script's descriptors and pipes just above, on both sides
# of 1024 as the target moves.
idle = []
hung = 0
for target in range(1012, 1024):
    while lowest_free() < target:
        if len(idle) > 1100:
            sys.exit("the server's descriptors do not grow with connections")
        idle.append(keepalive())
    base = len(fds())
    got = cgi()
    line = "no answer in 20 s" if got is None else \
        got.split(b"\r\n", 1)[0].decode("latin-1") if got else "closed"
    n = settle(base, time.monotonic() + 20)
    print("connection at %d: %s, descriptors %d -> %d" % (target, line, base, n))
    if got is None:
        hung += 1
    elif n > base:
        sys.exit("connection at %d: %d descriptors left behind" % (target, n - base))
if hung:
    sys.exit("%d CGI requests hung (pipes select cannot watch)" % hung)
for s in idle:
    s.close()
deadline = time.monotonic() + 30
while True:
    got = cgi()
    if got and got.startswith(b"HTTP/1.1 200") and got.endswith(b"hi\n"):
        break
    if time.monotonic() > deadline:
        sys.exit("the CGI does not work again once descriptors are free: %r" % got)
    time.sleep(0.2)
print("ok: the CGI answers again")
