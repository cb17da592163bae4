# The server CPU that bench-models divides by the work done (modelload
# --server-pid, here its "cpu" mode) counts every thread and child of the
# server: a child process that ended and was reaped, and a thread that
# ended, within the window (a thread or a process per connection does just
# that) are counted, not lost.
. "$(dirname "$0")/../lib.sh"
need python3
[ -x "$TOOLS/modelload" ] || skip "modelload not built"

python3 "$PYTOOLS/cpu_tree.py" "$T/go" "$T/done" &
bp=$!
PIDS+=("$bp")
c0=$("$TOOLS/modelload" cpu "$bp") || fail "modelload cpu failed"
touch "$T/go"
for _ in $(seq 2400); do [ -e "$T/done" ] && break; sleep 0.05; done
[ -e "$T/done" ] || fail "the CPU burner did not finish in 120 s"
c1=$("$TOOLS/modelload" cpu "$bp") || fail "modelload cpu failed"
used=$(awk -v a="${c0#cpu_s=}" -v b="${c1#cpu_s=}" 'BEGIN { printf "%.3f", b - a }')
# 0.6 s burnt in the window, by a reaped child and an ended thread
awk -v u="$used" 'BEGIN { exit !(u >= 0.5) }' ||
    fail "counted ${used} s of the 0.6 s that a reaped child and an ended thread used"
pass "server CPU counts a reaped child and an ended thread (${used} s of 0.6 s)"
