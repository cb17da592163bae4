# chatd with a real IRC client, WeeChat (weechat-headless, driven through
# its fifo plugin, read through its logger files), and a plain-line user
# (tests/tools/chat_witness.py) in the same room: register, join, talk
# both ways, an action, nick changes both ways, private messages both
# ways, part, join again, quit.
. "$(dirname "$0")/../lib.sh"
need python3 weechat-headless
weechat-headless --version >/dev/null 2>&1 || skip "weechat-headless does not run here"

start_server "$T/chatd.log" "$IPCBOX" chatd --listen 127.0.0.1:0
python3 "$PYTOOLS/chat_witness.py" "127.0.0.1:$PORT" wcuser >"$T/peer.out" 2>&1 &
ppid=$!; PIDS+=("$ppid")
wait_for "$T/peer.out" '^ready$' 20 || fail "plain peer not ready"

# a WeeChat of our own: home in $T, only the plugins it needs, logs
# written at once (no flush delay), no display filter on joins and parts,
# no anti-flood pause between the lines it sends (2 s by default)
WC=$T/weechat
mkdir -p "$WC"
HOME=$T weechat-headless --dir "$WC" -P irc,fifo,logger --stdout -r "\
/set logger.file.flush_delay 0; /set irc.look.smart_filter off; \
/set irc.server_default.anti_flood_prio_high 0; /set irc.server_default.anti_flood_prio_low 0; \
/server add chatd 127.0.0.1/$PORT -notls -nicks=wcuser -username=wc -realname=wc; \
/connect chatd" </dev/null >"$T/weechat.out" 2>&1 &
wpid=$!; PIDS+=("$wpid")
LOGS=$WC/logs
FIFO=$WC/weechat_fifo_$wpid
for _ in $(seq 400); do [ -p "$FIFO" ] && break; _alive "$wpid" || break; sleep 0.05; done
[ -p "$FIFO" ] || { cat "$T/weechat.out"; fail "weechat made no fifo $FIFO (fifo plugin: weechat-plugins)"; }

# wc BUFFER COMMAND : what WeeChat's user types in BUFFER (irc.server.chatd,
# irc.chatd.#lobby)
wc() {
    timeout 10 sh -c 'printf "%s *%s\n" "$2" "$3" >"$1"' _ "$FIFO" "$1" "$2" ||
        fail "weechat does not read its fifo"
}
# seen STEP : the plain peer printed STEP (30 s)
seen() {
    wait_for "$T/peer.out" "^$1\$" 30 || fail "plain peer: no '$1'"
}
# logged FILE PATTERN : WeeChat logged a line matching PATTERN in FILE (30 s)
logged() {
    wait_for "$LOGS/$1" "$2" 30 || { ls "$LOGS" >&2; fail "weechat: no '$2' in $1"; }
}

logged irc.server.chatd.weechatlog "Welcome to the ipcbox chat"
pass "WeeChat registered (CAP, NICK, USER) with chatd"

wc irc.server.chatd "/join #lobby"
LOBBY="irc.chatd.#lobby.weechatlog"
logged "$LOBBY" "wcuser .* has joined #lobby"
logged "$LOBBY" "Channel #lobby: 2 nicks"
seen "saw join"
pass "WeeChat joined #lobby; the plain user saw it, WeeChat saw both members"

wc "irc.chatd.#lobby" "hello from wcuser"
seen "saw message"
logged "$LOBBY" $'\t@\\?plainy\thello wcuser$'
pass "messages both ways between WeeChat and the plain user"

wc "irc.chatd.#lobby" "/me waves"
seen "saw action"
logged "$LOBBY" "plainy is now known as plainy2"
pass "an action reached the plain user; WeeChat saw the plain user's nick change"

wc "irc.chatd.#lobby" "/nick wcuser2"
seen "saw nick"
logged "$LOBBY" "You are now known as wcuser2"
wc "irc.chatd.#lobby" "/msg plainy2 psst"
seen "saw private"
logged "irc.chatd.plainy2.weechatlog" $'\tplainy2\tback at you$'
pass "WeeChat's nick change seen by the plain user; private messages both ways"

wc "irc.chatd.#lobby" "/part #lobby later"
seen "saw part"
wc irc.server.chatd "/join #lobby"
seen "saw rejoin"
wc irc.server.chatd "/quit bye"
seen "saw quit"
wait_exit "$wpid" 30
[ "$RC" = 0 ] || { cat "$T/weechat.out" >&2; fail "weechat: exit $RC after /quit"; }
wait_exit "$ppid" 30
[ "$RC" = 0 ] || { cat "$T/peer.out" >&2; fail "plain peer: exit $RC"; }
pass "WeeChat's part, join again and quit (with its reason) seen by the plain user"
