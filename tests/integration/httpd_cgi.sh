#!/bin/bash
# CGI/1.1: meta-variables, request bodies (Content-Length, chunked,
# Expect: 100-continue, large both ways), Status/Location/Content-Type
# from the script, errors (502, 403, 404, 413, 504), HTTP/1.0 clients,
# keep-alive after a script, the script killed on timeout and when the
# client leaves, and no zombies left behind.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
C="$R/cgi-bin"
mkdir -p "$C"
echo "static" > "$R/static.txt"
cat > "$C/env.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\r\nX-Script: env\r\n\r\n'
env | grep -E '^(GATEWAY_INTERFACE|SERVER_PROTOCOL|REQUEST_METHOD|QUERY_STRING|SCRIPT_NAME|PATH_INFO|REMOTE_ADDR|SERVER_PORT|CONTENT_LENGTH|CONTENT_TYPE|HTTP_[A-Z_]*|SERVER_SOFTWARE|REQUEST_URI|SCRIPT_FILENAME)=' | sort
SH
cat > "$C/cat.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: application/octet-stream\n\n'
exec cat
SH
cat > "$C/status.sh" <<'SH'
#!/bin/sh
printf 'Status: 404 Not Here\nContent-Type: text/plain\n\nnothing\n'
SH
cat > "$C/redirect.sh" <<'SH'
#!/bin/sh
printf 'Location: http://example.com/elsewhere\n\n'
SH
cat > "$C/bad.sh" <<'SH'
#!/bin/sh
echo "this is not a header block"
SH
cat > "$C/sleep.sh" <<'SH'
#!/bin/sh
echo $$ > "$PIDFILE_DIR/sleep.pid"
sleep 30
printf 'Content-Type: text/plain\n\nlate\n'
SH
sed -i "s|\$PIDFILE_DIR|$WORK|" "$C/sleep.sh"
cat > "$C/slowbody.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\nfirst\n'
echo $$ > "$PIDFILE_DIR/slowbody.pid"
sleep 30
echo never
SH
sed -i "s|\$PIDFILE_DIR|$WORK|" "$C/slowbody.sh"
cat > "$C/ticker.sh" <<'SH'
#!/bin/sh
echo $$ > "$PIDFILE_DIR/ticker.pid"
printf 'Content-Type: text/plain\n\n'
while :; do echo tick; sleep 0.2; done
SH
sed -i "s|\$PIDFILE_DIR|$WORK|" "$C/ticker.sh"
printf 'not executable' > "$C/noexec.sh"
chmod +x "$C"/env.sh "$C"/cat.sh "$C"/status.sh "$C"/redirect.sh "$C"/bad.sh "$C"/sleep.sh "$C"/slowbody.sh "$C"/ticker.sh
head -c 1500000 /dev/urandom > "$WORK/big.in"

start_httpd --cgi /cgi-bin/ --cgi-timeout 2 --max-body 2000000 "$R"

e=$(curl -sS -D "$WORK/h" -H 'X-Custom: yes' -H 'Proxy: http://evil/' -A 'tester' "$BASE/cgi-bin/env.sh/extra/path?a=1&b=2")
check_has "GATEWAY_INTERFACE" "$e" "GATEWAY_INTERFACE=CGI/1.1"
check_has "SERVER_PROTOCOL" "$e" "SERVER_PROTOCOL=HTTP/1.1"
check_has "REQUEST_METHOD" "$e" "REQUEST_METHOD=GET"
check_has "QUERY_STRING" "$e" "QUERY_STRING=a=1&b=2"
check_has "SCRIPT_NAME" "$e" "SCRIPT_NAME=/cgi-bin/env.sh"
check_has "PATH_INFO" "$e" "PATH_INFO=/extra/path"
check_has "REMOTE_ADDR" "$e" "REMOTE_ADDR=127.0.0.1"
check_has "SERVER_PORT" "$e" "SERVER_PORT=${ADDR##*:}"
check_has "REQUEST_URI" "$e" "REQUEST_URI=/cgi-bin/env.sh/extra/path?a=1&b=2"
check_has "HTTP_USER_AGENT" "$e" "HTTP_USER_AGENT=tester"
check_has "HTTP_X_CUSTOM" "$e" "HTTP_X_CUSTOM=yes"
check_lacks "no HTTP_PROXY (httpoxy)" "$e" "HTTP_PROXY"
check_lacks "no CONTENT_LENGTH without body" "$e" "CONTENT_LENGTH"
check_has "script header passed" "$(tr -d '\r' < "$WORK/h")" "X-Script: env"
check_has "chunked to 1.1 clients" "$(tr -d '\r' < "$WORK/h")" "Transfer-Encoding: chunked"

e=$(curl -sS -d 'x=1' "$BASE/cgi-bin/env.sh")
check_has "POST CONTENT_LENGTH" "$e" "CONTENT_LENGTH=3"
check_has "POST CONTENT_TYPE" "$e" "CONTENT_TYPE=application/x-www-form-urlencoded"
check "body echoed" "$(curl -sS --data-binary 'hello cgi' "$BASE/cgi-bin/cat.sh")" "hello cgi"
curl -sS --data-binary @"$WORK/big.in" -o "$WORK/big.out" "$BASE/cgi-bin/cat.sh"
check "1.5 MB through the script" "$(cmp "$WORK/big.in" "$WORK/big.out" && echo same)" "same"
curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big.in" -o "$WORK/big.chunked" "$BASE/cgi-bin/cat.sh"
check "chunked request body" "$(cmp "$WORK/big.in" "$WORK/big.chunked" && echo same)" "same"
e=$(curl -sS -H 'Transfer-Encoding: chunked' --data-binary 'abcdef' "$BASE/cgi-bin/env.sh")
check_has "chunked body gets CONTENT_LENGTH" "$e" "CONTENT_LENGTH=6"
check "Expect: 100-continue" "$(curl -sS -H 'Expect: 100-continue' --data-binary 'cont' "$BASE/cgi-bin/cat.sh")" "cont"

check "Status header" "$(http_code "$BASE/cgi-bin/status.sh")" "404"
check "Status body" "$(curl -sS "$BASE/cgi-bin/status.sh")" "nothing"
check "Location gives 302" "$(http_code "$BASE/cgi-bin/redirect.sh")" "302"
check "Location header" "$(curl -sS -o /dev/null -w '%{redirect_url}' "$BASE/cgi-bin/redirect.sh")" "http://example.com/elsewhere"
check "no header block: 502" "$(http_code "$BASE/cgi-bin/bad.sh")" "502"
check "not executable: 403" "$(http_code "$BASE/cgi-bin/noexec.sh")" "403"
check "missing: 404" "$(http_code "$BASE/cgi-bin/nope.sh")" "404"
check "prefix itself: 403" "$(http_code "$BASE/cgi-bin/")" "403"
check "PUT: 405" "$(http_code -X PUT -d x "$BASE/cgi-bin/cat.sh")" "405"
check "body over --max-body: 413" "$(head -c 2000001 /dev/zero | curl -sS -o /dev/null -w '%{http_code}' --data-binary @- "$BASE/cgi-bin/cat.sh")" "413"
a=$(raw 'GET /cgi-bin/status.sh HTTP/1.0\r\n\r\n')
check_has "HTTP/1.0: no chunking" "$a" "nothing"
check_lacks "HTTP/1.0: no Transfer-Encoding" "$a" "Transfer-Encoding"
a=$(raw 'POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nfirstGET /cgi-bin/status.sh HTTP/1.1\r\nHost: a\r\n\r\nGET /static.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
check "keep-alive after scripts" "$(printf '%s' "$a" | grep '^HTTP/1.1' | awk '{print $2}' | tr '\n' ' ')" "200 404 200 "
check_has "pipelined static after CGI" "$a" "static"
check "HEAD to a script" "$(curl -sS -I "$BASE/cgi-bin/status.sh" | head -n1 | tr -d '\r')" "HTTP/1.1 404 Not Here"

# --cgi-timeout: 504 and the script is gone
rm -f "$WORK/sleep.pid"
check "timeout: 504" "$(http_code -m 20 "$BASE/cgi-bin/sleep.sh")" "504"
pid=$(cat "$WORK/sleep.pid")
gone=no
for _ in $(seq 1 400); do [ -e "/proc/$pid" ] || { gone=yes; break; }; sleep 0.05; done
check "timed-out script killed and reaped" "$gone" "yes"

# a timeout after the head went out cuts the response (the client sees it)
rm -f "$WORK/slowbody.pid"
a=$(curl -sS -m 20 "$BASE/cgi-bin/slowbody.sh" 2>&1 || true)
check_has "partial body delivered" "$a" "first"
check_has "cut response noticed by curl" "$a" "curl: (18)"

# the client leaves: the script is killed when the server notices (its
# next write fails; a FIN alone may be a half-close, which is no abort:
# httpd_cgi_desync.sh)
stop_httpd
start_httpd --cgi /cgi-bin/ --cgi-timeout 60 "$R"
rm -f "$WORK/ticker.pid"
curl -sS -m 1 -o /dev/null "$BASE/cgi-bin/ticker.sh" 2>/dev/null || true
for _ in $(seq 1 400); do [ -s "$WORK/ticker.pid" ] && break; sleep 0.05; done
pid=$(cat "$WORK/ticker.pid")
gone=no
for _ in $(seq 1 200); do [ -e "/proc/$pid" ] || { gone=yes; break; }; sleep 0.05; done
check "client left: script killed and reaped" "$gone" "yes"
zombies=$(ps --ppid "$PID" -o stat= | grep -c Z || true)
check "no zombies" "$zombies" "0"
finish
