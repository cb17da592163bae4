#!/usr/bin/env python3
"""Check the bound line of ipcbench JSON output.

usage: ipcbench_bound.py FILE
"""
import json, sys
d = json.load(open(sys.argv[1]))
b = d["bound"]
rows = {r["mechanism"]: r for r in d["rows"]}
assert rows["xxh3"]["verified"] and rows["xxh3"]["mb_per_s"] > 0, rows
assert abs(b["xxh3_1MiB_vs_memcpy"] - rows["xxh3"]["mb_per_s"] / rows["memcpy"]["mb_per_s"]) < 0.01, d
assert abs(b["shmq_1MiB_bw_vs_xxh3"] - rows["shmq"]["mb_per_s"] / rows["xxh3"]["mb_per_s"]) < 0.01, d
