#!/bin/bash
# A CGI script's header block cannot split the response stream:
# - "Status: 204" or "304" ends the response at its head (RFC 9110 6.4.1):
#   whatever the script writes after it is dropped, never sent where the
#   client reads the next response (an injected "HTTP/1.1 200" there was
#   taken for the answer to the next pipelined request);
# - a 1xx status is not a final response: 502 (its body would be read as
#   a response of its own);
# - a field value with NUL or another control byte: 502;
# - PATH_INFO obeys the hidden-path rule: /cgi-bin/x.sh/.env is 404
#   unless --show-hidden (the script could map it to ROOT/.env).
# Under the epoll and fork models.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
C="$R/cgi-bin"
mkdir -p "$C"
echo hi > "$R/a.txt"
for st in 204 304; do
    printf '#!/bin/sh\nprintf '"'"'Status: %s X\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\nContent-Length: 8\\r\\n\\r\\nINJECTED'"'"'\n' "$st" > "$C/s$st.sh"
done
cat > "$C/s100.sh" <<'SH'
#!/bin/sh
printf 'Status: 100 Continue\r\nContent-Type: text/plain\r\n\r\nbody'
SH
cat > "$C/ctl.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\r\nX-A: a\001b\r\n\r\nbody'
SH
cat > "$C/env.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nPI=%s\n' "$PATH_INFO"
SH
chmod +x "$C"/*.sh
NEXT='GET /a.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'

for model in epoll fork; do
    start_httpd --model "$model" --cgi /cgi-bin/ --access-log off "$R"
    for st in 204 304; do
        a=$(raw "GET /cgi-bin/s$st.sh HTTP/1.1\r\nHost: a\r\n\r\n$NEXT")
        check "$model: $st then a pipelined request: two responses" \
            "$(printf '%s' "$a" | grep -ac '^HTTP/1.1 ')" 2
        check_lacks "$model: $st: the script's body is not sent" "$a" INJECTED
        check "$model: $st: the next answer is the file" \
            "$(printf '%s' "$a" | tr -d '\r' | tail -n1)" hi
    done
    check "$model: Status: 100 is 502" "$(raw_status "GET /cgi-bin/s100.sh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")" 502
    check "$model: a control byte in a field value is 502" \
        "$(raw_status "GET /cgi-bin/ctl.sh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")" 502
    for pi in /.env /.x/y '/.a.ibxpart' '/d/.tftp-upload.1'; do
        check "$model: PATH_INFO $pi is 404" \
            "$(raw_status "GET /cgi-bin/env.sh$pi HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")" 404
    done
    check_has "$model: a visible PATH_INFO still runs" \
        "$(raw "GET /cgi-bin/env.sh/a/b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")" "PI=/a/b"
    stop_httpd
done

start_httpd --show-hidden --cgi /cgi-bin/ --access-log off "$R"
check_has "--show-hidden: a hidden PATH_INFO runs" \
    "$(raw "GET /cgi-bin/env.sh/.env HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")" "PI=/.env"
check "--show-hidden: an upload in progress in PATH_INFO is 404 still" \
    "$(raw_status "GET /cgi-bin/env.sh/.a.ibxpart HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")" 404
stop_httpd
finish
