#!/usr/bin/env python3
"""bench/wirecap.py: arrival - T3 of one real client's replies, at the wire.

Captures, on IFACE (the client's end of the veth), the NTP requests a
single real client (chronyd -x as a client) sends to SERVER port 123 and
the replies that come back, each with the kernel's packet-capture stamp
(SO_TIMESTAMPNS on a packet socket: where the reply is delivered), for
DURATION seconds, and prints one JSON object:
  basic_us / interleaved_us: arrival - T3 in us (n, min, mean, sd, p99,
  late = replies that arrived before their T3).
A reply whose origin is the transmit field of the client's last request
is basic: arrival - its own transmit field. One whose origin is that
request's receive field is interleaved (RFC 9769) and carries the
transmit time of the client's previous reply: arrival of that reply - this
reply's transmit field, counted only when the request named that reply
(its origin = that reply's receive field; one client, one exchange at a
time: the previous reply is the last one captured). Other replies are
counted as unmatched. Outgoing requests reach only packet sockets of
every protocol (ETH_P_ALL): the capture takes all and keeps IPv4. Server and client on one host share the
clock, so the truth is 0 and a negative figure is a T3 in the future.
Bounded by DURATION; needs CAP_NET_RAW.

usage: wirecap.py IFACE SERVER DURATION
"""
import json
import math
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003  # every protocol, outgoing frames included
ETH_P_IP = 0x0800
SO_TIMESTAMPNS = 35  # socket(7): nanosecond receive stamps, SCM_TIMESTAMPNS
NTP_UNIX = 2208988800  # s from the NTP era 0 origin (1900) to the Unix epoch
NTP_PORT = 123


def ntp_ns(ts):
    """64-bit NTP timestamp to Unix ns (era 0: this century's dates)."""
    return ((ts >> 32) - NTP_UNIX) * 1000000000 + ((ts & 0xFFFFFFFF) * 1000000000 >> 32)


def stats(v):
    if not v:
        return dict(n=0)
    s = sorted(v)
    n = len(s)
    mean = sum(s) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in s) / n)
    return dict(n=n, min=round(s[0] / 1000, 3), mean=round(mean / 1000, 3), sd=round(sd / 1000, 3),
                p99=round(s[min(n - 1, int(0.99 * n))] / 1000, 3), late=sum(1 for x in s if x < 0))


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    iface, server, duration = sys.argv[1], socket.inet_aton(sys.argv[2]), float(sys.argv[3])
    sk = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    sk.bind((iface, ETH_P_ALL))
    sk.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    req = None  # (origin, receive, transmit) of the client's last request
    prev = None  # (arrival, receive field) of the last reply
    basic, xleave = [], []
    unmatched = 0
    end = time.monotonic() + duration
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        if not select.select([sk], [], [], left)[0]:
            continue
        data, anc, _, addr = sk.recvmsg(2048, socket.CMSG_SPACE(16))
        if addr[1] != ETH_P_IP:
            continue
        stamp = None
        for lvl, typ, val in anc:
            if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(val) >= 16:
                sec, nsec = struct.unpack("qq", val[:16])
                stamp = sec * 1000000000 + nsec
        if stamp is None or len(data) < 20 or data[0] >> 4 != 4 or data[9] != socket.IPPROTO_UDP:
            continue
        ihl = (data[0] & 15) * 4
        udp = data[ihl:ihl + 8]
        ntp = data[ihl + 8:ihl + 56]
        if len(udp) < 8 or len(ntp) < 48:
            continue
        sport, dport = struct.unpack("!HH", udp[:4])
        org, rec, xmt = struct.unpack("!QQQ", ntp[24:48])
        if data[16:20] == server and dport == NTP_PORT:
            req = (org, rec, xmt)  # a request of the client (outgoing)
        elif data[12:16] == server and sport == NTP_PORT and ntp[0] & 7 == 4 and xmt:
            if req is not None and org == req[2]:
                basic.append(stamp - ntp_ns(xmt))
            elif req is not None and org == req[1] and org and prev is not None and req[0] == prev[1]:
                xleave.append(prev[0] - ntp_ns(xmt))
            else:
                unmatched += 1
            prev = (stamp, rec)
    print(json.dumps(dict(basic_us=stats(basic), interleaved_us=stats(xleave), unmatched=unmatched)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
