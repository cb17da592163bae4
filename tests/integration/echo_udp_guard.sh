# echo --udp answers no datagram that could start a loop or be forged
# into a flood: a self-addressed datagram (source = our own address and
# port, forged with a raw socket) is dropped, also when bound to 0.0.0.0
# or [::]; two echo servers made to ping-pong stop after a bounded number
# of datagrams (the per-source rate drops one, and a ping-pong has only one
# in flight); a source port below 1024 gets no answer; a flooding source is
# cut to its rate while another source is still answered. Counts, not
# timings: the old code loops for ever (the sniffer sees thousands).
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (raw sockets forge the source address)"
PY=$(python3 -c "import sys; print(sys.executable)") || skip "needs python3"
FORGE="$PY $PYTOOLS/udp_forge.py"

# bad flags
for bad in "--udp-rate -1" "--udp-rate x" "--udp-burst 0"; do
    "$IPCBOX" echo --udp $bad 2>/dev/null; rc=$?
    [ $rc = 2 ] || fail "echo $bad: exit $rc, want 2"
done
"$IPCBOX" echo --help | grep -q -- "--udp-rate N" || fail "--help lacks --udp-rate"

# 1. a self-addressed datagram, on a specific address and on wildcards
for listen in 127.0.0.1:0 0.0.0.0:0 "[::]:0"; do
    start_server "$T/self.log" "$IPCBOX" echo --udp --listen "$listen"
    n=$($FORGE selfloop "$PORT") || fail "udp_forge selfloop"
    [ "$n" -le 2 ] || fail "$listen: self-addressed datagram looped ($n copies seen)"
    # still answers an ordinary client; its answer also means the server
    # has read the forged datagram (it came first on the same socket), so
    # its log line is there
    r=$($FORGE probe "$PORT")
    [ "$r" = answered ] || fail "$listen: ordinary client $r"
    grep -q "dropped a datagram from 127.0.0.1:$PORT: from our own port" "$T/self.log" \
        || grep -q "dropped a datagram from \[::ffff:127.0.0.1\]:$PORT: from our own port" "$T/self.log" \
        || { cat "$T/self.log" >&2; fail "$listen: no log line for the dropped datagram"; }
    kill -TERM "$SPID"; wait_exit "$SPID" 10; [ "$RC" = 0 ] || fail "exit $RC"
    no_sanitizer_report "$T/self.log"
done
pass "a forged self-addressed datagram is dropped and logged (127.0.0.1, 0.0.0.0, [::])"

# 2. two echo servers made to ping-pong: the loop ends
# (a rate well below what a loopback loop runs at, even under ASan on a
# loaded machine, so the bucket empties fast; the default 1000/s stops it
# too, but after a number of datagrams that depends on the machine's speed)
start_server "$T/a.log" "$IPCBOX" echo --udp --udp-rate 200 --listen 127.0.0.1:0; PA=$PORT; APID=$SPID
start_server "$T/b.log" "$IPCBOX" echo --udp --udp-rate 200 --listen 127.0.0.1:0; PB=$PORT; BPID=$SPID
n=$($FORGE pingpong "$PA" "$PB") || fail "udp_forge pingpong"
[ "$n" != loop ] || fail "two echo servers ping-pong for ever"
[ "$n" -le 5000 ] || fail "ping-pong ran $n datagrams before it stopped"
cat "$T/a.log" "$T/b.log" | grep -q "over the per-source rate (--udp-rate)" \
    || { cat "$T/a.log" "$T/b.log" >&2; fail "no rate-limit log line"; }
pass "a forged ping-pong between two echo servers stops ($n datagrams)"

# 3. a source port below 1024 is not answered
r=$($FORGE privport "$PA") || fail "udp_forge privport"
[ "$r" = dropped ] || fail "source port below 1024: $r"
grep -q "from a port below 1024" "$T/a.log" || fail "no log line for the privileged port"
pass "a datagram from a port below 1024 is not answered"
for p in $APID $BPID; do kill -TERM $p; wait_exit $p 10; [ "$RC" = 0 ] || fail "exit $RC"; done
no_sanitizer_report "$T/a.log"; no_sanitizer_report "$T/b.log"

# 4. per-source rate: 1000 datagrams from one source get about the burst;
#    another source is answered throughout
start_server "$T/r.log" "$IPCBOX" echo --udp --listen 127.0.0.1:0 --udp-rate 10 --udp-burst 20
read -r _ sent _ got _ probes < <($FORGE rate "$PORT" 10 100) || fail "udp_forge rate"
[ "$probes" = 10 ] || fail "the other source got $probes of 10 answers"
[ "$got" -ge 20 ] && [ "$got" -lt 500 ] || fail "flooding source: $got of $sent answered"
grep -q "over the per-source rate" "$T/r.log" || fail "no rate log line"
kill -TERM "$SPID"; wait_exit "$SPID" 10; [ "$RC" = 0 ] || fail "exit $RC"
no_sanitizer_report "$T/r.log"
[ "$(grep -c 'dropped' "$T/r.log")" -le 20 ] || fail "drop log lines are not rate-limited"
pass "rate 10/s burst 20: $got of $sent answered; the other source got all 10"
