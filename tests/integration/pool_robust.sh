# ipcbox pool under adverse conditions (review findings): output that
# cannot be held fails its job; an unusable --tmpdir is refused up front;
# a background process holding a job's output does not hold the job; a
# closed stdout stops the run (141); few descriptors throttle instead of
# failing jobs; --keep-order's backlog has one memory budget; exported
# bash functions and $PARALLEL_SHELL; a job log whose last record was
# cut. Every wait is a bounded poll on a file or a process.
. "$(dirname "$0")/../lib.sh"
cd "$T" || fail "no $T"
P=("$IPCBOX" pool)

# the job body "wait for FILE" (bounded: 60 s)
waitfor() { echo "i=0; while [ ! -e $1 ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i+1)); done; true"; }
# wait_count GLOB N : at least N files match GLOB within 30 s
wait_count() {
    local i
    for i in $(seq 600); do
        [ "$(compgen -G "$1" | wc -l)" -ge "$2" ] && return 0
        sleep 0.05
    done
    fail "only $(compgen -G "$1" | wc -l) of $2 files $1 after 30 s"
}

# ---- output that cannot be held: the job fails (finding 1) ----
mkdir gone
rc=0
"${P[@]}" --tmpdir "$T/gone" --max-buffer 4096 --joblog log.lost \
    "rmdir $T/gone; head -c 10000 /dev/zero; : {}" ::: a >out.lost 2>err.lost || rc=$?
[ $rc = 1 ] || fail "lost output: exit $rc, not 1 (the job must fail)"
grep -q "output lost" err.lost || fail "lost output: no message: $(cat err.lost)"
[ "$(tail -1 log.lost | cut -f7)" = 255 ] || fail "lost output: joblog $(tail -1 log.lost)"
rc=0
"${P[@]}" --tmpdir "$T/nonexistent" 'touch ran{}' ::: a >/dev/null 2>err.tmpdir || rc=$?
[ $rc = 2 ] && [ "$(wc -l <err.tmpdir)" = 1 ] || fail "bad tmpdir: exit $rc: $(cat err.tmpdir)"
[ -e rana ] && fail "bad tmpdir: a job ran"
pass "lost output fails the job (joblog exit 255); a --tmpdir that cannot hold files: exit 2"

# ---- a background process holding the job's output (finding 3) ----
# the job ends with its process: what it wrote is printed, the holder
# (still running, still holding the pipe) does not keep pool waiting
"${P[@]}" "sh -c '$(waitfor "$T/go")' & echo started {}" ::: a >out.bg 2>err.bg &
PID=$!
PIDS+=("$PID")
wait_exit "$PID" 30
[ "$RC" = 0 ] || fail "background holder: pool did not end with the job ($RC)"
[ "$(cat out.bg)" = "started a" ] || fail "background holder: output $(cat out.bg)"
# setsid: the holder left the job's group; --timeout still ends the job
"${P[@]}" --timeout 1 "setsid sh -c '$(waitfor "$T/go")' & echo started {}; $(waitfor "$T/go")" \
    ::: a >out.sid 2>err.sid &
PID=$!
PIDS+=("$PID")
wait_exit "$PID" 30
[ "$RC" = 1 ] || fail "setsid holder: exit $RC after --timeout 1 (want 1)"
grep -q "timed out" err.sid || fail "setsid holder: no timeout message"
[ "$(cat out.sid)" = "started a" ] || fail "setsid holder: output $(cat out.sid)"
touch go
pass "a job's background process holding its output: the job ends with its process"

# ---- the reader of stdout is gone: the run stops, exit 141 (finding 6) ----
for mode in --group --line-buffer; do
    rm -f go fifo
    mkfifo fifo
    head -1 <fifo >out.head &
    HP=$!
    PIDS+=("$HP")
    seq 200 | "${P[@]}" -j2 $mode --joblog log.pipe "[ {} = 1 ] || { $(waitfor "$T/go"); }; echo {}" \
        >fifo 2>err.pipe &
    PID=$!
    PIDS+=("$PID")
    wait_exit "$HP" 30
    [ "$RC" = 0 ] && [ "$(cat out.head)" = 1 ] || fail "sigpipe $mode: head: $RC $(cat out.head)"
    touch go
    wait_exit "$PID" 30
    [ "$RC" = 141 ] || fail "sigpipe $mode: exit $RC, not 141"
    n=$(($(wc -l <log.pipe) - 1))
    [ "$n" -lt 20 ] || fail "sigpipe $mode: $n jobs ran after stdout was closed"
    [ -s err.pipe ] && fail "sigpipe $mode: said $(cat err.pipe)"
done
pass "stdout closed: no more jobs, the running ones killed, exit 141"

# ---- few descriptors: jobs wait for them instead of failing (finding 5) ----
rc=0
( ulimit -n 64; exec "${P[@]}" -j0 'sleep 0.1; echo {}' ::: $(seq 100) ) >out.fd 2>err.fd || rc=$?
[ $rc = 0 ] || fail "ulimit -n 64, -j0: exit $rc: $(head -3 err.fd)"
[ "$(sort -n out.fd | tr '\n' ' ')" = "$(seq 100 | tr '\n' ' ')" ] || fail "ulimit -n 64: output"
rc=0
( ulimit -n 64; exec "${P[@]}" -j 200 true ::: $(seq 20) ) >/dev/null 2>err.fd2 || rc=$?
[ $rc = 0 ] && grep -q "only enough file descriptors" err.fd2 || fail "-j 200 under ulimit -n 64: $rc $(cat err.fd2)"
# --keep-order: finished jobs wait for their turn holding temporary files
rc=0
( ulimit -n 64; exec "${P[@]}" -k -j4 --max-buffer 4096 \
    '[ {} = 1 ] && sleep 2; head -c 6000 /dev/zero | tr "\0" x; echo; head -c 6000 /dev/zero | tr "\0" y >&2' \
    ::: $(seq 80) ) >out.kfd 2>err.kfd || rc=$?
[ $rc = 0 ] || fail "keep-order under ulimit -n 64: exit $rc: $(grep -v '^y' err.kfd | head -3)"
[ "$(wc -l <out.kfd)" = 80 ] && [ "$(tr -d 'x\n' <out.kfd | wc -c)" = 0 ] ||
    fail "keep-order under ulimit -n 64: $(wc -l <out.kfd) lines"
# a process limit hit at spawn (EAGAIN): the job waits for a running one
# (as nobody, whose processes RLIMIT_NPROC counts: pool and 3 jobs)
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 && ! pgrep -u nobody >/dev/null; then
    rc=0
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        bash -c 'ulimit -u 4; exec "$0" pool -j8 echo ::: $(seq 20)' "$IPCBOX" >out.np 2>err.np || rc=$?
    [ $rc = 0 ] || fail "ulimit -u 4: exit $rc: $(head -3 err.np)"
    [ "$(sort -n out.np | tr '\n' ' ')" = "$(seq 20 | tr '\n' ' ')" ] || fail "ulimit -u 4: output"
    grep -q "running at most [1-3] at once" err.np || fail "ulimit -u 4: $(cat err.np)"
fi
pass "few descriptors: -j lowered to fit, jobs wait for descriptors, no output lost"

# ---- one memory budget for the held output of every job (finding 8) ----
rm -f go
mkdir -p spill
"${P[@]}" -k -j2 --max-memory 4m --tmpdir "$T/spill" \
    "[ {} = 1 ] && { $(waitfor "$T/go"); }; printf 'J%s\\n' {}; head -c 1000000 /dev/zero; touch $T/mdone.{}" \
    ::: $(seq 40) >out.mem 2>err.mem &
PID=$!
PIDS+=("$PID")
wait_count "$T/mdone.*" 39
spilled=0
for i in $(seq 400); do   # the last job's output is taken after its marker
    spilled=$(ls -l /proc/$PID/fd 2>/dev/null | grep -c "$T/spill/.*(deleted)") || true
    [ "$spilled" -ge 34 ] && break
    sleep 0.05
done
[ "$spilled" -ge 34 ] || fail "max-memory: $spilled jobs spilled to files (want >= 34 of 39 MB past 4 MiB)"
touch go
wait_exit "$PID" 60
[ "$RC" = 0 ] || fail "max-memory: exit $RC: $(cat err.mem)"
[ "$(tr -d '\0' <out.mem | tr '\n' ' ')" = "$(seq -f 'J%g' 40 | tr '\n' ' ')" ] ||
    fail "max-memory: output out of order or incomplete"
[ "$(wc -c <out.mem)" = $((40 * 1000000 + 9 * 3 + 31 * 4)) ] || fail "max-memory: $(wc -c <out.mem) bytes"
pass "--keep-order backlog past --max-memory goes to temporary files ($spilled), printed whole and in order"

# ---- the jobs' shell: export -f and $PARALLEL_SHELL (finding 7) ----
out=$(bash -c 'f() { echo "f $1"; }; export -f f; "$0" pool -k f ::: 1 2' "$IPCBOX" 2>&1) ||
    fail "export -f: $out"
[ "$out" = "$(printf 'f 1\nf 2')" ] || fail "export -f: $out"
out=$(PARALLEL_SHELL=bash "${P[@]}" 'echo ${BASH_VERSION:+bash} {}' ::: x) || fail "PARALLEL_SHELL: $?"
[ "$out" = "bash x" ] || fail "PARALLEL_SHELL=bash: $out"
rc=0
PARALLEL_SHELL=/nonexistent/sh "${P[@]}" 'echo {}' ::: x >/dev/null 2>err.psh || rc=$?
[ $rc = 255 ] && grep -q PARALLEL_SHELL err.psh || fail "bad PARALLEL_SHELL: $rc $(cat err.psh)"
pass "jobs see exported bash functions; \$PARALLEL_SHELL picks the shell"

# ---- --resume with a job log whose last record was cut (finding 10) ----
"${P[@]}" --joblog log.cut 'echo {}' ::: a b >/dev/null || fail "joblog: first run"
printf '3\t:\t17' >>log.cut
out=$("${P[@]}" -k --joblog log.cut --resume 'echo {}' ::: a b c d) || fail "resume after a cut record: exit $?"
[ "$(echo $out)" = "c d" ] || fail "resume after a cut record ran: $out"
[ "$(tail -n +2 log.cut | cut -f1 | sort -n | tr "\n" " ")" = "1 2 3 4 " ] || fail "joblog after resume: $(cat log.cut)"
out=$("${P[@]}" --joblog log.cut --resume 'echo {}' ::: a b c d) || fail "second resume: exit $?"
[ -z "$out" ] || fail "second resume ran: $out"
pass "--resume: a job log's cut last record is dropped, its job runs again"
