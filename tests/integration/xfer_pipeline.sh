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
"$PY" "$PYTOOLS/xfer_pipeline_client.py" "$RPORT" || fail "client"
after=$(proc_kb "$RPID" VmRSS)
grow=$((after - before))
echo "recv RSS: $before kB -> $after kB" >&2
[ "$grow" -lt 16384 ] || fail "recv grew by $grow kB for a client that does not read"
# the server still serves others
mkrand "$T/f.bin" 1000
"$IPCBOX" send --quiet "$T/f.bin" 127.0.0.1:"$RPORT" || fail "send after the flood"
stop_recv
pass "pipelined GETs that are never read: recv grew by $grow kB"
