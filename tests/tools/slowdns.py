#!/usr/bin/env python3
"""A DNS stub for tests: answers A queries for NAME with ADDR after DELAY
seconds, AAAA and anything else with an empty NOERROR answer at once.
Usage: slowdns.py LISTEN_ADDR NAME ADDR DELAY MAX_SECONDS (exits after
MAX_SECONDS). Only the standard library; one thread per delayed answer."""
import socket
import struct
import sys
import threading
import time

listen, name, addr, delay, life = sys.argv[1], sys.argv[2].lower().rstrip("."), sys.argv[3], \
    float(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((listen, 53))
s.settimeout(0.5)


def qname(pkt):
    """(name, qtype, end of the question) of query PKT."""
    i, labels = 12, []
    while pkt[i]:
        labels.append(pkt[i + 1:i + 1 + pkt[i]].decode("ascii", "replace"))
        i += 1 + pkt[i]
    qtype = struct.unpack("!H", pkt[i + 1:i + 3])[0]
    return ".".join(labels).lower(), qtype, i + 5


def answer(pkt, peer):
    try:
        n, qtype, end = qname(pkt)
    except (IndexError, struct.error):
        return
    head = pkt[:2] + b"\x81\x80" + pkt[4:6]
    if n == name and qtype == 1:
        time.sleep(delay)
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
        s.sendto(head + b"\x00\x01\x00\x00\x00\x00" + pkt[12:end] + rr, peer)
    else:
        s.sendto(head + b"\x00\x00\x00\x00\x00\x00" + pkt[12:end], peer)


deadline = time.time() + life
while time.time() < deadline:
    try:
        pkt, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    threading.Thread(target=answer, args=(pkt, peer), daemon=True).start()
