#!/usr/bin/env python3
"""Check ipcbench JSON output is well formed.

usage: ipcbench_json.py FILE
"""
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
