#!/usr/bin/env python3
"""Check that every line of the given log files is an ipcbox log line:
TIMESTAMP LEVEL ident[pid]: key=value ... in logfmt (docs/logging.md).
Prints the first bad line and exits 1; exits 0 when every line is good."""
import re
import sys

HEAD = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn|info|debug) '
                  r'[A-Za-z0-9_.-]+\[\d+\]: ')
FIELD = re.compile(r'[A-Za-z0-9_.-]+=(?:"(?:[^"\\\x00-\x1f\x7f]|\\["\\nrt]|\\x[0-9a-f]{2})*"'
                   r'|[^\s"=\\\x00-\x1f\x7f]+)')


def good(line):
    m = HEAD.match(line)
    if not m:
        return False
    rest = line[m.end():]
    pos = 0
    while True:
        f = FIELD.match(rest, pos)
        if not f:
            return False
        pos = f.end()
        if pos == len(rest):
            return True
        if rest[pos] != ' ':
            return False
        pos += 1


def main():
    n = 0
    for path in sys.argv[1:]:
        with open(path, encoding='utf-8', errors='surrogateescape') as f:
            for line in f:
                n += 1
                if not line.endswith('\n') or not good(line[:-1]):
                    print(f'{path}: not a logfmt line: {line!r}')
                    return 1
    print(f'{n} lines, all logfmt')
    return 0


if __name__ == '__main__':
    sys.exit(main())
