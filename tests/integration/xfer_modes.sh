# Permissions of received files: the sender's bits less the receiver's
# umask, never setuid, setgid or sticky; --mode forces one mode. The same
# for files that get stores locally. Checked with stat.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/src" "$T/srv"
# name:mode pairs the sender offers
MODES="a:666 b:777 c:4755 d:2775 e:1777 f:600 g:6711"
for nm in $MODES; do
    n=${nm%%:*} m=${nm#*:}
    mkrand "$T/src/$n" 1000
    chmod "$m" "$T/src/$n"
done
[ "$(stat -c %a "$T/src/c")" = 4755 ] || skip "this file system drops setuid bits"

# mode_is PATH OCTAL
mode_is() {
    local got
    got=$(stat -c %a "$1")
    [ "$got" = "$2" ] || fail "$1: mode $got, want $2"
}

# 1. recv under umask 027
( umask 027; exec "$IPCBOX" recv --dir "$T/srv" --listen 127.0.0.1:0 ) 2>"$T/r1.log" &
SPID=$!
PIDS+=("$SPID")
RLOG="$T/r1.log"
RPID=$SPID
RPORT=$(listen_port "$RLOG" "" "$SPID")
[ -n "$RPORT" ] || { cat "$RLOG"; fail "recv did not start"; }
(cd "$T/src" && "$IPCBOX" send --quiet a b c d e f g 127.0.0.1:"$RPORT") || fail "send (umask 027)"
stop_recv
mode_is "$T/srv/a" 640
mode_is "$T/srv/b" 750
mode_is "$T/srv/c" 750
mode_is "$T/srv/d" 750
mode_is "$T/srv/e" 750
mode_is "$T/srv/f" 600
mode_is "$T/srv/g" 710
pass "recv: sender's bits less umask 027, setuid/setgid/sticky stripped"

# 2. recv --mode forces one mode, whatever was sent
rm -rf "$T/srv"; mkdir "$T/srv"
start_recv "$T/srv" --mode 0604
(cd "$T/src" && "$IPCBOX" send --quiet a b c g 127.0.0.1:"$RPORT") || fail "send (--mode)"
for n in a b c g; do mode_is "$T/srv/$n" 604; done
stop_recv
pass "recv --mode 0604: every file 604"

# 3. --mode checks
for bad in 1777 4755 8 abc "" -1 0o644; do
    "$IPCBOX" recv --dir "$T/srv" --mode "$bad" 2>"$T/u.err"; rc=$?
    [ $rc = 2 ] && grep -q -- "--mode" "$T/u.err" || fail "recv --mode '$bad': exit $rc"
    "$IPCBOX" get --mode "$bad" 127.0.0.1:1 x 2>"$T/u.err"; rc=$?
    [ $rc = 2 ] && grep -q -- "--mode" "$T/u.err" || fail "get --mode '$bad': exit $rc"
done
"$IPCBOX" recv --help | grep -q -- "--mode OCTAL" || fail "recv --help lacks --mode"
"$IPCBOX" get --help | grep -q -- "--mode OCTAL" || fail "get --help lacks --mode"
pass "--mode: only octal up to 0777 (no special bits), documented"

# 4. get: the server's bits (setuid included on disk) less get's umask
rm -rf "$T/srv"; mkdir "$T/srv"
for nm in $MODES; do
    n=${nm%%:*}
    cp -p "$T/src/$n" "$T/srv/$n"
done
start_recv "$T/srv"
( umask 077; exec "$IPCBOX" get --quiet 127.0.0.1:"$RPORT" a b c g -o "$T/dl1" ) || fail "get (umask 077)"
mode_is "$T/dl1/a" 600
for n in b c g; do mode_is "$T/dl1/$n" 700; done
( umask 022; exec "$IPCBOX" get --quiet 127.0.0.1:"$RPORT" a c d e g -o "$T/dl2" ) || fail "get (umask 022)"
mode_is "$T/dl2/a" 644
mode_is "$T/dl2/c" 755
mode_is "$T/dl2/d" 755
mode_is "$T/dl2/e" 755
mode_is "$T/dl2/g" 711
"$IPCBOX" get --quiet --mode 640 127.0.0.1:"$RPORT" a b c -o "$T/dl3" || fail "get --mode"
for n in a b c; do mode_is "$T/dl3/$n" 640; done
for n in a b c; do cmp -s "$T/src/$n" "$T/dl3/$n" || fail "dl3/$n differs"; done
stop_recv
pass "get: server's bits less umask (077, 022), special bits stripped; --mode 640 forced"
