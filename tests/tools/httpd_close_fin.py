#!/usr/bin/env python3
"""httpd_close_fin.py ADDR: a Connection: close response carries its FIN
in the same segment (tcpi_segs_in <= 3), and survives unread pipelined
input. Prints two lines: "ok" (or the segment count), then the status
line of the second exchange and whether its body arrived (True).
"""
import socket, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
CLOSE = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"

def exchange(data):
    """Send data, let the answer arrive, read to EOF (or a reset)."""
    s = socket.create_connection((host, int(port)))
    s.sendall(data)
    time.sleep(0.3)
    out = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            out += c
    except ConnectionResetError:
        pass
    return s, out

best = 99
for _ in range(5):
    s, out = exchange(CLOSE)
    ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    best = min(best, struct.unpack_from("I", ti, 140)[0])
    s.close()
print("ok" if out.endswith(b"hello world\n") and best <= 3 else "segments in: %d" % best)
junk = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n" * 4000   # ~150 KiB
s, out = exchange(CLOSE + junk)
s.close()
print(out.split(b"\r\n")[0].decode(errors="replace"), out.endswith(b"hello world\n"))
