#!/usr/bin/env bash
# ipcbox pool beside xargs -P and GNU parallel: N jobs (default 10000), 2
# at a time, of `true` (no output) and of `echo` (one line each, grouped
# by pool and parallel; xargs does not group). Each runner and its jobs
# are pinned to the same two CPUs (taskset -c 0,1); pool and xargs run
# in turn for REPEATS rounds and the medians (and the median of the
# rounds' ratios) are printed; jobs/s is N over the wall time. Then the
# library, ibx_pool, beside Python's multiprocessing.Pool. `make
# bench-pool` runs it; docs/bench-pool.md holds the runs quoted.
#   bench/pool.sh [N] [REPEATS]     (GNU parallel, slow, runs once)
set -eu
cd "$(dirname "$0")/.."
B=build/ipcbox
[ -x "$B" ] || { echo "run 'make' first" >&2; exit 1; }
N=${1:-10000}
R=${2:-5}
have_parallel=0
command -v parallel >/dev/null && have_parallel=1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
seq "$N" >"$T/args"

now() { date +%s.%N; }
# rate CMD... : one run of CMD (stdin: the arguments) as jobs/s
rate() {
    local t0 t1
    t0=$(now)
    taskset -c 0,1 "$@" <"$T/args" >"$T/out"
    t1=$(now)
    awk -v n="$N" -v a="$t0" -v e="$t1" 'BEGIN { printf "%.0f", n / (e - a) }'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "## pool: $N jobs, 2 at a time (pool and xargs interleaved, $R rounds, medians; GNU parallel: one run)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2);print $2}'), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# The machine is shared: pool and xargs run in turn, round after round,
# and each round's pool/xargs ratio is kept; the medians are quoted.
for job in true echo; do
    P="" X="" Q=""
    for r in $(seq "$R"); do
        p=$(rate "$B" pool -j2 $job)
        if [ $job = echo ]; then
            [ "$(wc -l <"$T/out")" = "$N" ] || { echo "pool: $(wc -l <"$T/out") lines" >&2; exit 1; }
        fi
        x=$(rate xargs -P2 -n1 $job)
        P="$P $p" X="$X $x"
        Q="$Q $(awk -v a="$p" -v b="$x" 'BEGIN { printf "%.3f", a / b }')"
    done
    eval "P_$job=\$(median <<<\"\$P\") X_$job=\$(median <<<\"\$X\") Q_$job=\$(median <<<\"\$Q\") QS_$job=\"\$Q\""
    if [ $have_parallel = 1 ]; then
        eval "G_$job=\$(rate parallel --will-cite -j2 $job)"
    fi
done
echo "| runner | true (jobs/s) | echo, one line each (jobs/s) |"
echo "|---|---|---|"
echo "| ipcbox pool -j2 (grouped) | $P_true | $P_echo |"
echo "| xargs -P2 -n1 | $X_true | $X_echo |"
[ $have_parallel = 1 ] && echo "| GNU parallel -j2 | $G_true | $G_echo |"
echo
echo "pool / xargs, median of the rounds' ratios: ${Q_true}x (true; rounds:$QS_true), ${Q_echo}x (echo, grouped; rounds:$QS_echo)"

# ---- the library: ibx_pool beside Python's multiprocessing.Pool --------------
# Tiny tasks (one adds two integers), 2 workers: build/poolbench
# (bench/poolbench.c: ibx_pool_map over an array, and one task at a time
# through submit/next) and bench/pool_py.py (Pool(2).map with chunksize 1,
# and apply_async), each pinned to the same two CPUs.
echo
echo "## ibx_pool: tiny tasks (a + b), 2 workers"
echo
echo "| runner | tasks/s (best) | tasks/s (median) | ns per task |"
echo "|---|---|---|---|"
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
row() {   # LABEL LINE
    printf '| %s | %s | %s | %s |\n' "$1" "$(field tasks_per_s "$2")" \
        "$(field median_tasks_per_s "$2")" "$(field ns_per_task "$2")"
}
if [ -x build/poolbench ]; then
    l=$(taskset -c 0,1 build/poolbench --mode map -n 4000000 --rounds 5)
    row "ibx_pool_map" "$l"; lib_map=$(field tasks_per_s "$l")
    l=$(taskset -c 0,1 build/poolbench --mode submit -n 2000000 --rounds 5)
    row "ibx_pool submit/next, one task at a time" "$l"
fi
if command -v python3 >/dev/null; then
    while read -r l; do
        case $l in
            *py_map*) row "Python Pool(2).map, chunksize 1" "$l"; py_map=$(field tasks_per_s "$l") ;;
            *apply_async*) row "Python Pool(2).apply_async" "$l" ;;
        esac
    done < <(taskset -c 0,1 python3 bench/pool_py.py -n 50000)
fi
if [ -n "${lib_map:-}" ] && [ -n "${py_map:-}" ]; then
    echo
    awk -v a="$lib_map" -v b="$py_map" 'BEGIN { printf "ibx_pool_map / Pool(2).map: %.0fx\n", a / b }'
fi
