#!/usr/bin/env python3
"""emfile_spin.py PID PORT: an echo server (PID, on 127.0.0.1:PORT) out of
descriptors must not spin.

Its soft RLIMIT_NOFILE is lowered to 3, below every descriptor it holds,
so accept() fails with EMFILE and even the spare-descriptor trick cannot
shed a client (the spare's number is past the limit too). Five clients
then wait in the listen queue for 3 s, during which the server may use at
most a quarter of a CPU (a loop that retries accept() on a listener that
stays readable uses all of one). The limit is then restored, and a fresh
client must be echoed within 30 s. Exit 0 when all holds, else a
message."""
import os
import resource
import socket
import sys
import time

pid, port = int(sys.argv[1]), int(sys.argv[2])
TCK = os.sysconf("SC_CLK_TCK")
WINDOW = 3.0


def cpu_ticks():
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])   # utime + stime


def echoed(deadline):
    """A fresh client, retried until deadline: True once echoed."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"ping\n")
                data = b""
                while len(data) < 5:
                    d = s.recv(64)
                    if not d:
                        break
                    data += d
                if data == b"ping\n":
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


orig = resource.prlimit(pid, resource.RLIMIT_NOFILE)
resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, orig[1]))
waiting = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(5)]
time.sleep(0.5)   # the server meets EMFILE now
t0 = cpu_ticks()
time.sleep(WINDOW)
used = (cpu_ticks() - t0) / TCK
resource.prlimit(pid, resource.RLIMIT_NOFILE, orig)
for s in waiting:
    s.close()
if used > WINDOW / 4:
    sys.exit("%.2f s of CPU in %.1f s while out of descriptors: a busy loop"
             % (used, WINDOW))
if not echoed(time.monotonic() + 30):
    sys.exit("no client echoed within 30 s of the limit's return")
print("%.2f s of CPU in %.1f s out of descriptors, then served" % (used, WINDOW))
