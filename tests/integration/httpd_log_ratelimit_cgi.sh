#!/bin/bash
# More log lines a peer triggers at will, rate-limited like those of
# httpd_log_ratelimit.sh (at most one a second per cause for the whole
# server, with the count held back), while the access log keeps one line
# per request with its status:
#  - CGI failures: 120 pipelined requests for a script that writes nothing
#    (502) and 20 at once for one that outlives --cgi-timeout (504) share
#    the "failed" gate; 40 connections sending a chunked body over
#    --max-body (413) have the body gate;
#  - a static file answered 500 (at the descriptor limit: "PATH: Too many
#    open files"; here a socket in ROOT, same line): once a second, not
#    once per request, for 300 requests (each on its own connection: a
#    500 closes it).
# Under the epoll and the thread model.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/cgi-bin"
printf '#!/bin/sh\n' > "$R/cgi-bin/mute.sh"
printf '#!/bin/sh\nexec sleep 10\n' > "$R/cgi-bin/slow.sh"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nok\\n"\n' > "$R/cgi-bin/ok.sh"
chmod +x "$R/cgi-bin/"*.sh
echo hello > "$R/f.txt"

# count_lines WHAT: lines of the server log matching WHAT
count_lines() { grep -c "$1" "$ERRLOG" || true; }
# access_count STATUS: access log lines with that status
access_count() { awk -v s="$1" '$9 == s' "$WORK/access.log" | wc -l; }

for model in epoll thread; do
    start_httpd --model "$model" --cgi /cgi-bin/ --cgi-timeout 1 --max-body 100 "$R"
    t0=$(date +%s)
    python3 "$PYTOOLS/httpd_cgi_fail_flood.py" "$ADDR"
    t1=$(date +%s)
    most=$((t1 - t0 + 2))
    n=$(count_lines "failed status=50")
    check "$model: 'cgi failed' lines ($n) at most one a second ($most)" \
        "$([ "$n" -ge 1 ] && [ "$n" -le "$most" ] && echo yes || echo "no: $n")" yes
    n=$(count_lines "failed status=413")
    check "$model: 'cgi failed status=413' lines ($n) at most one a second ($most)" \
        "$([ "$n" -ge 1 ] && [ "$n" -le "$most" ] && echo yes || echo "no: $n")" yes
    check_has "$model: the count held back is logged" "$(cat "$ERRLOG")" "more since the last such line"
    check "$model: access log: every 502" "$(access_count 502)" 120
    check "$model: access log: every 413" "$(access_count 413)" 40
    check "$model: access log: every 504" "$(access_count 504)" 20
    stop_httpd
done

# A static 500: the line is the one written at the descriptor limit
# ("PATH: Too many open files"); a socket in ROOT (open gives ENXIO, also a
# 500) reaches the same line on every request, without the races of
# exhausting the server's descriptors.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$R/sock"
for model in epoll thread; do
    start_httpd --model "$model" "$R"
    t0=$(date +%s)
    n=$(python3 "$PYTOOLS/httpd_static_500_flood.py" "$ADDR"
)
    t1=$(date +%s)
    most=$((t1 - t0 + 2))
    check "$model: 300 answers 500" "$n" 300
    check "$model: the access log has each 500" "$(access_count 500)" 300
    n=$(count_lines "/sock: No such device or address")
    check "$model: static 500 lines ($n) at most one a second ($most)" \
        "$([ "$n" -ge 1 ] && [ "$n" -le "$most" ] && echo yes || echo "no: $n")" yes
    stop_httpd
done
finish
