# chatd: plain users, IRC clients, both in one room, nick collisions,
# history replay, MOTD (scripted peers: tests/tools/chat_cases.py).
. "$(dirname "$0")/../lib.sh"
need python3

echo "hello from the motd" >"$T/motd"
start_server "$T/chatd.log" "$IPCBOX" chatd --listen 127.0.0.1:0 --history 4 --motd "$T/motd"
A=127.0.0.1:$PORT
for c in plain mixed irc nick history; do
    python3 "$PYTOOLS/chat_cases.py" "$A" $c || { cat "$T/chatd.log"; fail "case $c"; }
done
python3 "$PYTOOLS/chat_cases.py" "$A" motd "hello from the motd" || fail "case motd"
grep -q 'msg="client disconnected" nick=bob peer=127.0.0.1 dialect=plain reason="gone"' "$T/chatd.log" \
    || { cat "$T/chatd.log"; fail "no disconnect log line"; }
kill -TERM "$SPID"; wait_exit "$SPID" 15
[ "$RC" = 0 ] || fail "chatd exit status $RC after SIGTERM"
no_sanitizer_report "$T/chatd.log"
pass "chatd: plain, IRC and mixed rooms"
