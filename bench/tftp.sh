#!/usr/bin/env bash
# TFTP throughput: one file (default 100 MiB) read over loopback, server
# pinned to CPU 0, client to CPU 1, every combination in the same run:
#   servers  ipcbox tftpd, atftpd
#   clients  atftp (blksize + windowsize options), curl (blksize only:
#            it has no windowsize), ipcbox tftp
#   blksize {512, 1468, 8192, 65464} x windowsize {1, 16, 64}
# then a 1%-loss run: the server in a network namespace behind a veth pair
# whose nftables rule drops 1% of UDP packets each way at random.
# Each transfer is bounded to LIMIT seconds; a transfer that does not finish
# shows as "<X" (its rate would be below X MB/s).
# The loss rows are medians of LOSS_RUNS (default 3) transfers each.
#   bench/tftp.sh [MiB] [LIMIT]
set -eu
cd "$(dirname "$0")/.."
B=$PWD/build/ipcbox
[ -x "$B" ] || { echo "run 'make' first" >&2; exit 1; }
for t in atftp atftpd curl taskset; do
    command -v $t >/dev/null || { echo "bench: $t missing (scripts/deps.sh bench)" >&2; exit 1; }
done
MIB=${1:-100}
LIMIT=${2:-60}
LOSS_RUNS=${LOSS_RUNS:-3}
BYTES=$((MIB * 1048576))
T=$(mktemp -d /tmp/ibx-bench-tftp.XXXXXX)
NS=ibxbench$$
cleanup() {
    kill $(jobs -p) 2>/dev/null || true
    wait 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/root"
head -c "$BYTES" /dev/urandom >"$T/root/file"
chmod -R a+rwX "$T"
user_args=()
[ "$(id -u)" -eq 0 ] && user_args=(--user root --group root)

now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_tftp() {   # HOST PORT: until a request for a missing file is answered
    for _ in $(seq 100); do
        "$B" tftp --quiet --timeout 1 "$1:$2" get no-such-file "$T/probe" 2>&1 | grep -q 'server error' && return 0
        sleep 0.05
    done
    echo "bench: no tftp server at $1:$2" >&2
    exit 1
}

# rate CMD...: run CMD pinned to CPU 1 within LIMIT s, print MB/s; with
# CPU=1 also the share of CPU 1 the client used, e.g. "111.3 (86% CPU)",
# which tells whether the client itself was the limit
rate() {
    local t0 t1 tf="$T/time.out"
    t0=$(now)
    if timeout "$LIMIT" /usr/bin/time -f "%e %U %S" -o "$tf" taskset -c 1 "$@" >/dev/null 2>&1; then
        t1=$(now)
        awk -v b="$BYTES" -v a="$t0" -v e="$t1" 'BEGIN { printf "%.1f", b / (e - a) / 1e6 }'
        [ "${CPU:-0}" = 1 ] && awk '{ if ($1 > 0) printf " (%.0f%% CPU)", 100 * ($2 + $3) / $1 }' "$tf"
    else
        awk -v b="$BYTES" -v l="$LIMIT" 'BEGIN { printf "<%.1f", b / l / 1e6 }'
    fi
    return 0
}
c_atftp() { CPU=1 rate atftp --option "blksize $3" --option "windowsize $4" -g -r file -l /dev/null "$1" "$2"; }
c_curl() { rate curl -s --tftp-blksize "$3" -o /dev/null "tftp://$1:$2/file"; }
c_ours() { rate "$B" tftp --quiet --blksize "$3" --windowsize "$4" "$1:$2" get file /dev/null; }
ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { if (a ~ /^</ || b ~ /^</ || b == 0) { if (b ~ /^</ && a !~ /^</) printf ">%.1fx", a / substr(b, 2); else printf "?" } else printf "%.1fx", a / b }'; }

P1=$(free_port)
taskset -c 0 "$B" tftpd --quiet --listen 127.0.0.1:"$P1" "$T/root" &
P2=$(free_port)
taskset -c 0 atftpd --daemon --no-fork --port "$P2" --bind-address 127.0.0.1 "${user_args[@]}" \
    --logfile /dev/null "$T/root" &
wait_tftp 127.0.0.1 "$P1"
wait_tftp 127.0.0.1 "$P2"

echo "## TFTP: $MIB MiB read over loopback (server on CPU 0, client on CPU 1)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2);print $2}'), $(nproc) CPUs, $(uname -sr)"
echo
echo "MB/s (10^6 bytes per second). \"<X\": not done within ${LIMIT} s. curl has no windowsize option."
echo
echo "| blksize | window | atftp -> ipcbox tftpd | atftp -> atftpd | ratio | curl -> ipcbox tftpd | curl -> atftpd | ratio | ipcbox tftp -> ipcbox tftpd | ipcbox tftp -> atftpd | ipcbox tftp / atftp (both vs atftpd) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for bs in 512 1468 8192 65464; do
    for w in 1 16 64; do
        a1=$(c_atftp 127.0.0.1 "$P1" "$bs" "$w")
        a2=$(c_atftp 127.0.0.1 "$P2" "$bs" "$w")
        if [ "$w" = 1 ]; then
            k1=$(c_curl 127.0.0.1 "$P1" "$bs")
            k2=$(c_curl 127.0.0.1 "$P2" "$bs")
            kr=$(ratio "$k1" "$k2")
        else
            k1=-; k2=-; kr=-
        fi
        o1=$(c_ours 127.0.0.1 "$P1" "$bs" "$w")
        o2=$(c_ours 127.0.0.1 "$P2" "$bs" "$w")
        echo "| $bs | $w | $a1 | $a2 | $(ratio "$a1" "$a2") | $k1 | $k2 | $kr | $o1 | $o2 | $(ratio "$o2" "$a2") |"
    done
done
kill $(jobs -p) 2>/dev/null || true
wait 2>/dev/null || true

# ---- 1% loss -----------------------------------------------------------
if ! ip netns add "$NS" 2>/dev/null; then
    echo
    echo "(loss run skipped: cannot create a network namespace)"
    exit 0
fi
VA=ibb$$a
VB=ibb$$b
ip link add "$VA" type veth peer name "$VB"
ip link set "$VB" netns "$NS"
ip addr add 10.251.7.1/30 dev "$VA"
ip link set "$VA" up
ip netns exec "$NS" ip addr add 10.251.7.2/30 dev "$VB"
ip netns exec "$NS" ip link set "$VB" up
ip netns exec "$NS" ip link set lo up
H=10.251.7.2
ip netns exec "$NS" taskset -c 0 "$B" tftpd --quiet --listen "$H:6969" "$T/root" &
ip netns exec "$NS" taskset -c 0 atftpd --daemon --no-fork --port 6970 --bind-address "$H" \
    "${user_args[@]}" --logfile /dev/null "$T/root" &
wait_tftp "$H" 6969
wait_tftp "$H" 6970
loss() {
    ip netns exec "$NS" nft delete table inet ibxloss 2>/dev/null || true
    [ "$1" = 0 ] && return 0
    ip netns exec "$NS" nft -f - <<EOF
table inet ibxloss {
    chain in { type filter hook input priority 0; policy accept; meta l4proto udp numgen random mod 100 < $1 drop; }
    chain out { type filter hook output priority 0; policy accept; meta l4proto udp numgen random mod 100 < $1 drop; }
}
EOF
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^</ || b ~ /^</ || b == 0) printf "?"; else printf "%.0f%%", 100 * a / b }'; }
# median A B C ...: the middle value (the lower one of an even count);
# "<X" (not finished) sorts as X and keeps its mark
median() { printf '%s\n' "$@" | awk '{k = $1; sub(/^</, "", k); print k, $1}' | sort -g | awk '{v[NR] = $2} END {print v[int((NR + 1) / 2)]}'; }
echo
echo "### 1% UDP loss each way (veth into a namespace, nftables numgen random)"
echo
echo "ipcbox: the median of $LOSS_RUNS transfers, lossless and lossy runs interleaved; the runs follow in brackets. atftp + atftpd: one run each."
echo
echo "| blksize | window | pair | lossless MB/s | 1% loss MB/s | kept |"
echo "|---:|---:|---|---:|---:|---:|"
for cfg in "1468 16" "8192 16" "1468 64"; do
    set -- $cfg
    L0=() L1=() A0=() A1=()
    for i in $(seq "$LOSS_RUNS"); do
        loss 0
        L0+=("$(c_ours "$H" 6969 "$1" "$2")")
        [ "$i" = 1 ] && a0=$(c_atftp "$H" 6970 "$1" "$2")
        loss 1
        L1+=("$(c_ours "$H" 6969 "$1" "$2")")
        [ "$i" = 1 ] && a1=$(c_atftp "$H" 6970 "$1" "$2")
    done
    l0=$(median "${L0[@]}") l1=$(median "${L1[@]}")
    echo "| $1 | $2 | ipcbox tftp -> ipcbox tftpd | $l0 (${L0[*]}) | $l1 (${L1[*]}) | $(pct "$l1" "$l0") |"
    echo "| $1 | $2 | atftp -> atftpd | $a0 | $a1 | $(pct "$a1" "$a0") |"
done
