#!/usr/bin/env python3
"""httpd_cgi_chunked_hold.py ADDR PID: 8 clients each start a 4 MB chunked
POST to /cgi-bin/len.sh (with Expect: 100-continue) and hold it; then the
admitted ones finish. Prints refused=N continued=N, lens=L,L and
grow_ok=yes|no (the server PID's peak RSS grew by < 24 MB); then sends a
bad chunk and a cut body (their slots must come back).
"""
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
