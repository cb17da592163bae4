#!/bin/bash
# bench/models_paired.sh: the flat-or-O(N) question of `make bench-models`,
# asked so that a noisy machine cannot answer it. bench/models.sh measures
# a model with no idle connection, then later with N: when other work on
# the machine changes in between, the ratio moves with it. Here two
# servers of the same model run side by side, A with no idle connection
# and B holding N, and ROUNDS rounds each measure both (the same load:
# ACTIVE keep-alive connections, one request outstanding each, DUR s), A
# first in odd rounds and B first in even ones, so that a drift of the
# machine's load does not always favour the same side; each round gives
# the ratio B / A of the server CPU per request and of req/s, and the
# median of the rounds' ratios is reported with their range. B must still
# hold its N idle connections at the end (else the row says how many it
# lost). Both servers are pinned to CPU 0 (only one is under load at a
# time), the load tool to CPU 1. Prints a markdown section on stdout.
#
# Environment: MODELS (default "epoll io_uring poll select coroutine"),
# PROTOS (default "echo http"), N (default 10000; select: 900, below its
# FD_SETSIZE bound), ROUNDS (default 5), DUR (default 3), ACTIVE (default
# 50), PORT (first port, default 29400), IPCBOX, LOAD.
set -u
cd "$(dirname "$0")/.." || exit 1
MODELS=${MODELS:-epoll io_uring poll select coroutine}
PROTOS=${PROTOS:-echo http}
N=${N:-10000}
ROUNDS=${ROUNDS:-5}
DUR=${DUR:-3}
ACTIVE=${ACTIVE:-50}
PORT=${PORT:-29400}
IPCBOX=${IPCBOX:-build/ipcbox}
LOAD=${LOAD:-build/modelload}
[ -x "$IPCBOX" ] && [ -x "$LOAD" ] || { echo "models_paired: make build first" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null
T=$(mktemp -d /tmp/bench-paired.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/www"
head -c 768 /dev/urandom | base64 -w0 | head -c 1024 >"$T/www/1k.html"
chmod 644 "$T/www/1k.html"
PIDS=""
cleanup() { [ -n "$PIDS" ] && kill $PIDS 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# serve MODEL PROTO PORT: a server on CPU 0; prints its pid, fails if it
# does not listen within 10 s
serve() {
    local common=(--log-level error --grace 1 --listen "127.0.0.1:$3" --model "$1"
                  --workers 1 --max-conns $((N + ACTIVE + 64)))
    [ "$1" = select ] && common[-1]=992
    if [ "$2" = echo ]; then
        taskset -c 0 "$IPCBOX" echo --no-udp --idle 600 "${common[@]}" >/dev/null 2>>"$T/server.log" &
    else
        taskset -c 0 "$IPCBOX" httpd --access-log off --idle-timeout 600 "${common[@]}" \
            "$T/www" >/dev/null 2>>"$T/server.log" &
    fi
    local pid=$!
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null; then echo "$pid"; return 0; fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    kill "$pid"
    return 1
}

field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
# run PROTO PID PORT: one measured run; prints "REQ_PER_S US_PER_REQ"
run() {
    local size=(--size 64) line
    [ "$1" = http ] && size=(--size 1024 --path /1k.html)
    line=$(timeout $((DUR + 60)) taskset -c 1 "$LOAD" run --proto "$1" "${size[@]}" \
               -c "$ACTIVE" --seconds "$DUR" --warmup 0.5 --server-pid "$2" \
               "127.0.0.1:$3" 2>>"$T/load.err") || return 1
    echo "$(field req_per_s "$line") $(field server_us_per_req "$line")"
}
# median and range of the numbers on stdin: "MEDIAN (MIN-MAX)"
stats() {
    sort -g | awk '{v[NR] = $1} END {
        if (!NR) { print "—"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.2f (%.2f–%.2f)", m, v[1], v[NR] }'
}

echo "## Paired: N idle against none, side by side"
echo
echo "\`bench/models_paired.sh\` (ROUNDS=$ROUNDS, DUR=$DUR s, $ACTIVE active connections),"
echo "started $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Two servers of each model run at once, A with no idle connection and B"
echo "holding N; every round measures both (A first in odd rounds, B first in"
echo "even ones) and gives the ratios B / A."
echo "Medians of the rounds' ratios, their range in brackets: a change in the"
echo "machine's other load hits both halves of a round alike."
echo
echo "| model | protocol | N idle (B) | server CPU per request, B / A | req/s, B / A | A: req/s · µs per request (median) |"
echo "|---|---|---:|---:|---:|---:|"
port=$PORT
SRC=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9
for p in $PROTOS; do
    for m in $MODELS; do
        n=$N
        [ "$m" = select ] && n=900
        port=$((port + 2))
        echo "models_paired: $p, $m" >&2
        a=$(serve "$m" "$p" "$port") || { echo "| $m | $p | — | refused: $(tail -n 1 "$T/server.log" | sed -n 's/.*msg="\([^"]*\)".*/\1/p') | | |"; continue; }
        b=$(serve "$m" "$p" $((port + 1))) || { kill "$a"; continue; }
        PIDS="$a $b"
        size=(--size 64)
        [ "$p" = http ] && size=(--size 1024 --path /1k.html)
        coproc IDLER { exec taskset -c 1 "$LOAD" idle --proto "$p" "${size[@]}" --src "$SRC" \
                           --stall 5 "127.0.0.1:$((port + 1))" 2>>"$T/load.err"; }
        in=${IDLER[1]}
        out=${IDLER[0]}
        echo "$n" >&"$in"
        reply=""
        read -r -t 300 reply <&"$out"
        if [[ $reply != ready* ]]; then
            echo "| $m | $p | $n | idle ramp failed: ${reply:-no answer} | | |"
        else
            : >"$T/cpu"; : >"$T/rps"; : >"$T/a"
            for r in $(seq "$ROUNDS"); do
                if [ $((r % 2)) = 1 ]; then
                    ra=$(run "$p" "$a" "$port") || continue
                    rb=$(run "$p" "$b" $((port + 1))) || continue
                else
                    rb=$(run "$p" "$b" $((port + 1))) || continue
                    ra=$(run "$p" "$a" "$port") || continue
                fi
                read -r qa ca <<<"$ra"
                read -r qb cb <<<"$rb"
                awk -v x="$cb" -v y="$ca" 'BEGIN { if (y > 0) print x / y }' >>"$T/cpu"
                awk -v x="$qb" -v y="$qa" 'BEGIN { if (y > 0) print x / y }' >>"$T/rps"
                echo "$qa $ca" >>"$T/a"
            done
            aq=$(cut -d' ' -f1 "$T/a" | stats | cut -d' ' -f1)
            ac=$(cut -d' ' -f2 "$T/a" | stats | cut -d' ' -f1)
            # B held its idle connections throughout?
            echo check >&"$in"
            held=""
            read -r -t 30 held <&"$out"
            lost=$(field lost "${held:-lost=?}")
            nb=$n
            [ "$lost" = 0 ] || nb="$n (lost ${lost} during the rounds)"
            echo "| $m | $p | $nb | $(stats <"$T/cpu") | $(stats <"$T/rps") | ${aq%.*} · $ac |"
        fi
        exec {in}>&- {out}<&-
        kill $PIDS 2>/dev/null
        wait 2>/dev/null
        PIDS=""
    done
done
