# recv --token-file under every server model: a wrong token and no token
# are refused (exit 6, nothing created), the right token uploads.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/src/d"
head -c 32 /dev/urandom | base64 >"$T/tok"
head -c 32 /dev/urandom | base64 >"$T/bad"
chmod 600 "$T/tok" "$T/bad"
printf 'payload\n' >"$T/src/d/f.txt"
for m in $(server_models coroutine); do   # coroutine: recv has no coroutine handler
    mkdir -p "$T/in-$m"
    start_recv "$T/in-$m" --model "$m" --workers 2 --token-file "$T/tok"
    "$IPCBOX" send "$T/src/d" 127.0.0.1:"$RPORT" 2>/dev/null; rc=$?
    [ $rc = 6 ] || fail "$m: send without a token: exit $rc, want 6"
    "$IPCBOX" send --token-file "$T/bad" "$T/src/d" 127.0.0.1:"$RPORT" 2>/dev/null; rc=$?
    [ $rc = 6 ] || fail "$m: send with a wrong token: exit $rc, want 6"
    [ ! -e "$T/in-$m/d" ] || fail "$m: a refused send created a directory"
    "$IPCBOX" send --quiet --token-file "$T/tok" "$T/src/d" 127.0.0.1:"$RPORT" \
        || fail "$m: send with the right token"
    cmp -s "$T/src/d/f.txt" "$T/in-$m/d/f.txt" || fail "$m: file differs"
    stop_recv
    grep -q "authentication failed" "$RLOG" || fail "$m: no log line for the wrong token"
done
pass "every model: no token and a wrong token refused (exit 6, nothing created), the right token works"
