# 10,000 echo connections, each answered, then all closed at once (half
# of them reset), under the models meant to hold that many: poll, epoll,
# io_uring, threadpool, reuseport and coroutine
# (tests/tools/c10k_close.py). The server lets go of every descriptor,
# still serves, and exits 0 on SIGTERM without a sanitizer report.
. "$(dirname "$0")/../lib.sh"
need python3
N=10000
ulimit -n $((N + 256)) 2>/dev/null || skip "cannot raise ulimit -n to $((N + 256))"
for m in $(server_models iterative fork thread prefork select); do
    log=$T/$m.log
    start_server "$log" "$IPCBOX" echo --no-udp --listen 127.0.0.1:0 --model $m \
        --workers 2 --max-conns $((N + 100))
    timeout 300 python3 "$PYTOOLS/c10k_close.py" "$SPID" "$PORT" $N >"$T/out" 2>&1 ||
        { cat "$T/out"; tail -5 "$log"; fail "$m"; }
    kill -TERM "$SPID"
    wait_exit "$SPID" 30
    [ "$RC" = 0 ] || { tail -20 "$log"; fail "$m: exit status $RC after SIGTERM"; }
    no_sanitizer_report "$log"
    pass "$m: $(cat "$T/out")"
done
