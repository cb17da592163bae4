# recv must not let peers make it write log lines without bound (issue 11
# class (a), the disk through the log). Lines about connections that have
# not finished the handshake (anyone can open any number) pass one
# server-wide gate (5 a second in full, the rest summed up once a second,
# shared by forked children); after the handshake, refusals are the
# access log, but at most 16 per connection are logged, the rest counted
# in one line at close. The old code wrote one line per bad connection
# and one per refused GET.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
S="$T/srv"
mkdir -p "$S"
mkrand "$S/small.bin" 5000


# epoll: 500 connections; fork (a process each, slow under ASan): 200.
# The bound is a rate: at most 5 lines in full per second of the flood
# (+2 for the partial seconds at either end), the rest summed up.
for model in epoll fork; do
    start_recv "$S" --model "$model"
    conns=500
    [ "$model" = fork ] && conns=200
    t0=$(date +%s)
    out=$(timeout 120 python3 "$PYTOOLS/xfer_flood_peer.py" "$RPORT" badhello $conns)
    secs=$(($(date +%s) - t0 + 1))
    [ "$out" = "answered $conns" ] || fail "$model: bad HELLOs: $out"
    wait_log "more lines about connections that had not finished the handshake" 20
    n=$(wc -l <"$RLOG")
    full=$(grep -c "malformed HELLO" "$RLOG")
    [ "$full" -le $((5 * (secs + 2))) ] || fail "$model: $conns bad HELLOs in $secs s: $full lines in full"
    [ "$model" = fork ] || [ "$n" -lt 100 ] || fail "$model: 500 bad HELLOs wrote $n log lines"
    sum=$(sed -n 's/.*msg="\([0-9]*\) more lines about connections.*/\1/p' "$RLOG" |
          awk '{s += $1} END {print s + 0}')
    # the last second's count may still be pending: full + sum <= 500, and most are summed
    [ $((full + sum)) -le $conns ] && [ "$sum" -gt 0 ] || fail "$model: full=$full sum=$sum"
    pass "$model: $conns bad HELLOs in $secs s: $n log lines ($full in full, $sum summed up)"

    before=$(wc -l <"$RLOG")
    out=$(timeout 120 python3 "$PYTOOLS/xfer_flood_peer.py" "$RPORT" gets 1000)
    [ "$out" = "answered 1000" ] || fail "$model: refused GETs: $out"
    wait_log "984 more refused or skipped files on this connection not logged" 20
    n=$(($(wc -l <"$RLOG") - before))
    [ "$n" -lt 50 ] || fail "$model: 1000 refused GETs wrote $n log lines"
    [ "$(grep -c 'get refused' "$RLOG")" -eq 16 ] || fail "$model: not 16 refusal lines"
    pass "$model: 1000 refused GETs on one connection: $n log lines, summed up at close"

    "$IPCBOX" get --quiet 127.0.0.1:"$RPORT" small.bin -o "$T/dl.$model" || fail "$model: get"
    cmp -s "$S/small.bin" "$T/dl.$model/small.bin" || fail "$model: small.bin differs"
    wait_log "sent small.bin" 20
    stop_recv
done
pass "recv log lines are bounded before and after the handshake"
