# The protocol has no keepalive: while one side hashes a file (the
# receiver its partial or existing copy before RESUME, or the whole file
# at END; the sender its prefix before confirming) the other side hears
# nothing. Both used to apply their plain silence limit (send --timeout,
# recv --idle), so big files could never be resumed or re-sent as
# "unchanged" once hashing took longer than that (measured: re-sending an
# existing 2 GB file with sha256 failed with --timeout 1). The wait for
# such an answer now grows with the file size (XFER_SLOW_HASH_RATE).
# Sparse files keep this cheap; peers that pause 2.5 s stand in for slow
# hashing, against limits of 1 s.
. "$(dirname "$0")/../lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "python3 is needed to craft raw frames"
SIZE=200000000

# 1. send --timeout 1 against a receiver that thinks 2.5 s before RESUME
#    and before its ACK
mkdir -p "$T/src"
truncate -s "$SIZE" "$T/src/big.bin"
coproc FAKE { "$PY" "$PYTOOLS/xfer_slow_recv.py"; }
PIDS+=("$FAKE_PID")
read -r -t 10 FPORT <&"${FAKE[0]}" || fail "fake receiver did not start"
rc=0
(cd "$T/src" && "$IPCBOX" send --quiet --timeout 1 big.bin "127.0.0.1:$FPORT") 2>"$T/send.err" || rc=$?
[ "$rc" = 0 ] || { cat "$T/send.err"; fail "send gave up on a receiver busy hashing 200 MB (exit $rc)"; }
pass "send waits for a receiver that hashes before RESUME and ACK"

# 2. recv --idle 1 against a sender that thinks 2.5 s before confirming a
#    200 MB resume offer
mkdir -p "$T/srv"
truncate -s "$SIZE" "$T/srv/.f.bin.ibxpart"
chmod 600 "$T/srv/.f.bin.ibxpart"
start_recv "$T/srv" --idle 1
out=$("$PY" "$PYTOOLS/xfer_slow_send.py" "$RPORT" "$SIZE") || fail "slow sender: $out"
[ "$out" = "6 0" ] || fail "want ACK ok after a slow prefix check, got '$out'"
[ "$(fsize "$T/srv/f.bin")" = $((SIZE + 10)) ] || fail "f.bin not committed"
stop_recv
pass "recv waits for a sender that checks a 200 MB prefix"
