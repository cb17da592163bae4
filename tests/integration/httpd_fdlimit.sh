#!/bin/bash
# The open-file cache under a small descriptor limit (ulimit -n 256):
# more distinct files than the limit, over several keep-alive connections
# at once, then early ones again and new ones: every answer is 200 with
# the whole body (the cache keeps no descriptor for small files, keeps
# those of large ones under a budget from RLIMIT_NOFILE, and closes them
# on EMFILE). Then more idle connections than the limit: accept meets
# EMFILE, sheds with its spare descriptor, and once they are gone new
# connections are served again. Under epoll (2 workers), thread and
# threadpool; the budget log line is checked once.
. "$(dirname "$0")/../lib.sh"
set -e

LIMIT=256
R="$WORK/root"
mkdir -p "$R/a" "$R/b"
# large files (sendfile/pread from a kept descriptor) and small ones
for i in $(seq -w 1 300); do truncate -s $((70000 + 10#$i)) "$R/a/L$i.bin"; done
for i in $(seq -w 1 200); do echo "small $i" > "$R/a/s$i.txt"; done
for i in $(seq -w 1 100); do truncate -s $((80000 + 10#$i)) "$R/b/N$i.bin"; done

# start_limited NAME ARGS...: httpd on ROOT with the descriptor limit LIMIT
start_limited() {
    shift
    HTTPD_WRAP="prlimit --nofile=$LIMIT --" start_httpd --access-log off "$@" "$R"
}

# descriptors of PID open on files under ROOT
cached_files() {
    local n=0 f
    for f in /proc/"$1"/fd/*; do
        case "$(readlink "$f" 2>/dev/null)" in "$R"/*) n=$((n + 1)) ;; esac
    done
    echo "$n"
}

for model in epoll thread threadpool; do
    start_limited "$model" --model "$model" --workers 2
    check "$model: descriptor limit is $LIMIT" \
        "$(awk '/Max open files/ {print $4}' "/proc/$PID/limits")" "$LIMIT"
    rc=0
    out=$(timeout 120 python3 "$PYTOOLS/httpd_fdload.py" "$ADDR" "$R" 30 $((LIMIT + 60)) 2>&1) || rc=$?
    check "$model: every request 200 (1170 requests, 600 files)" \
        "$rc $(printf '%s\n' "$out" | tail -n1)" "0 ok 1170"
    printf '%s\n' "$out" | grep FAIL | head -n 5 >&2 || true
    check "$model: still running" "$(kill -0 "$PID" 2>/dev/null && echo yes)" "yes"
    if [ "$model" = epoll ]; then
        check_has "$model: the budget is logged when hit" "$(cat "$ERRLOG")" "descriptor budget"
        # cached large files: within the budget (+2 spared per worker's cache)
        held=$(cached_files "$PID")
        check "$model: cached descriptors $held <= $((LIMIT / 2 - 16 + 4))" \
            "$([ "$held" -le $((LIMIT / 2 - 16 + 4)) ] && echo yes)" "yes"
    fi
    kill -TERM "$PID"
    st=0
    wait "$PID" || st=$?
    check "$model: clean exit" "$st" "0"
done
# --cache-fds lowers the budget below the limit's: 40 large files on one
# connection leave at most 8 (+2 spared) open
start_limited flag --cache-fds 8 --workers 1
for i in $(seq 1 40); do
    printf 'url = "http://%s/a/L%03d.bin"\noutput = "/dev/null"\n' "$ADDR" "$i"
done >"$WORK/urls"
codes=$(curl -sS -K "$WORK/urls" -w '%{http_code}\n' | sort | uniq -c | awk '{print $2 "x" $1}')
check "--cache-fds 8: 40 large files served" "$codes" "200x40"
held=$(cached_files "$PID")
check "--cache-fds 8: $held cached descriptors <= 10" "$([ "$held" -le 10 ] && echo yes)" "yes"
check_has "--cache-fds 8: budget logged" "$(cat "$ERRLOG")" "at its descriptor budget, least recently used closed\" budget=8"
stop_httpd
finish
