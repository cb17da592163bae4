#!/usr/bin/env python3
"""A hostile IRC server for `ipcbox chat`: listens on 127.0.0.1 (a free
port, printed on stdout), takes one client, welcomes it, then sends JOINs
whose room names would drive the terminal if shown raw (a bidi override,
an escape sequence), then a message "done" in #r. Bounded: exits after
the client leaves or 20 s."""
import socket
import sys
import time

ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print(ls.getsockname()[1], flush=True)
ls.settimeout(20)
c, _ = ls.accept()
c.settimeout(20)
buf = b""
deadline = time.time() + 20
while b"USER " not in buf and time.time() < deadline:
    d = c.recv(4096)
    if not d:
        sys.exit(0)
    buf += d
nick = buf.split(b"NICK ", 1)[1].split(b"\r\n", 1)[0].strip()
me = b":" + nick + b"!u@h "
c.sendall(b":srv 001 " + nick + b" :hi\r\n")
time.sleep(0.3)
c.sendall(me + b"JOIN :#r\xe2\x80\xaeZ\r\n")     # legal name, bidi override inside
time.sleep(0.3)
c.sendall(me + b"JOIN :#r\x1b[7mX\r\n")          # not a room name a server may send
time.sleep(0.3)
c.sendall(b":eve!e@h PRIVMSG #r :done\r\n")
while time.time() < deadline:
    try:
        if not c.recv(4096):
            break
    except OSError:
        break
