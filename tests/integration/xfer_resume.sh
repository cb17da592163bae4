# Interrupted transfers resume: kill -9 of the sender, kill -9 of the
# receiver, a partial file left by get; a corrupted prefix is detected
# and sent again instead of being kept. Every run ends with an identical
# file.
. "$(dirname "$0")/../lib.sh"

SIZE=24000000
mkdir -p "$T/srv" "$T/src" "$T/out"
mkrand "$T/src/f.bin" $SIZE
PART="$T/srv/.f.bin.ibxpart"

# 1. kill -9 the sender mid-transfer, then run the same command again
start_recv "$T/srv"
"$IPCBOX" send --limit-rate 4m "$T/src/f.bin" 127.0.0.1:"$RPORT" 2>"$T/s1.err" &
SND=$!
PIDS+=("$SND")
wait_size "$PART" 2000000 30
kill -KILL $SND
wait $SND 2>/dev/null
[ ! -e "$T/srv/f.bin" ] || fail "file committed after the sender was killed"
have=$(fsize "$PART")
[ "$have" -gt 0 ] && [ "$have" -lt $SIZE ] || fail "partial file has $have bytes"
# the receiver notices the cut and keeps the partial file
for i in $(seq 400); do grep -q "interrupted" "$RLOG" && break; sleep 0.05; done
grep -q "f.bin interrupted at .*partial file kept" "$RLOG" || { cat "$RLOG"; fail "no interrupted log line"; }
"$IPCBOX" send "$T/src/f.bin" 127.0.0.1:"$RPORT" 2>"$T/s2.err" || { cat "$T/s2.err"; fail "resumed send exit"; }
grep -q "1 resumed" "$T/s2.err" || { cat "$T/s2.err"; fail "second run did not resume"; }
cmp -s "$T/src/f.bin" "$T/srv/f.bin" || fail "resumed file differs"
[ ! -e "$PART" ] || fail "partial file left after commit"
grep -q "stored f.bin.* resumed=yes" "$RLOG" || fail "recv log does not say resumed"
pass "kill -9 of the sender: the same command resumes, identical file"

# 2. kill -9 the receiver mid-transfer, restart it, send again
rm -f "$T/srv/f.bin"
"$IPCBOX" send --limit-rate 4m "$T/src/f.bin" 127.0.0.1:"$RPORT" 2>"$T/s3.err" &
SND=$!
PIDS+=("$SND")
wait_size "$PART" 2000000 30
kill -KILL "$RPID"
wait "$RPID" 2>/dev/null
wait_exit $SND 60
[ "$RC" = 1 ] || { cat "$T/s3.err"; fail "sender exit $RC after the receiver died, want 1"; }
grep -q "connection lost" "$T/s3.err" || { cat "$T/s3.err"; fail "sender message"; }
[ ! -e "$T/srv/f.bin" ] || fail "file committed after the receiver was killed"
have=$(fsize "$PART")
[ "$have" -gt 0 ] && [ "$have" -lt $SIZE ] || fail "partial file has $have bytes"
start_recv "$T/srv"
"$IPCBOX" send "$T/src/f.bin" 127.0.0.1:"$RPORT" 2>"$T/s4.err" || { cat "$T/s4.err"; fail "send after restart"; }
grep -q "1 resumed" "$T/s4.err" || { cat "$T/s4.err"; fail "did not resume after the receiver restart"; }
cmp -s "$T/src/f.bin" "$T/srv/f.bin" || fail "file differs after receiver restart"
pass "kill -9 of the receiver: restart, same command resumes, identical file"

# 3. a corrupted partial file is not trusted: the prefix hash differs,
#    the sender starts from 0, the result is still identical
rm -f "$T/srv/f.bin"
head -c 5000000 "$T/src/f.bin" >"$PART"
flip_byte "$PART" 4000
"$IPCBOX" send "$T/src/f.bin" 127.0.0.1:"$RPORT" 2>"$T/s5.err" || { cat "$T/s5.err"; fail "send over a corrupt prefix"; }
grep -q "0 resumed" "$T/s5.err" || { cat "$T/s5.err"; fail "a corrupt prefix was resumed"; }
cmp -s "$T/src/f.bin" "$T/srv/f.bin" || fail "file differs after a corrupt prefix"
pass "corrupted partial file: prefix mismatch detected, sent from 0, identical"

# 4. get resumes from its own partial file (same rules on the client)
head -c 7000000 "$T/src/f.bin" >"$T/out/.f.bin.ibxpart"
"$IPCBOX" get 127.0.0.1:"$RPORT" f.bin -o "$T/out" 2>"$T/g.err" || { cat "$T/g.err"; fail "get resume exit"; }
grep -q "1 resumed (6.7 MiB skipped)" "$T/g.err" || { cat "$T/g.err"; fail "get did not resume"; }
cmp -s "$T/src/f.bin" "$T/out/f.bin" || fail "get resumed file differs"
[ ! -e "$T/out/.f.bin.ibxpart" ] || fail "get left its partial file"
pass "get resumes from a partial local file"

# 5. a second sender of the same path meanwhile is told the file is busy
rm -f "$T/srv/f.bin" "$PART"
"$IPCBOX" send --limit-rate 2m "$T/src/f.bin" 127.0.0.1:"$RPORT" 2>"$T/s6.err" &
SND=$!
PIDS+=("$SND")
wait_size "$PART" 100000 30
"$IPCBOX" send "$T/src/f.bin" 127.0.0.1:"$RPORT" 2>"$T/s7.err"; rc=$?
[ $rc = 3 ] && grep -q "busy" "$T/s7.err" || { cat "$T/s7.err"; fail "concurrent same path: exit $rc"; }
kill -KILL $SND
wait $SND 2>/dev/null
pass "a concurrent transfer of the same path is refused as busy"
stop_recv
