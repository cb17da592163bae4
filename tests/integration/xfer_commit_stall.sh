# A commit that blocks on the disk stalls nobody else: recv fsyncs and
# renames a verified file off its event loop, and answers "ok" only once
# the file is durable under its name. The disk is made to block for as
# long as the test wants by freezing a small ext4 file system (fsfreeze)
# mounted inside the served directory: the commit of a file there waits
# until the thaw, while clients of the same loop keep being served. A
# SIGTERM meanwhile waits for the commit; nothing incomplete ever appears
# under a final name.
. "$(dirname "$0")/../lib.sh"

PEER="$TOOLS/xferpeer"
[ -x "$PEER" ] || fail "missing $PEER"
mkdir -p "$T/src"
frozen_fs_mount "$T/root/frz" "$T/fs.img" 64M

mkrand "$T/src/a.bin" 3000000
mkrand "$T/src/b.bin" 2000000

# 1. one client's commit blocks on the disk; another client of the same
#    loop sends a file, lists, and fetches meanwhile
start_recv "$T/root" --log-level debug
peer_paused a frz/a.bin "$T/src/a.bin" end
wait_size "$MNT/.a.bin.ibxpart" 3000000 20
freeze
peer_go a
wait_log "frz/a.bin verified; committing"
"$IPCBOX" send --timeout 20 "$T/src/b.bin" 127.0.0.1:"$RPORT" 2>"$T/b.err" \
    || { cat "$T/b.err" "$RLOG"; fail "a second client stalled behind a blocked commit"; }
cmp -s "$T/src/b.bin" "$T/root/b.bin" || fail "b.bin differs"
"$IPCBOX" get --timeout 20 127.0.0.1:"$RPORT" b.bin -o "$T/dl" 2>"$T/g.err" \
    || { cat "$T/g.err"; fail "get stalled behind a blocked commit"; }
cmp -s "$T/src/b.bin" "$T/dl/b.bin" || fail "fetched b.bin differs"
[ ! -e "$MNT/a.bin" ] || fail "a.bin appeared before its commit could finish"
grep -q "^ack" "$T/a.out" && fail "a.bin answered before its commit finished"
thaw
wait_exit "$UPID" 30
[ "$RC" = 0 ] || { cat "$T/a.out" "$RLOG"; fail "a.bin upload: exit $RC"; }
grep -q "^ack 0 stored frz/a.bin" "$T/a.out" || { cat "$T/a.out"; fail "a.bin answer"; }
cmp -s "$T/src/a.bin" "$MNT/a.bin" || fail "a.bin differs after the thaw"
[ ! -e "$MNT/.a.bin.ibxpart" ] || fail "part file left after the commit"
stop_recv
pass "a commit blocked on the disk: other clients served meanwhile, ok only after the thaw"

# 2. SIGTERM while a commit is blocked: the server waits for it, the
#    client gets its ok, and only complete files exist, in every model
for model in $(server_models iterative coroutine); do   # coroutine: recv has no coroutine handler
    extra=()
    case $model in threadpool|reuseport|prefork) extra=(--workers 2) ;; esac
    rm -f "$MNT/a.bin"
    start_recv "$T/root" --log-level debug --model $model "${extra[@]}" --grace 120
    peer_paused a frz/a.bin "$T/src/a.bin" end
    wait_size "$MNT/.a.bin.ibxpart" 3000000 20
    freeze
    peer_go a
    wait_log "frz/a.bin verified; committing"
    kill -TERM "$RPID"
    wait_log "shutting down"
    [ ! -e "$MNT/a.bin" ] || fail "$model: a.bin appeared while its commit was blocked"
    thaw
    wait_exit "$UPID" 30
    [ "$RC" = 0 ] || { cat "$T/a.out" "$RLOG"; fail "$model: upload during shutdown: exit $RC"; }
    wait_exit "$RPID" 30
    [ "$RC" = 0 ] || { cat "$RLOG"; fail "$model: recv exit $RC after SIGTERM"; }
    no_sanitizer_report "$RLOG"
    cmp -s "$T/src/a.bin" "$MNT/a.bin" || fail "$model: a.bin differs"
    ls -A "$MNT" | grep -q ibxpart && fail "$model: part file left"
done
pass "SIGTERM during a blocked commit: the server waits, ok, complete file (every model but iterative)"

# 3. two SIGTERMs (abort) while a commit is blocked: the connection is
#    dropped, but the verified file is still committed whole before exit
rm -f "$MNT/a.bin"
start_recv "$T/root" --log-level debug
peer_paused a frz/a.bin "$T/src/a.bin" end
wait_size "$MNT/.a.bin.ibxpart" 3000000 20
freeze
peer_go a
wait_log "frz/a.bin verified; committing"
kill -TERM "$RPID"
wait_log "shutting down"
kill -TERM "$RPID"
wait_log "second signal"
wait_log "closed while frz/a.bin is committed"
[ ! -e "$MNT/a.bin" ] || fail "abort: a.bin appeared while its commit was blocked"
thaw
wait_exit "$RPID" 30
[ "$RC" = 0 ] || { cat "$RLOG"; fail "abort: recv exit $RC"; }
no_sanitizer_report "$RLOG"
grep -q "stored frz/a.bin (the client left before the answer)" "$RLOG" \
    || { cat "$RLOG"; fail "abort: no commit log line"; }
cmp -s "$T/src/a.bin" "$MNT/a.bin" || fail "abort: a.bin differs"
wait_exit "$UPID" 10
pass "abort during a blocked commit: the commit still completes, whole file"
