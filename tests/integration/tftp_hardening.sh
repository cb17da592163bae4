#!/usr/bin/env bash
# ipcbox tftpd under attack (issue 11): no amplification toward a peer
# that never proved it receives (a blind ACK 0 and guessed ACKs after a
# forged request, a peer silent after ACK 0; single-port and per-transfer
# ports); caps on concurrent transfers (global and per address) that a
# flood of forged requests cannot use to lock out a real client; ERROR
# answers no larger than what they answer; upload temporaries left by a
# killed server removed at start-up (but not another server's); an upload
# is never stored when it does not match its declared tsize. Packets are
# scripted by a small python3 peer; every wait is bounded.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

ROOT=$WORK/root
OUT=$WORK/out
mkdir -p "$ROOT/sub" "$OUT"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$ROOT/big.bin"
head -c 300001 /dev/urandom >"$ROOT/random.bin"

peer() { timeout 60 python3 "$PYTOOLS/tftp_hardening_peer.py" "$@"; }

# ---- item 9: amplification ---------------------------------------------------
start_tftpd "$WORK/sp.log" --single-port --giveup 2 "$ROOT"
check_cmd "single-port: forged RRQ + blind ACK 0 and guessed ACKs: at most 3x + one block" \
    env SERVER_PID="$SRV_PID" timeout 60 python3 "$PYTOOLS/tftp_hardening_peer.py" blind "$PORT"
check_cmd "single-port: the blind transfer ended at once, logged" \
    wait_for "$WORK/sp.log" 'file="big.bin".*result=failed'
check_cmd "single-port: a peer silent after ACK 0 gets block 1 at most three times, no window" \
    peer silent-after-ack0 "$PORT"
check_cmd "single-port: a peer silent after ACK 0 gets one 8 KiB block, never resent" \
    peer silent-after-ack0 "$PORT" 8192
check_cmd "single-port: a real client still gets the file at windowsize 64" \
    bash -c "$IPCBOX tftp --quiet --windowsize 64 --blksize 1468 127.0.0.1:$PORT get big.bin $OUT/sp && cmp $ROOT/big.bin $OUT/sp"
check_cmd "small ERRORs: never larger than the packet they answer" peer small-errors "$PORT"

# the range: 16 spare ports (no socket of a test beside this one is on one
# of them to be sprayed, or to keep the server off it)
read -r PLO _ <<<"$(spare_ports udp 16 run)"
[ -n "$PLO" ] || fail "no 16 spare UDP ports in a row"
PHI=$((PLO + 15))
start_tftpd "$WORK/pp.log" --port-range "$PLO:$PHI" --giveup 2 "$ROOT"
check_cmd "per-transfer ports: forged RRQ + ACKs sprayed over the port range: at most 3x + one block" \
    peer blind-spray "$PORT" "$PLO" "$PHI"
check_cmd "per-transfer ports: a peer silent after ACK 0 gets block 1 at most three times, no window" \
    peer silent-after-ack0 "$PORT"
check_cmd "per-transfer ports: a real client gets the file at windowsize 16" \
    bash -c "$IPCBOX tftp --quiet --windowsize 16 127.0.0.1:$PORT get big.bin $OUT/pp && cmp $ROOT/big.bin $OUT/pp"

# ---- item 10: caps -----------------------------------------------------------
start_tftpd "$WORK/cap.log" --max-transfers 4 --max-per-peer 2 --giveup 12 "$ROOT"
peer stall "$PORT" 127.0.0.5 16 >"$WORK/stall1" 2>&1 & s1=$!
peer stall "$PORT" 127.0.0.5 16 >"$WORK/stall2" 2>&1 & s2=$!
wait_for "$WORK/stall1" holding >/dev/null && wait_for "$WORK/stall2" holding >/dev/null
check_cmd "max-per-peer: a third transfer from one address (two verified) is refused" \
    peer busy "$PORT" 127.0.0.5
# (the server logs a refusal after it sent the ERROR the peer just got)
check_cmd "max-per-peer: refusal logged once per second with the limit" \
    wait_for "$WORK/cap.log" 'limit reached.* limit=max-per-peer value=2 peer=127.0.0.5' 20
check_cmd "max-per-peer: another address is served meanwhile" \
    bash -c "$IPCBOX tftp --quiet 127.0.0.1:$PORT get random.bin $OUT/c1 && cmp $ROOT/random.bin $OUT/c1"
peer stall "$PORT" 127.0.0.6 16 >"$WORK/stall3" 2>&1 & s3=$!
peer stall "$PORT" 127.0.0.7 16 >"$WORK/stall4" 2>&1 & s4=$!
wait_for "$WORK/stall3" holding >/dev/null && wait_for "$WORK/stall4" holding >/dev/null
# "limit reached" lines are one a second: the max-per-peer line above must
# not swallow this one (the gate's second, not a wait for the server)
sleep 1.2
check_cmd "max-transfers: a fifth transfer (four verified) is refused" peer busy "$PORT" 127.0.0.8
check_cmd "max-transfers: refusal logged" \
    wait_for "$WORK/cap.log" 'limit reached.* limit=max-transfers value=4' 20
check_cmd "stalled transfers end after the give-up time, freeing their slots" \
    bash -c "for i in \$(seq 250); do [ \$(grep -c 'file=\"big.bin\".*timed out' $WORK/cap.log) -ge 4 ] && exit 0; sleep 0.1; done; exit 1"
check_cmd "after the give-up a real client is served again" \
    bash -c "$IPCBOX tftp --quiet 127.0.0.1:$PORT get random.bin $OUT/c2 && cmp $ROOT/random.bin $OUT/c2"
wait $s1 $s2 $s3 $s4 2>/dev/null

start_tftpd "$WORK/flood.log" --max-transfers 8 --max-per-peer 4 --giveup 5 "$ROOT"
check_cmd "a flood of 600 forged requests from 30 addresses" peer flood "$PORT" 600
check_cmd "a real client is served at once during the flood's give-up time" \
    bash -c "$IPCBOX tftp --quiet --windowsize 8 127.0.0.1:$PORT get random.bin $OUT/f && cmp $ROOT/random.bin $OUT/f"
check_cmd "the flood's transfers were evicted, logged in rate-limited lines" \
    grep -q 'limit reached.* limit=max-.* evicted=[1-9]' "$WORK/flood.log"
check_cmd "... not one line per forged request" \
    test "$(grep -c 'limit reached' "$WORK/flood.log")" -le 10
check_cmd "default caps: 256 transfers, 16 per peer (help)" \
    bash -c "$IPCBOX tftpd --help | grep -q 'max-per-peer N' && $IPCBOX tftpd --help | grep -q 'default 256'"

# ---- item 11: upload temporaries ---------------------------------------------
: >"$ROOT/.tftp-upload.0123456789ab"
: >"$ROOT/sub/.tftp-upload.abcdef012345"
: >"$ROOT/.tftp-upload.notmine"
: >"$ROOT/keep.tftp-upload.0123456789ab"
start_tftpd "$WORK/up.log" --create --giveup 30 "$ROOT"
UPORT=$PORT
UPID=$SRV_PID
check_cmd "start-up removed stale temporaries (root and below)" \
    bash -c "test ! -e $ROOT/.tftp-upload.0123456789ab && test ! -e $ROOT/sub/.tftp-upload.abcdef012345"
check_cmd "start-up kept names that only look alike" \
    bash -c "test -e $ROOT/.tftp-upload.notmine && test -e $ROOT/keep.tftp-upload.0123456789ab"
check_cmd "start-up logged the removal" grep -q 'removed 2 stale upload temporaries' "$WORK/up.log"
peer upload-stall "$UPORT" 30 >"$WORK/held" 2>&1 & held=$!
wait_for "$WORK/held" "3 blocks sent" >/dev/null
tmpcount() { find "$ROOT" -name '.tftp-upload.????????????' | wc -l; }
check_cmd "an upload in progress has its temporary" test "$(tmpcount)" -eq 1
start_tftpd "$WORK/second.log" --create "$ROOT"
check_cmd "a second server on the same root keeps the live server's temporary" test "$(tmpcount)" -eq 1
check_cmd "... and says so" grep -q 'kept 1 upload temporary' "$WORK/second.log"
kill -9 "$UPID"
wait "$UPID" 2>/dev/null
check_cmd "kill -9 mid-upload orphans the temporary" test "$(tmpcount)" -eq 1
start_tftpd "$WORK/restart.log" --create "$ROOT"
check_cmd "the restarted server removed it" test "$(tmpcount)" -eq 0
kill "$held" 2>/dev/null
wait "$held" 2>/dev/null

# ---- audit: uploads that lie about their size --------------------------------
start_tftpd "$WORK/ts.log" --create "$ROOT"
check_cmd "an upload larger or smaller than its declared tsize is not stored" peer tsize-lie "$PORT"
check_cmd "... neither file exists, no temporary left" \
    bash -c "test ! -e $ROOT/more.bin && test ! -e $ROOT/less.bin && test \$(find $ROOT -name '.tftp-upload.????????????' | wc -l) -eq 0"

finish
