#!/bin/sh
# Installs the Debian 12 packages ipcbox needs; idempotent, and silent when
# everything is present. When something is missing it prints one line (what
# it installs) and keeps apt's output in a log, shown only if apt fails.
#
#   scripts/deps.sh run      to build and run ipcbox (make run)
#   scripts/deps.sh [test]   also everything the tests need (make test; default)
#   scripts/deps.sh bench    also the peers the benchmarks compare against
#
# Every dependency of the project is named here, with what it is for.
set -eu

# --- run: build the binary and run it ---------------------------------------
# compilers and make (build-essential), cmake, pkg-config (finds the libraries)
RUN="build-essential cmake pkg-config"
# libxxhash (XXH3 integrity of transfers), libssl (libcrypto: SHA-256 and
# HMAC of transfers), libinih (serve --config FILE, the INI file reader)
RUN="$RUN libxxhash-dev libssl-dev libinih-dev"
# libedit (the chat client's input line: editing and history)
RUN="$RUN libedit-dev"
# liburing (the io_uring loop backend: --model io_uring)
RUN="$RUN liburing-dev"

# --- test: everything `make test` builds and runs against -------------------
# clang + its sanitizer and libFuzzer runtimes (the ASan/UBSan build and the
# fuzz harnesses), cmocka (unit tests)
TEST="clang libclang-rt-14-dev libcmocka-dev"
# test peers: nc, socat, curl, wget, tftp clients/servers, netns + nftables
# for loss tests, procps for pgrep/ps, python3 for the test peers and
# checks written in Python, chromium for the listing render test; psmisc
# (fuser, killall) is used by no test today and kept for debugging a hung one
TEST="$TEST netcat-openbsd socat curl wget procps iproute2 nftables tftp-hpa atftp atftpd psmisc python3 chromium"
# the xfer commit-stall test: mkfs.ext4 for a small loop-mounted file
# system that it freezes (fsfreeze, from util-linux)
TEST="$TEST e2fsprogs"
# the chat client's tests: ngircd (a real IRC server, run by the test on a
# private loopback port) and python3-pyte (a terminal emulator that reads
# what the client draws on its pseudo-terminal)
TEST="$TEST ngircd python3-pyte"
# the chatd test with a real IRC client: ii (FIFO and file based, easy to
# script from a shell test)
TEST="$TEST ii"
# the chatd test with WeeChat: weechat-headless (no terminal needed) and
# weechat-plugins (its fifo plugin, through which the test types commands)
TEST="$TEST weechat-headless weechat-plugins"
# the chatd test with irssi (run on a pseudo-terminal, keys typed by
# tests/tools/chat_tty.py, read through its autolog files)
TEST="$TEST irssi"
# GNU parallel: tests/integration/pool_parallel.sh runs ipcbox pool and
# parallel on the same inputs and compares outputs, exit statuses and job
# logs (bench/pool.sh measures it too)
TEST="$TEST parallel"
# the chatd nodes test: redis-server (the backplane of chatd --redis, run
# by the test on a private loopback port; chatd speaks RESP itself)
TEST="$TEST redis-server"

# --- bench: the peers and tools of the benchmarks (bench/*.sh) ---------------
# GNU time (a client's CPU share), wrk, nginx, lighttpd, h2o, busybox,
# iperf3, hyperfine, and the libraries of the IPC peers (ZeroMQ, nng)
BENCH="time wrk nginx-light lighttpd h2o busybox iperf3 hyperfine libzmq3-dev libnng-dev"
# the chat benchmark's peers (bench/chat.sh, started on private loopback
# ports): redis-server (Redis pub/sub), nats-server, ncat (ncat --chat, a
# plain-line chat room)
BENCH="$BENCH redis-server nats-server ncat"

mode=${1:-test}
case $mode in
run)   want="$RUN" ;;
test)  want="$RUN $TEST" ;;
bench) want="$RUN $TEST $BENCH" ;;
*)     echo "usage: scripts/deps.sh [run|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: root or sudo is needed to install:$missing" >&2
        exit 1
    }
    SUDO="sudo"
fi
echo "deps ($mode): installing$missing" >&2
log=$(mktemp "${TMPDIR:-/tmp}/ipcbox-deps.XXXXXX")
export DEBIAN_FRONTEND=noninteractive
# apt-get update runs at most once per invocation
if ! { $SUDO apt-get update -qq &&
       $SUDO apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "deps: apt-get failed; full log in $log" >&2
    exit 1
fi
rm -f "$log"
# the peer servers (atftpd ships an inetd/systemd service, nginx, lighttpd,
# h2o, ngircd, redis-server, nats-server) must not hold ports or run as
# daemons behind our tests
for svc in atftpd nginx lighttpd h2o ngircd redis-server nats-server; do
    if command -v systemctl >/dev/null 2>&1; then
        $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
exit 0
