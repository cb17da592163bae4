#!/usr/bin/env bash
# Echo under every server model, beside socat (fork per connection) as the
# classic peer. Server pinned to CPU 0, load generator to CPU 1.
#   bench/echo.sh [CONNS] [BYTES]
# Two scenarios, each timed by the same verifying client (tests/tools/echoload):
#   stream: CONNS concurrent connections each echo BYTES (every byte checked)
#   churn:  10000 fresh connections, 20 at a time, echoing 64 bytes each
#           (the accept and set-up cost)
# iterative serves one client at a time, so it gets its clients one by one.
set -eu
cd "$(dirname "$0")/.."
B=build/ipcbox
L=build/echoload
[ -x "$B" ] && [ -x "$L" ] || { echo "run 'make' first" >&2; exit 1; }
CONNS=${1:-40}
BYTES=${2:-4000000}
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
ulimit -n 8192 2>/dev/null || true

now() { date +%s.%N; }
wait_port() { for i in $(seq 100); do nc -z 127.0.0.1 "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

run_one() {   # name port conns -> prints "| name | MB/s | conns/s |"
    local name=$1 port=$2 n=$3 t0 t1 t2
    wait_port "$port"
    t0=$(now)
    taskset -c 1 "$L" -n "$n" -b "$BYTES" -r $((CONNS / n)) -t 300 127.0.0.1:"$port" >/dev/null
    t1=$(now)
    taskset -c 1 "$L" -n "$n" -b 64 -r $((10000 / n)) -t 120 127.0.0.1:"$port" >/dev/null
    t2=$(now)
    awk -v n="$name" -v c="$CONNS" -v b="$BYTES" -v a="$t0" -v m="$t1" -v e="$t2" \
        'BEGIN { printf "| %s | %.0f | %.0f |\n", n, 2*c*b/(m-a)/1e6, 10000/(e-m) }'
}

echo "## echo: $CONNS connections x $BYTES bytes (20 at a time); churn 10000 x 64 bytes"
echo
echo "$(date -u +%Y-%m-%d), $(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2);print $2}'), $(nproc) CPUs"
echo
echo "| server | stream MB/s (both directions) | churn connections/s |"
echo "|---|---|---|"
port=17000
for m in $("$B" --list-models); do
    port=$((port + 1))
    taskset -c 0 "$B" echo --quiet --listen 127.0.0.1:$port --model $m --workers 1 &
    pid=$!
    if [ $m = iterative ]; then run_one "ipcbox $m (1 at a time)" $port 1
    else run_one "ipcbox $m" $port 20; fi
    kill -TERM $pid; wait $pid 2>/dev/null || true
done
if command -v socat >/dev/null; then
    port=$((port + 1))
    taskset -c 0 socat TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,backlog=1024 EXEC:cat 2>/dev/null &
    pid=$!
    run_one "socat (fork + cat)" $port 20
    kill $pid; wait $pid 2>/dev/null || true
fi
