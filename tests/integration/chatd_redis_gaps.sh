# chatd nodes over Redis, the outage edges: two nodes on a real
# redis-server on a private loopback port. (1) While Redis is away, node
# A's publication queue (--redis-queue 3) fills: its local member gets
# every line, the other node's member only the queued ones once Redis is
# back; A logs one line when the queue fills and one with the count when
# Redis is back. (2) A nick taken on both nodes while Redis was away:
# when Redis is back exactly one node keeps it, the other renames its
# member to a Guest nick (one notice, one log line). The scenario is
# tests/tools/chat_nodes_gaps.py.
. "$(dirname "$0")/../lib.sh"
need python3 redis-server

start_redis

QUEUE=3
ADDRS=()
NPIDS=()
for n in a b; do
    extra=()
    [ $n = a ] && extra=(--redis-queue "$QUEUE")
    start_server "$T/$n.log" "$IPCBOX" chatd --listen 127.0.0.1:0 --redis "$URL" \
        --redis-ttl 2 --flood-rate 0 "${extra[@]}"
    ADDRS+=("127.0.0.1:$PORT")
    NPIDS+=("$SPID")
    wait_for "$T/$n.log" "msg=\"redis connected\" url=$URL" 10 || fail "node $n: no redis"
done

python3 "$PYTOOLS/chat_nodes_gaps.py" "${ADDRS[@]}" "$RPORT" "$T/redis.pid" "$T/redis.log" \
    "$QUEUE" >"$T/scenario.out" || { cat "$T/scenario.out"; tail -n 30 "$T"/a.log "$T"/b.log; fail "scenario"; }
cat "$T/scenario.out"

# the queue: one line when it filled (the first outage), one with the count
# when Redis was back; node B, with the default bound, dropped nothing
full=$(grep -c 'msg="redis publication queue full: cross-node lines dropped until Redis is back" queue=3 flag=--redis-queue' "$T/a.log")
[ "$full" = 1 ] || { cat "$T/a.log"; fail "node a: $full 'queue full' lines for one full outage, want 1"; }
dropped=$(sed -n 's/.*msg="cross-node lines dropped while redis was away" dropped=\([0-9]*\) .*/\1/p' "$T/a.log")
[ "$(echo "$dropped" | wc -w)" = 1 ] && [ "$dropped" -ge 7 ] ||
    { cat "$T/a.log"; fail "node a: dropped counts '$dropped', want one count of at least 7"; }
! grep -q 'queue full\|lines dropped' "$T/b.log" || fail "node b dropped publications"

# the rename: logged once, on the node whose member was renamed
on=$(sed -n 's/^renamed-on=//p' "$T/scenario.out")
log=$T/$(echo "$on" | tr AB ab).log
other=$T/$(echo "$on" | tr AB ba).log
[ "$(grep -c 'msg="nick taken on another node: renamed" nick=alice guest=Guest' "$log")" = 1 ] ||
    { cat "$log"; fail "node $on: no (or more than one) log line for the rename"; }
! grep -q 'nick taken on another node' "$other" || fail "both nodes logged a rename"

for i in 0 1; do
    kill -TERM "${NPIDS[$i]}"
    wait_exit "${NPIDS[$i]}" 15
    [ "$RC" = 0 ] || fail "node $i exit status $RC after SIGTERM"
done
no_sanitizer_report "$T/a.log"
no_sanitizer_report "$T/b.log"
pass "chatd nodes: a bounded queue while Redis is away, a nick clash after it"
