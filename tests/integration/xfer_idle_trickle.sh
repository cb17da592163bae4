# recv --idle closes connections that make no progress. A peer that
# trickles a frame one byte at a time used to reset the idle clock with
# every byte and could hold a connection (and a descriptor) forever; with
# enough of them no other client gets in (there is no connection cap by
# default). Now only whole headers/frames, DATA payload and our output
# taken by the peer count as activity.
. "$(dirname "$0")/../lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "python3 is needed to craft raw frames"

mkdir -p "$T/srv"
start_recv "$T/srv" --idle 2

# one byte every 0.4 s of a HELLO and an OFFER header (28 bytes, 11 s,
# five times the idle limit); report how far it got
cat >"$T/slow.py" <<'END'
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
msg = struct.pack(">BBHI", 1, 0, 0, 12) + b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)
msg += struct.pack(">BBHI", 2, 0, 0, 100)
s.settimeout(0.4)
for i, b in enumerate(msg):
    try:
        s.sendall(bytes([b]))
        while True:              # drain what the server says; EOF = closed
            if not s.recv(4096):
                print("closed", i); sys.exit(0)
    except socket.timeout:
        pass
    except OSError:
        print("closed", i); sys.exit(0)
print("open", len(msg))
END
out=$("$PY" "$T/slow.py" "$RPORT") || fail "slow client failed: $out"
case "$out" in
    closed*) ;;
    *) fail "a peer trickling one byte per 0.4 s outlived --idle 2: $out" ;;
esac
grep -q "idle for" "$RLOG" || fail "no idle log line"
pass "a trickling peer is closed by the idle timeout ($out)"

# a peer that sends whole small DATA frames every 0.3 s for 4.5 s (longer
# than --idle 2 in total, never silent for long) is not cut
cat >"$T/steady.py" <<'END'
import hashlib, socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def frame(t, p): return struct.pack(">BBHI", t, 0, 0, len(p)) + p
def rx(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: raise SystemExit("closed by the server")
        b += c
    return b
def read():
    t, _, _, n = struct.unpack(">BBHI", rx(8)); return t, rx(n)
s.sendall(frame(1, b"IBXF" + struct.pack(">HHI", 1, 0, 1 << 20)))
assert read()[0] == 1
body = bytes(range(150))
s.sendall(frame(2, struct.pack(">QIqIBBH", len(body), 0o644, 0, 0, 2, 0, 6) + b"steady"))
assert read()[0] == 3
s.sendall(frame(3, struct.pack(">QBBB", 0, 0, 2, 0)))
for i in range(15):
    s.sendall(frame(4, body[i * 10:(i + 1) * 10]))
    time.sleep(0.3)
s.sendall(frame(5, struct.pack(">BB", 2, 32) + hashlib.sha256(body).digest()))
t, p = read()
print(t, struct.unpack(">H", p[:2])[0])
END
out=$("$PY" "$T/steady.py" "$RPORT") || fail "steady client: $out"
[ "$out" = "6 0" ] || fail "steady sender: want ACK ok, got '$out'"
[ "$(fsize "$T/srv/steady")" = 150 ] || fail "steady: file not stored"
stop_recv
pass "a slow but steady sender is not cut"
