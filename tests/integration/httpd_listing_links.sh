#!/bin/bash
# A listing describes a symlink by what a request for it reaches, through
# the same confined open that serving it uses: a link out of ROOT (or a
# dangling one) is not listed, so the size and date of a file outside ROOT
# do not leak; a link inside ROOT shows its target; --follow-symlinks
# lists (and serves) both.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R" "$WORK/outside"
head -c 123457 /dev/zero > "$WORK/outside/secret.bin"
touch -d '2001-02-03 04:05:00 UTC' "$WORK/outside/secret.bin"
head -c 4321 /dev/zero > "$R/inside.bin"
ln -s "$WORK/outside/secret.bin" "$R/out-link"
ln -s "$WORK/outside" "$R/out-dir"
ln -s inside.bin "$R/in-link"
ln -s nowhere "$R/dangling"
start_httpd "$R"
page=$(curl -sS "$BASE/")
check_lacks "link out of ROOT not listed" "$page" "out-link"
check_lacks "dir link out of ROOT not listed" "$page" "out-dir"
check_lacks "its size does not leak" "$page" "120.6K"
check_lacks "its date does not leak" "$page" "2001-02-03"
check_lacks "dangling link not listed" "$page" "dangling"
check_has "link inside ROOT listed" "$page" '<a href="in-link">in-link</a>'
check_has "with its target's size" "$page" '<a href="in-link">in-link</a></td><td class="s">4.2K</td>'
check "link out of ROOT not served" "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/out-link")" "403"
stop_httpd
start_httpd --follow-symlinks "$R"
page=$(curl -sS "$BASE/")
check_has "--follow-symlinks: listed" "$page" '<a href="out-link">out-link</a>'
check_has "--follow-symlinks: dir link listed" "$page" '<a href="out-dir/">out-dir/</a>'
check "--follow-symlinks: served" "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/out-link")" "200"
stop_httpd
finish
