#!/bin/bash
# httpd as a `serve` service: registered, serving serve's directory, on
# the address serve gives it (every service is moved to an ephemeral
# port so the test never collides with anything).
. "$(dirname "$0")/httpd/lib.sh"

R="$WORK/root"
mkdir -p "$R"
echo "served by serve" > "$R/index.html"
services=$("$IPCBOX" serve --help | awk '$2 ~ /^[0-9.]+:[0-9]+$/ || $2 ~ /^\[.*\]:[0-9]+$/ {print $1}')
check_has "httpd is a registered service" " $(echo $services) " " httpd "
args=""
for s in $services; do args="$args --$s-listen 127.0.0.1:0"; done
"$IPCBOX" serve "$R" $args >"$WORK/serve.out" 2>"$WORK/err.serve" &
PID=$!
PIDS="$PIDS $PID"
ADDR=""
for _ in $(seq 1 200); do
    ADDR=$(sed -n 's/.*httpd\[[0-9]*\]: msg="listening on \([0-9.:]*\).*/\1/p' "$WORK/err.serve" | head -n1)
    [ -n "$ADDR" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
done
[ -n "$ADDR" ] || { cat "$WORK/err.serve" >&2; die "serve did not start httpd"; }
check "serve's directory is the root" "$(curl -sS "http://$ADDR/")" "served by serve"
check "listing under serve" "$(curl -sS -o /dev/null -w '%{http_code}' "http://$ADDR/index.html")" "200"
kill -TERM "$PID"
st=0
wait "$PID" || st=$?
check "serve stops cleanly" "$st" "0"
finish
