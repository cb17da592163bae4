#!/bin/bash
# CGI working-directory race: a script is looked up once. Its directory is
# opened through the confined resolver, the script is opened relative to
# that directory descriptor, and the script runs in that same directory
# (fchdir). The CGI directory and a sibling are exchanged atomically
# (renameat2 RENAME_EXCHANGE), as fast as a process can, while requests
# for /cgi-bin/who.sh go out: every answer must show the script's own
# name and the marker of its working directory agreeing (before, the
# directory was opened by name a second time, and a swap in between ran
# the script found in one directory inside the other). Checked under the
# epoll and thread models; also that hidden and partial final components
# still 404, and that a symlinked script inside ROOT still runs (in the
# directory of the link) while one outside ROOT is 403 unless
# --follow-symlinks.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/cgi-bin" "$R/alt" "$R/lib" "$WORK/outside"
for x in cgi-bin alt; do
    cat > "$R/$x/who.sh" <<SH
#!/bin/sh
printf 'Content-Type: text/plain\n\nscript=${x%-bin} cwd=%s\n' "\$(cat marker)"
SH
    echo "${x%-bin}" > "$R/$x/marker"
    chmod +x "$R/$x/who.sh"
done
C="$R/cgi-bin"
cp "$C/who.sh" "$C/.hidden.sh"
cp "$C/who.sh" "$C/.up.ibxpart"
cat > "$WORK/outside/out.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\noutside\n'
SH
cat > "$R/lib/real.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\nreal cwd=%s\n' "$(cat marker)"
SH
chmod +x "$WORK/outside/out.sh" "$R/lib/real.sh"
ln -s ../lib/real.sh "$C/link.sh"
ln -s "$WORK/outside/out.sh" "$C/out.sh"

for model in epoll thread; do
    start_httpd --model "$model" --cgi /cgi-bin/ "$R"
    res=$(python3 "$PYTOOLS/httpd_cgi_dirswap.py" "$ADDR" "$R/cgi-bin" "$R/alt" 600)
    echo "$model: $res"
    check_has "$model: every script ran in its own directory" "$res" "disagree=0 "
    check_has "$model: no other answer" "$res" "other=0"
    check "$model: hidden script" "$(http_code "$BASE/cgi-bin/.hidden.sh")" 404
    check "$model: upload in progress" "$(http_code "$BASE/cgi-bin/.up.ibxpart")" 404
    check "$model: symlinked script inside ROOT runs where the link is" \
        "$(curl -sS "$BASE/cgi-bin/link.sh")" "real cwd=cgi"
    check "$model: symlinked script outside ROOT" "$(http_code "$BASE/cgi-bin/out.sh")" 403
    stop_httpd
done

start_httpd --follow-symlinks --cgi /cgi-bin/ "$R"
check "follow-symlinks: symlinked script outside ROOT runs" \
    "$(curl -sS "$BASE/cgi-bin/out.sh")" "outside"
check "follow-symlinks: hidden script" "$(http_code "$BASE/cgi-bin/.hidden.sh")" 404
stop_httpd
start_httpd --show-hidden --cgi /cgi-bin/ "$R"
check "show-hidden: hidden script runs" \
    "$(curl -sS "$BASE/cgi-bin/.hidden.sh" | cut -d' ' -f1)" "script=cgi"
check "show-hidden: upload in progress" "$(http_code "$BASE/cgi-bin/.up.ibxpart")" 404
stop_httpd
finish
