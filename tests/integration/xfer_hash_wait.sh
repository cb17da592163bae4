# The protocol has no keepalive: while one side hashes a file (the
# receiver its partial or existing copy before RESUME, or the whole file
# at END; the sender its prefix before confirming) the other side hears
# nothing. Both used to apply their plain silence limit (send --timeout,
# recv --idle), so big files could never be resumed or re-sent as
# "unchanged" once hashing took longer than that (measured: re-sending an
# existing 2 GB file with sha256 failed with --timeout 1). The wait for
# such an answer now grows with the file size (XFER_SLOW_HASH_RATE).
# Sparse files keep this cheap; peers that pause 2.5 s stand in for slow
# hashing, against limits of 1 s.
. "$(dirname "$0")/../lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "python3 is needed to craft raw frames"
SIZE=200000000

# 1. send --timeout 1 against a receiver that thinks 2.5 s before RESUME
#    and before its ACK
cat >"$T/slowrecv.py" <<'END'
import socket, struct, sys, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
srv.settimeout(30)
s, _ = srv.accept(); s.settimeout(30)
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def rx(n):
    b = bytearray()
    while len(b) < n:
        c = s.recv(min(n - len(b), 1 << 20))
        if not c: raise SystemExit("EOF from send")
        b += c
    return bytes(b)
def read():
    t, _, _, n = struct.unpack(">BBHI", rx(8)); return t, rx(n) if t != 4 else n
assert read()[0] == 1
s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
t, p = read(); assert t == 2, t
size = struct.unpack(">Q", p[:8])[0]
time.sleep(2.5)
s.sendall(frame(3, struct.pack(">QBBB", 0, 0, p[28], 0)))
assert read()[0] == 3
got = 0
while True:
    t, n = read()
    if t != 4: break
    rx(n); got += n
assert t == 5 and got == size, (t, got, size)
time.sleep(2.5)
msg = b"stored"
s.sendall(frame(6, struct.pack(">HH", 0, len(msg)) + msg))
time.sleep(0.5)
END
mkdir -p "$T/src"
truncate -s "$SIZE" "$T/src/big.bin"
coproc FAKE { "$PY" "$T/slowrecv.py"; }
PIDS+=("$FAKE_PID")
read -r -t 10 FPORT <&"${FAKE[0]}" || fail "fake receiver did not start"
rc=0
(cd "$T/src" && "$IPCBOX" send --quiet --timeout 1 big.bin "127.0.0.1:$FPORT") 2>"$T/send.err" || rc=$?
[ "$rc" = 0 ] || { cat "$T/send.err"; fail "send gave up on a receiver busy hashing 200 MB (exit $rc)"; }
pass "send waits for a receiver that hashes before RESUME and ACK"

# 2. recv --idle 1 against a sender that thinks 2.5 s before confirming a
#    200 MB resume offer
mkdir -p "$T/srv"
truncate -s "$SIZE" "$T/srv/.f.bin.ibxpart"
chmod 600 "$T/srv/.f.bin.ibxpart"
start_recv "$T/srv" --idle 1
cat >"$T/slowsend.py" <<'END'
import hashlib, socket, struct, sys, time
port, have = int(sys.argv[1]), int(sys.argv[2])
tail = b"0123456789"
h = hashlib.sha256()
zero = bytes(1 << 20)
left = have
while left:
    n = min(left, len(zero)); h.update(zero[:n]); left -= n
prefix = h.copy().digest()
h.update(tail)
full = h.digest()
s = socket.create_connection(("127.0.0.1", port), timeout=30)
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def rx(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("EOF: recv closed the connection")
        b += c
    return b
def read():
    t, _, _, n = struct.unpack(">BBHI", rx(8)); return t, rx(n)
s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
assert read()[0] == 1
name = b"f.bin"
s.sendall(frame(2, struct.pack(">QIqIBBH", have + len(tail), 0o644, 0, 0, 2, 0,
                               len(name)) + name))
t, p = read()
assert t == 3, (t, p)
off, _, _, hl = struct.unpack(">QBBB", p[:11])
assert off == have and p[11:11 + hl] == prefix, "unexpected resume proposal"
time.sleep(2.5)                      # "hashing our prefix"
s.sendall(frame(3, struct.pack(">QBBB", off, 0, 2, 32) + prefix))
s.sendall(frame(4, tail))
s.sendall(frame(5, struct.pack(">BB", 2, 32) + full))
t, p = read()
print(t, struct.unpack(">H", p[:2])[0])
END
out=$("$PY" "$T/slowsend.py" "$RPORT" "$SIZE") || fail "slow sender: $out"
[ "$out" = "6 0" ] || fail "want ACK ok after a slow prefix check, got '$out'"
[ "$(fsize "$T/srv/f.bin")" = $((SIZE + 10)) ] || fail "f.bin not committed"
stop_recv
pass "recv waits for a sender that checks a 200 MB prefix"
