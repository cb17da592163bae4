# httpd_fdload.py ADDR ROOT CONNS FLOOD: drive httpd running under a small
# descriptor limit. Every file in ROOT/a (requested first, round-robin
# over CONNS keep-alive connections, so that every connection's cache
# fills), then early ones again and ROOT/b (never requested) must all be
# 200 with the right length. Then FLOOD idle connections are opened and
# held (more than the limit: accept meets EMFILE), dropped, and a new
# connection must be served again. Prints one line per failure and
# "ok N" at the end; exit 1 on any failure. Every wait is bounded.
import http.client
import os
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
root, nconns, flood = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fails = 0
done = 0


def files(sub):
    names = sorted(os.listdir(os.path.join(root, sub)))
    return [("/%s/%s" % (sub, n), os.path.getsize(os.path.join(root, sub, n))) for n in names]


conns = [None] * nconns


def get(i, path, size):
    """One request on keep-alive connection i (opened when needed). A
    failure closes it; the next request opens a new one."""
    global fails, done
    c = conns[i]
    if c is None:
        c = conns[i] = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        if r.status != 200 or len(body) != size:
            fails += 1
            print("FAIL %s: status %d, %d bytes (want 200, %d)" % (path, r.status, len(body), size))
        else:
            done += 1
    except (ConnectionError, http.client.HTTPException, socket.timeout, OSError) as e:
        c.close()
        conns[i] = None
        fails += 1
        print("FAIL %s: %r" % (path, e))


a, b = files("a"), files("b")
for k, (p, s) in enumerate(a):
    get(k % nconns, p, s)
for k, (p, s) in enumerate(a[:50] + b):
    get(k % nconns, p, s)
for k, (p, s) in enumerate(reversed(a)):
    get(k % nconns, p, s)
for c in conns:
    if c:
        c.close()
conns = [None] * nconns

# hold more idle connections than the descriptor limit allows
held = []
for _ in range(flood):
    try:
        s = socket.create_connection((host, int(port)), timeout=2)
        held.append(s)
    except OSError:
        break
for s in held:
    s.close()
# the server must serve a new connection again (bounded retries while it
# sees the closes)
ok = False
deadline = time.time() + 20
while time.time() < deadline and not ok:
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=5)
        c.request("GET", a[0][0])
        r = c.getresponse()
        ok = r.status == 200 and len(r.read()) == a[0][1]
        c.close()
    except (ConnectionError, http.client.HTTPException, socket.timeout, OSError):
        time.sleep(0.1)
if not ok:
    fails += 1
    print("FAIL: no 200 after the connection flood")
for k, (p, s) in enumerate(b[:20]):
    get(k % nconns, p, s)
print("ok %d" % done)
sys.exit(1 if fails else 0)
