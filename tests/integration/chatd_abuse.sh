# chatd under abuse: flood control, the slow consumer (--sendq), limits,
# registration and ping timeouts, --password.
. "$(dirname "$0")/../lib.sh"
need python3

run_case() {   # LOG CASE [ARG] : one scripted case against the server of LOG
    python3 "$PYTOOLS/chat_cases.py" "127.0.0.1:$PORT" "$@" || { cat "$LOG"; fail "case $1"; }
}

LOG=$T/flood.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --flood-burst 5 --flood-rate 2
run_case flood
grep -q 'reason="Excess Flood"' "$LOG" || fail "no Excess Flood log line"
kill -TERM "$SPID"; wait_exit "$SPID" 15

LOG=$T/sendq.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --sendq 64k --flood-burst 0
run_case sendq
grep -q 'nick=slow .*reason="SendQ exceeded"' "$LOG" || { cat "$LOG"; fail "no SendQ log line"; }
kill -TERM "$SPID"; wait_exit "$SPID" 15

LOG=$T/limits.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --room-len 20 --nick-len 10 \
    --max-rooms 2 --topic-len 20 --max-per-addr 3 --room ''
run_case limits
grep -q 'connection refused: too many connections from your address.*flag=--max-per-addr' "$LOG" \
    || { cat "$LOG"; fail "no per-address log line"; }
kill -TERM "$SPID"; wait_exit "$SPID" 15

LOG=$T/timeouts.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --reg-timeout 2 --ping 1 --password sesame
run_case regtimeout
run_case password
run_case ping sesame
kill -TERM "$SPID"; wait_exit "$SPID" 15
[ "$RC" = 0 ] || fail "exit status $RC"
no_sanitizer_report "$LOG"
pass "chatd: flood, sendq, limits, timeouts, password"
