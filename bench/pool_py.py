#!/usr/bin/env python3
"""Python's process pool on the tiny task of bench/poolbench.c (make bench-pool).

    bench/pool_py.py [-j WORKERS] [-n TASKS] [--rounds R] [--mode map|apply_async|both]

The task adds two integers. multiprocessing.Pool(WORKERS).map over TASKS
pairs with chunksize 1 (every task its own message, as ibx_pool_submit
without batching would be), and apply_async once per task with the results
collected afterwards. Every result is checked. Each of R rounds (default 3)
is timed, pool start-up excluded; the best is reported with the median.
One line per mode on stdout, in poolbench's format:

    mode=py_map_chunksize1 workers=2 tasks=100000 tasks_per_s=... median_tasks_per_s=... ns_per_task=... errors=0

Exit 0 when every result was right, 1 otherwise.
"""
import argparse
import multiprocessing
import statistics
import sys
import time


def add(pair):
    return pair[0] + pair[1]


def add2(a, b):
    return a + b


def run_map(pool, pairs):
    t0 = time.monotonic()
    res = pool.map(add, pairs, chunksize=1)
    return time.monotonic() - t0, res


def run_apply_async(pool, pairs):
    t0 = time.monotonic()
    futures = [pool.apply_async(add2, p) for p in pairs]
    res = [f.get() for f in futures]
    return time.monotonic() - t0, res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-j", type=int, default=2, help="worker processes")
    ap.add_argument("-n", type=int, default=100000, help="tasks per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mode", choices=["map", "apply_async", "both"], default="both")
    a = ap.parse_args()
    if a.j < 1 or a.n < 1 or not 1 <= a.rounds <= 100:
        ap.error("bad -j, -n or --rounds")
    pairs = [(i * 7, i ^ 0x5A5A5A5) for i in range(a.n)]
    want = [x + y for x, y in pairs]
    modes = {"map": ("py_map_chunksize1", run_map),
             "apply_async": ("py_apply_async", run_apply_async)}
    selected = list(modes.values()) if a.mode == "both" else [modes[a.mode]]
    errors_total = 0
    with multiprocessing.Pool(a.j) as pool:
        pool.map(add, pairs[:100], chunksize=1)     # workers up and warm
        for name, fn in selected:
            rates, errors = [], 0
            for _ in range(a.rounds):
                secs, res = fn(pool, pairs)
                errors += sum(1 for r, w in zip(res, want) if r != w) + abs(len(res) - len(want))
                rates.append(a.n / secs)
            best = max(rates)
            print(f"mode={name} workers={a.j} tasks={a.n} tasks_per_s={best:.0f} "
                  f"median_tasks_per_s={statistics.median(rates):.0f} "
                  f"ns_per_task={1e9 / best:.1f} errors={errors}", flush=True)
            errors_total += errors
    return 1 if errors_total else 0


if __name__ == "__main__":
    sys.exit(main())
