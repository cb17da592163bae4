#!/usr/bin/env bash
# ipcbox tftpd: a flood of refused requests (issue 11 class (a), the disk
# through the log). 2000 bad requests (missing files, uploads to a
# read-only server, unknown opcodes) from several source addresses, each
# answered before the next is sent: the refusal lines are rate-limited
# (a few a second in full, the rest summed up in one line a second by
# reason), and every refused request is accounted for in the log; a
# transfer that ran still gets its own line (the access log).
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

ROOT=$WORK/root
OUT=$WORK/out
mkdir -p "$ROOT" "$OUT"
head -c 3000 /dev/urandom >"$ROOT/small.bin"


start_tftpd "$WORK/srv.log" "$ROOT"

check_cmd "2000 bad requests are answered" bash -c \
    "timeout 120 python3 $PYTOOLS/tftp_flood.py $PORT 2000 >$WORK/flood.out && cat $WORK/flood.out && grep -q 'answered 2000' $WORK/flood.out"
REFUSED=$(sed -n 's/^refused //p' "$WORK/flood.out")

# logged in full + summed up == refused (the last summary comes within a second)
accounted() {
    local full sum
    full=$(grep -c 'result=refused' "$WORK/srv.log")
    sum=$(sed -n 's/.*msg="\([0-9]*\) more refused requests not logged in the last second.*/\1/p' \
          "$WORK/srv.log" | awk '{s += $1} END {print s + 0}')
    echo "full=$full summed=$sum refused=$REFUSED"
    [ $((full + sum)) -eq "$REFUSED" ]
}
wait_accounted() {   # (20 s: the summary is due within a second, on a loaded machine later)
    for _ in $(seq 200); do accounted >/dev/null && break; sleep 0.1; done
    accounted
}
check_cmd "every refused request is accounted for (in full or in a summary)" wait_accounted
check_cmd "the log is not one line per request (< 100 lines)" \
    test "$(wc -l <"$WORK/srv.log")" -lt 100
check_cmd "a summary line by reason exists" \
    grep -qE 'more refused requests not logged in the last second" not-found=[0-9]+ access=[1-9][0-9]* ' "$WORK/srv.log"
check_cmd "a legitimate get still works" bash -c \
    "$IPCBOX tftp --quiet 127.0.0.1:$PORT get small.bin $OUT/small.bin && cmp $ROOT/small.bin $OUT/small.bin"
check_cmd "... and is logged (the access log is not rate-limited)" \
    wait_for "$WORK/srv.log" 'op=get peer=127.0.0.1:[0-9]* file="small.bin" .*result=ok'
finish
