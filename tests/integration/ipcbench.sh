#!/bin/bash
# ipcbox ipcbench --quick: every mechanism runs between two processes and
# every row that ran verified its checksum; the mechanisms Linux always has
# must not be n/a; every channel row reports the CPU both sides used; the
# output is measurements only (no goals) plus the "which mechanism for which
# job" table, whose shape is fixed whatever ran; the three output formats
# and the chart are well formed; usage errors exit 2. Structure only, never
# timings.
set -u
: "${IPCBOX:?IPCBOX must point at the ipcbox binary}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

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
rd = csv.DictReader(open(sys.argv[1]))
rows = list(rd)
assert len(rows) >= 50, f"only {len(rows)} rows"
# measurements only: no goal columns, no goal rows
assert not {"ratio", "goal"} & set(rd.fieldnames), rd.fieldnames
assert not [r for r in rows if ":" in r["mechanism"]], "rows that are not mechanisms"
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
# the CPU both sides used: every channel row that ran has it for each run
# it made (cores busy; cores wanted is busy plus time spent waiting for a
# CPU, so never less); the spawn and one-core reference rows have none
def num(v): return float(v) if v != "" else None
spawn_ref = "forkexec vfork spawn fork memcpy memcpy-dram xxh3".split()
for r in rows:
    runs = [k for k, c in (("rtt", "rtt_p50_ns"), ("stream", "mb_per_s")) if r[c] != ""]
    if r["mechanism"] in spawn_ref or r["status"] != "ok":
        assert all(r[f"{k}_cpu_{w}"] == "" for k in ("rtt", "stream")
                   for w in ("cores", "wanted")), r
        continue
    assert runs, r
    for k in ("rtt", "stream"):
        busy, wanted = num(r[f"{k}_cpu_cores"]), num(r[f"{k}_cpu_wanted"])
        if k in runs:
            assert busy is not None and busy >= 0, (k, r)
            assert wanted is None or wanted >= busy, (k, r)
        else:
            assert busy is None and wanted is None, (k, r)
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
grep -q '^| mechanism | size | rtt p50 µs .* | CPU rtt | CPU stream | verified | note |$' \
    "$work/res.md" || fail "no markdown table"
[ "$(grep -c '^| pipe | [0-9]' "$work/res.md")" -eq 2 ] || fail "--sizes/--only not honoured"
! grep -qi 'target\|goal' "$work/res.md" || fail "goals in the output"
python3 - "$work/res.md" <<'PY' || fail "which-mechanism table wrong"
import sys
lines = open(sys.argv[1]).read().split("\n")
head = [i for i, l in enumerate(lines) if l.startswith("| mechanism | measured as |")]
assert len(head) == 1, "no which-mechanism table"
cells = [l.split(" | ") for l in lines[head[0] + 2:] if l.startswith("| ")]
assert len(cells) == 16, f"{len(cells)} lines, want 16 (fixed whatever ran)"
assert all(len(c) == 7 for c in cells), cells
byname = {c[1].strip("`"): c for c in cells}
assert list(byname)[:4] == ["forkexec", "signal", "pipe", "fifo"], list(byname)
# the two mechanisms that ran have speeds and CPU from this run ...
for m in ("pipe", "shmq"):
    c = byname[m]
    assert "µs (64 B)" in c[2] and "MB/s (" in c[3], c
    assert c[4].split()[0].replace(".", "").isdigit(), c
# ... the others say they were not measured, in every speed cell
for m, c in byname.items():
    if m not in ("pipe", "shmq"):
        assert c[2] == c[3] == c[4] == "not measured in this run", c
PY
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
assert rows[0]["rtt_p50_ns"] > 0 and rows[0]["rtt_cpu_cores"] >= 0, rows[0]
assert "targets" not in d and "targets_met" not in d, d.keys()
assert d["bound"] == {"xxh3_1MiB_vs_memcpy": None, "shmq_1MiB_bw_vs_xxh3": None}, d
# the guide: always the same 16 methods with the same keys; udp ran (64 B
# and 1 KiB; larger sizes are n/a), the cache-line floor is not a method
g = d["guide"]
assert len(g) == 16 and len({e["mechanism"] for e in g}) == 16, g
keys = set(g[0])
assert all(set(e) == keys for e in g), g
for e in g:
    if e["mechanism"] == "udp":
        assert e["status"] == "measured" and e["latency"] == "rtt", e
        assert e["latency_size"] == 64 and e["latency_p50_ns"] > 0, e
        assert e["stream_size"] in (64, 1024) and e["cpu_cores"] >= 0, e
    else:
        assert e["status"] == "not measured", e
        assert e["latency_p50_ns"] is None and e["cpu_cores"] is None, e
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
