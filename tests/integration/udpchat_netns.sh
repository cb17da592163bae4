#!/usr/bin/env bash
# shellcheck disable=SC2154  # PID_NAME and FD_NAME are set by peer() with eval
# udpchat between three network namespaces on one bridge, all made (and
# removed, even on failure) by this test: namespaces N1, N2, N3 hold one
# peer each (10.77.0.1-3/24 on an interface uc0), a fourth holds the
# bridge (multicast snooping off, so frames reach every port and group
# membership is decided by each host). Peers run without a terminal, fed by
# FIFOs. Shown:
#   - broadcast (subnet-directed, and 255.255.255.255 with --limited)
#     reaches every peer, and presence makes each one 'here' for the others;
#   - multicast reaches the group's members only: a peer of another group
#     on the same port, and a --to peer, get none of its lines; a member
#     hears nothing but its group (bound to it: a --to peer's unicast to
#     its port never reaches it); two members
#     in one namespace hear each other (multicast loop); the IPv6
#     link-local group ff02::6767 works with and without --interface;
#   - a peer that reaches the end of stdin is announced as left; one
#     killed -9 times out;
#   - 5% loss each way in N1 (nftables numgen random, with a counter), and
#     10% of N2's datagrams duplicated on their way to N3 (nftables dup in
#     the bridge): 100 numbered lines from each peer arrive at most once
#     each, in order per sender, uncorrupted; all 100 where nothing is lost;
#   - malformed, oversized and other-version datagrams (a Python socket)
#     are dropped and counted; a datagram sent three times shows once.
. "$(dirname "$0")/../lib.sh"
need ip nft python3
[ "$(id -u)" = 0 ] || skip "needs root (ip netns)"
TAG=uc$$
NSB=${TAG}br
if ! ip netns add "$NSB" 2>"$T/ns.err"; then
    skip "cannot create a network namespace here ($(cat "$T/ns.err"))"
fi
net_cleanup() {
    local ns
    for ns in "$NSB" "${TAG}n1" "${TAG}n2" "${TAG}n3"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    for i in 1 2 3; do ip link del "${TAG}a$i" 2>/dev/null; done
    return 0
}
on_exit_first net_cleanup
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---- the network ------------------------------------------------------------
nsx "$NSB" ip link add br0 type bridge mcast_snooping 0 || fail "bridge"
nsx "$NSB" ip link set br0 up
for i in 1 2 3; do
    ns=${TAG}n$i
    ip netns add "$ns" || fail "netns $ns"
    brd=(brd +)
    [ "$i" = 1 ] && brd=()
    ip link add "${TAG}a$i" type veth peer name "${TAG}b$i" || fail "veth $i"
    ip link set "${TAG}a$i" netns "$ns" name uc0 &&
        ip link set "${TAG}b$i" netns "$NSB" &&
        nsx "$NSB" ip link set "${TAG}b$i" master br0 up &&
        nsx "$ns" sysctl -qw net.ipv6.conf.uc0.accept_dad=0 &&
        nsx "$ns" ip addr add "10.77.0.$i/24" "${brd[@]}" dev uc0 &&
        nsx "$ns" ip link set uc0 up &&
        nsx "$ns" ip link set lo up || fail "set-up of $ns"
done
N1=${TAG}n1 N2=${TAG}n2 N3=${TAG}n3
# IPv6 link-local addresses ready (no duplicate address detection)
for i in 1 2 3; do
    for _ in $(seq 100); do
        nsx "${TAG}n$i" ip -6 addr show dev uc0 scope link | grep -q 'inet6' &&
            ! nsx "${TAG}n$i" ip -6 addr show dev uc0 | grep -q tentative && break
        sleep 0.1
    done
done

# ---- peers ------------------------------------------------------------------
PEER_FDS=()
# peer NAME NS ARGS... : udpchat --nick NAME ARGS in NS, stdin the FIFO
# $T/NAME.in (held open on fd FD_NAME, closed in the other peers), stdout
# $T/NAME.out, stderr $T/NAME.err; waits for "listening on"; sets PID_NAME
peer() {
    local name=$1 ns=$2
    shift 2
    mkfifo "$T/$name.in"
    (
        for fd in "${PEER_FDS[@]}"; do eval "exec $fd>&-"; done
        exec ip netns exec "$ns" "$IPCBOX" udpchat --nick "$name" "$@" \
            <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err"
    ) &
    eval "PID_$name=\$!"
    PIDS+=("$!")
    eval "exec {FD_$name}>\"\$T/\$name.in\""
    eval "PEER_FDS+=(\$FD_$name)"
    SERVER_LOGS+=("$T/$name.err" "$T/$name.out")
    wait_for "$T/$name.err" "listening on" || fail "$name did not start"
}
say() { local fd="FD_$1"; printf '%s\n' "$2" >&"${!fd}"; }
hangup() { local fd="FD_$1"; eval "exec ${!fd}>&-"; }
# bye NAME... : end their input, wait for their exit (0)
bye() {
    local p pid
    for p in "$@"; do hangup "$p"; done
    for p in "$@"; do
        pid="PID_$p"
        wait_exit "${!pid}" 15
        check "$p exits 0 at the end of stdin" "$RC" 0
        no_sanitizer_report "$T/$p.err"
    done
}
# heard NAME PATTERN : wait (15 s) for a line of NAME's output matching
heard() { wait_for "$T/$1.out" "$2" 15; }
stat() {
    grep '^\*\*\* stats ' "$T/$1.out" | tail -n1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
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

# ---- broadcast ----------------------------------------------------------------
peer b1 "$N1" --broadcast --presence 1 --port 6701
peer b2 "$N2" --broadcast --presence 1 --port 6701 --interface uc0
peer b3 "$N3" --broadcast --limited --presence 1 --port 6701
check_has "subnet-directed broadcast on uc0" "$(cat "$T/b1.err")" "broadcast to 10.77.0.255:6701 on uc0"
check_has "--limited: 255.255.255.255 out of uc0" "$(cat "$T/b3.err")" "broadcast to 255.255.255.255:6701 on uc0"
for p in b1 b2 b3; do
    for q in 1 2 3; do
        [ "$p" = "b$q" ] && continue
        heard "$p" "^\*\*\* b$q@10.77.0.$q is here$" || fail "$p never heard of b$q"
    done
done
record_pass "broadcast: every peer hears the presence of the two others"
for p in 1 2 3; do say "b$p" "broadcast line from b$p"; done
for p in 1 2 3; do
    for q in 1 2 3; do
        [ "$p" = "$q" ] && continue
        heard "b$q" "^b$p@10.77.0.$p: broadcast line from b$p$" ||
            record_fail "b$q did not get b$p's broadcast line"
    done
    check "b$p does not show its own line" "$(grep -c "broadcast line from b$p" "$T/b$p.out")" 0
done
record_pass "broadcast: each line reaches the two other namespaces"

# a peer that leaves is announced; one killed -9 times out
hangup b2
heard b1 '^\*\*\* b2@10.77.0.2 left$' || record_fail "b1 did not see b2 leave"
heard b3 '^\*\*\* b2@10.77.0.2 left$' || record_fail "b3 did not see b2 leave"
wait_exit "$PID_b2" 10
check "b2 exits 0 after its leave" "$RC" 0
kill -9 "$PID_b3"
heard b1 '^\*\*\* b3@10.77.0.3 timed out (silent for [0-9]* s)$' ||
    record_fail "b3, killed -9, did not time out at b1"
record_pass "a leave is announced, a killed peer times out"
stats b1
check_cmd "b1 dropped its own looped-back broadcasts ($(stat b1 own))" test "$(stat b1 own)" -gt 0
bye b1

# ---- multicast: members only ------------------------------------------------------
# m1 and m2 in the default group, m1b beside m1 in N1 (the multicast loop),
# m3 in another group on the same port, u3 a --to peer (in N3, port 6703)
# that sends to m2's address and port: m2, bound to its group, never hears it
peer m1 "$N1" --presence 1 --port 6702 --interface uc0
peer m1b "$N1" --presence 1 --port 6702 --interface uc0
peer m2 "$N2" --presence 1 --port 6702 --multicast 239.255.67.67 --interface uc0
peer m3 "$N3" --presence 1 --port 6702 --multicast 239.255.67.68 --interface uc0
peer u3 "$N3" --presence 1 --port 6702 --to 10.77.0.2:6702 --bind 10.77.0.3:6703
check_has "the default group" "$(cat "$T/m1.err")" "multicast group 239.255.67.67:6702 on uc0"
heard m1 '^\*\*\* m2@10.77.0.2 is here$' || fail "m1 never heard of m2"
heard m2 '^\*\*\* m1@10.77.0.1 is here$' || fail "m2 never heard of m1"
heard m1 '^\*\*\* m1b@10.77.0.1 is here$' || fail "m1 never heard of m1b (same host)"
heard m1b '^\*\*\* m1@10.77.0.1 is here$' || fail "m1b never heard of m1 (same host)"
say m1 "group line"
heard m2 '^m1@10.77.0.1: group line$' || record_fail "m2 did not get the group line"
heard m1b '^m1@10.77.0.1: group line$' || record_fail "m1b (same namespace) did not get it"
# m3 and u3 would have had it by now: a marker sent to each after it comes
# in behind it
forge_to() {   # NS HOST PORT TEXT [ARGS]
    nsx "$1" python3 "$PYTOOLS/udpchat_forge.py" "$2" "$3" message --nick marker \
        --id "$(printf '%016x' $((RANDOM + 1)))" --text "$4" "${@:5}" >/dev/null || fail "forge"
}
forge_to "$N2" 239.255.67.68 6702 "after the group line" --source 10.77.0.2
forge_to "$N2" 10.77.0.3 6703 "after the group line" --source 10.77.0.2 --sport 6702
heard m3 '^marker@10.77.0.2: after the group line$' || fail "m3 did not get the marker"
heard u3 '^marker@10.77.0.2: after the group line$' || fail "u3 did not get the marker"
check "a peer of another group gets nothing of the group" \
    "$(grep -c ': group line$\|^m1@\|^m2@\|^m1b@' "$T/m3.out")" 0
check "a --to peer gets nothing of the group" "$(grep -c '^m1@\|^m2@' "$T/u3.out")" 0
# the other way: m3's group is not m1's
say u3 "unicast to m2"
say u3 /stats                                   # answered once the line is sent
heard u3 '^\*\*\* stats ' || fail "u3 /stats"
say m3 "other group line"
say m3 /stats                                   # answered once the line is sent
heard m3 '^\*\*\* stats ' || fail "m3 /stats"
forge_to "$N3" 239.255.67.67 6702 "after the other line" --source 10.77.0.3
heard m1 '^marker@10.77.0.3: after the other line$' || fail "m1 did not get the marker"
heard m2 '^marker@10.77.0.3: after the other line$' || fail "m2 did not get the marker"
check "members of one group get nothing of another" \
    "$(cat "$T/m1.out" "$T/m2.out" | grep -c 'other group line')" 0
check "a member hears nothing but its group (u3's unicast to its port)" \
    "$(grep -c 'u3@' "$T/m2.out")" 0
record_pass "multicast: members only; two members in one namespace hear each other"
bye m1 m1b m2 m3 u3

# IPv6 link-local group: n1 names the interface, n2 lets udpchat find it
peer v1 "$N1" --presence 1 --port 6704 --multicast ff02::6767 --interface uc0
peer v2 "$N2" --presence 1 --port 6704 --multicast "[ff02::6767]"
check_has "ff02:: group on the only interface" "$(cat "$T/v2.err")" "on uc0"
say v1 "over ipv6"
heard v2 '^v1@fe80::[0-9a-f:]*%uc0: over ipv6$' || record_fail "v2 did not get v1's IPv6 line"
record_pass "IPv6 link-local multicast (ff02::6767, interface index)"
bye v1 v2

# ---- 5% loss (N1, both ways) and duplicates (N2 -> N3) --------------------------
nsx "$N1" nft -f - <<'NFT' || fail "nft loss rule"
table inet ucloss {
    chain in {
        type filter hook input priority 0; policy accept;
        udp dport 6705 numgen random mod 100 < 5 counter drop
    }
    chain out {
        type filter hook output priority 0; policy accept;
        udp dport 6705 numgen random mod 100 < 5 counter drop
    }
}
NFT
DUP=0
if nsx "$NSB" nft -f - 2>"$T/dup.err" <<NFT; then
table netdev ucdup {
    chain from2 {
        type filter hook ingress device ${TAG}b2 priority 0; policy accept;
        udp dport 6705 numgen random mod 100 < 10 counter dup to ${TAG}b3
    }
}
NFT
    DUP=1
else
    echo "(no nftables dup here: $(head -c 200 "$T/dup.err")); the forged duplicates below stand for it"
fi
N=100
for i in 1 2 3; do peer "l$i" "${TAG}n$i" --presence 1 --port 6705 --interface uc0; done
for i in 1 2 3; do
    for q in 1 2 3; do
        [ "$i" = "$q" ] && continue
        heard "l$i" "^\*\*\* l$q@10.77.0.$q is here$" || fail "l$i never heard of l$q"
    done
done
# each line says who sent it and its number twice: a corrupted or mixed
# line cannot pass for a good one
for i in 1 2 3; do
    {
        for n in $(seq -w 1 $N); do echo "L l$i $n l$i-$n-l$i-$n"; done
        for n in 1 2 3 4 5; do echo "S l$i $n"; done
    } >"$T/l$i.lines"
done
for i in 1 2 3; do cat "$T/l$i.lines" >&"$(eval echo "\$FD_l$i")" & done
wait_sync() {
    local r=$1 s
    for s in 1 2 3; do
        [ "$r" = "$s" ] && continue
        heard "l$r" "^l$s@10.77.0.$s: S l$s " || record_fail "l$r never got a sync line of l$s"
    done
}
for i in 1 2 3; do wait_sync "$i"; done
# verdict RECEIVER SENDER : the lines of SENDER at RECEIVER
verdict() {
    awk -v s="l$2" -v host="10.77.0.$2" '
        $1 == s "@" host ":" && $2 == "L" {
            n = $4 + 0
            if ($3 != s || $5 != s "-" $4 "-" s "-" $4) bad++
            else if (n <= last) disorder++
            else got++
            if (n > last) last = n
        }
        END { printf "%d %d %d\n", got, disorder + 0, bad + 0 }' "$T/l$1.out"
}
for r in 1 2 3; do
    for s in 1 2 3; do
        [ "$r" = "$s" ] && continue
        read -r got disorder bad <<<"$(verdict "$r" "$s")"
        check "l$r from l$s: no line twice or out of order" "$disorder" 0
        check "l$r from l$s: no corrupted line" "$bad" 0
        if [ "$r" = 1 ] || [ "$s" = 1 ]; then
            check_cmd "l$r from l$s through 5% loss: $got of $N" test "$got" -ge $((N * 70 / 100))
        else
            check "l$r from l$s, no loss on the way: all of them" "$got" "$N"
        fi
    done
done
dropped=$(nsx "$N1" nft list table inet ucloss | grep -o 'packets [0-9]*' | awk '{s+=$2} END {print s+0}')
check_cmd "the loss was real: nftables dropped $dropped datagrams" test "$dropped" -gt 0
for i in 1 2 3; do
    stats "l$i"
    check "l$i: nothing over the rate (the senders pace themselves)" "$(stat "l$i" rate)" 0
done
if [ $DUP = 1 ]; then
    dups=$(nsx "$NSB" nft list table netdev ucdup | grep -o 'packets [0-9]*' | awk '{s+=$2} END {print s+0}')
    check_cmd "nftables duplicated $dups of l2's datagrams to N3; l3 dropped $(stat l3 duplicate) as duplicates" \
        test "$(stat l3 duplicate)" -gt 0 -a "$dups" -gt 0
fi

nsx "$NSB" nft delete table netdev ucdup 2>/dev/null
nsx "$N1" nft delete table inet ucloss

# ---- malformed, oversized, duplicates from a Python socket (to the group) ---
G="239.255.67.67 6705"
for kind in malformed oversized version garbage; do
    # shellcheck disable=SC2086
    nsx "$N2" python3 "$PYTOOLS/udpchat_forge.py" $G "$kind" --source 10.77.0.2 >/dev/null ||
        fail "forge $kind"
done
# shellcheck disable=SC2086
nsx "$N2" python3 "$PYTOOLS/udpchat_forge.py" $G message --id 3333333333333333 \
    --nick forger --text "three copies" --copies 3 --source 10.77.0.2 >/dev/null || fail "forge copies"
# shellcheck disable=SC2086
nsx "$N2" python3 "$PYTOOLS/udpchat_forge.py" $G message --id 3333333333333333 \
    --nick forger --text "marker" --seq 2 --source 10.77.0.2 >/dev/null || fail "forge marker"
heard l3 '^forger@10.77.0.2: marker$' || fail "l3 did not show the forged marker"
check "three copies show once" "$(grep -c '^forger@10.77.0.2: three copies$' "$T/l3.out")" 1
before=$(stat l3 duplicate)
stats l3
check "malformed counted (bad nick, random bytes)" "$(stat l3 malformed)" 2
check "oversized counted" "$(stat l3 oversized)" 1
check "other version counted" "$(stat l3 version)" 1
check_cmd "the two extra copies counted as duplicates ($before before, $(stat l3 duplicate) now)" \
    test "$(stat l3 duplicate)" -ge $((before + 2))
bye l1 l2 l3
grep -q 'msg=stats .*malformed=2 oversized=1 version=1' "$T/l3.err" &&
    record_pass "the counters are in l3's log at exit" ||
    record_fail "no stats line in l3's log: $(cat "$T/l3.err")"
finish
