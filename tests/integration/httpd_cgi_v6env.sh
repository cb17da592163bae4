#!/bin/bash
# CGI meta-variables on an IPv6 listener: the addresses are plain
# (REMOTE_ADDR=::1 and SERVER_ADDR=::1, no URL brackets), ports apart.
. "$(dirname "$0")/../lib.sh"
set -e
have_ipv6 || skip "no IPv6 loopback"

R="$WORK/root"
cgi_env_root "$R"
"$IPCBOX" httpd --listen '[::1]:0' --cgi /cgi-bin/ "$R" >/dev/null 2>"$WORK/v6.err" &
v6=$!
PIDS+=("$v6")
SERVER_LOGS+=("$WORK/v6.err")
a6=$(listen_addr "$WORK/v6.err" "" "$v6")
[ -n "$a6" ] || fail "httpd did not start on [::1]"
e=$(curl -sS -g "http://$a6/cgi-bin/env.sh")
check_has "REMOTE_ADDR without brackets" "$e" "REMOTE_ADDR=::1"
check_has "SERVER_ADDR without brackets" "$e" "SERVER_ADDR=::1"
check_has "SERVER_PORT" "$e" "SERVER_PORT=${a6##*:}"
finish
