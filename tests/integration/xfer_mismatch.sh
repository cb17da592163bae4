# Integrity: bytes of the temporary file are corrupted on disk while the
# transfer is paused (SIGSTOP of the sender). The receiver hashes what is
# on disk before committing, so the check fails: nothing is committed,
# the temporary file is removed, and both sides exit 4 with a clear
# message. Same with --hash sha256.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/srv" "$T/src" "$T/out"
mkrand "$T/src/m.bin" 8000000
PART="$T/srv/.m.bin.ibxpart"

for algo in xxh3 sha256; do
    start_recv "$T/srv" --once
    "$IPCBOX" send --hash $algo --limit-rate 4m "$T/src/m.bin" 127.0.0.1:"$RPORT" 2>"$T/s.err" &
    SND=$!
    PIDS+=("$SND")
    wait_size "$PART" 1000000 30
    kill -STOP $SND
    # change a byte well inside the part already written
    flip_byte "$PART" 4096
    kill -CONT $SND
    wait_exit $SND 60
    [ "$RC" = 4 ] || { cat "$T/s.err" "$RLOG"; fail "$algo: sender exit $RC, want 4"; }
    grep -q "hash mismatch" "$T/s.err" || { cat "$T/s.err"; fail "$algo: sender message"; }
    grep -q "nothing committed" "$T/s.err" || fail "$algo: sender does not say nothing was committed"
    wait_exit "$RPID" 30
    [ "$RC" = 4 ] || { cat "$RLOG"; fail "$algo: recv --once exit $RC, want 4"; }
    grep -q "error .*m.bin: hash mismatch ($algo" "$RLOG" || { cat "$RLOG"; fail "$algo: recv log"; }
    no_sanitizer_report "$RLOG"
    [ ! -e "$T/srv/m.bin" ] || fail "$algo: corrupted file committed"
    [ ! -e "$PART" ] || fail "$algo: corrupted temporary file kept"
    pass "$algo: corruption on disk mid-transfer: nothing committed, both exit 4"
done

# the next run is clean again (nothing stale was kept); untouched, the
# file was verified from disk as it was written (no second pass)
start_recv "$T/srv" --once
"$IPCBOX" send "$T/src/m.bin" 127.0.0.1:"$RPORT" 2>"$T/s.err" || { cat "$T/s.err"; fail "clean send"; }
wait_exit "$RPID" 30
[ "$RC" = 0 ] || fail "recv --once after a good transfer: exit $RC"
cmp -s "$T/src/m.bin" "$T/srv/m.bin" || fail "clean send differs"
grep -q "stored m.bin.* verified=as-written" "$RLOG" || { cat "$RLOG"; fail "clean run log"; }
pass "a clean run afterwards commits, recv --once exits 0"

# another process merely opening the temporary file mid-transfer is not
# held up for long (the receiver gives up its lease), and the receiver no
# longer trusts what it hashed while writing: it re-reads the whole file
rm -f "$T/srv/m.bin"
start_recv "$T/srv" --once
"$IPCBOX" send --limit-rate 4m "$T/src/m.bin" 127.0.0.1:"$RPORT" 2>"$T/s.err" &
SND=$!
PIDS+=("$SND")
wait_size "$PART" 1000000 30
# (the sender held still meanwhile, so that the temporary file is there to
# open: at 4 MB/s the transfer may otherwise end before cat starts)
kill -STOP $SND
timeout 20 cat "$PART" >/dev/null || fail "reading the temporary file mid-transfer"
kill -CONT $SND
wait_exit $SND 60
[ "$RC" = 0 ] || { cat "$T/s.err"; fail "send with a reader in between: exit $RC"; }
wait_exit "$RPID" 30
cmp -s "$T/src/m.bin" "$T/srv/m.bin" || fail "send with a reader in between differs"
grep -q "stored m.bin.* verified=re-read" "$RLOG" || { cat "$RLOG"; fail "not re-read after another open"; }
pass "another opener of the temporary file: not blocked, whole file re-read before commit"
