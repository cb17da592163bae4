# chatd under every server model but iterative (refused: chatd_serve.sh):
# the same chat cases (plain, IRC, mixed rooms, nicks, history, MOTD, the
# slow consumer, the per-address limit), a room of plain and IRC members
# spread over the workers, and under the process models the death of a
# worker process (its members quit, the others go on). Scripted peers:
# tests/tools/chat_cases.py and chat_spread.py.
. "$(dirname "$0")/../lib.sh"
need python3

echo "hello from the motd" >"$T/motd"
for m in $(server_models iterative coroutine); do   # coroutine: no coroutine handler
    LOG=$T/$m.log
    workers=()
    case $m in threadpool | reuseport | prefork) workers=(--workers 2) ;; esac
    start_server "$LOG" "$IPCBOX" chatd --listen 127.0.0.1:0 --model "$m" "${workers[@]}" \
        --history 4 --motd "$T/motd" --sendq 64k --flood-burst 0 --max-per-addr 40 \
        --log-level debug
    A=127.0.0.1:$PORT
    run() {
        python3 "$PYTOOLS/$1" "$A" "${@:2}" || { tail -50 "$LOG"; fail "model $m: case $2"; }
    }
    run chat_spread.py peraddr 40
    run chat_spread.py spread 16 "$SPID"
    if [ "$m" = epoll ]; then   # the rest: chatd_basic.sh, chatd_abuse.sh
        kill -TERM "$SPID"
        wait_exit "$SPID" 30
        [ "$RC" = 0 ] || { tail -50 "$LOG"; fail "model $m: exit status $RC after SIGTERM"; }
        pass "chatd under the $m model: a room of 16"
        continue
    fi
    for c in plain mixed irc nick history sendq; do
        run chat_cases.py $c
    done
    run chat_cases.py motd "hello from the motd"
    grep -q 'msg="client disconnected" nick=bob peer=127.0.0.1 dialect=plain reason="gone"' "$LOG" \
        || { tail -50 "$LOG"; fail "model $m: no disconnect log line"; }
    grep -q 'nick=slow .*reason="SendQ exceeded"' "$LOG" \
        || { tail -50 "$LOG"; fail "model $m: no SendQ log line"; }
    echo "model $m: $(grep -c 'joined the chat core' "$LOG") worker(s) joined the core"
    case $m in
    fork | prefork)
        run chat_spread.py kill 6 "$SPID"
        grep -q 'reason="worker died"' "$LOG" || { tail -50 "$LOG"; fail "model $m: no worker died line"; }
        ;;
    esac
    kill -TERM "$SPID"
    wait_exit "$SPID" 30
    [ "$RC" = 0 ] || { tail -50 "$LOG"; fail "model $m: exit status $RC after SIGTERM"; }
    no_sanitizer_report "$LOG"
    pass "chatd under the $m model: the chat cases, a spread room$(
        case $m in fork | prefork) echo ", a killed worker" ;; esac)"
done
