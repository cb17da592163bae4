#!/bin/sh
# Installs the Debian 12 packages ipcbox needs; idempotent and quiet when
# everything is present. apt-get update runs at most once per invocation.
#
#   scripts/deps.sh          build + test dependencies (make run, make test)
#   scripts/deps.sh bench    also the peers the benchmarks compare against
#
# Every dependency of the project is named here, with what it is for.
set -eu

# build: compilers, cmake, pkg-config
BUILD="build-essential cmake pkg-config clang libclang-rt-14-dev"
# libraries: libxxhash (XXH3 integrity), libcrypto (SHA-256), cmocka (unit
# tests), libinih (the INI configuration file of serve)
LIBS="libxxhash-dev libssl-dev libcmocka-dev libinih-dev"
# test peers: nc, socat, curl, wget, tftp clients/servers, netns + nftables
# for loss tests, procps for pgrep/ps, chromium for the listing render test
TEST="netcat-openbsd socat curl wget procps iproute2 nftables tftp-hpa atftp atftpd psmisc python3 chromium"
# the xfer commit-stall test: mkfs.ext4 for a small loop-mounted file
# system that it freezes (fsfreeze, from util-linux)
TEST="$TEST e2fsprogs"
# benchmark peers and tools (only with 'bench'): GNU time (a client's CPU
# share), wrk, nginx, lighttpd, h2o, busybox, iperf3, and the libraries of
# the IPC peers (ZeroMQ, nng)
BENCH="time wrk nginx-light lighttpd h2o busybox iperf3 hyperfine libzmq3-dev libnng-dev"

want="$BUILD $LIBS $TEST"
[ "${1:-}" = bench ] && want="$want $BENCH"

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# atftpd ships an inetd/systemd service; keep it from starting on install
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# the peer servers must not hold ports or run as daemons behind our tests
for svc in atftpd nginx lighttpd h2o; do
    if command -v systemctl >/dev/null 2>&1; then
        $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
exit 0
