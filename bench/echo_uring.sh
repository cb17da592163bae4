#!/usr/bin/env bash
# io_uring for readiness or for completions? Echo request/response (64 B)
# with 50 and 1000 active connections on `ipcbox echo --model epoll|io_uring`
# (io_uring as readiness: POLL_ADD, then recv/send) beside the minimal
# servers of bench/rr_servers.c (epoll readiness; io_uring completions:
# RECV/SEND through the ring, and variants). Server pinned to CPU 0, load
# (bench/echo_rr.c) to CPU 1; each round runs every server once in turn
# (A B A B), REPS rounds; prints the medians of requests/s and of server
# CPU time per request (/proc/PID/stat ticks), and both over rr-epoll's
# (the median of the rounds' ratios: each pair ran in the same round).
#   bench/echo_uring.sh [SECONDS] [REPS] [SERVERS]
#   bench/echo_uring.sh --strace [SECONDS] [SERVERS]   (SECONDS: 2)
# The second form runs each server under `strace -c -f` with 1000
# connections and prints its system calls per request (the whole life of
# the server: the 1000 accepts and closes are in the counts).
set -eu
cd "$(dirname "$0")/.."
B=${IPCBOX:-build/ipcbox}
R=build/rr_servers
L=build/echo_rr
[ -x "$B" ] && [ -x "$R" ] && [ -x "$L" ] || { echo "run 'make' first" >&2; exit 1; }
STRACE=
[ "${1:-}" = --strace ] && { STRACE=1; shift; }
if [ -n "$STRACE" ]; then SECS=${1:-2}; SERVERS=${2:-}; else SECS=${1:-5}; REPS=${2:-3}; SERVERS=${3:-}; fi
SERVERS=${SERVERS:-ipcbox-epoll ipcbox-io_uring rr-epoll rr-uring rr-uring-pf rr-uring-fixed rr-uring-ms rr-uring-ms-fixed rr-uring-nodefer}
ulimit -n 8192
trap 'kill $(jobs -p) 2>/dev/null' EXIT
wait_port() { for i in $(seq 100); do nc -z 127.0.0.1 "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# cmd SERVER PORT : the server's command line
cmd() {
    case $1 in
    ipcbox-*) echo "$B echo --quiet --no-udp --listen 127.0.0.1:$2 --model ${1#ipcbox-}" ;;
    rr-*) echo "$R ${1#rr-} 127.0.0.1:$2" ;;
    *) echo "unknown server $1" >&2; exit 2 ;;
    esac
}
port=17300

if [ -n "$STRACE" ]; then
    tmp=$(mktemp -d)
    echo "| server | requests | system calls / request |"
    echo "|---|---:|---|"
    for s in $SERVERS; do
        port=$((port + 1))
        taskset -c 0 strace -c -f -o "$tmp/$s" $(cmd $s $port) 2>/dev/null &
        spid=$!
        wait_port $port
        out=$(taskset -c 1 "$L" -n 1000 -s 64 -d "$SECS" 127.0.0.1:$port)
        kill -TERM "$(pgrep -P $spid)"; wait $spid 2>/dev/null || true
        n=$(echo "$out" | awk '{print $4}')
        # strace -c: "% time  seconds  usecs/call  calls  [errors]  syscall"
        per=$(awk -v n="$n" '$1 ~ /^[0-9.]+$/ && $NF != "total" && $4 / n >= 0.001 {
                  printf "%s %.3f, ", $NF, $4 / n }
              $NF == "total" { t = $4 } END { printf "total %.3f", t / n }' "$tmp/$s")
        echo "| $s | $n | $per |"
    done
    rm -rf "$tmp"
    exit 0
fi

declare -A res us
# cpu PID : the clock ticks (user + system) PID has used
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
for n in 50 1000; do
    for r in $(seq "$REPS"); do
        for s in $SERVERS; do
            port=$((port + 1))
            taskset -c 0 $(cmd $s $port) 2>/dev/null &
            pid=$!
            wait_port $port
            c0=$(cpu $pid)
            out=$(taskset -c 1 "$L" -n $n -s 64 -d "$SECS" 127.0.0.1:$port)
            c1=$(cpu $pid)
            kill -TERM $pid; wait $pid 2>/dev/null || true
            res[$s.$n]="${res[$s.$n]:-} $(echo "$out" | awk '{print $2}')"
            us[$s.$n]="${us[$s.$n]:-} $(echo "$out" | awk -v c=$((c1 - c0)) -v hz=$(getconf CLK_TCK) \
                '{ printf "%.2f", c / hz * 1e6 / $4 }')"
        done
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# ratio "A1 A2 .." "B1 B2 ..": the median of the rounds' A/B (paired: the
# two ran one after the other in the same round)
ratio() { paste <(echo $1 | tr ' ' '\n') <(echo $2 | tr ' ' '\n') | awk '{ print $1 / $2 }' |
          median | awk '{ printf "%.2fx", $1 }'; }
echo "| server | 50: req/s | µs/req | 1000: req/s | µs/req | req/s ÷ rr-epoll (50, 1000) | µs/req ÷ rr-epoll (50, 1000) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for s in $SERVERS; do
    line="| $s"
    for n in 50 1000; do
        line="$line | $(echo ${res[$s.$n]} | median) | $(echo ${us[$s.$n]} | median)"
    done
    if [[ " $SERVERS " == *" rr-epoll "* ]]; then
        line="$line | $(ratio "${res[$s.50]}" "${res[rr-epoll.50]}"), $(ratio "${res[$s.1000]}" "${res[rr-epoll.1000]}")"
        line="$line | $(ratio "${us[$s.50]}" "${us[rr-epoll.50]}"), $(ratio "${us[$s.1000]}" "${us[rr-epoll.1000]}")"
    fi
    echo "$line |"
done
