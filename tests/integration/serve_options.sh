#!/bin/bash
# One shape for every service: each service's options work the same in its
# applet (--OPT), under serve (--SERVICE-OPT) and in serve's configuration
# file ([SERVICE] OPT = ...). Every option is checked by value
# (config_equiv.py), and one option of each service by what it does, in
# all three ways. Also: the example ipcbox.ini, configuration-file errors,
# the command line winning over the file, a busy port under serve,
# repeated --listen and host names in --listen.
. "$(dirname "$0")/../lib.sh"

python3 "$SRC/tests/tools/config_equiv.py" "$IPCBOX" "$T" || fail "options differ between applet, serve and file"
pass "every option of every service: applet, serve flag and file agree"

# start_way WAY SERVICE DIR OPT VALUE : start SERVICE serving DIR with
# OPT=VALUE given the WAY way (applet, flag, file); sets SPID and PORT
start_way() {
    local way=$1 svc=$2 dir=$3 opt=$4 val=$5
    case $way in
    applet) local d=("$dir"); [ "$svc" = echo ] && d=()
            start_server "$T/$way-$svc.log" "$IPCBOX" "$svc" --listen 127.0.0.1:0 \
                "--$opt=$val" "${d[@]}" ;;
    flag) start_server "$T/$way-$svc.log" "$IPCBOX" serve "$dir" $(serve_only "$svc") \
              "--$svc-listen" 127.0.0.1:0 "--$svc-$opt=$val" ;;
    file) printf '[serve]\ndir = %s\n[%s]\nlisten = 127.0.0.1:0\n%s = %s\n' \
              "$dir" "$svc" "$opt" "$val" >"$T/$svc.ini"
          start_server "$T/$way-$svc.log" "$IPCBOX" serve --config "$T/$svc.ini" \
              $(serve_only "$svc") ;;
    esac
}

# stop_way : stop the server of start_way cleanly
stop_way() {
    kill -TERM "$SPID"; wait_exit "$SPID" 20
    [ "$RC" = 0 ] || fail "server exit $RC"
}

mkdir -p "$T/www/cgi-bin" "$T/tftp" "$T/in"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\ncgi ran\\n"\n' >"$T/www/cgi-bin/hi"
chmod +x "$T/www/cgi-bin/hi"
head -c 5000 /dev/urandom >"$T/big.bin"
echo small >"$T/small.txt"
for way in applet flag file; do
    # httpd --cgi: the script runs
    start_way $way httpd "$T/www" cgi /cgi-bin/
    got=$(curl -s --max-time 10 "http://127.0.0.1:$PORT/cgi-bin/hi")
    [ "$got" = "cgi ran" ] || fail "$way: httpd cgi answered '$got'"
    stop_way
    # tftpd --create: an upload is accepted
    start_way $way tftpd "$T/tftp" create yes
    timeout 20 "$IPCBOX" tftp --quiet 127.0.0.1:"$PORT" put "up-$way.txt" "$T/small.txt" \
        || fail "$way: tftpd create refused an upload"
    cmp -s "$T/small.txt" "$T/tftp/up-$way.txt" || fail "$way: tftpd upload differs"
    stop_way
    # recv --max-size: a larger file is refused, a smaller one lands
    start_way $way recv "$T/in" max-size 1k
    timeout 20 "$IPCBOX" send --quiet "$T/big.bin" 127.0.0.1:"$PORT" 2>/dev/null \
        && fail "$way: recv max-size let a 5000-byte file in"
    timeout 20 "$IPCBOX" send --quiet "$T/small.txt" 127.0.0.1:"$PORT" \
        || fail "$way: recv refused a small file"
    [ ! -e "$T/in/big.bin" ] && [ -e "$T/in/small.txt" ] || fail "$way: recv files"
    rm -f "$T/in/small.txt"
    stop_way
    # echo --idle: a silent connection is closed
    start_way $way echo "$T" idle 1
    got=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat <&3 | wc -c"); rc=$?
    [ "$rc" = 0 ] && [ "$got" = 0 ] || fail "$way: echo idle did not close (rc $rc)"
    stop_way
    for f in "$T"/$way-*.log; do no_sanitizer_report "$f"; done
    pass "$way: httpd --cgi, tftpd --create, recv --max-size, echo --idle work"
done

# the example configuration that ships parses, and serves what it says
"$IPCBOX" serve --config "$SRC/ipcbox.ini" --print-config >"$T/example" \
    || fail "ipcbox.ini does not parse"
grep -qx "cgi = /cgi-bin/" "$T/example" || fail "ipcbox.ini: cgi not read"
pass "the example ipcbox.ini parses"

# file errors: exit 2, one line naming file:line
printf '[httpd]\nmax-body = 1x\n' >"$T/bad1.ini"
printf '[httpd]\nno-such-key = 1\n' >"$T/bad2.ini"
printf '[nosuch]\nkey = 1\n' >"$T/bad3.ini"
printf 'stray line\n' >"$T/bad4.ini"
for f in bad1 bad2 bad3 bad4; do
    "$IPCBOX" serve --config "$T/$f.ini" >/dev/null 2>"$T/err"; rc=$?
    [ $rc = 2 ] || fail "$f.ini: exit $rc, want 2"
    [ "$(wc -l <"$T/err")" = 1 ] && grep -q "$f.ini:" "$T/err" || { cat "$T/err"; fail "$f.ini: message"; }
done
"$IPCBOX" serve --config "$T/none.ini" 2>/dev/null; [ $? = 2 ] || fail "missing config file: exit not 2"
# the command line wins, and replaces the file's listen list
printf '[httpd]\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:2\ncgi-max = 5\n' >"$T/w.ini"
"$IPCBOX" serve --config "$T/w.ini" --httpd-listen 127.0.0.1:3 --httpd-cgi-max 7 \
    --print-config >"$T/w.out" || fail "override parse"
[ "$(sed -n '/^\[httpd\]/,/^$/p' "$T/w.out" | grep -c '^listen = ')" = 1 ] \
    && grep -qx 'listen = 127.0.0.1:3' "$T/w.out" && grep -qx 'cgi-max = 7' "$T/w.out" \
    || { cat "$T/w.out"; fail "command line does not win over the file"; }
pass "config file errors exit 2 with file:line; the command line wins"

# several --listen: one listener each, every one serving
start_server "$T/two.log" "$IPCBOX" echo --no-udp --listen 127.0.0.1:0 --listen 127.0.0.2:0
# (start_server returned at the first listener's line: the second's follows)
wait_for "$T/two.log" 'listening on 127\.0\.0\.2:' || fail "two --listen: no second listener"
ports=$(grep -o "listening on [^ \"]*" "$T/two.log" | sed "s/.*://")
[ "$(echo "$ports" | wc -l)" = 2 ] || { cat "$T/two.log"; fail "two --listen: not two listeners"; }
host=1
# (nc -N: its half-close ends the session and nc leaves when the echo
# closes it; -q1 gave the answer only a second)
for p in $ports; do
    [ "$(echo hi | timeout 20 nc -N 127.0.0.$host "$p")" = hi ] || fail "listener 127.0.0.$host:$p"
    host=2
done
stop_way
# a host name listens on each of its addresses
start_server "$T/name.log" "$IPCBOX" echo --no-udp --listen localhost:0
# (start_server returned at the first address's line, maybe ::1's)
wait_for "$T/name.log" "listening on 127.0.0.1:" || fail "localhost: no 127.0.0.1 listener"
stop_way
# a name that does not resolve is a runtime failure (1), not bad usage
timeout 30 "$IPCBOX" echo --listen no-such-host.invalid:0 2>"$T/dns"; rc=$?
[ $rc = 1 ] || { cat "$T/dns"; fail "unresolvable host: exit $rc, want 1"; }
grep -q "cannot resolve" "$T/dns" || fail "unresolvable host: message"
pass "repeated --listen, host names, DNS failure exits 1"

# a busy port under serve: that service is skipped with the flag that
# moves it, the others run
start_server "$T/hold.log" "$IPCBOX" echo --no-udp --listen 127.0.0.1:0
HOLD=$SPID BUSY=$PORT
start_server "$T/busy.log" "$IPCBOX" serve "$T/www" $(serve_only httpd echo) \
    --httpd-listen 127.0.0.1:"$BUSY" --echo-listen 127.0.0.1:0 --echo-no-udp
# (start_server returned at echo's line; serve's summary comes after httpd's)
wait_for "$T/busy.log" 'service(s) on one loop' \
    && grep -q "httpd\[[0-9]*\]: msg=\"cannot listen on 127.0.0.1:$BUSY: the port is in use (choose another with --httpd-listen)\"" \
    "$T/busy.log" || { cat "$T/busy.log"; fail "busy port: no message naming the flag"; }
[ "$(echo hi | timeout 20 nc -N 127.0.0.1 "$PORT")" = hi ] || fail "busy port: echo not serving"
stop_way
# ... and if nothing can start, serve fails (1)
"$IPCBOX" serve "$T/www" $(serve_only httpd) --httpd-listen 127.0.0.1:"$BUSY" >/dev/null 2>&1 &
p=$!; PIDS+=("$p"); wait_exit $p 20
[ "$RC" = 1 ] || fail "serve with only a busy service: exit $RC, want 1"
SPID=$HOLD stop_way
pass "busy port under serve: skipped with the flag that moves it; exit 1 if none starts"

# INI lines are whole lines: one too long for the reader is an error, not
# two lines (the tail of a comment must never become a setting); indented
# keys are keys, not continuations of the previous value; a key given
# twice is an error
python3 -c 'import sys; open(sys.argv[1], "w").write("[httpd]\n; " + "x" * 197 + "cgi = /cgi-bin/\n")' "$T/long.ini"
"$IPCBOX" serve --config "$T/long.ini" --print-config >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "long.ini:2: line longer than" "$T/err" || { cat "$T/err"; fail "a long line: exit $rc"; }
printf '[httpd]\n  dir = /tmp\n  cgi = /cgi-bin/\n\taccess-log = off\n' >"$T/indent.ini"
"$IPCBOX" serve --config "$T/indent.ini" --print-config >"$T/indent.out" || fail "indented keys"
grep -qx 'dir = /tmp' "$T/indent.out" && grep -qx 'cgi = /cgi-bin/' "$T/indent.out" \
    && grep -qx 'access-log = off' "$T/indent.out" || { cat "$T/indent.out"; fail "indented keys misread"; }
printf '[httpd]\ncgi = /a/\ncgi = /b/\n' >"$T/twice.ini"
"$IPCBOX" serve --config "$T/twice.ini" 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "twice.ini:3: \[httpd\] cgi is given twice" "$T/err" || { cat "$T/err"; fail "a key twice: exit $rc"; }
"$IPCBOX" serve --config "$T/twice.ini" --help >/dev/null || fail "--help hidden behind a bad --config"
pass "config file: whole lines, indented keys, a key twice refused, --help wins"

# the configuration an applet prints is a file serve and the applet read back
"$IPCBOX" httpd --cgi /x/ --max-body 2m --print-config >"$T/rt.ini" || fail "httpd --print-config"
"$IPCBOX" serve --config "$T/rt.ini" --print-config >"$T/rt.serve" || fail "serve cannot read httpd --print-config"
"$IPCBOX" httpd --config "$T/rt.ini" --print-config >"$T/rt.httpd" || fail "httpd cannot read its --print-config"
grep -qx 'cgi = /x/' "$T/rt.serve" && grep -qx 'max-body = 2097152' "$T/rt.httpd" \
    || fail "print-config round trip lost values"
pass "--print-config output reads back (serve --config, APPLET --config)"

# usage errors: too many addresses, contradictory flags, a bad ROOT or MIME
# table: exit 2, one line, and no "listening on" before it
"$IPCBOX" echo $(for i in $(seq 0 16); do printf -- '--listen 127.0.0.1:%d ' $((21000 + i)); done) \
    2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "too many addresses" "$T/err" || { cat "$T/err"; fail "17 --listen: exit $rc"; }
"$IPCBOX" echo --listen 127.0.0.1:0 --udp --no-udp 2>"$T/err"; rc=$?
[ $rc = 2 ] || { cat "$T/err"; fail "echo --udp --no-udp: exit $rc, want 2"; }
"$IPCBOX" httpd --listen 127.0.0.1:0 "$T/no-such-root" 2>"$T/err"; rc=$?
[ $rc = 2 ] && ! grep -q "listening on" "$T/err" || { cat "$T/err"; fail "httpd bad root: exit $rc"; }
"$IPCBOX" httpd --listen 127.0.0.1:0 --mime-types "$T/no-such-table" "$T/www" 2>"$T/err"; rc=$?
[ $rc = 2 ] || { cat "$T/err"; fail "httpd missing --mime-types: exit $rc, want 2"; }
pass "usage errors: 17 addresses, --udp --no-udp, bad ROOT, missing MIME table"

# --quiet under serve: errors only, and no access log unless one is asked for
"$IPCBOX" serve "$T/www" $(serve_only httpd) --httpd-listen 127.0.0.1:0 --quiet \
    >"$T/q.out" 2>"$T/q.err" &
QP=$!; PIDS+=("$QP")
for i in $(seq 400); do QPORT=$(ss -Htlnp 2>/dev/null | grep "pid=$QP," | awk '{print $4}' | sed 's/.*://' | head -1); [ -n "$QPORT" ] && break; sleep 0.05; done
[ -n "$QPORT" ] || fail "serve --quiet: no listener"
curl -s --max-time 10 "http://127.0.0.1:$QPORT/cgi-bin/hi" >/dev/null
kill -TERM "$QP"; wait_exit "$QP" 20
[ ! -s "$T/q.out" ] && [ ! -s "$T/q.err" ] || { cat "$T/q.out" "$T/q.err"; fail "serve --quiet printed lines"; }
pass "serve --quiet: no access log, no info lines"
