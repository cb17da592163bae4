#!/bin/sh
# Runs every libFuzzer harness in BUILD for SECONDS each, JOBS harnesses at
# a time, on a growing corpus in BUILD/corpus/NAME seeded (read only) from
# fuzz/corpus/NAME. Reproducers of crashes, leaks and timeouts land in
# BUILD/crash/; the exit status is 1 if any harness failed. Not in CI: it
# is `make fuzz-long` (FUZZ_LONG_SECONDS, default 600 per harness).
set -eu
BUILD=${1:-build-fuzz}
SECS=${2:-600}
JOBS=${3:-$(nproc)}
mkdir -p "$BUILD/crash"
run_one() {
    h=$1
    name=$(basename "$h")
    work="$BUILD/corpus/$name"
    mkdir -p "$work"
    seeds=""
    [ -d "fuzz/corpus/$name" ] && seeds="fuzz/corpus/$name"
    echo "fuzz-long: $name: ${SECS}s" >&2
    # shellcheck disable=SC2086
    if "$h" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1 -artifact_prefix="$BUILD/crash/$name-" \
            "$work" $seeds >"$BUILD/$name.log" 2>&1; then
        echo "fuzz-long: $name: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/$name.log" | grep -o '[0-9]*$') runs)" >&2
    else
        echo "fuzz-long: $name: FAILED, see $BUILD/$name.log and $BUILD/crash/" >&2
        return 1
    fi
}
status=0
set --
for h in "$BUILD"/fuzz_*; do
    [ -x "$h" ] && [ -f "$h" ] && set -- "$@" "$h"
done
[ $# -gt 0 ] || { echo "fuzz-long: no harness in $BUILD" >&2; exit 1; }
# run JOBS harnesses at a time
running=0
pids=""
for h in "$@"; do
    run_one "$h" &
    pids="$pids $!"
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        for p in $pids; do wait "$p" || status=1; done
        pids=""
        running=0
    fi
done
for p in $pids; do wait "$p" || status=1; done
exit $status
