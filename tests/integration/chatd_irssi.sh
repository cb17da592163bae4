# chatd with a real IRC client, irssi (on a pseudo-terminal: keys typed
# by tests/tools/chat_tty.py, what it says read from its autolog files),
# and a plain-line user (tests/tools/chat_witness.py) in the same room:
# register, join, talk both ways, an action, nick changes both ways,
# private messages both ways, part, join again, quit.
. "$(dirname "$0")/../lib.sh"
need python3 irssi
irssi --version >/dev/null 2>&1 || skip "irssi does not run here"
# a Python that has pyte (Debian's python3-pyte), for chat_tty.py
PY=""
for p in python3 /usr/bin/python3; do
    command -v "$p" >/dev/null && "$p" -c 'import pyte' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || skip "python3-pyte not installed (scripts/deps.sh)"

start_server "$T/chatd.log" "$IPCBOX" chatd --listen 127.0.0.1:0
python3 "$PYTOOLS/chat_witness.py" "127.0.0.1:$PORT" iruser >"$T/peer.out" 2>&1 &
ppid=$!; PIDS+=("$ppid")
wait_for "$T/peer.out" '^ready$' 20 || fail "plain peer not ready"

# an irssi of our own: home in $T, one server (autoconnect), every
# channel and query logged at once under $T/logs/chatd/, no flood pause
# between the commands it sends (2.2 s by default)
IH=$T/irssi
LOGS=$T/logs/chatd
mkdir -p "$IH"
cat >"$IH/config" <<CONF
servers = (
  { address = "127.0.0.1"; chatnet = "chatd"; port = "$PORT"; use_tls = "no"; autoconnect = "yes"; }
);
chatnets = { chatd = { type = "IRC"; }; };
settings = {
  core = { real_name = "irssi test"; user_name = "ir"; nick = "iruser"; };
  "irc/core" = { cmd_queue_speed = "0"; };
  "fe-common/core" = { autolog = "yes"; autolog_path = "$T/logs/\$tag/\$0.log"; };
};
CONF
# what the user types; each 'await' is a go-ahead from this script, given
# when the step before it has been seen on both sides
cat >"$T/steps" <<STEPS
wait Welcome to the ipcbox chat
type /join #lobby\r
await $T/go.message
type hello from iruser\r
await $T/go.action
type /me waves\r
await $T/go.nick
type /nick iruser2\r
await $T/go.msg
type /msg plainy2 psst\r
await $T/go.part
type /part #lobby later\r
await $T/go.join
type /join #lobby\r
await $T/go.quit
type /quit bye\r
exit 0
STEPS
HOME=$T "$PY" "$PYTOOLS/chat_tty.py" --cols 100 --rows 30 --timeout 40 --steps "$T/steps" -- \
    irssi --home="$IH" >"$T/tty.out" 2>&1 &
tpid=$!; PIDS+=("$tpid")

# go STEP : let irssi's user go on to STEP
go() { touch "$T/go.$1"; }
# seen STEP : the plain peer printed STEP (40 s)
seen() {
    wait_for "$T/peer.out" "^$1\$" 40 || { cat "$T/tty.out" >&2; fail "plain peer: no '$1'"; }
}
# logged FILE PATTERN : irssi logged a line matching PATTERN in FILE (40 s)
logged() {
    wait_for "$LOGS/$1" "$2" 40 || { cat "$T/tty.out" >&2; fail "irssi: no '$2' in $1"; }
}

LOBBY="#lobby.log"
seen "saw join"
logged "$LOBBY" "iruser .* has joined #lobby"
logged "$LOBBY" "Total of 2 nicks"
pass "irssi registered and joined #lobby; the plain user saw it, irssi saw both members"

go message
seen "saw message"
logged "$LOBBY" "<.plainy> hello iruser$"
pass "messages both ways between irssi and the plain user"

go action
seen "saw action"
logged "$LOBBY" "plainy is now known as plainy2"
pass "an action reached the plain user; irssi saw the plain user's nick change"

go nick
seen "saw nick"
logged "$LOBBY" "You're now known as iruser2"
go msg
seen "saw private"
logged "plainy2.log" "<plainy2> back at you$"
pass "irssi's nick change seen by the plain user; private messages both ways"

go part
seen "saw part"
go join
seen "saw rejoin"
go quit
seen "saw quit"
wait_exit "$tpid" 60
[ "$RC" = 0 ] || { cat "$T/tty.out" >&2; fail "irssi on its terminal: $RC (see the screen above)"; }
wait_exit "$ppid" 30
[ "$RC" = 0 ] || { cat "$T/peer.out" >&2; fail "plain peer: exit $RC"; }
pass "irssi's part, join again and quit (with its reason) seen by the plain user"
