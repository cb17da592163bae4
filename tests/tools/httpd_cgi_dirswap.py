# httpd_cgi_dirswap.py ADDR DIR_A DIR_B N: the CGI working-directory race.
#
# DIR_A (ROOT/cgi-bin, the CGI prefix) and DIR_B (a sibling) each hold
# who.sh (which prints the name baked into it, then the
# "marker" file of its working directory). A child process exchanges the
# two directories (renameat2 RENAME_EXCHANGE: atomic, so the request path
# always exists) as fast as it can while N requests for DIR_A/who.sh go
# out over keep-alive connections. Prints "agree=N disagree=M other=K" and
# each disagreeing answer once (the directories are left as they
# were found): a script must run in the directory it was
# found in (its own name and its cwd's marker agree).
import ctypes
import os
import re
import signal
import sys
import httpd_keepalive as keepalive  # beside this file, on sys.path

host, port = sys.argv[1].rsplit(":", 1)
a, b, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
url = "/%s/who.sh" % os.path.basename(a)

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
SYS_renameat2 = 316  # x86_64; glibc's wrapper is used when present
try:
    renameat2 = libc.renameat2
except AttributeError:
    renameat2 = None

def exchange():
    if renameat2 is not None:
        r = renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE)
    else:
        r = libc.syscall(SYS_renameat2, AT_FDCWD, a.encode(), AT_FDCWD, b.encode(),
                         RENAME_EXCHANGE)
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

with open(os.path.join(a, "marker")) as f:
    mark_a = f.read()
exchange()
exchange()  # fails here (not in the child) if the kernel cannot exchange

pid = os.fork()
if pid == 0:
    try:
        while True:
            exchange()
    finally:
        os._exit(0)

counts = {"agree": 0, "disagree": 0, "other": 0}
bad = set()
try:
    for status, head, body in keepalive.get(host, port, url, n):
        m = re.fullmatch(rb"script=(\w+) cwd=(\w+)\n", body)
        if status != "200" or not m:
            counts["other"] += 1
            bad.add("%s %r" % (status, body[:80]))
        elif m.group(1) == m.group(2):
            counts["agree"] += 1
        else:
            counts["disagree"] += 1
            bad.add(body.decode().strip())
finally:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with open(os.path.join(a, "marker")) as f:
        if f.read() != mark_a:
            exchange()  # leave the directories as they were
print("agree=%d disagree=%d other=%d" % (counts["agree"], counts["disagree"], counts["other"]))
for x in sorted(bad):
    print("  " + x)
