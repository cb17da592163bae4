# recv: a client that pipelines requests and never reads the answers
# (here up to 24 MiB of GET frames for a missing file, each refused with an ACK
# about 3x its size) cannot grow the server: input waits while more than
# about 512 KiB of answers are queued. The old code queued every answer
# (tens of MiB of RSS). RSS from /proc with a generous margin.
. "$(dirname "$0")/../lib.sh"
PY=$(python3 -c "import sys; print(sys.executable)") || skip "needs python3"
mkdir -p "$T/srv"
start_recv "$T/srv"
before=$(proc_kb "$RPID" VmRSS)
"$PY" - "$RPORT" <<'PYEOF' || fail "client"
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # read nothing, hold little
def frame(t, p): return struct.pack("!BBHI", t, 0, 0, len(p)) + p
s.sendall(frame(1, b"IBXF" + struct.pack("!HHI", 1, 0, 1 << 20)))
get = frame(7, struct.pack("!BBH", 0, 1, 4) + b"nope")
blob = get * 4096
s.setblocking(False)
sent, stuck = 0, None
while sent < 24 << 20:
    try:
        sent += s.send(blob)
        stuck = None
    except BlockingIOError:
        now = time.monotonic()
        stuck = stuck or now
        if now - stuck > 2:
            break   # the server stopped reading: that is the point
        time.sleep(0.01)
print("sent %d bytes of GET" % sent, file=sys.stderr)
time.sleep(0.5)   # let the server work through what it read
s.close()
PYEOF
after=$(proc_kb "$RPID" VmRSS)
grow=$((after - before))
echo "recv RSS: $before kB -> $after kB" >&2
[ "$grow" -lt 16384 ] || fail "recv grew by $grow kB for a client that does not read"
# the server still serves others
mkrand "$T/f.bin" 1000
"$IPCBOX" send --quiet "$T/f.bin" 127.0.0.1:"$RPORT" || fail "send after the flood"
stop_recv
pass "pipelined GETs that are never read: recv grew by $grow kB"
