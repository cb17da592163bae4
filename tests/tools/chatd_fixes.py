#!/usr/bin/env python3
"""Regression cases for the review-13 fixes of ipcbox chatd (each failed on
the code before its fix). Usage: chatd_fixes.py HOST:PORT CASE [ARG].
Peers and helpers come from chat_cases.py; every wait is bounded."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_cases as cc  # noqa: E402
from chat_cases import Peer, fail, irc, ok, plain  # noqa: E402


def case_slowreg():
    """Registration: the deadline is --reg-timeout after the connection
    opened, not 0.5 s after for clients that spoke early."""
    a = Peer("slowreg")
    a.send("NICK slowreg\r\n")
    time.sleep(1.2)
    a.send("USER u 0 * :x\r\n")
    a.expect(" 001 slowreg ", timeout=3)
    b = Peer("capper")
    b.send("CAP LS 302\r\nNICK capper\r\nUSER u 0 * :x\r\n")
    time.sleep(1.2)
    b.send("CAP END\r\n")
    b.expect(" 001 capper ", timeout=3)
    t = plain("taken")
    c = Peer("retry")
    c.send("taken\n")
    c.expect("already in use")
    time.sleep(1.2)
    c.send("other\n")
    c.expect("*** welcome, other", timeout=3)
    ok("registration: NICK then USER 1 s later, slow CAP END, a second nick 1 s later")
    for p in (a, b, t, c):
        p.close()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    cc.ADDR = (host, int(port))
    globals()["case_" + sys.argv[2]]()


if __name__ == "__main__":
    main()
