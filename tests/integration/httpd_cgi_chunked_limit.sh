#!/bin/bash
# A chunked CGI request body is collected in memory (up to --max-body)
# before its script starts; it holds one of the --cgi-max slots from its
# first byte, so at most --cgi-max such bodies are held at once: clients
# beyond it get 503 at once (without a 100 Continue), before their body
# has been read, and the server's memory does not grow by their bodies.
# Under the epoll and the thread model. A slot is given back when a body
# is refused (400) or its client leaves, so later requests run.
. "$(dirname "$0")/../lib.sh"
set -e

R="$WORK/root"
mkdir -p "$R/cgi-bin"
cat > "$R/cgi-bin/len.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\n\nlen=%s\n' "$CONTENT_LENGTH"
SH
chmod +x "$R/cgi-bin/len.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:malloc_context_size=2"

for model in epoll thread; do
    start_httpd --model "$model" --cgi /cgi-bin/ --cgi-max 2 --max-body 8000000 \
        --access-log off "$R"
    out=$(python3 - "$ADDR" "$PID" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
pid = sys.argv[2]
def rss(field="VmRSS"):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0
HEAD = (b"POST /cgi-bin/len.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
        b"Expect: 100-continue\r\n\r\n")
CHUNK = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
r0 = rss()
socks, refused, continued = [], 0, 0
for i in range(8):
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(HEAD)
    first = b""
    while b"\r\n\r\n" not in first:
        d = s.recv(4096)
        if not d:
            break
        first += d
    if first.startswith(b"HTTP/1.1 503"):
        refused += 1
        s.close()
        continue
    continued += first.startswith(b"HTTP/1.1 100")
    # 4 MB of body, not finished: the server holds it for the script
    for _ in range(64):
        s.sendall(CHUNK)
    socks.append(s)
print("refused=%d continued=%d" % (refused, continued))
# the held bodies end: both scripts run with their whole body
lens = []
for s in socks:
    s.sendall(b"0\r\n\r\n")
    d = b""
    while b"len=" not in d or not d.endswith(b"0\r\n\r\n"):
        c = s.recv(65536)
        if not c:
            break
        d += c
    lens.append(d.split(b"len=")[1].split(b"\n")[0].decode() if b"len=" in d else "?")
    s.close()
print("lens=%s" % ",".join(lens))
# the peak: every admitted body was held whole before its script ran
grow = (rss("VmHWM") - r0) // 1024
print("grow_ok=%s grow=%d" % ("yes" if grow < 24 else "no: +%d MB" % grow, grow))
# a refused body (bad chunk size) gives its slot back, and so does a
# client that leaves in the middle of its body
for bad in (b"zz\r\n", b"10\r\nabc"):
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(HEAD.replace(b"Expect: 100-continue\r\n", b"") + bad)
    if bad.startswith(b"zz"):
        while s.recv(65536):
            pass
    s.close()
PY
)
    printf '%s\n' "$out" | sed "s/^/[$model] /"
    check "$model: 6 of 8 chunked uploads refused at once (--cgi-max 2)" \
        "$(sed -n 's/^refused=\([0-9]*\).*/\1/p' <<<"$out")" 6
    check "$model: the 2 admitted got 100 Continue" \
        "$(sed -n 's/.*continued=\([0-9]*\)/\1/p' <<<"$out")" 2
    check "$model: memory holds 2 bodies, not 8" "$(sed -n 's/^grow_ok=\([a-z]*\).*/\1/p' <<<"$out")" yes
    check "$model: the 2 admitted ran with their whole body" \
        "$(sed -n 's/^lens=//p' <<<"$out")" "4194304,4194304"
    for i in 1 2 3; do
        check "$model: slots given back: request $i runs" \
            "$(raw 'GET /cgi-bin/len.sh HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | tr -d '\r' | grep -c '^len=')" 1
    done
    stop_httpd
done
finish
