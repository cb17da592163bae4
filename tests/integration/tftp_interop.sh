#!/usr/bin/env bash
# TFTP interop matrix over loopback:
#   our server  x  tftp-hpa tftp, atftp (windowsize), curl (--tftp-blksize),
#                  our client
#   our client  x  atftpd
# in octet and netascii, for files of 0 bytes, exactly 512*N bytes, odd
# sizes, and one of more than 65535 blocks (block numbers wrap).
. "$(dirname "$0")/../lib.sh"

for tool in tftp atftp atftpd curl python3; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/deps.sh)"; exit 77; }
done

SRV=$WORK/srv
OUT=$WORK/out
mkdir -p "$OUT"
tftp_files "$SRV"
# more than 65535 blocks at blksize 512: the block number wraps to 0
head -c $((65536 * 512 + 100)) /dev/urandom >"$SRV/wrap.bin"
# what a netascii transfer carries for text.txt (curl writes it unconverted)
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(d.replace(b"\r",b"\r\0").replace(b"\n",b"\r\n"))' \
    "$SRV/text.txt" "$WORK/text.netascii"
chmod -R a+rwX "$WORK"

start_tftpd "$WORK/tftpd.log" --create --allow-overwrite "$SRV"
echo "our tftpd on 127.0.0.1:$PORT"
n=0
dl() { n=$((n + 1)); o="$OUT/$n.$1"; }   # a fresh output name in $o

# ---- our server with tftp-hpa's client --------------------------------------
for f in zero.bin exact512x8.bin random.bin wrap.bin; do
    dl "$f"
    check_cmd "ipcbox-tftpd <- tftp-hpa get $f octet" \
        bash -c "tftp 127.0.0.1 $PORT -m binary -c get $f $o && cmp $SRV/$f $o"
done
dl txt
check_cmd "ipcbox-tftpd <- tftp-hpa get text.txt netascii" \
    bash -c "tftp 127.0.0.1 $PORT -m ascii -c get text.txt $o && cmp $SRV/text.txt $o"
cp "$SRV/random.bin" "$WORK/up-hpa.bin"
check_cmd "ipcbox-tftpd <- tftp-hpa put random.bin octet" \
    bash -c "cd $WORK && tftp 127.0.0.1 $PORT -m binary -c put up-hpa.bin hpa-put.bin && cmp $SRV/random.bin $SRV/hpa-put.bin"
cp "$SRV/text.txt" "$WORK/up-hpa.txt"
check_cmd "ipcbox-tftpd <- tftp-hpa put text.txt netascii" \
    bash -c "cd $WORK && tftp 127.0.0.1 $PORT -m ascii -c put up-hpa.txt hpa-put.txt && cmp $SRV/text.txt $SRV/hpa-put.txt"

# ---- our server with atftp (windowsize) -------------------------------------
for f in zero.bin exact512x8.bin exact1468x3.bin random.bin wrap.bin; do
    for opt in "" "--option windowsize\ 16" "--option windowsize\ 8 --option blksize\ 1468"; do
        dl "$f"
        check_cmd "ipcbox-tftpd <- atftp get $f octet ${opt//\\/}" \
            bash -c "atftp $opt -g -r $f -l $o 127.0.0.1 $PORT && cmp $SRV/$f $o"
    done
done
dl txt
check_cmd "ipcbox-tftpd <- atftp get text.txt netascii" \
    bash -c "printf 'connect 127.0.0.1 $PORT\nmode netascii\nget text.txt $o\nquit\n' | atftp && cmp $SRV/text.txt $o"
check_cmd "ipcbox-tftpd <- atftp put random.bin octet windowsize 4" \
    bash -c "atftp --option 'windowsize 4' -p -r atftp-put.bin -l $SRV/random.bin 127.0.0.1 $PORT && cmp $SRV/random.bin $SRV/atftp-put.bin"

# ---- our server with curl ---------------------------------------------------
for f in zero.bin exact512x8.bin random.bin wrap.bin; do
    for bs in "" "--tftp-blksize 1468" "--tftp-blksize 8192"; do
        dl "$f"
        check_cmd "ipcbox-tftpd <- curl get $f octet $bs" \
            bash -c "curl -sS $bs -o $o tftp://127.0.0.1:$PORT/$f && cmp $SRV/$f $o"
    done
done
dl txt
check_cmd "ipcbox-tftpd <- curl get text.txt netascii (curl keeps the wire form)" \
    bash -c "curl -sS -o $o 'tftp://127.0.0.1:$PORT/text.txt;mode=netascii' && cmp $WORK/text.netascii $o"
check_cmd "ipcbox-tftpd <- curl put exact512x8.bin octet blksize 1024" \
    bash -c "curl -sS --tftp-blksize 1024 -T $SRV/exact512x8.bin tftp://127.0.0.1:$PORT/curl-put.bin && cmp $SRV/exact512x8.bin $SRV/curl-put.bin"

# ---- our server with our client ---------------------------------------------
for f in zero.bin exact512x8.bin random.bin wrap.bin; do
    for opt in "" "--windowsize 16" "--blksize 65464 --windowsize 16" "--blksize 8 --windowsize 64"; do
        [ "$f" = wrap.bin ] && [ "$opt" = "--blksize 8 --windowsize 64" ] && continue
        dl "$f"
        check_cmd "ipcbox-tftpd <- ipcbox-tftp get $f octet $opt" \
            bash -c "$IPCBOX tftp $opt 127.0.0.1:$PORT get $f $o && cmp $SRV/$f $o"
    done
done
for opt in "" "--windowsize 4 --blksize 100"; do
    dl txt
    check_cmd "ipcbox-tftpd <- ipcbox-tftp get text.txt netascii $opt" \
        bash -c "$IPCBOX tftp --mode netascii $opt 127.0.0.1:$PORT get text.txt $o && cmp $SRV/text.txt $o"
    check_cmd "ipcbox-tftpd <- ipcbox-tftp put text.txt netascii $opt" \
        bash -c "$IPCBOX tftp --mode netascii $opt 127.0.0.1:$PORT put ours-put.txt $SRV/text.txt && cmp $SRV/text.txt $SRV/ours-put.txt"
done
check_cmd "ipcbox-tftpd <- ipcbox-tftp put wrap.bin octet windowsize 16" \
    bash -c "$IPCBOX tftp --windowsize 16 127.0.0.1:$PORT put ours-wrap.bin $SRV/wrap.bin && cmp $SRV/wrap.bin $SRV/ours-wrap.bin"
check_cmd "ipcbox-tftpd <- ipcbox-tftp put zero.bin octet" \
    bash -c "$IPCBOX tftp 127.0.0.1:$PORT put ours-zero.bin $SRV/zero.bin && cmp $SRV/zero.bin $SRV/ours-zero.bin"

# one log line per transfer, with the fields an operator greps for
ok_lines=$(grep -c 'result=ok' "$WORK/tftpd.log")
check_cmd "ipcbox-tftpd logged one result=ok line per transfer ($ok_lines)" \
    test "$ok_lines" -eq "$PASSES"
check_cmd "ipcbox-tftpd log line has peer, file, bytes, blksize, windowsize, time, rate" \
    grep -Eq 'op=get peer=127\.0\.0\.1:[0-9]+ file="wrap.bin" mode=octet bytes=33554532 blksize=512 windowsize=16 duration_ms=[0-9]+ rate=[0-9.]+MB/s' "$WORK/tftpd.log"

# ---- our client against atftpd ----------------------------------------------
ATFTPD_ROOT=$WORK/atftpd
tftp_files "$ATFTPD_ROOT"
cp "$SRV/wrap.bin" "$ATFTPD_ROOT/"
chmod -R a+rwX "$ATFTPD_ROOT"
# (a spare port: no UDP socket of a test beside this one is given it
# before atftpd binds it)
APORT=$(spare_ports udp 1) || fail "no spare UDP port for atftpd"
user_args=()
[ "$(id -u)" -eq 0 ] && user_args=(--user root --group root)
atftpd --daemon --no-fork --port "$APORT" --bind-address 127.0.0.1 "${user_args[@]}" \
    --logfile "$WORK/atftpd.log" "$ATFTPD_ROOT" &
PIDS+=($!)
# readiness: a request for a missing file gets an answer once it listens
for _ in $(seq 50); do
    "$IPCBOX" tftp --quiet --timeout 1 127.0.0.1:"$APORT" get no-such-file "$WORK/probe" 2>&1 |
        grep -q 'server error' && break
    sleep 0.1
done
echo "atftpd on 127.0.0.1:$APORT"
for f in zero.bin exact512x8.bin random.bin wrap.bin; do
    for opt in "" "--windowsize 16" "--blksize 1468 --windowsize 8"; do
        dl "$f"
        check_cmd "atftpd <- ipcbox-tftp get $f octet $opt" \
            bash -c "$IPCBOX tftp $opt 127.0.0.1:$APORT get $f $o && cmp $ATFTPD_ROOT/$f $o"
    done
done
dl txt
check_cmd "atftpd <- ipcbox-tftp get text.txt netascii" \
    bash -c "$IPCBOX tftp --mode netascii 127.0.0.1:$APORT get text.txt $o && cmp $ATFTPD_ROOT/text.txt $o"
touch "$ATFTPD_ROOT/put-a.bin" "$ATFTPD_ROOT/put-b.txt" && chmod a+rw "$ATFTPD_ROOT"/put-*
check_cmd "atftpd <- ipcbox-tftp put random.bin octet windowsize 8" \
    bash -c "$IPCBOX tftp --windowsize 8 127.0.0.1:$APORT put put-a.bin $SRV/random.bin && cmp $SRV/random.bin $ATFTPD_ROOT/put-a.bin"
check_cmd "atftpd <- ipcbox-tftp put text.txt netascii" \
    bash -c "$IPCBOX tftp --mode netascii 127.0.0.1:$APORT put put-b.txt $SRV/text.txt && cmp $SRV/text.txt $ATFTPD_ROOT/put-b.txt"

finish
