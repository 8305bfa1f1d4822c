#!/usr/bin/python3
"""End-to-end check of proto/mode6.c against the real ntpq client code.

ntpq (NTPsec) is Python: its request builder, fragment reassembly and
`name=value` parser live in ntp.packet.ControlSession. This script
compiles proto/mode6.c and proto/appendf.c into a shared library in a
temporary folder, loads it with ctypes, and runs a tiny mode 6 responder
on one end of an AF_UNIX datagram socket pair (no network at all) while
an unmodified ControlSession talks to the other end. So ntpq's own
sendrequest() builds every request our m6_parse() reads, and ntpq's own
getresponse()/readvar()/readstat() reassemble and parse what our
m6_respond()/m6_error()/m6_vars render: sizes from 0 bytes to
M6_TEXT_MAX, errors, filtering and quoted strings. (ntpq only reassembles
fragments that arrive in order; one check pins that down.)

Run it with Debian's interpreter (the ntp module is packaged for it),
from anywhere:  /usr/bin/python3 tests/tools/m6-reassemble.py
It needs gcc and python3-ntp; without them it says so and exits 77.
M6_SRC=path/to/other/mode6.c runs it against another version of the file.
Prints one line per check, then "N passed, M failed"; exit 1 on failure.
"""

import ctypes
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading

try:
    import ntp.control
    import ntp.packet
except ImportError:
    print("m6-reassemble: the ntp module (python3-ntp) is missing: skipped")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

M6_HEADER_LEN = 12  # bytes of the mode 6 header (proto/mode6.h)
M6_DATA_MAX = 468  # bytes of data per fragment (proto/mode6.h)
M6_TEXT_MAX = M6_DATA_MAX * 24  # bytes of the largest response text (proto/mode6.h)
OP_READSTAT, OP_READVAR, OP_WRITEVAR, OP_READCLOCK = 1, 2, 3, 4  # enum m6_op
ERR_PERMISSION, ERR_BADOP, ERR_BADASSOC, ERR_UNKNOWNVAR = 1, 3, 4, 5  # enum m6_err
RAW_ASSOC_BASE = 40000  # READCLOCK on association RAW_ASSOC_BASE + n answers n raw bytes
TIMEOUT_MS = 2000  # ms ntpq waits for a fragment: bounded, everything is local
SHORT_TIMEOUT_MS = 200  # ms, where a timeout is the expected outcome


class Request(ctypes.Structure):
    """struct m6_request."""
    _fields_ = [("version", ctypes.c_uint8), ("opcode", ctypes.c_uint8),
                ("sequence", ctypes.c_uint16), ("assoc", ctypes.c_uint16),
                ("data", ctypes.c_void_p), ("data_len", ctypes.c_size_t),
                ("has_mac", ctypes.c_int)]


class Vars(ctypes.Structure):
    """struct m6_vars."""
    _fields_ = [("buf", ctypes.c_char_p), ("cap", ctypes.c_size_t),
                ("len", ctypes.c_size_t), ("line", ctypes.c_size_t),
                ("overflow", ctypes.c_int), ("want", ctypes.c_void_p),
                ("want_len", ctypes.c_size_t), ("seen", ctypes.c_uint64)]


EMIT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t)


def build_lib(tmp):
    """Compile the module under test into TMP/libm6.so and load it."""
    so = os.path.join(tmp, "libm6.so")
    # M6_SRC: another version of the file (a mutant, to see a check fail).
    src = os.environ.get("M6_SRC", os.path.join(ROOT, "proto/mode6.c"))
    cmd = ["gcc", "-std=gnu11", "-O1", "-g", "-Wall", "-Werror", "-shared", "-fPIC",
           "-D_GNU_SOURCE", "-I", ROOT, src,
           os.path.join(ROOT, "proto/appendf.c"), "-o", so]
    try:
        subprocess.run(cmd, check=True)
    except FileNotFoundError:
        print("m6-reassemble: gcc is missing: skipped")
        sys.exit(77)
    lib = ctypes.CDLL(so)
    lib.m6_parse.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(Request)]
    lib.m6_parse.restype = ctypes.c_int
    lib.m6_error.argtypes = [ctypes.POINTER(Request), ctypes.c_int, ctypes.c_char_p]
    lib.m6_error.restype = ctypes.c_size_t
    lib.m6_respond.argtypes = [ctypes.POINTER(Request), ctypes.c_uint16, ctypes.c_char_p,
                               ctypes.c_size_t, EMIT, ctypes.c_void_p]
    lib.m6_respond.restype = ctypes.c_size_t
    lib.m6_sys_status.restype = ctypes.c_uint16
    lib.m6_peer_status.restype = ctypes.c_uint16
    lib.m6_vars_init.argtypes = [ctypes.POINTER(Vars), ctypes.c_char_p, ctypes.c_size_t,
                                 ctypes.c_char_p, ctypes.c_size_t]
    lib.m6_var_str.argtypes = [ctypes.POINTER(Vars), ctypes.c_char_p, ctypes.c_char_p]
    lib.m6_vars_unknown.argtypes = [ctypes.POINTER(Vars)]
    return lib


# What the responder serves: the system, two peers, and a large association.
SYS_VARS = [("version", 's', 'horod 0.1 "test", build 7'), ("leap", 'd', "0"),
            ("stratum", 'd', "2"), ("precision", 'd', "-24"),
            ("rootdelay", 'f', "0.125"), ("rootdisp", 'f', "1.250"),
            ("refid", 's', "127.0.0.1"), ("reftime", 'r', "0xe9a1b2c3.12345678"),
            ("offset", 'f', "-0.001234"), ("sys_jitter", 'f', "0.000456"),
            ("tc", 'd', "6"), ("mintc", 'd', "3")]
PEERS = {101: 0x9614, 102: 0x9414}  # association id -> peer status word
PEER_VARS = [("srcadr", 's', "127.0.0.2"), ("reach", 'r', "0xff"), ("delay", 'f', "0.031"),
             ("offset", 'f', "0.002"), ("jitter", 'f', "0.004"), ("flash", 'r', "0x0")]
BIG_ASSOC = 999  # READVAR on it renders more variables than M6_TEXT_MAX holds
SYS_STATUS_ARGS = (0, 6, 3, 5)  # leap, source, event count, last event


def big_vars():
    """(name, kind, value) items that overflow M6_TEXT_MAX."""
    return [("var%04d" % i, 'd', str(1000000 + i * 7919)) for i in range(1200)]


class Responder:
    """A mode 6 responder built only from the functions under test."""

    def __init__(self, lib, sock):
        self.lib = lib
        self.sock = sock
        self.stop = False
        self.reverse = False  # send fragments last first (ntpq cannot take that)
        self.seen = []  # (version, opcode, assoc, has_mac, data) of each parsed request
        self.dropped = 0
        self.last_text = b""
        self.sys_status = lib.m6_sys_status(*SYS_STATUS_ARGS)

    def render(self, items, want, cap):
        """Render ITEMS with the request list WANT; returns (text, unknown, overflow)."""
        buf = ctypes.create_string_buffer(cap)
        v = Vars()
        self.lib.m6_vars_init(ctypes.byref(v), buf, cap, want, len(want))
        for name, kind, value in items:
            if kind == 's':
                self.lib.m6_var_str(ctypes.byref(v), name.encode(), value.encode())
            else:
                self.lib.m6_var(ctypes.byref(v), ctypes.c_char_p(name.encode()),
                                ctypes.c_char_p(b"%s"), ctypes.c_char_p(value.encode()))
        return buf.raw[:v.len], self.lib.m6_vars_unknown(ctypes.byref(v)), v.overflow

    def answer(self, rq, data):
        """The packets answering RQ."""
        out = []

        def emit(_arg, pkt, length):
            out.append(ctypes.string_at(pkt, length))

        def error(code):
            pkt = ctypes.create_string_buffer(M6_HEADER_LEN)
            n = self.lib.m6_error(ctypes.byref(rq), code, pkt)
            return [pkt.raw[:n]]

        def respond(status, text):
            self.last_text = text
            n = self.lib.m6_respond(ctypes.byref(rq), status, text, len(text), EMIT(emit), None)
            assert n == len(out), "m6_respond should count what it emitted"
            return out

        if rq.opcode == OP_READSTAT:
            if rq.assoc != 0:
                return error(ERR_BADASSOC)
            text = b"".join(a.to_bytes(2, "big") + s.to_bytes(2, "big")
                            for a, s in sorted(PEERS.items()))
            return respond(self.sys_status, text)
        if rq.opcode == OP_READVAR:
            if rq.assoc == 0:
                items, status = SYS_VARS, self.sys_status
            elif rq.assoc in PEERS:
                items, status = PEER_VARS, PEERS[rq.assoc]
            elif rq.assoc == BIG_ASSOC:
                items, status = big_vars(), 0
            else:
                return error(ERR_BADASSOC)
            text, unknown, _ = self.render(items, data, M6_TEXT_MAX + 1)
            if unknown:
                return error(ERR_UNKNOWNVAR)
            return respond(status, text)
        if rq.opcode == OP_READCLOCK and rq.assoc >= RAW_ASSOC_BASE:
            n = rq.assoc - RAW_ASSOC_BASE
            text = bytes(0x41 + (i * 7) % 26 for i in range(n))
            return respond(0, text)
        if rq.opcode == OP_WRITEVAR:
            return error(ERR_PERMISSION)
        return error(ERR_BADOP)

    def run(self):
        while not self.stop:
            rd, _, _ = select.select([self.sock], [], [], 0.1)
            if not rd:
                continue
            pkt = self.sock.recv(65536)
            rq = Request()
            if self.lib.m6_parse(pkt, len(pkt), ctypes.byref(rq)) != 0:
                self.dropped += 1
                continue
            data = pkt[M6_HEADER_LEN:M6_HEADER_LEN + rq.data_len]
            self.seen.append((rq.version, rq.opcode, rq.assoc, rq.has_mac, data))
            pkts = self.answer(rq, data)
            for p in (reversed(pkts) if self.reverse else pkts):
                self.sock.send(p)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        try:
            fn()
        except (Exception, ntp.packet.ControlException) as e:  # the latter is a BaseException
            self.failed += 1
            print("FAIL - %s: %s: %s" % (name, type(e).__name__, e))
        else:
            self.passed += 1
            print("ok - %s" % name)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect_error(fn, code):
    try:
        fn()
    except ntp.packet.ControlException as e:
        expect(e.errorcode == code, "ntpq should see error %d, got %d (%s)"
               % (code, e.errorcode, e.message.strip()))
        return
    raise AssertionError("ntpq should have raised server error %d" % code)


def main():
    tmp = tempfile.mkdtemp(prefix="m6-")
    lib = build_lib(tmp)
    client_sock, server_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv = Responder(lib, server_sock)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()

    s = ntp.packet.ControlSession()
    s.sock = client_sock
    s.hostname = "socketpair"
    s.primary_timeout = TIMEOUT_MS
    s.secondary_timeout = TIMEOUT_MS
    s.logfp = sys.stdout  # ntpq's own warnings (bad padding, overlaps) show up here
    c = Checks()

    def readstat():
        peers = s.readstat(0)
        expect([(p.associd, p.status) for p in peers] == sorted(PEERS.items()),
               "ntpq should read back the peer list, got %r"
               % [(p.associd, p.status) for p in peers])
        expect(s.rstatus == srv.sys_status, "the status word should reach ntpq")
        ver, op, assoc, mac, data = srv.seen[-1]
        expect(ver == s.pktversion and op == OP_READSTAT and assoc == 0 and not mac
               and data == b"", "m6_parse should read ntpq's READSTAT")
    c.check("readstat: peer list and system status", readstat)

    def readvar_all():
        d = s.readvar(0)
        expect(list(d.keys()) == [n for n, _, _ in SYS_VARS], "every variable, in order: %r"
               % list(d.keys()))
        expect(d["version"] == "horod 0.1 'test', build 7",
               "a quoted string with a comma should read back, got %r" % d["version"])
        expect(d["stratum"] == 2 and d["precision"] == -24 and d["tc"] == 6,
               "integers should read back")
        expect(abs(d["offset"] + 0.001234) < 1e-12 and abs(d["rootdisp"] - 1.25) < 1e-12,
               "floats should read back")
        expect(d["reftime"] == "0xe9a1b2c3.12345678", "the timestamp should read back")
        expect(d["refid"] == "127.0.0.1", "refid should read back")
        expect(b"\r\n" in srv.last_text, "the text should have been broken into lines")
    c.check("readvar: all system variables, quoting, line breaks", readvar_all)

    def readvar_list():
        d = s.readvar(0, ["offset", "stratum", "version"])
        expect(list(d.keys()) == ["version", "stratum", "offset"],
               "only the named variables, in the server's order: %r" % list(d.keys()))
        expect(srv.seen[-1][4] == b"offset,stratum,version",
               "the request list should be what ntpq sent")
    c.check("readvar: request list filtering", readvar_list)

    def readvar_peer():
        d = s.readvar(101)
        keys = [k for k in d.keys() if k != "delay-s"]  # ntpq adds delay-s itself
        expect(keys == [n for n, _, _ in PEER_VARS] and d["reach"] == 0xff,
               "peer variables should read back: %r" % dict(d))
        expect(s.rstatus == PEERS[101], "the peer status should reach ntpq")
    c.check("readvar: a peer", readvar_peer)

    c.check("readvar: unknown name is UNKNOWNVAR",
            lambda: expect_error(lambda: s.readvar(0, ["offset", "nosuch"]), ERR_UNKNOWNVAR))
    c.check("readvar: unknown association is BADASSOC",
            lambda: expect_error(lambda: s.readvar(4242), ERR_BADASSOC))
    c.check("writevar is PERMISSION",
            lambda: expect_error(lambda: s.doquery(OP_WRITEVAR, 0, "stratum=1"),
                                 ERR_PERMISSION))
    c.check("an unimplemented opcode is BADOP",
            lambda: expect_error(lambda: s.doquery(9, 0), ERR_BADOP))

    def big():
        d = s.readvar(BIG_ASSOC)
        text = srv.last_text
        expect(M6_TEXT_MAX - 40 < len(text) <= M6_TEXT_MAX,
               "the text should be cut just under M6_TEXT_MAX, is %d" % len(text))
        # readvar() leaves the reassembled text in s.response as a str.
        expect(s.response == text.decode("latin-1"),
               "ntpq should reassemble the text byte for byte")
        items = big_vars()
        expect(len(d) > 100 and list(d.keys()) == [n for n, _, _ in items[:len(d)]]
               and all(d[n] == int(v) for n, _, v in items[:len(d)]),
               "the cut list should be a prefix of whole items")
    c.check("readvar: 24 fragments at M6_TEXT_MAX", big)

    def raw_sizes():
        for n in (0, 1, 3, 4, 467, 468, 469, 468 * 3, 468 * 3 + 1, M6_TEXT_MAX - 1,
                  M6_TEXT_MAX):
            s.doquery(OP_READCLOCK, RAW_ASSOC_BASE + n)
            expect(s.response == srv.last_text and len(srv.last_text) == n,
                   "%d bytes should reassemble exactly (got %d)" % (n, len(s.response)))
    c.check("raw texts of 0..M6_TEXT_MAX bytes reassemble", raw_sizes)

    def out_of_order():
        # NTPsec's getresponse() drops a fragment that comes after one with a
        # higher offset (and any M fragment after the final one), then
        # retries the query once: fragments must be sent in order, as
        # m6_respond() emits them. Pin that down so a change shows up here.
        srv.reverse = True
        s.primary_timeout = s.secondary_timeout = SHORT_TIMEOUT_MS
        logfp, s.logfp = s.logfp, open(os.devnull, "w")
        try:
            s.doquery(OP_READCLOCK, RAW_ASSOC_BASE + 469)
        except ntp.packet.ControlException as e:
            expect(e.message == ntp.packet.SERR_INCOMPLETE, "should be incomplete")
        else:
            raise AssertionError("ntpq reassembled reversed fragments: order no longer matters")
        finally:
            s.logfp.close()
            s.logfp = logfp
            s.primary_timeout = s.secondary_timeout = TIMEOUT_MS
            srv.reverse = False
    c.check("ntpq needs fragments in order (reversed ones are incomplete)", out_of_order)

    def with_mac_query():
        s.keyid, s.passwd, s.keytype = 1, b"k" * 16, "MD5"
        s.doquery(OP_READVAR, 0, "stratum", auth=True)
        ver, op, assoc, mac, data = srv.seen[-1]
        expect(mac == 1 and data == b"stratum",
               "m6_parse should see the MAC and the data (has_mac=%d, data=%r)" % (mac, data))
        expect(s.response.strip() == b"stratum=2", "the answer should be stratum=2")
    c.check("a request with a MAC (ntpq with a key) is answered", with_mac_query)

    c.check("no ntpq request was dropped by m6_parse",
            lambda: expect(srv.dropped == 0, "%d requests were dropped" % srv.dropped))

    srv.stop = True
    thread.join(2)
    client_sock.close()
    server_sock.close()
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
