#!/usr/bin/env python3
"""Run a command on a pseudo-terminal of a given size, and measure what a
terminal would show of its output.

  pty_run.py run --cols N [--rows R] [--timeout S] [--resize-after BYTES:COLS]
                 --out FILE -- CMD [ARG...]
      Run CMD with stdin, stdout and stderr on the slave side of a new pty
      of N columns (TIOCSWINSZ), copy everything it writes to FILE, exit
      with its exit status (124 if it ran longer than S seconds, default
      120, and was killed). With --resize-after, once BYTES bytes of output
      have arrived the window becomes COLS wide (the kernel sends SIGWINCH);
      the byte offset where that happened is written to FILE.resize.

  pty_run.py screen --cols N [--resize OFFSET:COLS] FILE
      Emulate a terminal of N columns over the bytes in FILE (\\r, \\n, \\b,
      \\t, ESC[K and the other CSI sequences, UTF-8 with East Asian wide
      characters and combining marks) and print a JSON object:
        rows       rows that ever held text
        widest     widest row ever rendered, in columns
        wraps      times the cursor had to wrap (a line too long)
        redraws    carriage returns not followed by a newline
        escapes    escape sequences seen
        frames     the text of the row each time ESC[K erased after text
                   (a redrawn progress line as it was shown)
        screen     the final rows, trailing blanks removed
      With --resize, columns become COLS from byte OFFSET on (as written to
      FILE.resize by `run`), and widest counts from there on.
      With --check it also asserts, and exits 1 saying what failed:
        widest <= columns - 1 and no wraps (never a full or wrapped line);
        --max-rows N       at most N rows
        --frame RE         some frame matches RE (repeatable)
        --last RE          the last row of the screen matches RE
        --no-redraws       no carriage return redraw and no escape at all
"""
import argparse
import re
import codecs
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
import unicodedata


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def run(args):
    master, slave = pty.openpty()
    set_size(slave, args.rows, args.cols)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(args.cmd[0], args.cmd)
        finally:
            os._exit(127)
    os.close(slave)
    resize_at, resize_cols = None, None
    if args.resize_after:
        a, b = args.resize_after.split(":")
        resize_at, resize_cols = int(a), int(b)
    got = 0
    deadline = time.monotonic() + args.timeout
    status = None
    with open(args.out, "wb") as out:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return 124
            r, _, _ = select.select([master], [], [], min(left, 0.5))
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:   # EIO: every slave fd closed
                    data = b""
                if not data:
                    break
                out.write(data)
                got += len(data)
                if resize_at is not None and got >= resize_at:
                    set_size(master, args.rows, resize_cols)
                    with open(args.out + ".resize", "w") as f:
                        f.write("%d:%d\n" % (got, resize_cols))
                    resize_at = None
            elif status is None:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st   # drain what is left, then stop
                    deadline = min(deadline, time.monotonic() + 2)
    if status is None:
        _, status = os.waitpid(pid, 0)
    os.close(master)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + os.WTERMSIG(status)


def char_width(ch):
    if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\u200e\u200f\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def screen(args):
    data = open(args.file, "rb").read()
    resize = None
    if args.resize:
        a, b = args.resize.split(":")
        resize = (int(a), int(b))
    cols = args.cols
    rows = {}           # row -> list of cells
    row = col = 0
    widest = wraps = redraws = escapes = 0
    frames = []
    used = set()
    dec = codecs.getincrementaldecoder("utf-8")("replace")
    i = 0
    n = len(data)

    def line(r):
        return rows.setdefault(r, [])

    def put(ch, w):
        nonlocal row, col, widest, wraps
        if w == 0:
            return
        if col + w > cols:
            wraps += 1
            row, col = row + 1, 0
        cells = line(row)
        while len(cells) < col + w:
            cells.append(" ")
        cells[col] = ch
        for k in range(1, w):
            cells[col + k] = ""
        col += w
        used.add(row)
        widest = max(widest, col)

    while i < n:
        if resize and i >= resize[0]:
            cols, resize = resize[1], None
            widest = 0
        b = data[i]
        if b == 0x1b:
            escapes += 1
            if i + 1 < n and data[i + 1] == ord("["):
                j = i + 2
                while j < n and not (0x40 <= data[j] <= 0x7e):
                    j += 1
                final = chr(data[j]) if j < n else ""
                params = data[i + 2:j].decode("ascii", "replace")
                if final == "K":
                    cells = line(row)
                    text = "".join(cells[:col]).rstrip()
                    if text and (params in ("", "0")):
                        frames.append(text)
                    if params in ("", "0"):
                        del cells[col:]
                    elif params == "2":
                        cells.clear()
                    elif params == "1":
                        for k in range(min(col + 1, len(cells))):
                            cells[k] = " "
                i = j + 1
            else:
                i += 2
            continue
        if b == 0x0d:
            if not (i + 1 < n and data[i + 1] == 0x0a):
                redraws += 1
            col = 0
            i += 1
            continue
        if b == 0x0a:
            row, col = row + 1, 0
            i += 1
            continue
        if b == 0x08:
            col = max(0, col - 1)
            i += 1
            continue
        if b == 0x09:
            put(" ", 8 - col % 8)
            i += 1
            continue
        if b < 0x20 or b == 0x7f:
            i += 1
            continue
        # one UTF-8 character
        j = i + 1
        while j < n and (data[j] & 0xC0) == 0x80 and j - i < 4:
            j += 1
        for ch in dec.decode(data[i:j]):
            put(ch, char_width(ch))
        i = j
    last = max(rows) if rows else -1
    final = ["".join(rows.get(r, [])).rstrip() for r in range(last + 1)]
    while final and not final[-1]:
        final.pop()
    result = {
        "rows": len(used),
        "widest": widest,
        "wraps": wraps,
        "redraws": redraws,
        "escapes": escapes,
        "frames": frames,
        "screen": final,
    }
    print(json.dumps(result, ensure_ascii=False))
    if not args.check:
        return 0
    bad = []
    if widest > cols - 1 or wraps:
        bad.append("a line of %d columns (%d wraps) on %d columns" % (widest, wraps, cols))
    if args.max_rows is not None and len(used) > args.max_rows:
        bad.append("%d rows, want at most %d" % (len(used), args.max_rows))
    for pat in args.frame or []:
        if not any(re.search(pat, f) for f in frames):
            bad.append("no frame matches %r" % pat)
    if args.last and not (final and re.search(args.last, final[-1])):
        bad.append("last row does not match %r" % args.last)
    if args.no_redraws and (redraws or escapes):
        bad.append("%d redraws, %d escapes" % (redraws, escapes))
    for b in bad:
        print("pty_run: " + b, file=sys.stderr)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--cols", type=int, required=True)
    r.add_argument("--rows", type=int, default=24)
    r.add_argument("--timeout", type=float, default=120)
    r.add_argument("--resize-after")
    r.add_argument("--out", required=True)
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    s = sub.add_parser("screen")
    s.add_argument("--cols", type=int, required=True)
    s.add_argument("--resize")
    s.add_argument("--check", action="store_true")
    s.add_argument("--max-rows", type=int)
    s.add_argument("--frame", action="append")
    s.add_argument("--last")
    s.add_argument("--no-redraws", action="store_true")
    s.add_argument("file")
    args = ap.parse_args()
    if args.what == "run":
        if args.cmd and args.cmd[0] == "--":
            args.cmd = args.cmd[1:]
        if not args.cmd:
            ap.error("run needs a command")
        return run(args)
    return screen(args)


if __name__ == "__main__":
    sys.exit(main())
