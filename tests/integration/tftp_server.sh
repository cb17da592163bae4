#!/usr/bin/env bash
# ipcbox tftpd behaviour: confinement to ROOT, upload policy and atomic
# uploads, option negotiation, wrong-TID errors, no Sorcerer's Apprentice,
# window restart after a loss, port range, single-port mode, IPv6,
# concurrent transfers, privilege drop, usage errors. Packet-level checks
# are done by a small python3 peer.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

ROOT=$WORK/root
OUT=$WORK/out
mkdir -p "$OUT" "$ROOT/sub" "$WORK/outside"
tftp_files "$ROOT"
head -c $((8192 * 300 + 77)) /dev/urandom >"$ROOT/win.bin"
echo secret >"$WORK/outside/secret.txt"
ln -s "$WORK/outside/secret.txt" "$ROOT/escape-abs"
ln -s ../../outside/secret.txt "$ROOT/sub/escape-rel"
ln -s ../random.bin "$ROOT/sub/inside-link"
mkfifo "$ROOT/fifo"
cp "$ROOT/random.bin" "$ROOT/sub/nested.bin"

peer() { timeout 60 python3 "$PYTOOLS/tftp_peer.py" "$@"; }

# expect_error CODE CMD...: our client fails and reports server error CODE
expect_error() {
    local code=$1
    shift
    timeout 60 "$@" >"$WORK/err.out" 2>&1 && { echo "unexpected success"; return 1; }
    grep -q "server error $code" "$WORK/err.out" || { cat "$WORK/err.out"; return 1; }
}

start_tftpd "$WORK/ro.log" --giveup 2 "$ROOT"
TC="$IPCBOX tftp --quiet 127.0.0.1:$PORT"

# ---- confinement ------------------------------------------------------------
check_cmd "get sub/nested.bin (a path below root)" \
    bash -c "$TC get sub/nested.bin $OUT/n && cmp $ROOT/sub/nested.bin $OUT/n"
check_cmd "get /random.bin (leading slash is the root, as PXE clients send)" \
    bash -c "$TC get /random.bin $OUT/r && cmp $ROOT/random.bin $OUT/r"
check_cmd "get sub/inside-link (a symlink that stays inside root)" \
    bash -c "$TC get sub/inside-link $OUT/l && cmp $ROOT/random.bin $OUT/l"
check_cmd "refuse ../outside/secret.txt" expect_error 2 $TC get ../outside/secret.txt $OUT/x
check_cmd "refuse sub/../random.bin (no .. at all)" expect_error 2 $TC get sub/../random.bin $OUT/x
check_cmd "refuse $WORK/outside/secret.txt (absolute path stays in root)" \
    expect_error 1 $TC get "$WORK/outside/secret.txt" $OUT/x
check_cmd "refuse escape-abs (absolute symlink out of root)" expect_error 2 $TC get escape-abs $OUT/x
check_cmd "refuse sub/escape-rel (relative symlink out of root)" expect_error 2 $TC get sub/escape-rel $OUT/x
check_cmd "refuse a directory" expect_error 2 $TC get sub $OUT/x
check_cmd "refuse a FIFO without blocking the server" expect_error 2 $TC get fifo $OUT/x
check_cmd "missing file is error 1" expect_error 1 $TC get no-such-file $OUT/x
check_cmd "no secret leaked into the output directory" test ! -e "$OUT/x"
check_cmd "read-only by default: put refused with error 2" \
    expect_error 2 $TC put new.bin "$ROOT/random.bin"
check_cmd "read-only: nothing created" test ! -e "$ROOT/new.bin"

# ---- packet-level behaviour -------------------------------------------------
check_cmd "wrong TID gets ERROR 5 and the transfer goes on" peer wrong-tid "$PORT" "$ROOT/random.bin"
check_cmd "no Sorcerer's Apprentice: duplicate ACKs do not double DATA" peer sas "$PORT" "$ROOT/random.bin"
check_cmd "windowsize: restart from the last ACKed block" peer window-restart "$PORT" "$ROOT/random.bin"
check_cmd "a repeated request does not start a second transfer" peer repeat-request "$PORT" "$ROOT/random.bin"
check_cmd "windowsize: a duplicate ACK (gap at a window's first block) restarts once" peer gap-restart "$PORT" "$ROOT/random.bin"
check_cmd "get by a receiver whose buffer holds less than a window: intact, few resends" \
    peer small-buffer-client "$PORT" "$ROOT/win.bin"
check_cmd "option negotiation leaves out what is not granted" peer options "$PORT" "$ROOT/random.bin"
check_cmd "one log line per transfer with result" grep -q 'file="random.bin" .*result=ok' "$WORK/ro.log"
check_cmd "refusals are logged" grep -q 'file="../outside/secret.txt" .*result=refused reason="access violation"' "$WORK/ro.log"

# ---- concurrency: many transfers on one loop --------------------------------
pids=()
for i in $(seq 8); do
    $TC --windowsize $((i * 4)) --blksize $((i * 500)) get random.bin "$OUT/c$i" & pids+=($!)
done
curl -s -o "$OUT/cc" "tftp://127.0.0.1:$PORT/random.bin" & pids+=($!)
$TC get absent.bin "$OUT/ca" 2>/dev/null & absent=$!
conc_ok=1
for p in "${pids[@]}"; do wait "$p" || conc_ok=0; done
wait $absent && conc_ok=0
for i in $(seq 8); do cmp -s "$ROOT/random.bin" "$OUT/c$i" || conc_ok=0; done
cmp -s "$ROOT/random.bin" "$OUT/cc" || conc_ok=0
check_cmd "10 concurrent transfers (8 ipcbox clients, curl, one absent file) intact" test $conc_ok -eq 1

# ---- uploads ----------------------------------------------------------------
start_tftpd "$WORK/create.log" --create --giveup 1 "$ROOT"
TC="$IPCBOX tftp --quiet 127.0.0.1:$PORT"
check_cmd "--create: put a new file" \
    bash -c "$TC put sub/new.bin $ROOT/random.bin && cmp $ROOT/random.bin $ROOT/sub/new.bin"
check_cmd "--create: replacing is refused with error 6" \
    expect_error 6 $TC put sub/new.bin "$ROOT/text.txt"
check_cmd "--create: the refused replacement left the file as it was" cmp "$ROOT/random.bin" "$ROOT/sub/new.bin"
check_cmd "put into a missing directory is refused" expect_error 1 $TC put nodir/x.bin "$ROOT/text.txt"
check_cmd "put through an escaping path is refused" expect_error 2 $TC put ../outside/evil "$ROOT/text.txt"
check_cmd "put over a symlink is refused" expect_error 2 $TC put escape-abs "$ROOT/text.txt"
check_cmd "upload abandoned mid-way: server side" peer abandon-upload "$PORT" "$ROOT/random.bin"
check_cmd "upload abandoned mid-way: logged as failed" wait_for "$WORK/create.log" 'file="abandoned.bin".*result=failed'
check_cmd "upload abandoned mid-way: leaves no file and no temporary" \
    bash -c "test ! -e $ROOT/abandoned.bin && ! ls -a $ROOT | grep -q tftp-upload"

start_tftpd "$WORK/over.log" --allow-overwrite "$ROOT"
TC="$IPCBOX tftp --quiet 127.0.0.1:$PORT"
check_cmd "--allow-overwrite: replace an existing file" \
    bash -c "$TC put sub/new.bin $ROOT/text.txt && cmp $ROOT/text.txt $ROOT/sub/new.bin"
check_cmd "--allow-overwrite alone does not create" expect_error 2 $TC put brand-new.bin "$ROOT/text.txt"

# --max-size takes the same sizes as recv's (k, m, g suffixes)
start_tftpd "$WORK/max.log" --create --max-size 100k "$ROOT"
TC="$IPCBOX tftp --quiet 127.0.0.1:$PORT"
check_cmd "--max-size 100k: a 300001-byte upload is refused (disk full)" \
    expect_error 3 $TC put big-upload.bin "$ROOT/random.bin"
check_cmd "--max-size 100k: the refused upload left nothing" test ! -e "$ROOT/big-upload.bin"
check_cmd "--max-size 100k: a small upload is stored" \
    bash -c "$TC put small-upload.bin $ROOT/text.txt && cmp $ROOT/text.txt $ROOT/small-upload.bin"

# ---- port range, single port, IPv6 ------------------------------------------
lo=$((20000 + RANDOM % 20000))
start_tftpd "$WORK/range.log" --port-range $lo:$((lo + 9)) "$ROOT"
check_cmd "--port-range: transfers use ports from the range" peer port-range "$PORT" "$ROOT/random.bin" $lo $((lo + 9))

start_tftpd "$WORK/single.log" --single-port --create "$ROOT"
check_cmd "--single-port: replies from the listening port" peer single-port "$PORT" "$ROOT/random.bin"
check_cmd "--single-port: curl get" \
    bash -c "curl -sS --tftp-blksize 1468 -o $OUT/s1 tftp://127.0.0.1:$PORT/random.bin && cmp $ROOT/random.bin $OUT/s1"
check_cmd "--single-port: ipcbox get, windowsize 16" \
    bash -c "$IPCBOX tftp --quiet --windowsize 16 --blksize 8192 127.0.0.1:$PORT get random.bin $OUT/s2 && cmp $ROOT/random.bin $OUT/s2"
check_cmd "--single-port: ipcbox put, windowsize 8" \
    bash -c "$IPCBOX tftp --quiet --windowsize 8 127.0.0.1:$PORT put single.bin $ROOT/random.bin && cmp $ROOT/random.bin $ROOT/single.bin"

if have_ipv6; then
    "$IPCBOX" tftpd --listen '[::1]:0' "$ROOT" >"$WORK/v6.log" 2>&1 &
    PIDS+=($!)
    wait_for "$WORK/v6.log" "listening on" || exit 1
    P6=$(listen_port "$WORK/v6.log")
    check_cmd "IPv6: ipcbox client over [::1]" \
        bash -c "$IPCBOX tftp --quiet --windowsize 8 '[::1]:$P6' get random.bin $OUT/v6a && cmp $ROOT/random.bin $OUT/v6a"
    check_cmd "IPv6: curl over [::1]" \
        bash -c "curl -sS -g -o $OUT/v6b 'tftp://[::1]:$P6/random.bin' && cmp $ROOT/random.bin $OUT/v6b"
else
    echo "note: no IPv6 loopback here; IPv6 checks not run"
fi

# ---- privilege drop ---------------------------------------------------------
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    chmod -R a+rX "$WORK"
    start_tftpd "$WORK/user.log" --user nobody "$ROOT"
    # (logged after the listening line start_tftpd waited for: wait for it)
    check_cmd "--user nobody: privileges dropped after binding" wait_for "$WORK/user.log" 'running as nobody'
    check_cmd "--user nobody: process runs as nobody" \
        bash -c "test \"\$(ps -o user= -p $SRV_PID)\" = nobody"
    check_cmd "--user nobody: serves files" \
        bash -c "$IPCBOX tftp --quiet 127.0.0.1:$PORT get random.bin $OUT/u && cmp $ROOT/random.bin $OUT/u"
fi

# ---- our client falls back when a server ignores or refuses options --------
for kind in old-server refusing-server; do
    rm -f "$WORK/oldport"
    peer "$kind" 0 "$ROOT/random.bin" "$WORK/oldport" >"$WORK/$kind.out" 2>&1 &
    opid=$!
    for _ in $(seq 50); do [ -s "$WORK/oldport" ] && break; sleep 0.1; done
    check_cmd "client falls back to RFC 1350 defaults ($kind)" \
        bash -c "$IPCBOX tftp --blksize 1468 --windowsize 16 127.0.0.1:$(cat "$WORK/oldport") get random.bin $OUT/$kind && cmp $ROOT/random.bin $OUT/$kind"
    wait $opid
    check_cmd "$kind peer saw a complete transfer" grep -q served "$WORK/$kind.out"
done

# ---- our client paces its windows for a receiver with a small buffer --------
head -c $((8192 * 300 + 77)) /dev/urandom >"$WORK/up2m.bin"
rm -f "$WORK/smallport"
peer small-buffer-server 0 "$WORK/up2m.bin" "$WORK/smallport" >"$WORK/small.out" 2>&1 &
spid=$!
for _ in $(seq 50); do [ -s "$WORK/smallport" ] && break; sleep 0.1; done
check_cmd "put to a receiver whose buffer holds less than a window" \
    "$IPCBOX" tftp --blksize 8192 --windowsize 16 127.0.0.1:"$(cat "$WORK/smallport")" put up2m.bin "$WORK/up2m.bin"
wait $spid
src=$?
cat "$WORK/small.out"
check_cmd "it got every byte, without a resend for every burst" test "$src" = 0

# ---- inside `ipcbox serve` -------------------------------------------------
# every other service off, so that no default port needs to be free
others=$(serve_only tftpd)
"$IPCBOX" serve "$ROOT" --tftpd-listen 127.0.0.1:0 $others >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
if wait_for "$WORK/serve.log" 'tftpd\[[0-9]*\]: msg="listening on'; then
    SP=$(listen_port "$WORK/serve.log" "tftpd: ")
    check_cmd "serve: tftpd runs on the shared loop, read-only" \
        bash -c "$IPCBOX tftp --quiet --windowsize 8 127.0.0.1:$SP get random.bin $OUT/sv && cmp $ROOT/random.bin $OUT/sv"
else
    check_cmd "serve: tftpd started" false
fi

# ---- --no-busy-poll: the plain sleeping path moves a windowed file whole ----
start_tftpd "$WORK/nospin.log" --no-busy-poll "$ROOT"
check_cmd "--no-busy-poll: windowed transfer intact" \
    bash -c "$IPCBOX tftp --quiet --blksize 8192 --windowsize 16 127.0.0.1:$PORT get random.bin $OUT/nospin && cmp $ROOT/random.bin $OUT/nospin"
check_cmd "--no-busy-poll: paced bursts for a small-buffer receiver (timer path)" \
    peer small-buffer-client "$PORT" "$ROOT/win.bin"

# ---- usage errors -----------------------------------------------------------
usage_is_2() { timeout 10 "$@" >/dev/null 2>&1; [ $? -eq 2 ]; }
check_cmd "usage: tftpd --port-range 9:1 exits 2" usage_is_2 "$IPCBOX" tftpd --port-range 9:1
check_cmd "usage: tftpd --max-blksize 7 exits 2" usage_is_2 "$IPCBOX" tftpd --max-blksize 7
check_cmd "usage: tftp without arguments exits 2" usage_is_2 "$IPCBOX" tftp
check_cmd "usage: tftp --blksize 65465 exits 2" usage_is_2 "$IPCBOX" tftp --blksize 65465 127.0.0.1 get x
check_cmd "usage: tftp HOST fetch exits 2" usage_is_2 "$IPCBOX" tftp 127.0.0.1 fetch x
check_cmd "help: tftpd --help exits 0" "$IPCBOX" tftpd --help

finish
