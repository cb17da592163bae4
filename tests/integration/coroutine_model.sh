# The coroutine model: echo runs its coroutine handler (idle timeout, the
# connection cap, a grace period that ends a session stuck in a write);
# services without a coroutine handler refuse the model with one line
# naming --model (exit 2), and serve goes on without them.
. "$(dirname "$0")/../lib.sh"
need python3

# refused by the services that only have a state machine
mkdir -p "$T/root"
for s in httpd chatd recv; do
    args=(--listen 127.0.0.1:0 --model coroutine)
    [ $s = chatd ] || args+=("$T/root")
    rc=0
    "$IPCBOX" $s "${args[@]}" >"$T/$s.out" 2>"$T/$s.err" || rc=$?
    [ "$rc" = 2 ] || { cat "$T/$s.err"; fail "$s: exit $rc, want 2"; }
    [ "$(wc -l <"$T/$s.err")" = 1 ] || { cat "$T/$s.err"; fail "$s: not one line"; }
    grep -q "$s cannot run under the coroutine model: it has no coroutine handler\" flag=--model" \
        "$T/$s.err" || { cat "$T/$s.err"; fail "$s: message"; }
done
pass "httpd, chatd and recv refuse --model coroutine with one line (exit 2)"

# serve: echo runs as coroutines, the others are skipped with a line each
start_server "$T/serve.log" "$IPCBOX" serve "$T/root" $(serve_only echo httpd chatd) \
    --echo-listen 127.0.0.1:0 --httpd-listen 127.0.0.1:0 --chatd-listen 127.0.0.1:0 \
    --model coroutine
# (start_server returned at echo's line; httpd is left out after it: wait
# for serve's summary, written once every service started or was left out)
wait_for "$T/serve.log" 'service(s) on one loop' || fail "serve: no summary line"
# (nc -N: its half-close ends the session and nc leaves when the echo
# closes it; -q1 gave the answer only a second)
out=$(printf 'via serve\n' | timeout 20 nc -N 127.0.0.1 "$PORT")
[ "$out" = "via serve" ] || { cat "$T/serve.log"; fail "serve: echo got '$out'"; }
for s in httpd chatd; do
    grep -q "$s cannot run under the coroutine model.*serve goes on without it" "$T/serve.log" \
        || { cat "$T/serve.log"; fail "serve: $s not skipped with a line"; }
done
grep -q 'echo\[[0-9]*\]: msg="listening on .* proto=tcp model=coroutine' "$T/serve.log" \
    || { cat "$T/serve.log"; fail "serve: echo not under the coroutine model"; }
kill -TERM "$SPID"; wait_exit "$SPID" 15
[ "$RC" = 0 ] || fail "serve exit $RC"
no_sanitizer_report "$T/serve.log"
pass "serve --model coroutine runs echo and skips the others with a line each"

# --idle: a silent connection is closed (reason=idle); the timer restarts
# with each read
start_server "$T/idle.log" "$IPCBOX" echo --listen 127.0.0.1:0 --no-udp --model coroutine \
    --idle 1 --log-level debug
exec 3<>/dev/tcp/127.0.0.1/"$PORT"
printf 'x\n' >&3; read -r -t 10 a <&3
[ "$a" = x ] || fail "idle: no echo"
read -r -t 20 b <&3 && fail "idle: got '$b' instead of EOF"
exec 3>&-
wait_for "$T/idle.log" 'reason=idle' 10 || fail "idle: no reason=idle line"
kill -TERM "$SPID"; wait_exit "$SPID" 10
[ "$RC" = 0 ] || fail "idle: exit $RC"
no_sanitizer_report "$T/idle.log"
pass "--idle closes a silent connection under the coroutine model"

# A client that never reads keeps a write parked: draining cannot finish
# it, the grace period (1 s) aborts it, and the server exits 0.
start_server "$T/grace.log" "$IPCBOX" echo --listen 127.0.0.1:0 --no-udp --model coroutine \
    --grace 1 --log-level debug
# (0: what a parked write holds is all the coroutine holds)
python3 "$PYTOOLS/echo_stuck_client.py" "$PORT" "$T/stuck" 0 >/dev/null 2>&1 &
PIDS+=("$!")
for i in $(seq 600); do [ -e "$T/stuck" ] && break; sleep 0.05; done
[ -e "$T/stuck" ] || fail "grace: the client never found the server stuck"
kill -TERM "$SPID"
wait_exit "$SPID" 15
[ "$RC" = 0 ] || { cat "$T/grace.log" >&2; fail "grace: exit $RC"; }
grep -q 'reason=shutdown' "$T/grace.log" || { cat "$T/grace.log"; fail "grace: no shutdown close"; }
no_sanitizer_report "$T/grace.log"
pass "the grace period ends a coroutine stuck in a write"

# Drain wakes a coroutine parked in a read: an idle session ends at once on
# SIGTERM, long before the grace period (60 s) would abort it.
start_server "$T/drain.log" "$IPCBOX" echo --listen 127.0.0.1:0 --no-udp --model coroutine \
    --grace 60 --log-level debug
exec 3<>/dev/tcp/127.0.0.1/"$PORT"
printf 'y\n' >&3; read -r -t 10 a <&3
[ "$a" = y ] || fail "drain: no echo"
kill -TERM "$SPID"
read -r -t 20 b <&3 && fail "drain: got '$b' instead of EOF"
exec 3>&-
wait_exit "$SPID" 20
[ "$RC" = 0 ] || { cat "$T/drain.log" >&2; fail "drain: exit $RC (the grace period ran out?)"; }
grep -q 'reason=shutdown' "$T/drain.log" || { cat "$T/drain.log"; fail "drain: no shutdown close"; }
no_sanitizer_report "$T/drain.log"
pass "SIGTERM ends an idle coroutine session at once (drain cancels its read)"
