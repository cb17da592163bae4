# Operations: --daemon with --pidfile and --log-file, systemd socket activation, serve.
. "$(dirname "$0")/../lib.sh"

# --daemon --pidfile: detaches, writes the pid, removes it on exit
"$IPCBOX" echo --listen 127.0.0.1:0 --daemon --pidfile "$T/echo.pid" --log-file "$T/d.log" 2>"$T/d.err" \
    || fail "daemon start"
for i in $(seq 100); do [ -s "$T/echo.pid" ] && break; sleep 0.05; done
dpid=$(cat "$T/echo.pid"); PIDS+=("$dpid")
kill -0 "$dpid" || fail "daemon not running"
dport=$(ss -Htlnp 2>/dev/null | grep "pid=$dpid," | awk '{print $4}' | sed 's/.*://' | head -1)
[ -n "$dport" ] || fail "daemon port not found"
"$TOOLS/echoload" -n 2 -b 1000 127.0.0.1:"$dport" >/dev/null || fail "daemon echo"
kill -TERM "$dpid"
# (_alive, not kill -0: gone once it exited, whenever its parent, not this
# shell, reaps it)
for i in $(seq 200); do _alive "$dpid" || break; sleep 0.05; done
_alive "$dpid" && fail "daemon did not stop"
[ ! -e "$T/echo.pid" ] || fail "pidfile left behind"
pass "--daemon --pidfile"

# socket activation: the inherited fd is used, --listen is ignored
"$TOOLS/activate" "$T/port" "$IPCBOX" echo 2>"$T/act.log" &
apid=$!; PIDS+=("$apid")
for i in $(seq 200); do grep -q "listening on" "$T/act.log" 2>/dev/null && break; sleep 0.05; done
aport=$(cat "$T/port")
grep -q "listening on 127.0.0.1:$aport" "$T/act.log" || { cat "$T/act.log"; fail "activation: wrong listener"; }
"$TOOLS/echoload" -n 3 -b 1000 127.0.0.1:"$aport" >/dev/null || fail "activation echo"
kill -TERM "$apid"; wait_exit "$apid" 10; [ "$RC" = 0 ] || fail "activation exit"
pass "socket activation"

# serve: every service on one loop; echo over TCP and UDP
mkdir -p "$T/root"
args=()
for s in $(serve_services); do
    args+=("--$s-listen" "127.0.0.1:0")
done
start_server "$T/serve.log" "$IPCBOX" serve "$T/root" "${args[@]}"
# (start_server returned at the first service's line, chatd's; echo's
# comes after it: wait for serve's summary, written once all have started)
wait_for "$T/serve.log" 'service(s) on one loop' || fail "serve: no summary line"
eport=$(port_of "$T/serve.log" 'echo\[[0-9]*\]: msg="listening on .*proto=tcp')
[ -n "$eport" ] || { cat "$T/serve.log"; fail "serve: no echo tcp line"; }
# (nc -N: its half-close ends the session and nc leaves when the echo
# closes it; -q1 gave the answer only a second)
out=$(printf 'hi serve\n' | timeout 20 nc -N 127.0.0.1 "$eport")
[ "$out" = "hi serve" ] || fail "serve echo tcp got '$out'"
"$TOOLS/echoload" --udp 100 127.0.0.1:"$eport" || fail "serve echo udp"
kill -TERM "$SPID"; wait_exit "$SPID" 15; [ "$RC" = 0 ] || fail "serve exit"
no_sanitizer_report "$T/serve.log"
"$IPCBOX" serve "$T/root" --no-echo "${args[@]}" 2>"$T/s2.log" &
s2=$!; PIDS+=("$s2")
# every service has started (or been left out) once the summary is there
wait_for "$T/s2.log" 'service(s) on one loop' || fail "serve --no-echo: no summary line"
kill -TERM "$s2"; wait_exit "$s2" 20
grep -q 'echo\[[0-9]*\]: msg="listening' "$T/s2.log" && fail "--no-echo still started echo"
"$IPCBOX" serve /nonexistent 2>/dev/null; [ $? = 2 ] || fail "serve missing dir exit"
pass "serve"

# serve hands a socket-activated listener to the service it is named after
# (systemd's FileDescriptorName=, LISTEN_FDNAMES)
mkdir -p "$T/www"; echo hello >"$T/www/a.txt"
LISTEN_FDNAMES=httpd "$TOOLS/activate" "$T/sport" "$IPCBOX" serve "$T/www" \
    $(serve_only httpd) --httpd-access-log off 2>"$T/sact.log" &
SA=$!; PIDS+=("$SA")
for i in $(seq 100); do [ -s "$T/sport" ] && grep -q "serving" "$T/sact.log" && break; sleep 0.05; done
sport=$(cat "$T/sport")
[ "$(curl -s --max-time 10 "http://127.0.0.1:$sport/a.txt")" = hello ] \
    || { cat "$T/sact.log"; fail "serve: activated listener not given to httpd"; }
kill -TERM "$SA"; wait_exit "$SA" 20
[ "$RC" = 0 ] || fail "serve with activation exit $RC"
# one named after no service is refused with a line, not silently kept
LISTEN_FDNAMES=nosuch "$TOOLS/activate" "$T/sport2" "$IPCBOX" serve "$T/www" \
    $(serve_only httpd) --httpd-listen 127.0.0.1:0 2>"$T/sact2.log" &
SA=$!; PIDS+=("$SA")
wait_for "$T/sact2.log" "matches no started service" 20 || fail "serve: a listener named after no service kept silently"
kill -TERM "$SA"; wait_exit "$SA" 20
pass "serve: socket activation by FileDescriptorName"

# LISTEN_FDNAMES with several names: each entry ends at ':'
LISTEN_FDNAMES=httpd:recv "$TOOLS/activate" "$T/sport3" "$IPCBOX" serve "$T/www" \
    $(serve_only httpd) --httpd-access-log off 2>"$T/sact3.log" &
SA=$!; PIDS+=("$SA")
for i in $(seq 100); do [ -s "$T/sport3" ] && grep -q "serving" "$T/sact3.log" && break; sleep 0.05; done
[ "$(curl -s --max-time 10 "http://127.0.0.1:$(cat "$T/sport3")/a.txt")" = hello ] \
    || { cat "$T/sact3.log"; fail "serve: first of two FDNAMES not given to httpd"; }
kill -TERM "$SA"; wait_exit "$SA" 20
# a socket-activated UDP socket: tftpd and echo serve on it
echo data >"$T/www/t.txt"
ACTIVATE_UDP=1 "$TOOLS/activate" "$T/uport" "$IPCBOX" tftpd "$T/www" 2>"$T/uact.log" &
SA=$!; PIDS+=("$SA")
wait_for "$T/uact.log" "listening on" 20 || fail "tftpd over an activated UDP socket did not start"
grep -q "listening on 127.0.0.1:$(cat "$T/uport")\"" "$T/uact.log" \
    || { cat "$T/uact.log"; fail "tftpd: activated UDP socket not used"; }
timeout 20 "$IPCBOX" tftp --quiet 127.0.0.1:"$(cat "$T/uport")" get t.txt "$T/t.got" \
    && cmp -s "$T/www/t.txt" "$T/t.got" || fail "tftpd over an activated UDP socket"
kill -TERM "$SA"; wait_exit "$SA" 20
ACTIVATE_UDP=1 "$TOOLS/activate" "$T/uport2" "$IPCBOX" echo 2>"$T/uact2.log" &
SA=$!; PIDS+=("$SA")
for i in $(seq 400); do [ -s "$T/uport2" ] && break; sleep 0.05; done
got=$(python3 "$PYTOOLS/udp_echo_once.py" 127.0.0.1 "$(cat "$T/uport2")" hello)
[ "$got" = hello ] || { cat "$T/uact2.log"; fail "echo over an activated UDP socket: '$got'"; }
kill -TERM "$SA"; wait_exit "$SA" 20
pass "socket activation: several FDNAMES, UDP sockets for tftpd and echo"

# --daemon: the original process exits 1 when the daemon cannot start, and
# a relative --pidfile lands where it was started, not in /
mkdir -p "$T/dd"
( cd "$T/dd" && "$IPCBOX" echo --listen 127.0.0.1:0 --daemon --log-file d.log \
      --pidfile "$T/no/such/dir/p.pid" ) 2>"$T/dfail.err"; rc=$?
[ $rc = 1 ] && grep -q "the daemon did not start" "$T/dfail.err" \
    || { cat "$T/dfail.err"; fail "--daemon with a bad pidfile: exit $rc, want 1"; }
grep -q 'cannot write the pidfile' "$T/dd/d.log" || { cat "$T/dd/d.log"; fail "pidfile failure not logged"; }
( cd "$T/dd" && "$IPCBOX" echo --listen 127.0.0.1:0 --daemon --log-file d2.log --pidfile rel.pid ) \
    || fail "--daemon with a relative pidfile"
for i in $(seq 100); do [ -s "$T/dd/rel.pid" ] && break; sleep 0.05; done
[ -s "$T/dd/rel.pid" ] || fail "relative --pidfile not written where serve started"
dp=$(cat "$T/dd/rel.pid"); PIDS+=("$dp")
grep -q 'msg=stopped' "$T/dd/d2.log" && fail "the original process logged 'stopped'"
kill -TERM "$dp"
for i in $(seq 100); do kill -0 "$dp" 2>/dev/null || break; sleep 0.05; done
pass "--daemon: failure reported by the original process; relative pidfile"

# --user: root is dropped once everything is bound and the pidfile written
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    start_server "$T/user.log" "$IPCBOX" serve "$T/www" $(serve_only httpd echo) \
        --httpd-listen 127.0.0.1:0 --echo-listen 127.0.0.1:0 --user nobody --pidfile "$T/u.pid"
    wait_for "$T/user.log" "running as nobody" 20 || fail "--user nobody: no 'running as' line"
    [ "$(awk '/^Uid:/{print $2}' /proc/"$SPID"/status)" = "$(id -u nobody)" ] \
        || { cat "$T/user.log"; fail "--user nobody: uid not dropped"; }
    [ -s "$T/u.pid" ] || fail "--user: pidfile not written before the drop"
    kill -TERM "$SPID"; wait_exit "$SPID" 20
    pass "--user drops root once, for the whole server"
fi
