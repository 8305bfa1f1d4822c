#!/usr/bin/env python3
"""Send crafted NTP datagrams to one server and report what came back.

The system tests use this tool to ask a server questions that real clients
never ask: other versions and modes, odd lengths, extension fields, mode 6
and mode 7 headers, and a sweep over every request size. Each request is
printed as one JSON object on its own line (what was sent, whether and what
came back, decoded reply fields, checks such as the origin timestamp being
echoed bit for bit); a sweep or a flood prints one summary object.
`--expect` turns the output into a verdict: the exit status is 0 when
every printed object satisfies every expectation, 1 when one does not, 2
on a usage error.
Python standard library only. Every loop is bounded by a count and by the
overall --max-time.
"""

import argparse
import json
import os
import select
import socket
import struct
import sys
import time

NTP_HDR_LEN = 48  # bytes: the fixed NTP header (RFC 5905 figure 8)
NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01
EF_HDR_LEN = 4  # bytes: extension field type + length (RFC 7822)
EF_MIN_LEN = 16  # bytes: smallest extension field RFC 7822 allows
EF_MAX_LEN = 65532  # bytes: largest multiple of 4 the 16-bit length holds
EF_DEFAULT_TYPE = 0xF0F0  # unassigned type, must be ignored (RFC 7822 7.5)
MODE6_HDR_LEN = 12  # bytes: mode 6 control message header (RFC 9327)
MODE7_HDR_LEN = 8  # bytes: mode 7 private request header (ntpd's ntp_request.h)
MAX_DATAGRAM = 65507  # bytes: largest UDP payload over IPv4
MAX_COUNT = 100000  # requests per run: a hard bound on any loop
SWEEP_WINDOW = 32  # requests in flight during a sweep: stays far below
#                    the server's default socket buffer (~256 requests)
SWEEP_IDLE = 0.02  # seconds of silence that end a sweep window's collection
RECV_BUF = 65536  # bytes: larger than any UDP datagram we can receive
MAX_STRAY = 10000  # foreign or late datagrams read per request before giving up


def now_ntp():
    """The current time as (float seconds since 1970, 64-bit NTP timestamp)."""
    ns = time.time_ns()
    secs, rem = divmod(ns, 1000000000)
    frac = (rem << 32) // 1000000000
    return ns / 1e9, (((secs + NTP_EPOCH_OFFSET) & 0xFFFFFFFF) << 32) | frac


def ntp_to_unix(ts):
    """A 64-bit NTP timestamp as float Unix seconds (era 0/1 by pivot), 0 stays 0."""
    if ts == 0:
        return 0.0
    secs = ts >> 32
    frac = (ts & 0xFFFFFFFF) / 4294967296.0
    unix = secs - NTP_EPOCH_OFFSET
    # Era pivot: timestamps before 1968 are read as era 1 (after 2036).
    if unix < -(1 << 31):
        unix += 1 << 32
    return unix + frac


def short_to_float(v):
    """NTP short format (16.16 unsigned) as seconds."""
    return v / 65536.0


def unique_xmt(used):
    """A transmit timestamp near now whose low 16 fraction bits are random and unused."""
    for _ in range(1000):
        t_unix, ts = now_ntp()
        ts = (ts & ~0xFFFF) | int.from_bytes(os.urandom(2), "big")
        if ts not in used:
            used.add(ts)
            return t_unix, ts
    raise RuntimeError("could not pick a unique transmit timestamp")


def build_request(args, xmt, length):
    """The datagram to send: a header for the mode, padded or cut to LENGTH bytes."""
    if args.raw is not None:
        return bytes.fromhex(args.raw)
    first = ((args.li & 3) << 6) | ((args.vn & 7) << 3) | (args.mode & 7)
    if args.mode == 6:
        # Control message: READSTAT (opcode 1), sequence 1, association 0.
        hdr = struct.pack("!BBHHHHH", first, 1, 1, 0, 0, 0, 0)
    elif args.mode == 7:
        # Private request: implementation 3 (XNTPD), code 42 (MON_GETLIST_1),
        # the request monlist amplification used.
        r_m_vn_mode = ((args.vn & 7) << 3) | 7
        hdr = struct.pack("!BBBBHH", r_m_vn_mode, 0, 3, 42, 0, 0)
    else:
        hdr = struct.pack(
            "!BBbbII4sQQQQ",
            first,
            args.stratum & 0xFF,
            args.poll,
            args.precision,
            0,
            0,
            b"\0\0\0\0",
            0,
            0,
            0,
            xmt,
        )
    if length <= len(hdr):
        return hdr[:length]
    rest = length - len(hdr)
    if args.mode in (6, 7) or args.pad == "zero":
        return hdr + bytes(rest)
    if args.ef_len is not None and rest >= EF_HDR_LEN:
        # A deliberately wrong extension field: the length field says EF_LEN.
        body = bytes(rest - EF_HDR_LEN)
        return hdr + struct.pack("!HH", args.ef_type, args.ef_len) + body
    if rest % 4 == 0 and EF_MIN_LEN <= rest <= EF_MAX_LEN:
        body = bytes(rest - EF_HDR_LEN)
        return hdr + struct.pack("!HH", args.ef_type, rest) + body
    return hdr + bytes(rest)


def decode_reply(data):
    """Decoded header fields of a reply, or None when shorter than 48 bytes."""
    if len(data) < NTP_HDR_LEN:
        return None
    (first, stratum, poll, precision, rdelay, rdisp, refid, reft, org, rec,
     xmt) = struct.unpack("!BBbbII4sQQQQ", data[:NTP_HDR_LEN])
    ascii_id = "".join(chr(b) if 32 <= b < 127 else "." for b in refid)
    return {
        "leap": first >> 6,
        "version": (first >> 3) & 7,
        "mode": first & 7,
        "stratum": stratum,
        "poll": poll,
        "precision": precision,
        "rootdelay": short_to_float(rdelay),
        "rootdisp": short_to_float(rdisp),
        "refid_hex": refid.hex(),
        "refid_ascii": ascii_id.rstrip(".").rstrip("\0"),
        "reftime": ntp_to_unix(reft),
        "reftime_hex": "%016x" % reft,
        "org": ntp_to_unix(org),
        "rec": ntp_to_unix(rec),
        "xmt": ntp_to_unix(xmt),
        "org_raw": "%016x" % org,
    }


def same_peer(a, b):
    """True when the address tuples A and B name the same host and port."""
    return a[0].split("%")[0] == b[0].split("%")[0] and a[1] == b[1]


def open_socket(args):
    """A UDP socket connected to nothing, bound as asked; returns (sock, server addr)."""
    infos = socket.getaddrinfo(args.host, args.port, socket.AF_UNSPEC,
                               socket.SOCK_DGRAM, 0, socket.AI_NUMERICHOST)
    if not infos:
        raise OSError("no address for %s" % args.host)
    family, stype, proto, _, addr = infos[0]
    sock = socket.socket(family, stype, proto)
    if args.bind:
        sock.bind((args.bind, 0))
    sock.setblocking(False)
    return sock, addr


def recv_from_server(sock, server, deadline):
    """Next datagram from SERVER before DEADLINE as (data, time), or (None, None)."""
    for _ in range(MAX_STRAY):
        left = deadline - time.time()
        if left <= 0:
            return None, None
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return None, None
        try:
            data, peer = sock.recvfrom(RECV_BUF)
        except (BlockingIOError, InterruptedError):
            continue
        except ConnectionRefusedError:
            # ICMP port unreachable: nothing listens; treat as no reply.
            continue
        t4 = time.time()
        if same_peer(peer, server):
            return data, t4
    return None, None


def drain(sock):
    """Read and count whatever is already queued on SOCK."""
    n = 0
    for _ in range(MAX_STRAY):
        try:
            sock.recvfrom(RECV_BUF)
            n += 1
        except (BlockingIOError, InterruptedError):
            break
        except ConnectionRefusedError:
            continue
    return n


def one_request(args, sock, server, seq, used, length):
    """Send one request of LENGTH bytes and wait for its reply; the result dict."""
    late = drain(sock)
    t1, xmt = unique_xmt(used)
    pkt = build_request(args, xmt, length)
    res = {"seq": seq, "sent_len": len(pkt), "req_vn": args.vn, "req_mode": args.mode}
    try:
        sock.sendto(pkt, server)
    except OSError as e:
        res.update({"answered": False, "send_error": str(e)})
        return res
    data, t4 = recv_from_server(sock, server, time.time() + args.timeout)
    res["late_replies"] = late
    if data is None:
        res["answered"] = False
        return res
    res["answered"] = True
    res["reply_len"] = len(data)
    res["reply_excess"] = len(data) - len(pkt)
    rep = decode_reply(data)
    checks = {"reply_not_longer": len(data) <= len(pkt)}
    if rep is not None:
        res["reply"] = rep
        org_matches = (len(pkt) >= NTP_HDR_LEN and
                       data[24:32] == pkt[40:48])
        checks["org_matches"] = org_matches
        t2, t3 = rep["rec"], rep["xmt"]
        if t2 and t3:
            checks["offset"] = ((t2 - t1) + (t3 - t4)) / 2
            checks["abs_offset"] = abs(checks["offset"])
            checks["delay"] = (t4 - t1) - (t3 - t2)
            checks["rec_le_xmt"] = t2 <= t3
    else:
        res["reply_head_hex"] = data[:16].hex()
    res["checks"] = checks
    return res


def sweep(args, sock, server):
    """Send every size from MIN to MAX, pipelined; the summary dict."""
    lo, hi = args.sweep
    sizes = list(range(lo, hi + 1))
    used = set()
    outstanding = {}  # raw xmt -> request length
    answered = {}  # request length -> reply length
    bad = {"unmatched": 0, "bad_mode": 0, "bad_version": 0, "send_errors": 0}
    want_mode = {3: 4, 1: 2}.get(args.mode)

    def collect(idle, deadline):
        for _ in range(MAX_STRAY):
            wait = min(idle, deadline - time.time())
            if wait <= 0:
                return
            data, _ = recv_from_server(sock, server, time.time() + wait)
            if data is None:
                return
            org = int.from_bytes(data[24:32], "big") if len(data) >= 32 else None
            if org not in outstanding:
                bad["unmatched"] += 1
                continue
            size = outstanding.pop(org)
            answered[size] = len(data)
            rep = decode_reply(data)
            if rep is None or (want_mode is not None and rep["mode"] != want_mode):
                bad["bad_mode"] += 1
            if rep is not None and rep["version"] != args.vn:
                bad["bad_version"] += 1

    hard_deadline = time.time() + args.max_time
    for i in range(0, len(sizes), SWEEP_WINDOW):
        for size in sizes[i:i + SWEEP_WINDOW]:
            _, xmt = unique_xmt(used)
            pkt = build_request(args, xmt, size)
            if size >= NTP_HDR_LEN:
                outstanding[xmt] = size
            try:
                sock.sendto(pkt, server)
            except OSError:
                bad["send_errors"] += 1
        collect(SWEEP_IDLE, hard_deadline)
    collect(args.timeout, min(hard_deadline, time.time() + args.timeout))

    excess = [answered[s] - s for s in answered]
    res = {
        "sweep": [lo, hi],
        "sent": len(sizes),
        "answered": len(answered),
        "answered_mult4": sum(1 for s in answered if s % 4 == 0),
        "answered_not_mult4": sum(1 for s in answered if s % 4 != 0),
        "max_excess": max(excess) if excess else None,
        "longer_than_request": sum(1 for e in excess if e > 0),
        "reply_lens": sorted(set(answered.values())),
        "unanswered_sizes": [s for s in sizes if s not in answered],
    }
    res.update(bad)
    return res


def flood(args, sock, server):
    """Send --flood N requests back to back (each with its own transmit
    timestamp, in windows of SWEEP_WINDOW), then collect replies until
    --timeout of silence; one summary object: how many were answered with
    time and how many with each kiss-o'-death code."""
    used = set()
    outstanding = set()
    res = {"flood": args.flood, "sent": 0, "send_errors": 0, "answered": 0,
           "kod": 0, "kod_codes": {}, "unmatched": 0}
    hard_deadline = time.time() + args.max_time

    def collect(idle):
        for _ in range(MAX_STRAY):
            wait = min(idle, hard_deadline - time.time())
            if wait <= 0:
                return
            data, _ = recv_from_server(sock, server, time.time() + wait)
            if data is None:
                return
            org = int.from_bytes(data[24:32], "big") if len(data) >= 32 else None
            if org not in outstanding:
                res["unmatched"] += 1
                continue
            outstanding.discard(org)
            rep = decode_reply(data)
            if rep is not None and rep["stratum"] == 0 and rep["leap"] == 3 and \
                    rep["refid_ascii"] in ("RATE", "DENY", "RSTR"):
                res["kod"] += 1
                code = rep["refid_ascii"]
                res["kod_codes"][code] = res["kod_codes"].get(code, 0) + 1
            else:
                res["answered"] += 1

    for i in range(args.flood):
        if time.time() > hard_deadline:
            break
        _, xmt = unique_xmt(used)
        outstanding.add(xmt)
        try:
            sock.sendto(build_request(args, xmt, args.length), server)
            res["sent"] += 1
        except OSError:
            res["send_errors"] += 1
        if (i + 1) % SWEEP_WINDOW == 0:
            collect(0)
    collect(args.timeout)
    res["kod_rate"] = res["kod_codes"].get("RATE", 0)
    res["kod_deny"] = res["kod_codes"].get("DENY", 0)
    return res


def flatten(obj):
    """One level of keys: top-level fields, reply and checks fields (bare and
    as reply.KEY / checks.KEY); the names do not overlap."""
    flat = {}
    for k, v in obj.items():
        if not isinstance(v, dict):
            flat[k] = v
    for sub in ("checks", "reply"):
        for k, v in obj.get(sub, {}).items():
            flat.setdefault(k, v)
            flat[sub + "." + k] = v
    return flat


OPS = ("<=", ">=", "!=", "=", "<", ">")


def check_expect(obj, expr):
    """Evaluate one KEY OP VALUE expectation against OBJ; None or a failure message."""
    for op in OPS:
        if op in expr:
            key, want = expr.split(op, 1)
            break
    else:
        return "bad expectation %r (use KEY=VALUE, !=, <, >, <=, >=)" % expr
    key, want = key.strip(), want.strip()
    flat = flatten(obj)
    if key not in flat:
        return "%s: missing (expected %s%s)" % (key, op, want)
    have = flat[key]
    if isinstance(have, bool) or have is None:
        have_s = json.dumps(have)
        ok = {"=": have_s == want, "!=": have_s != want}.get(op)
        if ok is None:
            return "%s: %s cannot be compared with %s" % (key, have_s, op)
    elif isinstance(have, (int, float)):
        try:
            w = float(want)
        except ValueError:
            return "%s: %r is not a number" % (key, want)
        ok = {"=": have == w, "!=": have != w, "<": have < w, ">": have > w,
              "<=": have <= w, ">=": have >= w}[op]
    else:
        have_s = str(have)
        ok = {"=": have_s == want, "!=": have_s != want}.get(op)
        if ok is None:
            return "%s: %r cannot be compared with %s" % (key, have_s, op)
    if ok:
        return None
    return "%s is %s, expected %s%s" % (key, json.dumps(have), op, want)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Send crafted NTP requests and print one JSON object per request.")
    p.add_argument("host", help="server address (IPv4 or IPv6 literal)")
    p.add_argument("port", type=int, help="server UDP port")
    p.add_argument("--vn", type=int, default=4, help="version number 0-7 (default 4)")
    p.add_argument("--mode", type=int, default=3, help="mode 0-7 (default 3)")
    p.add_argument("--li", type=int, default=0, help="leap indicator 0-3 (default 0)")
    p.add_argument("--stratum", type=int, default=0, help="request stratum (default 0)")
    p.add_argument("--poll", type=int, default=6, help="request poll (default 6)")
    p.add_argument("--precision", type=int, default=-20, help="request precision (default -20)")
    p.add_argument("--len", type=int, default=NTP_HDR_LEN, dest="length",
                   help="datagram length in bytes (default 48); longer ones carry "
                        "one extension field when it can be valid, else zeros")
    p.add_argument("--pad", choices=("ef", "zero"), default="ef",
                   help="what fills bytes past the header (default ef)")
    p.add_argument("--ef-type", type=lambda s: int(s, 0), default=EF_DEFAULT_TYPE,
                   help="extension field type for padding (default 0x%04X)" % EF_DEFAULT_TYPE)
    p.add_argument("--ef-len", type=int,
                   help="put this value in the padding extension field's length field "
                        "(to craft a malformed one; default: its real length)")
    p.add_argument("--raw", help="send these hex bytes as they are (overrides the header)")
    p.add_argument("--count", type=int, default=1, help="requests to send (default 1)")
    p.add_argument("--interval", type=float, default=0.0, help="seconds between requests")
    p.add_argument("--timeout", type=float, default=1.0,
                   help="seconds to wait for each reply (default 1)")
    p.add_argument("--bind", help="source address to send from")
    p.add_argument("--sweep", type=int, nargs=2, metavar=("MIN", "MAX"),
                   help="send every size from MIN to MAX bytes and print a summary")
    p.add_argument("--flood", type=int, metavar="N",
                   help="send N requests back to back, then print one summary object "
                        "(answered, kod, kod_rate, kod_deny); N 1-%d" % MAX_COUNT)
    p.add_argument("--probe", action="store_true",
                   help="afterwards, send a valid mode 3 request from the same socket and "
                        "wait for its reply (proves the server has read the earlier ones)")
    p.add_argument("--expect", action="append", default=[], metavar="KEY OP VALUE",
                   help="require KEY=VALUE (or !=, <, >, <=, >=) of every printed object; "
                        "KEY is a top-level, reply or checks field (answered, mode and "
                        "version of the reply, stratum, org_matches, abs_offset, "
                        "refid_ascii, max_excess, ...)")
    p.add_argument("--max-time", type=float, default=60.0,
                   help="hard limit on the whole run in seconds (default 60)")
    a = p.parse_args(argv)
    if not 0 <= a.vn <= 7 or not 0 <= a.mode <= 7 or not 0 <= a.li <= 3:
        p.error("--vn and --mode take 0-7, --li 0-3")
    if not 0 <= a.length <= MAX_DATAGRAM:
        p.error("--len takes 0-%d" % MAX_DATAGRAM)
    if not 1 <= a.count <= MAX_COUNT:
        p.error("--count takes 1-%d" % MAX_COUNT)
    if not 0 < a.timeout <= 30 or not 0 < a.max_time <= 600 or a.interval < 0:
        p.error("--timeout takes (0, 30], --max-time (0, 600], --interval >= 0")
    if a.sweep and not 0 <= a.sweep[0] <= a.sweep[1] <= MAX_DATAGRAM:
        p.error("--sweep takes 0 <= MIN <= MAX <= %d" % MAX_DATAGRAM)
    if a.flood is not None and not 1 <= a.flood <= MAX_COUNT:
        p.error("--flood takes 1-%d" % MAX_COUNT)
    if a.sweep and a.sweep[1] - a.sweep[0] + 1 > MAX_COUNT:
        p.error("--sweep covers at most %d sizes" % MAX_COUNT)
    if a.ef_len is not None and not 0 <= a.ef_len <= 0xFFFF:
        p.error("--ef-len takes 0-65535")
    if not 0 <= a.ef_type <= 0xFFFF:
        p.error("--ef-type takes 0-0xFFFF")
    for e in a.expect:
        if not any(op in e for op in OPS):
            p.error("bad --expect %r" % e)
    return a


def main(argv):
    args = parse_args(argv)
    try:
        sock, server = open_socket(args)
    except OSError as e:
        print("ntpcraft: %s" % e, file=sys.stderr)
        return 2
    results = []
    start = time.time()
    if args.sweep:
        results.append(sweep(args, sock, server))
    elif args.flood:
        results.append(flood(args, sock, server))
    else:
        used = set()
        for seq in range(args.count):
            if time.time() - start > args.max_time:
                print("ntpcraft: --max-time reached after %d requests" % seq,
                      file=sys.stderr)
                break
            results.append(one_request(args, sock, server, seq, used, args.length))
            if args.interval and seq + 1 < args.count:
                time.sleep(args.interval)
    for r in results:
        print(json.dumps(r, sort_keys=True))
    failed = 0
    for r in results:
        for e in args.expect:
            msg = check_expect(r, e)
            if msg:
                failed += 1
                print("ntpcraft: FAIL: request %s: %s" % (r.get("seq", "summary"), msg),
                      file=sys.stderr)
    if args.probe:
        probe_args = argparse.Namespace(**vars(args))
        probe_args.vn, probe_args.mode, probe_args.li, probe_args.raw = 4, 3, 0, None
        probe_args.pad = "zero"
        p = one_request(probe_args, sock, server, "probe", set(), NTP_HDR_LEN)
        print(json.dumps({"probe_answered": p["answered"]}, sort_keys=True))
        if not p["answered"]:
            failed += 1
            print("ntpcraft: FAIL: the probe request got no reply", file=sys.stderr)
    sock.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
