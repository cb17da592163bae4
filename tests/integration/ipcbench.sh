#!/bin/bash
# ipcbox ipcbench --quick: every mechanism runs between two processes and
# every row that ran verified its checksum; the mechanisms Linux always has
# must not be n/a; every channel row reports the CPU both sides used; the
# output is measurements only (no goals) plus the "which mechanism for which
# job" table, whose shape is fixed whatever ran; the three output formats
# and the chart are well formed; usage errors exit 2. Structure only, never
# timings.
. "$(dirname "$0")/../lib.sh"
work=$T

# --- the quick run, as CSV, with a chart ---
timeout 300 "$IPCBOX" ipcbench --quick --format csv --svg "$work/chart.svg" \
    >"$work/res.csv" 2>"$work/log"
rc=$?
cat "$work/res.csv"
[ "$rc" -eq 0 ] || { cat "$work/log" >&2; fail "ipcbench --quick exited $rc"; }
head -1 "$work/res.csv" | grep -q '^mechanism,label,size,status,verified,' \
    || fail "CSV header missing"
python3 "$PYTOOLS/ipcbench_csv.py" "$work/res.csv" || fail "rows check failed (see above)"

# the chart is well-formed XML with bars in it
python3 "$PYTOOLS/ipcbench_svg.py" "$work/chart.svg" || fail "chart is not valid SVG"

# --- markdown (default) and JSON for a subset ---
"$IPCBOX" ipcbench --quick --only pipe,shmq --sizes 64,4096 >"$work/res.md" 2>/dev/null \
    || fail "markdown run failed"
grep -q '^| mechanism | size | rtt p50 µs .* | CPU rtt | CPU stream | verified | note |$' \
    "$work/res.md" || fail "no markdown table"
[ "$(grep -c '^| pipe | [0-9]' "$work/res.md")" -eq 2 ] || fail "--sizes/--only not honoured"
! grep -qi 'target\|goal' "$work/res.md" || fail "goals in the output"
python3 "$PYTOOLS/ipcbench_guide.py" "$work/res.md" || fail "which-mechanism table wrong"
"$IPCBOX" ipcbench --quick --only shmq,memcpy,xxh3 --sizes 1048576 --format json \
    >"$work/bound.json" 2>/dev/null || fail "xxh3 reference run failed"
python3 "$PYTOOLS/ipcbench_bound.py" "$work/bound.json" || fail "bound line missing from JSON"
"$IPCBOX" ipcbench --quick --only cacheline,udp --format json >"$work/res.json" 2>/dev/null \
    || fail "json run failed"
python3 "$PYTOOLS/ipcbench_json.py" "$work/res.json" || fail "JSON output invalid"

# --- usage ---
"$IPCBOX" ipcbench --help | grep -q -- '--quick' || fail "--help"
for args in "--bogus" "--format xml" "--only nosuch" "--sizes 3" "--cpus 0" \
            "--cap-ms 0" "extra"; do
    "$IPCBOX" ipcbench $args >/dev/null 2>"$work/err"
    rc=$?
    [ "$rc" -eq 2 ] || fail "'ipcbench $args' exited $rc, want 2"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "'ipcbench $args' usage error is not one line"
done
echo "ok"
