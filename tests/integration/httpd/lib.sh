# Shared helpers for the httpd integration tests (sourced, not a test).
# Needs IPCBOX (the binary). Every wait is bounded; nothing sleeps blindly.
set -eu
: "${IPCBOX:?IPCBOX must point to the ipcbox binary}"
PYTOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tools" && pwd)   # the Python test peers
WORK=$(mktemp -d /tmp/ipcbox-httpd.XXXXXX)
PIDS=""
FAILS=0

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
die() { echo "FATAL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# check NAME ACTUAL EXPECTED
check() {
    if [ "$2" = "$3" ]; then ok "$1"; else
        fail "$1: got '$(printf '%s' "$2" | head -c 300)', want '$(printf '%s' "$3" | head -c 300)'"
    fi
}
# check_has NAME HAYSTACK NEEDLE
check_has() {
    case "$2" in
        *"$3"*) ok "$1" ;;
        *) fail "$1: '$3' not in: $(printf '%s' "$2" | head -c 600)" ;;
    esac
}
check_lacks() {
    case "$2" in
        *"$3"*) fail "$1: unexpected '$3' in: $(printf '%s' "$2" | head -c 600)" ;;
        *) ok "$1" ;;
    esac
}

# start_httpd [ARGS...] ROOT: starts a server on an ephemeral port; sets
# PID, ADDR (host:port) and BASE (http://ADDR). Access log -> $WORK/access.log
start_httpd() {
    local log="$WORK/err.$$.$RANDOM"
    # HTTPD_WRAP: a command that execs the rest (prlimit --nofile=N --)
    ${HTTPD_WRAP:-} "$IPCBOX" httpd --listen 127.0.0.1:0 "$@" >"$WORK/access.log" 2>"$log" &
    PID=$!
    PIDS="$PIDS $PID"
    ADDR=""
    for _ in $(seq 1 200); do
        ADDR=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$log" | head -n1)
        [ -n "$ADDR" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$ADDR" ] || { cat "$log" >&2; die "httpd did not start"; }
    BASE="http://$ADDR"
    ERRLOG="$log"
}

stop_httpd() {
    [ -n "${PID:-}" ] || return 0
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
}

# raw BYTES [shutdown]: send BYTES (printf escapes) to ADDR, print the
# whole answer (until the server closes or 5 s pass).
raw() {
    python3 "$PYTOOLS/httpd_raw.py" "$ADDR" "$1" "${2:-}"
}

# status of a raw exchange: the first status code in the answer
raw_status() {
    raw "$@" | head -n1 | awk '{print $2}'
}

# count how many HTTP status lines a raw exchange produced
raw_count() {
    raw "$@" | grep -c '^HTTP/1\.[01] ' || true
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed" >&2
        echo "--- server log:" >&2
        cat "$WORK"/err.* >&2 2>/dev/null || true
        exit 1
    fi
    echo "all checks passed"
}
