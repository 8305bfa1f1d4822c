#!/usr/bin/env python3
"""A stand-in for systemd's notification socket (sd_notify(3)), for tests.

Binds an AF_UNIX datagram socket at PATH (what NOTIFY_SOCKET names),
receives each notification with its sender's credentials, and writes one
JSON object per line to --out: the time (CLOCK_MONOTONIC and Unix
seconds), the sender's PID, and the VAR=VALUE pairs. On the first
READY=1 it runs --on-ready (a shell command) at once and records its
standard output and exit status in that line, so a test can see what
was true at the moment horod said it was ready (its pidfile, its control
socket). It stops after --max-time seconds or on SIGTERM.

Python standard library only; bounded by --max-time.
"""
import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

SCM_CREDENTIALS = 2  # socket.h: ancillary data carrying pid, uid, gid
SO_PASSCRED = 16  # socket.h
MSG_MAX = 4096  # bytes: more than any notification horod sends
CRED_SIZE = struct.calcsize("iII")  # struct ucred: pid, uid, gid
ON_READY_TIMEOUT = 5  # s: the --on-ready command


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path")
    ap.add_argument("--out", required=True)
    ap.add_argument("--on-ready", default="")
    ap.add_argument("--max-time", type=float, default=120.0)
    args = ap.parse_args()

    try:
        os.unlink(args.path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(args.path)
    s.setsockopt(socket.SOL_SOCKET, SO_PASSCRED, 1)
    end = time.monotonic() + args.max_time
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    ready_seen = False
    with open(args.out, "a", encoding="utf-8") as out:
        while not stop and time.monotonic() < end:
            s.settimeout(max(0.05, min(0.5, end - time.monotonic())))
            try:
                data, anc, _, _ = s.recvmsg(MSG_MAX, socket.CMSG_SPACE(CRED_SIZE))
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == SCM_CREDENTIALS and len(cdata) >= CRED_SIZE:
                    pid = struct.unpack("iII", cdata[:CRED_SIZE])[0]
            pairs = {}
            for line in data.decode(errors="replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    pairs[k] = v
            rec = {"mono": time.monotonic(), "unix": time.time(), "pid": pid, "vars": pairs}
            if pairs.get("READY") == "1" and not ready_seen and args.on_ready:
                ready_seen = True
                r = subprocess.run(args.on_ready, shell=True, capture_output=True, text=True,
                                   timeout=ON_READY_TIMEOUT)
                rec["on_ready"] = {"rc": r.returncode, "out": r.stdout}
            out.write(json.dumps(rec) + "\n")
            out.flush()
    os.unlink(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
