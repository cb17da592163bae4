# 1000 concurrent echo clients complete under epoll, reuseport and coroutine; IPv6.
. "$(dirname "$0")/../lib.sh"
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 2100 ] || skip "need 2100 fds for 1000 clients, have $(ulimit -n)"
for m in epoll reuseport coroutine; do
    log=$T/$m.log
    start_server "$log" "$IPCBOX" echo --listen 127.0.0.1:0 --model $m --workers 2
    "$TOOLS/echoload" -n 1000 -b 4096 -t 120 127.0.0.1:"$PORT" \
        || { cat "$log" >&2; fail "$m: 1000 clients"; }
    kill -TERM "$SPID"
    wait_exit "$SPID" 15; [ "$RC" = 0 ] || fail "$m: exit after SIGTERM"
    no_sanitizer_report "$log"
    pass "$m: 1000 concurrent clients"
done
# IPv6 loopback, when the machine has it
if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
    start_server "$T/v6.log" "$IPCBOX" echo --listen '[::1]:0'
    "$TOOLS/echoload" -n 10 -b 10000 '[::1]':"$PORT" >/dev/null || fail "IPv6 echo"
    kill -TERM "$SPID"; wait_exit "$SPID" 10
    # dual-stack: [::] also answers IPv4
    start_server "$T/dual.log" "$IPCBOX" echo --listen '[::]:0'
    "$TOOLS/echoload" -n 2 -b 1000 127.0.0.1:"$PORT" >/dev/null || fail "dual-stack IPv4"
    "$TOOLS/echoload" -n 2 -b 1000 '[::1]':"$PORT" >/dev/null || fail "dual-stack IPv6"
    kill -TERM "$SPID"; wait_exit "$SPID" 10
    pass "IPv6 and dual-stack"
else
    echo "note: no IPv6 loopback here; IPv6 part not run"
fi
