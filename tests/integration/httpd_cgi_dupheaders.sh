#!/bin/bash
# CGI meta-variables from repeated request header fields: RFC 3875 4.1.18
# says the server MUST rewrite them as one value with the same meaning, so
# X-Forwarded-For sent twice reaches the script as "a, b" (not just the
# first line), and Cookie lines are joined with "; ".
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
cgi_env_root "$R"
start_httpd --cgi /cgi-bin/ "$R"

e=$(curl -sS -H 'X-Forwarded-For: 10.0.0.1' -H 'X-Forwarded-For: 10.0.0.2' \
    -H 'Cookie: a=1' -H 'Cookie: b=2' -H 'X-One: solo' "$BASE/cgi-bin/env.sh")
check_has "repeated field joined with a comma" "$e" "HTTP_X_FORWARDED_FOR=10.0.0.1, 10.0.0.2"
check_has "repeated Cookie joined with a semicolon" "$e" "HTTP_COOKIE=a=1; b=2"
check_has "single field as is" "$e" "HTTP_X_ONE=solo"
check "one HTTP_X_FORWARDED_FOR" "$(printf '%s\n' "$e" | grep -c '^HTTP_X_FORWARDED_FOR=')" "1"
finish
