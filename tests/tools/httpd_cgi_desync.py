# httpd_cgi_desync.py ADDR PATH cl|chunked [PATH cl|chunked ...]: the
# request-body desync probe, once per PATH (one line each).
#
# Sends a POST whose body has only partly arrived to a CGI script that
# answers (exits, fails, or times out) before reading it, waits for that
# answer, then sends the rest of the body, which holds a complete request
# "GET /secret.txt", and then a last request with Connection: close (so
# that a server that kept the connection ends it at once). Prints
# "secret=yes|no first=STATUS": the smuggled request must never be
# answered (secret=no).
import re
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)


def probe(path, kind):
    smuggled = b"GET /secret.txt HTTP/1.1\r\nHost: a\r\n\r\n"
    if kind == "cl":
        first = b"x" * 16
        rest = smuggled
        head = ("POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
                % (path, len(first) + len(rest))).encode()
    else:
        first = b"5\r\nhello\r\n"
        rest = smuggled
        head = ("POST %s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                % path).encode()

    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(head + first)
    data = b""
    deadline = time.time() + 20
    # wait for the first answer's head (the script has ended or timed out)
    while b"\r\n\r\n" not in data and time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    last = b"GET /probe-end HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    try:
        s.sendall(rest + last)
    except (BrokenPipeError, ConnectionResetError):
        pass
    # then everything the server still says, until it closes or stays quiet
    s.settimeout(3)
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    s.close()
    m = re.match(rb"HTTP/1\.1 (\d{3})", data)
    print("secret=%s first=%s" % (
        "yes" if b"SECRET-MARKER" in data else "no",
        m.group(1).decode() if m else "none"))


for i in range(2, len(sys.argv), 2):
    probe(sys.argv[i], sys.argv[i + 1])
