# chatd with real plain-line clients: nc and socat talk with an IRC peer
# in the same room, both ways; the prompt reaches a client that says nothing.
. "$(dirname "$0")/../lib.sh"
need python3 nc socat

start_server "$T/chatd.log" "$IPCBOX" chatd --listen 127.0.0.1:0
for tool in nc socat; do
    python3 "$PYTOOLS/chat_cases.py" "127.0.0.1:$PORT" ircpeer "${tool}user" >"$T/peer.out" 2>&1 &
    ppid=$!; PIDS+=("$ppid")
    wait_for "$T/peer.out" ready 10 || { cat "$T/peer.out"; fail "IRC peer not ready"; }
    # the prompt first (nothing is sent until it came: a client that says
    # nothing gets it after 0.5 s), then the nick, a line, and /quit once
    # the IRC peer's answer is in
    script() {
        wait_for "$T/$tool.out" 'nickname? ' 30 || return
        echo "${tool}user"; sleep 0.5; echo "hello irc"
        wait_for "$T/$tool.out" "ircpeer: hello ${tool}user" 30 || return
        echo "/quit"; sleep 0.5
    }
    if [ $tool = nc ]; then
        script | timeout 90 nc -q 2 127.0.0.1 "$PORT" >"$T/$tool.out"
    else
        script | timeout 90 socat - "TCP:127.0.0.1:$PORT" >"$T/$tool.out"
    fi
    wait_exit "$ppid" 15
    [ "$RC" = 0 ] || { cat "$T/peer.out" "$T/$tool.out"; fail "$tool: IRC peer"; }
    grep -q '^nickname? \*\*\* welcome' "$T/$tool.out" || { cat "$T/$tool.out"; fail "$tool: no prompt"; }
    grep -q "^\[#lobby\] ircpeer: hello ${tool}user$" "$T/$tool.out" || { cat "$T/$tool.out"; fail "$tool: no answer"; }
    grep -q "^\*\*\* ircpeer joined #lobby" "$T/$tool.out" || true
    pass "$tool user and IRC peer talk both ways"
done
