# cgi_race.py ADDR LINK INSIDE OUTSIDE N: the CGI confinement race.
#
# A child process swaps the symlink LINK (in the CGI directory) between
# INSIDE (a script under ROOT) and OUTSIDE (one outside ROOT) as fast as
# it can, with an atomic rename, while N requests for it go out over
# keep-alive connections. Prints how many got each status, e.g.
# "200=812 403=1188". Whether the outside script ever ran is for the
# caller to check (it leaves a marker file).
import os
import re
import signal
import socket
import sys

host, port = sys.argv[1].rsplit(":", 1)
link, inside, outside, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
url = "/cgi-bin/" + os.path.basename(link)

pid = os.fork()
if pid == 0:
    tmp = link + ".tmp"
    i = 0
    while True:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(outside if i & 1 else inside, tmp)
        os.rename(tmp, link)
        i += 1

counts = {}
sock, buf = None, b""
try:
    for _ in range(n):
        if sock is None:
            sock = socket.create_connection((host, int(port)), timeout=10)
            buf = b""
        sock.sendall(("GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % url).encode())
        # read one response: a head, then a Content-Length or chunked body
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("server closed mid-response")
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1].decode()
        counts[status] = counts.get(status, 0) + 1
        m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if m:
            want = int(m.group(1))
            while len(buf) < want:
                buf += sock.recv(65536)
            buf = buf[want:]
        elif re.search(rb"(?i)\r\ntransfer-encoding: *chunked", head):
            while b"\r\n0\r\n\r\n" not in b"\r\n" + buf:
                buf += sock.recv(65536)
            buf = (b"\r\n" + buf).split(b"\r\n0\r\n\r\n", 1)[1]
        if re.search(rb"(?i)\r\nconnection: *close", head):
            sock.close()
            sock = None
finally:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))
