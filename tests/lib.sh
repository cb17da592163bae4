# Shared helpers for integration tests (sourced; not a test itself).
# Env from ctest: IPCBOX (binary), TOOLS (build dir), SRC (source dir).
set -u
: "${IPCBOX:?IPCBOX must point at the ipcbox binary}"
TOOLS=${TOOLS:-$(dirname "$IPCBOX")}
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/ipcbox-test.XXXXXX")
PIDS=()
# sanitizer reports must fail the test even from forked children
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

cleanup() {
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# start_server LOG CMD... : start CMD in the background with stderr in LOG,
# wait (bounded) for its "listening on" line. Sets SPID and PORT (the port
# of the first listening line).
start_server() {
    local log=$1; shift
    "$@" 2>"$log" &
    SPID=$!
    PIDS+=("$SPID")
    local i
    for i in $(seq 200); do
        if grep -q "listening on" "$log" 2>/dev/null; then
            PORT=$(grep -m1 -o "listening on [^ ]*" "$log" | sed 's/.*://')
            return 0
        fi
        kill -0 "$SPID" 2>/dev/null || { cat "$log" >&2; fail "server died at start: $*"; }
        sleep 0.05
    done
    cat "$log" >&2
    fail "server not listening after 10 s: $*"
}

# port_of LOG PATTERN : port of the listening line matching PATTERN
port_of() {
    grep "listening on" "$1" | grep -m1 -- "$2" | grep -o "listening on [^ ]*" | sed 's/.*://'
}

# wait_exit PID SECONDS : wait for PID (a child of this shell) to exit
# within SECONDS; sets RC to its exit status, or "timeout"
wait_exit() {
    local pid=$1 secs=$2 i
    for i in $(seq $((secs * 20))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        RC=timeout
        return 0
    fi
    wait "$pid"
    RC=$?
}

# no_sanitizer_report LOG : fail if LOG holds an ASan/UBSan/LSan report
no_sanitizer_report() {
    if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$1"; then
        cat "$1" >&2
        fail "sanitizer report in $1"
    fi
}

# zombies_of PID : count zombie children of PID
zombies_of() {
    ps -o stat= --ppid "$1" 2>/dev/null | grep -c '^Z' || true
}

# serve_services : names of the services `ipcbox serve` hosts
serve_services() {
    "$IPCBOX" serve --list-services
}

# serve_only NAME... : serve flags that turn off every service but NAME...
# (so a test never depends on the default ports being free)
serve_only() {
    local s keep
    for s in $(serve_services); do
        keep=0
        for k in "$@"; do [ "$s" = "$k" ] && keep=1; done
        [ $keep = 0 ] && printf -- '--no-%s\n' "$s"
    done
}
