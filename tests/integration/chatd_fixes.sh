# chatd: regressions of the review-13 findings (tests/tools/chatd_fixes.py):
# registration deadline, MODE amplification and readers under bursts,
# CR in plain text, the line limit for plain lines, room/history bounds,
# big-room WHO/NAMES, termtext cleaning.
. "$(dirname "$0")/../lib.sh"
need python3

run_case() {   # CASE [ARG]: one scripted case against the server of $LOG
    python3 "$PYTOOLS/chatd_fixes.py" "127.0.0.1:$PORT" "$@" || { cat "$LOG"; fail "case $1"; }
}
stop() { kill -TERM "$SPID"; wait_exit "$SPID" 15; [ "$RC" = 0 ] || fail "exit status $RC"; no_sanitizer_report "$LOG"; }

LOG=$T/default.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0
run_case slowreg
run_case mode
run_case cr
run_case longline
run_case termtext
run_case dups
stop

LOG=$T/burst.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --sendq 8k --flood-burst 0
run_case burst
stop

LOG=$T/bounds.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --room '' --max-rooms-total 3 \
    --history 5 --history-bytes 2000
run_case bounds
grep -q 'room refused: too many rooms on this server.*flag=--max-rooms-total' "$LOG" \
    || { cat "$LOG"; fail "no --max-rooms-total log line"; }
grep -q 'history bytes limit reached.*flag=--history-bytes' "$LOG" \
    || { cat "$LOG"; fail "no --history-bytes log line"; }
stop

LOG=$T/pre.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --flood-burst 3 --flood-rate 1 \
    --password sesame --room-len 200 --topic-len 390
run_case prereg
run_case squat
run_case long512
stop

LOG=$T/bulk.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --sendq-bulk 64k --max-per-addr 0 \
    --flood-burst 0 --room ''
run_case bulkcap kill
grep -q 'msg="client disconnected" nick=asker .*reason="SendQ exceeded"' "$LOG" \
    || { cat "$LOG"; fail "no SendQ log line for the asker"; }
stop

LOG=$T/big.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --sendq 4k --max-per-addr 0 \
    --flood-burst 0 --room ''
run_case bigroom
stop

LOG=$T/bulk64m.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --sendq-bulk 64m --max-per-addr 0 \
    --flood-burst 0 --room ''
run_case bulkcap stay
stop

pass "chatd: review-13 regressions"
