# chatd: attack-pass regressions (tests/tools/chatd_attack.py): IRCv3 tags,
# QUIT reasons cut on UTF-8, 407 past MAXTARGETS, long room names for plain
# users, empty first parameters, plain /part ROOM, the prompt ended before a
# slow IRC client's replies, no error replies to NOTICE, plain /me alone.
. "$(dirname "$0")/../lib.sh"
need python3

run_case() {   # CASE: one scripted case against the server of $LOG
    python3 "$PYTOOLS/chatd_attack.py" "127.0.0.1:$PORT" "$@" || { cat "$LOG"; fail "case $1"; }
}
stop() { kill -TERM "$SPID"; wait_exit "$SPID" 15; [ "$RC" = 0 ] || fail "exit status $RC"; no_sanitizer_report "$LOG"; }

LOG=$T/default.log
start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --room-len 200
run_case tags
run_case quitcut
run_case targets
run_case longroom
run_case emptyparam
run_case partname
run_case lateirc
run_case notice
run_case emptyme
stop

pass "chatd: attack-pass regressions"
