# Authentication of send/get/recv with a shared token (--token-file):
# the right token works both ways; no token, a wrong token, a replayed
# proof and an impostor server are refused with a clear message, exit 6,
# and nothing written or created; recv will not listen on a non-loopback
# address without a token unless --allow-anonymous (exit 2, also under
# serve); anonymous loopback use is unchanged.
. "$(dirname "$0")/../lib.sh"

PEER="$TOOLS/xferpeer"
[ -x "$PEER" ] || fail "missing $PEER"
mkdir -p "$T/in" "$T/src/dir/sub"
head -c 32 /dev/urandom | base64 >"$T/tok"
head -c 32 /dev/urandom | base64 >"$T/bad"
chmod 600 "$T/tok" "$T/bad"
mkrand "$T/src/dir/sub/a.bin" 300000
printf 'hello\n' >"$T/src/b.txt"

# 1. token files that are refused before anything connects (exit 2)
printf 'short\n' >"$T/short"; : >"$T/empty"; printf 'abcdefghijklmnopqrstuvwxyz\n\n' >"$T/twolines"
cp "$T/tok" "$T/public"
chmod 600 "$T/short" "$T/empty" "$T/twolines"; chmod 644 "$T/public"
for f in short:"too short" empty:"empty" twolines:"one line" public:"chmod 600" nosuch:"No such file"; do
    name=${f%%:*} msg=${f#*:}
    for app in "recv --dir $T/in" "send $T/src/b.txt 127.0.0.1:1" "get 127.0.0.1:1 --list"; do
        $IPCBOX $app --token-file "$T/$name" >/dev/null 2>"$T/u.err"; rc=$?
        [ $rc = 2 ] && grep -q -- "$msg" "$T/u.err" && [ "$(wc -l <"$T/u.err")" = 1 ] \
            || { cat "$T/u.err"; fail "${app%% *} --token-file $name: exit $rc, want 2 and '$msg'"; }
    done
done
for app in recv send get; do
    "$IPCBOX" $app --help | grep -q -- "--token-file FILE" || fail "$app --help lacks --token-file"
    "$IPCBOX" $app --help | grep -q -- "--allow-anonymous" || fail "$app --help lacks --allow-anonymous"
done
pass "bad token files (short, empty, two lines, world-readable, missing): exit 2, one line"

# 2. no public listener without a token
for a in 0.0.0.0:0 '[::]:0'; do
    "$IPCBOX" recv --dir "$T/in" --listen "$a" >/dev/null 2>"$T/p.err"; rc=$?
    [ $rc = 2 ] && grep -q "refusing to listen on .* without authentication" "$T/p.err" \
        && [ "$(wc -l <"$T/p.err")" = 1 ] || { cat "$T/p.err"; fail "recv --listen $a without token: exit $rc, want 2"; }
done
start_recv "$T/in" --listen 0.0.0.0:0 --allow-anonymous
grep -q "listening on 0.0.0.0:" "$RLOG" || fail "--allow-anonymous did not listen on 0.0.0.0"
stop_recv
start_recv "$T/in" --listen 0.0.0.0:0 --token-file "$T/tok"
stop_recv
"$IPCBOX" serve "$T/in" $(serve_only recv) --recv-listen 0.0.0.0:0 >/dev/null 2>"$T/s.err"; rc=$?
[ $rc = 2 ] && grep -q "refusing to listen on 0.0.0.0:0 without authentication.*--recv-token-file" "$T/s.err" \
    || { cat "$T/s.err"; fail "serve recv on 0.0.0.0 without token: exit $rc, want 2"; }
pass "recv and serve refuse 0.0.0.0 / [::] without a token (exit 2); --allow-anonymous or a token starts it"

# 3. a recv with a token: the right token uploads, fetches and lists
start_recv "$T/in" --token-file "$T/tok"
"$IPCBOX" send --quiet --token-file "$T/tok" "$T/src/dir" "$T/src/b.txt" 127.0.0.1:"$RPORT" \
    || fail "send with the right token"
cmp -s "$T/src/dir/sub/a.bin" "$T/in/dir/sub/a.bin" && cmp -s "$T/src/b.txt" "$T/in/b.txt" \
    || fail "files differ after an authenticated send"
"$IPCBOX" get --quiet --token-file "$T/tok" 127.0.0.1:"$RPORT" dir/sub/a.bin -o "$T/dl" \
    || fail "get with the right token"
cmp -s "$T/src/dir/sub/a.bin" "$T/dl/dir/sub/a.bin" || fail "fetched file differs"
"$IPCBOX" get --token-file "$T/tok" 127.0.0.1:"$RPORT" --list >"$T/list" || fail "get --list with token"
grep -q "dir/sub/a.bin" "$T/list" || fail "listing lacks the file"
grep -q "authenticated" "$RLOG" || fail "no 'authenticated' log line"
pass "right token: send, get and --list work"

# 4. no token, a wrong token: exit 6, clear message, nothing written or created
rm -rf "$T/in/dir"   # (from the authenticated send above)
"$IPCBOX" send "$T/src/dir" 127.0.0.1:"$RPORT" 2>"$T/n.err"; rc=$?
[ $rc = 6 ] && grep -q "authentication required" "$T/n.err" || { cat "$T/n.err"; fail "send without token: exit $rc, want 6"; }
"$IPCBOX" send --token-file "$T/bad" "$T/src/dir" 127.0.0.1:"$RPORT" 2>"$T/w.err"; rc=$?
[ $rc = 6 ] && grep -q "authentication failed" "$T/w.err" || { cat "$T/w.err"; fail "send with a wrong token: exit $rc, want 6"; }
[ ! -e "$T/in/dir" ] || fail "a refused send created $T/in/dir"
"$IPCBOX" get 127.0.0.1:"$RPORT" b.txt -o "$T/dl-none" 2>"$T/gn.err"; rc=$?
[ $rc = 6 ] && grep -q "authentication required" "$T/gn.err" || { cat "$T/gn.err"; fail "get without token: exit $rc"; }
"$IPCBOX" get --token-file "$T/bad" 127.0.0.1:"$RPORT" b.txt -o "$T/dl-bad" 2>"$T/gw.err"; rc=$?
[ $rc = 6 ] && grep -q "authentication failed" "$T/gw.err" || { cat "$T/gw.err"; fail "get with a wrong token: exit $rc"; }
"$IPCBOX" get --token-file "$T/bad" 127.0.0.1:"$RPORT" --list >"$T/l2" 2>/dev/null; rc=$?
[ $rc = 6 ] && [ ! -s "$T/l2" ] || fail "get --list with a wrong token: exit $rc, or listed"
[ ! -e "$T/dl-none" ] && [ ! -e "$T/dl-bad" ] || fail "a refused get created its output directory"
grep -q "127.0.0.1:[0-9]*: authentication refused: the client has no token" "$RLOG" \
    || { cat "$RLOG"; fail "no log line for a client without a token"; }
grep -q "127.0.0.1:[0-9]*: authentication failed: wrong token" "$RLOG" \
    || { cat "$RLOG"; fail "no log line for a wrong token"; }
pass "no token / wrong token: exit 6 with a clear message, logged with the peer, nothing created"

# 5. a recorded proof replayed on a new connection is refused, and the
#    upload pipelined behind it is never looked at
"$PEER" record 127.0.0.1:"$RPORT" "$T/tok" "$T/proof" >"$T/rec.out" 2>&1 \
    || { cat "$T/rec.out"; fail "xferpeer could not authenticate with the right token"; }
[ "$(fsize "$T/proof")" = 73 ] || fail "recorded proof is $(fsize "$T/proof") bytes, want 73"
"$PEER" replay 127.0.0.1:"$RPORT" "$T/proof" replayed/x.bin >"$T/rep.out" 2>&1 \
    || { cat "$T/rep.out"; fail "a replayed proof was not refused"; }
grep -q "^error 29 " "$T/rep.out" || { cat "$T/rep.out"; fail "replay: no authentication error"; }
[ ! -e "$T/in/replayed" ] || fail "the replayed session created a directory"
pass "replayed proof: refused (ERROR 29), its pipelined OFFER never handled"

# 6. recv --once reports a failed authentication as exit 6
stop_recv
start_recv "$T/in" --token-file "$T/tok" --once
"$IPCBOX" send --token-file "$T/bad" "$T/src/b.txt" 127.0.0.1:"$RPORT" 2>/dev/null
wait_exit "$RPID" 20
[ "$RC" = 6 ] || fail "recv --once after a failed authentication: exit $RC, want 6"
no_sanitizer_report "$RLOG"
pass "recv --once: exit 6 after a failed authentication"

# 7. an impostor server (claims a token it does not have) gets nothing
rm -f "$T/port"
"$PEER" impostor "$T/port" >"$T/imp.out" 2>&1 &
IP=$!
PIDS+=("$IP")
for i in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
"$IPCBOX" get --token-file "$T/tok" 127.0.0.1:"$(cat "$T/port")" b.txt -o "$T/dl-imp" 2>"$T/imp.err"; rc=$?
[ $rc = 6 ] && grep -q "failed to prove that it knows the token" "$T/imp.err" \
    || { cat "$T/imp.err"; fail "get from an impostor: exit $rc, want 6"; }
wait_exit "$IP" 20
grep -q "^error 29 " "$T/imp.out" || { cat "$T/imp.out"; fail "impostor was not told"; }
[ ! -e "$T/dl-imp" ] || fail "get created its output directory for an impostor"
pass "impostor server: get refuses it (exit 6), creates nothing"

# 8. a client with a token and an anonymous server: fail closed, unless
#    --allow-anonymous; anonymous loopback use works as before
start_recv "$T/in"
"$IPCBOX" send --token-file "$T/tok" "$T/src/b.txt" 127.0.0.1:"$RPORT" 2>"$T/a.err"; rc=$?
[ $rc = 6 ] && grep -q "does not authenticate.*--allow-anonymous" "$T/a.err" \
    || { cat "$T/a.err"; fail "send with a token to an anonymous recv: exit $rc, want 6"; }
"$IPCBOX" get --token-file "$T/tok" 127.0.0.1:"$RPORT" b.txt -o "$T/dl-anon" 2>/dev/null; rc=$?
[ $rc = 6 ] && [ ! -e "$T/dl-anon" ] || fail "get with a token from an anonymous recv: exit $rc"
rm -f "$T/in/b.txt"
"$IPCBOX" send --quiet --token-file "$T/tok" --allow-anonymous "$T/src/b.txt" 127.0.0.1:"$RPORT" \
    || fail "send --allow-anonymous to an anonymous recv"
cmp -s "$T/src/b.txt" "$T/in/b.txt" || fail "file differs"
"$IPCBOX" send --quiet --overwrite "$T/src/dir" 127.0.0.1:"$RPORT" || fail "anonymous send on loopback"
"$IPCBOX" get --quiet 127.0.0.1:"$RPORT" dir/sub/a.bin -o "$T/dl2" || fail "anonymous get on loopback"
cmp -s "$T/src/dir/sub/a.bin" "$T/dl2/dir/sub/a.bin" || fail "anonymous get: file differs"
stop_recv
pass "token client vs anonymous recv: refused unless --allow-anonymous; anonymous loopback unchanged"

# 9. a peer that never finishes the handshake is closed (--handshake-timeout)
start_recv "$T/in" --token-file "$T/tok" --handshake-timeout 1
exec 3<>/dev/tcp/127.0.0.1/"$RPORT"
got=$(timeout 20 cat <&3 | wc -c); rc=${PIPESTATUS[0]}
exec 3<&-
[ "$rc" = 0 ] && [ "$got" = 0 ] || fail "silent peer: not closed by the server (rc $rc, $got bytes)"
grep -q "handshake not finished" "$RLOG" || { cat "$RLOG"; fail "no handshake timeout log line"; }
stop_recv

# 10. serve with --recv-token-file authenticates the same way
start_server "$T/serve.log" "$IPCBOX" serve "$T/in" $(serve_only recv) \
    --recv-listen 127.0.0.1:0 --recv-token-file "$T/tok"
SP=$SPID
"$IPCBOX" send --token-file "$T/bad" "$T/src/b.txt" 127.0.0.1:"$PORT" 2>/dev/null; rc=$?
[ $rc = 6 ] || fail "serve recv: wrong token exit $rc, want 6"
"$IPCBOX" send --quiet --token-file "$T/tok" --overwrite "$T/src/b.txt" 127.0.0.1:"$PORT" \
    || fail "serve recv: send with the right token"
kill -TERM "$SP"; wait_exit "$SP" 20
[ "$RC" = 0 ] || fail "serve exit $RC"
no_sanitizer_report "$T/serve.log"
pass "handshake timeout closes a silent peer; serve --recv-token-file authenticates"
