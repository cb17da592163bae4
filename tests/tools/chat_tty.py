#!/usr/bin/env python3
"""Drive an interactive program on a pseudo-terminal and check what a
terminal shows (the screen is emulated by pyte, a VT100/xterm emulator).

  chat_tty.py [--cols N] [--rows R] [--timeout S] --steps FILE -- CMD [ARG...]

FILE has one step a line (blank lines and # comments skipped):
  wait REGEX         until a row of the screen matches (bounded by --timeout)
  type TEXT          type TEXT (Python escapes: \\r is Enter, \\x04 Ctrl-D)
  touch PATH         create PATH (tells the calling test to go on)
  await PATH         until PATH exists
  last REGEX         the last row with text (the input line) matches
                     (once a redraw is over: bounded by --timeout)
  above REGEX        a row above the last row with text matches (likewise)
  exit CODE          the program exits with CODE (bounded by --timeout)
The screen is printed on stderr when a step fails; exit 0 when every
step held, 1 otherwise.
"""
import argparse
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

import pyte


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--steps", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    screen = pyte.Screen(a.cols, a.rows)
    stream = pyte.ByteStream(screen)
    pid, master = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
        os.environ["TERM"] = "xterm"
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    status = [None]

    def pump(secs):
        """Read output for up to secs; False once the program is gone."""
        r, _, _ = select.select([master], [], [], secs)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if data:
                stream.feed(data)
                return True
        if status[0] is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status[0] = st
        return status[0] is None or bool(r)

    def rows():
        return [l.rstrip() for l in screen.display]

    def text_rows():
        return [l for l in rows() if l]

    def failed(why):
        print("chat_tty: " + why, file=sys.stderr)
        print("screen:", file=sys.stderr)
        for l in rows():
            print("| " + l, file=sys.stderr)
        if status[0] is None:
            os.kill(pid, signal.SIGKILL)
        return 1

    def until(cond, what):
        deadline = time.monotonic() + a.timeout
        while time.monotonic() < deadline:
            if cond():
                return True
            if not pump(0.05) and not cond():
                return False
        return cond()

    for raw in open(a.steps, encoding="utf-8"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        if op == "wait":
            if not until(lambda: any(re.search(arg, l) for l in rows()), arg):
                return failed("no row matches %r" % arg)
        elif op == "type":
            os.write(master, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif op == "touch":
            open(arg, "w").close()
        elif op == "await":
            if not until(lambda: os.path.exists(arg), arg):
                return failed("%s never appeared" % arg)
        elif op in ("last", "above"):
            pump(0.2)   # let a redraw finish

            def shown(op=op, arg=arg):
                t = text_rows()
                if op == "last":
                    return bool(t) and bool(re.search(arg, t[-1]))
                return any(re.search(arg, l) for l in t[:-1])
            # (until it shows, bounded by --timeout: a program held up on a
            # loaded machine finishes its redraw later)
            if not until(shown, arg):
                return failed("%s: no row matches %r" % (op, arg))
        elif op == "exit":
            until(lambda: status[0] is not None, "exit")
            if status[0] is None:
                return failed("still running")
            code = os.waitstatus_to_exitcode(status[0])
            if code != int(arg):
                return failed("exit %d, want %s" % (code, arg))
        else:
            return failed("unknown step " + op)
    if status[0] is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
