#!/bin/bash
# Hidden files and uploads in progress. By default a path with a component
# starting with '.' is 404 (not 403: existence must not leak), is not
# listed, and a hidden CGI script does not run; /.well-known/ is served.
# --show-hidden serves and lists them. Uploads in progress (recv's
# .NAME.ibxpart, tftpd's .tftp-upload.*) are never served or listed, by
# httpd (also under `serve`, with a real upload running) or by tftpd.
# Also: a listing neither follows nor shows a symlink that leaves ROOT.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
O="$WORK/outside"
mkdir -p "$R/dir/.git" "$R/.well-known" "$R/cgi-bin" "$R/.hiddendir" "$R/sub" "$O"
echo "user:HASH" > "$R/.htpasswd"
echo "SECRET=1" > "$R/.env"
echo "[core]" > "$R/dir/.git/config"
echo "in hidden dir" > "$R/.hiddendir/f.txt"
echo "PARTIAL-UPLOAD" > "$R/.x.ibxpart"
echo "PARTIAL-UPLOAD" > "$R/dir/.y.ibxpart"
head -c 100000 /dev/zero > "$R/.big.ibxpart"
echo "PARTIAL-TFTP" > "$R/.tftp-upload.0123456789ab"
echo "visible" > "$R/visible.txt"
echo "visible in dir" > "$R/dir/file.txt"
echo "token" > "$R/.well-known/acme.txt"
echo "gz of hidden" > "$R/.env.gz"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nHIDDEN-CGI-RAN\\n"\n' > "$R/cgi-bin/.h.sh"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\ncgi ok\\n"\n' > "$R/cgi-bin/ok.sh"
chmod +x "$R/cgi-bin/.h.sh" "$R/cgi-bin/ok.sh"
echo "outside secret, 31 bytes long.." > "$O/secret.txt"
ln -s ../outside/secret.txt "$R/escape.txt"
ln -s visible.txt "$R/inside.txt"


start_httpd --cgi /cgi-bin/ "$R"
for p in /.htpasswd /.env /dir/.git/config /dir/.git/ /dir/.git /.hiddendir/f.txt \
         /.hiddendir/ /.x.ibxpart /dir/.y.ibxpart /.big.ibxpart \
         /.tftp-upload.0123456789ab /cgi-bin/.h.sh; do
    check "default: GET $p is 404" "$(http_code "$BASE$p")" "404"
    check "default: HEAD $p is 404" "$(http_code -I "$BASE$p")" "404"
done
check "default: percent-encoded dot is 404" "$(http_code "$BASE/%2eenv")" "404"
check "default: hidden with gzip accepted is 404" "$(http_code -H 'Accept-Encoding: gzip' "$BASE/.env")" "404"
check_lacks "default: hidden CGI did not run" "$(curl -sS "$BASE/cgi-bin/.h.sh")" "HIDDEN-CGI-RAN"
check "default: visible CGI runs" "$(curl -sS "$BASE/cgi-bin/ok.sh")" "cgi ok"
check "default: visible file" "$(curl -sS "$BASE/visible.txt")" "visible"
check "default: /.well-known/ is served" "$(curl -sS "$BASE/.well-known/acme.txt")" "token"
list=$(curl -sS "$BASE/")
check_has "default: listing shows visible.txt" "$list" "visible.txt"
for n in .htpasswd .env .x.ibxpart .big.ibxpart .tftp-upload .hiddendir; do
    check_lacks "default: listing hides $n" "$list" "$n"
done
check_lacks "listing: symlink leaving ROOT not listed" "$list" "escape.txt"
check_has "listing: symlink inside ROOT listed" "$list" "inside.txt"
check_lacks "default: dir listing hides .git" "$(curl -sS "$BASE/dir/")" ".git"
check_lacks "default: dir listing hides .y.ibxpart" "$(curl -sS "$BASE/dir/")" "ibxpart"
stop_httpd

start_httpd --show-hidden --cgi /cgi-bin/ "$R"
check "show-hidden: /.htpasswd" "$(curl -sS "$BASE/.htpasswd")" "user:HASH"
check "show-hidden: /.env" "$(curl -sS "$BASE/.env")" "SECRET=1"
check "show-hidden: /dir/.git/config" "$(curl -sS "$BASE/dir/.git/config")" "[core]"
check "show-hidden: hidden CGI runs" "$(curl -sS "$BASE/cgi-bin/.h.sh")" "HIDDEN-CGI-RAN"
for p in /.x.ibxpart /dir/.y.ibxpart /.big.ibxpart /.tftp-upload.0123456789ab; do
    check "show-hidden: GET $p is still 404" "$(http_code "$BASE$p")" "404"
done
check "show-hidden: ranged part file is 404" "$(http_code -r 0-3 "$BASE/.big.ibxpart")" "404"
list=$(curl -sS "$BASE/")
check_has "show-hidden: listing shows .htpasswd" "$list" ".htpasswd"
check_has "show-hidden: listing shows .hiddendir" "$list" ".hiddendir/"
check_lacks "show-hidden: listing hides part files" "$list" "ibxpart"
check_lacks "show-hidden: listing hides tftp temporaries" "$list" ".tftp-upload"
check_lacks "show-hidden: dir listing hides part files" "$(curl -sS "$BASE/dir/")" "ibxpart"
stop_httpd

# tftpd: neither a part file nor a tftpd temporary is read or written
start_tftpd "$WORK/err.tftpd" --create --allow-overwrite "$R"
TPORT=$PORT
tget() {
    rm -f "$WORK/tget.out"
    timeout 30 "$IPCBOX" tftp --quiet --timeout 1 "127.0.0.1:$TPORT" get "$1" "$WORK/tget.out" \
        >/dev/null 2>&1 && echo got || echo refused
}
check "tftpd: get visible.txt" "$(tget visible.txt)" "got"
for f in .x.ibxpart dir/.y.ibxpart .tftp-upload.0123456789ab; do
    check "tftpd: get $f refused" "$(tget "$f")" "refused"
done
echo "overwrite" > "$WORK/up.txt"
timeout 30 "$IPCBOX" tftp --quiet --timeout 1 "127.0.0.1:$TPORT" put .x.ibxpart "$WORK/up.txt" \
    >/dev/null 2>&1 && r=written || r=refused
check "tftpd: put onto a part file refused" "$r" "refused"
check "tftpd: the part file is untouched" "$(cat "$R/.x.ibxpart")" "PARTIAL-UPLOAD"

# serve: httpd beside recv, while a real upload's part file grows
S="$WORK/served"
mkdir -p "$S"
echo "SECRET=2" > "$S/.env"
echo "plain" > "$S/plain.txt"
head -c 3000000 /dev/urandom > "$WORK/slow.bin"
"$IPCBOX" serve "$S" $(serve_ephemeral) >"$WORK/serve.out" 2>"$WORK/err.serve" &
SPID=$!
PIDS+=("$SPID")
HADDR=$(listen_addr "$WORK/err.serve" "httpd: " "$SPID")
RADDR=$(listen_addr "$WORK/err.serve" "recv: " "$SPID")
[ -n "$HADDR" ] && [ -n "$RADDR" ] || { cat "$WORK/err.serve" >&2; fail "serve did not start httpd and recv"; }
"$IPCBOX" send --quiet --limit-rate 200k "$WORK/slow.bin" "$RADDR" >/dev/null 2>&1 &
SND=$!
PIDS+=("$SND")
for _ in $(seq 1 200); do
    [ -s "$S/.slow.bin.ibxpart" ] && break
    sleep 0.05
done
[ -s "$S/.slow.bin.ibxpart" ] || fail "no part file appeared under serve"
check "serve: a growing part file is 404" "$(http_code "http://$HADDR/.slow.bin.ibxpart")" "404"
check "serve: /.env is 404" "$(http_code "http://$HADDR/.env")" "404"
check "serve: plain file is served" "$(curl -sS "http://$HADDR/plain.txt")" "plain"
check_lacks "serve: listing hides the part file" "$(curl -sS "http://$HADDR/")" "ibxpart"
TPORT=$(listen_addr "$WORK/err.serve" "tftpd: " "$SPID")
TPORT=${TPORT##*:}
[ -n "$TPORT" ] || fail "serve did not start tftpd"
check "serve: tftp get of the growing part file refused" "$(tget .slow.bin.ibxpart)" "refused"
check "serve: tftp get of a plain file" "$(tget plain.txt)" "got"
kill "$SND" 2>/dev/null || true
wait "$SND" 2>/dev/null || true
finish
