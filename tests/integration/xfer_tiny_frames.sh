# recv refuses a HELLO that announces a DATA maximum below 4096 bytes
# (IBX_FRAME_DATA_MIN): with data_max 1 a GET of a 64 MiB file made recv
# read, hash and frame the file one byte at a time, nine bytes on the
# wire per file byte and a pread per byte, half a million of them per
# loop pass, which stalled every other client of the loop for seconds.
# The old code accepted any data_max above 0.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
S="$T/srv"
mkdir -p "$S"
mkrand "$S/big.bin" $((1 << 20))
start_recv "$S"

# hello PORT DATA_MAX : HELLO v1 announcing DATA_MAX, then GET big.bin;
# prints the type of each frame that comes back (and the code of an ERROR)
hello() {
    python3 "$PYTOOLS/xfer_tiny_hello.py" "$1" "$2"
}
out=$(hello "$RPORT" 1)
echo "$out" | grep -q "^frame 9 24" || { echo "$out"; fail "data_max 1: no ERROR protocol"; }
echo "$out" | grep -q "^frame 2" && fail "data_max 1: the GET was served"
out=$(hello "$RPORT" 4095)
echo "$out" | grep -q "^frame 9 24" || { echo "$out"; fail "data_max 4095: no ERROR protocol"; }
out=$(hello "$RPORT" 4096)
echo "$out" | grep -q "^frame 1" || { echo "$out"; fail "data_max 4096: no HELLO"; }
echo "$out" | grep -q "^frame 2" || { echo "$out"; fail "data_max 4096: the GET was not served"; }
wait_log "malformed HELLO" 20
"$IPCBOX" get --quiet 127.0.0.1:"$RPORT" big.bin -o "$T/dl" || fail "get"
cmp -s "$S/big.bin" "$T/dl/big.bin" || fail "big.bin differs"
stop_recv
pass "a HELLO announcing DATA frames below 4096 bytes is refused (ERROR protocol); 4096 and get work"
