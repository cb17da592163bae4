#!/usr/bin/env bash
# Logs (docs/logging.md): every line logfmt, echo's per-connection lines,
# one line with a reason for a failed CGI request, the access log's
# duration field, the log file reopened on SIGHUP, logs kept under --daemon.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip "python3"
CHECK="python3 $SRC/tests/tools/logfmt_check.py"

# echo_session PORT TEXT : one TCP session sending TEXT, reading it back
echo_session() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(sys.argv[2].encode())
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
assert got == sys.argv[2].encode(), got
PY
}

# wait_for FILE PATTERN : bounded wait for PATTERN in FILE
wait_for() {
    local i
    for i in $(seq 200); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    cat "$1" >&2
    fail "no '$2' in $1"
}

# --- echo at debug: a line when a connection opens and when it closes ---------
start_server "$T/echo.log" "$IPCBOX" echo --listen 127.0.0.1:0 --log-level debug
echo_session "$PORT" "hello there"
wait_for "$T/echo.log" 'msg="connection closed"'
grep -q 'echo\[[0-9]*\]: msg="connection opened" peer=127.0.0.1:[0-9]*$' "$T/echo.log" \
    || { cat "$T/echo.log"; fail "no 'connection opened' line with the peer"; }
grep -q 'msg="connection closed" peer=127.0.0.1:[0-9]* bytes=11 duration_ms=[0-9]* reason=eof$' \
    "$T/echo.log" || { cat "$T/echo.log"; fail "no 'connection closed' line with bytes and duration"; }
grep -q 'msg="listening on 127.0.0.1:'"$PORT"'" proto=tcp model=epoll$' "$T/echo.log" \
    || { cat "$T/echo.log"; fail "listen line"; }
kill -TERM "$SPID"; wait_exit "$SPID" 20
[ "$RC" = 0 ] || fail "echo exit $RC"
$CHECK "$T/echo.log" || fail "echo log is not logfmt"
pass "echo: connection lines at debug, logfmt"

# --- httpd: one line with the reason for a failed CGI request; duration -------
mkdir -p "$T/www/cgi-bin"
printf '#!/bin/sh\necho "bad \\"thing\\" level=error" >&2\nexit 3\n' >"$T/www/cgi-bin/fail.sh"
chmod +x "$T/www/cgi-bin/fail.sh"
"$IPCBOX" httpd --listen 127.0.0.1:0 --cgi /cgi-bin/ "$T/www" >"$T/access.log" 2>"$T/httpd.log" &
HPID=$!; PIDS+=("$HPID")
wait_for "$T/httpd.log" "listening on"
HPORT=$(port_of "$T/httpd.log" "httpd")
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/cgi-bin/fail.sh")
[ "$code" = 502 ] || fail "failing script: HTTP $code, want 502"
wait_for "$T/access.log" "fail.sh"
wait_for "$T/httpd.log" "cgi request failed"
[ "$(grep -c 'cgi request failed' "$T/httpd.log")" = 1 ] || { cat "$T/httpd.log"; fail "not one failure line"; }
grep -q 'msg="cgi request failed" status=502 reason="no output" script_end=exit-3 .*script=/cgi-bin/fail.sh' \
    "$T/httpd.log" || { cat "$T/httpd.log"; fail "the failure line lacks its reason"; }
grep -q 'msg="bad \\"thing\\" level=error" cgi=stderr script=/cgi-bin/fail.sh' "$T/httpd.log" \
    || { cat "$T/httpd.log"; fail "the script's stderr is not one quoted msg"; }
awk '{ if (!($(NF - 1) ~ /"$/ && $NF ~ /^[0-9]+$/)) exit 1 }' "$T/access.log" \
    || { cat "$T/access.log"; fail "access log: no duration as the last field"; }
kill -TERM "$HPID"; wait_exit "$HPID" 20
$CHECK "$T/httpd.log" || fail "httpd log is not logfmt"
pass "httpd: one failure line with its reason, access log duration, logfmt"

# --- the log file, reopened on SIGHUP ------------------------------------------
LOGFILE_ARGS=(--log-file "$T/file.log")
"$IPCBOX" echo --listen 127.0.0.1:0 --log-level debug "${LOGFILE_ARGS[@]}" 2>"$T/file.err" &
FPID=$!; PIDS+=("$FPID")
wait_for "$T/file.log" "listening on"
FPORT=$(port_of "$T/file.log" "echo")
echo_session "$FPORT" "one"
wait_for "$T/file.log" "bytes=3 "
mv "$T/file.log" "$T/file.log.1"
kill -HUP "$FPID"
wait_for "$T/file.log" "log file reopened"
echo_session "$FPORT" "second"
wait_for "$T/file.log" "bytes=6 "
grep -q "bytes=6 " "$T/file.log.1" && fail "a line went to the rotated file"
[ -s "$T/file.err" ] && { cat "$T/file.err"; fail "lines on stderr with a log file"; }
kill -TERM "$FPID"; wait_exit "$FPID" 20
$CHECK "$T/file.log" "$T/file.log.1" || fail "log file is not logfmt"
pass "--log-file appends, SIGHUP reopens"

# --- --daemon keeps its logs: in the log file ... ---------------------------------
DARGS=(--log-file "$T/d.log")
"$IPCBOX" echo --listen 127.0.0.1:0 --daemon --pidfile "$T/d.pid" "${DARGS[@]}" \
    </dev/null >/dev/null 2>"$T/d.err" || { cat "$T/d.err"; fail "--daemon did not start"; }
wait_for "$T/d.log" "listening on"
for _ in $(seq 200); do [ -s "$T/d.pid" ] && break; sleep 0.05; done
DPID=$(cat "$T/d.pid")
PIDS+=("$DPID")
kill -TERM "$DPID"
wait_for "$T/d.log" "msg=stopped"
$CHECK "$T/d.log" || fail "daemon log is not logfmt"
pass "--daemon --log-file: the daemon's lines are in the file"

# ... or in syslog; with no syslog here, --daemon without a file refuses
if [ ! -S /dev/log ]; then
    rc=0
    timeout 20 "$IPCBOX" echo --listen 127.0.0.1:0 --daemon </dev/null >/dev/null \
        2>"$T/nd.err" || rc=$?
    [ "$rc" = 1 ] && grep -q 'no syslog to log to (/dev/log); give --log-file FILE' "$T/nd.err" \
        || { cat "$T/nd.err"; fail "--daemon without syslog nor log file: exit $rc"; }
    pass "--daemon without a log file nor syslog refuses to detach"
fi
