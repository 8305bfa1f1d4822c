#!/usr/bin/env python3
"""NTP clients of an anycast fleet: what every request got, and when.

tests/system/96-fleet.sh runs this in its client namespace against the
fleet's anycast address while it kills, freezes and unsynchronizes
replicas, then asks it how the clients fared between two instants.

  fleetprobe.py probe ADDR [--port P] [--flows N] [--rate R] [--duration S]
                [--timeout T] --out EVENTS
      N flows (one UDP socket, hence one source port, each: the router's
      ECMP hash spreads them over the replicas), each sending a mode 3
      request R times a second for S seconds, one outstanding at a time.
      Every request ends as one line of EVENTS (CSV: send time in Unix
      seconds, flow, outcome, round trip in s, offset in s):
        ok       mode 4, version 4, stratum 1-15, leap 0-2, the origin our
                 cookie, 0 < receive <= transmit, |offset| < 0.1 s
        li3      the same but leap 3 (stratum 0): an honest unsynchronized
                 answer, which clients discard
        kod      a kiss-o'-death (stratum 0, leap not 3)
        invalid:WHY  anything else that came back with our cookie (WHY: mode,
                 version, stratum, order, offset)
        timeout  nothing within T seconds
      Replies that match no outstanding request (late ones) are counted
      in the summary, not judged; the answer to a request that timed out
      is one more line with outcome `late` and its round trip. SIGTERM or SIGINT end the run early
      (what is outstanding still gets its outcome).
  fleetprobe.py analyze EVENTS --from T0 [--to T1]
      One JSON object for the requests sent in [T0, T1): counts by
      outcome; `recovered`: for the flows that lost requests, the time
      from T0 to their first ok after their last loss (the longest over
      flows, 0 when no flow lost any, null when one never got an ok
      again; and per flow), i.e. how long until every client got valid
      replies again; `late_answers` and `late_max` (the answers that came
      after the timeout, the longest round trip); `li3_span`: first to last li3 send time and per-flow
      longest run of li3 in seconds; the invalid ones listed.

Python standard library only; every loop is bounded by the duration.
"""
import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import time

NTP_EPOCH_OFFSET = 2208988800  # s from 1900-01-01 to 1970-01-01
NTP_HDR_LEN = 48  # bytes: the NTP header
MAX_DURATION = 600  # s: a hard bound on one probe run
MAX_FLOWS = 256  # sockets
MAX_OFFSET = 0.1  # s: a reply further off than this is wrong (the fleet shares one upstream)
RECV_BUF = 2048  # bytes: more than any reply


def ntp_ts(t):
    secs = int(t)
    frac = int((t - secs) * 4294967296.0) & 0xFFFFFFFF
    return ((secs + NTP_EPOCH_OFFSET) & 0xFFFFFFFF) << 32 | frac


def ntp_to_unix(ts):
    if ts == 0:
        return 0.0
    unix = (ts >> 32) - NTP_EPOCH_OFFSET
    if unix < -(1 << 31):
        unix += 1 << 32
    return unix + (ts & 0xFFFFFFFF) / 4294967296.0


def judge(data, cookie, t1, t4):
    """(outcome, offset) of reply DATA to the request with transmit COOKIE."""
    if len(data) < NTP_HDR_LEN:
        return "invalid:short", 0.0
    b0, stratum = data[0], data[1]
    li, vn, mode = b0 >> 6, (b0 >> 3) & 7, b0 & 7
    org, rec, xmt = struct.unpack("!QQQ", data[24:48])
    if org != cookie:
        return None, 0.0  # not ours (or a late duplicate): not judged here
    if mode != 4:
        return "invalid:mode", 0.0
    if vn != 4:
        return "invalid:version", 0.0
    if stratum == 0 and li != 3:
        return "kod", 0.0
    t2, t3 = ntp_to_unix(rec), ntp_to_unix(xmt)
    if rec == 0 or xmt < rec:
        return "invalid:order", 0.0
    offset = ((t2 - t1) + (t3 - t4)) / 2
    if li == 3:
        return "li3", offset
    if not 1 <= stratum <= 15:
        return "invalid:stratum", offset
    if abs(offset) > MAX_OFFSET:
        return "invalid:offset", offset
    return "ok", offset


def probe(args):
    flows = min(args.flows, MAX_FLOWS)
    duration = min(args.duration, MAX_DURATION)
    period = 1.0 / args.rate
    socks = []
    for _ in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind(("0.0.0.0", 0))
        socks.append(s)
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    start = time.time()
    nxt = [start + period * i / flows for i in range(flows)]  # staggered
    pending = [None] * flows  # (cookie, t1, deadline)
    expired = {}  # cookie -> (flow, t1) of requests that timed out
    late = 0
    out = open(args.out, "w", encoding="utf-8")
    poll = select.poll()
    for s in socks:
        poll.register(s, select.POLLIN)
    counts = {}

    def record(i, t1, outcome, rtt, offset):
        counts[outcome] = counts.get(outcome, 0) + 1
        out.write(f"{t1:.6f},{i},{outcome},{rtt:.6f},{offset:.6f}\n")

    end = start + duration

    def stop(signum, frame):  # SIGTERM, SIGINT: stop sending, judge what is out
        nonlocal end
        end = min(end, time.time())

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        now = time.time()
        if now >= end and not any(pending):
            break
        for i in range(flows):
            p = pending[i]
            if p and now >= p[2]:
                record(i, p[1], "timeout", 0.0, 0.0)
                expired[p[0]] = (i, p[1])
                pending[i] = None
            if not pending[i] and now >= nxt[i] and now < end:
                t1 = time.time()
                cookie = ntp_ts(t1) ^ int.from_bytes(os.urandom(2), "big")
                pkt = bytes([0x23]) + bytes(39) + struct.pack("!Q", cookie)
                try:
                    socks[i].sendto(pkt, (args.addr, args.port))
                except OSError:
                    record(i, t1, "timeout", 0.0, 0.0)  # no route: as lost
                else:
                    pending[i] = (cookie, t1, t1 + args.timeout)
                nxt[i] += period
                if nxt[i] < now:  # fell behind (a stall): skip, do not burst
                    nxt[i] = now + period
        wake = min([p[2] for p in pending if p] + [t for t in nxt if t < end] + [end])
        for fd, _ in poll.poll(max(0, int((wake - time.time()) * 1000)) + 1):
            i = by_fd[fd]
            for _ in range(16):
                try:
                    data = socks[i].recv(RECV_BUF)
                except BlockingIOError:
                    break
                t4 = time.time()
                p = pending[i]
                outcome, offset = judge(data, p[0], p[1], t4) if p else (None, 0.0)
                if outcome is None:
                    late += 1
                    cookie = struct.unpack("!Q", data[24:32])[0] if len(data) >= 32 else None
                    if cookie in expired:  # the answer to a timed-out request
                        j, t1 = expired.pop(cookie)
                        out.write(f"{t1:.6f},{j},late,{t4 - t1:.6f},0\n")
                    continue
                record(i, p[1], outcome, t4 - p[1], offset)
                pending[i] = None
    out.close()
    counts["late"] = late
    print(json.dumps({"flows": flows, "rate": args.rate, "duration": duration, "counts": counts}))
    return 0


def analyze(args):
    rows = []
    lates = []
    with open(args.events, encoding="utf-8") as f:
        for line in f:
            t, flow, outcome, rtt, off = line.strip().split(",")
            t = float(t)
            if outcome == "late":  # a timed-out request's answer: not an outcome
                if t >= args.t_from and (args.to is None or t < args.to):
                    lates.append(float(rtt))
                continue
            if t >= args.t_from and (args.to is None or t < args.to):
                rows.append((t, int(flow), outcome, float(rtt), float(off)))
    rows.sort()
    counts = {}
    for r in rows:
        counts[r[2]] = counts.get(r[2], 0) + 1
    per = {}
    for r in rows:
        per.setdefault(r[1], []).append(r)
    recovered = {}
    li3_run = {}
    for flow, rs in per.items():
        last_bad = None
        for j, r in enumerate(rs):
            if r[2] != "ok":
                last_bad = j
        if last_bad is not None:
            ok_after = [r[0] for r in rs[last_bad + 1:] if r[2] == "ok"]
            recovered[flow] = (ok_after[0] - args.t_from) if ok_after else None
        run, run_start = 0.0, None
        for r in rs:
            if r[2] == "li3":
                run_start = r[0] if run_start is None else run_start
                run = max(run, r[0] - run_start)
            else:
                run_start = None
        if any(r[2] == "li3" for r in rs):
            li3_run[flow] = run
    li3 = [r[0] for r in rows if r[2] == "li3"]
    never = [f for f, v in recovered.items() if v is None]
    res = {
        "requests": len(rows),
        "counts": counts,
        "flows_hit": len(recovered),
        # No flow hit: every client was served throughout (0 s).
        "recovered_max": None if never else max(recovered.values(), default=0.0),
        "flows_never_recovered": never,
        "recovered": {str(k): v for k, v in sorted(recovered.items())},
        "late_answers": len(lates),
        "late_max": max(lates) if lates else 0.0,
        "li3_span": (li3[-1] - li3[0]) if li3 else 0.0,
        "li3_longest_run": max(li3_run.values()) if li3_run else 0.0,
        "invalid": [f"{r[0]:.3f} flow {r[1]} {r[2]}" for r in rows if r[2].startswith("invalid")][:20],
    }
    print(json.dumps(res))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("addr")
    p.add_argument("--port", type=int, default=123)
    p.add_argument("--flows", type=int, default=16)
    p.add_argument("--rate", type=float, default=20.0, help="requests per second per flow")
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--timeout", type=float, default=0.25)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=probe)
    p = sub.add_parser("analyze")
    p.add_argument("events")
    p.add_argument("--from", dest="t_from", type=float, required=True)
    p.add_argument("--to", type=float, default=None)
    p.set_defaults(fn=analyze)
    args = ap.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
