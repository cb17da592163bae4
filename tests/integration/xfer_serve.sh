# recv under load and inside serve: many concurrent senders (and a get)
# on one event loop, graceful shutdown that lets a transfer finish, and
# the recv service of `ipcbox serve DIR`.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/srv" "$T/src" "$T/out"
N=8
for i in $(seq $N); do mkrand "$T/src/c$i.bin" $((1500000 + i * 1000)); done
mkrand "$T/srv/served.bin" 3000000

# N senders at once, rate-limited so that they overlap on the loop
start_recv "$T/srv"
SNDS=()
for i in $(seq $N); do
    "$IPCBOX" send --limit-rate 3m "$T/src/c$i.bin" 127.0.0.1:"$RPORT" 2>"$T/c$i.err" &
    SNDS+=($!)
    PIDS+=($!)
done
"$IPCBOX" get 127.0.0.1:"$RPORT" served.bin -o "$T/out" 2>"$T/get.err" || { cat "$T/get.err"; fail "get during uploads"; }
for i in $(seq $N); do
    wait_exit "${SNDS[$((i - 1))]}" 60
    [ "$RC" = 0 ] || { cat "$T/c$i.err"; fail "sender $i exit $RC"; }
    cmp -s "$T/src/c$i.bin" "$T/srv/c$i.bin" || fail "file $i differs"
done
cmp -s "$T/srv/served.bin" "$T/out/served.bin" || fail "get during uploads differs"
[ "$(grep -c "stored c" "$RLOG")" = $N ] || fail "recv did not log $N stores"
pass "$N concurrent senders and a get on one loop: all identical"

# SIGTERM during a transfer: the transfer finishes, then recv exits 0
mkrand "$T/src/slow.bin" 3000000
"$IPCBOX" send --limit-rate 2m "$T/src/slow.bin" 127.0.0.1:"$RPORT" 2>"$T/slow.err" &
SND=$!
PIDS+=($SND)
wait_size "$T/srv/.slow.bin.ibxpart" 100000 30
kill -TERM "$RPID"
wait_exit $SND 60
[ "$RC" = 0 ] || { cat "$T/slow.err" "$RLOG"; fail "sender during drain: exit $RC"; }
cmp -s "$T/src/slow.bin" "$T/srv/slow.bin" || fail "drained transfer differs"
wait_exit "$RPID" 30
[ "$RC" = 0 ] || { cat "$RLOG"; fail "recv after drain: exit $RC"; }
no_sanitizer_report "$RLOG"
pass "SIGTERM lets the running transfer finish, then recv exits 0"

# the recv service of serve
mkdir -p "$T/served"
start_server "$T/serve.log" "$IPCBOX" serve "$T/served" $(serve_only recv) --recv-listen 127.0.0.1:0
SERVE=$SPID
P=$(port_of "$T/serve.log" "recv")
[ -n "$P" ] || { cat "$T/serve.log"; fail "serve did not start recv"; }
"$IPCBOX" send "$T/src/c1.bin" 127.0.0.1:"$P" 2>"$T/s.err" || { cat "$T/s.err"; fail "send to serve"; }
cmp -s "$T/src/c1.bin" "$T/served/c1.bin" || fail "serve: file not in its directory"
"$IPCBOX" get 127.0.0.1:"$P" --list | grep -q " c1.bin$" || fail "serve: list"
kill -TERM $SERVE
wait_exit $SERVE 20
[ "$RC" = 0 ] || fail "serve exit $RC"
no_sanitizer_report "$T/serve.log"
pass "serve DIR hosts recv (send, list)"

# every server model carries the same protocol
for m in $(server_models epoll coroutine); do   # epoll (the default): above; coroutine: no handler
    mkdir -p "$T/m-$m" "$T/mo-$m"
    start_recv "$T/m-$m" --model $m --workers 2
    "$IPCBOX" send "$T/src/c2.bin" "$T/src/c3.bin" 127.0.0.1:"$RPORT" 2>"$T/m.err" \
        || { cat "$T/m.err" "$RLOG"; fail "model $m: send"; }
    "$IPCBOX" get 127.0.0.1:"$RPORT" c2.bin -o "$T/mo-$m" 2>"$T/m.err" \
        || { cat "$T/m.err" "$RLOG"; fail "model $m: get"; }
    cmp -s "$T/src/c3.bin" "$T/m-$m/c3.bin" && cmp -s "$T/src/c2.bin" "$T/mo-$m/c2.bin" \
        || fail "model $m: content"
    stop_recv
done
pass "recv under every other server model ($(server_models epoll | paste -sd " "))"

# --grace 0: SIGTERM aborts a running transfer; the sender exits 1 and the
# partial file is kept, so the next run resumes
mkdir -p "$T/abort"
start_recv "$T/abort" --grace 0
"$IPCBOX" send --limit-rate 2m "$T/src/slow.bin" 127.0.0.1:"$RPORT" 2>"$T/ab.err" &
SND=$!
PIDS+=($SND)
wait_size "$T/abort/.slow.bin.ibxpart" 100000 30
kill -TERM "$RPID"
wait_exit $SND 60
[ "$RC" = 1 ] || { cat "$T/ab.err"; fail "sender after an aborting shutdown: exit $RC, want 1"; }
grep -Eq "shutting down|connection lost" "$T/ab.err" || { cat "$T/ab.err"; fail "sender message"; }
wait_exit "$RPID" 20
[ "$RC" = 0 ] || fail "recv --grace 0 exit $RC"
[ -s "$T/abort/.slow.bin.ibxpart" ] && [ ! -e "$T/abort/slow.bin" ] || fail "partial file not kept"
start_recv "$T/abort"
"$IPCBOX" send "$T/src/slow.bin" 127.0.0.1:"$RPORT" 2>"$T/ab.err" || fail "resume after abort"
grep -q "1 resumed" "$T/ab.err" && cmp -s "$T/src/slow.bin" "$T/abort/slow.bin" || fail "resume after abort: content"
stop_recv
pass "SIGTERM with --grace 0 aborts (sender exit 1), the next run resumes"
