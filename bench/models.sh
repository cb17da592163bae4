#!/bin/bash
# bench/models.sh: `make bench-models`, the C10K curve. For every server
# model of `ipcbox --list-models` (new ones included), under echo and
# httpd: requests/s of ACTIVE (default 50) keep-alive connections, each
# with one request outstanding (echo: 64 bytes; http: GET of a 1 KiB file),
# while N idle connections are also open, for each N of IDLE_LIST; the
# server's CPU time per request in the same window (modelload
# --server-pid: the process CPU clocks of the server tree, threads that
# ended and children reaped in the window included: the cost that holds
# when the load tool, not the server, is the limit);
# the memory each idle connection costs (server tree PSS with N idle minus
# with none, / N: PSS = RSS with shared pages split between the processes
# sharing them, so fork's children are not counted many times); and the
# accept rate (connections set up, closed by the client at once and closed
# by the server, per second). The server is pinned to CPU 0 with
# --workers 1, every load to CPU 1; one server at a time. The load tool is
# build/modelload (bench/modelload.c): it checks every byte of every echo
# and the status and length of every HTTP response. Idle connections come
# from several source addresses (127.0.0.2 ...: one address has only
# ~28,000 ephemeral ports) and each has made one request first, so the
# server has accepted it and holds it in keep-alive.
#
# Where a model cannot hold N idle connections the table says so and why:
# the descriptor limit (this script raises ulimit -n to the hard limit,
# and beyond when allowed), a cap (CAPS), or what the server logged when
# it stopped taking connections (select: a descriptor past FD_SETSIZE;
# thread: descriptors or threads). iterative serves one client at a time:
# one active connection, no idle ones.
#
# Writes OUT (default docs/bench-models.md: tables, ratios, raw lines, date,
# machine, load) and SVG (default docs/bench-models.svg, drawn by
# bench/models_svg.py). Environment: DUR (seconds per run, default 3),
# ROUNDS (runs per point, default 2: the best req/s and the least CPU per
# request count, as in bench/http.sh), WARMUP (default 0.5), ACTIVE (default 50), IDLE_LIST (default
# "0 400 1000 10000 50000"; 400 fits select's cap of 480), MODELS (default
# all), PROTOS (default "echo http"), SKIP (model names, or "accept"),
# CAPS (--max-conns of given models, default "fork=1100 select=992": beyond
# 1100, a process per idle connection is not tried; 992 is the most select
# accepts, FD_SETSIZE - 32; other models get what the largest N needs), STALL (seconds without progress that end an idle ramp, default
# 5), PORT (first port, default 29100), IPCBOX (default build/ipcbox), LOAD
# (default build/modelload), OUT, SVG, PAIRED (0: skip the side-by-side
# ratios of bench/models_paired.sh, which take about 6 minutes). Every run is bounded by DUR, every
# wait by a timeout.
set -u
cd "$(dirname "$0")/.." || exit 1
DUR=${DUR:-3}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-0.5}
ACTIVE=${ACTIVE:-50}
IDLE_LIST=${IDLE_LIST:-0 400 1000 10000 50000}
PROTOS=${PROTOS:-echo http}
SKIP=${SKIP:-}
CAPS=${CAPS:-fork=1100 select=992}
STALL=${STALL:-5}
PORT=${PORT:-29100}
IPCBOX=${IPCBOX:-build/ipcbox}
LOAD=${LOAD:-build/modelload}
OUT=${OUT:-docs/bench-models.md}
SVG=${SVG:-docs/bench-models.svg}

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench-models: $1 not found" >&2; exit 1; }; }
need taskset
need python3
[ -x "$IPCBOX" ] || { echo "bench-models: $IPCBOX missing (make build)" >&2; exit 1; }
[ -x "$LOAD" ] || { echo "bench-models: $LOAD missing (make build)" >&2; exit 1; }
MODELS=${MODELS:-$("$IPCBOX" --list-models)}
IDLE_LIST=$(tr ' ' '\n' <<<"$IDLE_LIST" | grep -E '^[0-9]+$' | sort -n | uniq | tr '\n' ' ')
maxn=$(tr ' ' '\n' <<<"$IDLE_LIST" | sort -n | tail -n 1)

# descriptors: the server holds one per connection, the idle tool one per
# idle connection; raise the limit as far as this process may
want=$((maxn + ACTIVE + 1000))
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -lt "$want" ] && ulimit -HSn "$want" 2>/dev/null
FDMAX=$(ulimit -n)
FDWHY="ulimit -n is $FDMAX here (the hard limit; raising it needs CAP_SYS_RESOURCE)"

T=$(mktemp -d /tmp/bench-models.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/www"
head -c 768 /dev/urandom | base64 -w0 | head -c 1024 >"$T/www/1k.html"
chmod 644 "$T/www/1k.html"
SPID=""
IDLER_PID=""
cleanup() {
    [ -n "$IDLER_PID" ] && kill "$IDLER_PID" 2>/dev/null
    [ -n "$SPID" ] && stop_server
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }

# every pid in the tree under $1 (children from /proc: fast with 1000 of them)
tree() {
    local p=$1 c
    echo "$p"
    # shellcheck disable=SC2013
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done
}

# PSS (KiB) of the server tree; VmRSS where smaps_rollup is missing
pss_kb() {
    local files="" p
    for p in $(tree "$SPID"); do files="$files /proc/$p/smaps_rollup"; done
    # shellcheck disable=SC2086
    awk '/^Pss:/ {s += $2} END {print s + 0}' $files 2>/dev/null
}

# the server's last warning or error, for "why it stopped": its msg="..."
server_why() {
    local l r
    l=$(grep -E ' (warn|error) ' "$T/server.log" 2>/dev/null | tail -n 1)
    [ -n "$l" ] || return 0
    r=$(sed -n 's/.* reason=//p' <<<"$l" | tr -d '"')
    echo "$(sed -n 's/.*msg="\([^"]*\)".*/\1/p' <<<"$l")${r:+ ($r)}" | cut -c1-140
}

wait_port() {   # up to 10 s
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$SPID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# start_server MODEL PROTO PORT CAP: SPID set, 0 when it listens; else the
# reason in $T/why
start_server() {
    local m=$1 p=$2 port=$3 cap=$4
    local common=(--log-level warn --grace 1 --listen "127.0.0.1:$port" --model "$m"
                  --workers 1 --max-conns "$cap")
    : >"$T/server.log"
    if [ "$p" = echo ]; then
        taskset -c 0 "$IPCBOX" echo --no-udp --idle 600 "${common[@]}" 2>"$T/server.log" &
    else
        taskset -c 0 "$IPCBOX" httpd --access-log off --idle-timeout 600 "${common[@]}" \
            "$T/www" 2>"$T/server.log" &
    fi
    SPID=$!
    wait_port "$port" && return 0
    head -n 1 "$T/server.log" | sed -n 's/.*msg="\([^"]*\)".*/\1/p;t;p' | cut -c1-120 >"$T/why"
    stop_server
    return 1
}

stop_server() {
    local pids
    pids=$(tree "$SPID")
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.05
    done
    pids=$(tree "$SPID")
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null
    wait "$SPID" 2>/dev/null
    SPID=""
}

# best_of RATE_FIELD CPU_FIELD ARGS...: ROUNDS modelload runs; prints the
# best rate and the least server CPU per unit among them (interference from
# other work only lowers the one and raises the other), then the most CPU
# per unit (its spread is the noise of that point); fails if one fails
best_of() {
    local rf=$1 cf=$2 r v c rate="" cpu="" cmax=""
    shift 2
    for _ in $(seq "$ROUNDS"); do
        r=$(load "$@") || return 1
        v=$(field "$rf" "$r")
        c=$(field "$cf" "$r")
        if [ -z "$rate" ] || awk -v a="$v" -v b="$rate" 'BEGIN { exit !(a > b) }'; then rate=$v; fi
        if [ -z "$cpu" ] || awk -v a="$c" -v b="$cpu" 'BEGIN { exit !(a < b) }'; then cpu=$c; fi
        if [ -z "$cmax" ] || awk -v a="$c" -v b="$cmax" 'BEGIN { exit !(a > b) }'; then cmax=$c; fi
    done
    echo "$rate $cpu $cmax"
}

field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# load ARGS...: one modelload run on CPU 1; its line, also in the raw lines
load() {
    local line rc
    line=$(timeout $((${DUR%.*} + 60)) taskset -c 1 "$LOAD" "$@" 2>"$T/load.err")
    rc=$?
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        echo "$TAG: FAILED (exit $rc) $(tail -n 1 "$T/load.err")" >>"$T/raw"
        return 1
    fi
    echo "$TAG: $line loadavg=$(cut -d" " -f1 /proc/loadavg)" >>"$T/raw"
    echo "$line"
}

declare -A RPS CPU CPUMAX WHY PSS ACC ACCCPU HELD LIMIT
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t_begin=$(date +%s)
: >"$T/raw"
: >"$T/results.tsv"
SRC=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9
ASRC=127.0.0.20,127.0.0.21,127.0.0.22,127.0.0.23,127.0.0.24,127.0.0.25,127.0.0.26,127.0.0.27
echo "bench-models: models: $MODELS; idle: $IDLE_LIST; $DUR s per run; server on CPU 0, load on CPU 1" >&2
port=$PORT
for p in $PROTOS; do
    sizearg=(--size 64)
    [ "$p" = http ] && sizearg=(--size 1024 --path /1k.html)
    for m in $MODELS; do
        skip "$m" && continue
        port=$((port + 1))
        cap=$(tr ' ' '\n' <<<"$CAPS" | sed -n "s/^$m=//p")
        cap=${cap:-$((maxn + ACTIVE + 64))}
        a=$ACTIVE
        [ "$m" = iterative ] && a=1
        TAG="$p $m"
        echo "bench-models: $p, $m" >&2
        if ! start_server "$m" "$p" "$port" "$cap"; then
            why=$(cat "$T/why")
            for n in $IDLE_LIST; do WHY[$p,$m,$n]="refused: ${why:-did not start}"; done
            echo "$TAG: server did not start: $why" >>"$T/raw"
            LIMIT[$p,$m]="refused: ${why:-did not start}"
            continue
        fi
        if [ "$p" = echo ] && ! skip accept; then
            TAG="$p $m accept"
            if r=$(best_of conns_per_s server_us_per_conn accept --seconds "$DUR" \
                       --warmup "$WARMUP" --src "$ASRC" --server-pid "$SPID" "127.0.0.1:$port"); then
                read -r "ACC[$m]" "ACCCPU[$m]" _ <<<"$r"
            else
                ACC[$m]=failed
            fi
            TAG="$p $m"
        fi
        coproc IDLER { exec taskset -c 1 "$LOAD" idle --proto "$p" "${sizearg[@]}" \
                           --src "$SRC" --stall "$STALL" "127.0.0.1:$port" 2>>"$T/raw"; }
        in=${IDLER[1]}
        out=${IDLER[0]}
        stop=""
        for n in $IDLE_LIST; do
            if [ -n "$stop" ]; then WHY[$p,$m,$n]=$stop; continue; fi
            if [ "$n" -gt 0 ] && [ "$m" = iterative ]; then
                stop="one client at a time"; LIMIT[$p,$m]=$stop; WHY[$p,$m,$n]=$stop; continue
            fi
            if [ $((n + ACTIVE + 200)) -gt "$FDMAX" ]; then
                stop="descriptors: $FDWHY"; LIMIT[$p,$m]=$stop; WHY[$p,$m,$n]=$stop; continue
            fi
            if [ $((n + a)) -gt "$cap" ]; then
                stop="--max-conns $cap (CAPS)"
                [ "$m" = select ] && stop="--max-conns $cap: the most select can hold (its fd_set stops at FD_SETSIZE, 1024)"
                LIMIT[$p,$m]=$stop; WHY[$p,$m,$n]=$stop; continue
            fi
            if [ "$n" -gt 0 ]; then
                echo "$n" >&"$in"
                reply=""
                read -r -t $((STALL + 240)) reply <&"$out"
                echo "$TAG idle $n: ${reply:-no answer}" >>"$T/raw"
                case $reply in
                ready*) ;;
                *)  sw=$(server_why)
                    stop="stopped at $(field have "$reply") idle: ${sw:-${reply#*reason=}}"
                    LIMIT[$p,$m]=$stop; WHY[$p,$m,$n]=$stop; continue ;;
                esac
            fi
            sleep 0.3
            PSS[$p,$m,$n]=$(pss_kb)
            TAG="$p $m idle=$n"
            if r=$(best_of req_per_s server_us_per_req run --proto "$p" "${sizearg[@]}" \
                       -c "$a" --seconds "$DUR" --warmup "$WARMUP" --server-pid "$SPID" \
                       "127.0.0.1:$port"); then
                read -r "RPS[$p,$m,$n]" "CPU[$p,$m,$n]" "CPUMAX[$p,$m,$n]" <<<"$r"
                printf '%s\t%s\t%s\t%s\t%s\n' "$p" "$m" "$n" "${RPS[$p,$m,$n]}" \
                    "${CPU[$p,$m,$n]}" >>"$T/results.tsv"
                HELD[$p,$m]=$n
            else
                sw=$(server_why)
                if ! kill -0 "$SPID" 2>/dev/null; then
                    wait "$SPID"
                    sw="the server exited (status $?${sw:+; $sw})"
                    { echo "$TAG: the server's last lines:"; tail -n 5 "$T/server.log" | sed 's/^/    /'; } >>"$T/raw"
                fi
                stop="failed with $n idle: ${sw:-$(tail -n 1 "$T/load.err" | cut -c1-100)}"
                LIMIT[$p,$m]=$stop; WHY[$p,$m,$n]=$stop
            fi
            TAG="$p $m"
            if [ "$n" -gt 0 ]; then
                echo check >&"$in"
                read -r -t 30 reply <&"$out"
                lost=$(field lost "${reply:-lost=?}")
                [ "$lost" = 0 ] || echo "$TAG idle $n: the server closed $lost idle connections" >>"$T/raw"
            fi
        done
        exec {in}>&- {out}<&-
        wait "$IDLER_PID" 2>/dev/null
        IDLER_PID=""
        stop_server
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - t_begin ))

# ---- the document -------------------------------------------------------------------
k() { awk -v x="$1" 'BEGIN { if (x >= 1e3) printf "%.1fk", x/1e3; else printf "%d", x }'; }
cell() {   # proto model n
    if [ -n "${RPS[$1,$2,$3]:-}" ]; then
        echo "$(k "${RPS[$1,$2,$3]}") · ${CPU[$1,$2,$3]} µs"
    elif [ -n "${WHY[$1,$2,$3]:-}" ]; then
        case ${WHY[$1,$2,$3]} in
        refused*) echo "refused" ;; descriptors*) echo "fd limit" ;;
        "one client"*) echo "—" ;; --max-conns*) echo "cap" ;; stopped*) echo "stopped" ;;
        *) echo "failed" ;;
        esac
    else
        echo ""
    fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "—" }'; }
curve_table() {   # proto
    local p=$1 m n row head="| model |" sep="|---|"
    for n in $IDLE_LIST; do head="$head $(k "$n") idle |"; sep="$sep---:|"; done
    echo "$head"
    echo "$sep"
    for m in $MODELS; do
        skip "$m" && continue
        row="| $m |"
        for n in $IDLE_LIST; do row="$row $(cell "$p" "$m" "$n") |"; done
        echo "$row"
    done
}
# ratios to N=0 at 10,000 idle (or the largest N held below it)
ratio_table() {
    echo "| model | echo: N | req/s N / 0 | CPU/req N / 0 | http: N | req/s N / 0 | CPU/req N / 0 | CPU per request |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    local m p row n best worst c noise x
    for m in $MODELS; do
        skip "$m" && continue
        row="| $m |"
        worst=""
        noise=1
        for p in echo http; do
            best=""
            for n in $IDLE_LIST; do
                [ "$n" -gt 0 ] && [ "$n" -le 10000 ] && [ -n "${RPS[$p,$m,$n]:-}" ] && best=$n
            done
            if [ -n "$best" ] && [ -n "${RPS[$p,$m,0]:-}" ]; then
                c=$(ratio "${CPU[$p,$m,$best]}" "${CPU[$p,$m,0]}")
                row="$row $(k "$best") | $(ratio "${RPS[$p,$m,$best]}" "${RPS[$p,$m,0]}") | $c |"
                if [ -z "$worst" ] || awk -v a="$c" -v b="$worst" 'BEGIN { exit !(a > b) }'; then
                    worst=$c
                fi
                for x in 0 "$best"; do
                    noise=$(awk -v a="${CPUMAX[$p,$m,$x]:-0}" -v b="${CPU[$p,$m,$x]}" -v n="$noise" \
                        'BEGIN { r = b > 0 ? a / b : 1; printf "%.2f", (r > n ? r : n) }')
                done
            else
                row="$row — | — | — |"
            fi
        done
        if [ -z "$worst" ]; then
            row="$row — |"
        elif awk -v a="$worst" 'BEGIN { exit !(a <= 1.10) }'; then
            row="$row flat (within 10%) |"
        elif awk -v a="$worst" -v n="$noise" 'BEGIN { exit !(a <= n) }'; then
            row="$row ${worst}×: within the noise (rounds of one point differ by up to ${noise}×) |"
        else
            row="$row grows (up to ${worst}×) |"
        fi
        echo "$row"
    done
}
mem_table() {
    echo "| model | accepts/s · server µs each | echo: most idle held | KiB per idle conn | http: most idle held | KiB per idle conn | what stops it |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    local m p row n a
    for m in $MODELS; do
        skip "$m" && continue
        a=${ACC[$m]:-}
        if [ -n "$a" ] && [ "$a" != failed ]; then a="$(k "$a") · ${ACCCPU[$m]} µs"; fi
        row="| $m | ${a:-—} |"
        for p in echo http; do
            n=${HELD[$p,$m]:-}
            if [ -n "$n" ] && [ "$n" -gt 0 ] && [ -n "${PSS[$p,$m,0]:-}" ]; then
                row="$row $(k "$n") | $(awk -v a="${PSS[$p,$m,$n]}" -v b="${PSS[$p,$m,0]}" -v n="$n" \
                    'BEGIN { printf "%.2f", (a - b) / n }') |"
            else
                row="$row ${n:-—} | — |"
            fi
        done
        why=${LIMIT[echo,$m]:-${LIMIT[http,$m]:-}}
        [ -n "${LIMIT[http,$m]:-}" ] && [ "${LIMIT[http,$m]}" != "$why" ] && why="echo: ${why:-none}; http: ${LIMIT[http,$m]}"
        echo "$row ${why:-held every N} |"
    done
}

python3 bench/models_svg.py "$T/results.tsv" "$SVG" "$ACTIVE" ||
    echo "bench-models: the chart was not written" >&2
# notes written by hand below the marker line survive a new run
marker='<!-- Kept by bench/models.sh: everything below this line survives a new run. -->'
kept=""
[ -f "$OUT" ] && kept=$(sed -n "\|^$marker\$|,\$p" "$OUT")
tmp=$(mktemp "$(dirname "$OUT")/.bench-models.XXXXXX")
{
    echo "# Server models: the C10K curve"
    echo
    echo "Produced by \`make bench-models\` (bench/models.sh), started $started: every point"
    echo "is the best of $ROUNDS runs of $DUR s (after a ${WARMUP} s warm-up each): the highest"
    echo "req/s and the least server CPU per request; $elapsed s in all."
    echo "Chart: [bench-models.svg]($(basename "$SVG"))."
    echo
    echo "Every model of \`ipcbox --list-models\` serves echo (\`ipcbox echo\`) and then"
    echo "HTTP (\`ipcbox httpd\`, a 1 KiB file) with \`--workers 1\`, pinned to CPU 0; the"
    echo "load tool (build/modelload, bench/modelload.c) runs on CPU 1. $ACTIVE keep-alive"
    echo "connections each keep one request outstanding (64-byte echo, or GET of the"
    echo "1 KiB file; every echoed byte, every status and body length checked) while N"
    echo "idle connections are held open; each idle connection made one request first,"
    echo "so the server has accepted it and holds it (echo: read armed; httpd: in"
    echo "keep-alive). iterative serves one client at a time: it gets one active"
    echo "connection and no idle ones."
    echo
    echo "Machine (\`lscpu | head\`, kernel $(uname -r)):"
    echo
    echo '```'
    lscpu | head -n 15
    echo '```'
    echo
    echo "Load average (1, 5, 15 min) before: $load_before; after: $load_after. The"
    echo "machine is shared with other work (other builds and tests ran meanwhile): with"
    echo "a load near or above the 2 CPUs, req/s moves with that load from run to run;"
    echo "the server CPU per request beside it is the steadier measure of a model's cost."
    echo
    echo "## Echo, 64 bytes: requests/s · server CPU per request"
    echo
    echo "Requests/s of the $ACTIVE active connections, then the server's CPU time"
    echo "(user + system, its threads and worker processes, from /proc) per request over"
    echo "the same window. fd limit: the descriptors needed are not available here;"
    echo "cap / stopped / refused: see the limits table; —: not applicable."
    echo
    curve_table echo
    echo
    echo "## HTTP GET, 1 KiB: requests/s · server CPU per request"
    echo
    curve_table http
    echo
    echo "## Flat or O(N): N idle against none"
    echo
    echo "For each model the largest N up to 10,000 it held, and the ratio of its"
    echo "req/s and of its server CPU per request to those with no idle connection."
    echo "The last column judges by the server CPU per request (the worse of echo and"
    echo "http): flat within 10% when N idle cost at most 1.10× what none cost; within"
    echo "the noise when the ratio is no larger than the spread between the $ROUNDS runs of"
    echo "one of the two points compared. On a"
    echo "shared machine req/s moves with the other load; the CPU a request costs the"
    echo "server does not. A model whose loop hands the kernel every connection on each"
    echo "pass (select, poll) pays for the idle ones on every request."
    echo
    ratio_table
    echo
    # the same question asked side by side (bench/models_paired.sh): a
    # change in the machine's other load then hits both points alike
    if [ "${PAIRED:-1}" != 0 ]; then
        bench/models_paired.sh || echo "(bench/models_paired.sh failed: see its errors)"
        echo
    fi
    echo "## Accept rate, memory per idle connection, limits"
    echo
    echo "Accepts/s: connections opened $((64)) at a time by modelload accept, each shut"
    echo "down by the client as soon as it is established and counted when the server"
    echo "has closed its side (accepted, read EOF, closed); with the server's CPU per"
    echo "connection. KiB per idle connection: (server PSS with the most idle"
    echo "connections held − PSS with none) / N; PSS is RSS with each shared page split"
    echo "between the processes that map it, so fork's children sum correctly. It counts"
    echo "user-space memory only: the kernel's socket buffers (a few KiB per idle TCP"
    echo "socket) are not in it."
    echo
    mem_table
    echo
    echo "## Raw lines"
    echo
    echo '```'
    cat "$T/raw"
    echo '```'
    if [ -n "$kept" ]; then
        echo
        printf '%s\n' "$kept"
    fi
} >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$OUT"
echo "bench-models: wrote $OUT and $SVG ($elapsed s)" >&2
sed -n '/^## Echo/,/^## Raw/p' "$OUT" | sed '$d'
