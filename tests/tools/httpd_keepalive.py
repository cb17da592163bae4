"""One keep-alive client for the race tests: get(host, port, url, n)
yields (status, head, body) for n GETs of url, reconnecting after a
Connection: close, reading Content-Length and chunked bodies."""
import re
import socket


def _dechunk(raw):
    body = b""
    while raw:
        size, _, rest = raw.partition(b"\r\n")
        k = int(size, 16)
        body += rest[:k]
        raw = rest[k + 2:]
    return body


def get(host, port, url, n):
    sock, buf = None, b""
    try:
        for _ in range(n):
            if sock is None:
                sock = socket.create_connection((host, int(port)), timeout=10)
                buf = b""
            sock.sendall(("GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % url).encode())
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise SystemExit("server closed mid-response")
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            status = head.split(b" ", 2)[1].decode()
            body = b""
            m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            if m:
                want = int(m.group(1))
                while len(buf) < want:
                    buf += sock.recv(65536)
                body, buf = buf[:want], buf[want:]
            elif re.search(rb"(?i)\r\ntransfer-encoding: *chunked", head):
                while b"\r\n0\r\n\r\n" not in b"\r\n" + buf:
                    buf += sock.recv(65536)
                raw, buf = (b"\r\n" + buf).split(b"\r\n0\r\n\r\n", 1)
                body = _dechunk(raw[2:])
            yield status, head, body
            if re.search(rb"(?i)\r\nconnection: *close", head):
                sock.close()
                sock = None
    finally:
        if sock is not None:
            sock.close()
