# httpd_cgi_race.py ADDR LINK INSIDE OUTSIDE N: the CGI confinement race.
#
# A child process swaps the symlink LINK (in the CGI directory) between
# INSIDE (a script under ROOT) and OUTSIDE (one outside ROOT) as fast as
# it can, with an atomic rename, while N requests for it go out over
# keep-alive connections. Prints how many got each status, e.g.
# "200=812 403=1188". Whether the outside script ever ran is for the
# caller to check (it leaves a marker file).
import os
import signal
import sys
import httpd_keepalive as keepalive  # beside this file, on sys.path

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
try:
    for status, _, _ in keepalive.get(host, port, url, n):
        counts[status] = counts.get(status, 0) + 1
finally:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))
