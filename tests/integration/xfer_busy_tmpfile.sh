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

out=$("$PY" "$PYTOOLS/xfer_busy_race.py" "$RPORT" "$T/srv/.f.bin.ibxpart" "$T/srv/f.bin") ||
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
