#!/bin/bash
# bench/http.sh: `make bench-http`. ipcbox httpd against nginx, lighttpd,
# h2o, busybox httpd, python3 -m http.server and the canned syscall floor,
# with wrk on loopback: every server pinned to CPU 0, wrk to CPU 1, the
# same files. Prints markdown tables: req/s with ratios to nginx and to the
# floor, RSS with 10,000 idle keep-alive connections, and ipcbox under each
# of the server models. The pipelined row sends 16 requests per write
# (bench/pipeline.lua, as the TechEmpower plaintext test does): there the
# server, not wrk, is the limit. wrk counts every response whatever its
# status: a run with an error status (or bodies shorter than the file) is
# left out of the tables and listed below them.
#
# The machine may be shared, so the servers of a table run side by side
# (idle unless measured) and the runs are interleaved: ROUNDS rounds, each
# measuring every server once per scenario, and the best run of each
# server counts (interference only ever lowers a result).
#
# Environment: DUR (seconds per run, default 5), ROUNDS (default 3),
# CONNS (default 50),
# IPCBOX (default build/ipcbox), TOOLS (build dir with http_idle, default
# build), CANNED (canned.c, default ../shared/bench/canned.c), PORT (first
# port, default 28080), IDLE (idle connections, default 10000), SKIP
# (space-separated server names to leave out). Every server runs from a
# temporary config directory as a child of this script and is killed at
# the end.
set -u
cd "$(dirname "$0")/.."
DUR=${DUR:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-50}
IPCBOX=${IPCBOX:-build/ipcbox}
TOOLS=${TOOLS:-build}
CANNED=${CANNED:-../shared/bench/canned.c}
[ -f "$CANNED" ] || CANNED=/work/shared/bench/canned.c
PORT=${PORT:-28080}
IDLE=${IDLE:-10000}
SKIP=${SKIP:-}

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench-http: $1 not found (scripts/deps.sh bench)" >&2; exit 1; }; }
need wrk
need taskset
[ -x /usr/bin/time ] || { echo "bench-http: /usr/bin/time not found (scripts/deps.sh bench)" >&2; exit 1; }
[ -x "$IPCBOX" ] || { echo "bench-http: $IPCBOX missing (make build)" >&2; exit 1; }
[ -x "$TOOLS/http_idle" ] || { echo "bench-http: $TOOLS/http_idle missing (build with tests on)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

T=$(mktemp -d /tmp/bench-http.XXXXXX)
chmod 755 "$T"
W="$T/www"
mkdir -p "$W"
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 > "$W/1k.html"
head -c 1048576 /dev/urandom > "$W/1m.bin"
chmod 644 "$W"/*
chmod 755 "$W"

SPID=""
ALL=""   # every server pid started, for cleanup
cleanup() {
    for p in $ALL; do SPID=$p; stop_server; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server PORT CMD...: run CMD pinned to CPU 0, wait for the port
start_server() {
    local port=$1; shift
    taskset -c 0 "$@" >"$T/server.$port.out" 2>&1 &
    SPID=$!
    ALL="$ALL $SPID"
    for _ in $(seq 1 200); do
        if curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/1k.html"; then return 0; fi
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.05
    done
    echo "bench-http: server did not come up: $*" >&2
    tail -n 5 "$T/server.$port.out" >&2
    stop_server
    return 1
}

# every pid in the tree under $1
tree() {
    local p=$1
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null); do tree "$c"; done
}

stop_server() {
    local pids
    pids=$(tree "$SPID")
    kill $pids 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 $pids 2>/dev/null
    wait "$SPID" 2>/dev/null
    ALL=$(echo " $ALL " | sed "s/ $SPID / /")
    SPID=""
}

# ticks SERVER_PID: CPU clock ticks used so far by the server's tree: each
# process with all its threads (finished ones too) and its reaped children
ticks() {
    local t=0 p
    for p in $(tree "$1"); do
        t=$((t + $(awk '{print $14 + $15 + $16 + $17}' /proc/"$p"/stat 2>/dev/null || echo 0)))
    done
    echo "$t"
}

# rps SERVER_PID URL [wrk args...]: prints "REQ_PER_S SERVER_CPU_US_PER_REQ
# WRK_CPU_PERCENT BAD"; wrk's own share of its CPU tells whether the load
# generator, not the server, was the limit. wrk counts every response,
# whatever its status: here only the valid ones count (2xx/3xx, and on
# average at least the file's size read per response), and BAD says why a
# run is not valid ("-" when it is): a server answering 400 or 404 to
# pipelined requests must not look fast.
rps() {
    local spid=$1 url=$2; shift 2
    local t0 t1 out min=0
    case $url in */1k.html) min=1024 ;; */1m.bin) min=1048576 ;; esac
    t0=$(ticks "$spid")
    out=$(taskset -c 1 /usr/bin/time -f "wrktime %e %U %S" wrk -t1 -c"$CONNS" -d"${DUR}s" "$@" "$url" 2>&1)
    t1=$(ticks "$spid")
    echo "$out" | awk -v dt=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v min="$min" '
        function bytes(s,   v, u) {   # wrk: "357.30MB", "1.02GB", "512.00B"
            v = s + 0; u = s; sub(/^[0-9.]+/, "", u)
            if (u == "KB") v *= 1024; else if (u == "MB") v *= 1048576
            else if (u == "GB") v *= 1073741824; else if (u == "TB") v *= 1099511627776
            return v
        }
        /requests in/ {n = $1; b = bytes($5)}
        /Requests\/sec/ {r = $2}
        /Non-2xx or 3xx responses:/ {bad = $NF}
        /^wrktime/ {w = $2 > 0 ? 100 * ($3 + $4) / $2 : 0}
        END {
            if (n <= 0) exit
            why = "-"
            if (bad > 0) why = bad "_non-2xx/3xx_of_" n
            else if (b < 0.99 * n * min) why = sprintf("%.0f_bytes_per_response,_below_%d", b / n, min)
            ok = n - bad > 0 ? n - bad : 1
            printf "%d %.1f %.0f %s", r * (n - bad) / n, dt / hz * 1e6 / ok, w, why
        }'
}

# keep NAME KEY "RPS CPU WRK BAD" [WRKKEY]: the best req/s (and wrk's CPU
# share in that run), and the least server CPU per request, of the valid
# runs so far (interference from other work only lowers the one and raises
# the other); an invalid run is left out, with a line in $T/invalid
keep() {
    local -n rate=$1 cpu=$2
    local r c w bad
    read -r r c w bad <<<"$3"
    [ -n "$r" ] || return 0
    if [ "${bad:--}" != - ]; then
        echo "- $4, ${SCEN[$1]:-$1}: ${bad//_/ }" >>"$T/invalid"
        return 0
    fi
    if [ -z "${rate[$4]:-}" ] || [ "$r" -gt "${rate[$4]}" ]; then
        rate[$4]=$r
        if [ -n "${5:-}" ]; then local -n wrk=$5; wrk[$4]=$w; fi
    fi
    if [ -z "${cpu[$4]:-}" ] || awk -v a="$c" -v b="${cpu[$4]}" 'BEGIN {exit !(a < b)}'; then
        cpu[$4]=$c
    fi
}

# rss_idle PORT: RSS (KiB) of the server tree holding $IDLE idle connections
rss_idle() {
    local port=$1 fifo="$T/idle.fifo" rss=0
    rm -f "$fifo" "$T/idle.out"
    mkfifo "$fifo"
    taskset -c 1 "$TOOLS/http_idle" "127.0.0.1:$port" "$IDLE" /1k.html <"$fifo" >"$T/idle.out" 2>"$T/idle.err" &
    local ipid=$!
    exec 9>"$fifo"
    for _ in $(seq 1 1200); do
        grep -q ready "$T/idle.out" 2>/dev/null && break
        kill -0 "$ipid" 2>/dev/null || break
        sleep 0.1
    done
    local held
    held=$(sed -n 's/ready //p' "$T/idle.out")
    if [ "${held:-0}" = "$IDLE" ]; then
        for p in $(tree "$SPID"); do
            r=$(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null)
            rss=$((rss + ${r:-0}))
        done
    else
        rss=""
    fi
    exec 9>&-
    wait "$ipid" 2>/dev/null
    echo "$rss"
}

ratio() {   # ratio A B -> "1.23x" (or "-")
    if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ] && [ "$1" != 0 ]; then
        awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'
    else
        echo "-"
    fi
}
pc() { [ -n "$1" ] && echo "$1%" || echo "-"; }
mib() { [ -n "$1" ] && awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}' || echo "-"; }

skip() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- configurations -----------------------------------------------------------------
mkdir -p "$T/nginx/logs" "$T/nginx/tmp"
cat > "$T/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
worker_rlimit_nofile 20000;
events { worker_connections 19000; }
http {
    access_log off;
    default_type application/octet-stream;
    types { text/html html; }
    open_file_cache max=10000;
    keepalive_requests 1000000;
    keepalive_timeout 300;
    client_body_temp_path $T/nginx/tmp/body;
    proxy_temp_path $T/nginx/tmp/proxy;
    fastcgi_temp_path $T/nginx/tmp/fastcgi;
    uwsgi_temp_path $T/nginx/tmp/uwsgi;
    scgi_temp_path $T/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:PORT reuseport;
        root $W;
        location = /1k.html { sendfile off; }
        location = /1m.bin { sendfile on; }
    }
}
EOF
cat > "$T/lighttpd.conf" <<EOF
server.document-root = "$W"
server.bind = "127.0.0.1"
server.port = PORT
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 300
server.max-connections = 16000
server.max-fds = 20000
mimetype.assign = (".html" => "text/html", ".bin" => "application/octet-stream")
EOF
cat > "$T/h2o.conf" <<EOF
user: nobody
num-threads: 1
max-connections: 19000
http1-request-timeout: 300
listen:
  host: 127.0.0.1
  port: PORT
hosts:
  default:
    paths:
      /:
        file.dir: $W
EOF
gcc -O2 -o "$T/canned" "$CANNED" || { echo "bench-http: cannot build $CANNED" >&2; exit 1; }

# start NAME PORT: start server NAME on PORT (ipcbox extra args in IPCBOX_ARGS)
start() {
    local name=$1 port=$2
    case $name in
        ipcbox) start_server "$port" "$IPCBOX" httpd --quiet --idle-timeout 300 \
                    --listen "127.0.0.1:$port" ${IPCBOX_ARGS:-} "$W" ;;
        nginx) sed "s/PORT/$port/" "$T/nginx/nginx.conf" > "$T/nginx/run.conf"
               start_server "$port" nginx -p "$T/nginx" -c "$T/nginx/run.conf" ;;
        nginxd) mkdir -p "$T/nginxd"; cp -r "$T/nginx/logs" "$T/nginx/tmp" "$T/nginxd/"
                sed -e "s/PORT reuseport/$port reuseport deferred/" -e "s#$T/nginx/#$T/nginxd/#g" \
                    "$T/nginx/nginx.conf" > "$T/nginxd/run.conf"
                start_server "$port" nginx -p "$T/nginxd" -c "$T/nginxd/run.conf" ;;
        lighttpd) sed "s/PORT/$port/" "$T/lighttpd.conf" > "$T/lighttpd.run.conf"
                  start_server "$port" lighttpd -D -f "$T/lighttpd.run.conf" ;;
        h2o) sed "s/PORT/$port/" "$T/h2o.conf" > "$T/h2o.run.conf"
             start_server "$port" h2o -c "$T/h2o.run.conf" ;;
        busybox) start_server "$port" busybox httpd -f -p "127.0.0.1:$port" -h "$W" ;;
        python) start_server "$port" python3 -m http.server "$port" --bind 127.0.0.1 \
                    --directory "$W" ;;
        canned) start_server "$port" "$T/canned" "$port" ;;
    esac
}

declare -A KA CL BIG RSS PORTOF PIDOF KAC CLC BIGC KAW CLW MKAC MCLC MBIGC PL PLC PLW
# the scenario of each result table, for the lines about invalid runs
declare -A SCEN=([KA]="1 KiB keep-alive" [PL]="1 KiB pipelined" [CL]="1 KiB close"
                 [BIG]="1 MiB" [MKA]="1 KiB keep-alive" [MCL]="1 KiB close" [MBIG]="1 MiB")
: >"$T/invalid"
# nginxd: the same nginx with `listen ... deferred` (TCP_DEFER_ACCEPT, which
# ipcbox httpd uses); ratios are taken to the faster of the two nginx
SERVERS="ipcbox nginx nginxd lighttpd h2o busybox python canned"
port=$PORT
echo "bench-http: $ROUNDS rounds of $DUR s, $CONNS connections, servers on CPU 0, wrk on CPU 1" >&2
up=""
for s in $SERVERS; do
    skip "$s" && continue
    port=$((port + 1))
    start "$s" "$port" || continue
    PORTOF[$s]=$port
    PIDOF[$s]=$SPID
    up="$up $s"
done
for r in $(seq 1 "$ROUNDS"); do
    for s in $up; do
        echo "bench-http: round $r: $s" >&2
        u="http://127.0.0.1:${PORTOF[$s]}"
        keep KA KAC "$(rps "${PIDOF[$s]}" "$u/1k.html")" "$s" KAW
        [ "$s" = canned ] && continue   # canned ignores Connection: close and paths
        keep PL PLC "$(rps "${PIDOF[$s]}" "$u/1k.html" -s bench/pipeline.lua)" "$s" PLW
        keep CL CLC "$(rps "${PIDOF[$s]}" "$u/1k.html" -H "Connection: close")" "$s" CLW
        keep BIG BIGC "$(CONNS=10 rps "${PIDOF[$s]}" "$u/1m.bin")" "$s"
    done
done
for s in $up; do
    echo "bench-http: $IDLE idle connections: $s" >&2
    SPID=${PIDOF[$s]}
    case $s in
        busybox|python) RSS[$s]="closes" ;;   # no keep-alive to hold open
        *) RSS[$s]=$(rss_idle "${PORTOF[$s]}") ;;
    esac
    stop_server
done

echo
echo "### Static files: req/s (best of $ROUNDS interleaved ${DUR} s runs; ${CONNS} connections; 1 MiB with 10)"
echo
# the better nginx of the two configurations is the reference
for k in KA CL PL; do
    declare -n a=$k
    n=${a[nginx]:-0}; d=${a[nginxd]:-0}
    a[ref]=$(( n > d ? n : d ))
    [ "${a[ref]}" = 0 ] && a[ref]=""
    unset -n a
done
echo "| server | 1 KiB keep-alive | vs nginx | vs floor | 1 KiB pipelined ×16 | vs nginx | 1 KiB close | vs nginx | 1 MiB | vs h2o | RSS, $IDLE idle conns | server CPU µs/req: keep-alive / pipelined / close / 1 MiB | wrk's CPU: keep-alive / pipelined / close |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for s in $SERVERS; do
    skip "$s" && continue
    rss=${RSS[$s]:-}
    [ "$rss" = closes ] && rss="n/a (closes)" || rss=$(mib "$rss")
    name=$s
    case $s in
        canned) name="canned (syscall floor)" ;;
        python) name="python3 -m http.server" ;;
        busybox) name="busybox httpd" ;;
        ipcbox) name="**ipcbox httpd**" ;;
        nginxd) name="nginx, listen deferred" ;;
    esac
    echo "| $name | ${KA[$s]:--} | $(ratio "${KA[$s]:-}" "${KA[ref]:-}") | $(ratio "${KA[$s]:-}" "${KA[canned]:-}") | ${PL[$s]:--} | $(ratio "${PL[$s]:-}" "${PL[ref]:-}") | ${CL[$s]:--} | $(ratio "${CL[$s]:-}" "${CL[ref]:-}") | ${BIG[$s]:--} | $(ratio "${BIG[$s]:-}" "${BIG[h2o]:-}") | $rss | ${KAC[$s]:--} / ${PLC[$s]:--} / ${CLC[$s]:--} / ${BIGC[$s]:--} | $(pc "${KAW[$s]:-}") / $(pc "${PLW[$s]:-}") / $(pc "${CLW[$s]:-}") |"
done

if [ -s "$T/invalid" ]; then
    echo
    echo "Runs left out (not valid: error statuses or short responses):"
    echo
    cat "$T/invalid"
    : >"$T/invalid"
fi

# ---- ipcbox under each server model ------------------------------------------------------
declare -A MKA MCL MBIG
MODELS=$("$IPCBOX" --list-models)
skip models && MODELS=""
mup=""
for m in $MODELS; do
    port=$((port + 1))
    IPCBOX_ARGS="--model $m --workers 1" start ipcbox "$port" || continue
    PORTOF[$m]=$port
    PIDOF[$m]=$SPID
    mup="$mup $m"
done
for r in $(seq 1 "$ROUNDS"); do
    for m in $mup; do
        echo "bench-http: round $r: ipcbox --model $m" >&2
        u="http://127.0.0.1:${PORTOF[$m]}"
        keep MKA MKAC "$(rps "${PIDOF[$m]}" "$u/1k.html")" "$m"
        keep MCL MCLC "$(rps "${PIDOF[$m]}" "$u/1k.html" -H "Connection: close")" "$m"
        keep MBIG MBIGC "$(CONNS=10 rps "${PIDOF[$m]}" "$u/1m.bin")" "$m"
    done
done
for p in $ALL; do SPID=$p; stop_server; done
if [ -n "$MODELS" ]; then
    echo
    echo "### ipcbox httpd under each server model (--workers 1, one CPU; best of $ROUNDS)"
    echo
    echo "| model | 1 KiB keep-alive | 1 KiB close | 1 MiB | server CPU µs/req: keep-alive / close / 1 MiB |"
    echo "|---|---:|---:|---:|---:|"
    for m in $MODELS; do
        echo "| $m | ${MKA[$m]:--} | ${MCL[$m]:--} | ${MBIG[$m]:--} | ${MKAC[$m]:--} / ${MCLC[$m]:--} / ${MBIGC[$m]:--} |"
    done
    if [ -s "$T/invalid" ]; then
        echo
        echo "Runs left out (not valid: error statuses or short responses):"
        echo
        cat "$T/invalid"
    fi
fi
