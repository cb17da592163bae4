# ipcbox pool's own behaviour (GNU parallel comparisons: pool_parallel.sh):
# a job's output past --max-buffer spills to an unlinked temporary file
# (seen in /proc while the job waits) and comes out whole; --line-buffer
# prints lines of a job still running; the first SIGINT starts no more
# jobs and waits for the running ones (exit 130), a second kills them;
# SIGTERM reaches every job; --timeout kills a job's whole process group;
# --dry-run runs nothing; -h, --version and usage errors (exit 2, one
# line). Every wait is a bounded poll on a file or a process.
. "$(dirname "$0")/../lib.sh"
cd "$T" || fail "no $T"
P=("$IPCBOX" pool)

# wait_file FILE [SECS] : FILE exists within SECS (default 20)
wait_file() {
    local i
    for i in $(seq $((${2:-20} * 20))); do
        [ -e "$1" ] && return 0
        sleep 0.05
    done
    fail "no $1 after ${2:-20} s"
}
# the job body "wait for FILE" (bounded: 60 s)
waitfor() { echo "i=0; while [ ! -e $1 ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i+1)); done; true"; }

# ---- spill to a temporary file past --max-buffer ----
mkdir -p spill
"${P[@]}" --max-buffer 64k --tmpdir "$T/spill" \
    "head -c 3000000 /dev/zero | tr '\\0' x; echo; touch $T/wrote; $(waitfor "$T/go")" \
    ::: 1 >out.spill 2>err.spill &
PID=$!
PIDS+=("$PID")
wait_file "$T/wrote"
found=""
for i in $(seq 400); do
    found=$(ls -l /proc/$PID/fd 2>/dev/null | grep -c "$T/spill/.*(deleted)") || true
    [ "$found" -ge 1 ] && break
    sleep 0.05
done
[ "$found" -ge 1 ] || fail "spill: no unlinked file of $T/spill open in pool"
rss=$(proc_kb "$PID" VmRSS)
touch "$T/go"
wait_exit "$PID" 30
[ "$RC" = 0 ] || { cat err.spill >&2; fail "spill: exit $RC"; }
[ "$(wc -c <out.spill)" = 3000001 ] && [ "$(tr -d 'x\n' <out.spill | wc -c)" = 0 ] ||
    fail "spill: output not whole ($(wc -c <out.spill) bytes)"
[ -z "$(ls -A spill)" ] || fail "spill: files left in $T/spill"
pass "spill: 3 MB past a 64 KiB bound went to an unlinked file (RSS then ${rss} kB), printed whole"

# ---- --line-buffer: lines of a running job come out at once ----
rm -f go
"${P[@]}" --line-buffer "echo first {}; $(waitfor "$T/go"); echo second {}" ::: 1 >out.lb 2>&1 &
PID=$!
PIDS+=("$PID")
wait_for out.lb '^first 1$' 20 || fail "line-buffer: the first line did not come while the job ran"
grep -q second out.lb && fail "line-buffer: second line before its time"
touch go
wait_exit "$PID" 30
[ "$RC" = 0 ] && [ "$(cat out.lb)" = "$(printf 'first 1\nsecond 1')" ] || fail "line-buffer: exit $RC, $(cat out.lb)"
pass "line-buffer: a running job's line is printed at once"
# and grouped (the default) holds it until the job ends
rm -f go
"${P[@]}" "echo first; touch $T/started; $(waitfor "$T/go")" ::: 1 >out.grp 2>&1 &
PID=$!
PIDS+=("$PID")
wait_file started
sleep 0.3   # (not a wait for readiness: gives a wrong early print the chance to show)
[ -s out.grp ] && fail "group: output printed before the job ended"
touch go
wait_exit "$PID" 30
[ "$RC" = 0 ] && [ "$(cat out.grp)" = first ] || fail "group: exit $RC"
pass "group: output held until the job ends"

# ---- SIGINT once: no new jobs, the running ones finish; exit 130 ----
rm -f go
"${P[@]}" -j2 "touch $T/run{}; $(waitfor "$T/go"); echo done {}" ::: 1 2 3 4 >out.int 2>err.int &
PID=$!
PIDS+=("$PID")
wait_file run1
wait_file run2
kill -INT "$PID"
wait_for err.int "interrupted" 20 || fail "sigint: no message"
touch go
wait_exit "$PID" 30
[ "$RC" = 130 ] || fail "sigint: exit $RC, not 130"
[ "$(sort out.int | tr '\n' ' ')" = "done 1 done 2 " ] || fail "sigint: output $(cat out.int)"
[ -e run3 ] || [ -e run4 ] && fail "sigint: a job started after SIGINT"
pass "sigint: no new jobs, running jobs finished and printed, exit 130"

# ---- SIGINT twice: the running jobs are killed ----
rm -f go run*
"${P[@]}" -j2 "touch $T/run{}; $(waitfor "$T/go")" ::: 1 2 3 >out.int2 2>err.int2 &
PID=$!
PIDS+=("$PID")
wait_file run1
wait_file run2
kill -INT "$PID"
wait_for err.int2 "interrupted" 20 || fail "sigint twice: no first message"
kill -INT "$PID"
wait_exit "$PID" 30
[ "$RC" = 130 ] || fail "sigint twice: exit $RC (jobs not killed?)"
pgrep -f "$T/go" >/dev/null && fail "sigint twice: a job survived"
pass "sigint twice: running jobs killed, exit 130"

# ---- SIGTERM is passed on to the jobs ----
rm -f go run*
"${P[@]}" -j2 "trap 'echo term {}; exit 0' TERM; touch $T/run{}; $(waitfor "$T/go")" \
    ::: 1 2 >out.term 2>err.term &
PID=$!
PIDS+=("$PID")
wait_file run1
wait_file run2
kill -TERM "$PID"
wait_exit "$PID" 30
[ "$RC" = 143 ] || fail "sigterm: exit $RC"
[ "$(sort out.term | tr '\n' ' ')" = "term 1 term 2 " ] || fail "sigterm: jobs said $(cat out.term)"
pass "sigterm: every job got it, exit 143"

# ---- --timeout kills the whole process group ----
# (5 s: the grandchild must have started and written its pid by then,
# also on a loaded machine)
rm -f go
rc=0
"${P[@]}" --timeout 5 "sh -c 'echo \$\$ >$T/grandchild; $(waitfor "$T/go")'; $(waitfor "$T/go")" \
    ::: 1 >/dev/null 2>err.to || rc=$?
[ $rc = 1 ] || fail "timeout: exit $rc"
gc=$(cat grandchild)
for i in $(seq 100); do _alive "$gc" || break; sleep 0.05; done
_alive "$gc" && fail "timeout: the job's grandchild $gc survived"
grep -q "timed out" err.to || fail "timeout: no message"
pass "timeout: the job's process group is gone"

# ---- --dry-run runs nothing ----
out=$("${P[@]}" --dry-run "touch $T/dry{}" ::: 1 'a b')
[ "$out" = "$(printf "touch $T/dry1\ntouch $T/dry'a b'")" ] || fail "dry-run printed: $out"
ls dry* >/dev/null 2>&1 && fail "dry-run ran a job"
pass "dry-run: prints the commands, runs none"

# ---- spawn without a shell, jobs' environment ----
out=$("${P[@]}" -k -j1 'printenv PARALLEL_SEQ PARALLEL_JOBSLOT' ::: a b)
[ "$(echo $out)" = "1 1 2 1" ] || fail "env: $out"
pass "env: PARALLEL_SEQ and PARALLEL_JOBSLOT"

# ---- --help, --version, usage errors ----
"${P[@]}" --help | grep -q -- "--joblog" || fail "--help lacks --joblog"
"${P[@]}" --version | grep -q "pool" || fail "--version"
for bad in "--nope" "-j x" "--halt later" "--timeout 0" "--resume echo" "--retries -1" \
           "echo :::: "; do
    rc=0
    "${P[@]}" $bad ::: a >out.u 2>err.u || rc=$?
    [ $rc = 2 ] || fail "usage '$bad': exit $rc"
    [ "$(wc -l <err.u)" = 1 ] || fail "usage '$bad': $(cat err.u)"
done
rc=0
"${P[@]}" echo :::: "$T/missing-file" 2>err.m || rc=$?
[ $rc = 255 ] || fail "missing input file: exit $rc (parallel: 255)"
pass "help, version, usage errors exit 2 with one line; unreadable input 255"
