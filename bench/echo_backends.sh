#!/usr/bin/env bash
# Echo request/response (64 B) on the one-loop models, epoll beside
# io_uring (and poll, select), with 50 and 1000 active connections:
# server pinned to CPU 0, load (bench/echo_rr.c) to CPU 1, each pair run
# REPS times alternating; prints requests/s and the server's CPU time
# per request (medians), and io_uring/epoll.
#   bench/echo_backends.sh [SECONDS] [REPS] [MODELS]
set -eu
cd "$(dirname "$0")/.."
B=${IPCBOX:-build/ipcbox}
L=build/echo_rr
[ -x "$B" ] && [ -x "$L" ] || { echo "run 'make' first" >&2; exit 1; }
SECS=${1:-5}
REPS=${2:-3}
MODELS=${3:-epoll io_uring}
ulimit -n 8192
trap 'kill $(jobs -p) 2>/dev/null' EXIT
wait_port() { for i in $(seq 100); do nc -z 127.0.0.1 "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

port=17100
declare -A res us
# cpu PID : the clock ticks (user + system) PID has used
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
for n in 50 1000; do
    for r in $(seq "$REPS"); do
        for m in $MODELS; do
            port=$((port + 1))
            taskset -c 0 "$B" echo --quiet --no-udp --listen 127.0.0.1:$port --model $m 2>/dev/null &
            pid=$!
            wait_port $port
            c0=$(cpu $pid)
            out=$(taskset -c 1 "$L" -n $n -s 64 -d "$SECS" 127.0.0.1:$port)
            c1=$(cpu $pid)
            kill -TERM $pid; wait $pid 2>/dev/null || true
            res[$m.$n]="${res[$m.$n]:-} $(echo "$out" | awk '{print $2}')"
            us[$m.$n]="${us[$m.$n]:-} $(echo "$out" | awk -v c=$((c1 - c0)) -v hz=$(getconf CLK_TCK) \
                '{ printf "%.2f", c / hz * 1e6 / $4 }')"
        done
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| model | 50 active: req/s | server us/req | 1000 active: req/s | server us/req |"
echo "|---|---|---|---|---|"
for m in $MODELS; do
    echo "| $m | $(echo ${res[$m.50]} | median) | $(echo ${us[$m.50]} | median) |" \
         "$(echo ${res[$m.1000]} | median) | $(echo ${us[$m.1000]} | median) |"
done
if [[ " $MODELS " == *" io_uring "* && " $MODELS " == *" epoll "* ]]; then
    for n in 50 1000; do
        awk -v a="$(echo ${res[io_uring.$n]} | median)" -v b="$(echo ${res[epoll.$n]} | median)" -v n=$n \
            'BEGIN { printf "io_uring / epoll at %d active: %.2fx requests/s", n, a / b }'
        awk -v a="$(echo ${us[io_uring.$n]} | median)" -v b="$(echo ${us[epoll.$n]} | median)" \
            'BEGIN { printf ", %.2fx server CPU per request\n", a / b }'
    done
fi
