#!/bin/bash
# What a CGI request can make the server spend or write, and what the
# script gets:
# - stderr is framed into the server log: one escaped line per line,
#   prefixed with the script; a forged log line, escape sequences, a
#   line longer than 1024 bytes and a flood over --cgi-stderr-max are
#   all neutralised (and the script never blocks on its stderr);
# - --cgi-max: scripts beyond it get 503 and one log line; slots come back;
# - the script inherits no descriptor of the server (only 0-2, and for a
#   #! script the script itself for its interpreter);
# - a request body waiting for a slow script is not buffered whole: the
#   server's peak RSS grows far less than the body.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
C="$R/cgi-bin"
mkdir -p "$C"
cat > "$C/err.sh" <<'SH'
#!/bin/sh
printf '\n2026-01-01T00:00:00.000Z info httpd[1]: forged\n' >&2
printf 'red \033[31mRED\033[0m "q" back\\slash\r\n' >&2
head -c 3000 /dev/zero | tr '\0' L >&2
printf '\nno newline at end' >&2
printf 'Content-Type: text/plain\n\nok\n'
SH
cat > "$C/flood.sh" <<'SH'
#!/bin/sh
i=0
while [ $i -lt 2000 ]; do echo "flood line $i of stderr" >&2; i=$((i + 1)); done
printf 'Content-Type: text/plain\n\nflooded\n'
SH
cat > "$C/hold.sh" <<SH
#!/bin/sh
echo \$\$ > "$WORK/hold.\$\$"
i=0
while [ ! -e "$WORK/release" ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i + 1)); done
printf 'Content-Type: text/plain\n\nheld\n'
SH
# (the script becomes ls, which lists its own descriptors: a shell keeps
# some of its own, e.g. a saved stdout around a redirection)
cat > "$C/fds.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
exec ls -l /proc/self/fd/
SH
cat > "$C/slowread.sh" <<SH
#!/bin/sh
while [ ! -e "$WORK/go" ]; do sleep 0.05; done
printf 'Content-Type: text/plain\n\n'
wc -c
SH
chmod +x "$C"/*.sh

# a small ASan quarantine: the peak RSS below is to measure our buffers,
# not freed memory ASan holds back (no effect on other builds)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
start_httpd --cgi /cgi-bin/ --cgi-max 2 --cgi-stderr-max 4096 --max-body 40000000 "$R"

# --- stderr framing
check "script with stderr answers" "$(curl -sS "$BASE/cgi-bin/err.sh")" "ok"
for _ in $(seq 1 400); do grep -q 'no newline at end' "$ERRLOG" && break; sleep 0.05; done
log=$(cat "$ERRLOG")
check "no forged line in the log" "$(grep -c '^2026-01-01T00:00:00' "$ERRLOG" || true)" "0"
check_has "forged text framed" "$log" 'cgi=stderr script=/cgi-bin/err.sh pid='
check_has "... as an escaped message" "$log" 'msg="2026-01-01T00:00:00.000Z info httpd[1]: forged"'
check_has "escape sequences escaped" "$log" 'msg="red \x1b[31mRED\x1b[0m \"q\" back\\slash\r"'
check "no raw escape byte in the log" "$(grep -c $'\033' "$ERRLOG" || true)" "0"
check_has "long line cut" "$log" 'truncated=true'
check_lacks "... at 1024 bytes" "$log" "$(head -c 1025 /dev/zero | tr '\0' L)"
check_has "unterminated last line" "$log" 'msg="no newline at end"'
check "stderr flood: script not blocked" "$(curl -sS -m 20 "$BASE/cgi-bin/flood.sh")" "flooded"
for _ in $(seq 1 400); do grep -q 'further stderr dropped' "$ERRLOG" && break; sleep 0.05; done
check_has "stderr flood: bounded, with a note" "$(cat "$ERRLOG")" 'msg="further stderr dropped (--cgi-stderr-max)" cgi=stderr script=/cgi-bin/flood.sh'
n=$(grep -c 'msg="flood line' "$ERRLOG" || true)
check "stderr flood: lines logged within the bound" "$([ "$n" -gt 100 ] && [ "$n" -lt 200 ] && echo bounded || echo "$n lines")" "bounded"

# --- descriptors
a=$(curl -sS "$BASE/cgi-bin/fds.sh")
a=$(printf '%s\n' "$a" | awk '$9 > 2 {print "fd", $9, $11}' | grep -v ' /proc/[0-9]*/fd$')
check "script inherits only itself, at fd 3 for its interpreter" "$a" "fd 3 $(cd "$C" && pwd -P)/fds.sh"

# --- --cgi-max
rm -f "$WORK"/hold.* "$WORK/release"
curl -sS -m 30 -o "$WORK/h1" "$BASE/cgi-bin/hold.sh" & h1=$!
curl -sS -m 30 -o "$WORK/h2" "$BASE/cgi-bin/hold.sh" & h2=$!
for _ in $(seq 1 200); do [ "$(ls "$WORK"/hold.* 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.05; done
check "two scripts running" "$(ls "$WORK"/hold.* 2>/dev/null | wc -l)" "2"
check "third over --cgi-max: 503" "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/cgi-bin/err.sh")" "503"
check_has "limit logged" "$(cat "$ERRLOG")" 'msg="cgi limit reached (--cgi-max), answering 503" cgi_max=2'
touch "$WORK/release"
wait "$h1" "$h2" || true
check "held scripts answered" "$(cat "$WORK/h1" "$WORK/h2")" "held
held"
check "slots given back" "$(curl -sS "$BASE/cgi-bin/err.sh")" "ok"

# --- a request body for a slow script is not buffered whole
head -c 30000000 /dev/zero > "$WORK/body"
before=$(proc_kb "$PID" VmHWM)
curl -sS -m 60 --data-binary @"$WORK/body" -o "$WORK/wc" "$BASE/cgi-bin/slowread.sh" & cp=$!
# the client has sent what the socket buffers take and waits
for _ in $(seq 1 100); do [ -e "/proc/$cp" ] || break; sleep 0.05; done
touch "$WORK/go"
wait "$cp" || true
check "30 MB body reached the slow script" "$(tr -d ' ' < "$WORK/wc")" "30000000"
after=$(proc_kb "$PID" VmHWM)
grow=$(( (after - before) / 1024 ))
check "server peak grew < 12 MiB for a 30 MB body (${grow} MiB)" "$([ "$grow" -lt 12 ] && echo yes || echo no)" "yes"
finish
