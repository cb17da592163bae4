# httpd_cases.py ADDR [FORBIDDEN...]: run many raw HTTP cases in one process.
# stdin: one case a line, "STATUS COUNT NAME<TAB>REQUEST" where REQUEST
# uses backslash escapes, STATUS is the expected status of the first
# response and COUNT the number of responses the connection must carry
# ('-' = any). No response may contain a FORBIDDEN string (content from
# outside the root). Prints one ok/FAIL line per case; exit status = the
# number of failures.
# A case's answer is read until the server closes, or, once COUNT whole
# responses are in, until it has been quiet for QUIET seconds (a case the
# server keeps alive: a response more would come at once, and would be
# wrong whenever it came); 30 s at most. A slow answer is waited for, not
# cut at a pause.
import codecs
import re
import socket
import sys
import time

QUIET = 5.0   # as long as the old reader waited for silence


def whole_responses(buf):
    """How many whole responses buf begins with (a body framed by
    Content-Length or chunked; none for 1xx, 204, 304)."""
    n = 0
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            return n
        head = buf[:head_end].decode("latin-1")
        rest = buf[head_end + 4:]
        m = re.match(r"HTTP/1\.[01] (\d{3})", head)
        if not m:
            return n
        status = int(m.group(1))
        fields = {}
        for line in head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            fields[k.strip().lower()] = v.strip()
        if status < 200 or status in (204, 304):
            body_len = 0
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            i = 0
            while True:
                line_end = rest.find(b"\r\n", i)
                if line_end < 0:
                    return n
                try:
                    size = int(rest[i:line_end].split(b";")[0], 16)
                except ValueError:
                    return n
                i = line_end + 2 + size + 2
                if size == 0:
                    break
            if len(rest) < i:
                return n
            body_len = i
        elif "content-length" in fields:
            body_len = int(fields["content-length"])
        else:
            return n   # a body until the close
        if len(rest) < body_len:
            return n
        buf = rest[body_len:]
        n += 1


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
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(data)
    out = b""
    end = time.monotonic() + 30
    try:
        while True:
            left = end - time.monotonic()
            if count != "-" and whole_responses(out) >= int(count):
                left = min(left, QUIET)
            if left <= 0:
                break
            s.settimeout(left)
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
