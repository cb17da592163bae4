# Progress display of the clients (send, get, tftp) as a terminal shows
# it: each runs in a pseudo-terminal of 60, 80 and 120 columns
# (tests/tools/pty_run.py), whose output is replayed through a small
# terminal emulator. Asserted: no row is ever wider than width - 1 and
# nothing wraps; redraws stay on one row (a 300-file directory ends as one
# row: the summary); the overall line counts files done/total and skipped
# (unchanged) files; a summary line ends each run; a resized window is
# followed. Off a TTY: plain periodic lines, never a \r. --no-progress:
# the summary only; -q: nothing. Durations are bounded below with
# --limit-rate where a frame must exist, never measured.
. "$(dirname "$0")/../lib.sh"
need python3
PTY=(python3 "$PYTOOLS/pty_run.py")

# run_tty COLS NAME CMD... : run CMD on a COLS-wide pty, output in $T/NAME
run_tty() {
    local cols=$1 name=$2
    shift 2
    local rc=0
    "${PTY[@]}" run --cols "$cols" --timeout 120 --out "$T/$name" -- "$@" || rc=$?
    [ $rc = 0 ] || { cat -A "$T/$name" | tail -5 >&2; fail "$name: exit $rc"; }
}

# check_tty COLS NAME CHECKS... : what a COLS-wide terminal shows of $T/NAME
check_tty() {
    local cols=$1 name=$2
    shift 2
    "${PTY[@]}" screen --cols "$cols" --check "$@" "$T/$name" >"$T/$name.json" \
        || { cat "$T/$name.json" | cut -c1-3000 >&2; fail "$name"; }
}

mkdir -p "$T/srv" "$T/src/tree" "$T/troot"
for i in $(seq 300); do
    head -c $((i * 13)) /dev/urandom >"$T/src/tree/f$i.bin"
done
# a long name with two-byte and wide (two-column) characters
long="$T/src/tree/$(printf '\346\227\245\346\234\254\350\252\236')-caf$(printf '\303\251')-a-rather-long-file-name-that-never-fits-on-a-narrow-terminal-line.bin"
mkrand "$long" 5000
mkrand "$T/troot/big.bin" 8000000
start_recv "$T/srv"
start_tftpd "$T/tftpd.log" --create "$T/troot"
TPORT=$PORT
TSPID=$SRV_PID
gets=()
for i in $(seq 40); do gets+=("tree/f$i.bin"); done

for cols in 60 80 120; do
    rm -rf "$T/srv/tree" "$T/srv/big.bin" "$T/out"
    mkrand "$T/src/big.bin" 3000000

    # a directory of 301 files: one overall line, redrawn in place
    run_tty "$cols" send1.$cols "$IPCBOX" send "$T/src/tree" 127.0.0.1:"$RPORT"
    check_tty "$cols" send1.$cols --max-rows 1 --frame '(^|[^0-9])0/301 files' \
        --last '^send: 301 files: 301 ok'
    # again, plus a new file: 301 skipped, counted while big.bin moves
    run_tty "$cols" send2.$cols "$IPCBOX" send --limit-rate 4m "$T/src/tree" \
        "$T/src/big.bin" 127.0.0.1:"$RPORT"
    check_tty "$cols" send2.$cols --max-rows 1 --frame '301/302 files, 301 skipped' \
        --last '^send: 302 files: 1 ok, 301 unchanged'
    cmp -s "$T/src/big.bin" "$T/srv/big.bin" || fail "big.bin differs"
    pass "send at $cols columns: 301 files on one row, skipped counted, summary"

    # get 41 names, then the same again (all unchanged)
    run_tty "$cols" get1.$cols "$IPCBOX" get -o "$T/out" 127.0.0.1:"$RPORT" "${gets[@]}" big.bin
    check_tty "$cols" get1.$cols --max-rows 1 --frame '0/41 files' --last '^get: 41 files: 41 ok'
    run_tty "$cols" get2.$cols "$IPCBOX" get -o "$T/out" 127.0.0.1:"$RPORT" "${gets[@]}" big.bin
    # (get cannot be slowed down, so whether a frame after the first file
    # shows is left to the clock: the skipped count of the live line is
    # asserted for send above, and in tests/unit/test_progress.c)
    check_tty "$cols" get2.$cols --max-rows 1 --frame '(^|[^0-9])[01]/41 files' \
        --last '^get: 41 files: 0 ok, 41 unchanged'
    cmp -s "$T/src/big.bin" "$T/out/big.bin" || fail "get: big.bin differs"
    pass "get at $cols columns: one row, skipped counted, summary"

    # tftp: one large file each way
    rm -f "$T/got.bin" "$T/troot/up.bin"
    run_tty "$cols" tget.$cols "$IPCBOX" tftp --blksize 8192 --windowsize 16 \
        127.0.0.1:"$TPORT" get big.bin "$T/got.bin"
    check_tty "$cols" tget.$cols --max-rows 1 --frame '/7.6 MiB' \
        --last '^tftp get big.bin: 7.6 MiB in '
    cmp -s "$T/troot/big.bin" "$T/got.bin" || fail "tftp get: differs"
    run_tty "$cols" tput.$cols "$IPCBOX" tftp --blksize 8192 --windowsize 16 \
        127.0.0.1:"$TPORT" put up.bin "$T/got.bin"
    check_tty "$cols" tput.$cols --max-rows 1 --frame '/7.6 MiB' \
        --last '^tftp put up.bin: 7.6 MiB in '
    cmp -s "$T/troot/big.bin" "$T/troot/up.bin" || fail "tftp put: differs"
    pass "tftp get and put at $cols columns: one row, bytes of the total, summary"
done

# a window made narrower during the run: the next redraws fit it
rm -f "$T/srv/big.bin"
"${PTY[@]}" run --cols 120 --resize-after 1:60 --out "$T/resize" -- \
    "$IPCBOX" send --limit-rate 2m "$T/src/big.bin" 127.0.0.1:"$RPORT" \
    || fail "send in a resized window"
[ -s "$T/resize.resize" ] || fail "window not resized"
"${PTY[@]}" screen --cols 120 --resize "$(cat "$T/resize.resize")" --check \
    --frame 'ETA' --last '^send: 1 file: 1 ok' "$T/resize" >"$T/resize.json" \
    || { cat "$T/resize.json" >&2; fail "resized window"; }
pass "a resized window (120 -> 60 columns) is followed at the next redraw"

# off a TTY: plain lines at intervals (6 s at 512 KiB/s: at least one
# before the summary), never a carriage return or an escape
rm -f "$T/srv/big.bin"
"$IPCBOX" send --limit-rate 512k "$T/src/big.bin" 127.0.0.1:"$RPORT" 2>"$T/plain" \
    || { cat "$T/plain"; fail "send off a TTY"; }
! grep -q $'[\r\033]' "$T/plain" || { cat -A "$T/plain"; fail "\\r or escape off a TTY"; }
[ "$(wc -l <"$T/plain")" -ge 2 ] || { cat "$T/plain"; fail "no periodic line"; }
head -n1 "$T/plain" | grep -Eq '^send: [0-9]+% [01]/1 files .* big.bin$' \
    || { cat "$T/plain"; fail "periodic line"; }
tail -n1 "$T/plain" | grep -q '^send: 1 file: 1 ok' || { cat "$T/plain"; fail "summary"; }
pass "off a TTY: plain periodic lines, then the summary"

# --no-progress: the summary only, no redraws; -q: nothing at all
run_tty 80 np.send "$IPCBOX" send --no-progress "$T/src/tree" 127.0.0.1:"$RPORT"
check_tty 80 np.send --no-redraws --max-rows 1 --last '^send: 301 files: 0 ok, 301 unchanged'
run_tty 80 np.get "$IPCBOX" get --no-progress -o "$T/out" 127.0.0.1:"$RPORT" "${gets[@]}"
check_tty 80 np.get --no-redraws --max-rows 1 --last '^get: 40 files: 0 ok, 40 unchanged'
run_tty 80 np.tftp "$IPCBOX" tftp --no-progress --blksize 8192 --windowsize 16 \
    127.0.0.1:"$TPORT" get big.bin "$T/got2.bin"
check_tty 80 np.tftp --no-redraws --max-rows 1 --last '^tftp get big.bin: '
pass "--no-progress: the summary line only"
run_tty 80 q.send "$IPCBOX" send -q "$T/src/tree" 127.0.0.1:"$RPORT"
run_tty 80 q.get "$IPCBOX" get --quiet -o "$T/out" 127.0.0.1:"$RPORT" "${gets[@]}"
run_tty 80 q.tftp "$IPCBOX" tftp -q --blksize 8192 --windowsize 16 \
    127.0.0.1:"$TPORT" get big.bin "$T/got3.bin"
for f in q.send q.get q.tftp; do
    [ ! -s "$T/$f" ] || { cat -A "$T/$f"; fail "$f: output despite --quiet"; }
done
pass "-q / --quiet: no output"
stop_recv
kill -TERM "$TSPID"
wait_exit "$TSPID" 20
[ "$RC" != timeout ] || fail "tftpd did not stop on SIGTERM"
no_sanitizer_report "$T/tftpd.log"
