#!/bin/bash
# Output a client does not read is bounded per connection, whatever
# produced it: clients pipeline requests for a cached small file, for
# multipart ranges of it and for a large directory listing, and never
# read. The server must stop reading each of them (parsing pauses at
# --max-output), keep its memory bounded, and meanwhile serve another
# client whole; under the single-loop model (epoll) and a thread model.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/many"
# the largest cached file (64 KiB), printable so raw.py passes it through
head -c 49152 /dev/urandom | base64 -w 0 > "$R/small.bin"
# 1500 entries with long names: a listing page of ~300 KB
long=$(printf 'n%.0s' $(seq 1 80))
(cd "$R/many" && for i in $(seq 1 1500); do : > "$long.$i"; done)
# ASan's quarantine of freed blocks would count as growth: keep it small
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:malloc_context_size=2"

for model in epoll thread; do
    start_httpd --model "$model" --access-log off "$R"
    out=$(python3 "$PYTOOLS/httpd_outbound.py" "$ADDR" "$PID" 64 small multi listing 2>&1) || true
    printf '%s\n' "$out" | sed "s/^/[$model] /"
    n_ok=$(printf '%s\n' "$out" | grep -c '^ok:' || true)
    check "$model: abuse checks passed" "$n_ok" "6"
    check_has "$model: the bound was logged" "$(cat "$ERRLOG")" "max-output"
    stop_httpd
done

# every other response kind counts as well (heads, error pages, redirects,
# 304, 416, OPTIONS, ranges and multipart ranges of a large file sent from
# its descriptor, HEAD of a listing, a mixture), under a forking pool
# (memory summed over its processes)
head -c 4000000 /dev/zero > "$R/big.bin"
start_httpd --model prefork --workers 2 --access-log off "$R"
pids=$PID
for _ in $(seq 1 100); do
    kids=$(pgrep -P "$PID" | tr '\n' ',')
    [ "$(printf '%s' "$kids" | tr -cd , | wc -c)" -ge 2 ] && break
    sleep 0.05
done
out=$(python3 "$PYTOOLS/httpd_outbound.py" "$ADDR" "$PID,$kids" 64 head 404 405 redirect 304 416 \
    options bigrange bigmulti headlisting mix 2>&1) || true
printf '%s\n' "$out" | sed "s/^/[prefork] /"
check "prefork: every kind stopped, victim served, memory bounded" \
    "$(printf '%s\n' "$out" | grep -c '^ok:')" "14"
stop_httpd

# a smaller bound given by flag still serves pipelined responses whole
start_httpd --max-output 4096 --access-log off "$R"
raw 'GET /small.bin HTTP/1.1\r\nHost: a\r\n\r\nGET /many/ HTTP/1.1\r\nHost: a\r\n\r\nGET /small.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' > "$WORK/pipe.out"
check "--max-output 4096: three pipelined responses" \
    "$(grep -ao 'HTTP/1.1 200 OK' "$WORK/pipe.out" | wc -l)" "3"
check "--max-output 4096: the listing whole" \
    "$(grep -ac '^<tr><td><a href="nnn' "$WORK/pipe.out")" "1500"
check "--max-output 4096: both files whole" \
    "$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); f=open(sys.argv[2],"rb").read(); print(d.count(f))' "$WORK/pipe.out" "$R/small.bin")" "2"
stop_httpd

# a listing reads at most --max-listing entries, says it is truncated, logs it
start_httpd --max-listing 100 --access-log off "$R"
page=$(curl -sS "$BASE/many/")
check "--max-listing 100: at most 100 rows" \
    "$(printf '%s\n' "$page" | grep -c '^<tr><td><a href="nnn' | awk '{print ($1 <= 100 && $1 > 0)}')" "1"
check_has "--max-listing 100: the page says so" "$page" "Listing truncated at 100 entries"
check_has "--max-listing 100: logged" "$(cat "$ERRLOG")" "max-listing reached"
check_has "--max-listing 100: still a whole page" "$page" "</html>"
stop_httpd

# more pipelined requests than one pass takes (256), then a half-close:
# the passes after the first resume on their own, every request answered
echo tiny > "$R/tiny.txt"
for model in epoll thread; do
    start_httpd --model "$model" --access-log off "$R"
    reqs=$(for i in $(seq 1 600); do printf 'GET /tiny.txt HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'; done)
    check "$model: 600 pipelined requests then half-close: 600 answers" \
        "$(raw "$reqs" shutdown | grep -ac "^HTTP/1.1 200")" "600"
    reqs=$(for i in $(seq 1 5); do printf 'GET /many/ HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'; done)
    check "$model: 5 pipelined listings then half-close: 5 answers" \
        "$(raw "$reqs" shutdown | grep -ac '^</table>')" "5"
    stop_httpd
done
finish
