#!/usr/bin/env python3
"""Check the "which mechanism for which job" table of ipcbench markdown output.

usage: ipcbench_guide.py FILE
"""
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
