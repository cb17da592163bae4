# httpd_raw.py ADDR DATA [shutdown|slow]: send DATA over TCP and print the reply
# until the server closes the connection (30 s at most: then what came, and a
# note on stderr). Used by the httpd tests to send exactly the bytes a case
# needs, malformed or pipelined; every case ends with something the server
# closes after (Connection: close, HTTP/1.0, an error, our shutdown), so the
# close, not a pause, says the answer is whole: a slow answer on a loaded
# machine is waited for, however long its pauses.
import codecs
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
# DATA uses backslash escapes (\r, \n, \x00), decoded here so that no
# shell strips trailing newlines
data = codecs.decode(sys.argv[2], "unicode_escape").encode("latin-1")
mode = sys.argv[3] if len(sys.argv) > 3 else ""
s = socket.create_connection((host, int(port)), timeout=30)
if mode == "slow":
    for b in data:
        s.sendall(bytes([b]))
        time.sleep(0.001)
else:
    s.sendall(data)
if mode == "shutdown":
    s.shutdown(socket.SHUT_WR)
out = b""
deadline = time.monotonic() + 30
closed = False
try:
    while not closed:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        chunk = s.recv(65536)
        out += chunk
        closed = not chunk
except socket.timeout:
    pass
except ConnectionResetError:
    closed = True
if not closed:
    sys.stderr.write("httpd_raw: the server did not close the connection in 30 s\n")
sys.stdout.write(out.decode("latin-1"))
