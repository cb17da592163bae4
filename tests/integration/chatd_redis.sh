# chatd nodes over Redis: a real redis-server on a private loopback port
# and three chatd nodes (--redis, a short --redis-ttl); members on
# different nodes talk in one room (IRC and plain), NAMES lists every
# node's members, a nick of one node is refused on another, Redis is
# killed and started again mid-conversation (local delivery goes on, one
# notice each way, the queued line crosses, nothing twice), and a node
# killed -9 loses its members on the others within the TTL bound. The
# scenario is tests/tools/chat_nodes.py.
. "$(dirname "$0")/../lib.sh"
need python3 redis-server

start_redis

ADDRS=()
NPIDS=()
for n in a b c; do
    start_server "$T/$n.log" "$IPCBOX" chatd --listen 127.0.0.1:0 --redis "$URL" \
        --redis-ttl 2 --flood-rate 0
    ADDRS+=("127.0.0.1:$PORT")
    NPIDS+=("$SPID")
    wait_for "$T/$n.log" "msg=\"redis connected\" url=$URL" 10 || fail "node $n: no redis"
done

python3 "$PYTOOLS/chat_nodes.py" "${ADDRS[@]}" "${NPIDS[2]}" "$RPORT" "$T/redis.pid" \
    "$T/redis.log" chat,nick,history,outage,death || { tail -n 30 "$T"/a.log "$T"/b.log "$T"/c.log; fail "scenario"; }

for n in a b; do
    grep -q "warn chatd\[[0-9]*\]: msg=\"redis connection lost: .*url=$URL" "$T/$n.log" \
        || fail "node $n: no log line for the lost connection"
    grep -q "msg=\"redis reconnected\" url=$URL" "$T/$n.log" \
        || fail "node $n: no log line for the reconnection"
    grep -q 'msg="chat node lost: its members quit"' "$T/$n.log" \
        || fail "node $n: no log line for the lost node"
done
for i in 0 1; do
    kill -TERM "${NPIDS[$i]}"
    wait_exit "${NPIDS[$i]}" 15
    [ "$RC" = 0 ] || fail "node $i exit status $RC after SIGTERM"
done
no_sanitizer_report "$T/a.log"
no_sanitizer_report "$T/b.log"
pass "chatd: three nodes over Redis, through a Redis restart and a node kill"
