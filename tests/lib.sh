# The one library of the integration tests (sourced; not a test itself).
# Every tests/integration/*.sh sources this file and nothing else:
#   . "$(dirname "$0")/../lib.sh"
# Env from ctest: IPCBOX (binary), TOOLS (build dir, C helpers), SRC
# (source dir). Python peers are files in tests/tools/ ($PYTOOLS).
# Every wait here is bounded; processes a test starts go into PIDS and are
# stopped by pid on exit; everything lives under $T (removed on exit
# unless KEEP is set).
#
# Sections: core (set-up, verdicts, processes, waiting) - soft checks -
# models and serve - http(d) - tftp(d) - send/recv/get (xfer) - file
# systems (frozen ext4, private tmpfs).

# ---- core -------------------------------------------------------------------
set -u
: "${IPCBOX:?IPCBOX must point at the ipcbox binary}"
TOOLS=${TOOLS:-$(dirname "$IPCBOX")}
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PYTOOLS="$SRC/tests/tools"   # the Python test peers (tests/tools/*.py)
T=$(mktemp -d "${TMPDIR:-/tmp}/ipcbox-test.$(basename "$0" .sh).XXXXXX")
WORK=$T                      # the httpd and tftp tests' name for $T
PIDS=()
# sanitizer reports must fail the test even from forked children
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

_EXIT_FIRST=()
_EXIT_LAST=()
# on_exit_first CMD : run CMD (eval'd) on exit before the processes of
# PIDS are stopped (e.g. thaw a frozen file system they block on)
on_exit_first() { _EXIT_FIRST+=("$1"); }
# on_exit CMD : run CMD (eval'd) on exit after the processes of PIDS have
# stopped, before $T is removed (e.g. unmount something under $T)
on_exit() { _EXIT_LAST+=("$1"); }

# _alive PID : PID exists and is not a zombie
_alive() {
    [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

cleanup() {
    local c p i live
    set +e
    for c in "${_EXIT_FIRST[@]}"; do eval "$c"; done
    for p in "${PIDS[@]}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 50); do            # 5 s to exit on SIGTERM, then SIGKILL
        live=0
        for p in "${PIDS[@]}"; do [ -n "$p" ] && _alive "$p" && live=1; done
        [ $live = 0 ] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
    for c in "${_EXIT_LAST[@]}"; do eval "$c"; done
    [ -n "${KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP   # so that the EXIT trap runs

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# need CMD... : skip unless every CMD is installed
need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || skip "$c not installed (scripts/deps.sh)"
    done
}

# have_ipv6 : the loopback has ::1 (TCP and UDP can bind there)
have_ipv6() {
    python3 -c 'import socket
for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    socket.socket(socket.AF_INET6, t).bind(("::1", 0))' 2>/dev/null
}

# wait_for FILE PATTERN [SECS] : wait (default 10 s) for a line matching
# PATTERN (grep) in FILE; on timeout show FILE and return 1
wait_for() {
    local i
    for i in $(seq $((${3:-10} * 20))); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "timed out waiting for '$2' in $1" >&2
    cat "$1" >&2 2>/dev/null
    return 1
}

# listen_addr LOG [PREFIX] [PID] : wait (10 s, or until PID dies) for the
# line "PREFIXlistening on ADDR" in LOG and print ADDR (HOST:PORT or
# [V6]:PORT); prints nothing if it does not come
listen_addr() {
    local i a pre=""
    # PREFIX "httpd: " names the service: its lines read httpd[PID]: msg="...
    [ -n "${2:-}" ] && pre="${2%: }\\[[0-9]*\\]: msg=\""
    for i in $(seq 200); do
        a=$(sed -n "s/.*${pre}listening on \([^ \"]*\).*/\1/p" "$1" 2>/dev/null | head -n1)
        [ -n "$a" ] && { echo "$a"; return 0; }
        [ -n "${3:-}" ] && ! _alive "$3" && return 0
        sleep 0.05
    done
}

# listen_port LOG [PREFIX] [PID] : the port of listen_addr
listen_port() {
    local a
    a=$(listen_addr "$@")
    [ -n "$a" ] && echo "${a##*:}"
}

# start_server LOG CMD... : start CMD in the background with stderr in LOG,
# wait (bounded) for its "listening on" line. Sets SPID and PORT (the port
# of the first listening line).
start_server() {
    local log=$1 a
    shift
    "$@" 2>"$log" &
    SPID=$!
    PIDS+=("$SPID")
    a=$(listen_addr "$log" "" "$SPID")
    if [ -z "$a" ]; then
        cat "$log" >&2
        _alive "$SPID" || fail "server died at start: $*"
        fail "server not listening after 10 s: $*"
    fi
    PORT=${a##*:}
}

# port_of LOG PATTERN : port of the listening line matching PATTERN
port_of() {
    grep "listening on" "$1" | grep -m1 -- "$2" | grep -o "listening on [^ \"]*" | sed 's/.*://'
}

# wait_exit PID SECONDS : wait for PID (a child of this shell) to exit
# within SECONDS; sets RC to its exit status, or "timeout"
wait_exit() {
    local pid=$1 secs=$2 i
    for i in $(seq $((secs * 20))); do
        _alive "$pid" || break
        sleep 0.05
    done
    if _alive "$pid"; then
        RC=timeout
        return 0
    fi
    RC=0
    wait "$pid" || RC=$?
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

# proc_kb PID FIELD : a /proc/PID/status field in kB (VmRSS, VmHWM ...)
proc_kb() {
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

# mkrand PATH BYTES : a file of random bytes
mkrand() {
    head -c "$2" /dev/urandom >"$1" || fail "cannot create $1"
}

# fsize PATH : size in bytes (0 if missing)
fsize() {
    stat -c %s "$1" 2>/dev/null || echo 0
}

# wait_size PATH BYTES SECS : wait until PATH holds at least BYTES
wait_size() {
    local i
    for i in $(seq $(($3 * 20))); do
        [ "$(fsize "$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    fail "$1 did not reach $2 bytes in $3 s (has $(fsize "$1"))"
}

# spare_ports tcp|udp N [run] : N ports of 127.0.0.1 free for TCP or UDP
# now, on one line; with "run", N consecutive ones (a --port-range). For a
# port a test picks now and binds later (or gives to another program):
# they are drawn below the kernel's ephemeral range
# (net.ipv4.ip_local_port_range), so no port the kernel hands out in the
# meantime (a bind to port 0, the source port of a connect, here or in a
# test running beside this one) can be one of them. Where that range
# starts too low, they are ports of the kernel's choice.
spare_ports() {
    python3 -c 'import random, socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
n, run = int(sys.argv[2]), len(sys.argv) > 3
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 1024
def free(ports):
    socks = []
    try:
        for p in ports:
            socks.append(socket.socket(socket.AF_INET, kind))
            socks[-1].bind(("127.0.0.1", p))
        return [s.getsockname()[1] for s in socks]
    except OSError:
        return None
    finally:
        for s in socks:
            s.close()
got = None
if low - 10000 > 1000:
    for _ in range(1000):
        base = random.randrange(10000, low - n)
        got = free(range(base, base + n) if run else random.sample(range(10000, low), n))
        if got:
            break
if not got and not run:
    got = free([0] * n)
if not got:
    sys.exit("no %d spare %s ports" % (n, sys.argv[1]))
print(" ".join(map(str, got)))' "$@"
}

# ---- soft checks: count failures, go on, verdict at `finish` ----------------
FAILS=0
PASSES=0
SERVER_LOGS=()   # shown by finish when a check failed
record_pass() { echo "ok: $*"; PASSES=$((PASSES + 1)); }
record_fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# check NAME ACTUAL EXPECTED
check() {
    if [ "$2" = "$3" ]; then record_pass "$1"; else
        record_fail "$1: got '$(printf '%s' "$2" | head -c 300)', want '$(printf '%s' "$3" | head -c 300)'"
    fi
}
# check_has NAME HAYSTACK NEEDLE
check_has() {
    case "$2" in
        *"$3"*) record_pass "$1" ;;
        *) record_fail "$1: '$3' not in: $(printf '%s' "$2" | head -c 600)" ;;
    esac
}
# check_lacks NAME HAYSTACK NEEDLE
check_lacks() {
    case "$2" in
        *"$3"*) record_fail "$1: unexpected '$3' in: $(printf '%s' "$2" | head -c 600)" ;;
        *) record_pass "$1" ;;
    esac
}
# check_cmd LABEL CMD... : run CMD (a program bounded to 120 s, or a shell
# function of the test, whose commands bound themselves); it must succeed.
# Its output is shown when it fails.
check_cmd() {
    local label=$1 run=(timeout 120)
    shift
    declare -F "$1" >/dev/null && run=()
    if "${run[@]}" "$@" >"$T/last.out" 2>&1; then
        record_pass "$label"
    else
        record_fail "$label"
        sed 's/^/      /' "$T/last.out" | tail -20 >&2
    fi
}

# finish : the verdict of the soft checks (exit 1 if one failed)
finish() {
    echo "$PASSES passed, $FAILS failed"
    if [ "$FAILS" -ne 0 ]; then
        local l
        for l in "${SERVER_LOGS[@]}"; do
            echo "--- $l:"
            cat "$l" 2>/dev/null
        done >&2
        exit 1
    fi
}

# ---- redis -------------------------------------------------------------------
# start_redis : a private redis-server on a spare loopback port (one no
# connect takes as its source port while Redis is down: a test restarts
# it there), stopped on exit (by the pid in $T/redis.pid, which a test
# that restarts Redis rewrites); sets RPORT and URL (redis://127.0.0.1:RPORT)
start_redis() {
    RPORT=$(spare_ports tcp 1) || fail "no spare port for redis-server"
    redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >"$T/redis.log" 2>&1 &
    echo $! >"$T/redis.pid"
    on_exit_first 'kill -KILL "$(cat "$T/redis.pid")" 2>/dev/null'
    wait_for "$T/redis.log" "Ready to accept connections" 10 || fail "redis-server did not start"
    URL=redis://127.0.0.1:$RPORT
}

# ---- models and serve -------------------------------------------------------
# server_models [EXCEPT...] : the server models of the binary, one a line
# (ipcbox --list-models), but those named, and io_uring where the kernel
# refuses it (said on stderr)
server_models() {
    local m x
    for m in $("$IPCBOX" --list-models); do
        for x in "$@"; do [ "$m" = "$x" ] && continue 2; done
        if [ "$m" = io_uring ] && ! x=$("$TOOLS/uring_probe"); then
            echo "SKIP model io_uring: $x" >&2
            continue
        fi
        echo "$m"
    done
}

# serve_services : names of the services `ipcbox serve` hosts
serve_services() {
    "$IPCBOX" serve --list-services
}

# serve_only NAME... : serve flags that turn off every service but NAME...
# (so a test never depends on the default ports being free)
serve_only() {
    local s keep k
    for s in $(serve_services); do
        keep=0
        for k in "$@"; do [ "$s" = "$k" ] && keep=1; done
        [ $keep = 0 ] && printf -- '--no-%s\n' "$s"
    done
}

# serve_ephemeral : serve flags that move every service to an ephemeral
# port on 127.0.0.1
serve_ephemeral() {
    local s
    for s in $(serve_services); do printf -- '--%s-listen\n127.0.0.1:0\n' "$s"; done
}

# ---- http(d) ----------------------------------------------------------------
# cgi_env_root DIR: DIR/cgi-bin/env.sh, a CGI script that prints its
# environment (the meta-variables a request gave it) as text/plain.
cgi_env_root() {
    mkdir -p "$1/cgi-bin"
    printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n"\nenv\n' >"$1/cgi-bin/env.sh"
    chmod +x "$1/cgi-bin/env.sh"
}

# start_httpd [ARGS...] ROOT: starts a server on an ephemeral port; sets
# PID, ADDR (host:port), BASE (http://ADDR) and ERRLOG (its stderr).
# Access log -> $T/access.log. HTTPD_WRAP: a command that execs the rest
# (prlimit --nofile=N --).
start_httpd() {
    ERRLOG="$T/err.$$.$RANDOM"
    SERVER_LOGS+=("$ERRLOG")
    ${HTTPD_WRAP:-} "$IPCBOX" httpd --listen 127.0.0.1:0 "$@" >"$T/access.log" 2>"$ERRLOG" &
    PID=$!
    PIDS+=("$PID")
    ADDR=$(listen_addr "$ERRLOG" "" "$PID")
    [ -n "$ADDR" ] || { cat "$ERRLOG" >&2; fail "httpd did not start"; }
    BASE="http://$ADDR"
}

# stop_httpd : SIGTERM the server of start_httpd and wait for it
stop_httpd() {
    [ -n "${PID:-}" ] || return 0
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
}

# http_code CURL-ARGS... : the status code curl gets
http_code() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }

# raw BYTES [shutdown|slow]: send BYTES (printf escapes) to ADDR, print the
# whole answer (until the server closes; 30 s at most).
raw() {
    python3 "$PYTOOLS/httpd_raw.py" "$ADDR" "$1" "${2:-}"
}

# raw_status ... : the first status code in the answer of a raw exchange
raw_status() {
    raw "$@" | head -n1 | awk '{print $2}'
}

# raw_count ... : how many HTTP status lines a raw exchange produced
raw_count() {
    raw "$@" | grep -c '^HTTP/1\.[01] ' || true
}

# ---- tftp(d) ----------------------------------------------------------------
# start_tftpd LOG ARGS...: run our server (stdout and stderr in LOG), set
# SRV_PID and PORT from its listening line.
start_tftpd() {
    local log=$1
    shift
    SERVER_LOGS+=("$log")
    "$IPCBOX" tftpd --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    PORT=$(listen_port "$log" "" "$SRV_PID")
    [ -n "$PORT" ] || { cat "$log" >&2; fail "tftpd did not start: $*"; }
}

# same A B: byte-identical files.
same() { cmp "$1" "$2"; }

# tftp_files DIR: the interop corpus (empty, block multiples, random, and
# a text with every line-end case for netascii).
tftp_files() {
    local d=$1 i
    mkdir -p "$d"
    : >"$d/zero.bin"
    head -c $((512 * 8)) /dev/urandom >"$d/exact512x8.bin"
    head -c $((1468 * 3)) /dev/urandom >"$d/exact1468x3.bin"
    head -c 300001 /dev/urandom >"$d/random.bin"
    # text with LF, CR LF, a lone CR and a CR at a block boundary
    {
        for i in $(seq 400); do printf 'line %d\n' "$i"; done
        printf 'dos line\r\nlone\rcr\n'
        head -c 509 /dev/zero | tr '\0' x
        printf '\r'
        printf 'after boundary\n'
    } >"$d/text.txt"
}

# ---- send / recv / get (xfer) -----------------------------------------------
# start_recv DIR [ARGS...] : recv on an ephemeral port; sets RPID, RPORT
# and RLOG ($T/recv.N.log, a fresh log per start).
RN=0
start_recv() {
    local dir=$1; shift
    RN=$((RN + 1))
    RLOG="$T/recv.$RN.log"
    start_server "$RLOG" "$IPCBOX" recv --dir "$dir" --listen 127.0.0.1:0 "$@"
    RPID=$SPID
    RPORT=$PORT
}

# stop_recv : SIGTERM the receiver and wait for it (bounded)
stop_recv() {
    kill -TERM "$RPID" 2>/dev/null
    wait_exit "$RPID" 20
    [ "$RC" != timeout ] || fail "recv did not stop on SIGTERM"
    no_sanitizer_report "$RLOG"
}

# flip_byte PATH OFFSET : change the byte at OFFSET (always a change,
# whatever random value was there)
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    [ -n "$b" ] || fail "flip_byte: $1 has no byte at $2"
    printf "\\$(printf '%03o' $(((b + 1) % 256)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null || fail "flip_byte $1"
}

# peer_paused NAME PATH FILE AT : start xferpeer uploading FILE as PATH,
# paused at AT (confirm or end); waits (10 s) for the pause. Sets UPID;
# the peer goes on with `peer_go NAME` (or is killed). Output in $T/NAME.out.
peer_paused() {
    local name=$1 i
    rm -f "$T/$name.in"
    mkfifo "$T/$name.in"
    "$TOOLS/xferpeer" upload 127.0.0.1:"$RPORT" "$2" "$3" "$4" \
        <"$T/$name.in" >"$T/$name.out" 2>&1 &
    UPID=$!
    PIDS+=("$UPID")
    eval "exec {PEER_FD_$name}>\"\$T/\$name.in\""
    for i in $(seq 200); do grep -q paused "$T/$name.out" && return 0; sleep 0.05; done
    cat "$T/$name.out" >&2
    fail "xferpeer $name did not pause"
}

# peer_go NAME : let a paused xferpeer go on
peer_go() {
    local fdvar="PEER_FD_$1"
    echo go >&"${!fdvar}"
    eval "exec ${!fdvar}>&-"
}

# wait_log PATTERN [SECS] : wait (default 20 s) until $RLOG has a line
# matching PATTERN
wait_log() {
    wait_for "$RLOG" "$1" "${2:-20}" || fail "no log line matching '$1' in ${2:-20} s"
}

# ---- file systems -----------------------------------------------------------
# frozen_fs_mount MNT IMAGE SIZE : a small ext4 file system loop-mounted at
# MNT (inside the served root) that `freeze` blocks (fsfreeze) so that a
# commit there waits for as long as the test wants, until `thaw`. Only
# ever this file system is frozen, never the one holding $T. Skips (77)
# unless it can be made. On exit: thawed first, unmounted last.
FROZEN=0
thaw() {
    if [ $FROZEN = 1 ]; then fsfreeze -u "$MNT" 2>/dev/null; FROZEN=0; fi
}
freeze() {
    mountpoint -q "$MNT" || fail "$MNT is not a mount point: refusing to freeze"
    sync
    fsfreeze -f "$MNT" || fail "fsfreeze -f $MNT"
    FROZEN=1
}
frozen_fs_mount() {
    MNT=$1
    [ "$(id -u)" = 0 ] || skip "needs root (loop mount and fsfreeze)"
    need mkfs.ext4 fsfreeze mount umount mountpoint
    mkdir -p "$MNT"
    on_exit_first thaw
    on_exit 'mountpoint -q "$MNT" && { umount "$MNT" 2>/dev/null || umount -l "$MNT"; }'
    truncate -s "$3" "$2"
    mkfs.ext4 -q -F "$2" >/dev/null 2>&1 || skip "mkfs.ext4 failed"
    mount -o loop "$2" "$MNT" 2>/dev/null || skip "cannot loop-mount a file system here"
}

# private_mount_ns "$@" : (first thing in a test) re-run the test in a
# private mount namespace, so that its mounts vanish with it; root only,
# skips otherwise
private_mount_ns() {
    [ -n "${IBX_MOUNT_NS:-}" ] && return 0
    [ "$(id -u)" = 0 ] || skip "needs root (mount)"
    need unshare
    rm -rf "$T"
    trap - EXIT
    IBX_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
}

# mount_tmpfs DIR SIZE : a tmpfs of SIZE (8m) at DIR, unmounted on exit;
# skips if it cannot be mounted
mount_tmpfs() {
    mkdir -p "$1"
    mount -t tmpfs -o size="$2" tmpfs "$1" || skip "cannot mount tmpfs"
    on_exit "umount '$1'"
}
