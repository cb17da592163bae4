# chatd as a `serve` service (--chatd-* flags, a [chatd] section of a
# configuration file), its refusal of the iterative model, and chatd beside
# another service under a threaded model.
. "$(dirname "$0")/../lib.sh"
need python3

check_has "chatd is a registered service" " $(echo $(serve_services)) " " chatd "

# serve flags
mkdir -p "$T/root"
start_server "$T/serve.log" "$IPCBOX" serve "$T/root" $(serve_only chatd) \
    --chatd-listen 127.0.0.1:0 --chatd-room '#served'
python3 "$PYTOOLS/chat_cases.py" "127.0.0.1:$PORT" smoke '#served' || { cat "$T/serve.log"; fail "serve flags"; }
grep -q 'chatd\[[0-9]*\]: msg="listening on' "$T/serve.log" || fail "chatd does not log under its name"
kill -TERM "$SPID"; wait_exit "$SPID" 15
[ "$RC" = 0 ] || fail "serve exit $RC"

# a configuration file's [chatd] section
cat >"$T/c.ini" <<EOT
[chatd]
listen = 127.0.0.1:0
room = #fromfile
history = 3
sendq = 64k
EOT
start_server "$T/file.log" "$IPCBOX" serve "$T/root" $(serve_only chatd) --config "$T/c.ini"
python3 "$PYTOOLS/chat_cases.py" "127.0.0.1:$PORT" smoke '#fromfile' || { cat "$T/file.log"; fail "config file"; }
kill -TERM "$SPID"; wait_exit "$SPID" 15
"$IPCBOX" chatd --config "$T/c.ini" --print-config >"$T/printed" || fail "--print-config"
grep -qx 'room = #fromfile' "$T/printed" || { cat "$T/printed"; fail "applet reads [chatd]"; }
pass "chatd under serve: flags and configuration file"

# iterative (one client at a time): refused, one line naming the flag, exit 2
"$IPCBOX" chatd --listen 127.0.0.1:0 --model iterative >"$T/m.out" 2>"$T/m.err"
rc=$?
[ "$rc" = 2 ] || fail "model iterative: exit $rc, want 2"
[ "$(wc -l <"$T/m.err")" = 1 ] || { cat "$T/m.err"; fail "model iterative: not one line"; }
grep -q 'cannot run under the iterative model.*flag=--model' "$T/m.err" \
    || { cat "$T/m.err"; fail "model iterative: message"; }
pass "chatd refuses the iterative model with one line (exit 2)"
# under serve it is left out, not the rest
start_server "$T/sm.log" "$IPCBOX" serve "$T" $(serve_only chatd echo) --model iterative \
    --chatd-listen 127.0.0.1:0 --echo-listen 127.0.0.1:0 --echo-no-udp
wait_for "$T/sm.log" 'service(s) on one loop' && \
    grep -q 'cannot run under the iterative model.*serve goes on without it' "$T/sm.log" \
    || { cat "$T/sm.log"; fail "serve: no line saying chatd was left out"; }
# (nc -N: its half-close ends the session and nc leaves when the echo
# closes it; -q1 gave the answer only a second)
[ "$(echo hi | timeout 20 nc -N 127.0.0.1 "$PORT")" = hi ] || fail "serve: echo not serving beside a refused chatd"
kill -TERM "$SPID"; wait_exit "$SPID" 20
[ "$RC" = 0 ] || fail "serve exit $RC"
pass "serve under iterative runs the others and says chatd is left out"
# under serve with a threaded model chatd runs beside the others
start_server "$T/st.log" "$IPCBOX" serve "$T" $(serve_only chatd echo) --model threadpool \
    --workers 2 --chatd-listen 127.0.0.1:0 --echo-listen 127.0.0.1:0 --echo-no-udp
CPORT=$(port_of "$T/st.log" 'chatd\[')
python3 "$PYTOOLS/chat_cases.py" "127.0.0.1:$CPORT" smoke || { cat "$T/st.log"; fail "serve threadpool: chatd"; }
kill -TERM "$SPID"; wait_exit "$SPID" 20
[ "$RC" = 0 ] || { cat "$T/st.log"; fail "serve exit $RC"; }
no_sanitizer_report "$T/st.log"
pass "serve under threadpool runs chatd beside echo"

# bad values: usage errors
"$IPCBOX" chatd --room lobby 2>"$T/u.err"; [ $? = 2 ] || fail "--room lobby accepted"
"$IPCBOX" chatd --motd "$T/none" --listen 127.0.0.1:0 2>"$T/u.err"; [ $? = 2 ] || fail "missing --motd accepted"
pass "chatd usage errors"
