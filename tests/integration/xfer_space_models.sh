# recv's free-space check counts what uploads in progress may still write
# under every server model, also those that serve connections in separate
# processes (fork, prefork): with one 5 MiB upload paused after its
# confirm on an 8 MiB tmpfs, a second 5 MiB offer is refused, whichever
# process takes it. The old count lived in each process's own copy of the
# configuration, so under fork (and prefork, when another worker took the
# connection) the second offer was accepted and the disk ran full.
. "$(dirname "$0")/../lib.sh"
private_mount_ns "$@"
[ -x "$TOOLS/xferpeer" ] || fail "missing xferpeer"
S="$T/srv"   # an 8 MiB tmpfs
mkdir -p "$T/src"
mount_tmpfs "$S" 8m

mkrand "$T/src/five.bin" $((5 << 20))

# An existing file of the offered size needs no room while the offer may
# find it unchanged, but replacing it (--overwrite, other content) writes
# a whole new file beside it: refused at the confirm when that does not
# fit, before a byte is written. The old code promised 0 bytes for it and
# ran into ENOSPC (or ate the --min-free reserve).
start_recv "$S"
cp "$T/src/five.bin" "$S/x.bin"
mkrand "$T/src/x.bin" $((5 << 20))
"$IPCBOX" send --quiet --overwrite "$T/src/x.bin" 127.0.0.1:"$RPORT" 2>"$T/send.err"; rc=$?
[ $rc = 3 ] || { cat "$T/send.err"; fail "replacing 5 MiB with 3 MiB free: exit $rc, want 3"; }
grep -q "x.bin: .*5.0 MiB do not fit" "$T/send.err" || { cat "$T/send.err"; fail "reason"; }
cmp -s "$T/src/five.bin" "$S/x.bin" || fail "the existing x.bin was changed"
[ -z "$(find "$S" -name '.*.ibxpart')" ] || fail "a part file was left"
# the same file is still found unchanged, with no room needed
cp "$T/src/five.bin" "$T/src/x.bin"
"$IPCBOX" send --quiet --overwrite "$T/src/x.bin" 127.0.0.1:"$RPORT" ||
    fail "an unchanged 5 MiB file was refused"
rm -f "$S/x.bin"
stop_recv
pass "replacing an existing file counts its new copy against the free space"

for m in fork prefork epoll threadpool; do
    start_recv "$S" --model "$m" --workers 4
    peer_paused "one$m" "one.bin" "$T/src/five.bin" confirm
    P1=$UPID
    # prefork: four workers share the listener; five tries reach others
    for i in 1 2 3 4 5; do
        out=$("$TOOLS/xferpeer" upload 127.0.0.1:"$RPORT" "two$i.bin" "$T/src/five.bin") &&
            fail "$m: a second 5 MiB upload was accepted beside one in progress"
        echo "$out" | grep -q "^ack 18 .*promised to uploads in progress" ||
            fail "$m: second offer: $out"
    done
    peer_go "one$m"
    wait_exit "$P1" 30; [ "$RC" = 0 ] || { cat "$T/one$m.out"; fail "$m: first upload: exit $RC"; }
    cmp -s "$T/src/five.bin" "$S/one.bin" || fail "$m: one.bin differs"
    rm -f "$S/one.bin"
    # the promise was given back: the same offer fits now
    "$TOOLS/xferpeer" upload 127.0.0.1:"$RPORT" again.bin "$T/src/five.bin" >"$T/again.out" 2>&1 ||
        { cat "$T/again.out"; fail "$m: 5 MiB refused after the first upload ended"; }
    rm -f "$S/again.bin"
    stop_recv
    pass "$m: an offer beside an upload in progress in any process is refused"
done
