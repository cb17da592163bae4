# The coroutine model under abuse: many idle connections held at once (a
# stack each, counted in /proc/PID/maps) and then closed or reset leave no
# stack mapped behind; a
# client that resets while its coroutine is parked in a write ends that
# session alone (reason=error) and the server goes on serving.
. "$(dirname "$0")/../lib.sh"
need python3

# coroutine stacks mapped in process $1 (a guard and a stack each)
stacks() { python3 "$PYTOOLS/co_stacks.py" "$1"; }

N=1500
start_server "$T/hold.log" "$IPCBOX" echo --listen 127.0.0.1:0 --no-udp --model coroutine \
    --max-conns $((N + 100))
m0=$(stacks "$SPID")
python3 "$PYTOOLS/coro_hold.py" "$PORT" "$N" "$T/held" "$T/go" 2>"$T/hold.err" &
hp=$!
PIDS+=("$hp")
for _ in $(seq 2400); do [ -e "$T/held" ] && break; _alive "$hp" || break; sleep 0.05; done
[ -e "$T/held" ] || { cat "$T/hold.err"; fail "the $N connections were not all served"; }
m1=$(stacks "$SPID")
[ "$m1" -ge $((m0 + N)) ] || fail "holding $N idle coroutines: $m1 stacks mapped, from $m0"
touch "$T/go"
wait "$hp" || { cat "$T/hold.err"; fail "the holding client failed"; }
# every coroutine ends as its peer closes or resets: its stack goes
ok=""
for _ in $(seq 600); do
    [ "$(stacks "$SPID")" -le "$m0" ] && { ok=1; break; }
    sleep 0.05
done
[ -n "$ok" ] || fail "after $N connections closed or reset: $(stacks "$SPID") stacks mapped, from $m0"
out=$(printf 'still here\n' | timeout 20 nc -N 127.0.0.1 "$PORT")
[ "$out" = "still here" ] || fail "echo after the idle crowd: '$out'"
kill -TERM "$SPID"; wait_exit "$SPID" 20
[ "$RC" = 0 ] || { cat "$T/hold.log"; fail "exit $RC"; }
no_sanitizer_report "$T/hold.log"
pass "$N idle coroutines held ($((m1 - m0)) stacks), closed or reset: every stack unmapped"

# a reset while parked in a write: that session ends, the others do not
start_server "$T/rst.log" "$IPCBOX" echo --listen 127.0.0.1:0 --no-udp --model coroutine \
    --log-level debug
exec 3<>/dev/tcp/127.0.0.1/"$PORT"
printf 'bystander\n' >&3; read -r -t 10 a <&3
[ "$a" = bystander ] || fail "bystander: no echo"
# (0: what a parked write holds is all the coroutine holds)
python3 "$PYTOOLS/echo_stuck_client.py" "$PORT" "$T/stuck" 0 >/dev/null 2>&1 &
sp=$!
PIDS+=("$sp")
for _ in $(seq 600); do [ -e "$T/stuck" ] && break; sleep 0.05; done
[ -e "$T/stuck" ] || fail "the client never found the server's write stalled"
kill -KILL "$sp"   # unread echoes in its buffer: the kernel resets
wait "$sp" 2>/dev/null
wait_for "$T/rst.log" 'reason=error' 20 || { cat "$T/rst.log"; fail "no reason=error for the reset session"; }
printf 'still\n' >&3; read -r -t 10 b <&3
[ "$b" = still ] || fail "bystander lost after the reset: '$b'"
exec 3>&-
kill -TERM "$SPID"; wait_exit "$SPID" 20
[ "$RC" = 0 ] || { cat "$T/rst.log"; fail "exit $RC"; }
no_sanitizer_report "$T/rst.log"
pass "a reset during a parked write ends that session only (reason=error)"
