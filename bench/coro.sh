#!/usr/bin/env bash
# Coroutines measured (make bench-coro): the context switch, the memory of
# parked coroutines, and echo under the coroutine model against the epoll
# model (the same protocol as a state machine).
#   bench/coro.sh [CONNS] [SECONDS] [ROUNDS]
# echo: CONNS connections (default 50) each echo 64-byte requests one at a
# time for SECONDS (default 5), server pinned to CPU 0 and load generator
# (build/corobench) to CPU 1; the two models alternate ROUNDS times
# (default 3) and the best round of each is kept.
set -eu
cd "$(dirname "$0")/.."
B=build/ipcbox
C=build/corobench
[ -x "$B" ] && [ -x "$C" ] || { echo "run 'make' first" >&2; exit 1; }
CONNS=${1:-50}
SECS=${2:-5}
ROUNDS=${3:-3}
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
ulimit -n 65536 2>/dev/null || true

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime
wait_port() { for i in $(seq 100); do nc -z 127.0.0.1 "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

echo "## coroutines: $(date -u +%Y-%m-%d), $(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2);print $2}'), $(nproc) CPUs"
echo
taskset -c 1 "$C" switch 20000000
taskset -c 1 "$C" idle 10000
echo
declare -A best cpu
port=17100
for r in $(seq "$ROUNDS"); do
    for m in epoll coroutine; do
        port=$((port + 1))
        taskset -c 0 "$B" echo --quiet --no-udp --listen 127.0.0.1:$port --model $m &
        pid=$!
        wait_port $port
        c0=$(cpu_ticks $pid)
        rps=$(taskset -c 1 "$C" echo 127.0.0.1:$port -c "$CONNS" -s "$SECS" | awk '{print $(NF-1)}')
        c1=$(cpu_ticks $pid)
        kill -TERM $pid; wait $pid 2>/dev/null || true
        # server CPU per request: steadier than requests/s on a shared machine
        us=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$rps" -v s="$SECS" \
             'BEGIN { printf "%.2f", t / hz * 1e6 / (n * s) }')
        echo "round $r: $m: $rps requests/s, server CPU $us us/request"
        if [ -z "${best[$m]:-}" ] || [ "$rps" -gt "${best[$m]}" ]; then best[$m]=$rps; fi
        if [ -z "${cpu[$m]:-}" ] || awk -v a="$us" -v b="${cpu[$m]}" 'BEGIN { exit !(a < b) }'; then
            cpu[$m]=$us
        fi
    done
done
echo
echo "| model | echo 64 B, $CONNS connections: requests/s | server CPU us/request (best of $ROUNDS) |"
echo "|---|---|---|"
for m in epoll coroutine; do echo "| $m | ${best[$m]} | ${cpu[$m]} |"; done
awk -v e="${best[epoll]}" -v c="${best[coroutine]}" -v ec="${cpu[epoll]}" -v cc="${cpu[coroutine]}" \
    'BEGIN { printf "\ncoroutine / epoll: %.3f requests/s, %.3f CPU per request\n", c / e, cc / ec }'
