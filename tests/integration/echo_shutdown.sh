# SIGTERM during 100 active echo sessions: every session is closed cleanly
# (EOF after its data, no reset), the server exits 0, no zombie is left and
# no sanitizer report appears. Then the grace period and a second signal
# end sessions that cannot finish.
. "$(dirname "$0")/../lib.sh"
ulimit -n 4096 2>/dev/null || true
for m in $(server_models iterative); do   # iterative holds one session at a time
    log=$T/$m.log
    start_server "$log" "$IPCBOX" echo --listen 127.0.0.1:0 --model $m --workers 2 --grace 10
    coproc LOAD { "$TOOLS/echoload" -n 100 -b 1000 -t 60 --hold 127.0.0.1:"$PORT"; }
    read -r -t 60 line <&"${LOAD[0]}" || fail "$m: clients never ready"
    [ "$line" = "ready 100" ] || fail "$m: clients said '$line'"
    kill -TERM "$SPID"
    read -r -t 30 line <&"${LOAD[0]}" || fail "$m: sessions not closed"
    [ "$line" = "closed 100" ] || fail "$m: clients said '$line'"
    wait "$LOAD_PID" || fail "$m: client check failed"
    wait_exit "$SPID" 20; rc=$RC
    [ "$rc" = 0 ] || { cat "$log" >&2; fail "$m: exit status $rc"; }
    no_sanitizer_report "$log"
    pass "$m: 100 sessions closed cleanly on SIGTERM"
done

# A client that never reads keeps output pending: drain cannot finish, so
# the grace period (1 s) ends it and the server still exits 0.
stuck_client() {   # sends without reading; marks $T/stuck once it is stuck
    rm -f "$T/stuck"
    # marked once the kernel's queues prove the server holds output it
    # cannot write (echo_stuck_client.py): the session cannot drain
    python3 "$PYTOOLS/echo_stuck_client.py" "$1" "$T/stuck" >/dev/null 2>&1 &
    STUCK_PID=$!
    PIDS+=("$STUCK_PID")
    local i
    for i in $(seq 600); do [ -e "$T/stuck" ] && return 0; sleep 0.05; done
    fail "the stuck client never found the server stuck"
}
start_server "$T/grace.log" "$IPCBOX" echo --listen 127.0.0.1:0 --grace 1
stuck_client "$PORT"
kill -TERM "$SPID"
wait_exit "$SPID" 10; rc=$RC
[ "$rc" = 0 ] || fail "grace: exit status $rc"
pass "grace period ends a session that cannot drain"

start_server "$T/second.log" "$IPCBOX" echo --listen 127.0.0.1:0 --grace 300 --model fork
stuck_client "$PORT"
kill -TERM "$SPID"
# the first signal handled on its own: the server says so, then waits
# (grace 300) for a session that cannot drain; an early exit gets a second
# to show (a later one would be as wrong)
wait_for "$T/second.log" 'msg="shutting down"' 20 || fail "second: the first signal was not handled"
wait_exit "$SPID" 1
[ "$RC" = timeout ] || { cat "$T/second.log" >&2; fail "second: server left before the grace period"; }
kill -INT "$SPID"
wait_exit "$SPID" 10; rc=$RC
[ "$rc" = 0 ] || fail "second signal: exit status $rc"
grep -q "second signal" "$T/second.log" || fail "second signal not logged"
pass "a second signal stops at once"
