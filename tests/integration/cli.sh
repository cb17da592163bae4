# The multi-call binary: help, version, dispatch, exit codes.
. "$(dirname "$0")/../lib.sh"
"$IPCBOX" --help >"$T/help" || fail "--help exit status"
grep -q "echo" "$T/help" && grep -q "serve" "$T/help" || fail "--help lists applets"
"$IPCBOX" --version | grep -Eq '^ipcbox [0-9]+\.[0-9]+' || fail "--version"
"$IPCBOX" nosuch 2>"$T/err"; rc=$?
[ $rc = 127 ] || fail "unknown applet exit $rc, want 127"
grep -q "no such applet" "$T/err" || fail "unknown applet message"
for a in $("$IPCBOX" --list); do
    "$IPCBOX" "$a" --help >"$T/ah" 2>&1 || fail "$a --help exit status"
    grep -qi "usage" "$T/ah" || fail "$a --help has no usage line"
    "$IPCBOX" "$a" --bogus >"$T/out" 2>"$T/err"; rc=$?
    [ $rc = 2 ] || fail "$a --bogus exit $rc, want 2"
    [ "$(wc -l <"$T/err")" = 1 ] || { cat "$T/err"; fail "$a --bogus: not one line"; }
    [ ! -s "$T/out" ] || fail "$a --bogus wrote to stdout"
done
pass "every applet: --help, --bogus exits 2 with one line"
for a in $("$IPCBOX" --list); do
    "$IPCBOX" "$a" -h >"$T/h1" 2>&1 || fail "$a -h exit status"
    "$IPCBOX" "$a" --help >"$T/h2" 2>&1
    cmp -s "$T/h1" "$T/h2" || fail "$a -h differs from --help"
    v=$("$IPCBOX" "$a" --version) || fail "$a --version exit status"
    echo "$v" | grep -Eq "^ipcbox $a [0-9]+\.[0-9]+" || fail "$a --version printed '$v'"
    # the help fits an 80-column terminal
    awk 'length > 80 { exit 1 }' "$T/h2" || fail "$a --help has lines over 80 columns"
done
pass "every applet: -h, --version, help within 80 columns"
"$IPCBOX" echo --model nosuch 2>/dev/null; [ $? = 2 ] || fail "bad model"
"$IPCBOX" echo --listen 1.2.3:x 2>/dev/null; [ $? = 2 ] || fail "bad listen"
"$IPCBOX" echo --workers 0 2>/dev/null; [ $? = 2 ] || fail "bad workers"
"$IPCBOX" echo stray 2>/dev/null; [ $? = 2 ] || fail "stray argument"
# argv[0] dispatch, busybox style
ln -s "$IPCBOX" "$T/echo"
"$T/echo" --help | grep -q "RFC 862" || fail "symlink dispatch"
# a busy port is a runtime error (1) with a clear message
start_server "$T/a.log" "$IPCBOX" echo --listen 127.0.0.1:0
"$IPCBOX" echo --listen 127.0.0.1:"$PORT" 2>"$T/busy"; rc=$?
[ $rc = 1 ] || fail "busy port exit $rc"
grep -q "cannot listen" "$T/busy" || fail "busy port message"
pass "exit codes and argv[0] dispatch"
# sizes with suffixes: refused cleanly when they would overflow or are junk
timeout 5 "$IPCBOX" recv --listen 127.0.0.1:0 --max-size 20000000000g 2>/dev/null; [ $? = 2 ] || fail "recv --max-size overflow accepted"
timeout 5 "$IPCBOX" recv --listen 127.0.0.1:0 --max-size 10x 2>/dev/null; [ $? = 2 ] || fail "recv --max-size junk accepted"
"$IPCBOX" send --limit-rate 0 /etc/hostname 127.0.0.1:1 2>/dev/null; [ $? = 2 ] || fail "send --limit-rate 0 accepted"
timeout 5 "$IPCBOX" tftpd --listen 127.0.0.1:0 --max-size 99999999999999g 2>/dev/null; [ $? = 2 ] || fail "tftpd --max-size overflow accepted"
pass "size flags: suffixes, overflow and junk refused with exit 2"
