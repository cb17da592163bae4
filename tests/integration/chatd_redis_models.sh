# chatd --redis under the process models (fork, prefork): the node's Redis
# connections are the core's alone. A child (a connection's process, a
# prefork worker) closes its copies when it is forked and never touches
# them again (under ASan a child that did would report a use after free
# at its exit), so when the node reconnects Redis sees only the new
# connections, not an old subscriber kept open by the children. Two
# nodes, each under one model, talk across Redis meanwhile; nicks across
# them: one held on a node is never given on the other (even asked twice
# in one write), and a case-only change reaches the other node.
. "$(dirname "$0")/../lib.sh"
need python3 redis-server redis-cli

start_redis
rcli() { timeout 10 redis-cli -p "$RPORT" "$@"; }

ADDRS=()
for m in fork prefork; do
    start_server "$T/$m.log" "$IPCBOX" chatd --listen 127.0.0.1:0 --redis "$URL" \
        --model $m --workers 2 --flood-rate 0 --grace 5
    ADDRS+=("127.0.0.1:$PORT")
    wait_for "$T/$m.log" "msg=\"redis connected\" url=$URL" 10 || fail "$m: no redis"
    eval "PID_$m=$SPID"
done

# nicks across the two nodes (tests/tools/chat_nodes_nick.py)
python3 "$PYTOOLS/chat_nodes_nick.py" "${ADDRS[0]}" "${ADDRS[1]}" \
    || { tail -n 20 "$T"/fork.log "$T"/prefork.log; fail "nicks across nodes"; }

# members on both nodes talk across Redis, and stay (fork children live)
coproc HOLD { exec python3 "$PYTOOLS/chat_hold.py" '#held' "${ADDRS[0]}" "${ADDRS[1]}" "${ADDRS[0]}"; }
PIDS+=("$HOLD_PID")
read -r -t 60 line <&"${HOLD[0]}"
[ "$line" = ready ] || { tail -n 20 "$T"/fork.log "$T"/prefork.log; fail "chat across fork and prefork nodes: '$line'"; }

# subscribers : the ids of Redis's subscribed clients, one a line
subscribers() {
    rcli CLIENT LIST TYPE pubsub | grep 'sub=[1-9]\|psub=[1-9]' | sed 's/^id=\([0-9]*\) .*/\1/'
}
old_subs=$(subscribers)
[ "$(echo "$old_subs" | grep -c .)" = 2 ] ||
    { rcli CLIENT LIST; fail "want 2 subscribers (one per node), got: $(echo $old_subs)"; }
# Redis drops the command connections: each node closes both of its own
# and connects again
rcli CLIENT KILL TYPE normal >/dev/null
for m in fork prefork; do
    wait_for "$T/$m.log" "msg=\"redis reconnected\" url=$URL" 10 || fail "$m: did not reconnect"
done
# until Redis lists exactly two subscribers and neither is an old one: the
# nodes' new connections subscribing and the old ones closing come in any
# order (a count taken between them may be 1, 3 or a passing 2); an old
# subscriber a child keeps open never goes
clean=no
for i in $(seq 100); do
    now=$(subscribers)
    if [ "$(echo "$now" | grep -c .)" = 2 ] && ! grep -qxF "$old_subs" <<<"$now"; then
        clean=yes
        break
    fi
    sleep 0.2
done
[ $clean = yes ] || { rcli CLIENT LIST; fail "subscribers after the reconnect: $(echo $now)" \
    "(before: $(echo $old_subs)): children kept the old ones"; }
pass "fork and prefork nodes: children hold no Redis connection of the core"

kill "$HOLD_PID" 2>/dev/null
for m in fork prefork; do
    eval "p=\$PID_$m"
    kill -TERM "$p"; wait_exit "$p" 20
    [ "$RC" = 0 ] || { cat "$T/$m.log"; fail "$m: exit status $RC"; }
    no_sanitizer_report "$T/$m.log"
done
pass "chatd --redis under fork and prefork: clean children, clean exit"
