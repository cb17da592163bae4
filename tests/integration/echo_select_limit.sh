# The select model and FD_SETSIZE. A --max-conns past what an fd_set can
# ever hold is refused at start (exit 2, one line naming the bound). Within
# it, a connection whose descriptor still lands at 1024 or above (here:
# the server starts with 120 descriptors already open, as a process that
# inherits some may) is closed at once with a log line naming the limit
# (never passed to FD_SET, which would write out of bounds: ASan would see
# it), the others are served, and the server keeps serving. The poll
# model, the same load: all served.
. "$(dirname "$0")/../lib.sh"
need python3
ulimit -n 4096 2>/dev/null || skip "cannot raise ulimit -n to 4096"
out=$("$IPCBOX" echo --listen 127.0.0.1:0 --model select --max-conns 2000 2>&1); rc=$?
[ $rc = 2 ] || fail "select --max-conns 2000: exit $rc, want 2 ($out)"
[ "$(wc -l <<<"$out")" = 1 ] || fail "select --max-conns 2000: more than one line: $out"
grep -q 'at most 992' <<<"$out" || fail "select --max-conns 2000: no bound named: $out"
pass "select: --max-conns past FD_SETSIZE refused"
N=1100
for _ in $(seq 120); do exec {fd}</dev/null; done   # inherited by the server
start_server "$T/select.log" "$IPCBOX" echo --listen 127.0.0.1:0 --model select \
    --max-conns 992 --log-level info
out=$(timeout 90 python3 "$PYTOOLS/many_conns.py" 127.0.0.1 "$PORT" $N) || fail "client: $out"
echo "select: $out"
echoed=$(sed -n 's/.*echoed=\([0-9]*\).*/\1/p' <<<"$out")
closed=$(sed -n 's/.*closed=\([0-9]*\).*/\1/p' <<<"$out")
[ "$echoed" -gt 800 ] || fail "select: only $echoed of $N echoed"
[ "$closed" -gt 0 ] || fail "select: no connection past FD_SETSIZE was closed"
[ $((echoed + closed)) = $N ] || fail "select: $out"
grep -q 'msg="connection closed: its descriptor is past what the select loop can watch"' \
    "$T/select.log" || { cat "$T/select.log"; fail "select: no log line for the closed ones"; }
out=$(printf 'still here\n' | timeout 20 nc -N 127.0.0.1 "$PORT")
[ "$out" = "still here" ] || fail "select: not serving after the burst ('$out')"
stop_server_ok() {
    kill -TERM "$SPID"; wait_exit "$SPID" 15
    [ "$RC" = 0 ] || { cat "$1"; fail "exit status $RC after SIGTERM"; }
    no_sanitizer_report "$1"
}
stop_server_ok "$T/select.log"

start_server "$T/poll.log" "$IPCBOX" echo --listen 127.0.0.1:0 --model poll --max-conns 2000
out=$(timeout 90 python3 "$PYTOOLS/many_conns.py" 127.0.0.1 "$PORT" $N) || fail "client: $out"
echo "poll: $out"
[ "$out" = "echoed=$N closed=0 unanswered=0" ] || fail "poll: $out"
stop_server_ok "$T/poll.log"
pass "select closes what FD_SETSIZE cannot hold, poll serves it all"
