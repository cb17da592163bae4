#!/usr/bin/env bash
# An upload's commit that blocks on the disk stalls no other transfer:
# tftpd fsyncs and renames a finished upload on a thread, and sends the
# final ACK only once the file is stored under its name. The disk is made
# to block for as long as the test wants by freezing a small ext4 file
# system (fsfreeze) mounted inside ROOT: a scripted peer uploads a file of
# whole blocks into it, the file system is frozen, and the empty final
# DATA block makes the server commit, whose rename waits for the thaw.
# Meanwhile a download from the same server must complete. A SIGTERM
# during a blocked commit waits for it: the file ends up complete.
. "$(dirname "$0")/tftp_common.inc"
. "$(dirname "$0")/frozen_fs.inc"

command -v python3 >/dev/null || fs_skip "needs python3"
ROOT=$WORK/root
mkdir -p "$ROOT" "$WORK/out"
head -c 300001 /dev/urandom >"$ROOT/other.bin"
frozen_fs_mount "$ROOT/frz" "$WORK/fs.img" 32M

# The scripted uploader: WRQ frz/NAME, 64 full blocks of 512 bytes, then
# "ready" on stdout; on a line from stdin the empty final block, then it
# waits (up to 60 s) for the final ACK and prints "acked".
cat >"$WORK/up.py" <<'EOF'
import socket, struct, sys
port, name, data = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
assert len(data) % 512 == 0
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"\0\2" + name.encode() + b"\0octet\0", ("127.0.0.1", port))
p, tid = s.recvfrom(1000)
assert p[:4] == b"\0\4\0\0", p
n = len(data) // 512
for b in range(1, n + 1):
    s.sendto(struct.pack("!HH", 3, b) + data[(b - 1) * 512:b * 512], tid)
    while True:   # lock-step: the ACK of this block
        p, _ = s.recvfrom(1000)
        if p[:2] == b"\0\4" and struct.unpack("!H", p[2:4])[0] == b:
            break
print("ready", flush=True)
sys.stdin.readline()
s.sendto(struct.pack("!HH", 3, n + 1), tid)
s.settimeout(60)
while True:
    p, _ = s.recvfrom(1000)
    if p[:2] == b"\0\5":
        print("error", p[4:-1].decode(), flush=True)
        sys.exit(1)
    if p[:2] == b"\0\4" and struct.unpack("!H", p[2:4])[0] == (n + 1) & 0xFFFF:
        print("acked", flush=True)
        break
EOF
head -c $((512 * 64)) /dev/urandom >"$WORK/up.bin"

# upload_until_ready NAME: start the uploader; sets UPID; fd 3 feeds it
upload_until_ready() {
    rm -f "$WORK/up.in" "$WORK/$1.out"
    mkfifo "$WORK/up.in"
    python3 "$WORK/up.py" "$PORT" "frz/$1" "$WORK/up.bin" <"$WORK/up.in" >"$WORK/$1.out" 2>&1 &
    UPID=$!
    PIDS+=("$UPID")
    exec 3>"$WORK/up.in"
    wait_for "$WORK/$1.out" ready || exit 1
}

# 1. a blocked commit; a download meanwhile; the upload lands after the thaw
start_tftpd "$WORK/srv.log" --log-level debug --create "$ROOT"
upload_until_ready a.bin
freeze
echo go >&3
exec 3>&-
wait_for "$WORK/srv.log" 'storing (fsync, rename)" op=put peer=[^ ]* file="frz/a.bin"' || exit 1
check "a download completes while another upload's commit is blocked" \
    "$IPCBOX" tftp --timeout 2 127.0.0.1:"$PORT" get other.bin "$WORK/out/other.bin"
check "the downloaded file is intact" same "$ROOT/other.bin" "$WORK/out/other.bin"
check "no final ACK before the file is stored" bash -c "! grep -q acked '$WORK/a.bin.out'"
thaw
check "after the thaw the upload gets its final ACK" wait_for "$WORK/a.bin.out" acked
check "the uploaded file is complete under its name" same "$WORK/up.bin" "$MNT/a.bin"
check "no temporary file is left" bash -c "! ls -A '$MNT' | grep -v -x -e a.bin -e lost+found"

# 2. SIGTERM during a blocked commit: the server waits for it, then exits 0
upload_until_ready b.bin
freeze
echo go >&3
exec 3>&-
wait_for "$WORK/srv.log" 'storing (fsync, rename)" op=put peer=[^ ]* file="frz/b.bin"' || exit 1
kill -TERM "$SRV_PID"
wait_for "$WORK/srv.log" "shutting down" || exit 1
check "the server is still waiting for the commit" kill -0 "$SRV_PID"
thaw
wait_exit() { for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done; ! kill -0 "$SRV_PID" 2>/dev/null; }
check "then it exits" wait_exit
wait "$SRV_PID"; rc=$?
check "with status 0" test "$rc" = 0
check "and the upload committed during shutdown is complete" same "$WORK/up.bin" "$MNT/b.bin"
finish
