# send / recv / get end to end: files and directories, get and list,
# both hashes, unchanged no-op, --overwrite, --max-size, output format
# (a summary line off a TTY, a progress line on one), exit codes.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/srv" "$T/src/tree/deep/er" "$T/out"
mkrand "$T/src/one.bin" 3000000
mkrand "$T/src/tree/a.bin" 70000
printf 'hello\n' >"$T/src/tree/deep/er/b.txt"
: >"$T/src/tree/empty"
chmod 0751 "$T/src/tree/a.bin"
touch -d '2020-02-02 02:02:02 UTC' "$T/src/tree/deep/er/b.txt"
start_recv "$T/srv"

# a file and a directory in one run; relative paths kept
"$IPCBOX" send "$T/src/one.bin" "$T/src/tree" 127.0.0.1:"$RPORT" 2>"$T/err"
rc=$?
[ $rc = 0 ] || { cat "$T/err" "$RLOG"; fail "send exit $rc"; }
cmp -s "$T/src/one.bin" "$T/srv/one.bin" || fail "one.bin differs"
for f in a.bin deep/er/b.txt empty; do
    cmp -s "$T/src/tree/$f" "$T/srv/tree/$f" || fail "tree/$f differs"
done
[ "$(stat -c %a "$T/srv/tree/a.bin")" = 751 ] || fail "mode not kept"
[ "$(stat -c %Y "$T/srv/tree/deep/er/b.txt")" = "$(stat -c %Y "$T/src/tree/deep/er/b.txt")" ] \
    || fail "mtime not kept"
# off a TTY: no redraws; the summary line last (progress lines, if the
# run took long enough for one, are plain "send: ..." lines)
! grep -q $'\r' "$T/err" || { cat -A "$T/err"; fail "carriage return off a TTY"; }
[ "$(grep -vc '^send: ' "$T/err")" = 0 ] || { cat "$T/err"; fail "unexpected line"; }
tail -n1 "$T/err" | grep -q "^send: 4 files: 4 ok" || { cat "$T/err"; fail "summary"; }
[ -z "$(find "$T/srv" -name '*.ibxpart')" ] || fail "temporary file left behind"
grep -q "stored tree/a.bin" "$RLOG" || fail "recv log line"
pass "send file + directory: identical, mode and mtime kept, summary line"

# the same again: a quick no-op, nothing moves
before=$(stat -c %i "$T/srv/one.bin")
"$IPCBOX" send "$T/src/one.bin" 127.0.0.1:"$RPORT" 2>"$T/err" || fail "resend exit"
grep -q "1 unchanged" "$T/err" && grep -q "0 B in" "$T/err" || { cat "$T/err"; fail "not unchanged"; }
[ "$(stat -c %i "$T/srv/one.bin")" = "$before" ] || fail "unchanged file was rewritten"
pass "same content again: unchanged no-op, file untouched"

# different content, same size and different size: refused without --overwrite
cp "$T/src/one.bin" "$T/keep.bin"
flip_byte "$T/src/one.bin" 1000
"$IPCBOX" send "$T/src/one.bin" 127.0.0.1:"$RPORT" 2>"$T/err"; rc=$?
[ $rc = 3 ] || { cat "$T/err"; fail "same-size different content: exit $rc, want 3"; }
grep -q "overwrite" "$T/err" || fail "refusal does not mention --overwrite"
grep -q "^send: one.bin: one.bin exists at the receiver" "$T/err" || { cat "$T/err"; fail "refusal line"; }
cmp -s "$T/keep.bin" "$T/srv/one.bin" || fail "file replaced without --overwrite"
printf 'tail' >>"$T/src/tree/a.bin"
"$IPCBOX" send "$T/src/tree" 127.0.0.1:"$RPORT" 2>"$T/err"; rc=$?
[ $rc = 3 ] || { cat "$T/err"; fail "different size: exit $rc, want 3"; }
grep -q "tree/a.bin: .*exists" "$T/err" || { cat "$T/err"; fail "refusal reason"; }
grep -q "2 unchanged" "$T/err" || { cat "$T/err"; fail "the other files were not unchanged"; }
"$IPCBOX" send --overwrite "$T/src/one.bin" "$T/src/tree" 127.0.0.1:"$RPORT" 2>"$T/err" \
    || { cat "$T/err"; fail "--overwrite exit"; }
cmp -s "$T/src/one.bin" "$T/srv/one.bin" || fail "--overwrite did not replace one.bin"
cmp -s "$T/src/tree/a.bin" "$T/srv/tree/a.bin" || fail "--overwrite did not replace tree/a.bin"
pass "--overwrite: refused (exit 3) without it, replaced with it"

# sha256
"$IPCBOX" send --hash sha256 "$T/src/tree" 127.0.0.1:"$RPORT" 2>"$T/err" \
    || { cat "$T/err"; fail "sha256 resend"; }
grep -q "3 unchanged" "$T/err" || { cat "$T/err"; fail "sha256 unchanged count"; }
mkdir -p "$T/src2"
mkrand "$T/src2/s.bin" 500000
"$IPCBOX" send --hash sha256 "$T/src2/" 127.0.0.1:"$RPORT" 2>"$T/err" || fail "sha256 send"
cmp -s "$T/src2/s.bin" "$T/srv/s.bin" || fail "sha256: contents of DIR/ not at the top"
grep -q "s.bin.*sha256 verified" "$RLOG" || fail "sha256 not used"
pass "--hash sha256, DIR/ sends the contents"

# get and list
"$IPCBOX" get 127.0.0.1:"$RPORT" --list >"$T/list" || fail "list exit"
grep -q "  tree/deep/er/b.txt$" "$T/list" || { cat "$T/list"; fail "list misses a nested file"; }
[ "$(grep -c . "$T/list")" = "$(find "$T/srv" -type f | grep -c .)" ] || fail "list count"
"$IPCBOX" get 127.0.0.1:"$RPORT" one.bin tree/deep/er/b.txt -o "$T/out" 2>"$T/err" \
    || { cat "$T/err"; fail "get exit"; }
cmp -s "$T/srv/one.bin" "$T/out/one.bin" || fail "get one.bin"
cmp -s "$T/srv/tree/deep/er/b.txt" "$T/out/tree/deep/er/b.txt" || fail "get nested"
"$IPCBOX" get --hash sha256 127.0.0.1:"$RPORT" one.bin -o "$T/out" 2>"$T/err" || fail "get again"
grep -q "1 unchanged" "$T/err" || fail "get again: not unchanged"
flip_byte "$T/out/one.bin" 5
"$IPCBOX" get 127.0.0.1:"$RPORT" one.bin -o "$T/out" 2>"$T/err"; rc=$?
[ $rc = 3 ] || fail "get over a different local file: exit $rc, want 3"
"$IPCBOX" get --overwrite 127.0.0.1:"$RPORT" one.bin -o "$T/out" 2>"$T/err" || fail "get --overwrite"
cmp -s "$T/srv/one.bin" "$T/out/one.bin" || fail "get --overwrite content"
"$IPCBOX" get 127.0.0.1:"$RPORT" nosuch -o "$T/out" 2>"$T/err"; rc=$?
[ $rc = 3 ] && grep -q "not found" "$T/err" || fail "get missing: exit $rc"
grep -q "^get: nosuch: refused by server: " "$T/err" || { cat "$T/err"; fail "get refusal line"; }
pass "get, get --overwrite, get --list, not found (exit 3)"

# symlinks inside a directory are not followed (a warning, not an error)
mkdir -p "$T/src/withlink"
echo data >"$T/src/withlink/real"
ln -s /etc/passwd "$T/src/withlink/link"
"$IPCBOX" send "$T/src/withlink" 127.0.0.1:"$RPORT" 2>"$T/err" || { cat "$T/err"; fail "send dir with symlink"; }
grep -q "withlink/link: symlink, skipped" "$T/err" || { cat "$T/err"; fail "no symlink warning"; }
[ -f "$T/srv/withlink/real" ] && [ ! -e "$T/srv/withlink/link" ] || fail "symlink followed"
pass "symlinks in directories are skipped with a warning"

# progress on a terminal (script gives the client a pty; progress_tty.sh
# checks widths and redraws)
mkrand "$T/src/p.bin" 4000000
script -qec "$IPCBOX send --limit-rate 8m $T/src/p.bin 127.0.0.1:$RPORT" /dev/null >"$T/tty" 2>&1 \
    || { cat "$T/tty"; fail "send on a tty"; }
grep -q "ETA" "$T/tty" && grep -q "/s" "$T/tty" && grep -q "p.bin" "$T/tty" \
    || { cat "$T/tty"; fail "no progress bar on a tty"; }
grep -q "send: 1 file: 1 ok" "$T/tty" || { cat "$T/tty"; fail "no summary on a tty"; }
pass "progress line (bytes, rate, ETA) on a TTY, then the summary"
stop_recv

# --max-size on the receiver
mkdir -p "$T/small"
start_recv "$T/small" --max-size 1k
printf '%1024s' x >"$T/src/ok1k"
mkrand "$T/src/big2k" 2048
"$IPCBOX" send "$T/src/ok1k" "$T/src/big2k" 127.0.0.1:"$RPORT" 2>"$T/err"; rc=$?
[ $rc = 3 ] || { cat "$T/err"; fail "--max-size: exit $rc, want 3"; }
grep -q "big2k: .*too big" "$T/err" || { cat "$T/err"; fail "--max-size message"; }
[ -f "$T/small/ok1k" ] || fail "file at the limit refused"
[ -z "$(ls -A "$T/small" | grep -v '^ok1k$')" ] || fail "something of the big file was written"
stop_recv
pass "--max-size refuses larger files (exit 3), nothing written"

# usage errors and connection errors
"$IPCBOX" send 2>/dev/null; [ $? = 2 ] || fail "send without args"
"$IPCBOX" send --hash md5 x y 2>/dev/null; [ $? = 2 ] || fail "send --hash md5"
"$IPCBOX" get 2>/dev/null; [ $? = 2 ] || fail "get without args"
"$IPCBOX" send "$T/src/ok1k" 127.0.0.1:"$RPORT" 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "send to a closed port: exit $rc, want 1"
grep -q "connect" "$T/err" || fail "connection error message"
pass "exit codes: usage 2, connection 1"
