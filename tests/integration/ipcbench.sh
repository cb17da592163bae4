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
python3 - "$work/res.csv" <<'PY' || fail "rows check failed (see above)"
import csv, sys
allrows = list(csv.DictReader(open(sys.argv[1])))
rows = [r for r in allrows if not r["mechanism"].startswith("target:")]
targets = {r["mechanism"][7:]: r for r in allrows if r["mechanism"].startswith("target:")}
assert len(rows) >= 50, f"only {len(rows)} rows"
# the targets follow the rows: every ratio computed, met or missed, with a
# goal; the 1 MiB stream is compared with both memcpy references
assert allrows[-len(targets):] == list(targets.values()), "targets not after the rows"
assert set(targets) == {"shmq_rtt_vs_floor", "shmq_64B_rate_vs_pipe",
                        "shmq_1MiB_bw_vs_memcpy", "shmq_1MiB_bw_vs_membw"}, targets
for k, t in targets.items():
    assert t["status"] in ("met", "missed") and float(t["ratio"]) > 0, t
    assert t["goal"] in ("<=2", ">=10", ">=0.8"), t
    goal = float(t["goal"][2:])
    met = float(t["ratio"]) <= goal if t["goal"][0] == "<" else float(t["ratio"]) >= goal
    assert met == (t["status"] == "met"), t
# every row: verified, or n/a with a reason
for r in rows:
    ok = (r["status"] == "ok" and r["verified"] == "true") or \
         (r["status"] == "n/a" and r["note"])
    assert ok, f"row neither verified nor n/a: {r}"
# mechanisms every Linux has: every row of theirs ran and verified
for m in ("cacheline shmq shmspin mmapfile eventfd pipe fifo unix unixdgram "
          "tcp signal memcpy memcpy-dram xxh3 forkexec vfork spawn fork").split():
    mine = [r for r in rows if r["mechanism"] == m]
    assert mine, f"{m}: no rows"
    assert all(r["status"] == "ok" for r in mine), f"{m}: {mine}"
# a channel mechanism has all four sizes, latency and throughput filled
for size in ("64", "1024", "65536", "1048576"):
    r = [r for r in rows if r["mechanism"] == "shmq" and r["size"] == size]
    assert len(r) == 1, f"shmq {size}: {r}"
    r = r[0]
    p50, p99, mx = (float(r[k]) for k in ("rtt_p50_ns", "rtt_p99_ns", "rtt_max_ns"))
    assert 0 < p50 <= p99 <= mx, r
    assert float(r["mb_per_s"]) > 0 and float(r["msg_per_s"]) > 0, r
    assert int(r["rtt_count"]) > 0 and int(r["stream_count"]) > 0, r
# latency-only rows have no throughput; sizes a mechanism cannot carry say why
sig = [r for r in rows if r["mechanism"] == "signal"]
assert len(sig) == 1 and sig[0]["size"] == "8" and sig[0]["mb_per_s"] == "", sig
udp = [r for r in rows if r["mechanism"] == "udp" and r["size"] == "65536"]
assert udp and udp[0]["status"] == "n/a" and "datagram limit" in udp[0]["note"], udp
print(f"{len(rows)} rows checked")
PY

# the chart is well-formed XML with bars in it
python3 - "$work/chart.svg" <<'PY' || fail "chart is not valid SVG"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
rects = root.findall('.//{http://www.w3.org/2000/svg}rect')
assert len(rects) > 20, len(rects)
PY

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
python3 - "$work/bound.json" <<'PY' || fail "bound line missing from JSON"
import json, sys
d = json.load(open(sys.argv[1]))
b = d["bound"]
rows = {r["mechanism"]: r for r in d["rows"]}
assert rows["xxh3"]["verified"] and rows["xxh3"]["mb_per_s"] > 0, rows
assert abs(b["xxh3_1MiB_vs_memcpy"] - rows["xxh3"]["mb_per_s"] / rows["memcpy"]["mb_per_s"]) < 0.01, d
assert abs(b["shmq_1MiB_bw_vs_xxh3"] - rows["shmq"]["mb_per_s"] / rows["xxh3"]["mb_per_s"]) < 0.01, d
PY
"$IPCBOX" ipcbench --quick --only cacheline,udp --format json >"$work/res.json" 2>/dev/null \
    || fail "json run failed"
python3 - "$work/res.json" <<'PY' || fail "JSON output invalid"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
assert {r["mechanism"] for r in rows} == {"cacheline", "udp"}, rows
assert all(r["verified"] or r["status"] == "n/a" for r in rows), rows
assert rows[0]["rtt_p50_ns"] > 0
# no shmq rows: every target is null, none claimed met
assert set(d["targets"]) == set(d["targets_met"]) and len(d["targets"]) == 4, d
assert all(v is None for v in d["targets"].values()), d["targets"]
assert all(v is None for v in d["targets_met"].values()), d["targets_met"]
assert d["bound"] == {"xxh3_1MiB_vs_memcpy": None, "shmq_1MiB_bw_vs_xxh3": None}, d
PY

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
