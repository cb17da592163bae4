#!/usr/bin/env python3
"""httpd_png_verdict.py PNG: a verdict on a Chromium screenshot of a
listing (decodes the PNG with zlib alone); prints one line.
"""
import struct, sys, zlib
try:
    d = open(sys.argv[1], "rb").read()
except OSError:
    print("no screenshot"); sys.exit()
if d[:8] != b"\x89PNG\r\n\x1a\n":
    print("not a png"); sys.exit()
i, idat, w = 8, b"", 0
while i < len(d):
    n, t = struct.unpack(">I4s", d[i:i + 8])
    if t == b"IHDR":
        w = struct.unpack(">I", d[i + 8:i + 12])[0]
    if t == b"IDAT":
        idat += d[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(idat)
print("rendered" if w > 0 and len(set(raw)) > 8 else "blank")
