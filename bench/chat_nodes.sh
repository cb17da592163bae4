#!/bin/bash
# bench/chat_nodes.sh: `make bench-chat-nodes`. One chat room spread over
# 1, 2 and 3 ipcbox chatd nodes joined by a real redis-server (--redis), and
# one chatd without Redis as the baseline, driven by build/chatload
# (bench/chatload.c: IRC members spread evenly over the nodes' addresses,
# member i on node i % N, one publisher on node 1; every delivery checked
# once and in order, ~64-byte messages). Every server (the nodes and Redis)
# is pinned to CPU 0, chatload to CPU 1; each configuration gets a fresh
# redis-server and fresh nodes on private loopback ports, stopped at its end.
# Writes docs/bench-chat-nodes.md:
#   1. deliveries/s, closed loop (64 messages outstanding), SIZES members;
#   2. the servers' CPU per delivery in the same runs (every node and Redis
#      over the measured window, from /proc), split nodes / Redis, and a
#      scale-out estimate from it;
#   3. p50/p99 latency at RATE msgs/s with LAT_MEMBERS members, for the
#      members on the publisher's node and on the others: the added
#      latency of a cross-node delivery.
# On this 2-CPU machine every node and Redis share one CPU: more nodes
# cannot deliver more here; the numbers show the cost of the backplane.
#
# Environment: CONFIGS (default "0 1 2 3": 0 = one chatd without --redis,
# N = N nodes over Redis), SIZES (default "30 300 3000"; multiples of 3
# split evenly), DUR (seconds per run, default 5), LAT_MEMBERS (default 60),
# RATE (msgs/s for the latency table, default 1000), PORT (first port,
# default 26760), IPCBOX (default build/ipcbox), LOAD (default
# build/chatload), OUT (default docs/bench-chat-nodes.md), CHATD_ARGS.
set -u
cd "$(dirname "$0")/.." || exit 1

CHATD_ARGS=${CHATD_ARGS:---flood-rate 0 --max-per-addr 0}
CONFIGS=${CONFIGS:-0 1 2 3}
SIZES=${SIZES:-30 300 3000}
DUR=${DUR:-5}
LAT_MEMBERS=${LAT_MEMBERS:-60}
RATE=${RATE:-1000}
PORT=${PORT:-26760}
IPCBOX=${IPCBOX:-build/ipcbox}
LOAD=${LOAD:-build/chatload}
OUT=${OUT:-docs/bench-chat-nodes.md}

for c in taskset redis-server; do
    command -v "$c" >/dev/null ||
        { echo "bench-chat-nodes: $c not found (scripts/deps.sh bench)" >&2; exit 1; }
done
[ -x "$LOAD" ] || { echo "bench-chat-nodes: $LOAD missing (make build)" >&2; exit 1; }
[ -x "$IPCBOX" ] || { echo "bench-chat-nodes: $IPCBOX missing (make build)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
max=0
for m in $SIZES $LAT_MEMBERS; do [ "$m" -gt "$max" ] && max=$m; done
if [ "$(ulimit -n)" -lt $((max + 100)) ]; then
    echo "bench-chat-nodes: ulimit -n is $(ulimit -n); $max members need more" >&2
    exit 1
fi

T=$(mktemp -d /tmp/bench-chat-nodes.XXXXXX)
ALL=""   # the pids of the current configuration, stopped at its end
stop_all() {
    local p
    for p in $ALL; do kill "$p" 2>/dev/null; done
    for p in $ALL; do wait "$p" 2>/dev/null; done
    ALL=""
}
cleanup() { stop_all; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {   # port: up to 10 s
    local i
    for i in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
wait_log() {   # file pattern: up to 10 s
    local i
    for i in $(seq 200); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# start CONFIG: a fresh redis-server (CONFIG > 0) and the nodes; sets
# ADDRS (node addresses), PIDS (nodes, then redis), NODE_PIDS, REDIS_PID
start() {
    local k=$1 i port url="" pid n=$1
    ADDRS=""; PIDS=""; NODE_PIDS=""; REDIS_PID=""
    if [ "$k" -gt 0 ]; then
        port=$PORT; PORT=$((PORT + 1))
        taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --maxclients 1000 --dir "$T" >"$T/redis-$k.log" 2>&1 &
        REDIS_PID=$!; ALL="$ALL $REDIS_PID"
        wait_port "$port" || { echo "bench-chat-nodes: redis did not start" >&2; return 1; }
        url=redis://127.0.0.1:$port
    fi
    [ "$k" -eq 0 ] && n=1
    for i in $(seq "$n"); do
        port=$PORT; PORT=$((PORT + 1))
        # shellcheck disable=SC2086
        taskset -c 0 "$IPCBOX" chatd --listen "127.0.0.1:$port" $CHATD_ARGS \
            ${url:+--redis "$url"} 2>"$T/node-$k-$i.log" &
        pid=$!; ALL="$ALL $pid"
        wait_port "$port" || { echo "bench-chat-nodes: chatd did not listen on $port" >&2; return 1; }
        if [ -n "$url" ] && ! wait_log "$T/node-$k-$i.log" 'msg="redis connected"'; then
            echo "bench-chat-nodes: node $i did not reach redis" >&2
            return 1
        fi
        ADDRS="$ADDRS 127.0.0.1:$port"; NODE_PIDS="$NODE_PIDS $pid"
    done
    PIDS="$NODE_PIDS $REDIS_PID"
}

# load MEMBERS ARGS... : one chatload run on CPU 1; prints its result line
# (also kept in $T/raw), or "failed" (stderr's tail in $T/raw)
load() {
    local m=$1 line rc p pidargs=""
    shift
    for p in $PIDS; do pidargs="$pidargs --server-pid $p"; done
    # shellcheck disable=SC2086
    line=$(timeout $((DUR + 150)) taskset -c 1 "$LOAD" --proto irc -n "$m" --seconds "$DUR" \
             $pidargs "$@" $ADDRS 2>"$T/err")
    rc=$?
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        { echo "$NAME members=$m $*: FAILED (exit $rc) $line"; tail -n 5 "$T/err" | sed 's/^/    /'; } >>"$T/raw"
        echo failed
        return 1
    fi
    echo "$NAME $line" >>"$T/raw"
    echo "$line"
}
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
human() { awk -v x="$1" 'BEGIN { if (x >= 1e6) printf "%.2f M", x/1e6; else if (x >= 1e3) printf "%.1f k", x/1e3; else printf "%.0f", x }'; }
# split NS_BY_PID: "nodes redis" ns per delivery (redis = the last pid)
split() {
    awk -v s="$1" -v r="$2" 'BEGIN { n = split(s, a, ","); nodes = 0; red = 0
        for (i = 1; i <= n; i++) { split(a[i], kv, ":"); if (kv[1] == r) red += kv[2]; else nodes += kv[2] }
        printf "%d %d", nodes, red }'
}
name_of() { case $1 in 0) echo "1 node, no Redis" ;; 1) echo "1 node" ;; *) echo "$1 nodes" ;; esac; }

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$T/raw"
declare -A CELL CPU LAT SPLIT
for k in $CONFIGS; do
    NAME="nodes=$k"
    echo "bench-chat-nodes: $(name_of "$k")" >&2
    if ! start "$k"; then
        stop_all
        for m in $SIZES; do CELL[$k,$m]=failed; CPU[$k,$m]=failed; done
        LAT[$k]=failed
        continue
    fi
    for m in $SIZES; do
        echo "bench-chat-nodes: $(name_of "$k"), $m members" >&2
        r=$(load "$m")
        if [ "$r" = failed ]; then CELL[$k,$m]=failed; CPU[$k,$m]=failed; sleep 2; continue; fi
        CELL[$k,$m]="$(human "$(field deliveries_per_s "$r")") · $(field cpu_pct "$r")%"
        ns=$(field server_ns_per_delivery "$r")
        if [ -n "$REDIS_PID" ]; then
            read -r nodes red <<<"$(split "$(field server_ns_by_pid "$r")" "$REDIS_PID")"
            CPU[$k,$m]="$ns ns ($nodes + $red) · $(field server_cpu_pct "$r")%"
            SPLIT[$k,$m]="$nodes $red"
        else
            CPU[$k,$m]="$ns ns · $(field server_cpu_pct "$r")%"
        fi
        sleep 2   # the members of the run leave, on every node
    done
    echo "bench-chat-nodes: $(name_of "$k"), $LAT_MEMBERS members at $RATE msgs/s" >&2
    r=$(load "$LAT_MEMBERS" --rate "$RATE")
    if [ "$r" = failed ]; then
        LAT[$k]="| $(name_of "$k") | failed | | | | | | |"
    elif [ "$k" -ge 2 ]; then
        LAT[$k]=$(awk -v n="$(name_of "$k")" -v s="$(field msgs_per_s "$r")" \
            -v a="$(field local_p50_us "$r")" -v b="$(field local_p99_us "$r")" \
            -v c="$(field remote_p50_us "$r")" -v d="$(field remote_p99_us "$r")" \
            'BEGIN { printf "| %s | %s | %.0f | %.0f | %.0f | %.0f | **+%.0f** | **+%.0f** |", n, s, a, b, c, d, c - a, d - b }')
    else
        LAT[$k]=$(awk -v n="$(name_of "$k")" -v s="$(field msgs_per_s "$r")" \
            -v a="$(field p50_us "$r")" -v b="$(field p99_us "$r")" \
            'BEGIN { printf "| %s | %s | %.0f | %.0f | — | — | — | — |", n, s, a, b }')
    fi
    stop_all
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

T1="| members |"; sep="|---|"
for k in $CONFIGS; do T1="$T1 $(name_of "$k") |"; sep="$sep---|"; done
T1="$T1"$'\n'"$sep"; T2=$T1
for m in $SIZES; do
    row="| $m |"; rowc="| $m |"
    for k in $CONFIGS; do row="$row ${CELL[$k,$m]} |"; rowc="$rowc ${CPU[$k,$m]} |"; done
    T1="$T1"$'\n'"$row"; T2="$T2"$'\n'"$rowc"
done
T3="| configuration | msgs/s sent | same-node p50 µs | same-node p99 µs | cross-node p50 µs | cross-node p99 µs | added p50 µs | added p99 µs |"
T3="$T3"$'\n'"|---|---|---|---|---|---|---|---|"
for k in $CONFIGS; do T3="$T3"$'\n'"${LAT[$k]}"; done

# the estimate, from the largest configuration: per message, the nodes
# spend A (their per-message work, all nodes together) plus B per delivery;
# A and B fitted from its smallest and largest room; Redis spends R per
# message (from the smallest room: the most messages, and the least of the
# presence upkeep, nick and alive keys, whose cost grows with members)
EST=""
kmax=""; for k in $CONFIGS; do [ "$k" -ge 2 ] && kmax=$k; done
msmall=""; mbig=0
for m in $SIZES; do
    [ "$m" -gt "$mbig" ] && mbig=$m
    { [ -z "$msmall" ] || [ "$m" -lt "$msmall" ]; } && msmall=$m
done
if [ -n "$kmax" ] && [ "$mbig" -gt "$msmall" ] && [ -n "${SPLIT[$kmax,$msmall]:-}" ] &&
   [ -n "${SPLIT[$kmax,$mbig]:-}" ]; then
    read -r n1 r1 <<<"${SPLIT[$kmax,$msmall]}"
    read -r n2 <<<"${SPLIT[$kmax,$mbig]}"
    EST=$(awk -v k="$kmax" -v m1="$msmall" -v m2="$mbig" -v n1="$n1" -v n2="$n2" -v r1="$r1" 'BEGIN {
        p1 = n1 * m1; p2 = n2 * m2           # the nodes: ns per message
        B = (p2 - p1) / (m2 - m1); A = p1 - B * m1; R = r1 * m1
        if (B <= 0 || A <= 0 || R <= 0) { print "Not computed (the runs do not fit the model: raise DUR)."; exit }
        a = A / k                            # per node and message
        printf "Fitted on the %d-node runs (%d and %d members): per message the nodes spend\n", k, m1, m2
        printf "**%.1f µs** between them (reading the publisher or Redis, publishing, the\n", A / 1000
        printf "history), about %.1f µs on each node, plus **%.0f ns per delivery** (a line to\n", a / 1000, B
        printf "one member); Redis spends **%.1f µs per message** (a PUBLISH to %d subscribed\n", R / 1000, k
        printf "nodes, the history LPUSH and LTRIM). With every node and Redis on a core of\n"
        printf "its own, a room of M members over N nodes delivers at most about\n"
        printf "M × min(1 / (%.1f µs + M/N × %.0f ns), 1 / %.1f µs) per second:\n\n", a / 1000, B, R / 1000
        printf "| members | 1 node | 2 nodes | 3 nodes | 4 nodes | 8 nodes | bound of Redis |\n|---|---|---|---|---|---|---|\n"
        split("30 300 3000 30000", ms, " ")
        for (i = 1; i <= 4; i++) {
            M = ms[i]; rb = M * 1e9 / R
            printf "| %d |", M
            split("1 2 3 4 8", ns, " ")
            for (j = 1; j <= 5; j++) {
                N = ns[j]; d = M * 1e9 / (a + M / N * B); if (d > rb) d = rb
                printf " %.2f M |", d / 1e6
            }
            printf " %.2f M |\n", rb / 1e6
        }
        printf "\nDeliveries/s, an estimate from CPU time, not a measurement: it leaves out\n"
        printf "the load balancer, the network and the load tool, takes the cost per message\n"
        printf "of Redis as measured with %d nodes (it fans each message out to every\n", k
        printf "subscribed node, so it grows with N), and the per-message work of the\n"
        printf "nodes as spread evenly (the node of the publisher does more of it).\n"
    }')
fi

tmp=$(mktemp "$(dirname "$OUT")/.bench-chat-nodes.XXXXXX")
{
    echo "# Chat across nodes: benchmark"
    echo
    echo "Produced by \`make bench-chat-nodes\` (bench/chat_nodes.sh), started $started,"
    echo "$DUR s per run. One IRC room (#bench) whose members are spread evenly over 1, 2"
    echo "or 3 \`ipcbox chatd --redis\` nodes (member i on node i mod N) joined by one"
    echo "redis-server, and one chatd without Redis as the baseline; one publisher on"
    echo "node 1 sends 64-byte messages; build/chatload (bench/chatload.c) checks every"
    echo "delivery (each member gets each message once, in order, intact). Each"
    echo "configuration starts a fresh redis-server and fresh nodes."
    echo
    echo "**This machine has 2 CPUs: every node and Redis run pinned to CPU 0, chatload"
    echo "to CPU 1. More nodes cannot deliver more here: they share one CPU, so the"
    echo "columns show what the backplane costs, not how it scales. The CPU time per"
    echo "delivery (section 2) is what to scale out from.**"
    echo
    echo "Machine (\`lscpu | head\`, kernel $(uname -r)):"
    echo
    echo '```'
    lscpu | head -n 15
    echo '```'
    echo
    echo "Load average (1, 5, 15 min) before: $load_before; after: $load_after."
    echo "With load above the CPU count the servers and the tool share their CPUs with"
    echo "other work: compare the columns of one run, not runs with runs."
    echo
    echo "Servers: $("$IPCBOX" --version 2>&1 | head -n 1), \`chatd $CHATD_ARGS\` (epoll model);"
    echo "$(redis-server --version | head -n 1) (\`--save '' --appendonly no\`)."
    echo
    echo "## 1. Deliveries per second (closed loop, 64 messages outstanding)"
    echo
    echo "Deliveries/s (messages × members reaching members), then chatload's CPU share:"
    echo "near 100% the load tool, not the servers, set the pace; the servers' share of"
    echo "CPU 0 is in section 2. When neither is near 100%, other work on the machine set"
    echo "the pace (see the load average): the row then says little, the CPU per delivery"
    echo "still holds. failed = chatload found lost, duplicated or corrupt messages, or"
    echo "a timeout (raw lines below)."
    echo
    echo "$T1"
    echo
    echo "## 2. Servers' CPU per delivery (the same runs)"
    echo
    echo "User+system CPU time of every node and of redis-server over the measured"
    echo "window (from /proc, chatload --server-pid), divided by the deliveries:"
    echo "total ns (all nodes + Redis), then the servers' CPU share (of one CPU)."
    echo "Lower is better; this holds whoever set the pace."
    echo
    echo "$T2"
    echo
    if [ -n "$EST" ]; then
        echo "### Scale-out estimate"
        echo
        echo "$EST"
        echo
    fi
    echo "## 3. Added latency of a cross-node delivery"
    echo
    echo "$LAT_MEMBERS members, $RATE messages/s offered (a light load, the same for every"
    echo "configuration); latency = receive time minus the send time carried in the"
    echo "message. Same-node: members on node 1, with the publisher; cross-node: members"
    echo "on the other nodes, whose lines go chatd → Redis PUBLISH → chatd. Added ="
    echo "cross-node minus same-node, per percentile. The p50 difference is the"
    echo "backplane's cost (a PUBLISH, Redis's fan-out, a second chatd); on a loaded"
    echo "machine the p99 of both is mostly scheduling delay (other processes on the"
    echo "CPUs), so its difference is noise unless the load average is well below 2."
    echo
    echo "$T3"
    echo
    echo "## Raw chatload lines"
    echo
    echo '```'
    cat "$T/raw"
    echo '```'
} >"$tmp"
mv "$tmp" "$OUT"
echo "bench-chat-nodes: wrote $OUT" >&2
sed -n '/^## 1\./,/^## Raw/p' "$OUT" | sed '$d'
