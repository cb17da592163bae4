#!/usr/bin/env python3
"""hold_fds.py N CMD...: run CMD (exec) with N more descriptors open and
inherited (/dev/null), the lowest free numbers first, and the descriptor
limit raised to fit them: a process that starts with its low descriptors
used up, as one that inherits many does."""
import os
import resource
import sys

n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = n + 4096
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
for _ in range(n):
    os.set_inheritable(os.open("/dev/null", os.O_RDONLY), True)
os.execvp(sys.argv[2], sys.argv[2:])
