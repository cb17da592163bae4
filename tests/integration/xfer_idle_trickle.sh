# recv --idle closes connections that make no progress. A peer that
# trickles a frame one byte at a time used to reset the idle clock with
# every byte and could hold a connection (and a descriptor) forever; with
# enough of them no other client gets in (there is no connection cap by
# default). Now only whole headers/frames, DATA payload and our output
# taken by the peer count as activity.
. "$(dirname "$0")/../lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "python3 is needed to craft raw frames"

mkdir -p "$T/srv"
start_recv "$T/srv" --idle 2

# one byte every 0.4 s of a HELLO and an OFFER header (28 bytes, 11 s,
# five times the idle limit); report how far it got
out=$("$PY" "$PYTOOLS/xfer_trickle.py" "$RPORT") || fail "slow client failed: $out"
case "$out" in
    closed*) ;;
    *) fail "a peer trickling one byte per 0.4 s outlived --idle 2: $out" ;;
esac
grep -q "idle for" "$RLOG" || fail "no idle log line"
pass "a trickling peer is closed by the idle timeout ($out)"

# a peer that sends whole 1-byte DATA frames every 0.1 s for 3 s (longer
# than --idle 2 in total, never silent for long) is not cut
out=$("$PY" "$PYTOOLS/xfer_steady.py" "$RPORT" 2) || fail "steady client: $out"
read -r st code name <<<"$out"
[ "$st $code" = "6 0" ] || fail "steady sender: want ACK ok, got '$out'"
[ "$(fsize "$T/srv/$name")" = 150 ] || fail "steady: file not stored"
stop_recv
pass "a slow but steady sender is not cut"
