# get --max-size: a server cannot fill the client's disk. A file announced
# larger than the limit is refused before anything is written; a server
# that sends more than it announced is cut off at the announced size; in
# both cases nothing appears under the final name.
. "$(dirname "$0")/../lib.sh"

PEER="$TOOLS/xferpeer"
[ -x "$PEER" ] || fail "missing $PEER"
mkdir -p "$T/srv" "$T/dl"
mkrand "$T/srv/big.bin" 3145729      # 3 MiB + 1
mkrand "$T/srv/edge.bin" 3145728     # exactly 3 MiB

for bad in 0 abc -5 10q ""; do
    "$IPCBOX" get --max-size "$bad" 127.0.0.1:1 x 2>"$T/u.err"; rc=$?
    [ $rc = 2 ] && grep -q -- "--max-size" "$T/u.err" || fail "get --max-size '$bad': exit $rc"
done
"$IPCBOX" get --help | grep -q -- "--max-size BYTES" || fail "get --help lacks --max-size"

# 1. a real server with a file one byte above the limit
start_recv "$T/srv"
"$IPCBOX" get --max-size 3m 127.0.0.1:"$RPORT" big.bin edge.bin -o "$T/dl" 2>"$T/g.err"; rc=$?
[ $rc = 3 ] || { cat "$T/g.err"; fail "get of a file above --max-size: exit $rc, want 3"; }
grep -q "big.bin: 3145729 bytes is above the limit of 3145728" "$T/g.err" \
    || { cat "$T/g.err"; fail "refusal message"; }
[ ! -e "$T/dl/big.bin" ] || fail "big.bin stored despite --max-size"
[ ! -e "$T/dl/.big.bin.ibxpart" ] || fail "a part file was written for a refused file"
cmp -s "$T/srv/edge.bin" "$T/dl/edge.bin" || fail "edge.bin (exactly the limit) not fetched"
for i in $(seq 400); do grep -q "skipped by peer: too big" "$RLOG" && break; sleep 0.05; done
grep -q "big.bin skipped by peer: too big" "$RLOG" || { cat "$RLOG"; fail "server was not told"; }
"$IPCBOX" get --quiet 127.0.0.1:"$RPORT" big.bin -o "$T/dl" || fail "get without --max-size"
cmp -s "$T/srv/big.bin" "$T/dl/big.bin" || fail "big.bin differs"
stop_recv
pass "get --max-size 3m: 3 MiB + 1 refused before writing (exit 3), exactly 3 MiB fetched"

# 2. a hostile server announcing more than the limit: refused, nothing written
rm -f "$T/port"
"$PEER" liar "$T/port" 2000000000 2000000000 >"$T/liar.out" 2>&1 &
LP=$!
PIDS+=("$LP")
for i in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
"$IPCBOX" get --max-size 1m 127.0.0.1:"$(cat "$T/port")" huge.bin -o "$T/dl" 2>"$T/g2.err"; rc=$?
[ $rc = 3 ] || { cat "$T/g2.err"; fail "hostile 2 GB offer: exit $rc, want 3"; }
wait_exit "$LP" 20
grep -q "^ack 18" "$T/liar.out" || { cat "$T/liar.out"; fail "server was not told too big"; }
[ ! -e "$T/dl/huge.bin" ] && [ ! -e "$T/dl/.huge.bin.ibxpart" ] || fail "hostile offer wrote something"
pass "hostile server offering 2 GB: refused at the offer, nothing written"

# 3. a hostile server that announces 1000 bytes but streams 2 MiB: cut off
#    at the announced size, never committed
rm -f "$T/port"
"$PEER" liar "$T/port" 1000 2097152 >"$T/liar2.out" 2>&1 &
LP=$!
PIDS+=("$LP")
for i in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
"$IPCBOX" get --max-size 1m 127.0.0.1:"$(cat "$T/port")" lie.bin -o "$T/dl" 2>"$T/g3.err"; rc=$?
[ $rc = 5 ] || { cat "$T/g3.err"; fail "stream above the announced size: exit $rc, want 5"; }
grep -q "more data than offered" "$T/g3.err" || { cat "$T/g3.err"; fail "message"; }
wait_exit "$LP" 20
[ ! -e "$T/dl/lie.bin" ] || fail "a file that overran its size was committed"
[ "$(fsize "$T/dl/.lie.bin.ibxpart")" -le 1000 ] || fail "more than the announced bytes written"
pass "hostile server streaming past its announced size: cut off, nothing committed"
