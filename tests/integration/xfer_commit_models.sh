# Many concurrent uploads, in every server model recv supports, are all
# committed byte-identical (each commit runs on its own thread and answers
# the client from the loop afterwards); nothing is left half-done, and a
# SIGTERM right after leaves the server exiting cleanly.
. "$(dirname "$0")/../lib.sh"

N=12
mkdir -p "$T/src/d"
for i in $(seq $N); do
    mkrand "$T/src/f$i.bin" $((100000 + i * 37000))
done
mkrand "$T/src/d/nested.bin" 500000
# the multi-file session's second file has a name of its own: were it f1.bin,
# recv would rightly refuse one of the two concurrent uploads of f1.bin as
# busy (exit 3), by timing alone
mkrand "$T/src/multi.bin" 137000

for model in $(server_models coroutine); do   # coroutine: recv has no coroutine handler
    extra=()
    case $model in threadpool|reuseport|prefork) extra=(--workers 2) ;; esac
    rm -rf "$T/srv"
    mkdir -p "$T/srv"
    start_recv "$T/srv" --model $model "${extra[@]}"
    pids=()
    for i in $(seq $N); do
        "$IPCBOX" send --quiet --timeout 60 "$T/src/f$i.bin" 127.0.0.1:"$RPORT" \
            2>"$T/s$i.err" &
        pids+=($!)
        PIDS+=($!)
    done
    # one session with several files in a row (the next OFFER follows an ACK
    # that a commit on another thread produced)
    "$IPCBOX" send --quiet --timeout 60 "$T/src/d" "$T/src/multi.bin" 127.0.0.1:"$RPORT" \
        2>"$T/multi.err" &
    pids+=($!)
    PIDS+=($!)
    for p in "${pids[@]}"; do
        wait_exit "$p" 120
        [ "$RC" = 0 ] || { cat "$T"/s*.err "$T/multi.err" "$RLOG"; fail "$model: a send exited $RC"; }
    done
    for i in $(seq $N); do
        cmp -s "$T/src/f$i.bin" "$T/srv/f$i.bin" || fail "$model: f$i.bin differs"
    done
    cmp -s "$T/src/d/nested.bin" "$T/srv/d/nested.bin" || fail "$model: d/nested.bin differs"
    cmp -s "$T/src/multi.bin" "$T/srv/multi.bin" || fail "$model: multi.bin differs"
    left=$(find "$T/srv" -name '*.ibxpart' | wc -l)
    [ "$left" = 0 ] || fail "$model: $left part files left"
    stored=$(grep -c "stored f[0-9]*.bin" "$RLOG")
    [ "$stored" -ge $N ] || { cat "$RLOG"; fail "$model: $stored stored lines, want $N or more"; }
    stop_recv
    [ "$RC" = 0 ] || { cat "$RLOG"; fail "$model: recv exit $RC after SIGTERM"; }
done
pass "$N concurrent uploads + a multi-file session, every model ($(server_models coroutine | wc -l)): all committed, identical"
