#!/bin/bash
# Request bodies and early CGI answers, under an event-loop, a threaded
# and a forking model:
# - a script that exits at once, fails (502) or times out (504) before its
#   request body has arrived: the rest of the body (holding a complete
#   "GET /secret.txt") is never parsed as a request of its own; the
#   connection is closed after the answer, which the client still gets
#   (lingering close, no reset);
# - the same for a chunked body still being collected when the timeout
#   fires;
# - a client that half-closes (shutdown(SHUT_WR)) after its request still
#   gets the whole CGI response;
# - a client that leaves in the middle of its request body: the script is
#   killed then, not left running until --cgi-timeout.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
C="$R/cgi-bin"
mkdir -p "$C"
echo "SECRET-MARKER" > "$R/secret.txt"
cat > "$C/exit.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\nearly\n'
SH
cat > "$C/fail.sh" <<'SH'
#!/bin/sh
exit 1
SH
cat > "$C/sleep.sh" <<'SH'
#!/bin/sh
sleep 30
SH
cat > "$C/slow.sh" <<'SH'
#!/bin/sh
sleep 0.5
printf 'Content-Type: text/plain\n\nslow ok\n'
SH
cat > "$C/cat.sh" <<'SH'
#!/bin/sh
echo $$ > "$PIDFILE_DIR/cat.pid"
printf 'Content-Type: text/plain\n\n'
exec cat
SH
sed -i "s|\$PIDFILE_DIR|$WORK|" "$C/cat.sh"
chmod +x "$C"/*.sh


for model in epoll thread fork; do
    start_httpd --model "$model" --workers 2 --cgi /cgi-bin/ --cgi-timeout 1 "$R"
    # (one python for the four probes: it starts slowly on a busy machine)
    out=$(python3 "$PYTOOLS/httpd_cgi_desync.py" "$ADDR" /cgi-bin/exit.sh cl /cgi-bin/fail.sh cl \
        /cgi-bin/sleep.sh cl /cgi-bin/sleep.sh chunked)
    check "$model: script exits before its body" "$(sed -n 1p <<<"$out")" "secret=no first=200"
    check "$model: script fails before its body (502)" "$(sed -n 2p <<<"$out")" "secret=no first=502"
    check "$model: script times out before its body (504)" "$(sed -n 3p <<<"$out")" "secret=no first=504"
    check "$model: timeout while a chunked body is collected" "$(sed -n 4p <<<"$out")" "secret=no first=504"
    a=$(raw 'GET /cgi-bin/slow.sh HTTP/1.1\r\nHost: a\r\n\r\n' shutdown)
    check_has "$model: half-closed client gets the CGI response" "$a" "slow ok"
    check "$model: ... complete (last chunk)" "$(printf '%s' "$a" | tr -d '\r' | grep -cx 0)" 1
    a=$(raw 'POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nhalf-shut' shutdown)
    check_has "$model: half-closed client after a body" "$a" "half-shut"
    stop_httpd
done

# a client that leaves half-way through its body: the script goes at once
start_httpd --cgi /cgi-bin/ --cgi-timeout 60 "$R"
rm -f "$WORK/cat.pid"
python3 "$PYTOOLS/httpd_cgi_body_cut.py" "$ADDR" "$WORK/cat.pid"
pid=$(cat "$WORK/cat.pid")
gone=no
for _ in $(seq 1 200); do [ -e "/proc/$pid" ] || { gone=yes; break; }; sleep 0.05; done
check "body cut by the client: script killed and reaped" "$gone" "yes"
finish
