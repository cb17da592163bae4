#!/usr/bin/env python3
"""ipcbench_json.py JSON: `ipcbench --only cacheline,udp --format json`:
those rows, verified or n/a, and every target null.
"""
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
