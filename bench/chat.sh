#!/bin/bash
# bench/chat.sh: `make bench-chat`. Chat fan-out: ipcbox chatd against Redis
# pub/sub (redis-server), nats-server and `ncat --chat` (plain lines), all
# driven by the same verifying load tool, build/chatload (bench/chatload.c:
# N members in one room, one publisher, every delivery checked once and in
# order, ~64-byte messages). Every server runs side by side pinned to CPU 0,
# chatload to CPU 1, in one run; servers are started here on private
# loopback ports and killed at the end. Writes docs/bench-chat.md:
#   1. deliveries/s, closed loop (a window of 64 messages outstanding), for
#      SIZES members in one room;
#   2. p50/p99 delivery latency at a fixed offered load (RATE msgs/s, by
#      default half of chatd's peak msgs/s with LAT_MEMBERS members, or of
#      redis's without chatd), the same rate for every server;
#   3. server RSS idle and with IDLE idle members.
#
# Environment: TARGETS (default "chatd redis nats ncat"; "ngircd" is also
# known: a real IRC server, but its flood control throttles every client,
# so its rows say nothing about speed), SIZES (default "10 100 1000 5000"),
# DUR (seconds per run, default 5), LAT_MEMBERS (default 100), RATE,
# IDLE (default 10000), SETTLE (seconds the idle members wait before the
# RSS is read, default 6), NCAT_MAX (largest room tried with ncat, default 10:
# ncat --chat quits, "getpeername ... failed", once a few dozen members
# connect at once; and it relays each read() with a "<userN> " prefix, not
# each line, so under load it cuts lines: chatload then reports corrupt
# messages and the cell says failed), PORT (first port, default 26660), IPCBOX (default
# build/ipcbox), LOAD (default build/chatload), OUT (default
# docs/bench-chat.md).
set -u
cd "$(dirname "$0")/.." || exit 1

# ---- adjust here: how chatd is started (flood control off for the
# trusted local load; see `ipcbox chatd --help`) ---------------------------
CHATD_ARGS=${CHATD_ARGS:---flood-rate 0 --max-per-addr 0}
# extra chatload arguments per target for the closed-loop table (e.g.
# NGIRCD_LOAD="--window 1": ngircd throttles each client to about one line
# a second after a short burst)
CHATD_LOAD=${CHATD_LOAD:-}
REDIS_LOAD=${REDIS_LOAD:-}
NATS_LOAD=${NATS_LOAD:-}
NCAT_LOAD=${NCAT_LOAD:-}
NGIRCD_LOAD=${NGIRCD_LOAD:-}

TARGETS=${TARGETS:-chatd redis nats ncat}
SIZES=${SIZES:-10 100 1000 5000}
DUR=${DUR:-5}
LAT_MEMBERS=${LAT_MEMBERS:-100}
RATE=${RATE:-}
IDLE=${IDLE:-10000}
SETTLE_S=${SETTLE:-6}
NCAT_MAX=${NCAT_MAX:-10}
PORT=${PORT:-26660}
IPCBOX=${IPCBOX:-build/ipcbox}
LOAD=${LOAD:-build/chatload}
OUT=${OUT:-docs/bench-chat.md}

need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ||
         { echo "bench-chat: $1 not found (scripts/deps.sh bench)" >&2; return 1; }; }
need taskset || exit 1
[ -x "$LOAD" ] || { echo "bench-chat: $LOAD missing (make build)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt $((IDLE + 100)) ]; then
    echo "bench-chat: ulimit -n is $(ulimit -n); $IDLE idle members need more" >&2
    exit 1
fi

T=$(mktemp -d /tmp/bench-chat.XXXXXX)
ALL=""   # every pid started here, killed at the end
cleanup() {
    for p in $ALL; do kill "$p" 2>/dev/null; done
    for p in $ALL; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {   # port: up to 10 s
    local i
    for i in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# rss_kb PID: VmRSS of PID and its descendants (prefork/fork models), KiB
rss_kb() {
    local total=0 p kids
    p=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null)
    total=$((total + ${p:-0}))
    kids=$(cat /proc/"$1"/task/*/children 2>/dev/null)
    for p in $kids; do total=$((total + $(rss_kb "$p"))); done
    echo "$total"
}

declare -A PID_OF PORT_OF PROTO_OF EXTRA_OF
start_target() {   # name -> sets PID_OF/PORT_OF/PROTO_OF, or returns 1
    local n=$1 port=$PORT pid
    PORT=$((PORT + 1))
    case $n in
    chatd)
        [ -x "$IPCBOX" ] && "$IPCBOX" chatd --help >/dev/null 2>&1 ||
            { echo "bench-chat: $IPCBOX has no chatd; skipped" >&2; return 1; }
        # shellcheck disable=SC2086
        taskset -c 0 "$IPCBOX" chatd --listen 127.0.0.1:$port $CHATD_ARGS >"$T/chatd.log" 2>&1 &
        pid=$!; PROTO_OF[$n]=irc; EXTRA_OF[$n]=$CHATD_LOAD ;;
    redis)
        need redis-server || return 1
        taskset -c 0 redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no \
            --maxclients $((IDLE + 1000)) --dir "$T" >"$T/redis.log" 2>&1 &
        pid=$!; PROTO_OF[$n]=redis; EXTRA_OF[$n]=$REDIS_LOAD ;;
    nats)
        need nats-server || return 1
        taskset -c 0 nats-server -a 127.0.0.1 -p $port >"$T/nats.log" 2>&1 &
        pid=$!; PROTO_OF[$n]=nats; EXTRA_OF[$n]=$NATS_LOAD ;;
    ncat)
        need ncat || return 1
        taskset -c 0 ncat -n --chat -l 127.0.0.1 $port --max-conns $((IDLE + 1000)) >"$T/ncat.log" 2>&1 &
        pid=$!; PROTO_OF[$n]=lines; EXTRA_OF[$n]=$NCAT_LOAD ;;
    ngircd)
        need ngircd || return 1
        mkdir -p "$T/ngircd.d"
        cat >"$T/ngircd.conf" <<CONF
[Global]
    Name = irc.bench
    Info = bench-chat
    Listen = 127.0.0.1
    Ports = $port
    MotdPhrase = bench
    PidFile = $T/ngircd.pid
    ServerUID = nobody
[Limits]
    MaxConnectionsIP = 0
    PingTimeout = 600
[Options]
    DNS = no
    Ident = no
    PAM = no
    IncludeDir = $T/ngircd.d
[SSL]
CONF
        taskset -c 0 "$(command -v ngircd || echo /usr/sbin/ngircd)" -n -f "$T/ngircd.conf" >"$T/ngircd.log" 2>&1 &
        pid=$!; PROTO_OF[$n]=irc; EXTRA_OF[$n]=$NGIRCD_LOAD ;;
    *)  echo "bench-chat: unknown target $n" >&2; return 1 ;;
    esac
    ALL="$ALL $pid"
    if ! wait_port "$port"; then
        echo "bench-chat: $n did not listen on $port (log: $(tail -n 3 "$T/$n.log" 2>/dev/null))" >&2
        return 1
    fi
    PID_OF[$n]=$pid
    PORT_OF[$n]=$port
}

# load NAME MEMBERS ARGS... : one chatload run on CPU 1; prints its result
# line (also kept in $T/raw), or "failed" (its stderr's tail in $T/raw)
load() {
    local n=$1 m=$2 line rc
    shift 2
    # shellcheck disable=SC2086
    line=$(timeout $((DUR + 150)) taskset -c 1 "$LOAD" --proto "${PROTO_OF[$n]}" -n "$m" \
             --seconds "$DUR" --server-pid "${PID_OF[$n]}" "$@" "127.0.0.1:${PORT_OF[$n]}" 2>"$T/err")
    rc=$?
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        { echo "$n members=$m $*: FAILED (exit $rc) $line"; tail -n 5 "$T/err" | sed 's/^/    /'; } >>"$T/raw"
        echo failed
        return 1
    fi
    echo "$n $line" >>"$T/raw"
    echo "$line"
}
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
human() { awk -v x="$1" 'BEGIN { if (x >= 1e6) printf "%.2f M", x/1e6; else if (x >= 1e3) printf "%.1f k", x/1e3; else printf "%.0f", x }'; }

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$T/raw"
UP=""
for n in $TARGETS; do
    start_target "$n" && UP="$UP $n"
done
[ -n "$UP" ] || { echo "bench-chat: no server started" >&2; exit 1; }
declare -A RSS0
sleep 0.5
for n in $UP; do RSS0[$n]=$(rss_kb "${PID_OF[$n]}"); done
echo "bench-chat: servers:$UP (CPU 0), chatload on CPU 1, $DUR s per run" >&2

# ---- 1. deliveries/s --------------------------------------------------------
declare -A PEAK   # msgs/s at LAT_MEMBERS, for the fixed rate
T1="| members |"; sep="|---|"
for n in $UP; do T1="$T1 $n |"; sep="$sep---|"; done
T1="$T1"$'\n'"$sep"
T1C="$T1"   # the same runs: server CPU per delivery
for m in $SIZES; do
    row="| $m |"; rowc="| $m |"
    for n in $UP; do
        if [ "$n" = ncat ] && [ "$m" -gt "$NCAT_MAX" ]; then row="$row — |"; rowc="$rowc — |"; continue; fi
        echo "bench-chat: $n, $m members" >&2
        # shellcheck disable=SC2086
        r=$(load "$n" "$m" ${EXTRA_OF[$n]})
        if [ "$r" = failed ]; then row="$row failed |"; rowc="$rowc failed |"; continue; fi
        row="$row $(human "$(field deliveries_per_s "$r")") · $(field cpu_pct "$r")% |"
        rowc="$rowc $(field server_ns_per_delivery "$r") ns · $(field server_cpu_pct "$r")% |"
        [ "$m" = "$LAT_MEMBERS" ] && PEAK[$n]=$(field msgs_per_s "$r")
    done
    T1="$T1"$'\n'"$row"
    T1C="$T1C"$'\n'"$rowc"
done

# ---- 2. latency at a fixed offered load -------------------------------------
if [ -z "$RATE" ]; then
    for n in chatd redis; do
        if [ -n "${PEAK[$n]:-}" ]; then
            RATE=$(awk -v p="${PEAK[$n]}" 'BEGIN { printf "%d", p / 2 }')
            RATE_WHY="half of $n's peak with $LAT_MEMBERS members (${PEAK[$n]} msgs/s above)"
            break
        fi
    done
fi
RATE_WHY=${RATE_WHY:-set by RATE}
T2=""
if [ -n "$RATE" ] && [ "$RATE" -gt 0 ]; then
    T2="| server | msgs/s offered | msgs/s sent | p50 µs | p99 µs | max µs | chatload CPU |"$'\n'"|---|---|---|---|---|---|---|"
    for n in $UP; do
        if [ "$n" = ncat ] && [ "$LAT_MEMBERS" -gt "$NCAT_MAX" ]; then continue; fi
        echo "bench-chat: $n, $LAT_MEMBERS members at $RATE msgs/s" >&2
        r=$(load "$n" "$LAT_MEMBERS" --rate "$RATE")
        if [ "$r" = failed ]; then T2="$T2"$'\n'"| $n | $RATE | failed | | | | |"; continue; fi
        T2="$T2"$'\n'"| $n | $RATE | $(field msgs_per_s "$r") | $(field p50_us "$r") | $(field p99_us "$r") | $(field max_us "$r") | $(field cpu_pct "$r")% |"
    done
fi

# ---- 3. RSS with IDLE idle members ------------------------------------------
T3="| server | RSS idle | RSS with $IDLE members | per member |"$'\n'"|---|---|---|---|"
for n in $UP; do
    [ "$n" = ncat ] && continue   # cannot hold that many members
    echo "bench-chat: $n, $IDLE idle members" >&2
    # shellcheck disable=SC2086
    taskset -c 1 "$LOAD" --proto "${PROTO_OF[$n]}" -n "$IDLE" --idle --seconds 300 --timeout 120 \
        "127.0.0.1:${PORT_OF[$n]}" >"$T/idle.out" 2>"$T/idle.err" &
    lp=$!
    ok=""
    for i in $(seq 1300); do
        grep -q '^ready' "$T/idle.out" && { ok=1; break; }
        kill -0 $lp 2>/dev/null || break
        sleep 0.1
    done
    if [ -n "$ok" ]; then
        # the members are idle: give every server the same time to settle
        # (chatd hands freed heap back every 5 s; see src/apps/chatd/trim.c)
        sleep "${SETTLE:-6}"
        kb=$(rss_kb "${PID_OF[$n]}")
        T3="$T3"$'\n'"$(awk -v n="$n" -v a="${RSS0[$n]}" -v b="$kb" -v m="$IDLE" \
            'BEGIN { printf "| %s | %.1f MiB | %.1f MiB | %.2f KiB |", n, a/1024, b/1024, (b-a)/m }')"
        echo "$n idle members=$IDLE rss_kb=$kb (before ${RSS0[$n]})" >>"$T/raw"
    else
        T3="$T3"$'\n'"| $n | $(awk -v a="${RSS0[$n]}" 'BEGIN { printf "%.1f MiB", a/1024 }') | failed | |"
        { echo "$n idle members=$IDLE: FAILED"; tail -n 5 "$T/idle.err" | sed 's/^/    /'; } >>"$T/raw"
    fi
    kill $lp 2>/dev/null; wait $lp 2>/dev/null
    sleep 1   # let the server see the members go
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

versions() {
    local n
    for n in $UP; do
        case $n in
        chatd)  echo "- chatd: $("$IPCBOX" --version 2>&1 | head -n 1), \`$IPCBOX chatd $CHATD_ARGS\`" ;;
        redis)  echo "- redis: $(redis-server --version | head -n 1)" ;;
        nats)   echo "- nats: nats-server $(nats-server --version 2>&1 | head -n 1)" ;;
        ncat)   echo "- ncat: $(ncat --version 2>&1 | head -n 1) (\`ncat -n --chat\`; plain lines, not IRC)" ;;
        ngircd) echo "- ngircd: $(/usr/sbin/ngircd --version 2>&1 | head -n 1) (flood control on: a protocol check, not a speed reference)" ;;
        esac
    done
}

tmp=$(mktemp "$(dirname "$OUT")/.bench-chat.XXXXXX")
{
    echo "# Chat fan-out benchmark"
    echo
    echo "Produced by \`make bench-chat\` (bench/chat.sh), started $started, $DUR s per run."
    echo "Every server pinned to CPU 0, the load tool (build/chatload, bench/chatload.c) to"
    echo "CPU 1; the servers run side by side (idle unless measured), one run. Each member"
    echo "is one TCP connection in one room (IRC #bench, Redis channel, NATS subject, the"
    echo "ncat chat); one more connection publishes 64-byte messages; every delivery"
    echo "is checked (each member gets each message once, in order, intact)."
    echo
    echo "Machine (\`lscpu | head\`, kernel $(uname -r)):"
    echo
    echo '```'
    lscpu | head -n 15
    echo '```'
    echo
    echo "Load average (1, 5, 15 min) before: $load_before; after: $load_after."
    echo "With load above the CPU count the servers and the tool share their CPUs with"
    echo "other work: compare the columns of one run, not runs with runs."
    echo
    echo "Servers:"
    echo
    versions
    echo
    echo "## Deliveries per second (closed loop, 64 messages outstanding)"
    echo
    echo "Deliveries/s (messages × members reaching members), then chatload's CPU share:"
    echo "near 100% the load tool, not the server, set the pace. — = not run (ncat quits"
    echo "beyond a few dozen members). failed = chatload found lost, duplicated or"
    echo "corrupt messages, or a timeout (raw lines below; ncat --chat prefixes each"
    echo "read(), not each line, and cuts lines under load)."
    echo
    echo "$T1"
    echo
    echo "## Server CPU per delivery (the same runs)"
    echo
    echo "The server's user+system CPU time over the measured window (its threads and"
    echo "worker processes, read from /proc by chatload --server-pid), divided by the"
    echo "deliveries, then the server's CPU share. This is the server's cost even where"
    echo "the load tool set the pace above (its CPU near 100%): the fair comparison on"
    echo "this 2-CPU machine. Lower is better."
    echo
    echo "$T1C"
    echo
    echo "## Delivery latency at a fixed offered load"
    echo
    if [ -n "$T2" ]; then
        echo "$LAT_MEMBERS members, $RATE messages/s offered to every server ($RATE_WHY);"
        echo "latency = receive time minus the send time carried in the message."
        echo
        echo "$T2"
    else
        echo "Not measured (no peak rate to derive it from; set RATE)."
    fi
    echo
    echo "## Memory with $IDLE idle members"
    echo
    echo "RSS of the server (its processes summed), before any member and with $IDLE"
    echo "members joined to one room, read $SETTLE_S s after the last joined."
    echo
    echo "$T3"
    echo
    echo "## Raw chatload lines"
    echo
    echo '```'
    cat "$T/raw"
    echo '```'
} >"$tmp"
mv "$tmp" "$OUT"
echo "bench-chat: wrote $OUT" >&2
cat "$OUT" | sed -n '/^## Deliveries/,/^## Raw/p' | sed '$d'
