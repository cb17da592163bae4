#!/usr/bin/env python3
"""ipcbench_csv.py CSV: the rows and target lines of `ipcbench --quick
--format csv`: enough rows, every row that ran verified, Linux's
mechanisms not n/a, the targets computed. Fails with an assertion.
"""
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
