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
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "needs python3"
ROOT=$WORK/root
mkdir -p "$ROOT" "$WORK/out"
head -c 300001 /dev/urandom >"$ROOT/other.bin"
frozen_fs_mount "$ROOT/frz" "$WORK/fs.img" 32M

# The scripted uploader: WRQ frz/NAME, 64 full blocks of 512 bytes, then
# "ready" on stdout; on a line from stdin the empty final block, then it
# waits (up to 60 s) for the final ACK and prints "acked".
head -c $((512 * 64)) /dev/urandom >"$WORK/up.bin"

# upload_until_ready NAME: start the uploader; sets UPID; fd 3 feeds it
upload_until_ready() {
    rm -f "$WORK/up.in" "$WORK/$1.out"
    mkfifo "$WORK/up.in"
    python3 "$PYTOOLS/tftp_stall_upload.py" "$PORT" "frz/$1" "$WORK/up.bin" <"$WORK/up.in" >"$WORK/$1.out" 2>&1 &
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
wait_for "$WORK/srv.log" 'file="frz/a.bin": storing' || exit 1
check_cmd "a download completes while another upload's commit is blocked" \
    "$IPCBOX" tftp --timeout 2 127.0.0.1:"$PORT" get other.bin "$WORK/out/other.bin"
check_cmd "the downloaded file is intact" same "$ROOT/other.bin" "$WORK/out/other.bin"
check_cmd "no final ACK before the file is stored" bash -c "! grep -q acked '$WORK/a.bin.out'"
thaw
check_cmd "after the thaw the upload gets its final ACK" wait_for "$WORK/a.bin.out" acked
check_cmd "the uploaded file is complete under its name" same "$WORK/up.bin" "$MNT/a.bin"
check_cmd "no temporary file is left" bash -c "! ls -A '$MNT' | grep -v -x -e a.bin -e lost+found"

# 2. SIGTERM during a blocked commit: the server waits for it, then exits 0
upload_until_ready b.bin
freeze
echo go >&3
exec 3>&-
wait_for "$WORK/srv.log" 'file="frz/b.bin": storing' || exit 1
kill -TERM "$SRV_PID"
wait_for "$WORK/srv.log" "shutting down" || exit 1
check_cmd "the server is still waiting for the commit" kill -0 "$SRV_PID"
thaw
wait_exit "$SRV_PID" 10
check "then it exits, with status 0" "$RC" 0
check_cmd "and the upload committed during shutdown is complete" same "$WORK/up.bin" "$MNT/b.bin"
finish
