#!/usr/bin/env python3
"""Test helper (not a test itself): forged UDP datagrams on loopback and
counting what comes back. Needs root (raw sockets). Only 127.0.0.0/8.

  udp_forge.py selfloop PORT              forge PORT->PORT on 127.0.0.1, print
                                          how many PORT->PORT datagrams a sniffer
                                          sees in 1.5 s (the forged one included)
  udp_forge.py pingpong PORT_A PORT_B     forge B->A, wait (max 20 s) for 2 quiet
                                          seconds between them (a server held up
                                          for a second on a loaded machine is no
                                          end of the loop); print the count seen,
                                          or "loop" if it never stopped
  udp_forge.py privport PORT              from a source port below 1024: print
                                          "answered" or "dropped" (decided by a
                                          later probe from an ordinary port)
  udp_forge.py probe PORT                 one datagram from an ordinary port:
                                          print "answered" or "unanswered" (5 s)
  udp_forge.py rate PORT ROUNDS N         ROUNDS x (N datagrams from 127.0.0.2,
                                          then one probe from 127.0.0.3 that must
                                          be answered); print "sent S got G probes P"
"""
import select
import socket
import struct
import sys
import time

LO = "127.0.0.1"
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def forge(src_port, dst_port, payload=b"forged", src=LO, dst=LO):
    """One IPv4/UDP datagram with a source of our choice (IP_HDRINCL)."""
    udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x1234, 0, 64,
                     socket.IPPROTO_UDP, 0, socket.inet_aton(src),
                     socket.inet_aton(dst))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(ip + udp, (dst, 0))
    s.close()


def sniffer():
    """Every UDP datagram that arrives on this host (IPv4)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    return s


def ports_of(pkt):
    ihl = (pkt[0] & 15) * 4
    return struct.unpack("!HH", pkt[ihl:ihl + 4])


def count(s, match, seconds):
    """Datagrams matching (sport, dport) seen within seconds."""
    n = 0
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return n
        r, _, _ = select.select([s], [], [], left)
        if r:
            if match(*ports_of(s.recv(70000))):
                n += 1


def selfloop(port):
    s = sniffer()
    forge(port, port)
    print(count(s, lambda sp, dp: sp == port and dp == port, 1.5))


def pingpong(pa, pb):
    s = sniffer()
    forge(pb, pa)
    pair = {(pa, pb), (pb, pa)}
    total = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        n = count(s, lambda sp, dp: (sp, dp) in pair, 2.0)
        total += n
        if n == 0:
            print(total)
            return
    print("loop")


def udp_sock(addr, port=0, rcvbuf=None):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf:
        u.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
    u.bind((addr, port))
    return u


def drain(u):
    n = 0
    while True:
        try:
            u.recv(70000, socket.MSG_DONTWAIT)
            n += 1
        except BlockingIOError:
            return n


def probe(port, u):
    """Send from u, wait (max 5 s) for the answer."""
    u.sendto(b"probe", (LO, port))
    u.settimeout(5)
    try:
        return u.recv(100) == b"probe"
    except socket.timeout:
        return False


def privport(port):
    priv = None
    for p in range(1000, 1024):
        try:
            priv = udp_sock(LO, p)
            break
        except OSError:
            continue
    if priv is None:
        print("no free port below 1024")
        return
    priv.sendto(b"priv", (LO, port))
    if not probe(port, udp_sock(LO)):
        print("probe unanswered")
        return
    print("answered" if drain(priv) else "dropped")


def probe_cmd(port):
    print("answered" if probe(port, udp_sock(LO)) else "unanswered")


def rate(port, rounds, n):
    x = udp_sock("127.0.0.2", rcvbuf=32 << 20)
    y = udp_sock("127.0.0.3")
    sent = got = probes = 0
    for _ in range(rounds):
        for _ in range(n):
            x.sendto(b"x" * 16, (LO, port))
            sent += 1
        if probe(port, y):
            probes += 1
        got += drain(x)
    print("sent %d got %d probes %d" % (sent, got, probes))


if __name__ == "__main__":
    cmd, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {"selfloop": selfloop, "pingpong": pingpong, "privport": privport,
     "probe": probe_cmd,
     "rate": rate}[cmd](*args)
