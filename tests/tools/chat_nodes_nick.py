#!/usr/bin/env python3
"""chat_nodes_nick.py HOST:PORT_A HOST:PORT_B : nicks across two chatd nodes
over Redis (the review-14 fixes).
  race: a nick held on node A, asked for twice in one write on node B, is
        refused (433) and never given: the second NICK line finds the
        client's own claim on its way and waits for its answer.
  case: a case-only nick change (bob -> BOB) on A reaches B: B's member
        sees the NICK and NAMES lists BOB.
Every wait is bounded; exit 1 with a FAIL line."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_cases as cc  # noqa: E402
from chat_cases import Peer, fail, irc, ok  # noqa: E402


def at(addr):
    host, port = addr.rsplit(":", 1)
    cc.ADDR = (host, int(port))


def names(p, room):
    """The members NAMES lists for room, as p sees them."""
    p.send(f"NAMES {room}\r\n")
    got = p.expect(f" 366 {p.name} {room} ", timeout=10)
    out = set()
    for ln in got.split("\r\n"):
        if f" 353 {p.name} " in ln:
            out.update(x.lstrip("@+") for x in ln.split(" :", 1)[1].split())
    return out


def main():
    a_addr, b_addr = sys.argv[1], sys.argv[2]
    at(a_addr)
    v = irc("victim", join="#r")
    time.sleep(0.5)
    at(b_addr)
    e = Peer("impostor")
    e.send("NICK victim\r\nNICK victim\r\nUSER e 0 * :r\r\n")
    e.expect(" 433 * victim ", timeout=10)
    e.send("NICK other\r\n")
    e.expect(" 001 other ", timeout=10)
    if b" 001 victim " in e.buf:
        fail("node B gave a nick held on node A")
    e.send("JOIN #r\r\nPRIVMSG #r :from the other\r\n")
    got = v.expect("from the other", timeout=10)
    if ":victim!" in got.split("\r\n")[-2]:
        fail("node A sees the impostor's line as victim's")
    ok("a nick held on another node is refused even when asked twice in one write")

    at(a_addr)
    bob = irc("bob", join="#r")
    at(b_addr)
    w = irc("witness", join="#r")
    # node B reads who is in #r once its subscription to the room is
    # active (and not before): when NAMES there lists bob, bob's NICK,
    # published after, reaches B
    deadline = time.time() + 20
    while "bob" not in names(w, "#r"):
        if time.time() > deadline:
            fail("node B never listed bob of node A in #r")
        time.sleep(0.1)
    bob.send("NICK BOB\r\n")
    bob.expect("NICK :BOB")
    got = w.expect("NICK :BOB", timeout=10)
    if ":bob!" not in got.split("\r\n")[-2]:
        fail(f"the NICK line on the other node is not from bob: {got[-200:]!r}")
    listed = names(w, "#r")
    if "BOB" not in listed or "bob" in listed:
        fail(f"NAMES on the other node after bob -> BOB: {sorted(listed)}")
    ok("a case-only nick change reaches the other node (NICK and NAMES)")


if __name__ == "__main__":
    main()
