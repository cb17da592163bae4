#!/bin/bash
# Range requests, modelled on the cases nginx's own range tests cover
# (written here from scratch): single, suffix, open-ended, zero-length
# edges, several ranges as multipart/byteranges, unsatisfiable (416),
# malformed (ignored: 200), If-Range with an ETag and a date, HEAD, and
# the in-memory (small file) path and both large-file paths (pread+send,
# --sendfile).
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R"
seq -w 0 9999 > "$R/small.txt"          # 50000 bytes: cached in memory
seq -w 0 99999 > "$R/large.txt"         # 600000 bytes: sent with sendfile
: > "$R/empty.txt"
touch -d '2021-05-06 07:08:09 UTC' "$R/small.txt" "$R/large.txt"
# req FILE RANGE [curl args]: the status; the body is left in $WORK/body
req() {
    local f=$1 r=$2; shift 2
    curl -sS -o "$WORK/body" -w '%{http_code}' -H "Range: $r" "$@" "$BASE/$f"
}
# want FILE OFFSET LENGTH: the expected bytes of a range, in $WORK/want
want() { tail -c +$(($2 + 1)) "$R/$1" | head -c "$3" > "$WORK/want"; }
# range_ok NAME FILE RANGE OFFSET LENGTH
range_ok() {
    local st
    st=$(req "$2" "$3")
    want "$2" "$4" "$5"
    if [ "$st" = 206 ] && cmp -s "$WORK/body" "$WORK/want"; then record_pass "$1"
    else record_fail "$1: status $st, body $(head -c 40 "$WORK/body" | od -c | head -n2)"; fi
}
hdr() { curl -sS -D - -o /dev/null -H "Range: $2" "$BASE/$1" | tr -d '\r'; }

for mode in pread sendfile; do
stop_httpd
if [ $mode = sendfile ]; then start_httpd --sendfile "$R"; else start_httpd "$R"; fi
for f in small.txt large.txt; do
    [ $mode = sendfile ] && [ $f = small.txt ] && continue   # memory path: done
    size=$(stat -c %s "$R/$f")
    range_ok "$f first bytes" $f bytes=0-9 0 10
    range_ok "$f middle" $f bytes=1000-1999 1000 1000
    range_ok "$f single byte" $f bytes=5-5 5 1
    range_ok "$f suffix" $f bytes=-6 $((size - 6)) 6
    range_ok "$f open end" $f bytes=$((size - 6))- $((size - 6)) 6
    range_ok "$f end past size clipped" $f bytes=$((size - 3))-$((size + 100)) $((size - 3)) 3
    range_ok "$f last byte" $f bytes=$((size - 1))-$((size - 1)) $((size - 1)) 1
    range_ok "$f whitespace" $f "bytes= 3-4 " 3 2
    check "$f suffix larger than file" "$(req $f bytes=-99999999)$(cmp -s "$WORK/body" "$R/$f" && echo whole)" "206whole"
    h=$(hdr $f bytes=10-19)
    check_has "$f Content-Range" "$h" "Content-Range: bytes 10-19/$size"
    check_has "$f Content-Length" "$h" "Content-Length: 10"
    check_has "$f Accept-Ranges" "$h" "Accept-Ranges: bytes"
    check "$f unsatisfiable" "$(req $f bytes=$size-)" "416"
    check_has "$f 416 Content-Range" "$(hdr $f bytes=$((size + 5))-)" "Content-Range: bytes */$size"
    check "$f -0 unsatisfiable" "$(req $f bytes=-0)" "416"
    range_ok "$f one good of two" $f "bytes=$((size + 1))-,0-3" 0 4
    # ignored (whole file, 200): bad syntax, wrong unit, reversed
    for bad in "bytes=5-2" "bytes=a-b" "items=0-5" "bytes=" "bytes=--5" "bytes=0-5;x"; do
        check "$f ignored '$bad'" "$(req $f "$bad")$(cmp -s "$WORK/body" "$R/$f" && echo whole)" "200whole"
    done
    # several ranges: multipart/byteranges
    curl -sS -D "$WORK/mh" -o "$WORK/mb" -H 'Range: bytes=0-4,10-14,-5' "$BASE/$f"
    mh=$(tr -d '\r' < "$WORK/mh")
    check_has "$f multipart 206" "$mh" "HTTP/1.1 206"
    check_has "$f multipart type" "$mh" "Content-Type: multipart/byteranges; boundary="
    b=$(printf '%s' "$mh" | sed -n 's/.*boundary=\(.*\)/\1/p')
    len=$(printf '%s' "$mh" | sed -n 's/^Content-Length: //p')
    check "$f multipart length" "$(stat -c %s "$WORK/mb")" "$len"
    check "$f multipart parts" "$(grep -c "^--$b" "$WORK/mb")" "4"
    check "$f multipart closing" "$(tail -c $(( ${#b} + 6 )) "$WORK/mb" | tr -d '\r\n')" "--$b--"
    # every part: its Content-Range and exactly the file's bytes
    parts=$(python3 "$PYTOOLS/httpd_multipart.py" "$WORK/mb" "$R/$f" "$b"
)
    check "$f multipart parts and bytes" "$parts" "0-4 10-14 $((size - 5))-$((size - 1))"
    check "$f multipart part type" "$(grep -c '^Content-Type: text/plain' "$WORK/mb")" "3"
    # RFC 9110 14.2: range handling is defined for GET only; HEAD ignores it
    check "$f HEAD ignores Range" "$(curl -sS -I -H 'Range: bytes=0-9' "$BASE/$f" | head -n1 | tr -d '\r')" "HTTP/1.1 200 OK"
    curl -sS -o "$WORK/whole" "$BASE/$f"
    check "$mode $f whole file" "$(cmp -s "$WORK/whole" "$R/$f" && echo same)" "same"
done
done

# If-Range: a matching ETag or date applies the range, anything else gives 200
etag=$(curl -sS -I "$BASE/small.txt" | tr -d '\r' | sed -n 's/^ETag: //p')
check "If-Range etag match" "$(req small.txt bytes=0-3 -H "If-Range: $etag")" "206"
check "If-Range etag mismatch" "$(req small.txt bytes=0-3 -H 'If-Range: "nope"')" "200"
check "If-Range weak etag" "$(req small.txt bytes=0-3 -H "If-Range: W/$etag")" "200"
check "If-Range date match" "$(req small.txt bytes=0-3 -H 'If-Range: Thu, 06 May 2021 07:08:09 GMT')" "206"
check "If-Range date mismatch" "$(req small.txt bytes=0-3 -H 'If-Range: Thu, 06 May 2021 07:08:10 GMT')" "200"
# ranges and the empty file; ranges on HEAD vs GET with conditionals
check "empty file range" "$(req empty.txt bytes=0-)" "416"
check "empty file plain" "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/empty.txt")" "200"
check "304 beats Range" "$(req small.txt bytes=0-3 -H "If-None-Match: $etag")" "304"
# too many ranges: ignored, not amplified
many="bytes=0-0"; for i in $(seq 1 20); do many="$many,$i-$i"; done
check "more than 16 ranges ignored" "$(req small.txt "$many")" "200"
# pipelined range requests on one connection stay in order
a=$(raw 'GET /large.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=0-4,6-10\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=-5\r\nConnection: close\r\n\r\n')
check "pipelined multipart then single" "$(printf '%s' "$a" | grep '^HTTP/1.1' | awk '{print $2}' | tr '\n' ' ')" "206 206 "
check_has "pipelined single body last" "$a" "$(tail -c 5 "$R/small.txt")"
finish
