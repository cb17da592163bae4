# The chat client (ipcbox chat) against a real IRC server: ngircd by
# default, started here on a free loopback port with a generated config.
# Two clients without a terminal (stdin from FIFOs, stdout to files) join
# #lobby and talk both ways; /nick, /me, /msg and /quit are seen by the
# other; escape sequences in a peer's text arrive neutralised; stdin's end
# quits with exit 0; a refused connection exits 1, bad usage 2. Then a
# client on a pseudo-terminal (tests/tools/chat_tty.py, the screen emulated
# by pyte): an incoming message is printed above the input line while the
# typed text stays on it.
#
# Hook for other servers: CHAT_SERVER=chatd runs the same test against
# `ipcbox chatd` (started with --listen 127.0.0.1:0 and CHATD_ARGS);
# CHAT_SERVER=HOST:PORT uses a server already running there.
. "$(dirname "$0")/../lib.sh"
need python3
CHAT_SERVER=${CHAT_SERVER:-ngircd}

# a Python that has pyte (Debian's python3-pyte)
PY=""
for p in python3 /usr/bin/python3; do
    command -v "$p" >/dev/null && "$p" -c 'import pyte' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || skip "python3-pyte not installed (scripts/deps.sh)"

# start_ngircd : ngircd on a free loopback port (ADDR set), our config only
start_ngircd() {
    command -v ngircd >/dev/null || [ -x /usr/sbin/ngircd ] ||
        skip "ngircd not installed (scripts/deps.sh test installs it)"
    local ng try port
    ng=$(command -v ngircd || echo /usr/sbin/ngircd)
    mkdir -p "$T/ngircd.d"
    for try in 1 2 3; do
        port=$(spare_ports tcp 1) || fail "no spare port for ngircd"
        cat >"$T/ngircd.conf" <<CONF
[Global]
    Name = irc.test
    Info = ipcbox chat test
    Listen = 127.0.0.1
    Ports = $port
    MotdPhrase = ipcbox chat test server
    PidFile = $T/ngircd.pid
    ServerUID = nobody
[Limits]
    MaxConnectionsIP = 0
    PingTimeout = 120
[Options]
    DNS = no
    Ident = no
    PAM = no
    IncludeDir = $T/ngircd.d
[SSL]
CONF
        "$ng" -n -f "$T/ngircd.conf" >"$T/ngircd.log" 2>&1 &
        SPID=$!
        PIDS+=("$SPID")
        if wait_for "$T/ngircd.log" "listening on \[127.0.0.1\]:$port" 10 2>/dev/null; then
            ADDR=127.0.0.1:$port
            return 0
        fi
        kill "$SPID" 2>/dev/null
    done
    cat "$T/ngircd.log" >&2
    fail "ngircd did not start"
}

case $CHAT_SERVER in
ngircd) start_ngircd ;;
chatd)
    # shellcheck disable=SC2086
    start_server "$T/chatd.log" "$IPCBOX" chatd --listen 127.0.0.1:0 ${CHATD_ARGS:-}
    ADDR=127.0.0.1:$PORT ;;
*:*) ADDR=$CHAT_SERVER ;;
*) fail "CHAT_SERVER: ngircd, chatd or HOST:PORT, not '$CHAT_SERVER'" ;;
esac
echo "server: $CHAT_SERVER at $ADDR"

# start_client NAME FD : `chat --nick NAME` reading FIFO $T/NAME.in (held
# open on FD), output in $T/NAME.out; sets PID_NAME
start_client() {
    mkfifo "$T/$1.in"
    # (3>&- 4>&-: a client must not hold the other's FIFO open)
    "$IPCBOX" chat --nick "$1" "$ADDR" <"$T/$1.in" >"$T/$1.out" 2>"$T/$1.err" 3>&- 4>&- &
    eval "PID_$1=$!"
    PIDS+=("$!")
    eval "exec $2>\"\$T/\$1.in\""
}

# expect NAME REGEX : a line of NAME's output matches (grep BRE), 10 s
expect() {
    wait_for "$T/$1.out" "$2" 10 || { cat "$T/$1.err" >&2; fail "$1: no line '$2'"; }
}

start_client alice 3
expect alice '^\*\*\* alice joined #lobby$'
start_client bob 4
expect bob '^\*\*\* bob joined #lobby$'
expect alice '^\*\*\* bob joined #lobby$'
pass "two clients registered and joined #lobby"

echo "hello bob" >&3
expect bob '^\[#lobby\] alice: hello bob$'
expect alice '^\[#lobby\] alice: hello bob$'
echo "hi alice" >&4
expect alice '^\[#lobby\] bob: hi alice$'
pass "messages both ways, each shown as [#room] nick: text"

echo "/nick bobby" >&4
expect alice '^\*\*\* bob is now known as bobby$'
expect bob '^\*\*\* you are now known as bobby$'
echo "still here" >&4
expect alice '^\[#lobby\] bobby: still here$'
pass "/nick: the other side sees the change, messages carry the new nick"

echo "/me waves" >&3
expect bob '^\[#lobby\] \* alice waves$'
echo "/msg alice psst" >&4
expect alice '^\[bobby\] bobby: psst$'
expect bob '^\[alice\] bobby: psst$'
pass "/me is an action, /msg a private message"

# a peer's escape sequence, bell and IRC colour codes: shown neutralised
printf '/quote PRIVMSG #lobby :evil \033[2J\033]0;title\007 \00304red\017 end\n' >&3
expect bob '^\[#lobby\] alice: evil [?]\[2J[?]\]0;title[?] red end$'
! grep -q $'\033' "$T/bob.out" || { cat -A "$T/bob.out" >&2; fail "an escape reached stdout"; }
pass "control characters and escape sequences in others' text are neutralised"

echo "/frobnicate" >&3
expect alice '^\*\*\* unknown command /frobnicate'
pass "an unknown command is refused locally"

exec 3>&-
wait_exit "$PID_alice" 15
[ "$RC" = 0 ] || { cat "$T/alice.err" >&2; fail "alice: exit $RC after the end of stdin"; }
expect bob '^\*\*\* alice quit'
pass "the end of stdin quits cleanly (exit 0), the other side sees the QUIT"

echo "/quit see you" >&4
wait_exit "$PID_bob" 15
[ "$RC" = 0 ] || { cat "$T/bob.err" >&2; fail "bob: exit $RC after /quit"; }
exec 4>&-
pass "/quit: exit 0"

# a refused connection: exit 1; bad usage: exit 2 (a spare port: no
# server of a test running beside this one is given it meanwhile)
port=$(spare_ports tcp 1) || fail "no spare port"
rc=0; "$IPCBOX" chat 127.0.0.1:"$port" </dev/null >/dev/null 2>"$T/refused.err" || rc=$?
[ $rc = 1 ] || fail "refused connection: exit $rc"
grep -q "connect 127.0.0.1:$port" "$T/refused.err" || { cat "$T/refused.err"; fail "no reason"; }
rc=0; "$IPCBOX" chat </dev/null >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "no HOST: exit $rc"
rc=0; "$IPCBOX" chat --room lobby "$ADDR" </dev/null >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "room without #: exit $rc"
pass "refused connection exits 1, usage errors 2"

# on a terminal: the input line stays while a message arrives above it
cat >"$T/tty.steps" <<STEPS
wait ^#lobby>$
type hello wor
touch $T/typed
wait ^\[#lobby\] carol: incoming$
last ^#lobby> hello wor$
above ^\[#lobby\] carol: incoming$
type ld\r
wait ^\[#lobby\] tty: hello world$
last ^#lobby>$
type /quit\r
exit 0
STEPS
(   # (30 s: longer than chat_tty's wait for the prompt, so carol never
    # speaks before tty has joined and typed)
    for i in $(seq 600); do [ -e "$T/typed" ] && break; sleep 0.05; done
    echo incoming | "$IPCBOX" chat --nick carol "$ADDR" >"$T/carol.out" 2>&1
) &
CPID=$!
PIDS+=("$CPID")
"$PY" "$PYTOOLS/chat_tty.py" --cols 80 --rows 24 --timeout 15 --steps "$T/tty.steps" -- \
    "$IPCBOX" chat --nick tty "$ADDR" || fail "on a terminal (see the screen above)"
wait_exit "$CPID" 15
[ "$RC" = 0 ] || { cat "$T/carol.out" >&2; fail "carol: exit $RC"; }
pass "on a terminal: a message arrives above the input line, the typed text is kept; Enter sends it"

# Ctrl-D on an empty input line ends the client, as at the end of a file
cat >"$T/eof.steps" <<STEPS
wait ^#lobby>
type \\x04
exit 0
STEPS
"$PY" "$PYTOOLS/chat_tty.py" --cols 80 --rows 24 --timeout 15 --steps "$T/eof.steps" -- \
    "$IPCBOX" chat --nick tty2 "$ADDR" || fail "Ctrl-D on an empty line (see the screen above)"
pass "on a terminal: Ctrl-D on an empty line quits"

# a hostile server's room names never reach the prompt raw: a bidi override
# is shown as '?', a JOIN of a name with an escape sequence is ignored
coproc HOSTILE { exec python3 "$PYTOOLS/chat_hostile.py"; }
PIDS+=("$HOSTILE_PID")
read -r HPORT <&"${HOSTILE[0]}"
cat >"$T/hostile.steps" <<STEPS
wait ^\[#r\] eve: done$
last ^#r\?Z>$
type /quit\r
exit 0
STEPS
"$PY" "$PYTOOLS/chat_tty.py" --cols 80 --rows 24 --timeout 15 --steps "$T/hostile.steps" -- \
    "$IPCBOX" chat --nick tty "127.0.0.1:$HPORT" || fail "hostile room names (see the screen above)"
pass "a hostile server's room names are masked in the prompt or ignored"
