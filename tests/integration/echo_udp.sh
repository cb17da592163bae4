# UDP echo answers datagrams of 1 and 65507 bytes (the IPv4 maximum).
. "$(dirname "$0")/../lib.sh"
start_server "$T/udp.log" "$IPCBOX" echo --udp --listen 127.0.0.1:0
grep -q "proto=udp" "$T/udp.log" || fail "no udp listening line"
for size in 1 512 65507; do
    "$TOOLS/echoload" --udp $size -t 10 127.0.0.1:"$PORT" || fail "udp $size bytes"
done
# socat's input stays open until the answer is read: at the end of its
# input socat waits only 0.5 s (-t) for what comes back
coproc SOCAT { exec socat - UDP:127.0.0.1:"$PORT"; }
PIDS+=("$SOCAT_PID")
printf 'ping\n' >&"${SOCAT[1]}"
out=""
read -r -t 20 out <&"${SOCAT[0]}"
kill "$SOCAT_PID" 2>/dev/null
[ "$out" = ping ] || fail "socat udp got '$out'"
kill -TERM "$SPID"
wait_exit "$SPID" 10; [ "$RC" = 0 ] || fail "udp exit after SIGTERM"
no_sanitizer_report "$T/udp.log"
pass "udp 1, 512, 65507 bytes and socat"
