#!/usr/bin/env python3
"""Raw mode 6 probes against an NTP server (HOST PORT): what ntpq does not
send. Checks, one line each, exit 1 when any fails:
  - READSTAT lists associations as (id, status) pairs, count a multiple of 4;
  - READVAR 0 and READVAR of an association answer with the response bit,
    our sequence, as many fragments as 468-byte pieces need, offsets that
    follow each other, counts multiples of 4 but the last, zero padding,
    text that parses as name=value items;
  - WRITEVAR is refused: error bit, permission error (1), no data;
  - an unknown opcode gets the bad-opcode error (3);
  - a request with the more bit, with the response bit, or cut short gets
    nothing;
  - a flood of 600 READVAR requests gets fewer answers than requests (the
    rate limit), and at least some.
Only the standard library: runs with any python3."""
import socket
import struct
import sys
import time

HOST, PORT = sys.argv[1], int(sys.argv[2])
FAIL = 0


def report(ok, what):
    global FAIL
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAIL = 1


def req(op, seq, assoc=0, data=b"", flags=0, vn=2, offset=0):
    pad = b"\0" * (-len(data) % 4)
    return struct.pack("!BBHHHHH", (vn << 3) | 6, flags | op, seq, 0, assoc, offset,
                       len(data)) + data + pad


def exchange(sock, pkt, wait=1.0):
    """Send PKT, collect every datagram until WAIT s of silence."""
    sock.sendto(pkt, (HOST, PORT))
    out = []
    sock.settimeout(wait)
    try:
        while True:
            out.append(sock.recv(2048))
            sock.settimeout(0.3)
    except socket.timeout:
        pass
    return out


def hdr(p):
    b0, b1, seq, status, assoc, off, cnt = struct.unpack("!BBHHHHH", p[:12])
    return dict(vn=(b0 >> 3) & 7, mode=b0 & 7, r=b1 >> 7, e=(b1 >> 6) & 1, m=(b1 >> 5) & 1,
                op=b1 & 0x1F, seq=seq, status=status, assoc=assoc, off=off, cnt=cnt)


s = socket.socket(socket.AF_INET6 if ":" in HOST else socket.AF_INET, socket.SOCK_DGRAM)

r = exchange(s, req(1, 11))
h = hdr(r[0]) if r else None
report(len(r) == 1 and h["r"] == 1 and h["e"] == 0 and h["seq"] == 11 and h["cnt"] % 4 == 0
       and h["cnt"] >= 4, "READSTAT: one response, (id, status) pairs (%s)" % h)
assocs = []
if r:
    d = r[0][12:12 + h["cnt"]]
    assocs = [struct.unpack("!HH", d[i:i + 4]) for i in range(0, len(d), 4)]
report(len(assocs) >= 1 and all(a[0] > 0 for a in assocs), "READSTAT ids nonzero: %s" % assocs)


def readvar(seq, assoc):
    """READVAR ASSOC: (fragments, items, framing right)."""
    r = exchange(s, req(2, seq, assoc))
    text = b""
    ok = bool(r)
    for i, p in enumerate(r):
        h = hdr(p)
        last = i == len(r) - 1
        ok &= h["r"] == 1 and h["e"] == 0 and h["seq"] == seq and h["op"] == 2
        ok &= h["assoc"] == assoc and h["off"] == len(text) and h["m"] == (0 if last else 1)
        ok &= last or h["cnt"] % 4 == 0
        ok &= len(p) == 12 + h["cnt"] + (-h["cnt"] % 4) and len(p) <= 480
        ok &= p[12 + h["cnt"]:] == b"\0" * (len(p) - 12 - h["cnt"])
        text += p[12:12 + h["cnt"]]
    items = [x.strip() for x in text.decode("ascii", "replace").split(",") if x.strip()]
    # As few fragments as 468-byte pieces allow: every one but the last is full.
    ok &= len(r) == max(1, -(-len(text) // 468))
    return len(r), items, ok and all("=" in x for x in items)


n, items, ok = readvar(12, 0)
report(ok and len(items) >= 17,
       "READVAR 0: %d fragment(s), %d items, offsets/counts/padding right" % (n, len(items)))
if assocs:
    n, items, ok = readvar(18, assocs[0][0])
    report(ok and len(items) >= 23,
           "READVAR %d: %d fragment(s), %d items, offsets/M bits/counts/padding right"
           % (assocs[0][0], n, len(items)))

r = exchange(s, req(3, 13, data=b"leap=3"))
h = hdr(r[0]) if r else {}
report(len(r) == 1 and h["e"] == 1 and (h["status"] >> 8) == 1 and h["cnt"] == 0,
       "WRITEVAR refused with the permission error (%s)" % h)

r = exchange(s, req(9, 14))
h = hdr(r[0]) if r else {}
report(len(r) == 1 and h["e"] == 1 and (h["status"] >> 8) == 3, "opcode 9: bad opcode (%s)" % h)

report(exchange(s, req(2, 15, flags=0x20), 0.5) == [], "a request with the more bit: nothing")
report(exchange(s, req(2, 16, flags=0x80), 0.5) == [], "a request with the response bit: nothing")
report(exchange(s, req(2, 17, data=b"stratum")[:14], 0.5) == [],
       "a request cut inside its data: nothing")

# Flood: 600 requests back to back, then count answers (one fragment each is
# not guaranteed, so count distinct sequence numbers).
s.settimeout(0)
for i in range(600):
    try:
        s.sendto(req(2, 1000 + i, data=b"stratum"), (HOST, PORT))
    except BlockingIOError:
        pass
seqs = set()
deadline = time.time() + 3
s.settimeout(0.5)
while time.time() < deadline:
    try:
        p = s.recv(2048)
    except socket.timeout:
        break
    seqs.add(hdr(p)["seq"])
report(0 < len(seqs) < 600, "flood of 600: %d answered (rate limited)" % len(seqs))
sys.exit(FAIL)
