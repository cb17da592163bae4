# A second connection offering a path that is being received gets "busy"
# and must leave the first connection's temporary file alone. It used to
# unlink it when the file was still empty (the "drop an empty temporary
# file" clean-up ran without holding the lock); a third connection then
# created a fresh temporary file under the same name, and the first
# connection's commit renamed that third file (unverified, partial) into
# place while ACKing "stored" for its own, verified data.
. "$(dirname "$0")/../lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "python3 is needed to craft raw frames"

mkdir -p "$T/srv"
start_recv "$T/srv"

cat >"$T/race.py" <<'PY'
import hashlib, socket, struct, subprocess, sys
port, tmp, final = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
class Peer:
    def __init__(s):
        s.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
        assert s.read()[0] == 1
    def rx(s, n):
        b = b""
        while len(b) < n:
            c = s.s.recv(n - len(b))
            if not c: raise SystemExit("unexpected EOF")
            b += c
        return b
    def read(s):
        t, _, _, n = struct.unpack(">BBHI", s.rx(8))
        return t, s.rx(n)
    def offer(s, size):
        name = b"f.bin"   # algo 2 = sha256
        s.s.sendall(frame(2, struct.pack(">QIqIBBH", size, 0o644, 0, 0, 2, 0,
                                         len(name)) + name))
        return s.read()
    def confirm(s): s.s.sendall(frame(3, struct.pack(">QBBB", 0, 0, 2, 0)))
def code(p): return struct.unpack(">H", p[:2])[0]

good = b"G" * 100000
a = Peer()
t, p = a.offer(len(good))
assert t == 3, ("A: want RESUME", t, p)
a.confirm()
# open the temporary file once, like any local reader: this breaks A's
# write lease (recv lets go of it), so B's open below gets the file
subprocess.run(["cat", tmp], stdout=subprocess.DEVNULL, check=True, timeout=10)
b = Peer()
t, p = b.offer(len(good))
assert t == 6 and code(p) == 21, ("B: want ACK busy", t, p)
b.s.close()
import os
if not os.path.exists(tmp):
    print("FAIL: the busy connection removed the temporary file of another")
# C: a third offer of the same path, stalls after a few bytes and goes
c = Peer()
t, p = c.offer(len(good))
if t == 3:
    c.confirm()
    c.s.sendall(frame(4, b"X" * 5000))
c.s.close()
a.s.sendall(frame(4, good))
a.s.sendall(frame(5, struct.pack(">BB", 2, 32) + hashlib.sha256(good).digest()))
t, p = a.read()
print("A:", t, code(p) if t in (6, 9) else -1)
with open(final, "rb") as f:
    got = f.read()
print("final:", "good" if got == good else "CORRUPT (%d bytes)" % len(got))
PY
out=$("$PY" "$T/race.py" "$RPORT" "$T/srv/.f.bin.ibxpart" "$T/srv/f.bin") ||
    fail "raw client failed: $out"
echo "$out"
case "$out" in *FAIL*) fail "temporary file of a live transfer was removed" ;; esac
grep -q "^A: 6 0$" <<<"$out" || fail "A: want ACK ok, got: $out"
grep -q "^final: good$" <<<"$out" || fail "committed file is not what A sent and verified"
pass "busy offer leaves the live temporary file alone; A commits its own verified data"

# the server is still healthy
printf 'hello\n' >"$T/h.txt"
(cd "$T" && "$IPCBOX" send h.txt "127.0.0.1:$RPORT" 2>"$T/send.log") || { cat "$T/send.log"; fail "send after the race"; }
cmp -s "$T/h.txt" "$T/srv/h.txt" || fail "h.txt differs"
stop_recv
pass "server still serves"
