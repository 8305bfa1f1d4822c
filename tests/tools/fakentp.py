#!/usr/bin/env python3
"""A small NTP responder for tests of `horoctl check`, answering like a
server we want to judge: by default like Windows w32time serving its own
clock (stratum 1, refid LOCL, root dispersion 10.3 s). Every header field a
client judges can be set; it can also answer with a kiss-o'-death, with a
wrong origin timestamp, or not at all. Python 3 standard library only. It
exits by itself after --lifetime seconds (bounded, so a test that forgets
it cannot leave it running), and prints `ready PORT` once bound.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800  # s from 1900-01-01 to 1970-01-01
SHORT_ONE = 65536  # short format units per second (16.16)


def ntp_now():
    """The current time as a 64-bit NTP timestamp."""
    t = time.time() + NTP_EPOCH
    sec = int(t)
    return ((sec & 0xFFFFFFFF) << 32) | int((t - sec) * (1 << 32))


def short(seconds):
    """Seconds in the 16.16 short format, clamped."""
    return max(0, min(0xFFFFFFFF, int(round(seconds * SHORT_ONE))))


def refid_bytes(text, stratum):
    """Refid: ASCII for stratum 0/1 (and KoD), else a dotted IPv4 address."""
    if stratum <= 1:
        return text.encode("ascii")[:4].ljust(4, b"\0")
    return socket.inet_aton(text)


def reply(req, args):
    """The reply to request REQ (bytes), or None to stay silent."""
    if len(req) < 48:
        return None
    vn = (req[0] >> 3) & 7
    mode = req[0] & 7
    if mode not in (1, 3):
        return None
    rmode = 2 if mode == 1 else 4
    org = req[40:48]
    if args.wrong_origin:
        org = os.urandom(8)
    rx = ntp_now()
    if args.kod:
        hdr = struct.pack("!BBbb", (3 << 6) | (vn << 3) | rmode, 0, 0, 0)
        return hdr + struct.pack("!II", 0, 0) + refid_bytes(args.kod, 0) + bytes(8) + org + bytes(16)
    stratum = args.stratum
    first = (args.leap << 6) | ((args.version or vn) << 3) | rmode
    hdr = struct.pack("!BBbb", first, stratum, req[2], args.precision)
    hdr += struct.pack("!II", short(args.root_delay), short(args.root_dispersion))
    hdr += refid_bytes(args.refid, stratum)
    ref = rx - (int(args.ref_age) << 32)
    tx = ntp_now()
    return hdr + struct.pack("!Q", ref) + org + struct.pack("!QQ", rx, tx)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=123)
    p.add_argument("--stratum", type=int, default=1)
    p.add_argument("--refid", default="LOCL")
    p.add_argument("--leap", type=int, default=0, choices=range(4))
    p.add_argument("--version", type=int, default=3, help="reply VN (0: echo the request's)")
    p.add_argument("--precision", type=int, default=-23)
    p.add_argument("--root-delay", type=float, default=0.0)
    p.add_argument("--root-dispersion", type=float, default=10.3)
    p.add_argument("--ref-age", type=float, default=30, help="s since the reference time")
    p.add_argument("--kod", help="answer with this kiss-o'-death code (RATE, DENY, RSTR)")
    p.add_argument("--silent", action="store_true", help="read requests, never answer")
    p.add_argument("--wrong-origin", action="store_true", help="a random origin timestamp")
    p.add_argument("--lifetime", type=float, default=60, help="s before exiting by itself")
    args = p.parse_args()

    fam = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((args.addr, args.port))
    print("ready", s.getsockname()[1], flush=True)
    end = time.monotonic() + args.lifetime
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return 0
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        req, peer = s.recvfrom(2048)
        out = None if args.silent else reply(req, args)
        if out:
            s.sendto(out, peer)


if __name__ == "__main__":
    sys.exit(main())
