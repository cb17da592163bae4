# recv and free space, on an 8 MiB tmpfs in a private mount namespace:
# an offer that does not fit (with the --min-free reserve, and with what
# an upload in progress may still write) is refused before a byte is
# written and leaves no part file and no directories, and the sender
# shows why (exit 3); a transfer that runs out of space because the disk
# filled meanwhile removes its part file and tells the sender. The old
# code accepted, filled the disk and kept the part file.
. "$(dirname "$0")/../lib.sh"
private_mount_ns "$@"
[ -x "$TOOLS/xferpeer" ] || fail "missing xferpeer"
S="$T/srv"   # an 8 MiB tmpfs
mkdir -p "$T/src"
mount_tmpfs "$S" 8m

for bad in 91% x% -1 1q; do
    "$IPCBOX" recv --dir "$S" --min-free "$bad" 2>/dev/null; rc=$?
    [ $rc = 2 ] || fail "--min-free $bad: exit $rc"
done
"$IPCBOX" recv --help | grep -q -- "--min-free SIZE|N%" || fail "--help lacks --min-free"

# no_leftovers : nothing but committed files under $S
no_leftovers() {
    local left
    left=$(find "$S" -mindepth 1 -name '.*.ibxpart' -o -mindepth 1 -type d -empty)
    [ -z "$left" ] || fail "left behind: $left"
}

start_recv "$S" --log-level debug
# 1. 16 MiB into 8 MiB: refused at the offer, the sender says why
mkrand "$T/src/big.bin" $((16 << 20))
mkdir -p "$T/src/sub/dir"
cp "$T/src/big.bin" "$T/src/sub/dir/big.bin"
"$IPCBOX" send --quiet "$T/src/sub" 127.0.0.1:"$RPORT" 2>"$T/send.err"; rc=$?
[ $rc = 3 ] || { cat "$T/send.err"; fail "send of 16 MiB into 8 MiB: exit $rc, want 3"; }
grep -q "sub/dir/big.bin: .*16.0 MiB do not fit: .* free on the receiver" "$T/send.err" \
    || { cat "$T/send.err"; fail "the sender does not show why"; }
grep -q "refused: too big: sub/dir/big.bin" "$RLOG" || fail "no refusal log line"
[ ! -e "$S/sub" ] || { find "$S"; fail "a refused offer left directories"; }
no_leftovers
pass "16 MiB into 8 MiB: refused at the offer (send exit 3, reason shown); no part file, no directories"

# 2. the reserve: 5 MiB fits under the default (1%), not with --min-free 4m
mkrand "$T/src/five.bin" $((5 << 20))
stop_recv
start_recv "$S" --log-level debug --min-free 4m
"$IPCBOX" send --quiet "$T/src/five.bin" 127.0.0.1:"$RPORT" 2>"$T/send.err" && fail "--min-free 4m accepted 5 MiB"
grep -q "4.0 MiB kept free (--min-free)" "$T/send.err" || { cat "$T/send.err"; fail "reason"; }
no_leftovers
stop_recv
start_recv "$S" --log-level debug
"$IPCBOX" send --quiet "$T/src/five.bin" 127.0.0.1:"$RPORT" || fail "5 MiB refused under the default reserve"
cmp -s "$T/src/five.bin" "$S/five.bin" || fail "five.bin differs"
rm -f "$S/five.bin"
pass "--min-free: 5 MiB refused with 4m kept free, accepted with the default 1%"

# 3. what an upload in progress may still write counts: two 5 MiB offers
peer_paused one "one.bin" "$T/src/five.bin" confirm
P1=$UPID
out=$("$TOOLS/xferpeer" upload 127.0.0.1:"$RPORT" two.bin "$T/src/five.bin") && fail "second 5 MiB accepted"
echo "$out" | grep -q "^ack 18 .*promised to uploads in progress" || fail "second offer: $out"
peer_go one
wait_exit "$P1" 30; [ "$RC" = 0 ] || { cat "$T/one.out"; fail "first upload: exit $RC"; }
cmp -s "$T/src/five.bin" "$S/one.bin" || fail "one.bin differs"
rm -f "$S/one.bin"
no_leftovers
pass "an offer that fits alone but not beside an upload in progress is refused"

# 4. the disk fills during the transfer: the part file is removed, the sender told
mkrand "$T/src/four.bin" $((4 << 20))
peer_paused fill "deep/er/four.bin" "$T/src/four.bin" confirm
P2=$UPID
[ -e "$S/deep/er/.four.bin.ibxpart" ] || fail "no part file at the confirm"
head -c $((6 << 20)) /dev/zero >"$S/filler" 2>/dev/null   # fills it up
peer_go fill
wait_exit "$P2" 30
[ "$RC" != 0 ] || fail "upload into a full disk succeeded"
wait_log "deep/er/four.bin: No space left on device; the partial file was removed" 10
grep -q "error 20 .*No space left on device; the partial file was removed" "$T/fill.out" \
    || grep -q "send failed" "$T/fill.out" || { cat "$T/fill.out"; fail "peer output"; }
rm -f "$S/filler"
for i in $(seq 400); do [ -e "$S/deep" ] || break; sleep 0.05; done
no_leftovers
[ ! -e "$S/deep" ] || { find "$S"; fail "directories left after ENOSPC"; }
stop_recv
pass "ENOSPC during the transfer: part file and its directories removed, the peer got an error"
