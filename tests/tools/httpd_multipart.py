#!/usr/bin/env python3
"""httpd_multipart.py BODY FILE BOUNDARY: check a multipart/byteranges BODY
against FILE: delimiters, and each part's Content-Range holding exactly
those bytes of FILE. Prints the ranges ("0-4 10-14 ..."); fails with an
assertion otherwise.
"""
import re, sys
body = open(sys.argv[1], "rb").read()
data = open(sys.argv[2], "rb").read()
b = sys.argv[3].encode()
chunks = body.split(b"\r\n--" + b)
assert chunks[0] == b"", "preamble"
assert chunks[-1] == b"--\r\n", "closing delimiter"
out = []
for c in chunks[1:-1]:
    head, _, part = c.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Range: bytes (\d+)-(\d+)/(\d+)", head)
    first, last, size = map(int, m.groups())
    assert size == len(data) and part == data[first:last + 1], "part bytes"
    out.append("%d-%d" % (first, last))
print(" ".join(out))
