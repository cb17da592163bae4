#!/usr/bin/env python3
"""cpu_tree.py GO DONE: a process whose CPU goes where a server's does under
the thread and fork models. Once the file GO exists it runs a child process
that burns 0.3 s of CPU and exits (reaped here), then a thread that burns
0.3 s and ends; then it creates the file DONE and waits (at most 120 s) to
be killed. Every wait is bounded."""
import os
import sys
import threading
import time

go, done = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 120


def burn(clock, secs):
    x = 0
    while clock() < secs:
        for i in range(10000):
            x += i
    return x


while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.05)
pid = os.fork()
if pid == 0:
    burn(time.process_time, 0.3)   # a forked child's clock starts at 0
    os._exit(0)
os.waitpid(pid, 0)
t = threading.Thread(target=burn, args=(time.thread_time, 0.3))
t.start()
t.join()
open(done, "w").close()
while time.monotonic() < deadline:
    time.sleep(1)
