# The select model at FD_SETSIZE (1024), with a process whose low
# descriptors are used up (tests/tools/hold_fds.py: 1000 inherited).
# - Started with 1100 descriptors already open, so that its own loop's
#   would be past 1024: echo and serve refuse to start, exit 1, in one
#   line that names FD_SETSIZE (not just "Too many open files"); the same
#   from where its loop's fit but not the rest (started with 1016 ... 1023
#   descriptors used: each either runs or is refused so, and 1023 is).
# - httpd: CGI requests whose script's pipes land on both sides of 1024
#   each end (a response or a close) instead of hanging with an unwatched
#   pipe, leave no descriptor behind, and the CGI works again once
#   descriptors are free (tests/tools/select_cgi_fds.py).
. "$(dirname "$0")/../lib.sh"
need python3
ulimit -n 4096 2>/dev/null || skip "cannot raise ulimit -n to 4096"

mkdir -p "$T/srv"
for app in "echo --no-udp --listen 127.0.0.1:0" "serve $T/srv $(serve_ephemeral)"; do
    python3 "$PYTOOLS/hold_fds.py" 1100 "$IPCBOX" $app --model select >/dev/null 2>"$T/refused"
    rc=$?
    [ $rc = 1 ] || { cat "$T/refused"; fail "${app%% *}: exit $rc with 1100 descriptors open, want 1"; }
    [ "$(wc -l <"$T/refused")" = 1 ] || { cat "$T/refused"; fail "${app%% *}: not one line"; }
    grep -q 'error.*FD_SETSIZE' "$T/refused" || { cat "$T/refused"; fail "${app%% *}: FD_SETSIZE not named"; }
done
# from 1016 up to 1023 its loop's descriptors fit, and then its
# listeners or signalfd may not: either it runs (stopped after 3 s), or it
# fails once listening (what failed is closed by then), in one line that
# names FD_SETSIZE as well; from 1023 it cannot run
refused=""
for n in $(seq 1016 1023); do
    python3 "$PYTOOLS/hold_fds.py" --upto $n "$IPCBOX" echo --model select \
        --listen 127.0.0.1:0 >/dev/null 2>"$T/refused" &
    pid=$!
    PIDS+=("$pid")
    wait_exit "$pid" 3
    if [ "$RC" = timeout ]; then
        kill -TERM "$pid"; wait_exit "$pid" 20
        continue
    fi
    [ "$RC" = 1 ] || { cat "$T/refused"; fail "echo from $n: exit $RC, want 1"; }
    [ "$(grep -c error "$T/refused")" = 1 ] || { cat "$T/refused"; fail "echo from $n: error lines"; }
    grep -q 'error.*FD_SETSIZE' "$T/refused" ||
        { cat "$T/refused"; fail "echo from $n: FD_SETSIZE not named"; }
    refused="$refused $n"
done
[ "${refused##* }" = 1023 ] || fail "echo from 1023 still runs"
pass "select: descriptors of its own past FD_SETSIZE: refused in one line (from:$refused)"

ROOT=$T/root
mkdir -p "$ROOT/cgi-bin"
printf x >"$ROOT/x"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\nhi\\n"\n' >"$ROOT/cgi-bin/hi.sh"
chmod +x "$ROOT/cgi-bin/hi.sh"
start_server "$T/httpd.log" python3 "$PYTOOLS/hold_fds.py" 1000 "$IPCBOX" httpd \
    --listen 127.0.0.1:0 --model select --max-conns 992 --idle-timeout 600 \
    --access-log off --cgi /cgi-bin/ "$ROOT"
python3 "$PYTOOLS/select_cgi_fds.py" "$SPID" "$PORT" >"$T/out" 2>&1 ||
    { cat "$T/out"; tail -5 "$T/httpd.log"; fail "httpd CGI near FD_SETSIZE"; }
kill -TERM "$SPID"
wait_exit "$SPID" 20
[ "$RC" = 0 ] || { tail -20 "$T/httpd.log"; fail "httpd: exit status $RC after SIGTERM"; }
no_sanitizer_report "$T/httpd.log"
pass "httpd CGI near FD_SETSIZE: $(tail -1 "$T/out")"
