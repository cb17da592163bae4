# httpd_raw.py ADDR DATA [shutdown|slow]: send DATA over TCP and print the reply
# until the server closes (or 5 s of silence; 30 s in all). Used by the httpd
# tests to send exactly the bytes a case needs, malformed or pipelined.
import codecs
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
# DATA uses backslash escapes (\r, \n, \x00), decoded here so that no
# shell strips trailing newlines
data = codecs.decode(sys.argv[2], "unicode_escape").encode("latin-1")
mode = sys.argv[3] if len(sys.argv) > 3 else ""
s = socket.create_connection((host, int(port)), timeout=5)
if mode == "slow":
    for b in data:
        s.sendall(bytes([b]))
        time.sleep(0.001)
else:
    s.sendall(data)
if mode == "shutdown":
    s.shutdown(socket.SHUT_WR)
out = b""
deadline = time.time() + 30   # a long answer on a loaded machine
try:
    while time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.write(out.decode("latin-1"))
