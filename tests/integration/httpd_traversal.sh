#!/bin/bash
# Every path-traversal trick against httpd: dot segments raw and encoded,
# encoded slashes and backslashes, NUL, double encoding, absolute-form
# targets, symlinks that leave ROOT (refused) or stay inside (served), and
# --follow-symlinks lifting the confinement. No response may ever carry a
# byte of the file outside ROOT.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
O="$WORK/outside"
mkdir -p "$R/sub" "$O"
echo "TOPSECRET-outside-root" > "$O/secret.txt"
echo "hello" > "$R/hello.txt"
echo "in sub" > "$R/sub/a.txt"
ln -s ../outside "$R/escape"
ln -s ../outside/secret.txt "$R/esc.txt"
ln -s "$O/secret.txt" "$R/abs.txt"
ln -s /etc/passwd "$R/passwd"
ln -s hello.txt "$R/inside.txt"
ln -s sub "$R/link_dir"
ln -s "$R/hello.txt" "$R/abs_inside.txt"
start_httpd "$R"

cases() {
    python3 "$PYTOOLS/httpd_cases.py" "$ADDR" TOPSECRET "root:x:0" || true
}
out=$(cases <<'EOF_CASES'
400 1 dotdot	GET /../outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 dotdot deep	GET /sub/../../outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 dot dotdot	GET /./../outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 encoded dotdot	GET /%2e%2e/outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 encoded dotdot upper	GET /%2E%2E/outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 half encoded	GET /.%2e/outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 encoded slash	GET /..%2foutside%2fsecret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 encoded slash in name	GET /sub%2fa.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 encoded slash upper	GET /sub%2Fa.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 double encoding	GET /%252e%252e/outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 double encoded slash	GET /..%252foutside HTTP/1.1\r\nHost: a\r\n\r\n
400 1 backslash	GET /..\\outside\\secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 encoded backslash	GET /..%5coutside%5csecret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 NUL	GET /hello.txt%00.html HTTP/1.1\r\nHost: a\r\n\r\n
400 1 control byte	GET /hello%0a.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 bad escape	GET /hello%zz HTTP/1.1\r\nHost: a\r\n\r\n
400 1 truncated escape	GET /hello% HTTP/1.1\r\nHost: a\r\n\r\n
400 1 relative target	GET ../outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 absolute form dotdot	GET http://a/../outside/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n
400 1 query does not hide dotdot	GET /../outside/secret.txt?x HTTP/1.1\r\nHost: a\r\n\r\n
404 - overlong utf8 dot	GET /%c0%ae%c0%ae/outside/secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
404 - double slash stays inside	GET //outside/secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
404 - encoded question mark is a name	GET /hello.txt%3f HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
403 - symlinked dir leaving root	GET /escape/secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
403 - symlinked dir listing leaving root	GET /escape/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
403 - relative symlink leaving root	GET /esc.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
403 - absolute symlink leaving root	GET /abs.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
403 - symlink to /etc/passwd	GET /passwd HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
200 - symlink inside root	GET /inside.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
200 - symlinked dir inside root	GET /link_dir/a.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
200 - dotdot that stays inside	GET /sub/../hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
200 - encoded dotdot that stays inside	GET /sub/%2e%2e/hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
200 - absolute form	GET http://a/hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
EOF_CASES
)
printf '%s\n' "$out"
FAILS=$((FAILS + $(printf '%s\n' "$out" | grep -c '^FAIL' || true)))
check "traversal cases ran" "$(printf '%s\n' "$out" | grep -c '^ok')" "33"
check "curl --path-as-is dotdot" "$(curl -sS --path-as-is -o "$WORK/b" -w '%{http_code}' "$BASE/../outside/secret.txt")" "400"
check "nothing leaked to curl" "$(grep -c TOPSECRET "$WORK/b" || true)" "0"
check "listing hides nothing outside" "$(curl -sS "$BASE/" | grep -c TOPSECRET || true)" "0"
stop_httpd

# --follow-symlinks: symlinks may leave ROOT, dot segments still may not
start_httpd --follow-symlinks "$R"
check "follow: relative symlink" "$(curl -sS "$BASE/esc.txt")" "TOPSECRET-outside-root"
check "follow: symlinked dir" "$(curl -sS "$BASE/escape/secret.txt")" "TOPSECRET-outside-root"
check "follow: dotdot still refused" "$(curl -sS --path-as-is -o /dev/null -w '%{http_code}' "$BASE/../outside/secret.txt")" "400"
finish
