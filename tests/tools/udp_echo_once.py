#!/usr/bin/env python3
"""Send one UDP datagram and print the answer (empty after 20 s of silence:
an answer is expected, also from a server on a loaded machine).

usage: udp_echo_once.py HOST PORT TEXT
"""
import socket
import sys

host, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(20)
s.sendto(text.encode(), (host, port))
try:
    print(s.recv(65536).decode())
except socket.timeout:
    print("")
