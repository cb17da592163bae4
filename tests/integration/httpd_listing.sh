#!/bin/bash
# Directory listings (cf. nginx autoindex tests, written anew): escaping of
# hostile names in text and links, directories first, sizes and times, the
# parent link, dotfiles hidden unless --show-hidden, --no-listing, HEAD,
# and a headless Chromium that renders the page (non-blank screenshot) and
# whose DOM's links all resolve.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/zdir" "$R/adir" "$R/sub/inner" "$R/.hiddendir" "$R/with space"
printf '12345' > "$R/five.txt"
head -c 3000 /dev/zero > "$R/k3.bin"
touch "$R/<script>alert(1)<script>.txt" "$R/back\\slash.txt" "$R/a&b.txt" "$R/quote\"d.txt" "$R/caf$(printf '\xc3\xa9').txt"
touch "$R/percent%41.txt" "$R/hash#x.txt" "$R/q?x.txt" "$R/.hidden"
touch -d '2022-03-04 05:06:00 UTC' "$R/five.txt"
echo inner > "$R/sub/inner/x.txt"
start_httpd "$R"

page=$(curl -sS "$BASE/")
check_has "title" "$page" "<title>Index of /</title>"
check_lacks "no parent link at root" "$page" 'href="../"'
check_has "file link" "$page" '<a href="five.txt">five.txt</a>'
check_has "dir link with slash" "$page" '<a href="adir/">adir/</a>'
check_has "size" "$page" '<td class="s">5</td>'
check_has "human size" "$page" '<td class="s">2.9K</td>'
check_has "mtime" "$page" '2022-03-04 05:06'
check_lacks "script tag escaped" "$page" "<script>"
check_has "script name as text" "$page" "&lt;script&gt;alert(1)&lt;script&gt;.txt"
check_has "script name link" "$page" 'href="%3Cscript%3Ealert%281%29%3Cscript%3E.txt"'
# names no request could reach (the server refuses backslashes and
# double encoding) are left out rather than listed as dead links
check_lacks "backslash name not listed" "$page" "slash.txt"
check_lacks "percent-hex name not listed" "$page" "percent"
check_has "ampersand" "$page" 'href="a%26b.txt">a&amp;b.txt</a>'
check_has "quote" "$page" 'href="quote%22d.txt">quote&quot;d.txt</a>'
check_has "hash" "$page" 'href="hash%23x.txt"'
check_has "question mark" "$page" 'href="q%3Fx.txt"'
check_has "space" "$page" 'href="with%20space/"'
check_has "utf-8" "$page" 'href="caf%C3%A9.txt">caf'
check_lacks "dotfile hidden" "$page" ".hidden"
order=$(printf '%s\n' "$page" | grep -o 'href="[^"]*"' | sed 's/href="//; s/"$//' | tr '\n' ' ')
check "directories first, then files, by name" "$(printf '%s' "$order" | cut -d' ' -f1-5)" "adir/ sub/ with%20space/ zdir/ %3Cscript%3Ealert%281%29%3Cscript%3E.txt"
sub=$(curl -sS "$BASE/sub/")
check_has "parent link" "$sub" '<a href="../">../</a>'
check_has "nested dir" "$sub" '<a href="inner/">inner/</a>'
check "HEAD listing" "$(curl -sS -I "$BASE/sub/" | head -n1 | tr -d '\r')" "HTTP/1.1 200 OK"
check "hidden dir not reachable by URL" "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/.hiddendir/")" "404"
# every link of the page works
bad=0
for href in $(printf '%s\n' "$page" | grep -o 'href="[^"]*"' | sed 's/href="//; s/"$//'); do
    c=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/$href")
    [ "$c" = 200 ] || { bad=$((bad + 1)); echo "link $href: $c" >&2; }
done
check "all listing links answer 200" "$bad" "0"
stop_httpd

start_httpd --show-hidden "$R"
check_has "--show-hidden" "$(curl -sS "$BASE/")" 'href=".hidden">.hidden</a>'
check "--show-hidden: hidden dir reachable by URL" "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/.hiddendir/")" "200"
stop_httpd
start_httpd --no-listing "$R"
check "--no-listing" "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/sub/")" "403"
stop_httpd

# headless Chromium renders the listing
if ! command -v chromium >/dev/null 2>&1; then
    echo "SKIP: chromium is not installed (scripts/deps.sh installs it)"
    finish
    exit 77
fi
start_httpd "$R"
chrome() {
    timeout 90 chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-quic --user-data-dir="$(mktemp -d "$WORK/chrome.XXXXXX")" "$@" 2>/dev/null
}
chrome --window-size=800,600 --screenshot="$WORK/shot.png" "$BASE/sub/" >/dev/null || true
verdict=$(python3 "$PYTOOLS/httpd_png_verdict.py" "$WORK/shot.png"
)
check "chromium screenshot is not blank" "$verdict" "rendered"
dom=$(chrome --dump-dom "$BASE/sub/" || true)
check_has "chromium DOM has the title" "$dom" "Index of /sub/"
check_has "chromium DOM has the links" "$dom" 'href="inner/"'
# follow the links as the browser resolved them
dom2=$(chrome --dump-dom "$BASE/sub/inner/" || true)
check_has "chromium follows into a directory" "$dom2" 'href="x.txt"'
check "browser-resolved file link" "$(curl -sS "$BASE/sub/inner/x.txt")" "inner"
finish
