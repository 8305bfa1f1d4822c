#!/usr/bin/env python3
"""Send one crafted NTP request frame on an interface and report what comes back.

The guard's system tests (94-guard-answer) ask a server the questions a
socket API cannot: a request to an address the server does not listen
on, for another host routed through it with TTL 1, to a broadcast or
multicast address behind any MAC, with a bad IPv4 header checksum, a bad
UDP checksum, a sender's partial one or none. The frame is built whole
(Ethernet, IPv4 or IPv6, UDP, a 48-byte mode 3 request whose transmit
timestamp is a random tag) and sent on an AF_PACKET socket; every frame
the interface then receives for a while is read, and the answers to this
request are reported: NTP replies carrying the tag as their origin, and
ICMP errors quoting the request. The output is one JSON object:
{"sent": N, "replies": [...]}, each reply with its kind ("ntp", "icmp",
"icmp6"), source and destination addresses and MAC, and for NTP the
stratum and the offset (server time minus ours, from the request and reply
timestamps read here). Python standard library only; bounded in frames
read and in time. Exit 0, 2 on a usage error.
"""

import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003  # every protocol, for the capture socket
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4  # sll_pkttype of frames we sent ourselves
SO_TIMESTAMPNS = 35  # socket option: receive times as struct timespec (asm-generic/socket.h)
NTP_EPOCH_OFFSET = 2208988800  # s from 1900 to 1970
NTP_PORT = 123
MAX_FRAMES = 100000  # frames read during one wait at most
RECV_BUF = 65536  # bytes: larger than any frame on these links


def mac_bytes(text):
    """A MAC address in colon form as 6 bytes."""
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError("bad MAC address %r" % text)
    return bytes(int(p, 16) for p in parts)


def mac_text(b):
    """6 bytes as a MAC address in colon form."""
    return ":".join("%02x" % x for x in b)


def csum(data):
    """The one's complement sum of DATA (RFC 1071), not complemented."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def now_ntp():
    """The current time as a 64-bit NTP timestamp."""
    ns = time.time_ns()
    secs, rem = divmod(ns, 1000000000)
    return ((secs + NTP_EPOCH_OFFSET) << 32) | ((rem << 32) // 1000000000)


def ntp_to_float(ts):
    """A 64-bit NTP timestamp (era 0) as float seconds since 1900."""
    return (ts >> 32) + (ts & 0xFFFFFFFF) / 4294967296.0


def build(args, tag):
    """The request frame as bytes: Ethernet, IP, UDP, NTP."""
    ntp = struct.pack("!BBbb", 0x23, 0, 6, -20) + b"\0" * 36 + struct.pack("!Q", tag)
    v6 = ":" in args.dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    src = socket.inet_pton(fam, args.src)
    dst = socket.inet_pton(fam, args.dst)
    ulen = 8 + len(ntp)
    udp = struct.pack("!HHHH", args.sport, args.dport, ulen, 0) + ntp
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", ulen, 17)
    else:
        pseudo = src + dst + struct.pack("!xBH", 17, ulen)
    if args.udp_csum == "partial":
        # What a sender with checksum offload leaves for the NIC to finish.
        c = csum(pseudo)
    elif args.udp_csum == "zero":
        c = 0
    else:
        c = 0xFFFF - csum(pseudo + udp)
        c = c or 0xFFFF
        if args.udp_csum == "bad":
            c = (c + 1) & 0xFFFF or 2
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, ulen, 17, args.ttl) + src + dst
        etype = ETH_P_IPV6
    else:
        hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + ulen, random.getrandbits(16), 0,
                          args.ttl, 17, 0) + src + dst
        c = 0xFFFF - csum(hdr)
        if args.ip_csum == "bad":
            c = (c + 1) & 0xFFFF
        ip = hdr[:10] + struct.pack("!H", c) + hdr[12:]
        etype = ETH_P_IP
    return mac_bytes(args.dst_mac) + mac_bytes(args.src_mac) + struct.pack("!H", etype) + ip + udp


def parse(frame, args, tag, t1, t4):
    """An answer to our request in FRAME, received at T4 (NTP format), as a dict, or None."""
    if len(frame) < 14:
        return None
    (etype,) = struct.unpack("!H", frame[12:14])
    rec = {"dst_mac": mac_text(frame[0:6]), "src_mac": mac_text(frame[6:12])}
    if etype == ETH_P_IP and len(frame) >= 34:
        ihl = (frame[14] & 15) * 4
        proto = frame[23]
        rec["src"] = socket.inet_ntop(socket.AF_INET, frame[26:30])
        rec["dst"] = socket.inet_ntop(socket.AF_INET, frame[30:34])
        l4 = 14 + ihl
        icmp = proto == 1
    elif etype == ETH_P_IPV6 and len(frame) >= 54:
        proto = frame[20]
        rec["src"] = socket.inet_ntop(socket.AF_INET6, frame[22:38])
        rec["dst"] = socket.inet_ntop(socket.AF_INET6, frame[38:54])
        l4 = 54
        icmp = proto == 58
    else:
        return None
    if proto == 17 and len(frame) >= l4 + 8 + 48:
        sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
        ntp = frame[l4 + 8:l4 + 56]
        (org,) = struct.unpack("!Q", ntp[24:32])
        if sport != NTP_PORT or dport != args.sport or org != tag:
            return None
        rec_ts, xmt_ts = struct.unpack("!QQ", ntp[32:48])
        rec.update(kind="ntp", stratum=ntp[1], leap=ntp[0] >> 6, mode=ntp[0] & 7,
                   offset=((ntp_to_float(rec_ts) - ntp_to_float(t1)) +
                           (ntp_to_float(xmt_ts) - ntp_to_float(t4))) / 2)
        return rec
    if icmp and len(frame) >= l4 + 8:
        itype, code = frame[l4], frame[l4 + 1]
        quoted = frame[l4 + 8:]
        # The quoted request: its UDP ports after the quoted IP header.
        qoff = 40 if etype == ETH_P_IPV6 else (quoted[0] & 15) * 4 if quoted else 0
        if len(quoted) < qoff + 4:
            return None
        qs, qd = struct.unpack("!HH", quoted[qoff:qoff + 4])
        if qs != args.sport or qd != args.dport:
            return None
        rec.update(kind="icmp6" if etype == ETH_P_IPV6 else "icmp", type=itype, code=code)
        return rec
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iface", required=True, help="interface to send on and read from")
    ap.add_argument("--src", required=True, help="source address (IPv4 or IPv6)")
    ap.add_argument("--dst", required=True, help="destination address")
    ap.add_argument("--dst-mac", required=True, help="destination MAC")
    ap.add_argument("--src-mac", help="source MAC (default: the interface's)")
    ap.add_argument("--dport", type=int, default=NTP_PORT)
    ap.add_argument("--sport", type=int, default=0, help="source port (default: random)")
    ap.add_argument("--ttl", type=int, default=64, help="TTL / hop limit")
    ap.add_argument("--udp-csum", choices=("ok", "bad", "zero", "partial"), default="ok")
    ap.add_argument("--ip-csum", choices=("ok", "bad"), default="ok")
    ap.add_argument("--wait", type=float, default=0.5, help="seconds to read answers")
    args = ap.parse_args()
    if not args.src_mac:
        with open("/sys/class/net/%s/address" % args.iface) as f:
            args.src_mac = f.read().strip()
    args.sport = args.sport or random.randint(20000, 60000)
    if not 0 < args.wait <= 10:
        ap.error("--wait takes 0..10 s")
    tag = random.getrandbits(63) | 1
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    # The kernel's receive time of each frame: no wait for this process in the offset.
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    frame = build(args, tag)
    # The transmit timestamp is the tag; the offset needs the real send time.
    t1 = now_ntp()
    s.send(frame)
    replies = []
    end = time.monotonic() + args.wait
    for _ in range(MAX_FRAMES):
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            break
        data, anc, _, addr = s.recvmsg(RECV_BUF, socket.CMSG_SPACE(16))
        if addr[2] == PACKET_OUTGOING:
            continue
        t4 = now_ntp()
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(val) >= 16:
                sec, nsec = struct.unpack("qq", val[:16])
                t4 = ((sec + NTP_EPOCH_OFFSET) << 32) | ((nsec << 32) // 1000000000)
        rec = parse(data, args, tag, t1, t4)
        if rec:
            replies.append(rec)
    s.close()
    print(json.dumps({"sent": 1, "replies": replies}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
