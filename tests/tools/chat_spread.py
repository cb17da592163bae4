#!/usr/bin/env python3
"""Peers for chatd under the models with several loops (threads or
processes): a room whose members are spread over the workers, and the death
of a worker process. Usage:
  chat_spread.py HOST:PORT spread N [SERVERPID]
      N members (plain and IRC in turn) in #spread, connected at once so
      that the workers share them; each says a line and every member must
      see every other's. With SERVERPID, says how the members are spread
      over its child processes.
  chat_spread.py HOST:PORT kill N SERVERPID
      As spread, then SIGKILL one child process of SERVERPID that serves
      some members but not all: the others see each of its members quit,
      NAMES no longer lists them, and the server goes on serving.
  chat_spread.py HOST:PORT peraddr N
      With --max-per-addr N: connections past N from one address get
      "ERROR :Closing Link: too many connections from your address".
Prints 'ok: ...' lines and exits 0, or 'FAIL: ...' and exits 1; every wait
is bounded."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_cases  # noqa: E402
from chat_cases import Peer, fail, ok  # noqa: E402

ROOM = "#spread"


def wait_all(p, words, timeout=10.0):
    """Read p until every text of words is in its buffer (any order)."""
    want = [w.encode() for w in words]
    deadline = time.time() + timeout
    while True:
        missing = [w for w in want if w not in p.buf]
        if not missing:
            return
        if not p._fill(deadline) and (p.closed or time.time() >= deadline):
            fail(f"{p.name}: {len(missing)} of {len(want)} lines missing, first "
                 f"{missing[0]!r}; got {p.buf[-400:]!r}")


def members(n, first=0):
    """n members of ROOM, connected all at once, then registered."""
    peers = []
    for k in range(first, first + n):
        nick = f"m{k}{'p' if k % 2 == 0 else 'i'}"
        peers.append(Peer(nick))
    for p in peers:
        if p.name.endswith("p"):
            p.send(p.name + "\n")
        else:
            p.send(f"NICK {p.name}\r\nUSER {p.name} 0 * :{p.name}\r\n")
    for p in peers:
        if p.name.endswith("p"):
            p.expect("*** welcome, " + p.name, timeout=10)
            p.send(f"/join {ROOM}\n")
            p.expect(f"*** {p.name} joined {ROOM}", timeout=10)
        else:
            p.expect(f" 001 {p.name} ", timeout=10)
            p.send(f"JOIN {ROOM}\r\n")
            p.expect(f" 366 {p.name} {ROOM} ", timeout=10)
    return peers


def everyone_hears(peers, tag):
    for s in peers:
        s.send(f"{tag} from {s.name}\n" if s.name.endswith("p")
               else f"PRIVMSG {ROOM} :{tag} from {s.name}\r\n")
    for p in peers:
        want = []
        for s in peers:
            if s is p:
                continue
            if p.name.endswith("p"):
                want.append(f"[{ROOM}] {s.name}: {tag} from {s.name}\n")
            else:
                want.append(f" PRIVMSG {ROOM} :{tag} from {s.name}\r\n")
        wait_all(p, want)
        p.buf = b""


# ---- which process serves which member ----------------------------------

def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        if int(st.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(d))
    return out


def peer_ports(pid, port):
    """Client ports of the TCP connections to port that pid holds."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return set()
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    col = line.split()
                    local, remote, inode = col[1], col[2], col[9]
                    if inode in inodes and int(local.rsplit(":", 1)[1], 16) == port:
                        ports.add(int(remote.rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def spread_of(peers, server):
    """child pid -> the members it serves."""
    port = chat_cases.ADDR[1]
    where = {}
    for c in children(server):
        ports = peer_ports(c, port)
        mine = [p for p in peers if p.s.getsockname()[1] in ports]
        if mine:
            where[c] = mine
    return where


# ---- cases ----------------------------------------------------------------

def case_spread():
    n = int(sys.argv[3])
    peers = members(n)
    if len(sys.argv) > 4:
        where = spread_of(peers, int(sys.argv[4]))
        ok(f"members per process: {sorted(len(v) for v in where.values())}")
    everyone_hears(peers, "hello")
    ok(f"spread: {n} plain and IRC members each heard the {n - 1} others")


def case_kill():
    n, server = int(sys.argv[3]), int(sys.argv[4])
    peers = members(n)
    where = spread_of(peers, server)
    extra = n
    while len(where) < 2 and extra < 4 * n:   # the kernel put them all on one
        peers += members(4, extra)
        extra += 4
        where = spread_of(peers, server)
    if len(where) < 2:
        fail(f"every member landed in one process: {list(where)}")
    victim = min(where, key=lambda c: len(where[c]))
    gone = where[victim]
    alive = [p for p in peers if p not in gone]
    for p in peers:
        p.buf = b""
    os.kill(victim, signal.SIGKILL)
    for p in gone:   # their sockets die with the process
        deadline = time.time() + 10
        while not p.closed and p._fill(deadline):
            pass
        if not p.closed:
            fail(f"{p.name}: still connected after its process was killed")
    for p in alive:
        if p.name.endswith("p"):
            wait_all(p, [f"*** {g.name} quit (" for g in gone])
        else:
            for g in gone:   # ":nick!user@host QUIT :reason"
                pat = re.compile(rb":" + re.escape(g.name.encode()) + rb"![^ ]+ QUIT :")
                deadline = time.time() + 10
                while not pat.search(p.buf):
                    if not p._fill(deadline) and (p.closed or time.time() >= deadline):
                        fail(f"{p.name}: no QUIT of {g.name}; got {p.buf[-400:]!r}")
    ok(f"kill: {len(gone)} members of process {victim} quit for the {len(alive)} others")
    asker = next(p for p in alive if not p.name.endswith("p"))
    asker.buf = b""
    asker.send(f"NAMES {ROOM}\r\n")
    names = asker.expect(f" 366 {asker.name} {ROOM} ")
    listed = set()
    for line in names.splitlines():
        if f" 353 {asker.name} " in line:
            listed |= {w.lstrip("@+") for w in line.split(" :", 1)[1].split()}
    if listed != {p.name for p in alive}:
        fail(f"NAMES after the kill: {sorted(listed)}, want {sorted(p.name for p in alive)}")
    ok("kill: NAMES lists the survivors only")
    late = members(2, 1000)
    everyone_hears(alive + late, "after")
    ok("kill: the server goes on serving old and new members")


def case_peraddr():
    n = int(sys.argv[3])
    peers = [Peer(f"a{k}") for k in range(n)]
    for p in peers:
        p.expect("nickname? ", timeout=10)
    extra = Peer("one-too-many")
    extra.expect("ERROR :Closing Link: too many connections from your address", timeout=10)
    peers[0].close()
    time.sleep(0.2)
    ok(f"peraddr: the connection past --max-per-addr {n} is refused with an ERROR line")


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    chat_cases.ADDR = (host, int(port))
    globals()["case_" + sys.argv[2]]()


if __name__ == "__main__":
    main()
