# httpd_cases.py ADDR [FORBIDDEN...]: run many raw HTTP cases in one process.
# stdin: one case a line, "STATUS COUNT NAME<TAB>REQUEST" where REQUEST
# uses backslash escapes, STATUS is the expected status of the first
# response and COUNT the number of responses the connection must carry
# ('-' = any). No response may contain a FORBIDDEN string (content from
# outside the root). Prints one ok/FAIL line per case; exit status = the
# number of failures.
import codecs
import re
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
forbidden = [f.encode() for f in sys.argv[2:]]
fails = 0
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    meta, req = line.split("\t", 1)
    want, count, name = meta.split(" ", 2)
    data = codecs.decode(req, "unicode_escape").encode("latin-1")
    s = socket.create_connection((host, int(port)), timeout=5)
    s.sendall(data)
    out = b""
    end = time.time() + 30   # (5 s of silence end it sooner)
    try:
        while time.time() < end:
            c = s.recv(65536)
            if not c:
                break
            out += c
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    statuses = re.findall(rb"(?m)^HTTP/1\.[01] (\d{3}) ", out)
    got = statuses[0].decode() if statuses else "none"
    bad = [f for f in forbidden if f in out]
    problems = []
    if got != want:
        problems.append("status %s, want %s" % (got, want))
    if count != "-" and len(statuses) != int(count):
        problems.append("%d responses, want %s" % (len(statuses), count))
    if bad:
        problems.append("LEAKED %r" % bad)
    if problems:
        fails += 1
        print("FAIL: %s: %s" % (name, "; ".join(problems)))
    else:
        print("ok: %s" % name)
sys.exit(min(fails, 100))
