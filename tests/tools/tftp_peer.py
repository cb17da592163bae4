#!/usr/bin/env python3
"""tftp_peer.py CHECK PORT FILE [ARGS]: a scripted TFTP peer for the
packet-level checks of tftp_server.sh, against a server on 127.0.0.1:PORT
serving FILE (or, for the *-server checks, acting as a server itself:
PORT 0, ARGS = a file to write its port to).

CHECK: wrong-tid, sas, window-restart, repeat-request, gap-restart,
options, port-range (ARGS LO HI), single-port, abandon-upload,
old-server, refusing-server, small-buffer-server, small-buffer-client.
Prints what it saw; exit 1 with "FAILED: why" when the check fails.
"""
import socket, struct, sys, time

def sock(family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(5)
    return s

def rrq(name, opts=(), mode=b"octet"):
    p = b"\0\1" + name.encode() + b"\0" + mode + b"\0"
    for k, v in opts:
        p += k.encode() + b"\0" + str(v).encode() + b"\0"
    return p

def ack(n): return struct.pack("!HH", 4, n & 0xFFFF)

def op(p): return struct.unpack("!H", p[:2])[0]

def blk(p): return struct.unpack("!H", p[2:4])[0]

def oack_opts(p):
    parts = p[2:].split(b"\0")[:-1]
    return {parts[i].decode().lower(): parts[i + 1].decode() for i in range(0, len(parts), 2)}

def fail(msg):
    print("FAILED:", msg)
    sys.exit(1)

def first_block(s, tid):
    """Until a peer has acknowledged DATA, the server sends it block 1
    alone (anti-amplification), then an empty DATA 0: a gap probe that
    makes a windowed receiver acknowledge at once."""
    p, src = s.recvfrom(70000)
    if op(p) != 3 or blk(p) != 1 or src != tid:
        fail("expected DATA 1 alone, got %r" % p[:8])
    p, src = s.recvfrom(70000)
    if op(p) != 3 or blk(p) != 0 or len(p) != 4:
        fail("expected the gap probe (empty DATA 0), got %r" % p[:8])

def download(s, tid, first, want, bs=512, dup_acks=1):
    """Finish a window-1 download that began with packet `first`."""
    data, n, pkts, p = bytearray(), 1, 0, first
    while True:
        if op(p) != 3:
            fail("expected DATA, got %r" % p[:20])
        if blk(p) == (n & 0xFFFF):
            data += p[4:]
            for _ in range(dup_acks):
                s.sendto(ack(n), tid)
            if len(p) - 4 < bs:
                break
            n += 1
        p, src = s.recvfrom(70000)
        pkts += 1
        if src != tid:
            fail("packet from %r, expected %r" % (src, tid))
    if bytes(data) != want:
        fail("content differs")
    return pkts, n

check, port, fname = sys.argv[1], int(sys.argv[2]), sys.argv[3]
want = open(fname, "rb").read()
name = fname.rsplit("/", 1)[1]
srv = ("127.0.0.1", port)

if check == "wrong-tid":
    s = sock()
    s.sendto(rrq(name), srv)
    p, tid = s.recvfrom(70000)
    intruder = sock()
    intruder.sendto(ack(1), tid)
    e, src = intruder.recvfrom(1000)
    if op(e) != 5 or blk(e) != 5 or src != tid:
        fail("intruder got %r from %r" % (e, src))
    download(s, tid, p, want)
    print("wrong TID answered with ERROR 5; transfer completed intact")

elif check == "sas":
    s = sock()
    s.sendto(rrq(name), srv)
    p, tid = s.recvfrom(70000)
    pkts, blocks = download(s, tid, p, want, dup_acks=2)
    # a Sorcerer's Apprentice sender doubles every block from here on
    if pkts > blocks * 1.5:
        fail("%d DATA packets for %d blocks with every ACK doubled" % (pkts, blocks))
    print("every ACK sent twice: %d DATA packets for %d blocks" % (pkts + 1, blocks))

elif check == "window-restart":
    s = sock()
    s.sendto(rrq(name, [("windowsize", 4)]), srv)
    p, tid = s.recvfrom(70000)
    if op(p) != 6 or oack_opts(p) != {"windowsize": "4"}:
        fail("bad OACK %r" % p)
    s.sendto(ack(0), tid)
    first_block(s, tid)
    s.sendto(ack(1), tid)

    def next_blocks(above, n):
        # the next n distinct DATA blocks after `above`; on a loaded machine
        # the server's timer may resend a block already seen, or probe with
        # an empty block 0, before our ACK arrives: those are not the window
        got = []
        while len(got) < n:
            d = s.recvfrom(70000)[0]
            if op(d) == 3 and blk(d) > above and blk(d) not in got:
                got.append(blk(d))
        return got

    got = next_blocks(1, 4)
    if got != [2, 3, 4, 5]:
        fail("first whole window %r" % got)
    s.sendto(ack(2), tid)          # "block 3 was lost"
    got = next_blocks(2, 4)
    if got != [3, 4, 5, 6]:
        fail("after ACK 2 the server sent %r, expected a restart at 3" % got)
    s.sendto(b"\0\5\0\0done\0", tid)
    print("after ACK 2 in a window of 4 the server restarted at block 3")

elif check == "repeat-request":
    # a client that repeats its request (its OACK was late) gets one
    # transfer: nothing from a second port, and the first goes on
    s = sock()
    req = rrq(name, [("blksize", 1024)])
    s.sendto(req, srv)
    p, tid = s.recvfrom(70000)
    if op(p) != 6:
        fail("no OACK: %r" % p[:20])
    s.sendto(req, srv)             # the same request again
    s.settimeout(0.5)
    try:
        p, src = s.recvfrom(70000)
        if src != tid:
            fail("a second transfer answered from %r (op %d)" % (src, op(p)))
    except socket.timeout:
        pass
    s.settimeout(5)
    s.sendto(ack(0), tid)
    while True:
        p, src = s.recvfrom(70000)
        if src != tid:
            fail("a second transfer answered from %r (op %d)" % (src, op(p)))
        if op(p) == 3:
            break
    download(s, tid, p, want, bs=1024)
    print("a repeated request was taken for the running transfer")

elif check == "gap-restart":
    # A duplicate of the last ACK (the receiver's report of a gap at a
    # window's first block) restarts the window at once, and only once per
    # restart episode. The server's timer resends a window too, so what
    # proves it is when the window comes again: before the timer could
    # have fired. The server adapts its retransmission timeout to the
    # round trips it measures (RFC 6298 arithmetic, up to the negotiated
    # timeout): after a first window's sample m it is 3 m, and after one
    # more sample at least 2.5 m, whatever that sample. We hold our ACK of
    # block 1 for D seconds, so m >= D as measured here (the server sent
    # block 1 before it arrived and got our ACK after we sent it): once
    # blocks 6-9 are out, the timer cannot resend them sooner than
    # bound = min(2.5 D, timeout) after our ACK 5. A window that comes
    # again after the duplicate ACK and before that was sent because of it;
    # any packet after the second duplicate and before the bound, because
    # of that one. A machine too slow for that (a packet out of turn, the
    # window late) makes the attempt tell nothing: try again with a longer
    # D, a few times; a server that does not restart on the duplicate ACK
    # fails every attempt (its window comes only with the timer).
    # (2 KiB blocks: a block 1 above 1468 bytes is not resent by the timer
    # before the peer has acknowledged data, so ACK 1 gives the sample)
    TIMEOUT = 10

    def gap_attempt(hold):
        """One transfer: None when it proved the behaviour, else why it
        could not tell (fail() when it saw the server misbehave)."""
        s = sock()
        s.settimeout(20)
        s.sendto(rrq(name, [("windowsize", 4), ("timeout", TIMEOUT), ("blksize", 2048)]), srv)
        p, tid = s.recvfrom(70000)
        if op(p) != 6 or oack_opts(p).get("timeout") != str(TIMEOUT):
            fail("no OACK granting timeout %d: %r" % (TIMEOUT, p[:40]))
        try:
            s.sendto(ack(0), tid)
            p, _ = s.recvfrom(70000)
            r1 = time.monotonic()
            if op(p) != 3 or blk(p) != 1:
                fail("expected DATA 1 alone, got %r" % p[:8])
            p, _ = s.recvfrom(70000)
            if op(p) != 3 or blk(p) != 0 or len(p) != 4:
                fail("expected the gap probe (empty DATA 0), got %r" % p[:8])
            time.sleep(hold)
            c1 = time.monotonic()
            s.sendto(ack(1), tid)
            got = [blk(s.recvfrom(70000)[0]) for _ in range(4)]
            if got != [2, 3, 4, 5]:
                return "first whole window %r" % got
            time.sleep(hold)
            c5 = time.monotonic()
            s.sendto(ack(5), tid)
            got = [blk(s.recvfrom(70000)[0]) for _ in range(4)]
            if got != [6, 7, 8, 9]:
                return "second whole window %r (a resend: the server's timer was faster)" % got
            bound = min(2.5 * (c1 - r1), TIMEOUT)
            c5d = time.monotonic()
            s.sendto(ack(5), tid)          # "block 6 was lost"
            s.settimeout(max(c5 + bound - c5d, 0.001))
            try:
                p, _ = s.recvfrom(70000)
            except socket.timeout:
                p = None
            # (read by then: it arrived before the timer could fire)
            if p is None or time.monotonic() >= c5 + bound:
                return "no window within %.2f s of ACK 5 (the timer's earliest)" % bound
            again = [blk(p)]
            s.settimeout(20)
            again += [blk(s.recvfrom(70000)[0]) for _ in range(3)]
            if again != [6, 7, 8, 9]:
                fail("after the duplicate ACK 5 the server sent %r" % again)
            # the same again: once per episode only. The restart re-armed
            # the timer: nothing may come before c5d + bound
            c5b = time.monotonic()
            quiet = c5d + bound - c5b
            if quiet < 0.3:
                return "the restarted window came too late to watch the quiet after it"
            s.sendto(ack(5), tid)
            s.settimeout(quiet)
            try:
                p, _ = s.recvfrom(70000)
                if time.monotonic() < c5d + bound:
                    fail("a second duplicate ACK 5 made the server send block %d" % blk(p))
                return "a packet at the timer's earliest: from the timer or the duplicate?"
            except socket.timeout:
                pass
            print("a duplicate of the last ACK restarted the window at once (%.3f s, the timer's "
                  "earliest %.2f s), a second one did not (%.2f s quiet)"
                  % (c5b - c5d, bound, quiet))
            return None
        finally:
            s.sendto(b"\0\5\0\0done\0", tid)
            s.close()

    why = []
    for hold in (0.7, 1.5, 3.0):
        w = gap_attempt(hold)
        if w is None:
            break
        print("attempt with %.1f s held ACKs told nothing: %s" % (hold, w))
        why.append(w)
    else:
        fail("no attempt showed the window restarted by the duplicate ACK before the "
             "server's timer could have resent it: " + "; ".join(why))

elif check == "options":
    s = sock()
    s.sendto(rrq(name, [("blksize", 100000), ("windowsize", 70000), ("timeout", 0),
                        ("tsize", 0), ("x-unknown", 7)]), srv)
    p, tid = s.recvfrom(70000)
    o = oack_opts(p)
    if op(p) != 6 or o != {"blksize": "65464", "tsize": str(len(want))}:
        fail("OACK %r" % o)
    s.sendto(b"\0\5\0\x08no thanks\0", tid)
    s2 = sock()
    s2.sendto(rrq(name, [("blksize", 4)]), srv)
    p, tid = s2.recvfrom(70000)
    if op(p) != 3 or len(p) != 4 + 512:
        fail("blksize 4 should be ignored: %r" % p[:8])
    s2.sendto(b"\0\5\0\0done\0", tid)
    print("blksize clamped to 65464, bad windowsize/timeout and unknown options left out, tsize filled in")

elif check == "port-range":
    lo, hi = int(sys.argv[4]), int(sys.argv[5])
    ports = set()
    for _ in range(3):
        s = sock()
        s.sendto(rrq(name), srv)
        p, tid = s.recvfrom(70000)
        ports.add(tid[1])
        if not lo <= tid[1] <= hi:
            fail("transfer port %d outside %d:%d" % (tid[1], lo, hi))
        download(s, tid, p, want)
    print("transfer ports %s within %d:%d" % (sorted(ports), lo, hi))

elif check == "single-port":
    s = sock()
    s.sendto(rrq(name), srv)
    p, tid = s.recvfrom(70000)
    if tid != srv:
        fail("reply from %r, not the listening port" % (tid,))
    stranger = sock()
    stranger.sendto(ack(3), srv)
    e, _ = stranger.recvfrom(1000)
    if op(e) != 5 or blk(e) != 5:
        fail("stranger's ACK got %r" % e)
    download(s, tid, p, want)
    print("single-port: replies from the listening port; strangers get ERROR 5")

elif check == "abandon-upload":
    s = sock()
    s.sendto(b"\0\2" + b"abandoned.bin\0octet\0", srv)
    p, tid = s.recvfrom(1000)
    if op(p) != 4 or blk(p) != 0:
        fail("WRQ answer %r" % p)
    for n in (1, 2, 3):
        s.sendto(struct.pack("!HH", 3, n) + want[(n - 1) * 512:n * 512], tid)
        p, _ = s.recvfrom(1000)
    print("sent 3 blocks of an upload, then went silent")
elif check in ("old-server", "refusing-server"):
    # a server without options: answers RRQ with DATA 1 at 512 bytes; the
    # refusing one first answers a request with options with ERROR 8
    lsock = sock()
    lsock.bind(("127.0.0.1", 0))
    open(sys.argv[4], "w").write(str(lsock.getsockname()[1]))
    lsock.settimeout(20)
    while True:
        req, peer = lsock.recvfrom(2000)
        parts = req[2:].split(b"\0")
        if check == "refusing-server" and len(parts) > 3 and parts[2]:
            lsock.sendto(b"\0\5\0\x08options refused\0", peer)
            continue
        break
    s = sock()
    n = 1
    while True:
        chunk = want[(n - 1) * 512:n * 512]
        for _ in range(5):
            s.sendto(struct.pack("!HH", 3, n & 0xFFFF) + chunk, peer)
            try:
                p, src = s.recvfrom(100)
            except socket.timeout:
                continue
            if op(p) == 4 and blk(p) == (n & 0xFFFF):
                break
        else:
            fail("client stopped answering at block %d" % n)
        if len(chunk) < 512:
            break
        n += 1
    print("served %d blocks without options" % n)
elif check in ("small-buffer-server", "small-buffer-client"):
    # a receiver (of an upload to us, or of a download from the server)
    # whose socket buffer holds a few 8 KiB packets, answering like atftp:
    # ACK every 16 blocks; on any other block than the next, ACK the last
    # one in order, once. Without paced bursts the sender resends about
    # every burst (2 DATA packets per block); with them, few.
    s = sock()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 48 * 1024)
    s.settimeout(20)
    if check == "small-buffer-server":
        lsock = sock()
        lsock.bind(("127.0.0.1", 0))
        open(sys.argv[4], "w").write(str(lsock.getsockname()[1]))
        lsock.settimeout(20)
        req, peer = lsock.recvfrom(2000)
        s.sendto(b"\0\6blksize\0008192\0windowsize\00016\0", peer)
    else:
        s.sendto(rrq(name, [("blksize", 8192), ("windowsize", 16)]), srv)
        p, peer = s.recvfrom(70000)
        if op(p) != 6:
            fail("no OACK: %r" % p[:20])
        s.sendto(ack(0), peer)
    got, last_ack, wrong, pkts, data = 0, 0, False, 0, bytearray()
    while True:
        p, src = s.recvfrom(70000)
        if op(p) != 3 or src != peer:
            continue
        pkts += 1
        if blk(p) == (got + 1) & 0xFFFF:
            got += 1
            data += p[4:]
            wrong = False
            if len(p) - 4 < 8192:
                s.sendto(ack(got), peer)
                break
            if got - last_ack >= 16:
                s.sendto(ack(got), peer)
                last_ack = got
        elif not wrong:
            s.sendto(ack(got), peer)
            last_ack = got
            wrong = True
    if bytes(data) != want:
        fail("transfer differs")
    print("stored %d blocks from %d DATA packets" % (got, pkts))
    if pkts > got * 1.7:
        fail("%d DATA packets for %d blocks: the sender did not adapt its bursts" % (pkts, got))
else:
    fail("unknown check " + check)
