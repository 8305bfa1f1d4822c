#!/usr/bin/env python3
"""Abuse horod's control socket or its HTTP /metrics endpoint, and watch it.

Opens connections, one after the other, for --duration seconds (or up
to --conns connections, whichever comes first), each doing one of a list
of bad things in turn: connect and close at once, garbage, a header
announcing a payload larger than the protocol allows (or an HTTP head
larger than 4 KiB), a header cut short then closed, a header cut short
then left open, nothing at all (left open), a megabyte thrown at the
socket without reading, and a valid request whose answer is never read
(left open). Connections left open are held, up to HOLD at once (more
than horod serves), the oldest closed first, so horod's connection slots
stay full. While it runs, it samples the number of open descriptors of
PID (/proc/PID/fd) every few connections.

Prints one JSON object: connections made, refused or timed out at
connect, answers received, the highest descriptor count seen, seconds.
Exit 0, or 2 on a usage error. Every loop is bounded by --conns and by
--duration; every socket operation has a timeout.
"""

import argparse
import json
import os
import socket
import struct
import sys
import time

CTL_MAGIC = 0x484F5243  # "HORC", proto/ctlproto.h
CTL_VERSION = 1
CTL_CMD_STATUS = 1
CTL_MAX_REQUEST = 1024  # bytes of a request payload horod accepts
HTTP_MAX_REQ = 4096  # bytes of an HTTP head horod accepts
SOCK_TIMEOUT = 0.5  # s: any one connect, send or receive
FLOOD_BYTES = 1 << 20  # bytes thrown by the "flood" behaviour
SAMPLE_EVERY = 8  # connections between two descriptor counts


def ctl_header(cmd, length, magic=CTL_MAGIC, version=CTL_VERSION):
    """A 16-byte control request header (big-endian, reserved zero)."""
    return struct.pack(">IBBBBII", magic, version, 0, cmd, 0, length, 0)


def behaviours(http):
    """(name, bytes to send, keep the connection open, read an answer) in turn."""
    if http:
        return [
            ("close", b"", False, False),
            ("garbage", os.urandom(200) + b"\r\n\r\n", False, True),
            ("oversized", b"GET /metrics HTTP/1.0\r\nX: " + b"a" * (2 * HTTP_MAX_REQ), False, True),
            ("truncated", b"GET /metr", False, False),
            ("truncated-held", b"GET /metrics HTTP/1.0\r\n", True, False),
            ("idle", b"", True, False),
            ("flood", None, False, False),
            ("unread", b"GET /metrics HTTP/1.0\r\n\r\n", True, False),
            ("bad-method", b"POST /metrics HTTP/1.0\r\n\r\n", False, True),
        ]
    return [
        ("close", b"", False, False),
        ("garbage", os.urandom(64), False, True),
        ("oversized", ctl_header(CTL_CMD_STATUS, CTL_MAX_REQUEST + 1) + b"x" * 64, False, True),
        ("oversized-max", ctl_header(CTL_CMD_STATUS, 0xFFFFFFFF), False, True),
        ("truncated", ctl_header(CTL_CMD_STATUS, 0)[:7], False, False),
        ("truncated-held", ctl_header(CTL_CMD_STATUS, 0)[:11], True, False),
        ("short-payload", ctl_header(CTL_CMD_STATUS, CTL_MAX_REQUEST) + b"y" * 100, True, False),
        ("idle", b"", True, False),
        ("flood", None, False, False),
        ("unread", ctl_header(CTL_CMD_STATUS, 0), True, False),
        ("bad-command", ctl_header(200, 0), False, True),
        ("bad-version", ctl_header(CTL_CMD_STATUS, 0, version=99), False, True),
    ]


def count_fds(pid):
    """Open descriptors of PID, or -1 when it cannot be read."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def connect(args):
    """A connected socket, or None."""
    if args.unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        addr = args.unix
    else:
        host, port = args.tcp.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        addr = (host, int(port))
    s.settimeout(SOCK_TIMEOUT)
    try:
        s.connect(addr)
    except OSError:
        s.close()
        return None
    return s


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix", help="control socket path")
    where.add_argument("--tcp", help="HTTP endpoint HOST:PORT (IPv4)")
    p.add_argument("--pid", type=int, required=True, help="horod's PID, for its descriptors")
    p.add_argument("--conns", type=int, default=100000, help="connections at most (max 100000)")
    p.add_argument("--hold", type=int, default=48, help="connections held open at most")
    p.add_argument("--duration", type=float, default=3.0, help="seconds of abuse (max 60)")
    args = p.parse_args()
    if not 1 <= args.conns <= 100000 or not 0 <= args.hold <= 1000 or not 0 < args.duration <= 60:
        p.error("--conns 1-100000, --hold 0-1000, --duration 0-60")

    kinds = behaviours(args.tcp is not None)
    held = []
    res = {"conns": 0, "connect_failed": 0, "answers": 0, "eof_at_once": 0,
           "max_fds": count_fds(args.pid), "min_fds": count_fds(args.pid), "seconds": 0.0}
    t0 = time.monotonic()
    for i in range(args.conns):
        if time.monotonic() - t0 > args.duration:
            break
        if i % SAMPLE_EVERY == 0:
            n = count_fds(args.pid)
            res["max_fds"] = max(res["max_fds"], n)
            res["min_fds"] = min(res["min_fds"], n)
        name, data, keep, read = kinds[i % len(kinds)]
        s = connect(args)
        if s is None:
            res["connect_failed"] += 1
            continue
        res["conns"] += 1
        try:
            if data is None:
                chunk = os.urandom(65536)
                for _ in range(FLOOD_BYTES // len(chunk)):
                    s.sendall(chunk)
            elif data:
                s.sendall(data)
            if read:
                got = s.recv(65536)
                if got:
                    res["answers"] += 1
                else:
                    res["eof_at_once"] += 1
        except OSError:
            pass  # reset, timeout, EPIPE: horod closed it, as it may
        if keep:
            held.append(s)
            while len(held) > args.hold:
                held.pop(0).close()
        else:
            s.close()
    n = count_fds(args.pid)
    res["max_fds"] = max(res["max_fds"], n)
    for s in held:
        s.close()
    res["seconds"] = round(time.monotonic() - t0, 2)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
