#!/usr/bin/env bash
# ipcbox tftpd behaviour: confinement to ROOT, upload policy and atomic
# uploads, option negotiation, wrong-TID errors, no Sorcerer's Apprentice,
# window restart after a loss, port range, single-port mode, IPv6,
# concurrent transfers, privilege drop, usage errors. Packet-level checks
# are done by a small python3 peer.
. "$(dirname "$0")/tftp_common.inc"

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

ROOT=$WORK/root
OUT=$WORK/out
mkdir -p "$OUT" "$ROOT/sub" "$WORK/outside"
make_files "$ROOT"
head -c $((8192 * 300 + 77)) /dev/urandom >"$ROOT/win.bin"
echo secret >"$WORK/outside/secret.txt"
ln -s "$WORK/outside/secret.txt" "$ROOT/escape-abs"
ln -s ../../outside/secret.txt "$ROOT/sub/escape-rel"
ln -s ../random.bin "$ROOT/sub/inside-link"
mkfifo "$ROOT/fifo"
cp "$ROOT/random.bin" "$ROOT/sub/nested.bin"

cat >"$WORK/peer.py" <<'EOF'
# A scripted TFTP peer: python3 peer.py CHECK PORT FILE [ARGS]
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
    got = [blk(s.recvfrom(70000)[0]) for _ in range(4)]
    if got != [2, 3, 4, 5]:
        fail("first whole window %r" % got)
    s.sendto(ack(2), tid)          # "block 3 was lost"
    got = [blk(s.recvfrom(70000)[0]) for _ in range(4)]
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
    # The server adapts its retransmission timeout to the round trip it
    # measures, up to the negotiated timeout: acknowledging the first
    # window after 0.7 s makes it over 2 s (RFC 6298: 3 x the first
    # sample; the first window's sample replaces the OACK's), so a window
    # resent within 1 s was sent because of the duplicate ACK, not the
    # timer.
    s = sock()
    # (2 KiB blocks: a block 1 above 1468 bytes is not resent by the timer
    # before the peer has acknowledged data, so ACK 1 gives the sample)
    s.sendto(rrq(name, [("windowsize", 4), ("timeout", 5), ("blksize", 2048)]), srv)
    p, tid = s.recvfrom(70000)
    if op(p) != 6:
        fail("no OACK: %r" % p[:20])
    s.sendto(ack(0), tid)
    first_block(s, tid)
    time.sleep(0.7)
    s.sendto(ack(1), tid)
    got = [blk(s.recvfrom(70000)[0]) for _ in range(4)]
    time.sleep(0.7)
    s.sendto(ack(5), tid)
    got += [blk(s.recvfrom(70000)[0]) for _ in range(4)]
    if got != list(range(2, 10)):
        fail("first two whole windows %r" % got)
    s.sendto(ack(5), tid)          # "block 6 was lost"
    s.settimeout(1.0)
    try:
        again = [blk(s.recvfrom(70000)[0]) for _ in range(4)]
    except socket.timeout:
        fail("a duplicate ACK 5 (gap at block 6) did not restart the window")
    if again != [6, 7, 8, 9]:
        fail("after the duplicate ACK 5 the server sent %r" % again)
    s.sendto(ack(5), tid)          # the same again: once per episode only
    try:
        p, _ = s.recvfrom(70000)
        fail("a second duplicate ACK 5 made the server send block %d" % blk(p))
    except socket.timeout:
        pass
    s.sendto(b"\0\5\0\0done\0", tid)
    print("a duplicate of the last ACK restarted the window once, not twice")

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
EOF
peer() { timeout 60 python3 "$WORK/peer.py" "$@"; }

# expect_error CODE CMD...: our client fails and reports server error CODE
expect_error() {
    local code=$1
    shift
    timeout 60 "$@" >"$WORK/err.out" 2>&1 && { echo "unexpected success"; return 1; }
    grep -q "server error $code" "$WORK/err.out" || { cat "$WORK/err.out"; return 1; }
}

start_tftpd "$WORK/ro.log" --giveup 2 "$ROOT"
T="$IPCBOX tftp --quiet 127.0.0.1:$PORT"

# ---- confinement ------------------------------------------------------------
check "get sub/nested.bin (a path below root)" \
    bash -c "$T get sub/nested.bin $OUT/n && cmp $ROOT/sub/nested.bin $OUT/n"
check "get /random.bin (leading slash is the root, as PXE clients send)" \
    bash -c "$T get /random.bin $OUT/r && cmp $ROOT/random.bin $OUT/r"
check "get sub/inside-link (a symlink that stays inside root)" \
    bash -c "$T get sub/inside-link $OUT/l && cmp $ROOT/random.bin $OUT/l"
check "refuse ../outside/secret.txt" expect_error 2 $T get ../outside/secret.txt $OUT/x
check "refuse sub/../random.bin (no .. at all)" expect_error 2 $T get sub/../random.bin $OUT/x
check "refuse $WORK/outside/secret.txt (absolute path stays in root)" \
    expect_error 1 $T get "$WORK/outside/secret.txt" $OUT/x
check "refuse escape-abs (absolute symlink out of root)" expect_error 2 $T get escape-abs $OUT/x
check "refuse sub/escape-rel (relative symlink out of root)" expect_error 2 $T get sub/escape-rel $OUT/x
check "refuse a directory" expect_error 2 $T get sub $OUT/x
check "refuse a FIFO without blocking the server" expect_error 2 $T get fifo $OUT/x
check "missing file is error 1" expect_error 1 $T get no-such-file $OUT/x
check "no secret leaked into the output directory" test ! -e "$OUT/x"
check "read-only by default: put refused with error 2" \
    expect_error 2 $T put new.bin "$ROOT/random.bin"
check "read-only: nothing created" test ! -e "$ROOT/new.bin"

# ---- packet-level behaviour -------------------------------------------------
check "wrong TID gets ERROR 5 and the transfer goes on" peer wrong-tid "$PORT" "$ROOT/random.bin"
check "no Sorcerer's Apprentice: duplicate ACKs do not double DATA" peer sas "$PORT" "$ROOT/random.bin"
check "windowsize: restart from the last ACKed block" peer window-restart "$PORT" "$ROOT/random.bin"
check "a repeated request does not start a second transfer" peer repeat-request "$PORT" "$ROOT/random.bin"
check "windowsize: a duplicate ACK (gap at a window's first block) restarts once" peer gap-restart "$PORT" "$ROOT/random.bin"
check "get by a receiver whose buffer holds less than a window: intact, few resends" \
    peer small-buffer-client "$PORT" "$ROOT/win.bin"
check "option negotiation leaves out what is not granted" peer options "$PORT" "$ROOT/random.bin"
check "one log line per transfer with result" grep -q 'file="random.bin" .*result=ok' "$WORK/ro.log"
check "refusals are logged" grep -q 'file="../outside/secret.txt" .*result=refused reason="access violation"' "$WORK/ro.log"

# ---- concurrency: many transfers on one loop --------------------------------
pids=()
for i in $(seq 8); do
    $T --windowsize $((i * 4)) --blksize $((i * 500)) get random.bin "$OUT/c$i" & pids+=($!)
done
curl -s -o "$OUT/cc" "tftp://127.0.0.1:$PORT/random.bin" & pids+=($!)
$T get absent.bin "$OUT/ca" 2>/dev/null & absent=$!
conc_ok=1
for p in "${pids[@]}"; do wait "$p" || conc_ok=0; done
wait $absent && conc_ok=0
for i in $(seq 8); do cmp -s "$ROOT/random.bin" "$OUT/c$i" || conc_ok=0; done
cmp -s "$ROOT/random.bin" "$OUT/cc" || conc_ok=0
check "10 concurrent transfers (8 ipcbox clients, curl, one absent file) intact" test $conc_ok -eq 1

# ---- uploads ----------------------------------------------------------------
start_tftpd "$WORK/create.log" --create --giveup 1 "$ROOT"
T="$IPCBOX tftp --quiet 127.0.0.1:$PORT"
check "--create: put a new file" \
    bash -c "$T put sub/new.bin $ROOT/random.bin && cmp $ROOT/random.bin $ROOT/sub/new.bin"
check "--create: replacing is refused with error 6" \
    expect_error 6 $T put sub/new.bin "$ROOT/text.txt"
check "--create: the refused replacement left the file as it was" cmp "$ROOT/random.bin" "$ROOT/sub/new.bin"
check "put into a missing directory is refused" expect_error 1 $T put nodir/x.bin "$ROOT/text.txt"
check "put through an escaping path is refused" expect_error 2 $T put ../outside/evil "$ROOT/text.txt"
check "put over a symlink is refused" expect_error 2 $T put escape-abs "$ROOT/text.txt"
check "upload abandoned mid-way: server side" peer abandon-upload "$PORT" "$ROOT/random.bin"
check "upload abandoned mid-way: logged as failed" wait_for "$WORK/create.log" 'file="abandoned.bin".*result=failed'
check "upload abandoned mid-way: leaves no file and no temporary" \
    bash -c "test ! -e $ROOT/abandoned.bin && ! ls -a $ROOT | grep -q tftp-upload"

start_tftpd "$WORK/over.log" --allow-overwrite "$ROOT"
T="$IPCBOX tftp --quiet 127.0.0.1:$PORT"
check "--allow-overwrite: replace an existing file" \
    bash -c "$T put sub/new.bin $ROOT/text.txt && cmp $ROOT/text.txt $ROOT/sub/new.bin"
check "--allow-overwrite alone does not create" expect_error 2 $T put brand-new.bin "$ROOT/text.txt"

# --max-size takes the same sizes as recv's (k, m, g suffixes)
start_tftpd "$WORK/max.log" --create --max-size 100k "$ROOT"
T="$IPCBOX tftp --quiet 127.0.0.1:$PORT"
check "--max-size 100k: a 300001-byte upload is refused (disk full)" \
    expect_error 3 $T put big-upload.bin "$ROOT/random.bin"
check "--max-size 100k: the refused upload left nothing" test ! -e "$ROOT/big-upload.bin"
check "--max-size 100k: a small upload is stored" \
    bash -c "$T put small-upload.bin $ROOT/text.txt && cmp $ROOT/text.txt $ROOT/small-upload.bin"

# ---- port range, single port, IPv6 ------------------------------------------
lo=$((20000 + RANDOM % 20000))
start_tftpd "$WORK/range.log" --port-range $lo:$((lo + 9)) "$ROOT"
check "--port-range: transfers use ports from the range" peer port-range "$PORT" "$ROOT/random.bin" $lo $((lo + 9))

start_tftpd "$WORK/single.log" --single-port --create "$ROOT"
check "--single-port: replies from the listening port" peer single-port "$PORT" "$ROOT/random.bin"
check "--single-port: curl get" \
    bash -c "curl -sS --tftp-blksize 1468 -o $OUT/s1 tftp://127.0.0.1:$PORT/random.bin && cmp $ROOT/random.bin $OUT/s1"
check "--single-port: ipcbox get, windowsize 16" \
    bash -c "$IPCBOX tftp --quiet --windowsize 16 --blksize 8192 127.0.0.1:$PORT get random.bin $OUT/s2 && cmp $ROOT/random.bin $OUT/s2"
check "--single-port: ipcbox put, windowsize 8" \
    bash -c "$IPCBOX tftp --quiet --windowsize 8 127.0.0.1:$PORT put single.bin $ROOT/random.bin && cmp $ROOT/random.bin $ROOT/single.bin"

if python3 -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null; then
    "$IPCBOX" tftpd --listen '[::1]:0' "$ROOT" >"$WORK/v6.log" 2>&1 &
    PIDS+=($!)
    wait_for "$WORK/v6.log" "listening on" || exit 1
    P6=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\)" proto=udp.*/\1/p' "$WORK/v6.log")
    check "IPv6: ipcbox client over [::1]" \
        bash -c "$IPCBOX tftp --quiet --windowsize 8 '[::1]:$P6' get random.bin $OUT/v6a && cmp $ROOT/random.bin $OUT/v6a"
    check "IPv6: curl over [::1]" \
        bash -c "curl -sS -g -o $OUT/v6b 'tftp://[::1]:$P6/random.bin' && cmp $ROOT/random.bin $OUT/v6b"
else
    echo "note: no IPv6 loopback here; IPv6 checks not run"
fi

# ---- privilege drop ---------------------------------------------------------
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    chmod -R a+rX "$WORK"
    start_tftpd "$WORK/user.log" --user nobody "$ROOT"
    check "--user nobody: privileges dropped after binding" grep -q 'running as nobody' "$WORK/user.log"
    check "--user nobody: process runs as nobody" \
        bash -c "test \"\$(ps -o user= -p $SRV_PID)\" = nobody"
    check "--user nobody: serves files" \
        bash -c "$IPCBOX tftp --quiet 127.0.0.1:$PORT get random.bin $OUT/u && cmp $ROOT/random.bin $OUT/u"
fi

# ---- our client falls back when a server ignores or refuses options --------
for kind in old-server refusing-server; do
    rm -f "$WORK/oldport"
    peer "$kind" 0 "$ROOT/random.bin" "$WORK/oldport" >"$WORK/$kind.out" 2>&1 &
    opid=$!
    for _ in $(seq 50); do [ -s "$WORK/oldport" ] && break; sleep 0.1; done
    check "client falls back to RFC 1350 defaults ($kind)" \
        bash -c "$IPCBOX tftp --blksize 1468 --windowsize 16 127.0.0.1:$(cat "$WORK/oldport") get random.bin $OUT/$kind && cmp $ROOT/random.bin $OUT/$kind"
    wait $opid
    check "$kind peer saw a complete transfer" grep -q served "$WORK/$kind.out"
done

# ---- our client paces its windows for a receiver with a small buffer --------
head -c $((8192 * 300 + 77)) /dev/urandom >"$WORK/up2m.bin"
rm -f "$WORK/smallport"
peer small-buffer-server 0 "$WORK/up2m.bin" "$WORK/smallport" >"$WORK/small.out" 2>&1 &
spid=$!
for _ in $(seq 50); do [ -s "$WORK/smallport" ] && break; sleep 0.1; done
check "put to a receiver whose buffer holds less than a window" \
    "$IPCBOX" tftp --blksize 8192 --windowsize 16 127.0.0.1:"$(cat "$WORK/smallport")" put up2m.bin "$WORK/up2m.bin"
wait $spid
src=$?
cat "$WORK/small.out"
check "it got every byte, without a resend for every burst" test "$src" = 0

# ---- inside `ipcbox serve` -------------------------------------------------
# every other service off, so that no default port needs to be free
others=$("$IPCBOX" serve --help | awk '/^Runs every/{p=1;next} p&&/^  [a-z]/{print $1} /^$/{if(p)exit}' \
         | grep -vx tftpd | sed 's/^/--no-/')
"$IPCBOX" serve "$ROOT" --tftpd-listen 127.0.0.1:0 $others >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
if wait_for "$WORK/serve.log" 'tftpd\[[0-9]*\]: msg="listening on'; then
    SP=$(sed -n 's/.*tftpd\[[0-9]*\]: msg="listening on .*:\([0-9]*\)" proto=udp.*/\1/p' "$WORK/serve.log" | head -1)
    check "serve: tftpd runs on the shared loop, read-only" \
        bash -c "$IPCBOX tftp --quiet --windowsize 8 127.0.0.1:$SP get random.bin $OUT/sv && cmp $ROOT/random.bin $OUT/sv"
else
    check "serve: tftpd started" false
fi

# ---- --no-busy-poll: the plain sleeping path moves a windowed file whole ----
start_tftpd "$WORK/nospin.log" --no-busy-poll "$ROOT"
check "--no-busy-poll: windowed transfer intact" \
    bash -c "$IPCBOX tftp --quiet --blksize 8192 --windowsize 16 127.0.0.1:$PORT get random.bin $OUT/nospin && cmp $ROOT/random.bin $OUT/nospin"
check "--no-busy-poll: paced bursts for a small-buffer receiver (timer path)" \
    peer small-buffer-client "$PORT" "$ROOT/win.bin"

# ---- usage errors -----------------------------------------------------------
usage_is_2() { timeout 10 "$@" >/dev/null 2>&1; [ $? -eq 2 ]; }
check "usage: tftpd --port-range 9:1 exits 2" usage_is_2 "$IPCBOX" tftpd --port-range 9:1
check "usage: tftpd --max-blksize 7 exits 2" usage_is_2 "$IPCBOX" tftpd --max-blksize 7
check "usage: tftp without arguments exits 2" usage_is_2 "$IPCBOX" tftp
check "usage: tftp --blksize 65465 exits 2" usage_is_2 "$IPCBOX" tftp --blksize 65465 127.0.0.1 get x
check "usage: tftp HOST fetch exits 2" usage_is_2 "$IPCBOX" tftp 127.0.0.1 fetch x
check "help: tftpd --help exits 0" "$IPCBOX" tftpd --help

finish
