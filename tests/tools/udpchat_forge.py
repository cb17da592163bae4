#!/usr/bin/env python3
"""Send hand-made udpchat datagrams (the format of include/ipcbox/udpchat.h)
to a peer, for the tests: valid ones with a chosen sender id and sequence
number (to replay, duplicate or flood), and broken ones.

  udpchat_forge.py HOST PORT KIND [--id HEX] [--seq N] [--nick NICK]
                   [--text TEXT] [--count N] [--copies K] [--ids N]
                   [--source ADDR] [--sport PORT] [--interval MS]

KIND:
  message    a message (TEXT, default "forged"); with --count N, N of them
             with sequence numbers SEQ, SEQ+1, ... and " N" after the text
  presence   a presence announcement (interval MS, default 5000)
  leave      a leave notice
  malformed  the right magic and version, then garbage (a nick with a
             control character and a short body)
  oversized  a valid-looking message of 1300 bytes (the limit is 1200)
  version    a message that claims version 2
  garbage    random bytes
--copies K sends every datagram K times (duplicates); --ids N sends one
datagram from each of N different random sender ids. --source ADDR binds
that local IPv4 address and multicasts out of its interface (HOST may then
be a group). --sport PORT sends from that local port (a --to peer's).
"""
import argparse
import os
import socket
import struct


def datagram(kind, sender, seq, nick, text, interval=5000):
    nick_b = nick.encode()
    if kind == "message":
        t, body = 1, text.encode()
    elif kind == "presence":
        t, body = 2, struct.pack(">I", interval)
    elif kind == "leave":
        t, body = 3, b""
    elif kind == "malformed":
        return b"UC\x01\x01" + struct.pack(">QI", sender, seq) + b"\x04ev\x1bl" + b"\x00"
    elif kind == "oversized":
        t, body = 1, b"x" * (1300 - 17 - len(nick_b))
    elif kind == "version":
        return b"UC\x02\x01" + struct.pack(">QI", sender, seq) + bytes([len(nick_b)]) + \
            nick_b + text.encode()
    elif kind == "garbage":
        return os.urandom(64)
    else:
        raise SystemExit("unknown kind " + kind)
    return b"UC" + bytes([1, t]) + struct.pack(">QI", sender, seq) + \
        bytes([len(nick_b)]) + nick_b + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("kind")
    ap.add_argument("--id", default="5eed5eed5eed5eed")
    ap.add_argument("--seq", type=int, default=1)
    ap.add_argument("--nick", default="forger")
    ap.add_argument("--text", default="forged")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--ids", type=int, default=0)
    ap.add_argument("--source")
    ap.add_argument("--sport", type=int, default=0)
    ap.add_argument("--interval", type=int, default=5000)
    a = ap.parse_args()
    ai = socket.getaddrinfo(a.host, a.port, type=socket.SOCK_DGRAM)[0]
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    if a.source or a.sport:
        s.bind((a.source or ("::" if ai[0] == socket.AF_INET6 else "0.0.0.0"), a.sport))
    if a.source:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(a.source))
    grams = []
    if a.ids:
        for _ in range(a.ids):
            sender = int.from_bytes(os.urandom(8), "big") | 1
            grams.append(datagram(a.kind, sender, a.seq, a.nick, a.text, a.interval))
    else:
        for i in range(a.count):
            text = a.text if a.count == 1 else "%s %d" % (a.text, i)
            grams.append(datagram(a.kind, int(a.id, 16), (a.seq + i) & 0xffffffff, a.nick,
                                 text, a.interval))
    for g in grams:
        for _ in range(a.copies):
            s.sendto(g, ai[4])
    print("sent %d datagrams" % (len(grams) * a.copies))


if __name__ == "__main__":
    main()
