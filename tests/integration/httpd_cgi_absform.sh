#!/bin/bash
# A request in absolute form (GET http://host/...): RFC 9112 3.2.2 says the
# server MUST ignore Host and use the target's authority, so a CGI script's
# SERVER_NAME comes from the target (port and userinfo left out); in
# origin form it still comes from Host.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
cgi_env_root "$R"
start_httpd --cgi /cgi-bin/ "$R"

e=$(raw "GET http://abs.example:8080/cgi-bin/env.sh?x=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n")
check_has "absolute form: SERVER_NAME from the target" "$e" "SERVER_NAME=abs.example"
check_lacks "absolute form: Host ignored for SERVER_NAME" "$e" "SERVER_NAME=other.example"
check_has "absolute form: QUERY_STRING" "$e" "QUERY_STRING=x=1"
e=$(raw "GET HTTP://user@abs2.example/cgi-bin/env.sh HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n")
check_has "absolute form with userinfo" "$e" "SERVER_NAME=abs2.example"
e=$(raw "GET /cgi-bin/env.sh HTTP/1.1\r\nHost: origin.example:81\r\nConnection: close\r\n\r\n")
check_has "origin form: SERVER_NAME from Host" "$e" "SERVER_NAME=origin.example"
finish
