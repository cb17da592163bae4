#!/bin/bash
# ipcbox ipcbench --quick: every mechanism runs between two processes and
# every row that ran verified its checksum; the mechanisms Linux always has
# must not be n/a; the three output formats and the chart are well formed;
# usage errors exit 2.
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
grep -q '^| mechanism | size | rtt p50 µs' "$work/res.md" || fail "no markdown table"
[ "$(grep -c '^| pipe |' "$work/res.md")" -eq 2 ] || fail "--sizes/--only not honoured"
grep -q 'shmq 64 B stream = .* x pipe' "$work/res.md" || fail "no target summary"
# both readings of the 1 MiB goal, and which of them is met
"$IPCBOX" ipcbench --quick --only shmq,memcpy,memcpy-dram --sizes 1048576 \
    >"$work/bw.md" 2>/dev/null || fail "memcpy reference run failed"
grep -q '^- shmq 1 MiB stream = .* x single-core memcpy in cache .*: \(met\|missed\)$' \
    "$work/bw.md" || fail "no in-cache memcpy target line"
grep -q '^- shmq 1 MiB stream = .* x single-core memory bandwidth .*: \(met\|missed\)$' \
    "$work/bw.md" || fail "no memory-bandwidth target line"
grep -q '^- so "1 MiB stream >= 0.8x single-core memcpy bandwidth" is \(met\|missed\) against' \
    "$work/bw.md" || fail "no plain statement of which reading is met"
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
