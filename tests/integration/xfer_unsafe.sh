# Safety: a peer speaking raw frames offers (and asks for) every kind of
# unsafe name: "..", absolute paths, NUL and control characters, the
# reserved temporary-file form, and names that lead outside the directory
# through symlinks. Each is refused with ACK "bad name" (code 16) or
# "not regular" (23) and nothing is written outside the directory.
# Oversized frames end the session with ERROR "frame size" (27).
. "$(dirname "$0")/../lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "python3 is needed to craft raw frames"

mkdir -p "$T/srv/sub" "$T/outside"
echo secret >"$T/outside/secret.txt"
ln -s "$T/outside" "$T/srv/escape"          # directory symlink leaving DIR
ln -s "$T/outside/secret.txt" "$T/srv/leak" # file symlink leaving DIR
ln -s sub "$T/srv/inside"                   # symlink that stays inside: fine
echo ok >"$T/srv/sub/fine.txt"
start_recv "$T/srv"

touch "$T/stamp"   # files in $T/srv newer than this were written by the test
# raw MODE NAME [HEXSUFFIX] : one exchange of tests/tools/xfer_raw_name.py
# (answer "TYPE CODE"); the name is NAME's bytes + HEXSUFFIX
raw() { "$PY" "$PYTOOLS/xfer_raw_name.py" "$1" "$RPORT" "$(printf '%s' "$2" | od -An -tx1 | tr -d ' \n')${3:-}"; }

check_refused() {   # MODE NAME HEXSUFFIX WANTCODE
    local out
    out=$(raw "$1" "$2" "$3") || fail "raw client failed for '$2'"
    case "$out" in
        "6 $4 "*) ;;
        *) fail "$1 '$2$3': got '$out', want ACK code $4" ;;
    esac
}

for n in "../x" "../../etc/passwd" "sub/../../x" "a/../b" ".." "." "./a" \
         "/abs/path" "/etc/passwd" "a//b" "sub/" "" ".x.ibxpart" "sub/.y.ibxpart"; do
    check_refused offer "$n" "" 16
    check_refused get "$n" "" 16
done
pass "'..', '.', absolute, empty components, reserved names: refused (offer and get)"

# NUL and control characters (the name is passed in hex)
check_refused offer "a" "0062" 16        # "a\0b"
check_refused offer "a" "0a62" 16        # "a\nb"
check_refused offer "" "1b5b33316d" 16   # ESC [31m
check_refused offer "x" "7f" 16          # DEL
check_refused get "a" "0062" 16
check_refused get "" "09" 16
pass "NUL and control characters: refused"

# symlinks leading out of DIR
check_refused offer "escape/new.txt" "" 16
check_refused offer "escape/secret.txt" "" 16
check_refused offer "leak" "" 16
check_refused get "escape/secret.txt" "" 16
check_refused get "leak" "" 16
# a symlink that stays inside is followed for directories, and a final
# symlink is never replaced
out=$(raw get "inside/fine.txt") || fail "raw get"
case "$out" in "2 "*) ;; *) fail "get through an inside symlink: '$out'";; esac
check_refused offer "inside" "" 23
pass "symlinks: escapes refused, inside symlinks usable, never replaced"

[ "$(ls -A "$T/outside")" = secret.txt ] || fail "something was written outside DIR"
[ "$(cat "$T/outside/secret.txt")" = secret ] || fail "outside file changed"
[ -z "$(find "$T/srv" -newer "$T/stamp" -type f)" ] || { find "$T/srv" -newer "$T/stamp"; fail "files written for refused names"; }
pass "nothing written outside DIR (or inside, for refused names)"

# frame limits and malformed headers end the session with ERROR
out=$(raw bigctrl x); case "$out" in "9 27 "*) ;; *) fail "control frame > 8192: '$out'";; esac
out=$(raw bigdata x); case "$out" in "9 27 "*) ;; *) fail "DATA > announced max: '$out'";; esac
out=$(raw badhdr x); case "$out" in "9 24 "*) ;; *) fail "nonzero flags: '$out'";; esac
grep -q "frame too big" "$RLOG" || fail "recv log does not name the oversized frame"
pass "oversized frames (ERROR 27) and bad headers (ERROR 24) end the session"

# garbage: random bytes after a valid HELLO, and without one; the server
# answers with an ERROR or closes, and keeps serving everybody else
head -c 65536 /dev/urandom >"$T/junk"
for i in 1 2 3; do
    { printf '\x01\x00\x00\x00\x00\x00\x00\x0cIBXF\x00\x01\x00\x00\x00\x10\x00\x00'; cat "$T/junk"; } |
        timeout 10 nc -q 1 127.0.0.1 "$RPORT" >/dev/null 2>&1
    timeout 10 nc -q 1 127.0.0.1 "$RPORT" <"$T/junk" >/dev/null 2>&1
done
kill -0 "$RPID" || fail "recv died on garbage"
echo fine >"$T/fine.txt"
"$IPCBOX" send "$T/fine.txt" 127.0.0.1:"$RPORT" 2>"$T/err" || { cat "$T/err"; fail "send after garbage"; }
pass "random bytes: refused, recv keeps serving"

# the client side: get never writes outside -o DIR either
"$IPCBOX" get 127.0.0.1:"$RPORT" ../x -o "$T/out" 2>"$T/err"; rc=$?
[ $rc = 3 ] && grep -q "unsafe name" "$T/err" || fail "get ../x: exit $rc"
"$IPCBOX" get 127.0.0.1:"$RPORT" /etc/passwd -o "$T/out" 2>"$T/err"; rc=$?
[ $rc = 3 ] || fail "get /etc/passwd: exit $rc"
mkdir -p "$T/out2"
ln -s "$T/outside" "$T/out2/escape"
"$IPCBOX" get 127.0.0.1:"$RPORT" sub/fine.txt -o "$T/out2" 2>/dev/null || fail "plain get"
mkdir -p "$T/srv/escape2" && echo x >"$T/srv/escape2/f"
ln -s "$T/outside" "$T/out2/escape2"
"$IPCBOX" get 127.0.0.1:"$RPORT" escape2/f -o "$T/out2" 2>"$T/err"; rc=$?
[ $rc = 3 ] && grep -q "outside" "$T/err" || { cat "$T/err"; fail "get through a local escaping symlink: exit $rc"; }
[ "$(ls -A "$T/outside")" = secret.txt ] || fail "get wrote outside -o DIR"
pass "get: unsafe names and local escaping symlinks refused (exit 3)"
stop_recv

# a hostile server: it names another path in its OFFER (get stores under
# the name it asked for, nowhere else), or sends an oversized frame (get
# stops with a protocol error, exit 5)
mkdir -p "$T/evilout"
"$PY" "$PYTOOLS/xfer_evil_server.py" offer >"$T/evil.out" &
PIDS+=($!)
for i in $(seq 400); do [ -s "$T/evil.out" ] && break; sleep 0.05; done
EP=$(head -1 "$T/evil.out")
"$IPCBOX" get --hash sha256 127.0.0.1:"$EP" asked.txt -o "$T/evilout" 2>"$T/err" || { cat "$T/err"; fail "get from the hostile server"; }
[ "$(cat "$T/evilout/asked.txt")" = pwned ] || fail "not stored under the asked name"
[ ! -e "$T/evil.txt" ] && [ ! -e "$T/../evil.txt" ] || fail "stored where the server said"
"$PY" "$PYTOOLS/xfer_evil_server.py" big >"$T/evil2.out" &
PIDS+=($!)
for i in $(seq 400); do [ -s "$T/evil2.out" ] && break; sleep 0.05; done
EP=$(head -1 "$T/evil2.out")
"$IPCBOX" get 127.0.0.1:"$EP" x -o "$T/evilout" 2>"$T/err"; rc=$?
[ $rc = 5 ] && grep -q "protocol error" "$T/err" || { cat "$T/err"; fail "oversized frame from a server: exit $rc, want 5"; }
pass "hostile server: its path is ignored, an oversized frame is a protocol error (exit 5)"
