#!/usr/bin/env bash
# ipcbox pool beside xargs -P and GNU parallel: N jobs (default 10000), 2
# at a time, of `true` (no output) and of `echo` (one line each, grouped
# by pool and parallel; xargs does not group). Each runner and its jobs
# are pinned to the same two CPUs (taskset -c 0,1), one run after the
# other; jobs/s is N over the wall time. Results go to docs/bench-pool.md
# by hand.
#   bench/pool.sh [N] [REPEATS]     (GNU parallel, slow, runs once)
set -eu
cd "$(dirname "$0")/.."
B=build/ipcbox
[ -x "$B" ] || { echo "run 'make' first" >&2; exit 1; }
N=${1:-10000}
R=${2:-3}
have_parallel=0
command -v parallel >/dev/null && have_parallel=1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
seq "$N" >"$T/args"

now() { date +%s.%N; }
# best NAME CMD... : the best of R runs of CMD (stdin: the arguments,
# stdout checked for N lines when the job prints), as jobs/s
best() {
    local name=$1 best=0 t0 t1 r reps=$R
    shift
    [ "$1" = parallel ] && reps=1
    for r in $(seq "$reps"); do
        t0=$(now)
        taskset -c 0,1 "$@" <"$T/args" >"$T/out"
        t1=$(now)
        best=$(awk -v b="$best" -v n="$N" -v a="$t0" -v e="$t1" \
            'BEGIN { r = n / (e - a); print (r > b ? r : b) }')
    done
    echo "$best" >"$T/$name"
    printf '%.0f' "$best"
}

echo "## pool: $N jobs, 2 at a time (best of $R; GNU parallel: one run)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2);print $2}'), $(nproc) CPUs, $(uname -r)"
echo
echo "| runner | true (jobs/s) | echo, one line each (jobs/s) |"
echo "|---|---|---|"
a=$(best pool_true "$B" pool -j2 true)
b=$(best pool_echo "$B" pool -j2 echo)
[ "$(wc -l <"$T/out")" = "$N" ] || { echo "pool: $(wc -l <"$T/out") lines" >&2; exit 1; }
echo "| ipcbox pool -j2 (grouped) | $a | $b |"
a=$(best xargs_true xargs -P2 -n1 true)
b=$(best xargs_echo xargs -P2 -n1 echo)
echo "| xargs -P2 -n1 | $a | $b |"
if [ $have_parallel = 1 ]; then
    a=$(best par_true parallel --will-cite -j2 true)
    b=$(best par_echo parallel --will-cite -j2 echo)
    echo "| GNU parallel -j2 | $a | $b |"
fi
echo
awk -v pt="$(cat "$T/pool_true")" -v pe="$(cat "$T/pool_echo")" \
    -v xt="$(cat "$T/xargs_true")" -v xe="$(cat "$T/xargs_echo")" \
    'BEGIN { printf "pool / xargs: %.2fx (true), %.2fx (echo, grouped)\n", pt / xt, pe / xe }'

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
