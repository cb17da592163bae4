#!/usr/bin/env bash
# shellcheck disable=SC2154  # PID_NAME and FD_NAME are set by peer() with eval
# udpchat between peers on 127.0.0.1 only (--to, no namespaces needed).
# Two peers without a terminal (stdin from FIFOs, stdout to files) see each
# other arrive, talk both ways as 'nick@host: text'; escape sequences in a
# peer's text arrive neutralised; /nick and /who work; forged datagrams
# (tests/tools/udpchat_forge.py, from a port on bob's --to list) that are
# malformed, oversized, of another version or plain garbage are dropped
# and counted (/stats), a datagram sent three times shows once; datagrams
# from a port not on the --to list are dropped (`foreign`), so a forged
# presence (a sequence jump of 2^31 - 1, the longest interval), leave or
# nick change with alice's id cannot mute or rename her (review finding 2);
# with her id from a listed port it is a peer of its own (`spoofed`); a
# flood from one sender is cut to its rate, many sender ids from one
# address to that address's share and never evict another address's peer; the end of stdin sends leave (the other
# says 'left') and exits 0; a peer killed -9 times out. Usage errors exit
# 2. On a pseudo-terminal (tests/tools/chat_tty.py, pyte) a message comes
# above the input line and a typed line is sent.
. "$(dirname "$0")/../lib.sh"
need python3

# free_ports N : N UDP ports free on 127.0.0.1 now, that no port the
# kernel hands out meanwhile can take (lib.sh's spare_ports): peers bind
# them later, and the forger sends from PF all along
free_ports() {
    spare_ports udp "$1" || fail "no $1 spare UDP ports"
}
read -r PA PB PC PD PF PG <<<"$(free_ports 6)"

PEER_FDS=()
# peer NAME ARGS... : udpchat --nick NAME ARGS, stdin the FIFO $T/NAME.in
# (held open on fd FD_NAME), stdout $T/NAME.out, stderr $T/NAME.err; waits
# for its "listening on" line; sets PID_NAME
peer() {
    local name=$1
    shift
    mkfifo "$T/$name.in"
    # without the other peers' FIFO ends (else their stdin never ends)
    (
        for fd in "${PEER_FDS[@]}"; do eval "exec $fd>&-"; done
        exec "$IPCBOX" udpchat --nick "$name" "$@" <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err"
    ) &
    eval "PID_$name=\$!"
    PIDS+=("$!")
    eval "exec {FD_$name}>\"\$T/\$name.in\""
    eval "PEER_FDS+=(\$FD_$name)"
    SERVER_LOGS+=("$T/$name.err" "$T/$name.out")
    wait_for "$T/$name.err" "listening on" || fail "$name did not start"
}
say() { local fd="FD_$1"; printf '%b\n' "$2" >&"${!fd}"; }
hangup() { local fd="FD_$1"; eval "exec ${!fd}>&-"; }
forge() { python3 "$PYTOOLS/udpchat_forge.py" 127.0.0.1 "$@" >/dev/null || fail "forge $*"; }
# forged datagrams from PF, a port on bob's and carol's --to lists
lforge() { forge "$@" --sport "$PF"; }
# stat NAME FIELD : the FIELD of NAME's latest /stats line
stat() {
    grep '^\*\*\* stats ' "$T/$1.out" | tail -n1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
# stats NAME : ask NAME for /stats and wait for the answer
stats() {
    local before
    before=$(grep -c '^\*\*\* stats ' "$T/$1.out")
    say "$1" /stats
    for _ in $(seq 200); do
        [ "$(grep -c '^\*\*\* stats ' "$T/$1.out")" -gt "$before" ] && return 0
        sleep 0.05
    done
    fail "$1 did not answer /stats"
}

# ---- usage --------------------------------------------------------------
"$IPCBOX" udpchat --help | grep -q -- "--multicast GROUP" || fail "--help lacks --multicast"
for bad in "--to 127.0.0.1:1 --broadcast" "--broadcast --multicast 239.1.1.1" \
           "--limited" "--to 127.0.0.1:1 --interface lo" "--multicast 10.1.2.3" "--nick a@b" \
           "--to 127.0.0.1:xx" "--ttl 0" "--to 127.0.0.1:0" "--port 0 --to 127.0.0.1" \
           "--multicast 224.0.0.1" "--multicast 224.0.0.251" "--multicast ff02::1 --interface lo" \
           "--multicast ff05::2 --interface lo" "--multicast 239.1.2.3:0" "--port 0 --broadcast" \
           "--multicast 239.1.2.3 --bind 127.0.0.1" "--to [::1]:5 --to 127.0.0.1:5" \
           "--interface nosuch0 --broadcast"; do
    # shellcheck disable=SC2086
    "$IPCBOX" udpchat $bad </dev/null >/dev/null 2>"$T/usage.err"
    rc=$?
    check "usage error exits 2: $bad" "$rc" 2
    check "one line for: $bad" "$(wc -l <"$T/usage.err")" 1
    check "no errno text for: $bad" "$(grep -c 'Invalid argument' "$T/usage.err")" 0
done

# ---- two peers ------------------------------------------------------------
peer alice --port "$PA" --to "127.0.0.1:$PB" --presence 1
peer bob --port "$PB" --to "127.0.0.1:$PA" --to "127.0.0.1:$PF" --to "127.0.0.1:$PD" \
    --presence 1 --verbose
grep -q "listening on 127.0.0.1:$PA" "$T/alice.err" ||
    fail "with every --to on the loopback, bind the loopback: $(cat "$T/alice.err")"
wait_for "$T/alice.out" '^\*\*\* bob@127.0.0.1 is here$' || fail "alice never heard of bob"
wait_for "$T/bob.out" '^\*\*\* alice@127.0.0.1 is here$' || fail "bob never heard of alice"
record_pass "presence: each peer announces itself to the other"

say alice "hello bob"
say bob "hello alice, caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"
wait_for "$T/bob.out" '^alice@127.0.0.1: hello bob$' || fail "bob did not get alice's line"
wait_for "$T/alice.out" "^bob@127.0.0.1: hello alice, café 日本$" || fail "alice did not get bob's line"
record_pass "messages both ways as nick@host: text (UTF-8 kept)"

say alice "esc \033]0;title\a \033[2J red\rend"
wait_for "$T/bob.out" '^alice@127.0.0.1: esc ?]0;title? ?\[2J red?end$' ||
    fail "escape sequences not neutralised"
check "no escape byte reaches stdout" "$(grep -c $'\033' "$T/bob.out")" 0

say alice "/nick alicia"
wait_for "$T/bob.out" '^\*\*\* alice@127.0.0.1 is now known as alicia@127.0.0.1$' ||
    fail "nick change not announced"
wait_for "$T/alice.out" '^\*\*\* you are now alicia$' || fail "no /nick confirmation"
say alice "/nick bad@nick"
wait_for "$T/alice.out" '^\*\*\* usage: /nick NAME' || fail "/nick accepted a bad nick"
say bob "/who"
wait_for "$T/bob.out" '^\*\*\*   alicia@127.0.0.1 (id [0-9a-f]\{16\}, here' || fail "/who"
check_has "/who counts" "$(cat "$T/bob.out")" "*** 1 peer around (you are bob"
say bob "/bogus"
wait_for "$T/bob.out" '^\*\*\* unknown command /bogus' || fail "unknown command"
say alice "//slash text"
wait_for "$T/bob.out" '^alicia@127.0.0.1: /slash text$' || fail "//text sends /text"

# ---- forged datagrams -------------------------------------------------------
# alice's id, from a port not on bob's --to list: a presence that jumps her
# sequence number 2^31 - 1 ahead with the longest interval, a leave, a nick
# change: all dropped; alice's next line shows, under her nick
AID=$(sed -n 's/.* id=\([0-9a-f]\{16\}\).*/\1/p' "$T/alice.err" | head -n1)
[ -n "$AID" ] || fail "no id in alice's log"
forge "$PB" presence --id "$AID" --nick alicia --seq 2147483647 --interval 3600000
forge "$PB" presence --id "$AID" --nick alicia --seq 4294967295 --interval 3600000
forge "$PB" leave --id "$AID" --nick alicia --seq 3000000000
forge "$PB" message --id "$AID" --nick mallory --text "renamed" --seq 1000000000
say alice "after the forgery"
wait_for "$T/bob.out" '^alicia@127.0.0.1: after the forgery$' ||
    fail "a forged datagram from another port muted alice"
stats bob
check "the forged datagrams from an unlisted port are counted foreign" "$(stat bob foreign)" 4
check "alice was not renamed" "$(grep -c 'mallory\|renamed' "$T/bob.out")" 0
check "alice did not leave" "$(grep -c 'alicia@127.0.0.1 left' "$T/bob.out")" 0
# alice's id from a listed port: a peer of its own (spoofed), alice unharmed
lforge "$PB" presence --id "$AID" --nick alicia --seq 2147483647 --interval 3600000
wait_for "$T/bob.out" "^\*\*\* alicia@127.0.0.1 is here (with the sender id of a peer at another address)$" ||
    fail "alice's id from another port was not a peer of its own"
say alice "after the second forgery"
wait_for "$T/bob.out" '^alicia@127.0.0.1: after the second forgery$' ||
    fail "a forged datagram from a listed port muted alice"
stats bob
check_cmd "spoofed counted ($(stat bob spoofed))" test "$(stat bob spoofed)" -ge 1
record_pass "a forged datagram with a peer's id cannot mute, rename or remove it"

lforge "$PB" malformed
lforge "$PB" oversized
lforge "$PB" version
lforge "$PB" garbage
lforge "$PB" message --id 1111111111111111 --nick forger --text "said thrice" --copies 3
lforge "$PB" message --id 1111111111111111 --nick forger --text "marker" --seq 2
wait_for "$T/bob.out" '^forger@127.0.0.1: marker$' || fail "a valid forged message was not shown"
check "a datagram sent three times shows once" \
    "$(grep -c '^forger@127.0.0.1: said thrice$' "$T/bob.out")" 1
stats bob
check "malformed counted (bad nick, random bytes)" "$(stat bob malformed)" 2
check "oversized counted" "$(stat bob oversized)" 1
check "other version counted" "$(stat bob version)" 1
check_cmd "duplicates counted" test "$(stat bob duplicate)" -ge 2
check "nothing of them shown" "$(grep -c 'ev.l\|xxxxxxxx' "$T/bob.out")" 0

# ---- rate and peer bounds (carol: --rate 5, --max-peers 4) --------------
# a real peer at 127.0.0.2, then floods from 127.0.0.1 (one id, then many)
peer carol --port "$PC" --to "127.0.0.1:$PF" --to "127.0.0.2:$PG" --rate 5 --max-peers 4
forge "$PC" presence --id 3333333333333333 --nick real --source 127.0.0.2 --sport "$PG"
wait_for "$T/carol.out" '^\*\*\* real@127.0.0.2 is here$' || fail "carol never heard of real"
lforge "$PC" message --id 2222222222222222 --nick flood --text flood --count 60
lforge "$PC" presence --ids 12 --nick many
forge "$PC" message --id 3333333333333333 --nick real --text "still here" --seq 2 \
    --source 127.0.0.2 --sport "$PG"
wait_for "$T/carol.out" '^real@127.0.0.2: still here$' ||
    fail "many ids from one address evicted another address's peer"
check "real was never evicted" "$(grep -c '^\*\*\* real@127.0.0.2 is here$' "$T/carol.out")" 1
stats carol
shown=$(grep -c '^flood@127.0.0.1: flood' "$T/carol.out")
check_cmd "a flood of 60 from one sender is cut to its rate ($shown shown)" test "$shown" -lt 60
check_cmd "and the rest is counted ($(stat carol rate))" test "$(stat carol rate)" -ge $((60 - shown))
check_cmd "peers stay within --max-peers 4 ($(stat carol peers))" test "$(stat carol peers)" -le 4
many=$(grep -c '^\*\*\* many@127.0.0.1 is here$' "$T/carol.out")
check_cmd "new ids from the flooding address get no fresh share ($many of 12 heard)" \
    test "$many" -lt 12
hangup carol

# ---- leave and expiry --------------------------------------------------------
hangup alice
wait_exit "$PID_alice" 10
check "end of stdin: exit 0" "$RC" 0
wait_for "$T/bob.out" '^\*\*\* alicia@127.0.0.1 left$' || fail "bob did not see alice leave"
record_pass "the end of stdin sends leave"

peer dave --port "$PD" --to "127.0.0.1:$PB" --presence 1
wait_for "$T/bob.out" '^\*\*\* dave@127.0.0.1 is here$' || fail "bob never heard of dave"
kill -9 "$PID_dave"
wait_for "$T/bob.out" '^\*\*\* dave@127.0.0.1 timed out (silent for [0-9]* s)$' 15 ||
    fail "a peer killed -9 did not time out"
record_pass "a peer killed -9 times out after 3 missed announcements"
check "no notice of dave leaving" "$(grep -c 'dave@127.0.0.1 left' "$T/bob.out")" 0

hangup bob
wait_exit "$PID_bob" 10
check "bob exits 0 at the end of stdin" "$RC" 0
check_has "--verbose: the counters are logged at exit" "$(cat "$T/bob.err")" "msg=stats received="
check_has "... with the drops" "$(cat "$T/bob.err")" "malformed=2 oversized=1 version=1"
for p in alice bob carol dave; do no_sanitizer_report "$T/$p.err"; done

# ---- IPv6 loopback ------------------------------------------------------------
if have_ipv6; then
    read -r PG PH <<<"$(free_ports 2)"
    peer gus --port "$PG" --to "[::1]:$PH"
    peer hal --port "$PH" --to "[::1]:$PG"
    check_has "binds ::1" "$(cat "$T/gus.err")" "listening on [::1]:$PG"
    wait_for "$T/hal.out" '^\*\*\* gus@::1 is here$' || record_fail "hal never heard of gus"
    say gus "over ::1"
    wait_for "$T/hal.out" '^gus@::1: over ::1$' && record_pass "IPv6 --to [::1]:PORT" ||
        record_fail "hal did not get gus's line over ::1"
    hangup gus
    hangup hal
else
    echo "SKIP (part): no ::1 here"
fi

# ---- on a terminal ------------------------------------------------------------
PY=""
for p in python3 /usr/bin/python3; do
    command -v "$p" >/dev/null && "$p" -c 'import pyte' 2>/dev/null && { PY=$p; break; }
done
if [ -z "$PY" ]; then
    echo "SKIP (part): python3-pyte not installed, no terminal test"
else
    read -r PE PF <<<"$(free_ports 2)"
    peer fred --port "$PF" --to "127.0.0.1:$PE"
    cat >"$T/tty.steps" <<STEPS
wait ^erin>\$
wait ^\*\*\* fred@127.0.0.1 is here
touch $T/tty.ready
wait ^fred@127.0.0.1: hello terminal\$
last ^erin>\$
type typed on a tty\r
wait ^erin: typed on a tty\$
type /quit\r
exit 0
STEPS
    (
        for _ in $(seq 300); do [ -e "$T/tty.ready" ] && break; sleep 0.05; done
        say fred "hello terminal"
    ) &
    if ! "$PY" "$PYTOOLS/chat_tty.py" --cols 80 --rows 24 --timeout 20 --steps "$T/tty.steps" -- \
        "$IPCBOX" udpchat --nick erin --port "$PE" --to "127.0.0.1:$PF" 2>"$T/erin.err"; then
        record_fail "on a terminal (see the screen above)"
    elif ! wait_for "$T/fred.out" '^erin@127.0.0.1: typed on a tty$'; then
        record_fail "on a terminal: fred did not get erin's line"
    elif ! wait_for "$T/fred.out" '^\*\*\* erin@127.0.0.1 left$'; then
        record_fail "on a terminal: /quit sent no leave"
    else
        record_pass "on a terminal: a message above the input line, a typed line sent, /quit"
    fi
    # Ctrl-C: a leave, the terminal given back, exit 0
    printf 'wait ^erin>$\ntype half a line\\x03\nexit 0\n' >"$T/tty2.steps"
    if ! "$PY" "$PYTOOLS/chat_tty.py" --timeout 20 --steps "$T/tty2.steps" -- \
        "$IPCBOX" udpchat --nick erin --port "$PE" --to "127.0.0.1:$PF" 2>"$T/erin2.err"; then
        record_fail "Ctrl-C on a terminal (see the screen above)"
    elif ! for _ in $(seq 200); do
            [ "$(grep -c '^\*\*\* erin@127.0.0.1 left$' "$T/fred.out")" = 2 ] && break
            sleep 0.05
        done || [ "$(grep -c '^\*\*\* erin@127.0.0.1 left$' "$T/fred.out")" != 2 ]; then
        record_fail "Ctrl-C on a terminal sent no leave: $(cat "$T/fred.out")"
    else
        record_pass "Ctrl-C on a terminal: leave sent, exit 0"
    fi
    hangup fred
fi
finish
