#!/usr/bin/env python3
"""nmeafeed: replay an NMEA log as a GPS receiver would, now.

The log's sentences are grouped by their UTC time field; one group is
written each second, at the top of the second plus DELAY, with the time
and date fields (GGA, RMC, ZDA) rewritten to that second plus OFFSET and
the checksums recomputed: the truth of every sample is known. Lines that
start with '#' are comments. Bounded: COUNT groups, then exit. Prints a
line per group: the second, the time written into it, and how late the
write ended (s after the second plus DELAY: a loaded machine's wake-up,
which a receiver's stamp of the group carries too).

usage: nmeafeed.py LOG PATH [COUNT [OFFSET [DELAY]]]
       PATH: a FIFO or file gpsd reads; COUNT default 10; OFFSET s
       (integer) default 0; DELAY s default 0.05
"""
import datetime
import sys
import time


def checksum(body):
    c = 0
    for ch in body:
        c ^= ord(ch)
    return "%02X" % c


def rewrite(sentence, t):
    body = sentence[1:sentence.index("*")]
    f = body.split(",")
    hms = t.strftime("%H%M%S") + ".00"
    if f[0].endswith("GGA"):
        f[1] = hms
    elif f[0].endswith("RMC"):
        f[1] = hms
        f[9] = t.strftime("%d%m%y")
    elif f[0].endswith("ZDA"):
        f[1:5] = [hms, "%02d" % t.day, "%02d" % t.month, "%04d" % t.year]
    body = ",".join(f)
    return "$%s*%s\r\n" % (body, checksum(body))


def groups(log):
    out, key = [], None
    for line in open(log):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        k = line.split(",")[1]
        if k != key:
            out.append([])
            key = k
        out[-1].append(line)
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    log, path = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    offset = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    delay = float(sys.argv[5]) if len(sys.argv) > 5 else 0.05
    gs = groups(log)
    with open(path, "w") as out:
        for i in range(count):
            now = time.time()
            sec = int(now) + 1
            time.sleep(max(0.0, sec + delay - now))
            t = datetime.datetime.fromtimestamp(sec + offset, datetime.timezone.utc)
            out.write("".join(rewrite(s, t) for s in gs[i % len(gs)]))
            out.flush()
            late = time.time() - (sec + delay)
            print("%d %d %.6f" % (sec, sec + offset, late), flush=True)


if __name__ == "__main__":
    main()
