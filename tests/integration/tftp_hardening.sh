#!/usr/bin/env bash
# ipcbox tftpd under attack (issue 11): no amplification toward a peer
# that never proved it receives (a blind ACK 0 and guessed ACKs after a
# forged request, a peer silent after ACK 0; single-port and per-transfer
# ports); caps on concurrent transfers (global and per address) that a
# flood of forged requests cannot use to lock out a real client; ERROR
# answers no larger than what they answer; upload temporaries left by a
# killed server removed at start-up (but not another server's); an upload
# is never stored when it does not match its declared tsize. Packets are
# scripted by a small python3 peer; every wait is bounded.
. "$(dirname "$0")/tftp_common.inc"

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

ROOT=$WORK/root
OUT=$WORK/out
mkdir -p "$ROOT/sub" "$OUT"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$ROOT/big.bin"
head -c 300001 /dev/urandom >"$ROOT/random.bin"

cat >"$WORK/peer.py" <<'EOF'
# python3 peer.py CHECK PORT [ARGS]
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
    v.sendto(req, srv); sent += len(req)
    if check == "blind-spray":
        # per-transfer ports: once the transfer's port exists (a blind
        # sender can wait), spray the range, guessed ACKs first
        time.sleep(0.3)
    for tid in range(lo, hi + 1):
        for n in (range(64, -1, -1) if check == "blind-spray" else range(0, 65)):
            v.sendto(ack(n), ("127.0.0.1", tid)); sent += 4
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
    # then stalls, holding a transfer slot: python3 peer.py stall PORT ADDR
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
        v.settimeout(0.5)
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
EOF
peer() { timeout 60 python3 "$WORK/peer.py" "$@"; }

# ---- item 9: amplification ---------------------------------------------------
start_tftpd "$WORK/sp.log" --single-port --giveup 2 "$ROOT"
check "single-port: forged RRQ + blind ACK 0 and guessed ACKs: at most 3x + one block" \
    peer blind "$PORT"
check "single-port: the blind transfer ended at once, logged" \
    wait_for "$WORK/sp.log" 'file="big.bin".*result=failed'
check "single-port: a peer silent after ACK 0 gets block 1 at most three times, no window" \
    peer silent-after-ack0 "$PORT"
check "single-port: a peer silent after ACK 0 gets one 8 KiB block, never resent" \
    peer silent-after-ack0 "$PORT" 8192
check "single-port: a real client still gets the file at windowsize 64" \
    bash -c "$IPCBOX tftp --quiet --windowsize 64 --blksize 1468 127.0.0.1:$PORT get big.bin $OUT/sp && cmp $ROOT/big.bin $OUT/sp"
check "small ERRORs: never larger than the packet they answer" peer small-errors "$PORT"

start_tftpd "$WORK/pp.log" --port-range 47000:47015 --giveup 2 "$ROOT"
check "per-transfer ports: forged RRQ + ACKs sprayed over the port range: at most 3x + one block" \
    peer blind-spray "$PORT" 47000 47015
check "per-transfer ports: a peer silent after ACK 0 gets block 1 at most three times, no window" \
    peer silent-after-ack0 "$PORT"
check "per-transfer ports: a real client gets the file at windowsize 16" \
    bash -c "$IPCBOX tftp --quiet --windowsize 16 127.0.0.1:$PORT get big.bin $OUT/pp && cmp $ROOT/big.bin $OUT/pp"

# ---- item 10: caps -----------------------------------------------------------
start_tftpd "$WORK/cap.log" --max-transfers 4 --max-per-peer 2 --giveup 8 "$ROOT"
peer stall "$PORT" 127.0.0.5 14 >"$WORK/stall1" 2>&1 & s1=$!
peer stall "$PORT" 127.0.0.5 14 >"$WORK/stall2" 2>&1 & s2=$!
wait_for "$WORK/stall1" holding >/dev/null && wait_for "$WORK/stall2" holding >/dev/null
check "max-per-peer: a third transfer from one address (two verified) is refused" \
    peer busy "$PORT" 127.0.0.5
check "max-per-peer: refusal logged once per second with the limit" \
    grep -q 'limit reached.* limit=max-per-peer value=2 peer=127.0.0.5' "$WORK/cap.log"
check "max-per-peer: another address is served meanwhile" \
    bash -c "$IPCBOX tftp --quiet 127.0.0.1:$PORT get random.bin $OUT/c1 && cmp $ROOT/random.bin $OUT/c1"
peer stall "$PORT" 127.0.0.6 14 >"$WORK/stall3" 2>&1 & s3=$!
peer stall "$PORT" 127.0.0.7 14 >"$WORK/stall4" 2>&1 & s4=$!
wait_for "$WORK/stall3" holding >/dev/null && wait_for "$WORK/stall4" holding >/dev/null
check "max-transfers: a fifth transfer (four verified) is refused" peer busy "$PORT" 127.0.0.8
check "max-transfers: refusal logged" grep -q 'limit reached.* limit=max-transfers value=4' "$WORK/cap.log"
check "stalled transfers end after the give-up time, freeing their slots" \
    bash -c "for i in \$(seq 250); do [ \$(grep -c 'file=\"big.bin\".*timed out' $WORK/cap.log) -ge 4 ] && exit 0; sleep 0.1; done; exit 1"
check "after the give-up a real client is served again" \
    bash -c "$IPCBOX tftp --quiet 127.0.0.1:$PORT get random.bin $OUT/c2 && cmp $ROOT/random.bin $OUT/c2"
wait $s1 $s2 $s3 $s4 2>/dev/null

start_tftpd "$WORK/flood.log" --max-transfers 8 --max-per-peer 4 --giveup 5 "$ROOT"
check "a flood of 600 forged requests from 30 addresses" peer flood "$PORT" 600
check "a real client is served at once during the flood's give-up time" \
    bash -c "$IPCBOX tftp --quiet --windowsize 8 127.0.0.1:$PORT get random.bin $OUT/f && cmp $ROOT/random.bin $OUT/f"
check "the flood's transfers were evicted, logged in rate-limited lines" \
    grep -q 'limit reached.* limit=max-.* evicted=[1-9]' "$WORK/flood.log"
check "... not one line per forged request" \
    test "$(grep -c 'limit reached' "$WORK/flood.log")" -le 10
check "default caps: 256 transfers, 16 per peer (help)" \
    bash -c "$IPCBOX tftpd --help | grep -q 'max-per-peer N' && $IPCBOX tftpd --help | grep -q 'default 256'"

# ---- item 11: upload temporaries ---------------------------------------------
: >"$ROOT/.tftp-upload.0123456789ab"
: >"$ROOT/sub/.tftp-upload.abcdef012345"
: >"$ROOT/.tftp-upload.notmine"
: >"$ROOT/keep.tftp-upload.0123456789ab"
start_tftpd "$WORK/up.log" --create --giveup 30 "$ROOT"
UPORT=$PORT
UPID=$SRV_PID
check "start-up removed stale temporaries (root and below)" \
    bash -c "test ! -e $ROOT/.tftp-upload.0123456789ab && test ! -e $ROOT/sub/.tftp-upload.abcdef012345"
check "start-up kept names that only look alike" \
    bash -c "test -e $ROOT/.tftp-upload.notmine && test -e $ROOT/keep.tftp-upload.0123456789ab"
check "start-up logged the removal" grep -q 'removed 2 stale upload temporaries' "$WORK/up.log"
peer upload-stall "$UPORT" 30 >"$WORK/held" 2>&1 & held=$!
wait_for "$WORK/held" "3 blocks sent" >/dev/null
tmpcount() { find "$ROOT" -name '.tftp-upload.????????????' | wc -l; }
check "an upload in progress has its temporary" test "$(tmpcount)" -eq 1
start_tftpd "$WORK/second.log" --create "$ROOT"
check "a second server on the same root keeps the live server's temporary" test "$(tmpcount)" -eq 1
check "... and says so" grep -q 'kept 1 upload temporary' "$WORK/second.log"
kill -9 "$UPID"
wait "$UPID" 2>/dev/null
check "kill -9 mid-upload orphans the temporary" test "$(tmpcount)" -eq 1
start_tftpd "$WORK/restart.log" --create "$ROOT"
check "the restarted server removed it" test "$(tmpcount)" -eq 0
kill "$held" 2>/dev/null
wait "$held" 2>/dev/null

# ---- audit: uploads that lie about their size --------------------------------
start_tftpd "$WORK/ts.log" --create "$ROOT"
check "an upload larger or smaller than its declared tsize is not stored" peer tsize-lie "$PORT"
check "... neither file exists, no temporary left" \
    bash -c "test ! -e $ROOT/more.bin && test ! -e $ROOT/less.bin && test \$(find $ROOT -name '.tftp-upload.????????????' | wc -l) -eq 0"

finish
