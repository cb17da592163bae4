#!/usr/bin/env bash
# ipcbox tftpd: a flood of refused requests (issue 11 class (a), the disk
# through the log). 2000 bad requests (missing files, uploads to a
# read-only server, unknown opcodes) from several source addresses, each
# answered before the next is sent: the refusal lines are rate-limited
# (a few a second in full, the rest summed up in one line a second by
# reason), and every refused request is accounted for in the log; a
# transfer that ran still gets its own line (the access log).
. "$(dirname "$0")/tftp_common.inc"

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

ROOT=$WORK/root
OUT=$WORK/out
mkdir -p "$ROOT" "$OUT"
head -c 3000 /dev/urandom >"$ROOT/small.bin"

cat >"$WORK/flood.py" <<'EOF'
# python3 flood.py PORT N: N bad requests, one at a time (each waits for
# its ERROR, at most 1 s), from 127.0.0.2..9; prints "refused K" (the
# RRQ/WRQ answered with ERROR) and "answered A".
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.%d" % (2 + i), 0))
    s.settimeout(1)
    socks.append(s)
refused = answered = 0
for i in range(n):
    s = socks[i % len(socks)]
    kind = i % 4
    if kind == 0:
        pkt = struct.pack("!H", 1) + b"missing-%d\0octet\0" % i
    elif kind == 1:
        pkt = struct.pack("!H", 2) + b"upload-%d\0octet\0" % i
    elif kind == 2:
        pkt = struct.pack("!H", 1) + b"../../etc/passwd\0octet\0"
    else:
        pkt = struct.pack("!H", 9) + b"bogus-opcode-%d\0" % i
    s.sendto(pkt, ("127.0.0.1", port))
    try:
        data, _ = s.recvfrom(1024)
    except socket.timeout:
        continue
    answered += 1
    if kind != 3 and data[:2] == struct.pack("!H", 5):
        refused += 1
print("refused", refused)
print("answered", answered)
EOF

start_tftpd "$WORK/srv.log" "$ROOT"

check "2000 bad requests are answered" bash -c \
    "timeout 120 python3 $WORK/flood.py $PORT 2000 >$WORK/flood.out && cat $WORK/flood.out && grep -q 'answered 2000' $WORK/flood.out"
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
wait_accounted() {
    for _ in $(seq 50); do accounted >/dev/null && break; sleep 0.1; done
    accounted
}
check "every refused request is accounted for (in full or in a summary)" wait_accounted
check "the log is not one line per request (< 100 lines)" \
    test "$(wc -l <"$WORK/srv.log")" -lt 100
check "a summary line by reason exists" \
    grep -qE 'more refused requests not logged in the last second" not-found=[0-9]+ access=[1-9][0-9]* ' "$WORK/srv.log"
check "a legitimate get still works" bash -c \
    "$IPCBOX tftp --quiet 127.0.0.1:$PORT get small.bin $OUT/small.bin && cmp $ROOT/small.bin $OUT/small.bin"
check "... and is logged (the access log is not rate-limited)" \
    wait_for "$WORK/srv.log" 'op=get peer=127.0.0.1:[0-9]* file="small.bin" .*result=ok'
finish
