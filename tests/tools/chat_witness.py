#!/usr/bin/env python3
"""A plain-line user (nc-like, nick 'plainy') in #lobby of ipcbox chatd
who watches a real IRC client named NICK do its part of the script and
does its own. Usage: chat_witness.py HOST:PORT NICK.

The test drives the real client; this peer prints one line per step it
has seen ('saw join' ...), so the test knows when to go on, and does its
own steps between:

  ready        registered and in #lobby
  saw join     '*** NICK joined #lobby'
  saw message  '[#lobby] NICK: hello from NICK'   -> says 'hello NICK'
  saw action   '[#lobby] * NICK waves'            -> /nick plainy2
  saw nick     '*** NICK is now known as NICK2'
  saw private  '[pm] NICK2: psst'                  -> /msg NICK2 back at you
  saw part     '*** NICK2 left #lobby (later)'
  saw rejoin   '*** NICK2 joined #lobby'
  saw quit     '*** NICK2 quit (...bye)' (the server may say 'Quit: bye')

Every wait is bounded (30 s: a real client on a loaded machine); the
first step not seen fails ('FAIL: ...', exit 1)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_cases  # noqa: E402  (Peer, plain: the scripted chatd peers)

WAIT = 30.0


def step(p, what, name):
    p.expect(what, timeout=WAIT)
    print(name, flush=True)


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    chat_cases.ADDR = (host, int(port))
    who = sys.argv[2]
    p = chat_cases.plain("plainy")
    p.expect("*** plainy joined #lobby")
    print("ready", flush=True)
    step(p, f"*** {who} joined #lobby", "saw join")
    step(p, f"[#lobby] {who}: hello from {who}", "saw message")
    p.send(f"hello {who}\n")
    step(p, f"[#lobby] * {who} waves", "saw action")
    p.send("/nick plainy2\n")
    p.expect("is now known as plainy2", timeout=WAIT)
    step(p, f"*** {who} is now known as {who}2", "saw nick")
    step(p, f"[pm] {who}2: psst", "saw private")
    p.send(f"/msg {who}2 back at you\n")
    step(p, f"*** {who}2 left #lobby (later)", "saw part")
    step(p, f"*** {who}2 joined #lobby", "saw rejoin")
    line = p.expect(f"*** {who}2 quit (", timeout=WAIT)
    if "bye)" not in line:
        chat_cases.fail(f"quit without its reason: {line!r}")
    print("saw quit", flush=True)
    p.send("/quit\n")
    p.close()
    print(f"ok: plainy and {who} talked", flush=True)


if __name__ == "__main__":
    main()
