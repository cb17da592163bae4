#!/usr/bin/env python3
"""chat_hold.py ROOM HOST:PORT... : one IRC member per address joins ROOM;
each says a line and checks every other member got it (across chatd
nodes); then prints "ready" and holds the connections open until stdin
closes (or 120 s). Exit 1 with a FAIL line if a line does not arrive within
20 s."""
import os
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chat_cases as cc  # noqa: E402

room, addrs = sys.argv[1], sys.argv[2:]
members = []
for i, a in enumerate(addrs):
    host, port = a.rsplit(":", 1)
    cc.ADDR = (host, int(port))
    members.append(cc.irc(f"hold{i}", join=room))
time.sleep(0.5)
for i, m in enumerate(members):
    m.send(f"PRIVMSG {room} :line from hold{i}\r\n")
    for k, o in enumerate(members):
        if k != i:
            o.expect(f"line from hold{i}", timeout=20)
print("ready", flush=True)
select.select([sys.stdin], [], [], 120)
for m in members:
    m.close()
