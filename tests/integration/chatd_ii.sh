# chatd with a real IRC client, ii (files and FIFOs, easy to script), and
# a plain-line user in the same room: join, talk both ways, nick change,
# quit.
. "$(dirname "$0")/../lib.sh"
need python3 ii

start_server "$T/chatd.log" "$IPCBOX" chatd --listen 127.0.0.1:0
python3 "$PYTOOLS/chat_cases.py" "127.0.0.1:$PORT" plainpeer iiuser >"$T/peer.out" 2>&1 &
ppid=$!; PIDS+=("$ppid")
wait_for "$T/peer.out" ready 10 || fail "plain peer not ready"

ii -s 127.0.0.1 -p "$PORT" -n iiuser -f "ii test" -i "$T/irc" >"$T/ii.out" 2>&1 &
iipid=$!; PIDS+=("$iipid")
S=$T/irc/127.0.0.1
for i in $(seq 200); do [ -p "$S/in" ] && break; sleep 0.05; done
[ -p "$S/in" ] || { cat "$T/ii.out"; fail "ii made no $S/in"; }
wait_for "$S/out" "Welcome to the ipcbox chat" 10 || fail "ii not registered"
say() { timeout 5 sh -c 'printf "%s\n" "$2" >"$1"' _ "$1" "$2" || fail "ii does not read $1"; }
say "$S/in" "/j #lobby"
for i in $(seq 200); do [ -p "$S/#lobby/in" ] && break; sleep 0.05; done
[ -p "$S/#lobby/in" ] || fail "ii did not join #lobby"
say "$S/#lobby/in" "hello from iiuser"
wait_for "$S/#lobby/out" "<plainy> hello iiuser" 10 || fail "ii did not get the plain user's line"
say "$S/in" "/n iiuser2"
sleep 0.5
say "$S/in" "/q"
wait_exit "$ppid" 20
[ "$RC" = 0 ] || { cat "$T/peer.out"; fail "plain peer: $(tail -1 "$T/peer.out")"; }
wait_exit "$iipid" 10
pass "ii (a real IRC client) and a plain user: join, talk both ways, nick change, quit"
