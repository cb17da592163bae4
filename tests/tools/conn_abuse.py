#!/usr/bin/env python3
"""conn_abuse.py --pid PID SERVICE=PORT...: rude clients against the TCP
services of one server (SERVICE: echo, httpd, chatd or recv), then a check
that the server let go of every one of them.

For each service: a few polite sessions first (warm-up: per-worker state
such as chatd's edges is made now), then the descriptors held by PID and
its children are counted; then 40 clients that connect and reset at once
(SO_LINGER 0), 40 that connect and close without a word, and 20 that send
a request, half-close (shutdown SHUT_WR) and must get their answer and then
end of file. Afterwards the descriptor count must come back to within
--slack of the first count (a descriptor leaked per connection shows as
~100 more), and one more polite session must work. Exit 0 when all holds,
else a message. Every wait is bounded."""
import argparse
import os
import select
import socket
import struct
import sys
import time

REQ = {
    "echo": b"abuse line\n" * 100,
    "httpd": b"GET /index.html HTTP/1.0\r\nHost: a\r\n\r\n",
    "chatd": b"NICK abuser\r\nUSER a 0 * :a\r\n",
    "recv": b"",
}


def reply_ok(kind, data):
    if kind == "echo":
        return data == REQ["echo"]
    if kind == "httpd":
        return data.startswith(b"HTTP/1.")
    return True   # chatd, recv: end of file is the answer


def fd_total(pid):
    """Descriptors held by pid and its descendants."""
    parent = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read()
            parent[int(p)] = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            pass
    tree, grew = {pid}, True
    while grew:
        grew = False
        for p, pp in parent.items():
            if pp in tree and p not in tree:
                tree.add(p)
                grew = True
    n = 0
    for p in tree:
        try:
            n += len(os.listdir("/proc/%d/fd" % p))
        except OSError:
            pass
    return n


def sessions(port, kind, count, deadline):
    """count concurrent half-closing sessions; returns the failures."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        socks.append(s)
    for s in socks:
        s.setblocking(True)
        s.settimeout(10)
        if REQ[kind]:
            s.sendall(REQ[kind])
        s.shutdown(socket.SHUT_WR)
        s.setblocking(False)
    got = {s.fileno(): b"" for s in socks}
    byfd = {s.fileno(): s for s in socks}
    poller = select.poll()
    for fd in byfd:
        poller.register(fd, select.POLLIN)
    done, bad = set(), []
    while len(done) < len(socks) and time.monotonic() < deadline:
        for fd, _ in poller.poll(500):
            try:
                d = byfd[fd].recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                d = b""
                bad.append("%s: %s" % (kind, e))
            if d:
                got[fd] += d
                continue
            done.add(fd)
            poller.unregister(fd)
            if not reply_ok(kind, got[fd]):
                bad.append("%s: answer %r" % (kind, got[fd][:80]))
    if len(done) < len(socks):
        bad.append("%s: %d of %d half-closed sessions got no end of file"
                   % (kind, len(socks) - len(done), len(socks)))
    for s in socks:
        s.close()
    return bad


def rude(port, count, reset):
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10)
             for _ in range(count)]
    for s in socks:
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--slack", type=int, default=12)
    ap.add_argument("services", nargs="+")
    a = ap.parse_args()
    svc = []
    for x in a.services:
        k, p = x.split("=")
        svc.append((k, int(p)))
    deadline = time.monotonic() + 120
    errs = []
    for k, p in svc:
        errs += sessions(p, k, 4, deadline)
    if errs:
        sys.exit("warm-up failed: " + "; ".join(errs))
    time.sleep(0.5)
    base = fd_total(a.pid)
    for k, p in svc:
        rude(p, 40, True)
        rude(p, 40, False)
        errs += sessions(p, k, 20, deadline)
    now = fd_total(a.pid)
    while now > base + a.slack and time.monotonic() < deadline:
        time.sleep(0.2)
        now = fd_total(a.pid)
    if now > base + a.slack:
        errs.append("descriptors: %d before the rude clients, %d after" % (base, now))
    for k, p in svc:
        errs += sessions(p, k, 1, deadline)
    if errs:
        sys.exit("; ".join(errs))
    print("ok: descriptors %d before, %d after" % (base, now))


main()
