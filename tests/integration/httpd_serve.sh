#!/bin/bash
# httpd as a `serve` service: registered, serving serve's directory, on
# the address serve gives it (every service is moved to an ephemeral
# port so the test never collides with anything).
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R"
echo "served by serve" > "$R/index.html"
check_has "httpd is a registered service" " $(echo $(serve_services)) " " httpd "
"$IPCBOX" serve "$R" $(serve_ephemeral) >"$WORK/serve.out" 2>"$WORK/err.serve" &
PID=$!
PIDS+=("$PID")
ADDR=$(listen_addr "$WORK/err.serve" "httpd: " "$PID")
[ -n "$ADDR" ] || { cat "$WORK/err.serve" >&2; fail "serve did not start httpd"; }
check "serve's directory is the root" "$(curl -sS "http://$ADDR/")" "served by serve"
check "listing under serve" "$(curl -sS -o /dev/null -w '%{http_code}' "http://$ADDR/index.html")" "200"
kill -TERM "$PID"
st=0
wait "$PID" || st=$?
check "serve stops cleanly" "$st" "0"
finish
