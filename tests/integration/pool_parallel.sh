# ipcbox pool against GNU parallel itself: the same arguments to both, the
# same standard output (sorted where parallel does not define the order),
# the same exit status and the same job log columns (all but Starttime
# and JobRuntime), for each compatible feature: replacement strings,
# quoting, :::, ::::, -a, stdin lines, -0, cross products, -k, --tag,
# --timeout, --retries, --halt, --joblog, --resume, --resume-failed and
# the exit statuses (failed jobs, > 101 failures, signals, missing
# commands). Jobs are short; nothing waits on time except --timeout,
# whose jobs would sleep far longer than the timeout.
. "$(dirname "$0")/../lib.sh"
need parallel
cd "$T" || fail "no $T"
# parallel runs jobs with the shell it was started from (bash here), pool
# with /bin/sh: the commands below mean the same in both

# same NAME [sort] -- ARGS... : run both with ARGS (and stdin from
# $T/stdin when it exists); stdout and exit status must match
same() {
    local name=$1 sorted=0
    shift
    [ "$1" = sort ] && { sorted=1; shift; }
    [ "$1" = -- ] && shift
    local in=/dev/null
    [ -e "$T/stdin" ] && in="$T/stdin"
    local prc=0 irc=0
    (cd "$T/p" && parallel --will-cite "$@" <"$in" >"$T/$name.p" 2>"$T/$name.p.err") || prc=$?
    (cd "$T/i" && "$IPCBOX" pool "$@" <"$in" >"$T/$name.i" 2>"$T/$name.i.err") || irc=$?
    if [ $sorted = 1 ]; then
        sort -o "$T/$name.p" "$T/$name.p"
        sort -o "$T/$name.i" "$T/$name.i"
    fi
    if ! cmp -s "$T/$name.p" "$T/$name.i"; then
        diff "$T/$name.p" "$T/$name.i" | head -20 >&2
        cat "$T/$name.i.err" >&2
        fail "$name: output differs from parallel's (< parallel, > pool)"
    fi
    [ "$prc" = "$irc" ] || { cat "$T/$name.i.err" >&2;
                             fail "$name: exit $irc, parallel $prc"; }
    pass "$name (exit $irc)"
}

# same_log NAME : the job logs of the last run (p/log, i/log), sorted by
# Seq, agree in every column but the times
same_log() {
    local f
    for f in p i; do
        { head -n1 "$T/$f/log"; tail -n +2 "$T/$f/log" | sort -n; } |
            awk -F'\t' -v OFS='\t' '{ if (NR > 1) { $3 = "T"; $4 = "R" } print }' >"$T/$1.log.$f"
    done
    if ! cmp -s "$T/$1.log.p" "$T/$1.log.i"; then
        diff "$T/$1.log.p" "$T/$1.log.i" >&2
        fail "$1: job log differs from parallel's"
    fi
    pass "$1: job log"
}

mkdir -p p i

# ---- replacement strings and quoting ----
same repl -- -k echo {} {.} {/} {//} {/.} {#} ::: dir/sub/file.tar.gz file.c ./x .bashrc a/ / 'sp ace/x y.z'
same slot -- -j1 echo {%} {#} ::: a b c
same append -- -k echo pre ::: a 'b c'
same positional -- -k echo {2}-{1} {2.} {1/} ::: a/x.c b ::: 1.txt 2
same quoting -- -k printf '[%s]\n' ::: 'a b' "it's" '$HOME' '*' '' 'a;b' '"q"' '\x'
same glued -- -k echo x{}y ::: 'a b' c
same shell -- -k 'echo {} | tr a-z A-Z; echo $((1+2))' ::: abc def
same raw -- -k ::: 'echo one' 'echo two; echo three'
same missing -- echo {3} ::: a

# ---- sources ----
printf 'l1\nl 2\n\nl4\n' >p/args
cp p/args i/args
same file -- -k echo :::: args
same argfile -- -k -a args echo
same file_cross -- -k echo {1}:{2} :::: args ::: x y
printf 's1\ns 2\n' >stdin
same stdin -- -k echo
printf 'n1\0n 2\nstill n2\0' >stdin
same null -- -k -0 echo
rm -f stdin
same cross sort -- echo ::: a b c ::: 1 2 ::: x y
same cross_k -- -k echo ::: a b c ::: 1 2 ::: x y

# ---- output ----
same group sort -- -j4 'echo {} out; echo {} err >&2' ::: 1 2 3 4 5 6
same keep_order -- -j3 -k 'sleep 0.{}; echo {}' ::: 3 1 2
same tag -- -k --tag 'echo x; echo y' ::: a b ::: 1
same many sort -- -j8 echo ::: $(seq 300)

# ---- exit statuses ----
same ok -- true ::: 1 2
same three_fail -- 'exit {}' ::: 0 1 2 3 0
same over_101 -- false ::: $(seq 150)
same exactly_101 -- false ::: $(seq 101)
same exactly_100 -- false ::: $(seq 100)
same signal -- --joblog log 'kill -9 $$' ::: a
same_log signal
same notfound -- --joblog log nonexistent-command-xyz ::: a
same_log notfound

# ---- --joblog ----
same joblog -- -k --joblog log 'echo {}; exit {}' ::: 0 1 2 0
same_log joblog
same joblog_q -- -k --joblog log echo ::: "it's" 'a b'
same_log joblog_q

# ---- --timeout ----
# (5 s: the job "sleep 0" must end within it on a loaded machine too,
# under both; "sleep 30" is killed either way)
same timeout -- --joblog log --timeout 5 'sleep {}' ::: 0 30
same_log timeout

# ---- --retries (a counter file per job: the attempts are counted) ----
same retries -- -k --joblog log --retries 3 'echo try >>c{}; echo {}; exit 1' ::: a b
same_log retries
cmp -s p/ca i/ca && [ "$(wc -l <i/ca)" = 3 ] || fail "retries: $(wc -l <i/ca) attempts, parallel $(wc -l <p/ca)"
pass "retries: 3 attempts"
rm -f p/c* i/c*
same retries_ok -- -k --joblog log --retries 3 'echo try >>c{}; [ $(wc -l <c{}) = 2 ]' ::: a
same_log retries_ok

# ---- --halt ----
same halt_now_fail1 -- -j1 --halt now,fail=1 'echo {}; exit {}' ::: 0 3 4
same halt_soon_fail2 -- -j1 --halt soon,fail=2 'echo {}; exit {}' ::: 0 3 4 5 0
same halt_now_succ -- -j1 --halt now,success=1 'echo {}; exit {}' ::: 3 0 4
same halt_pct_now -- -j1 --halt now,fail=30% 'exit {}' ::: 0 0 0 0 3 0 4 5 6
same halt_pct_soon -- -j1 --halt soon,fail=30% 'exit {}' ::: 0 0 0 3 0 4 5 6
same halt_succ_pct -- -j1 --halt soon,success=50% 'exit {}' ::: 1 0 0 4 4
same halt_done -- -j1 --halt now,done=2 'echo {}; exit {}' ::: 3 0 4
same halt_never_hit -- -j1 --halt soon,fail=5 'exit {}' ::: 1 2 0
same halt_short -- -j1 --halt 2 'echo {}; exit {}' ::: 0 7 0

# ---- --resume / --resume-failed ----
rm -f p/log i/log
same resume1 -- -k --joblog log 'echo {}; exit {}' ::: 0 1 0
same resume2 -- -k --joblog log --resume 'echo {}; exit {}' ::: 0 1 0 2 0
same_log resume2
same resume_failed -- -k --joblog log --resume-failed 'echo {}; exit {}' ::: 0 1 0 2 0 0
same_log resume_failed
