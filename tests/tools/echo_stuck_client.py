#!/usr/bin/env python3
"""echo_stuck_client.py PORT MARK [HELD]: a client that sends and never reads.

Creates the file MARK once the echo server on 127.0.0.1:PORT provably
holds output it cannot write (its session cannot drain); gives up after
60 s. HELD is what the server may hold between a read and its write
(default 16384, echo.c's read buffer; 0 for the coroutine echo, whose
parked write holds exactly that).

The proof is an account of every byte we sent, from the kernel's queues
(our socket's, and the server's end of the connection in /proc/net/tcp):
  sent - our send queue - the server's receive queue = what the server read
  what it read - the server's send queue - our receive queue = what it holds
While the server's send queue holds more than we have received, part of
it cannot be delivered: our receive window is closed, and since we never
read it stays closed, so what the server holds stays with it. Marked when
two readings 0.1 s apart, with our sends stalled in between, agree, show
the window closed and more than HELD bytes held. (Nothing here depends on
how long a stall lasts: a server that is merely slow has read nothing it
has not written back.)
"""
import fcntl, socket, struct, sys, termios, time

port = int(sys.argv[1])
held_max = int(sys.argv[3]) if len(sys.argv) > 3 else 16384
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# a small receive buffer: our window closes after a few KiB
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.setblocking(False)
me = s.getsockname()[1]


def ioctl_int(req):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), req, b"\0" * 4))[0]


def server_queues():
    """(receive queue, send queue) of the server's end of our connection."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, queues = fields[1], fields[2], fields[4]
            if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) == me:
                tx, rx = (int(x, 16) for x in queues.split(":"))
                return rx, tx
    return None


def reading(sent):
    """Read upstream first (our send queue, then the server's queues, then
    our receive queue): bytes only move downstream, so a byte moving while
    we read is counted twice, never missed, and `held` errs low."""
    outq = ioctl_int(termios.TIOCOUTQ)
    srv = server_queues()
    inq = ioctl_int(termios.FIONREAD)
    if srv is None:
        return None
    srv_rx, srv_tx = srv
    held = sent - outq - srv_rx - srv_tx - inq
    return (sent, outq, srv_rx, srv_tx, inq, held)


sent, stalled_since, last, marked = 0, None, None, False
chunk = b"x" * 65536
deadline = time.time() + 60
while time.time() < deadline:
    try:
        sent += s.send(chunk)
        stalled_since, last = None, None
        continue
    except BlockingIOError:
        pass
    except OSError:
        break
    time.sleep(0.01)
    if marked:
        continue
    now = time.monotonic()
    if stalled_since is None:
        stalled_since = now
    if now - stalled_since < 0.1:
        continue
    r = reading(sent)
    stalled_since = now
    if r is not None and r == last:
        _, _, _, srv_tx, inq, held = r
        if srv_tx > inq and held > held_max:
            open(sys.argv[2], "w").close()
            marked = True
    last = r
