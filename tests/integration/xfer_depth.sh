# recv: one depth limit (--max-depth, default 32) for what an upload may
# create and for what `get --list` and the part-file sweep walk: a deeper
# offer is refused before anything is created; a tree deeper than the
# limit (made locally) makes `get --list` fail (no silently short list)
# and the sweep say it is incomplete; raising the limit lists and sweeps
# it. Also: an offer alone leaves no empty directory chain (refused,
# abandoned at the confirm), while an interrupted upload keeps its part
# file and the directories holding it.
. "$(dirname "$0")/../lib.sh"
[ -x "$TOOLS/xferpeer" ] || fail "missing xferpeer"
S="$T/srv"
mkdir -p "$S" "$T/src"
mkrand "$T/src/f.bin" 1000

# deep PREFIX N : the path PREFIX/d/d/.../d with N components
deep() { local p=$1 i; for i in $(seq "$2"); do p="$p/d"; done; echo "${p#/}"; }

for bad in 0 129 x -1; do
    "$IPCBOX" recv --dir "$S" --max-depth "$bad" 2>/dev/null; rc=$?
    [ $rc = 2 ] || fail "--max-depth $bad: exit $rc"
done
"$IPCBOX" recv --help | grep -q -- "--max-depth N" || fail "--help lacks --max-depth"

start_recv "$S" --log-level debug
# 33 directory levels: refused as a bad name, nothing created
p33="$(deep a 32)/f.bin"
out=$("$TOOLS/xferpeer" upload 127.0.0.1:"$RPORT" "$p33" "$T/src/f.bin") && fail "33 levels accepted: $out"
echo "$out" | grep -q "^ack 16 .*33 directory levels, more than the limit of 32" || fail "33 levels: $out"
[ ! -e "$S/a" ] || fail "a refused deep offer created directories"
"$IPCBOX" send --quiet "$T/src/f.bin" 127.0.0.1:"$RPORT" 2>/dev/null || fail "send f.bin"
# the real sender with a tree one level too deep: refused, exit 3
mkdir -p "$T/tree/$(deep x 32)"
cp "$T/src/f.bin" "$T/tree/$(deep x 32)/deep.bin"
"$IPCBOX" send --quiet "$T/tree/x" 127.0.0.1:"$RPORT" 2>"$T/send.err"; rc=$?
[ $rc = 3 ] && grep -q "more than the limit of 32" "$T/send.err" || { cat "$T/send.err"; fail "send of a too deep tree: exit $rc"; }
[ ! -e "$S/x" ] || fail "a refused deep send left directories"
# 32 levels: accepted, listed
p32="$(deep b 31)/f.bin"
out=$("$TOOLS/xferpeer" upload 127.0.0.1:"$RPORT" "$p32" "$T/src/f.bin") || fail "32 levels refused: $out"
"$IPCBOX" get 127.0.0.1:"$RPORT" --list >"$T/list" 2>"$T/list.err" || { cat "$T/list.err"; fail "get --list"; }
grep -q " $p32\$" "$T/list" || fail "the 32-level file is not listed"
pass "--max-depth 32: 33 levels refused before any mkdir (xferpeer and send exit 3); 32 accepted and listed"

# a tree made locally deeper than the limit: the listing is an error
mkdir -p "$S/$(deep c 40)"
cp "$T/src/f.bin" "$S/$(deep c 40)/hidden.bin"
head -c 10 /dev/urandom >"$S/$(deep c 40)/.old.bin.ibxpart"
touch -d '10 days ago' "$S/$(deep c 40)/.old.bin.ibxpart"
"$IPCBOX" get 127.0.0.1:"$RPORT" --list >"$T/list" 2>"$T/list.err"; rc=$?
[ $rc != 0 ] || fail "get --list of a too deep tree exited 0"
grep -q "listing incomplete: 1 entries not seen; the first: $(deep c 32): deeper than 32 directory levels" "$T/list.err" \
    || { cat "$T/list.err"; fail "get --list: no reason for the incomplete listing"; }
grep -q " f.bin\$" "$T/list" || fail "the rest of the listing is missing"
grep -q "listing incomplete" "$RLOG" || fail "no log line for the incomplete listing"
stop_recv
pass "a tree deeper than the limit: get --list exits $rc with the reason, recv logs it"

# the sweep says it cannot see there; with --max-depth 41 it sweeps there and lists all
start_recv "$S" --log-level debug
wait_log "part-file sweep incomplete: 1 entries not seen; the first: $(deep c 32): deeper than 32" 20
stop_recv
[ -e "$S/$(deep c 40)/.old.bin.ibxpart" ] || fail "the deep part file went away at depth 32"
start_recv "$S" --log-level debug --max-depth 41
wait_log "part-file sweep done" 20
[ ! -e "$S/$(deep c 40)/.old.bin.ibxpart" ] || fail "--max-depth 41 did not sweep the deep part file"
grep -q "sweep incomplete" "$RLOG" && fail "sweep incomplete at --max-depth 41"
"$IPCBOX" get 127.0.0.1:"$RPORT" --list >"$T/list" 2>"$T/list.err" || { cat "$T/list.err"; fail "get --list at 41"; }
grep -q " $(deep c 40)/hidden.bin\$" "$T/list" || fail "--max-depth 41 does not list the deep file"
stop_recv
pass "the sweep logs what it cannot reach; --max-depth 41 sweeps and lists it"

# an offer alone leaves no directory chain: abandoned at the confirm
start_recv "$S" --log-level debug
peer_paused ab "new/one/two/f.bin" "$T/src/f.bin" confirm
[ -d "$S/new/one/two" ] || fail "no directories while the offer is open"
kill -KILL "$UPID"; wait "$UPID" 2>/dev/null
wait_log "new/one/two/f.bin interrupted at 0.* peer=127.0.0.1:[0-9]*" 10
for i in $(seq 400); do [ -e "$S/new" ] || break; sleep 0.05; done
[ ! -e "$S/new" ] || { find "$S/new"; fail "an abandoned offer left directories"; }
# ... refused as busy while another connection holds it: only the holder's
peer_paused hold "keep/a/f.bin" "$T/src/f.bin" confirm
HPID=$UPID
out=$("$TOOLS/xferpeer" upload 127.0.0.1:"$RPORT" "keep/a/f.bin" "$T/src/f.bin") && fail "busy accepted"
echo "$out" | grep -q "^ack 21 " || fail "want busy: $out"
[ -d "$S/keep/a" ] || fail "a busy refusal removed the holder's directories"
peer_go hold
wait_exit "$HPID" 20; [ "$RC" = 0 ] || { cat "$T/hold.out"; fail "holder upload: exit $RC"; }
cmp -s "$T/src/f.bin" "$S/keep/a/f.bin" || fail "keep/a/f.bin differs"
# ... and an interrupted upload keeps its part file and the directories
mkrand "$T/src/big.bin" 300000
peer_paused cut "part/x/big.bin" "$T/src/big.bin" end
kill -KILL "$UPID"; wait "$UPID" 2>/dev/null
wait_log "part/x/big.bin interrupted" 10
[ -s "$S/part/x/.big.bin.ibxpart" ] || fail "an interrupted upload lost its part file"
stop_recv
pass "an offer alone leaves no directories; a busy refusal and an interrupted upload keep theirs"
