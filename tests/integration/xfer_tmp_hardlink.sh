# The receiver's temporary file ".NAME.ibxpart" is opened by name. If
# someone with write access to the directory plants it as a hard link to
# another file (here one outside the directory), recv must not chmod,
# truncate or write that file through it: the offer is refused and the
# other file keeps its content and mode. (Symlinks there were already
# refused with O_NOFOLLOW.)
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/srv" "$T/outside" "$T/src"
printf 'precious content that must survive\n' >"$T/outside/victim"
chmod 0644 "$T/outside/victim"
cp "$T/outside/victim" "$T/victim.orig"
ln "$T/outside/victim" "$T/srv/.f.bin.ibxpart" ||
    skip "cannot create a hard link in $T"
mkrand "$T/src/f.bin" 4096      # larger than the victim: resume from its length
start_recv "$T/srv"

rc=0
(cd "$T/src" && "$IPCBOX" send --quiet f.bin "127.0.0.1:$RPORT") 2>"$T/send.err" || rc=$?
cmp -s "$T/outside/victim" "$T/victim.orig" ||
    fail "a file outside the directory was changed through a planted hard link"
[ "$(stat -c %a "$T/outside/victim")" = 644 ] ||
    fail "the mode of a file outside the directory was changed ($(stat -c %a "$T/outside/victim"))"
[ "$rc" = 3 ] || { cat "$T/send.err"; fail "send: want exit 3 (refused), got $rc"; }
[ ! -e "$T/srv/f.bin" ] || fail "f.bin was committed through the planted link"
grep -q "hard links" "$T/send.err" || { cat "$T/send.err"; fail "no clear reason for the refusal"; }
pass "a hard-linked temporary file is refused; the linked file is untouched"

# once the planted link is gone, the same send works
rm -f "$T/srv/.f.bin.ibxpart"
(cd "$T/src" && "$IPCBOX" send --quiet f.bin "127.0.0.1:$RPORT") || fail "send after removing the link"
cmp -s "$T/src/f.bin" "$T/srv/f.bin" || fail "f.bin differs"
stop_recv
pass "normal transfer afterwards"
