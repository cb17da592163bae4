#!/bin/bash
# A chunked CGI request body is collected in memory (up to --max-body)
# before its script starts; it holds one of the --cgi-max slots from its
# first byte, so at most --cgi-max such bodies are held at once: clients
# beyond it get 503 at once (without a 100 Continue), before their body
# has been read, and the server's memory does not grow by their bodies.
# Under the epoll and the thread model. A slot is given back when a body
# is refused (400) or its client leaves, so later requests run.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/cgi-bin"
cat > "$R/cgi-bin/len.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\nlen=%s\n' "$CONTENT_LENGTH"
SH
chmod +x "$R/cgi-bin/len.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:malloc_context_size=2"

for model in epoll thread; do
    start_httpd --model "$model" --cgi /cgi-bin/ --cgi-max 2 --max-body 8000000 \
        --access-log off "$R"
    out=$(python3 "$PYTOOLS/httpd_cgi_chunked_hold.py" "$ADDR" "$PID"
)
    printf '%s\n' "$out" | sed "s/^/[$model] /"
    check "$model: 6 of 8 chunked uploads refused at once (--cgi-max 2)" \
        "$(sed -n 's/^refused=\([0-9]*\).*/\1/p' <<<"$out")" 6
    check "$model: the 2 admitted got 100 Continue" \
        "$(sed -n 's/.*continued=\([0-9]*\)/\1/p' <<<"$out")" 2
    check "$model: memory holds 2 bodies, not 8" "$(sed -n 's/^grow_ok=\([a-z]*\).*/\1/p' <<<"$out")" yes
    check "$model: the 2 admitted ran with their whole body" \
        "$(sed -n 's/^lens=//p' <<<"$out")" "4194304,4194304"
    for i in 1 2 3; do
        check "$model: slots given back: request $i runs" \
            "$(raw 'GET /cgi-bin/len.sh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | tr -d '\r' | grep -c '^len=')" 1
    done
    stop_httpd
done
finish
