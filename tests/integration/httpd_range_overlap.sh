#!/bin/bash
# Range headers cannot amplify a response: overlapping and adjacent ranges
# are coalesced (one part, or fewer parts, in the order they first
# appeared); ranges that add up to more than the file, or more ranges than
# --max-ranges, are ignored and the file is sent once (200), as nginx and
# Apache do. Both the in-memory (small file) path and the file path.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R"
seq -w 0 9999 > "$R/small.txt"            # 50000 bytes: cached in memory
seq -w 0 399999 > "$R/large.txt"          # 2800000 bytes: sent from the file
# get FILE RANGE: "status bytes-received", the body in $WORK/body, the head in $WORK/head
get() {
    curl -sS -D "$WORK/head" -o "$WORK/body" -w '%{http_code} %{size_download}' \
        -H "Range: $2" "$BASE/$1"
}
head_has() { check_has "$1" "$(tr -d '\r' < "$WORK/head")" "$2"; }
whole() { cmp -s "$WORK/body" "$R/$1" && echo whole; }
part() { tail -c +$(($2 + 1)) "$R/$1" | head -c "$3" > "$WORK/want"; cmp -s "$WORK/body" "$WORK/want" && echo same; }

start_httpd "$R"
for f in small.txt large.txt; do
    size=$(stat -c %s "$R/$f")
    # the issue's attack: 16 x the whole file -> the file once, 200
    sixteen=$(printf '0-,%.0s' $(seq 1 16)); sixteen=${sixteen%,}
    check "$f: 16 x '0-' is one copy (200)" "$(get $f "bytes=$sixteen")$(whole $f)" "200 $size""whole"
    check "$f: '0-,0-' is one copy (200)" "$(get $f "bytes=0-,0-")$(whole $f)" "200 $size""whole"
    # overlapping ranges that add up to more than the file
    check "$f: overlapping halves (200)" "$(get $f "bytes=0-$((size / 2 + 10)),$((size / 2 - 10))-")$(whole $f)" "200 $size""whole"
    # overlapping but small: merged into one range (single-part 206)
    check "$f: '0-99,50-149' merged" "$(get $f "bytes=0-99,50-149")$(part $f 0 150)" "206 150same"
    head_has "$f: merged Content-Range" "Content-Range: bytes 0-149/$size"
    # adjacent one-byte ranges: one part
    adj=$(for i in $(seq 0 15); do printf '%d-%d,' $i $i; done); adj=${adj%,}
    check "$f: 16 adjacent bytes merged" "$(get $f "bytes=$adj")$(part $f 0 16)" "206 16same"
    # disjoint ranges stay multipart, in the order asked, with a merged one
    st=$(get $f "bytes=500-509,0-9,5-14")
    check "$f: disjoint stay multipart" "${st%% *}" "206"
    check "$f: two parts in the order asked" \
        "$(grep -ao 'Content-Range: bytes [0-9-]*' "$WORK/body" | tr '\n' ' ')" \
        "Content-Range: bytes 500-509 Content-Range: bytes 0-14 "
    # many tiny ranges: more than the limit (16) -> ignored, 200 once
    many=$(for i in $(seq 0 999); do printf '%d-%d,' $((i * 2)) $((i * 2)); done); many=${many%,}
    check "$f: 1000 one-byte ranges (200)" "$(get $f "bytes=$many")$(whole $f)" "200 $size""whole"
    many=$(for i in $(seq 0 16); do printf '%d-%d,' $((i * 2)) $((i * 2)); done); many=${many%,}
    check "$f: 17 ranges (200)" "$(get $f "bytes=$many")" "200 $size"
    many=$(for i in $(seq 0 15); do printf '%d-%d,' $((i * 2)) $((i * 2)); done); many=${many%,}
    check "$f: 16 disjoint ranges (206)" "$(get $f "bytes=$many" | cut -d' ' -f1)" "206"
    # an amplified multipart would be larger than the file: it is not
    check "$f: 16 parts stay small" "$(get $f "bytes=$many" | awk '{print ($2 < 16 * 120)}')" "1"
done
check_has "the ignored overlap was logged" "$(cat "$ERRLOG")" "range header ignored, serving the whole file"
check_has "... with its reason" "$(cat "$ERRLOG")" "reason=overlap"
# one line a second at most for the whole server, with what was held back
check "ignored ranges are logged rate-limited" \
    "$(grep -c 'range header ignored' "$ERRLOG" | awk '{print ($1 < 20)}')$(grep -c 'suppressed=[0-9]' "$ERRLOG" | awk '{print ($1 > 0)}')" "11"
stop_httpd

# --max-ranges N
start_httpd --max-ranges 2 "$R"
check "--max-ranges 2: two ranges (206)" "$(get small.txt "bytes=0-0,10-10" | cut -d' ' -f1)" "206"
check "--max-ranges 2: three ranges (200)" "$(get small.txt "bytes=0-0,10-10,20-20")$(whole small.txt)" "200 50000whole"
check_has "the ignored count was logged" "$(cat "$ERRLOG")" "reason=max-ranges ranges=3 max_ranges=2"
stop_httpd
check "--max-ranges 17 refused" "$("$IPCBOX" httpd --max-ranges 17 "$R" >/dev/null 2>&1; echo $?)" "2"
finish
