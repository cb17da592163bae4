#!/bin/bash
# Log lines a peer triggers at will are rate-limited: a Range header
# ignored as overlapping, a listing truncated at --max-listing and a
# connection at --max-output each write at most one line a second for the
# whole server (with the count held back), not one per request or per
# connection: 300 pipelined requests of each kind (and 40 connections that
# do not read) must not write 300 (40) lines to the server log, under the
# epoll and the fork model (where each connection is a process).
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/many"
head -c 60000 /dev/zero > "$R/small.bin"
(cd "$R/many" && for i in $(seq 1 20); do : > "f$i"; done)

for model in epoll fork; do
    start_httpd --model "$model" --max-listing 5 --access-log off "$R"
    t0=$(date +%s)
    python3 "$PYTOOLS/httpd_log_flood.py" "$ADDR"
    # every request above has been answered: the lines are in the log
    t1=$(date +%s)
    most=$((t1 - t0 + 2))
    for what in "range header ignored" "max-listing reached" "max-output reached"; do
        n=$(grep -c "$what" "$ERRLOG" || true)
        check "$model: '$what' lines ($n) at most one a second ($most)" \
            "$([ "$n" -ge 1 ] && [ "$n" -le "$most" ] && echo yes || echo "no: $n")" yes
    done
    stop_httpd
done
finish
