#!/bin/bash
# --cgi PREFIX is compared with the normalized request path, so it is
# normalized too: a prefix spelled "/cgi-bin//" or "/x/../cgi-bin/" still
# runs the scripts under /cgi-bin/ (before, it matched nothing and the
# scripts' source was served as static files). A prefix that leaves the
# root is a usage error.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/cgi-bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n"\necho SCRIPT-RAN\n' > "$R/cgi-bin/s.sh"
chmod +x "$R/cgi-bin/s.sh"

for p in /cgi-bin/ /cgi-bin /cgi-bin// //cgi-bin/ /x/../cgi-bin/ /./cgi-bin/.; do
    start_httpd --cgi "$p" "$R"
    b=$(curl -sS "$BASE/cgi-bin/s.sh")
    check "--cgi $p runs the script" "$b" "SCRIPT-RAN"
    check_lacks "--cgi $p does not serve its source" "$b" "printf"
    stop_httpd
done
st=0
timeout 20 "$IPCBOX" httpd --listen 127.0.0.1:0 --cgi /../cgi-bin/ "$R" >/dev/null 2>"$WORK/err" || st=$?
check "a prefix above the root is a usage error" "$st" "2"
finish
