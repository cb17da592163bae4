# Limits: --max-conns pauses accepting at the cap (and resumes), and a
# server out of file descriptors sheds connections instead of spinning,
# then serves again once descriptors are free.
. "$(dirname "$0")/../lib.sh"

# --max-conns 2: a third client waits until one of the first two leaves
for m in epoll thread fork coroutine; do
    start_server "$T/cap-$m.log" "$IPCBOX" echo --listen 127.0.0.1:0 --max-conns 2 --model $m
    exec 3<>/dev/tcp/127.0.0.1/"$PORT"; printf 'a\n' >&3; read -r -t 10 x <&3
    exec 4<>/dev/tcp/127.0.0.1/"$PORT"; printf 'b\n' >&4; read -r -t 10 y <&4
    [ "$x$y" = ab ] || fail "$m: first two clients not served"
    exec 5<>/dev/tcp/127.0.0.1/"$PORT"; printf 'c\n' >&5
    read -r -t 1 z <&5 && fail "$m: third client served above --max-conns"
    exec 3>&-
    read -r -t 10 z <&5
    [ "$z" = c ] || fail "$m: third client not served after one left"
    exec 4>&- 5>&-
    kill -TERM "$SPID"; wait_exit "$SPID" 10; [ "$RC" = 0 ] || fail "$m: exit"
    no_sanitizer_report "$T/cap-$m.log"
    pass "$m: --max-conns pauses and resumes accepting"
done

# Without --max-conns the cap is half the descriptor limit (20 of 40; a
# quarter, 10, for a thread per connection, which also holds its loop's
# descriptors), and reaching it is logged: the next client waits.
for m in epoll fork thread; do
    cap=20; [ $m = thread ] && cap=10
    (
        ulimit -n 40
        exec "$IPCBOX" echo --no-udp --listen 127.0.0.1:0 --model $m
    ) 2>"$T/dcap-$m.log" &
    SPID=$!; PIDS+=("$SPID")
    PORT=$(listen_port "$T/dcap-$m.log" "" "$SPID")
    python3 "$PYTOOLS/echo_conn_cap.py" "$PORT" "$cap" || fail "$m: default cap"
    grep -q "connection limit reached.* max_conns=$cap" "$T/dcap-$m.log" || fail "$m: cap not logged"
    kill -TERM "$SPID"; wait_exit "$SPID" 10; [ "$RC" = 0 ] || fail "$m: exit"
    no_sanitizer_report "$T/dcap-$m.log"
    pass "$m: default cap of half the descriptors, logged"
done

# EMFILE: with 40 descriptors the server cannot hold 60 clients; it sheds
# the excess (they see a close) and keeps serving the rest, then serves new
# clients normally.
(
    ulimit -n 40
    exec "$IPCBOX" echo --no-udp --listen 127.0.0.1:0 --max-conns 100
) 2>"$T/emfile.log" &
SPID=$!; PIDS+=("$SPID")
PORT=$(listen_port "$T/emfile.log" "" "$SPID")
python3 "$PYTOOLS/echo_emfile.py" "$PORT" || fail "EMFILE: server did not shed and recover"
kill -0 "$SPID" || fail "EMFILE: server died"
grep -q "accept" "$T/emfile.log" || fail "EMFILE: shedding not logged"
kill -TERM "$SPID"; wait_exit "$SPID" 10; [ "$RC" = 0 ] || fail "EMFILE: exit"
no_sanitizer_report "$T/emfile.log"
pass "EMFILE: sheds, recovers"

# A server raises its soft descriptor limit to the hard one (at most 65536)
hard=$(ulimit -H -n)
if [ "$hard" = unlimited ] || [ "$hard" -gt 256 ]; then
    ( ulimit -S -n 256; exec "$IPCBOX" echo --listen 127.0.0.1:0 ) 2>"$T/nofile.log" &
    SPID=$!; PIDS+=("$SPID")
    for i in $(seq 200); do grep -q "listening on" "$T/nofile.log" && break; sleep 0.05; done
    soft=$(awk '/Max open files/{print $4}' /proc/"$SPID"/limits)
    [ "$soft" -gt 256 ] || fail "soft descriptor limit not raised: $soft"
    kill -TERM "$SPID"; wait_exit "$SPID" 10
    pass "soft descriptor limit raised to $soft"
else
    echo "note: hard descriptor limit is $hard; raise test not run"
fi
