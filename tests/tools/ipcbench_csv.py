#!/usr/bin/env python3
"""Check ipcbench CSV rows: verified or n/a, CPU columns, no goal columns.

usage: ipcbench_csv.py FILE
"""
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
