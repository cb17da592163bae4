#!/usr/bin/env bash
# make bench-transfer: one file (1 GiB by default) over loopback, same run,
# side by side:
#   ipcbox send -> ipcbox recv   (XXH3-128 and SHA-256 verified, fsynced)
#   nc -> nc                     (netcat-openbsd, no integrity check)
#   socat -> socat               (-b 256 KiB, no integrity check)
#   iperf3                       (memory to memory: the TCP loopback ceiling)
# The receiver runs on CPU 1 and the sender on CPU 0 (taskset). Files live
# on tmpfs (/dev/shm) so that the disk does not decide the result. Every
# tool runs ROUNDS times, interleaved, after one warm-up round; the table
# shows the median and the best MB/s (1 MB = 10^6 bytes; the machine may
# be shared, and the best run is the least disturbed one), ratios to nc
# and to iperf3, and the median CPU seconds (user + sys) of each side.
#
# Env: BUILD (build dir, default build), SIZE_MB (default 1024), ROUNDS
# (default 5), BENCH_DIR (default /dev/shm).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
IPCBOX=${IPCBOX:-$BUILD/ipcbox}
SIZE_MB=${SIZE_MB:-1024}
ROUNDS=${ROUNDS:-5}
BYTES=$((SIZE_MB * 1024 * 1024))

for t in nc socat iperf3 taskset ss; do
    command -v $t >/dev/null || { echo "bench-transfer: $t is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
[ -x /usr/bin/time ] && TIME=/usr/bin/time || TIME=
[ -x "$IPCBOX" ] || { echo "bench-transfer: build first ($IPCBOX missing)" >&2; exit 1; }
if [ "$(nproc)" -ge 2 ]; then SND_CPU="taskset -c 0"; RCV_CPU="taskset -c 1"; else SND_CPU=; RCV_CPU=; fi

W=$(mktemp -d "${BENCH_DIR:-/dev/shm}/ipcbox-bench.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/dst"
echo "bench-transfer: creating a ${SIZE_MB} MiB random file on $(df --output=fstype "$W" | tail -1)" >&2
head -c $BYTES /dev/urandom >"$W/src.bin"

now() { date +%s.%N; }
# a port nothing uses (any state, TIME_WAIT included)
port() {
    local p i
    for i in $(seq 100); do
        p=$((20000 + RANDOM % 30000))
        ss -Htan | grep -q ":$p " || { echo $p; return 0; }
    done
    echo "bench-transfer: no free port found" >&2
    exit 1
}
# wait (bounded) until something listens on 127.0.0.1:$1
wait_port() {
    local i
    for i in $(seq 400); do
        ss -Hltn | grep -q ":$1 " && return 0
        sleep 0.025
    done
    echo "bench-transfer: nothing listens on port $1" >&2
    exit 1
}
# timed CMD... : run CMD, CPU seconds (user+sys) into file $TF
timed() {
    local tf=$1; shift
    if [ -n "$TIME" ]; then "$TIME" -f "%U %S" -o "$tf" "$@"; else "$@"; echo "0 0" >"$tf"; fi
}
cpu_of() { awk '{printf "%.2f", $1 + $2}' "$1"; }

# Each run_* prints "SECONDS SENDER_CPU RECEIVER_CPU" and leaves the
# received file (if any) at $W/dst/out.
run_ipcbox() {   # ALGO
    local p; p=$(port)
    rm -rf "$W/dst" && mkdir -p "$W/dst"
    timed "$W/rcpu" $RCV_CPU "$IPCBOX" recv --dir "$W/dst" --listen 127.0.0.1:$p --once 2>"$W/recv.log" &
    local r=$!; PIDS+=($r)
    wait_port $p
    local t0; t0=$(now)
    timed "$W/scpu" $SND_CPU "$IPCBOX" send --quiet --hash "$1" "$W/src.bin" 127.0.0.1:$p
    wait $r
    local t1; t1=$(now)
    mv "$W/dst/src.bin" "$W/dst/out"
    echo "$(echo "$t1 - $t0" | bc -l) $(cpu_of "$W/scpu") $(cpu_of "$W/rcpu")"
}
run_nc() {
    local p; p=$(port)
    rm -rf "$W/dst" && mkdir -p "$W/dst"
    timed "$W/rcpu" $RCV_CPU sh -c "exec nc -l 127.0.0.1 $p >'$W/dst/out'" &
    local r=$!; PIDS+=($r)
    wait_port $p
    local t0; t0=$(now)
    timed "$W/scpu" $SND_CPU sh -c "exec nc -N 127.0.0.1 $p <'$W/src.bin'"
    wait $r
    local t1; t1=$(now)
    echo "$(echo "$t1 - $t0" | bc -l) $(cpu_of "$W/scpu") $(cpu_of "$W/rcpu")"
}
run_socat() {
    local p; p=$(port)
    rm -rf "$W/dst" && mkdir -p "$W/dst"
    timed "$W/rcpu" $RCV_CPU socat -u -b 262144 TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr \
        CREATE:"$W/dst/out" &
    local r=$!; PIDS+=($r)
    wait_port $p
    local t0; t0=$(now)
    timed "$W/scpu" $SND_CPU socat -u -b 262144 OPEN:"$W/src.bin",rdonly TCP:127.0.0.1:$p
    wait $r
    local t1; t1=$(now)
    echo "$(echo "$t1 - $t0" | bc -l) $(cpu_of "$W/scpu") $(cpu_of "$W/rcpu")"
}
run_iperf3() {
    local p; p=$(port)
    rm -rf "$W/dst" && mkdir -p "$W/dst"
    timed "$W/rcpu" $RCV_CPU iperf3 -s -1 -B 127.0.0.1 -p $p >/dev/null &
    local r=$!; PIDS+=($r)
    wait_port $p
    timed "$W/scpu" $SND_CPU iperf3 -c 127.0.0.1 -p $p -n $BYTES -f m >"$W/iperf.out"
    wait $r
    # iperf3's own receiver-side rate (its setup time excluded): the ceiling
    local mbit; mbit=$(awk '/receiver/ {for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i-1)}' "$W/iperf.out" | tail -1)
    echo "$(echo "$BYTES * 8 / ($mbit * 1000000)" | bc -l) $(cpu_of "$W/scpu") $(cpu_of "$W/rcpu")"
}

TOOLS="ipcbox-xxh3 ipcbox-sha256 nc socat iperf3"
run_tool() {
    case $1 in
        ipcbox-xxh3) run_ipcbox xxh3 ;;
        ipcbox-sha256) run_ipcbox sha256 ;;
        nc) run_nc ;;
        socat) run_socat ;;
        iperf3) run_iperf3 ;;
    esac
}
check_copy() {   # TOOL
    [ "$1" = iperf3 ] && return 0
    cmp -s "$W/src.bin" "$W/dst/out" || { echo "bench-transfer: $1 delivered a different file" >&2; exit 1; }
}

echo "bench-transfer: warm-up round (first-touch page faults are not measured)" >&2
for t in $TOOLS; do run_tool $t >/dev/null; check_copy $t; done
declare -A RES
for round in $(seq "$ROUNDS"); do
    for t in $TOOLS; do
        line=$(run_tool $t)
        [ "$round" = 1 ] && check_copy $t
        RES[$t]="${RES[$t]:-}$line"$'\n'
        echo "bench-transfer: round $round $t: $line" >&2
    done
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
declare -A MBS BEST SCPU RCPU
for t in $TOOLS; do
    secs=$(printf '%s' "${RES[$t]}" | awk 'NF {print $1}' | median)
    MBS[$t]=$(echo "$BYTES / $secs / 1000000" | bc -l)
    secs=$(printf '%s' "${RES[$t]}" | awk 'NF {print $1}' | sort -g | head -1)
    BEST[$t]=$(echo "$BYTES / $secs / 1000000" | bc -l)
    SCPU[$t]=$(printf '%s' "${RES[$t]}" | awk 'NF {print $2}' | median)
    RCPU[$t]=$(printf '%s' "${RES[$t]}" | awk 'NF {print $3}' | median)
done

echo
echo "Transfer of a ${SIZE_MB} MiB file over loopback, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs, Linux $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Receiver on CPU 1, sender on CPU 0; files on tmpfs; $ROUNDS rounds after a warm-up:"
echo "median and best wall-clock rate (ratios: median / best), median CPU seconds (user + sys)."
echo
echo "| tool | MB/s median | MB/s best | vs nc | vs iperf3 | sender CPU s | receiver CPU s | integrity |"
echo "|------|------------:|----------:|------:|----------:|-------------:|---------------:|-----------|"
for t in $TOOLS; do
    case $t in
        ipcbox-xxh3) name="ipcbox send → recv (XXH3-128)"; integ="verified on disk, fsync, rename" ;;
        ipcbox-sha256) name="ipcbox send → recv (SHA-256)"; integ="verified on disk, fsync, rename" ;;
        nc) name="nc → nc"; integ="none" ;;
        socat) name="socat → socat (-b 256 KiB)"; integ="none" ;;
        iperf3) name="iperf3 (memory to memory, ceiling)"; integ="n/a (no file)" ;;
    esac
    printf '| %s | %.0f | %.0f | %.2f× / %.2f× | %.2f× / %.2f× | %s | %s | %s |\n' "$name" \
        "${MBS[$t]}" "${BEST[$t]}" \
        "$(echo "${MBS[$t]} / ${MBS[nc]}" | bc -l)" "$(echo "${BEST[$t]} / ${BEST[nc]}" | bc -l)" \
        "$(echo "${MBS[$t]} / ${MBS[iperf3]}" | bc -l)" "$(echo "${BEST[$t]} / ${BEST[iperf3]}" | bc -l)" \
        "${SCPU[$t]}" "${RCPU[$t]}" "$integ"
done
