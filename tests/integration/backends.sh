# Every applet on every readiness backend: the one-loop models select,
# poll, epoll and io_uring run the same representative checks -- echo (nc,
# 20 verified clients, UDP), httpd (GET, a range, CGI), tftpd (get and put
# with our client), recv (send a file, get it back), chatd (plain, mixed
# and IRC rooms: tests/tools/chat_cases.py) and serve (every service at
# once, each poked). Where the kernel refuses io_uring the io_uring model
# must fail to start with one line naming the reason; the others run, and
# the test then exits 77 saying so. The refusal itself is checked
# everywhere under a seccomp filter (tests/tools/no_uring).
. "$(dirname "$0")/../lib.sh"
need nc curl python3

ROOT=$T/root
mkdir -p "$ROOT/cgi-bin" "$T/tftp" "$T/out"
mkrand "$ROOT/file.bin" 200000
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\ncat\n' >"$ROOT/cgi-bin/cat.sh"
chmod +x "$ROOT/cgi-bin/cat.sh"
mkrand "$T/tftp/get.bin" 100000
mkrand "$T/up.bin" 70000
mkrand "$T/send.bin" 300000

# the refusal, on any machine: one error line naming the reason, exit 1
"$TOOLS/no_uring" "$TOOLS/uring_probe" >"$T/probe" && fail "no_uring: io_uring not refused"
"$TOOLS/no_uring" "$IPCBOX" echo --model io_uring --listen 127.0.0.1:0 2>"$T/refused"
rc=$?
[ $rc = 1 ] || { cat "$T/refused"; fail "refused io_uring model: exit $rc, want 1"; }
[ "$(wc -l <"$T/refused")" = 1 ] || { cat "$T/refused"; fail "refusal: not one line"; }
grep -q 'error echo.*model io_uring cannot start.*io_uring_disabled.*reason="Operation not permitted"' \
    "$T/refused" || { cat "$T/refused"; fail "refusal line"; }
pass "io_uring refused (seccomp): one line, exit 1"

models="select poll epoll io_uring"
unavailable=""
if ! why=$("$TOOLS/uring_probe"); then
    unavailable=$why
    models="select poll epoll"
    "$IPCBOX" echo --model io_uring --listen 127.0.0.1:0 2>"$T/refused"
    rc=$?
    [ $rc = 1 ] && [ "$(wc -l <"$T/refused")" = 1 ] &&
        grep -q 'model io_uring cannot start' "$T/refused" ||
        { cat "$T/refused"; fail "io_uring unavailable here, yet no clean refusal (exit $rc)"; }
fi

# stop PID LOG WHAT : SIGTERM, exit 0, no sanitizer report
stop() {
    kill -TERM "$1"
    wait_exit "$1" 20
    [ "$RC" = 0 ] || { tail -30 "$2" >&2; fail "$3: exit status $RC after SIGTERM"; }
    no_sanitizer_report "$2"
}

# the checks of one service at ADDR-PORT ($1), for model $m
echo_checks() {
    local out
    # (nc -N: its half-close ends the session and nc leaves when the echo
    # closes it; -q1 gave the answer only a second)
    out=$(printf 'hello %s\n' "$m" | timeout 20 nc -N 127.0.0.1 "$1")
    [ "$out" = "hello $m" ] || fail "$m echo: nc got '$out'"
    "$TOOLS/echoload" -n 20 -b 100000 -t 60 127.0.0.1:"$1" >/dev/null || fail "$m echo: 20 clients"
    "$TOOLS/echoload" --udp 512 -t 10 127.0.0.1:"$1" || fail "$m echo: udp"
}
httpd_checks() {
    local b=http://127.0.0.1:$1
    curl -sS -o "$T/out/get" "$b/file.bin" && cmp -s "$T/out/get" "$ROOT/file.bin" ||
        fail "$m httpd: GET"
    curl -sS -r 1000-1999 -o "$T/out/range" "$b/file.bin" &&
        cmp -s "$T/out/range" <(tail -c +1001 "$ROOT/file.bin" | head -c 1000) ||
        fail "$m httpd: range"
    [ "$(curl -sS --data-binary "cgi $m" "$b/cgi-bin/cat.sh")" = "cgi $m" ] || fail "$m httpd: CGI"
}
tftpd_checks() {
    rm -f "$T/out/tget" "$T/tftp/up.bin"
    "$IPCBOX" tftp --quiet 127.0.0.1:"$1" get get.bin "$T/out/tget" &&
        cmp -s "$T/out/tget" "$T/tftp/get.bin" || fail "$m tftpd: get"
    "$IPCBOX" tftp --quiet 127.0.0.1:"$1" put up.bin "$T/up.bin" &&
        cmp -s "$T/tftp/up.bin" "$T/up.bin" || fail "$m tftpd: put"
}
recv_checks() {   # $2: its directory
    rm -rf "$2/send.bin" "$T/out/send.bin"
    "$IPCBOX" send "$T/send.bin" 127.0.0.1:"$1" 2>"$T/send.err" &&
        cmp -s "$T/send.bin" "$2/send.bin" || { cat "$T/send.err"; fail "$m recv: send"; }
    "$IPCBOX" get 127.0.0.1:"$1" send.bin -o "$T/out" 2>"$T/get.err" &&
        cmp -s "$T/send.bin" "$T/out/send.bin" || { cat "$T/get.err"; fail "$m recv: get"; }
}
chatd_checks() {   # $2...: the cases
    local c
    for c in "${@:2}"; do
        python3 "$PYTOOLS/chat_cases.py" 127.0.0.1:"$1" "$c" >"$T/chat.out" 2>&1 ||
            { cat "$T/chat.out"; fail "$m chatd: case $c"; }
    done
}

for m in $models; do
    log=$T/$m.echo.log
    start_server "$log" "$IPCBOX" echo --listen 127.0.0.1:0 --model $m
    echo_checks "$PORT"
    stop "$SPID" "$log" "$m echo"

    start_httpd --model $m --cgi /cgi-bin/ "$ROOT"
    httpd_checks "${ADDR##*:}"
    stop "$PID" "$ERRLOG" "$m httpd"

    start_tftpd "$T/$m.tftpd.log" --model $m --create "$T/tftp"
    tftpd_checks "$PORT"
    stop "$SRV_PID" "$T/$m.tftpd.log" "$m tftpd"

    mkdir -p "$T/recv.$m"
    start_recv "$T/recv.$m" --model $m
    recv_checks "$RPORT" "$T/recv.$m"
    stop "$RPID" "$RLOG" "$m recv"

    log=$T/$m.chatd.log
    start_server "$log" "$IPCBOX" chatd --listen 127.0.0.1:0 --model $m
    chatd_checks "$PORT" plain mixed irc
    stop "$SPID" "$log" "$m chatd"
    pass "$m: echo, httpd, tftpd, recv, chatd"

    # serve: every service of one directory on the one loop
    log=$T/$m.serve.log
    mkdir -p "$T/serve.$m/in"
    cp -r "$ROOT/." "$T/serve.$m/"
    cp "$T/tftp/get.bin" "$T/serve.$m/"
    "$IPCBOX" serve "$T/serve.$m" --model $m $(serve_ephemeral) --recv-dir "$T/serve.$m/in" \
        --httpd-cgi /cgi-bin/ >/dev/null 2>"$log" &
    SPID=$!
    PIDS+=("$SPID")
    for s in $(serve_services); do
        p=$(listen_port "$log" "$s: " "$SPID")
        [ -n "$p" ] || { cat "$log" >&2; fail "$m serve: no $s"; }
        eval "port_$s=$p"
    done
    echo_checks "$port_echo"
    httpd_checks "$port_httpd"
    rm -f "$T/out/tget"
    "$IPCBOX" tftp --quiet 127.0.0.1:"$port_tftpd" get get.bin "$T/out/tget" &&
        cmp -s "$T/out/tget" "$T/tftp/get.bin" || fail "$m serve tftpd: get"
    recv_checks "$port_recv" "$T/serve.$m/in"
    chatd_checks "$port_chatd" plain
    stop "$SPID" "$log" "$m serve"
    pass "$m: serve, every service at once"
done

[ -z "$unavailable" ] || skip "model io_uring not run: $unavailable (select, poll, epoll passed)"
