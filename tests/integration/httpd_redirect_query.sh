#!/bin/bash
# The 301 that adds the slash to a directory keeps the whole query, however
# long (up to what the request line allows): a query of 1024 bytes or more
# must not be dropped from Location.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/dir"
start_httpd "$R"

for n in 10 1023 1024 5000; do
    q="k=$(head -c "$n" /dev/zero | tr '\0' a)"
    loc=$(curl -sS -o /dev/null -w '%{redirect_url}' "$BASE/dir?$q")
    check "query of $((n + 2)) bytes kept in Location" "$loc" "$BASE/dir/?$q"
done
finish
