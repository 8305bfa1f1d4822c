#!/usr/bin/env python3
"""Write the seed corpora of the libFuzzer targets into tests/fuzz/corpus/.

Each target gets a directory of small, named inputs: the valid messages
of its format (every mode, version, command, directive) and the near
misses its parser must refuse. The files are committed; run this again
after changing it (it rewrites only the directories it owns). libFuzzer
itself never writes here: `make fuzz` fuzzes a copy in build/fuzz/.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

T1 = 0xE9A1B2C3_12345678     # an NTP timestamp in 2024: a client's transmit time
T2 = 0xE9A1B2C3_12400000     # a little later: the server's receive time
T3 = 0xE9A1B2C3_12410000     # the server's transmit time
LOCL = 0x4C4F434C            # "LOCL"


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ntp(li=0, vn=4, mode=3, stratum=0, poll=6, prec=-20, rdelay=0, rdisp=0, refid=0,
        ref=0, org=0, rec=0, xmt=T1):
    """A 48-byte NTP header."""
    return struct.pack(">BBbbIIIQQQQ", li << 6 | vn << 3 | mode, stratum, poll, prec, rdelay,
                       rdisp, refid, ref, org, rec, xmt)


def ext(ftype, body_len):
    """An RFC 7822 extension field of 4 + BODY_LEN bytes (a multiple of 4)."""
    return struct.pack(">HH", ftype, 4 + body_len) + bytes(range(body_len))


def request_corpus():
    t = "fuzz_request"
    for vn in (1, 2, 3, 4):
        write(t, "client-v%d" % vn, ntp(vn=vn, mode=3))
    write(t, "client-v4-chrony", ntp(vn=4, mode=3, poll=0, prec=0, xmt=0x1122334455667788))
    write(t, "client-v4-zero-xmt", ntp(vn=4, mode=3, xmt=0))
    write(t, "client-poll-negative", ntp(mode=3, poll=-6))
    write(t, "client-poll-huge", ntp(mode=3, poll=127))
    write(t, "symmetric-active-v3-w32time", ntp(vn=3, mode=1, poll=10, stratum=0))
    write(t, "symmetric-active-v4", ntp(vn=4, mode=1, stratum=2, refid=0x7F000001))
    write(t, "client-ext16", ntp() + ext(0x0104, 12))
    write(t, "client-ext-nts-like", ntp() + ext(0x0104, 32) + ext(0x0204, 100) + ext(0x0404, 12))
    write(t, "client-ext-then-md5", ntp() + ext(0x0104, 28) + struct.pack(">I", 7) + bytes(16))
    write(t, "client-md5", ntp() + struct.pack(">I", 1) + bytes(range(16)))
    write(t, "client-sha1", ntp() + struct.pack(">I", 2) + bytes(range(20)))
    write(t, "client-crypto-nak", ntp() + bytes(4))
    write(t, "client-mac-looks-like-ext", ntp() + struct.pack(">HH", 0, 20) + bytes(16))
    write(t, "client-ext-bad-length", ntp() + struct.pack(">HH", 0x0104, 3) + bytes(12))
    write(t, "client-ext-len-18", ntp() + struct.pack(">HH", 0x0104, 18) + bytes(24))
    write(t, "client-ext-too-long", ntp() + struct.pack(">HH", 0x0104, 64) + bytes(28))
    write(t, "client-tail-8", ntp() + bytes(8))
    write(t, "client-len-50", ntp() + bytes(2))
    write(t, "client-len-47", ntp()[:47])
    write(t, "one-byte", b"\x23")
    write(t, "empty", b"")
    for mode in (0, 2, 4, 5):
        write(t, "mode%d" % mode, ntp(mode=mode))
    write(t, "mode6-readvar", struct.pack(">BBHHHHH", 2 << 3 | 6, 2, 1, 0, 0, 0, 0))
    write(t, "mode6-v0", struct.pack(">BBHHHHH", 0 << 3 | 6, 2, 1, 0, 0, 0, 0) + bytes(36))
    write(t, "mode6-v5", struct.pack(">BBHHHHH", 5 << 3 | 6, 2, 1, 0, 0, 0, 0) + bytes(36))
    write(t, "mode7-monlist", struct.pack(">BBBB", 0x17, 0, 3, 42) + bytes(44))
    write(t, "mode7-short", struct.pack(">BBBB", 0x17, 0, 3, 42) + bytes(4))
    for vn in (0, 5, 7):
        write(t, "client-v%d" % vn, ntp(vn=vn, mode=3))
    write(t, "kod-rate-reply", ntp(li=3, mode=4, stratum=0, refid=0x52415445, org=T1, xmt=0))
    write(t, "kod-deny-reply", ntp(li=3, mode=4, stratum=0, refid=0x44454E59, org=T1, xmt=0))
    write(t, "server-reply", ntp(mode=4, stratum=2, refid=0x7F000002, ref=T1, org=T1, rec=T2,
                                 xmt=T3))


CONFIGS = {
    "embedded-default": "listen 127.0.0.1\nlisten ::1\nlocal stratum 10\n",
    "every-core-directive": (
        "listen ::1 port 1234\nlisten 0.0.0.0 port 65535\nlisten :: port 1\n"
        "local stratum 3 dispersion 0.25\nallow 10.0.0.0/8\ndeny 10.1.0.0/16\n"
        "allow 2001:db8::/32\ncontrol allow 192.0.2.0/24\nworkers 4\nio uring\n"
        "pidfile /run/horod.pid\nlog syslog debug\nhwtimestamp eth0\n"
        "hwtimestamp abcdefghijklmno\n"),
    "format-roundtrip": (
        "listen 2001:db8::1\nlisten ::ffff:192.0.2.2 port 5\nlocal stratum 4 dispersion 0.1\n"
        "allow 10.9.8.7/13\ndeny ::ffff:10.9.0.0/112\nallow all\ndeny 2001:db8::ff/121\n"
        "control allow 198.51.100.0/24\ncontrol allow fe80::/10\nworkers 17\nio mmsg\n"
        "pidfile /var/run/horod.pid\nlog syslog debug\nhwtimestamp eth0\n"
        "hwtimestamp enp1s0f1\n"),
    "comments-and-blanks": (
        "# a comment\n! chrony comment\n; another\n\n   \t\n"
        "listen 127.0.0.1 # trailing comment\nallow 10.0.0.0/8\t#tab then comment\n"
        "io\tmmsg   \r\nlog syslog"),
    "servers": (
        "server ntp.example.org port 1123 iburst prefer minpoll 0 maxpoll 4\n"
        "server 2001:db8::1 minpoll 12\npool pool.example.org maxsources 8 iburst\n"
        "server 192.0.2.1 iburst minpoll 0 maxpoll 2\npool p.example.org maxsources 2\n"),
    "clock-sim": (
        "driver sim offset 0.123456789 freq 12.5 wander 1e-07 seed 7\ndiscipline off\n"
        "makestep 0.25 -1\nmaxdistance 2.5\nholdover 86400\nminsources 2\n"
        "driftfile /tmp/drift\n"),
    "clock-kernel": "driver kernel device /dev/ptp3\ndiscipline on\nmakestep 1.0 3\n",
    "guard": (
        "ratelimit interval 3 burst 8 leak 2 kod\ndenykod on\n"
        "guard interface eth0 mode native\nguard interface lo mode skb\n"
        "guard interface abcdefghijklmno\nguard interface veth1 mode auto\n"
        "guard pin /tmp/x/bpf\nguard serve on\n"),
    "ratelimit-limits": "ratelimit interval -19 burst 255 leak 16\ndenykod off\n",
    "control-metrics": (
        "control /run/horod/horod.sock\nmetrics listen 127.0.0.1:9123\n"),
    "control-off-metrics-v6": "control off\nmetrics listen [::1]:80 public\n",
    "security": "user nobody\nseccomp 2\n",
    "security-unknown-user": "user no-such-account\nseccomp 1\n",
    "holdover-auto": "holdover auto\nmaxdistance 1.5\n",
    "err-stratum-16": "local stratum 16\n",
    "err-unknown-directive": "lissen 127.0.0.1\n",
    "err-port-range": "listen 127.0.0.1 port 70000\n",
    "err-minpoll-above-maxpoll": "server 192.0.2.1 minpoll 8 maxpoll 7\n",
    "err-duplicate-listen": "listen 127.0.0.1\nlisten 127.0.0.1\n",
    "err-local-twice": "local stratum 2\nlocal stratum 3\n",
    "err-bad-double": "local stratum 2 dispersion nan\n",
    "err-acl-prefix": "allow 10.0.0.0/33\n",
    "err-relative-pidfile": "pidfile run/horod.pid\n",
    "err-long-line": "allow " + "1" * 1100 + "\n",
}


def config_corpus():
    for name, text in CONFIGS.items():
        write("fuzz_config", name, text)
    write("fuzz_config", "sixteen-listens",
          "".join("listen 127.0.0.%d\n" % i for i in range(1, 17)))


def ctl_hdr(typ, cmd, status=0, length=0, magic=0x484F5243, version=1, reserved=0):
    return struct.pack(">IBBBBII", magic, version, typ, cmd, status, length, reserved)


def ctlproto_corpus():
    t = "fuzz_ctlproto"
    names = ["", "status", "tracking", "sources", "serverstats", "config", "metrics"]
    for cmd in range(1, 7):
        write(t, "request-%s" % names[cmd], ctl_hdr(0, cmd))
    status = (b"synced=1\nstratum=2\nleap=0\nrefid=127.0.0.2\nroot_delay=0.000024522\n"
              b"root_dispersion=0.000174901\nsource=ntp\nserver=127.0.0.2\npoll=0\n")
    write(t, "response-status", ctl_hdr(1, 1, length=len(status)) + status)
    sources = (b"n=1\nsrc0.name=127.0.0.2\nsrc0.tally=*\nsrc0.refid=....\nsrc0.stratum=1\n"
               b"src0.reach=255\nsrc0.offset=-0.000133369\nsrc0.flash=0\n")
    write(t, "response-sources", ctl_hdr(1, 3, length=len(sources)) + sources)
    config = b"# horod effective configuration\nlisten 127.0.0.1\nlocal stratum 10\n"
    write(t, "response-config", ctl_hdr(1, 5, length=len(config)) + config)
    write(t, "response-bad-request", ctl_hdr(1, 0, status=1))
    write(t, "response-unknown-cmd", ctl_hdr(1, 200, status=2))
    odd = b"a=\x01\r\tb=c=d\n\n"
    write(t, "response-value-controls", ctl_hdr(1, 1, length=len(odd)) + odd)
    write(t, "two-requests", ctl_hdr(0, 1) + ctl_hdr(0, 2))
    write(t, "request-truncated", ctl_hdr(0, 2)[:9])
    write(t, "request-payload", ctl_hdr(0, 4, length=8) + b"k=v\nx=y\n")
    write(t, "request-too-long", ctl_hdr(0, 1, length=1025))
    write(t, "bad-magic", ctl_hdr(0, 1, magic=0x47455420))
    write(t, "bad-version", ctl_hdr(0, 1, version=2))
    write(t, "bad-reserved", ctl_hdr(0, 1, reserved=1))
    write(t, "http-get", b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")


def driftfile_corpus():
    t = "fuzz_driftfile"
    for name, text in {
        "good": "12.345 0.678\n",
        "good-negative": "-3.2 0.01",
        "good-zero": "0 0\n",
        "good-limits": "-500 500\n",
        "good-blanks": "  \t12.5\t\t0.25 \r\n\n",
        "good-exponent": "1.25e1 5E-3\n",
        "bad-freq-range": "500.001 0\n",
        "bad-skew-negative": "1 -0.1\n",
        "bad-nan": "nan 0\n",
        "bad-inf": "1 inf\n",
        "bad-overflow": "1e400 0\n",
        "bad-one-number": "12.3\n",
        "bad-empty": "",
        "bad-extra": "1 2 3\n",
        "bad-garbage": "1ppm 2\n",
        "hex-float": "0x1p3 0x1p-4\n",
        "bad-ntpd-style": "-12.345\n",
        "bad-nul": "1\x00 2\n",
        "bad-large": "1 2" + " " * 300 + "\n",
    }.items():
        write(t, name, text)


def m6(op, seq=1, assoc=0, data=b"", flags=0, vn=2, li=3, offset=0, count=None, mac=b""):
    """A mode 6 request as ntpq sends it (VN 2, LI 3), padded to 32 bits."""
    if count is None:
        count = len(data)
    pkt = struct.pack(">BBHHHHH", li << 6 | vn << 3 | 6, flags | op, seq, 0, assoc, offset,
                      count) + data
    pkt += bytes(-len(pkt) % 4)
    return pkt + mac


def mode6_corpus():
    t = "fuzz_mode6"
    write(t, "readstat-0", m6(1))
    write(t, "readstat-assoc-1", m6(1, seq=2, assoc=1))
    write(t, "readvar-0", m6(2, seq=3))
    write(t, "readvar-ntpstat", m6(2, seq=4, data=b"leap,stratum,refid,rootdelay,rootdisp,tc"))
    write(t, "readvar-ntpq-rv", m6(2, seq=5, data=b"version, system,\r\nleap , offset"))
    write(t, "readvar-peer", m6(2, seq=6, assoc=1,
                                data=b"srcadr,srcport,dstadr,reach,delay,offset,jitter"))
    write(t, "readvar-unknown", m6(2, seq=7, data=b"nosuchvar,leap"))
    write(t, "readvar-values", m6(2, seq=8, data=b'leap=0,version="a,b",stratum'))
    write(t, "readvar-md5", m6(2, seq=9, data=b"offset,jitter", mac=struct.pack(">I", 1) +
                               bytes(16)))
    write(t, "readvar-v4", m6(2, seq=10, vn=4, li=0, data=b"clock"))
    write(t, "readvar-v1", m6(2, seq=11, vn=1, data=b"peer"))
    write(t, "readvar-many-names", m6(2, seq=12, data=",".join("v%d" % i for i in range(80))
                                      .encode()))
    write(t, "writevar", m6(3, seq=13, data=b"leap=1"))
    write(t, "readclock", m6(4, seq=14))
    write(t, "writeclock", m6(5, seq=15))
    write(t, "opcode-31", m6(31, seq=16))
    write(t, "response-bit", m6(2, seq=17, flags=0x80))
    write(t, "more-bit", m6(2, seq=18, flags=0x20))
    write(t, "offset-nonzero", m6(2, seq=19, offset=4))
    write(t, "count-past-end", m6(2, seq=20, count=200))
    write(t, "short", m6(1)[:11])
    write(t, "vn0", m6(1, vn=0))


def check_run(replies, n=None, t1=T1):
    """A fuzz_check input: replies are (flags, rx-tx in 2^-24 s, 48-byte packet) or None."""
    if n is None:
        n = len(replies)
    out = bytes([(n - 1) & 0xF]) + struct.pack(">Q", t1)
    for i, r in enumerate(replies):
        if r is None:
            break
        flags, dt, pkt = r
        out += bytes([flags]) + struct.pack(">i", dt) + pkt
    return out


def reply(i, li=0, stratum=2, prec=-20, rdelay=0x10, rdisp=0x20, refid=0x7F000002, mode=4,
          vn=4, rec_off=0x00100000, xmt_off=0x00110000, org=True, ref_off=-(1 << 32)):
    t1 = T1 + i * 858993459
    return ntp(li=li, vn=vn, mode=mode, stratum=stratum, prec=prec, rdelay=rdelay,
               rdisp=rdisp, refid=refid, ref=(t1 + ref_off) % (1 << 64) if ref_off else 0,
               org=t1 if org else 0, rec=t1 + rec_off, xmt=t1 + xmt_off)


def check_corpus():
    t = "fuzz_check"
    dt = 0x00005000  # ~1.2 ms round trip
    write(t, "good-4", check_run([(0, dt, reply(i)) for i in range(4)]))
    write(t, "good-16", check_run([(0, dt + i * 7, reply(i, rec_off=i * 999))
                                   for i in range(16)]))
    # w32time serving its own clock: stratum 1, LOCL, root dispersion ~10 s.
    write(t, "w32time-like", check_run([(0, dt, reply(i, stratum=1, refid=LOCL,
                                                      rdisp=10 << 16, vn=3))
                                        for i in range(4)]))
    write(t, "peer-dist-2s", check_run([(0, dt, reply(i, rdisp=2 << 16)) for i in range(4)]))
    write(t, "kod-rate", check_run([(0, dt, ntp(li=3, mode=4, stratum=0, refid=0x52415445,
                                                org=T1, xmt=0))]))
    write(t, "kod-deny", check_run([(4, dt, ntp(li=3, mode=4, stratum=0, refid=0x44454E59,
                                                org=T1, xmt=0))] * 2))
    write(t, "unsync-li3", check_run([(0, dt, reply(i, li=3, stratum=16)) for i in range(4)]))
    write(t, "no-reply", check_run([None], n=4))
    write(t, "bad-origin", check_run([(2, dt, reply(0, org=False))] * 3))
    write(t, "duplicates", check_run([(8, dt, reply(i)) for i in range(4)]))
    write(t, "mixed", check_run([(0, dt, reply(0)), (1, 0, bytes(48)),
                                 (2, dt, reply(2)), (0, dt, reply(3, mode=3))]))
    write(t, "zero-timestamps", check_run([(0, dt, reply(0, rec_off=0, xmt_off=0, org=False))]))
    write(t, "ref-after-xmt", check_run([(0, dt, reply(0, ref_off=1 << 40))]))
    write(t, "negative-delay", check_run([(0, 10, reply(0, rec_off=0, xmt_off=1 << 32))]))


def nts_corpus():
    """fuzz_nts: recipes (first byte odd: valid requests the harness seals,
    then mutations) and datagrams as they arrive (first byte even)."""
    t = "fuzz_nts"
    # recipe bytes: [ph | eph << 3, unknown field kind, nonce length - 1, poll, xor pairs..., cut]
    write(t, "recipe-1-cookie", b"\x01" + bytes([0, 0, 15, 6]))
    write(t, "recipe-7-placeholders", b"\x01" + bytes([7, 0, 15, 6]))
    write(t, "recipe-encrypted-placeholders", b"\x01" + bytes([3 << 3 | 2, 0, 15, 6]))
    write(t, "recipe-8-of-each", b"\x01" + bytes([7 << 3 | 7, 3, 15, 6]))
    write(t, "recipe-unknown-field", b"\x01" + bytes([1, 2, 15, 6]))
    write(t, "recipe-short-nonce", b"\x01" + bytes([0, 0, 0, 6]))
    write(t, "recipe-long-nonce", b"\x01" + bytes([2, 1, 40, 6]))
    write(t, "recipe-flip-cookie", b"\x01" + bytes([0, 0, 15, 6, 25, 4 | 1 << 2]))
    write(t, "recipe-flip-header", b"\x01" + bytes([0, 0, 15, 6, 0, 2 | 1 << 2]))
    write(t, "recipe-flip-tag", b"\x01" + bytes([0, 0, 15, 6, 57, 3 | 8 << 2]))
    write(t, "recipe-cut", b"\x01" + bytes([1, 0, 15, 6]) + bytes(32) + bytes([3]))
    uid = ext(0x0104, 32)
    cookie = ext(0x0204, 104)
    auth = struct.pack(">HHHH", 0x0404, 40, 16, 16) + bytes(32)
    write(t, "raw-plain", b"\x00" + ntp())
    write(t, "raw-nts-bad-cookie", b"\x00" + ntp() + uid + cookie + auth)
    write(t, "raw-nts-placeholders", b"\x00" + ntp() + uid + cookie + ext(0x0304, 104) * 3 + auth)
    write(t, "raw-nts-no-uid", b"\x00" + ntp() + cookie + auth)
    write(t, "raw-nts-auth-first", b"\x00" + ntp() + auth + uid + cookie)
    write(t, "raw-nts-nak", b"\x00" + ntp(li=3, mode=4, refid=0x4E54534E) + ext(0x0104, 32))


def ke_rec(typ, body=b"", critical=True):
    return struct.pack(">HH", typ | (0x8000 if critical else 0), len(body)) + body


def ntske_corpus():
    """fuzz_ntske: NTS-KE requests and answers, and keyfile lines."""
    t = "fuzz_ntske"
    end = ke_rec(0)
    np4 = ke_rec(1, b"\x00\x00")
    aead = ke_rec(4, b"\x00\x0f")
    write(t, "request", np4 + aead + end)
    write(t, "request-gcm-then-siv", np4 + ke_rec(4, b"\x00\x1e\x00\x0f") + end)
    write(t, "request-no-np", aead + end)
    write(t, "request-np-not-critical", ke_rec(1, b"\x00\x00", False) + aead + end)
    write(t, "request-unknown-critical", np4 + aead + ke_rec(0x1234, b"xy") + end)
    write(t, "request-unknown", np4 + aead + ke_rec(0x1234, b"xy", False) + end)
    write(t, "request-server-port", np4 + aead + ke_rec(6, b"ntp.example") + ke_rec(7, b"\x00\x7b") + end)
    write(t, "request-cookie", np4 + aead + ke_rec(5, bytes(8), False) + end)
    write(t, "request-truncated", np4 + aead[:3])
    write(t, "request-huge-record", np4 + struct.pack(">HH", 0x4000, 0xffff))
    cookies = b"".join(ke_rec(5, bytes([i]) * 104, False) for i in range(8))
    write(t, "reply", np4 + aead + cookies + end)
    write(t, "reply-server-port", np4 + aead + ke_rec(7, b"\x2b\x73") + ke_rec(6, b"192.0.2.1") + cookies + end)
    write(t, "reply-error", ke_rec(2, b"\x00\x01") + end)
    write(t, "reply-warning", np4 + aead + ke_rec(3, b"\x00\x05") + cookies + end)
    write(t, "reply-no-cookie", np4 + aead + end)
    write(t, "reply-empty-aead", np4 + ke_rec(4) + end)
    write(t, "keyfile", "# keys\n1 MD5 ASCII:secret\n2 SHA1 HEX:00112233445566778899aabbccddeeff00112233\n"
          "3 AES128 HEX:2b7e151628aed2a6abf7158809cf4f3c\n"
          "4 AES256 HEX:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4\n5 plain\n")
    write(t, "keyfile-errors", "0 MD5 x\n1 SHA256 HEX:00\n1 MD5 HEX:0\n1 AES128 HEX:00\n1\n")


def main():
    for target in ("fuzz_request", "fuzz_config", "fuzz_ctlproto", "fuzz_driftfile",
                   "fuzz_mode6", "fuzz_check", "fuzz_nts", "fuzz_ntske"):
        shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
    request_corpus()
    config_corpus()
    ctlproto_corpus()
    driftfile_corpus()
    mode6_corpus()
    check_corpus()
    nts_corpus()
    ntske_corpus()
    for target in sorted(os.listdir(CORPUS)):
        print("%-16s %d files" % (target, len(os.listdir(os.path.join(CORPUS, target)))))


if __name__ == "__main__":
    main()
