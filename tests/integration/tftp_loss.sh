#!/usr/bin/env bash
# TFTP under packet loss. The test makes a network namespace joined to
# this one by a veth pair; an nftables table inside it drops N% of UDP
# packets at random in each direction (numgen random mod 100 < N). Our
# server runs inside; clients (ours, curl, tftp-hpa, atftp) run outside;
# our client is also run against atftpd inside. At 1% and 5% loss every
# transfer must complete and be byte-identical.
. "$(dirname "$0")/../lib.sh"

for tool in ip nft curl tftp atftp atftpd python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/deps.sh)"; exit 77; }
done
NS=ibxtftp$$
VA=ibt${$}a
VB=ibt${$}b
if ! ip netns add "$NS" 2>"$WORK/ns.err"; then
    echo "SKIP: cannot create a network namespace here ($(cat "$WORK/ns.err")); needs root or CAP_SYS_ADMIN"
    exit 77
fi
net_cleanup() {
    ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    ip link del "$VA" 2>/dev/null
}
on_exit_first net_cleanup
SUB="10.$((200 + RANDOM % 50)).$((RANDOM % 250))"
HOST_IP=$SUB.1
NS_IP=$SUB.2
nsx() { ip netns exec "$NS" "$@"; }
ip link add "$VA" type veth peer name "$VB" &&
    ip link set "$VB" netns "$NS" &&
    ip addr add "$HOST_IP/30" dev "$VA" && ip link set "$VA" up &&
    nsx ip addr add "$NS_IP/30" dev "$VB" && nsx ip link set "$VB" up &&
    nsx ip link set lo up || { echo "FAIL: veth set-up"; exit 1; }

set_loss() {
    nsx nft delete table inet ibxloss 2>/dev/null
    nsx nft -f - <<EOF
table inet ibxloss {
    chain in {
        type filter hook input priority 0; policy accept;
        meta l4proto udp numgen random mod 100 < $1 drop
    }
    chain out {
        type filter hook output priority 0; policy accept;
        meta l4proto udp numgen random mod 100 < $1 drop
    }
}
EOF
}

SRV=$WORK/srv
OUT=$WORK/out
mkdir -p "$OUT" "$SRV"
tftp_files "$SRV"
head -c 2000000 /dev/urandom >"$SRV/big.bin"
head -c $((512 * 200)) /dev/urandom >"$SRV/small512x200.bin"
chmod -R a+rwX "$WORK"

nsx "$IPCBOX" tftpd --listen "$NS_IP:0" --create --allow-overwrite "$SRV" >"$WORK/tftpd.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/tftpd.log" "listening on" || exit 1
PORT=$(listen_port "$WORK/tftpd.log")
ADIR=$WORK/atftpd
mkdir -p "$ADIR"
cp "$SRV/small512x200.bin" "$SRV/text.txt" "$ADIR/"
chmod -R a+rwX "$ADIR"
APORT=$((30000 + RANDOM % 20000))
user_args=()
[ "$(id -u)" -eq 0 ] && user_args=(--user root --group root)
nsx atftpd --daemon --no-fork --port "$APORT" --bind-address "$NS_IP" --retry-timeout 1 \
    "${user_args[@]}" --logfile "$WORK/atftpd.log" "$ADIR" &
PIDS+=($!)
for _ in $(seq 50); do
    "$IPCBOX" tftp --quiet --timeout 1 "$NS_IP:$APORT" get no-such-file "$WORK/probe" 2>&1 |
        grep -q 'server error' && break
    sleep 0.1
done
echo "ipcbox tftpd at $NS_IP:$PORT, atftpd at $NS_IP:$APORT (namespace $NS)"

TC="$IPCBOX tftp --quiet $NS_IP:$PORT"

# atftp_get OUT: atftp's client fetches big.bin with windowsize 8. That
# client aborts when an OACK arrives again ("unexpected OACK"), which any
# server sends when the client's ACK 0 was lost, so such a run (and only
# such a run) is tried again, at most three times in all.
atftp_get() {
    local a out
    for a in 1 2 3; do
        out=$(timeout 120 atftp --tftp-timeout 1 --option 'windowsize 8' -g -r big.bin \
              -l "$1" "$NS_IP" "$PORT" 2>&1) && { cmp "$SRV/big.bin" "$1"; return; }
        echo "$out"
        echo "$out" | grep -q "unexpected OACK" || return 1
        echo "attempt $a: atftp aborted on a repeated OACK (its ACK 0 was lost)"
    done
    return 1
}
n=0
for loss in 1 5; do
    set_loss "$loss" || { echo "FAIL: nft rule"; exit 1; }
    echo "--- $loss% UDP loss each way"
    for opt in "" "--windowsize 16 --blksize 1468" "--windowsize 64 --blksize 1024" "--windowsize 4 --blksize 8192"; do
        [ "$loss" = 5 ] && [ "$opt" = "--windowsize 4 --blksize 8192" ] && continue  # 6 fragments each
        n=$((n + 1))
        check_cmd "$loss% ipcbox-tftpd <- ipcbox-tftp get big.bin $opt" \
            bash -c "$TC $opt get big.bin $OUT/$n && cmp $SRV/big.bin $OUT/$n"
        n=$((n + 1))
        check_cmd "$loss% ipcbox-tftpd <- ipcbox-tftp put big.bin $opt" \
            bash -c "$TC $opt put up$n.bin $SRV/big.bin && cmp $SRV/big.bin $SRV/up$n.bin"
    done
    n=$((n + 1))
    check_cmd "$loss% ipcbox-tftpd <- ipcbox-tftp get small512x200.bin (exact blocks)" \
        bash -c "$TC get small512x200.bin $OUT/$n && cmp $SRV/small512x200.bin $OUT/$n"
    n=$((n + 1))
    check_cmd "$loss% ipcbox-tftpd <- ipcbox-tftp netascii get+put text.txt windowsize 4" \
        bash -c "$TC --mode netascii --windowsize 4 get text.txt $OUT/$n && cmp $SRV/text.txt $OUT/$n &&
                 $TC --mode netascii --windowsize 4 put t$n.txt $SRV/text.txt && cmp $SRV/text.txt $SRV/t$n.txt"
    n=$((n + 1))
    check_cmd "$loss% ipcbox-tftpd <- curl get big.bin --tftp-blksize 1468" \
        bash -c "curl -sS --tftp-blksize 1468 -o $OUT/$n tftp://$NS_IP:$PORT/big.bin && cmp $SRV/big.bin $OUT/$n"
    n=$((n + 1))
    check_cmd "$loss% ipcbox-tftpd <- tftp-hpa get big.bin" \
        bash -c "tftp $NS_IP $PORT -m binary -c get big.bin $OUT/$n && cmp $SRV/big.bin $OUT/$n"
    n=$((n + 1))
    check_cmd "$loss% ipcbox-tftpd <- atftp get big.bin windowsize 8" atftp_get "$OUT/$n"
    n=$((n + 1))
    check_cmd "$loss% atftpd <- ipcbox-tftp get small512x200.bin" \
        bash -c "$IPCBOX tftp --quiet $NS_IP:$APORT get small512x200.bin $OUT/$n && cmp $ADIR/small512x200.bin $OUT/$n"
    n=$((n + 1))
    check_cmd "$loss% atftpd <- ipcbox-tftp get small512x200.bin windowsize 8" \
        bash -c "$IPCBOX tftp --quiet --windowsize 8 $NS_IP:$APORT get small512x200.bin $OUT/$n && cmp $ADIR/small512x200.bin $OUT/$n"
done
nsx nft list table inet ibxloss | grep -q 'numgen random mod 100 < 5' &&
    echo "(rules were in place: $(nsx nft list table inet ibxloss | grep -c drop) drop rules)"
retx=$(grep -o 'retransmits=[0-9]*' "$WORK/tftpd.log" | awk -F= '{s+=$2} END {print s+0}')
check_cmd "loss was real: the server retransmitted ($retx packets)" test "$retx" -gt 0
finish
