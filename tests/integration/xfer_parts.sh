# recv --part-ttl: hidden part files of interrupted uploads that nobody
# used for longer than the TTL are removed at start and periodically, one
# log line each; young ones, other names, symlinks and a part file that a
# live connection holds are kept. Ages are made with touch -d.
. "$(dirname "$0")/../lib.sh"

PEER="$TOOLS/xferpeer"
[ -x "$PEER" ] || fail "missing $PEER"
S="$T/srv"
mkdir -p "$S/d/e" "$T/src" "$T/outside"

# wait_sweeps N : the recv log shows at least N finished sweeps (20 s)
wait_sweeps() {
    local i
    for i in $(seq 400); do
        [ "$(grep -c 'part-file sweep done' "$RLOG")" -ge "$1" ] && return 0
        sleep 0.05
    done
    cat "$RLOG" >&2
    fail "fewer than $1 part-file sweeps logged"
}

# usage errors
for bad in -1 7x 1.5d "" d 99999999999d; do
    "$IPCBOX" recv --dir "$S" --part-ttl "$bad" 2>"$T/u.err"; rc=$?
    [ $rc = 2 ] && grep -q -- "--part-ttl" "$T/u.err" || fail "--part-ttl '$bad': exit $rc"
done
"$IPCBOX" recv --help | grep -q -- "--part-ttl DURATION" || fail "--help lacks --part-ttl"
pass "--part-ttl: bad durations are usage errors; documented in --help"

# 1. at start, with the default TTL (7 days)
old() { head -c "$2" /dev/urandom >"$1"; touch -d '10 days ago' "$1"; }
old "$S/.a.bin.ibxpart" 1000
old "$S/d/e/.deep.txt.ibxpart" 2000
head -c 10 /dev/urandom >"$S/.young.bin.ibxpart"
touch -d '6 days ago' "$S/.young.bin.ibxpart"
old "$S/notpart.ibxpart" 10           # no leading dot: a user's file
old "$S/.hidden" 10                   # no suffix
old "$S/x.bin" 10                     # an ordinary old file
mkdir "$S/.dir.ibxpart"               # a directory of that name
touch -d '10 days ago' "$S/.dir.ibxpart"
old "$T/outside/target" 10
ln -s "$T/outside/target" "$S/.link.ibxpart"
touch -h -d '10 days ago' "$S/.link.ibxpart"
start_recv "$S" --log-level debug
wait_sweeps 1
[ ! -e "$S/.a.bin.ibxpart" ] || fail "stale part file kept at start"
[ ! -e "$S/d/e/.deep.txt.ibxpart" ] || fail "stale nested part file kept at start"
for f in .young.bin.ibxpart notpart.ibxpart .hidden x.bin .dir.ibxpart .link.ibxpart; do
    [ -e "$S/$f" ] || fail "$f was removed"
done
[ -e "$T/outside/target" ] || fail "the symlink's target was removed"
[ "$(grep -c 'removed stale part file' "$RLOG")" = 2 ] || { cat "$RLOG"; fail "want 2 removal lines"; }
grep -q "removed stale part file \.a\.bin\.ibxpart (1000 bytes, unused for 10\.0 days)" "$RLOG" \
    || { cat "$RLOG"; fail "removal line for .a.bin.ibxpart"; }
grep -q "removed stale part file d/e/\.deep\.txt\.ibxpart (2000 bytes" "$RLOG" \
    || { cat "$RLOG"; fail "removal line for d/e/.deep.txt.ibxpart"; }
stop_recv
pass "at start: 2 stale part files removed with a line each; young, other names, symlink kept"

# 2. --part-ttl 0 keeps everything (no sweep at all)
old "$S/.keep.bin.ibxpart" 100
start_recv "$S" --part-ttl 0 --log-level debug
mkrand "$T/src/k.bin" 1000
"$IPCBOX" send --quiet "$T/src/k.bin" 127.0.0.1:"$RPORT" || fail "send with --part-ttl 0"
stop_recv
[ -e "$S/.keep.bin.ibxpart" ] || fail "--part-ttl 0 removed a part file"
grep -q "part-file sweep" "$RLOG" && fail "--part-ttl 0 swept"
pass "--part-ttl 0: part files are kept forever"

# 3. periodically: a part file that goes stale while the server runs, and
#    one held by a live connection that stopped before its first byte
start_recv "$S" --part-ttl 3s --log-level debug
wait_sweeps 1
[ ! -e "$S/.keep.bin.ibxpart" ] || fail "--part-ttl 3s kept a 10-day-old part file"
mkrand "$T/src/live.bin" 400000
rm -f "$T/live.in"
mkfifo "$T/live.in"
"$PEER" upload 127.0.0.1:"$RPORT" live.bin "$T/src/live.bin" confirm \
    <"$T/live.in" >"$T/live.out" 2>&1 &
UPID=$!
PIDS+=("$UPID")
exec 3>"$T/live.in"
for i in $(seq 200); do grep -q paused "$T/live.out" && break; sleep 0.05; done
grep -q paused "$T/live.out" || { cat "$T/live.out"; fail "xferpeer did not pause"; }
[ -e "$S/.live.bin.ibxpart" ] || fail "no part file for the live upload"
# both look an hour old; only the first is free
head -c 50 /dev/urandom >"$S/.late.bin.ibxpart"
touch -d '1 hour ago' "$S/.late.bin.ibxpart" "$S/.live.bin.ibxpart"
for i in $(seq 400); do grep -q "removed stale part file \.late\.bin\.ibxpart" "$RLOG" && break; sleep 0.05; done
grep -q "removed stale part file \.late\.bin\.ibxpart" "$RLOG" || { cat "$RLOG"; fail "no periodic removal"; }
# two more whole sweeps that saw the held file as stale
for i in $(seq 400); do
    [ "$(grep -c '[1-9] stale but in use' "$RLOG")" -ge 2 ] && break
    sleep 0.05
done
[ "$(grep -c '[1-9] stale but in use' "$RLOG")" -ge 2 ] || { cat "$RLOG"; fail "sweeps did not see the held file"; }
[ -e "$S/.live.bin.ibxpart" ] || fail "the part file of a live connection was removed"
grep -q "removed stale part file \.live" "$RLOG" && fail "live part file logged as removed"
echo go >&3
exec 3>&-
wait_exit "$UPID" 30
[ "$RC" = 0 ] || { cat "$T/live.out" "$RLOG"; fail "live upload after the sweeps: exit $RC"; }
cmp -s "$T/src/live.bin" "$S/live.bin" || fail "live.bin differs"
[ "$(grep -c 'removed stale part file' "$RLOG")" -ge 2 ] || fail "removal lines"
stop_recv
pass "periodic sweep: a file gone stale is removed; the one a live connection holds is kept and commits"
