#!/usr/bin/env python3
"""Write the leap-second test files of tests/unit/check_leapfile.c and
check_tzif.c into this directory (they are committed; rerun only to change
them). Each file is small and says in its comments what it is for.

  ietf-2025.list     the data of the IETF/IERS list Debian's tzdata 2025b
                     ships (public domain), comments cut: #$ 3960835200,
                     expired #@ 3991593600 (2026-06-28); its #h unchanged
  future.list        that list plus an insertion at 2031-01-01 and a
                     deletion at 2033-07-01, expiring 2035-12-28, rehashed
  bad-hash.list      future.list with one TAI-UTC digit changed, #h kept
  truncated.list     future.list cut in the middle of a data line
  no-hash.list       future.list without its #h line
  crlf.list          future.list with CRLF line ends (valid)
  right-utc-2025     /usr/share/zoneinfo/right/UTC of tzdata 2025b
                     (zic 2.36, TZif version 2, 27 leaps, no expiry)
  right-utc-future   zic 2.36 output for the 2025 leaps plus a deletion at
                     2031-01-01 (TZif version 2, 28 records), made with:
                       grep '^Leap' /usr/share/zoneinfo/leapseconds > leaps
                       printf 'Leap\t2030\tDec\t31\t23:59:59\t-\tS\n' >> leaps
                       printf 'Zone\tUTC\t0\t-\tUTC\n' > zone
                       zic -L leaps -d out zone   # out/UTC
The TZif files are copied, not generated here.
"""
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
UNIX_EPOCH = 2208988800  # s from 1900-01-01 to 1970-01-01

# (NTP seconds, TAI-UTC) as in the 2025 list
ENTRIES = [
    (2272060800, 10), (2287785600, 11), (2303683200, 12), (2335219200, 13),
    (2366755200, 14), (2398291200, 15), (2429913600, 16), (2461449600, 17),
    (2492985600, 18), (2524521600, 19), (2571782400, 20), (2603318400, 21),
    (2634854400, 22), (2698012800, 23), (2776982400, 24), (2840140800, 25),
    (2871676800, 26), (2918937600, 27), (2950473600, 28), (2982009600, 29),
    (3029443200, 30), (3076704000, 31), (3124137600, 32), (3345062400, 33),
    (3439756800, 34), (3550089600, 35), (3644697600, 36), (3692217600, 37),
]


def ntp(y, m, d):
    import calendar
    return calendar.timegm((y, m, d, 0, 0, 0)) + UNIX_EPOCH


def build(update, expiry, entries, header):
    body = [f"#{line}" if line else "#" for line in header]
    body.append(f"#$\t {update}")
    body.append(f"#@\t{expiry}")
    for t, off in entries:
        body.append(f"{t}\t{off}\t# {t - UNIX_EPOCH} Unix")
    digits = f"{update}{expiry}" + "".join(f"{t}{off}" for t, off in entries)
    h = hashlib.sha1(digits.encode()).hexdigest()
    body.append("#h\t" + " ".join(h[i:i + 8] for i in range(0, 40, 8)))
    return "\n".join(body) + "\n"


def write(name, text):
    with open(os.path.join(HERE, name), "w", newline="") as f:
        f.write(text)


def main():
    ietf = build(3960835200, 3991593600, ENTRIES,
                 ["\tThe 2025 IETF/IERS list (public domain): data only."])
    write("ietf-2025.list", ietf)
    fut = ENTRIES + [(ntp(2031, 1, 1), 38), (ntp(2033, 7, 1), 37)]
    future = build(ntp(2030, 7, 1), ntp(2035, 12, 28), fut,
                   ["\tTest list: the 2025 data, an insertion at 2031-01-01,",
                    "\ta deletion at 2033-07-01; expires 2035-12-28."])
    write("future.list", future)
    write("bad-hash.list", future.replace(f"{ntp(2031, 1, 1)}\t38", f"{ntp(2031, 1, 1)}\t39"))
    cut = future.index(str(ntp(2033, 7, 1))) + 6
    write("truncated.list", future[:cut])
    write("no-hash.list", "".join(l for l in future.splitlines(True) if not l.startswith("#h")))
    write("crlf.list", future.replace("\n", "\r\n"))


if __name__ == "__main__":
    main()
