#!/usr/bin/env python3
"""tftp_hardening_peer.py CHECK PORT [ARGS]: a scripted TFTP peer for the
hardening checks of tftp_hardening.sh against a server on 127.0.0.1:PORT.

CHECK: blind, blind-spray, silent-after-ack0, stall (ARGS: source
address), busy, flood, small-errors, upload-stall, tsize-lie. Prints what
it saw; exits non-zero when the check fails.
"""
import os
import signal
import socket, struct, sys, time

def sock(addr="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.settimeout(5)
    return s

def rrq(name, opts=(), op=1):
    p = struct.pack("!H", op) + name.encode() + b"\0octet\0"
    for k, v in opts:
        p += k.encode() + b"\0" + str(v).encode() + b"\0"
    return p

def ack(n): return struct.pack("!HH", 4, n & 0xFFFF)
def op(p): return struct.unpack("!H", p[:2])[0]
def blk(p): return struct.unpack("!H", p[2:4])[0]

def fail(msg):
    print("FAILED:", msg)
    sys.exit(1)

def drain(s, quiet=1.0, limit=20.0):
    """Bytes and packets that reach s until it has been quiet for `quiet`
    seconds (at most `limit`)."""
    total, pkts, end = 0, [], time.time() + limit
    s.settimeout(quiet)
    while time.time() < end:
        try:
            p, src = s.recvfrom(70000)
        except socket.timeout:
            break
        total += len(p)
        pkts.append((op(p), blk(p) if len(p) >= 4 else -1, len(p)))
    return total, pkts

check, port = sys.argv[1], int(sys.argv[2])
srv = ("127.0.0.1", port)
BLK = 1024

if check in ("blind", "blind-spray"):
    # a forged request and a blind ACK 0 with guessed ACKs 1..64, all at
    # once, from a socket that reads only afterwards (the "victim")
    lo, hi = (int(sys.argv[3]), int(sys.argv[4])) if check == "blind-spray" else (port, port)
    v = sock()
    req = rrq("big.bin", [("blksize", BLK), ("windowsize", 64)])
    sent = 0
    # "all at once": with SERVER_PID the server is held stopped while the
    # burst is sent, so a loaded machine cannot interleave it with the
    # server's answers (which would let guessed ACKs arrive after the
    # blocks they name were sent: a blind paced-ACK attack, which a
    # server without cookies cannot tell from a real peer; docs/security.md)
    held = int(os.environ.get("SERVER_PID", "0")) if check == "blind" else 0
    if held:
        os.kill(held, signal.SIGSTOP)
    v.sendto(req, srv); sent += len(req)
    if check == "blind-spray":
        # per-transfer ports: once the transfer's port exists (a blind
        # sender can wait), spray the range, guessed ACKs first
        time.sleep(0.3)
    for tid in range(lo, hi + 1):
        for n in (range(64, -1, -1) if check == "blind-spray" else range(0, 65)):
            v.sendto(ack(n), ("127.0.0.1", tid)); sent += 4
    if held:
        os.kill(held, signal.SIGCONT)
    got, pkts = drain(v, quiet=1.5)
    bound = 3 * sent + BLK + 4
    print("sent %d bytes, received %d in %d packets (bound %d): %s" %
          (sent, got, len(pkts), bound, pkts[:6]))
    if got > bound:
        fail("amplified: %d bytes for %d" % (got, sent))

elif check == "silent-after-ack0":
    # a peer that takes the OACK, sends ACK 0 and then never again: it
    # gets one block (and a 4-byte gap probe), not windows resent; a
    # block of at most 1468 bytes is resent twice on the timer (receivers
    # such as curl wait 72 s before they repeat their ACK)
    bs = int(sys.argv[3]) if len(sys.argv) > 3 else BLK
    v = sock()
    req = rrq("big.bin", [("blksize", bs), ("windowsize", 32)])
    v.sendto(req, srv)
    p, tid = v.recvfrom(70000)
    if op(p) != 6:
        fail("no OACK: %r" % p[:20])
    v.sendto(ack(0), tid)
    sent = len(req) + 4
    got, pkts = drain(v, quiet=1.5)
    got += len(p)
    blocks = 3 if bs <= 1468 else 1
    bound = 3 * sent + blocks * (bs + 4)
    print("sent %d bytes, received %d (bound %d): %s" % (sent, got, bound, pkts[:6]))
    if got > bound:
        fail("amplified: %d bytes for %d" % (got, sent))

elif check == "stall":
    # a real peer that takes DATA 1, acknowledges it (it is verified) and
    # then stalls, holding a transfer slot: tftp_hardening_peer.py stall PORT ADDR
    v = sock(sys.argv[3])
    v.sendto(rrq("big.bin", [("blksize", BLK)]), srv)
    p, tid = v.recvfrom(70000)
    if op(p) != 6:
        fail("no OACK: %r" % p[:20])
    v.sendto(ack(0), tid)
    while True:
        p, tid = v.recvfrom(70000)
        if op(p) == 3 and blk(p) == 1:
            break
    v.sendto(ack(1), tid)
    p, _ = v.recvfrom(70000)   # DATA 2: the transfer is running
    print("holding a verified transfer from %s" % sys.argv[3])
    time.sleep(float(sys.argv[4]))

elif check == "busy":
    # a request from ADDR is refused with ERROR 0 "server busy" (or its
    # empty-message form), no larger than the request
    v = sock(sys.argv[3])
    req = rrq("big.bin")
    v.sendto(req, srv)
    p, _ = v.recvfrom(70000)
    if op(p) != 5 or blk(p) != 0:
        fail("expected ERROR 0, got %r" % p[:30])
    if len(p) > len(req):
        fail("ERROR of %d bytes for a %d-byte request" % (len(p), len(req)))
    print("refused: %r" % p)

elif check == "flood":
    # forged requests from many addresses that never answer
    n = int(sys.argv[3])
    socks = [sock("127.0.%d.%d" % (1 + i // 200, 2 + i % 200)) for i in range(30)]
    for i in range(n):
        socks[i % len(socks)].sendto(rrq("big.bin", [("blksize", BLK)]), srv)
    print("sent %d forged requests from %d addresses" % (n, len(socks)))

elif check == "small-errors":
    # a 4-byte packet from a stranger gets at most a 5-byte ERROR; a 1-byte
    # one nothing; garbage of 6 bytes an ERROR of at most 6
    v = sock()
    for pkt, most in ((ack(9), 5), (b"\x07", 0), (b"\x00\x09abcd", 6)):
        v.sendto(pkt, srv)
        # the stray ACK must be answered: wait long for it (a loaded
        # machine); the others may go unanswered, so 0.5 s (an answer
        # after that would be a bug too)
        v.settimeout(10 if pkt == ack(9) else 0.5)
        try:
            p, _ = v.recvfrom(1000)
            if len(p) > max(most, 0) or most == 0:
                fail("%r answered with %d bytes %r" % (pkt, len(p), p))
        except socket.timeout:
            if most and pkt == ack(9):
                fail("no ERROR 5 for a stray ACK")
    print("stray packets answered with ERRORs no larger than themselves")

elif check == "upload-stall":
    # WRQ and 3 blocks of an upload, then wait (the temporary exists)
    v = sock()
    v.sendto(b"\0\2held.bin\0octet\0", srv)
    p, tid = v.recvfrom(1000)
    if op(p) != 4:
        fail("WRQ answer %r" % p)
    for n in (1, 2, 3):
        v.sendto(struct.pack("!HH", 3, n) + b"x" * 512, tid)
        v.recvfrom(1000)
    print("3 blocks sent", flush=True)
    time.sleep(float(sys.argv[3]))

elif check == "tsize-lie":
    # declared tsize 1000, sends more (2000 bytes) / less (600 bytes)
    for name, size in (("more.bin", 2000), ("less.bin", 600)):
        v = sock()
        v.sendto(rrq(name, [("tsize", 1000)], op=2), srv)
        p, tid = v.recvfrom(1000)
        if op(p) != 6:
            fail("WRQ answer %r" % p)
        data = b"y" * size
        n, res = 1, None
        while True:
            chunk = data[(n - 1) * 512:n * 512]
            v.sendto(struct.pack("!HH", 3, n) + chunk, tid)
            try:
                p, _ = v.recvfrom(1000)
            except socket.timeout:
                fail("%s: no answer to block %d" % (name, n))
            if op(p) == 5:
                res = "error %d" % blk(p)
                break
            if len(chunk) < 512:
                res = "acked"
                break
            n += 1
        if res == "acked":
            fail("%s: %d bytes stored under a declared tsize of 1000" % (name, size))
        print("%s (%d bytes, tsize 1000): %s" % (name, size, res))
else:
    fail("unknown check " + check)
