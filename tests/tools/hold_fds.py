#!/usr/bin/env python3
"""hold_fds.py N CMD...: run CMD (exec) with N more descriptors open and
inherited (/dev/null), the lowest free numbers first, and the descriptor
limit raised to fit them: a process that starts with its low descriptors
used up, as one that inherits many does. With --upto N instead of N:
open them until the lowest free descriptor is N, whatever was open
before."""
import os
import resource
import sys

args = sys.argv[1:]
upto = args[0] == "--upto"
if upto:
    args = args[1:]
n = int(args[0])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = n + 4096
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
if upto:
    while True:
        fd = os.open("/dev/null", os.O_RDONLY)
        if fd >= n:
            os.close(fd)
            break
        os.set_inheritable(fd, True)
else:
    for _ in range(n):
        os.set_inheritable(os.open("/dev/null", os.O_RDONLY), True)
os.execvp(args[1], args[1:])
