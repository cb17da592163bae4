#!/usr/bin/env python3
"""co_stacks.py PID: count the coroutine stacks mapped in process PID, as
ipcbox/coro.h lays them out: an inaccessible guard of IBX_CO_GUARD (64 KiB)
directly below a read-write stack of the default 64 KiB. Prints the count."""
import sys

GUARD = STACK = 64 * 1024
maps = []
with open("/proc/%s/maps" % sys.argv[1]) as f:
    for line in f:
        f0, perm = line.split()[:2]
        lo, hi = (int(x, 16) for x in f0.split("-"))
        maps.append((lo, hi, perm))
n = 0
for (glo, ghi, gp), (slo, shi, sp) in zip(maps, maps[1:]):
    if gp == "---p" and ghi - glo == GUARD and ghi == slo and sp == "rw-p" and shi - slo == STACK:
        n += 1
print(n)
