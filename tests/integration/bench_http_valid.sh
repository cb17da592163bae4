# bench/http.sh counts only valid responses: wrk's req/s includes every
# response whatever its status, so a run whose responses are errors (404
# for each pipelined request) or shorter than the file must be flagged
# (its 4th field, "-" for a valid run) and left out of the tables. The
# measuring function of bench/http.sh runs here for a second each against
# ipcbox httpd.
. "$(dirname "$0")/../lib.sh"
command -v wrk >/dev/null 2>&1 || skip "wrk not installed (scripts/deps.sh bench)"
command -v taskset >/dev/null 2>&1 || skip "taskset not installed"
[ -x /usr/bin/time ] || skip "/usr/bin/time not installed (scripts/deps.sh bench)"

mkdir -p "$T/www/small"
head -c 1024 /dev/zero | tr '\0' a >"$T/www/1k.html"
head -c 100 /dev/zero | tr '\0' b >"$T/www/small/1k.html"
start_httpd "$T/www"
# the functions rps() needs, as bench/http.sh defines them
# shellcheck disable=SC1090
source <(sed -n '/^tree()/,/^}/p;/^ticks()/,/^}/p;/^rps()/,/^}/p' "$SRC/bench/http.sh")
CONNS=2
DUR=1
cd "$SRC" || fail "no $SRC"

r=$(rps "$PID" "$BASE/none/1k.html" -s bench/pipeline.lua)
case $(cut -d' ' -f4 <<<"$r") in
*non-2xx*) ;;
*) fail "404 for every request not flagged: '$r'" ;;
esac
[ "$(cut -d' ' -f1 <<<"$r")" = 0 ] || fail "404s counted as requests: '$r'"
pass "a run of 404s is flagged, no request counted"

r=$(rps "$PID" "$BASE/small/1k.html")
case $(cut -d' ' -f4 <<<"$r") in
*below*) ;;
*) fail "100-byte bodies for the 1 KiB file not flagged: '$r'" ;;
esac
pass "responses shorter than the file are flagged"
r=$(rps "$PID" "$BASE/1k.html" -s bench/pipeline.lua)
[ "$(cut -d' ' -f4 <<<"$r")" = - ] || fail "a valid pipelined run flagged: '$r'"
[ "$(cut -d' ' -f1 <<<"$r")" -gt 0 ] || fail "a valid run without req/s: '$r'"
pass "a valid pipelined run counts ($r)"

stop_httpd
