# httpd_outbound.py ADDR PIDS LIMIT_MB KIND...: clients that pipeline requests
# and never read, one connection per KIND (small: a cached small file,
# multi: multipart ranges of it, listing: a large directory listing).
# Each writes requests until the server stops reading them (the socket has
# not been writable for a second), capped in bytes and time. Then, with
# every abuser still connected, a victim asks for the file and the listing
# and must get both whole. Prints "ok ..." / "FAIL ..." lines; exit 1 on a
# failure. PIDS: comma-separated server processes whose RSS is summed.
import select
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
pids = [p for p in sys.argv[2].split(",") if p]
limit_mb = int(sys.argv[3])
kinds = sys.argv[4:]

REQ = {
    "small": b"GET /small.bin HTTP/1.1\r\nHost: a\r\n\r\n",
    "multi": b"GET /small.bin HTTP/1.1\r\nHost: a\r\nRange: bytes="
             + b",".join(b"%d-%d" % (i * 4096, i * 4096 + 3999) for i in range(16))
             + b"\r\n\r\n",
    "listing": b"GET /many/ HTTP/1.1\r\nHost: a\r\n\r\n",
    # heads and small pages of every other kind
    "head": b"HEAD /big.bin HTTP/1.1\r\nHost: a\r\n\r\n",
    "404": b"GET /nothere HTTP/1.1\r\nHost: a\r\n\r\n",
    "405": b"DELETE /small.bin HTTP/1.1\r\nHost: a\r\n\r\n",
    "redirect": b"GET /many HTTP/1.1\r\nHost: a\r\n\r\n",
    "304": b"GET /small.bin HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n\r\n",
    "416": b"GET /small.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=999999-\r\n\r\n",
    "options": b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    # file bodies sent from a descriptor (not cached)
    "bigrange": b"GET /big.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=0-99999\r\n\r\n",
    "bigmulti": b"GET /big.bin HTTP/1.1\r\nHost: a\r\nRange: bytes="
                + b",".join(b"%d-%d" % (i * 65536, i * 65536 + 39999) for i in range(16))
                + b"\r\n\r\n",
    "big": b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n",
    "headlisting": b"HEAD /many/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "mix": b"GET /small.bin HTTP/1.1\r\nHost: a\r\n\r\nHEAD /big.bin HTTP/1.1\r\nHost: a\r\n\r\n"
           b"GET /nothere HTTP/1.1\r\nHost: a\r\n\r\nGET /many HTTP/1.1\r\nHost: a\r\n\r\n",
}
MAX_BYTES = 4 << 20     # requests written per abuser, at most
MAX_SECONDS = 40        # per abuser
QUIET = 1.0             # not writable this long: the server stopped reading

fails = 0


def check(name, good, detail=""):
    global fails
    if good:
        print("ok: %s %s" % (name, detail))
    else:
        fails += 1
        print("FAIL: %s %s" % (name, detail))


def rss_kb(field="VmRSS"):
    total = 0
    for p in pids:
        try:
            with open("/proc/%s/status" % p) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def abuse(kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # a small receive window: the server's output backs up sooner
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.setblocking(False)
    block = REQ[kind] * (65536 // len(REQ[kind]))
    sent = 0
    start = time.time()
    stalled = False
    pending = b""
    while sent < MAX_BYTES and time.time() - start < MAX_SECONDS:
        if not pending:
            pending = block
        _, w, _ = select.select([], [s], [], QUIET)
        if not w:
            stalled = True
            break
        try:
            n = s.send(pending)
        except BlockingIOError:
            continue
        sent += n
        pending = pending[n:]
    return s, sent, stalled


def fetch(path, want_len=None):
    """GET path on a new connection; returns (status, body) or (None, b"")."""
    try:
        c = socket.create_connection((host, int(port)), timeout=30)
        c.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n")
        data = b""
        deadline = time.time() + 30
        while time.time() < deadline:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        c.close()
    except OSError as e:
        return None, str(e).encode()
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    return status, body


rss0 = rss_kb()
print("rss before: %d kB" % rss0)
socks = []
for kind in kinds:
    s, sent, stalled = abuse(kind)
    socks.append(s)
    check("%s: the server stopped reading a client that does not read" % kind,
          stalled, "(%d request bytes written)" % sent)
    print("rss after %s: %d kB" % (kind, rss_kb()))

# every abuser is still connected: another client is served, whole
st, body = fetch(b"/small.bin")
check("victim served the small file while abusers wait", st == 200 and len(body) == 65536,
      "(status %s, %d bytes)" % (st, len(body)))
st, body = fetch(b"/many/")
check("victim served the listing while abusers wait",
      st == 200 and body.rstrip().endswith(b"</html>"), "(status %s, %d bytes)" % (st, len(body)))

rss1 = rss_kb()
hwm = rss_kb("VmHWM")
grow = (max(rss1, hwm) - rss0) // 1024
check("server memory bounded while %d abusers wait" % len(kinds), grow < limit_mb,
      "(rss %d kB -> %d kB, peak %d kB: +%d MB, limit %d MB)" % (rss0, rss1, hwm, grow, limit_mb))
for s in socks:
    s.close()
sys.exit(1 if fails else 0)
