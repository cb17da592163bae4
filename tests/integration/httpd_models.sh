#!/bin/bash
# The same basic exchange under each server model: small and
# large files, keep-alive reuse, pipelining, a range, a 404, a CGI script,
# several clients at once, then a graceful SIGTERM.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/cgi-bin"
echo "hello" > "$R/hello.txt"
head -c 700000 /dev/urandom > "$R/big.bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\ncgi ok\\n"\n' > "$R/cgi-bin/t.sh"
chmod +x "$R/cgi-bin/t.sh"

for model in $(server_models coroutine); do   # coroutine: httpd has no coroutine handler
    start_httpd --model "$model" --workers 2 --cgi /cgi-bin/ "$R"
    check "$model: GET" "$(curl -sS "$BASE/hello.txt")" "hello"
    curl -sS -o "$WORK/big.$model" "$BASE/big.bin"
    check "$model: large file" "$(cmp "$WORK/big.$model" "$R/big.bin" && echo same)" "same"
    check "$model: keep-alive reuse" "$(curl -sS -v "$BASE/hello.txt" "$BASE/hello.txt" 2>&1 | grep -c 'Re-using existing connection')" "1"
    a=$(raw 'GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\nGET /cgi-bin/t.sh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
    check "$model: pipelined" "$(printf '%s' "$a" | grep '^HTTP/1.1' | awk '{print $2}' | tr '\n' ' ')" "200 404 200 "
    check_has "$model: CGI" "$a" "cgi ok"
    check "$model: range" "$(curl -sS -r 1-3 "$BASE/hello.txt")" "ell"
    # a few clients at once (the iterative model takes them in turn)
    cpids=""
    for i in 1 2 3 4; do curl -sS -m 60 -o "$WORK/par.$i" "$BASE/big.bin" & cpids="$cpids $!"; done
    wait_ok=0
    for p in $cpids; do wait "$p" 2>/dev/null || true; done
    for i in 1 2 3 4; do cmp -s "$WORK/par.$i" "$R/big.bin" && wait_ok=$((wait_ok + 1)); done
    check "$model: concurrent clients" "$wait_ok" "4"
    kill -TERM "$PID"
    st=0
    wait "$PID" || st=$?
    check "$model: clean exit on SIGTERM" "$st" "0"
done
finish
