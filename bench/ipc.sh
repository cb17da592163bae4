#!/bin/sh
# make bench-ipc: run the full IPC benchmark with the binary `make build`
# produced (this script builds nothing) and write
#   docs/bench-ipc.md    the table, with date, machine and load (the notes
#                        below its "Kept by bench/ipc.sh" line are kept)
#   docs/ipcbench.svg    the chart
# Method: docs/ipcbench.md. Extra arguments go to ipcbench (e.g. --only).
set -eu
cd "$(dirname "$0")/.."
bin=${IPCBOX:-build/ipcbox}
if [ ! -x "$bin" ]; then
    echo "bench-ipc: $bin not found; run 'make build' first" >&2
    exit 1
fi
md=docs/bench-ipc.md
svg=docs/ipcbench.svg
tmp=$(mktemp docs/.bench-ipc.XXXXXX)
trap 'rm -f "$tmp"' EXIT

# Notes written by hand below the marker line survive the rewrite.
marker='<!-- Kept by bench/ipc.sh: everything below this line survives a new run. -->'
kept=""
[ -f "$md" ] && kept=$(sed -n "\|^$marker\$|,\$p" "$md")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-ipc: running '$bin ipcbench full $*' (a few minutes)" >&2
started=$(date -u '+%Y-%m-%d %H:%M UTC')
set +e
"$bin" ipcbench full --svg "$svg" "$@" >"$tmp.table"
rc=$?
set -e
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "# ipcbench results"
    echo
    echo "Produced by \`make bench-ipc\` (bench/ipc.sh): \`ipcbox ipcbench full${*:+ $*}\`,"
    echo "started $started. How it measures: [ipcbench.md](ipcbench.md)."
    echo "Chart: [ipcbench.svg](ipcbench.svg)."
    echo
    echo "Machine (\`lscpu | head\`, kernel $(uname -r)):"
    echo
    echo '```'
    lscpu | head -n 15
    echo '```'
    echo
    echo "Load average (1, 5, 15 min) before: $load_before; after: $load_after."
    echo "With load above the CPU count the two sides share their CPUs with other"
    echo "work: compare rows of one run with each other, not runs with runs."
    echo
    cat "$tmp.table"
    if [ -n "$kept" ]; then
        echo
        printf '%s\n' "$kept"
    fi
} >"$tmp"
rm -f "$tmp.table"
mv "$tmp" "$md"
trap - EXIT
echo "bench-ipc: wrote $md and $svg (ipcbench exit $rc)" >&2
exit "$rc"
