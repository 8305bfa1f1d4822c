#!/bin/bash
# shellcheck disable=SC2034,SC2119,SC2317 # T_CTX is read by lib.sh; optional arguments; functions called through check
#
# horod in its sandbox: `user nobody` with `seccomp 1` (a call outside the
# allowlist kills) and `seccomp 2` (it fails with EPERM), for every io
# mode. Each run must serve ntpdig and chronyd -Q, log its counters on
# SIGUSR1, answer `horoctl status` on its control socket, and stop with
# exit 0; /proc/PID/task/*/status must show every thread as nobody with
# no capability at all (effective, permitted, bounding), no_new_privs and
# the filter. Then, under seccomp 1, the run-time paths that need the
# most: a chronyd upstream (a fresh socket per request), a pool name
# resolved through DNS (a fake DNS server in the namespace, whose address
# nobody answers on, so the member is looked up again after 8 polls, by
# then as nobody under the filter), horoctl status until synchronised and
# the driftfile written by nobody at stop. Last, the refusals: an unknown
# user is a configuration error on its line (exit 2), a driftfile
# directory nobody cannot write stops start-up with a message naming it
# (exit 1), and `discipline off` with the kernel driver keeps no
# capability either. The namespace gets its own /etc/hosts and
# resolv.conf (ip netns exec mounts /etc/netns/NS/*), removed at exit.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd ntpdig setpriv
need_chronyd
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"
HOROCTL=$HOROD_BUILD/horoctl
[ -x "$HOROCTL" ] || skip "no horoctl built"
SRV=$(ns_name srv)
ns_create "$SRV"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

MAX_OFFSET=0.001 # seconds: same clock on both sides
SYNC_LIMIT=60    # s: time allowed to synchronise to the chronyd upstream
REPOLL_LIMIT=40  # s: time allowed for the pool member's second DNS lookup
DNS_LIFE=150     # s: the fake DNS server stops by itself after this

# nobody must reach files under T_DIR (mktemp made it 0700).
chmod 711 "$T_DIR"
DRIFT_DIR=$T_DIR/drift
mkdir "$DRIFT_DIR" && chown nobody "$DRIFT_DIR"

# The namespace's own name service files, removed with everything else.
NETNS_ETC=/etc/netns/$SRV
mkdir -p "$NETNS_ETC" || die "cannot create $NETNS_ETC"
trap 'rm -rf "$NETNS_ETC"; lib_cleanup' EXIT
printf '127.0.0.1 localhost\n::1 localhost\n' >"$NETNS_ETC/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' >"$NETNS_ETC/resolv.conf"

# The value of field NAME in the /proc status text STATUS (fields joined by spaces).
status_field()
{
	awk -v k="$1:" '$1 == k { $1 = ""; print substr($0, 2) }' <<<"$2"
}

# True when every thread of PID runs as nobody with no capability, with
# no_new_privs and a seccomp filter; prints what it found otherwise.
all_threads_sandboxed()
{
	local pid=$1 t st bad="" n=0 u=$NOBODY_UID g=$NOBODY_GID zero=0000000000000000
	for t in /proc/"$pid"/task/*; do
		st=$(cat "$t/status" 2>/dev/null) || continue
		n=$((n + 1))
		[ "$(status_field Uid "$st")" = "$u $u $u $u" ] || bad="$bad ${t##*/}:uid"
		[ "$(status_field Gid "$st")" = "$g $g $g $g" ] || bad="$bad ${t##*/}:gid"
		[ "$(status_field CapEff "$st")" = "$zero" ] || bad="$bad ${t##*/}:CapEff"
		[ "$(status_field CapPrm "$st")" = "$zero" ] || bad="$bad ${t##*/}:CapPrm"
		[ "$(status_field CapBnd "$st")" = "$zero" ] || bad="$bad ${t##*/}:CapBnd"
		[ "$(status_field NoNewPrivs "$st")" = 1 ] || bad="$bad ${t##*/}:NoNewPrivs"
		[ "$(status_field Seccomp "$st")" = 2 ] || bad="$bad ${t##*/}:Seccomp"
	done
	if [ "$n" -lt 2 ] || [ -n "$bad" ]; then
		echo "    threads: $n; wrong:$bad"
		grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp)' "/proc/$pid/status" | sed 's/^/    | /'
		return 1
	fi
}

# ntpdig_check ADDR STRATUM: a valid answer at STRATUM (a second try is
# allowed: the VM stalls now and then).
ntpdig_check()
{
	local addr=$1 want=$2 out st off
	for _ in 1 2; do
		out=$(timeout 15 ip netns exec "$SRV" ntpdig -j -t 2 -p 2 "$addr" 2>&1 | grep '^{' | head -n1)
		st=$(json_get "$out" stratum)
		off=$(json_get "$out" offset)
		if [ "$st" = "$want" ] && abs_below "$off" "$MAX_OFFSET"; then
			pass "ntpdig via $addr: stratum $st, offset $off s"
			return
		fi
	done
	fail "ntpdig via $addr: want stratum $want and |offset| < $MAX_OFFSET, got: ${out:-no answer}"
}

# chronyd -Q (never touching the clock) against ADDR.
chronyd_check()
{
	local addr=$1 log=$T_DIR/chronyd-q.log off rc
	chronyd_q "$SRV" "$addr" "$T_DIR/chronyd-q.pid" >"$log" 2>&1
	rc=$?
	off=$(sed -n 's/.*System clock wrong by \([-+0-9.e]*\) seconds.*/\1/p' "$log" | tail -n1)
	if [ "$rc" = 0 ] && abs_below "$off" "$MAX_OFFSET"; then
		pass "chronyd -Q via $addr: offset $off s"
	else
		fail "chronyd -Q via $addr: exit $rc, offset '${off:-none}'"
		tail -n 5 "$log" | sed 's/^/    | /'
	fi
}

# 1. Serving in the sandbox, both levels, every io mode.
for level in 1 2; do
	for io in $HOROD_IO_MODES; do
		T_CTX="seccomp $level, io $io"
		sock=$T_DIR/ctl-$level-$io.sock
		conf=$T_DIR/serve-$level-$io.conf
		write_conf "$conf" <<CONF
listen 127.0.0.1
listen ::1
local stratum 7
workers 2
io $io
control $sock
user nobody
seccomp $level
CONF
		if ! horod_start "$SRV" -f "$conf"; then
			fail "horod did not start"
			continue
		fi
		check "logs that it runs as nobody with no capability" \
			grep -q "running as user nobody (uid $NOBODY_UID, gid $NOBODY_GID), capabilities: none" "$HOROD_LOG"
		check "logs the seccomp level" grep -q "seccomp $level: [0-9]* system calls allowed" "$HOROD_LOG"
		check "every thread: nobody, no capabilities, no_new_privs, filtered" \
			all_threads_sandboxed "$HOROD_PID"
		ntpdig_check 127.0.0.1 7
		ntpdig_check ::1 7
		[ "$io" = uring ] && chronyd_check 127.0.0.1
		check "SIGUSR1 logs the counters" horod_counters
		check "the counters saw the requests" [ "$(counter reply_server)" -ge 2 ]
		# A short request: behind the XDP guard (HOROD_TEST_GUARD) its drop
		# is read from the guard's map by the sandboxed horod (bpf map
		# lookups are allowed, and need no capability).
		counters_mark
		craft "$SRV" 127.0.0.1 123 --len 20 --timeout 0.2 >/dev/null
		if [ "$HOROD_GUARDED" = 1 ]; then
			expect_deltas "a short request, dropped by XDP" "drop_short=1 received=1 xdp=1"
		else
			expect_deltas "a short request, dropped by a worker" "drop_short=1 received=1 xdp=0"
		fi
		check "no warning about reading the guard's counters" \
			not grep -q "cannot read its counters" "$HOROD_LOG"
		out=$("$HOROCTL" -s "$sock" status 2>&1)
		rc=$?
		check "horoctl status answers (exit $rc)" [ "$rc" = 0 ]
		check "horoctl status gives stratum 7" grep -q "stratum 7" <<<"$out"
		check "the control socket stays root's, mode 0660" \
			[ "$(stat -c '%U %a' "$sock" 2>/dev/null)" = "root 660" ]
		horod_stop
		check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
		check "no system call failed with EPERM" not grep -q "Operation not permitted" "$HOROD_LOG"
	done
done

# 2. Upstream, DNS and the driftfile under seccomp 1.
T_CTX="upstream, seccomp 1"
cat >"$T_DIR/dns.py" <<'PY'
# A DNS server for one test: answers A queries for pool.test with
# 127.0.0.3, anything else with no data; counts the pool.test queries in
# argv[1]. Stops by itself after argv[2] seconds.
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
s.settimeout(0.5)
end = time.monotonic() + float(sys.argv[2])
n = 0
while time.monotonic() < end:
    try:
        q, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    if len(q) < 17:
        continue
    i = 12
    labels = []
    while i < len(q) and q[i] != 0:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 5 <= len(q) else 0
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    answer = b""
    if name == "pool.test":
        if qtype == 1:
            n += 1
            with open(sys.argv[1], "w") as f:
                f.write("%d\n" % n)
            answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.3")
    hdr = struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], 0x8180, 1,
                      1 if answer else 0, 0, 0)
    s.sendto(hdr + question + answer, peer)
PY
ip netns exec "$SRV" python3 "$T_DIR/dns.py" "$T_DIR/dns.count" "$DNS_LIFE" >"$T_DIR/dns.log" 2>&1 &
_PIDS+=($!)
for _ in $(seq 50); do
	ip netns exec "$SRV" ss -Huln "src 127.0.0.1:53" 2>/dev/null | grep -q . && break
	sleep 0.1
done
chronyd_upstream "$SRV" 127.0.0.2 1 || die "no upstream"
sock=$T_DIR/ctl-up.sock
conf=$T_DIR/upstream.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
pool pool.test maxsources 1 minpoll 0 maxpoll 0
driver sim offset 0.01 freq 10 seed 1
driftfile $DRIFT_DIR/horod.drift
workers 2
control $sock
user nobody
seccomp 1
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
check "every thread: nobody, no capabilities, no_new_privs, filtered" all_threads_sandboxed "$HOROD_PID"
synced=""
for t in $(seq "$SYNC_LIMIT"); do
	if "$HOROCTL" -s "$sock" status >/dev/null 2>&1; then
		synced=$t
		break
	fi
	pid_alive "$HOROD_PID" || break
	sleep 1
done
check "horoctl status says synchronised (after ${synced:-never} s)" [ -n "$synced" ]
# The member at 127.0.0.3 never answers: after 8 polls it is looked up again.
lookups=""
for t in $(seq "$REPOLL_LIMIT"); do
	n=$(cat "$T_DIR/dns.count" 2>/dev/null)
	if [ "${n:-0}" -ge 2 ]; then
		lookups=$n
		break
	fi
	pid_alive "$HOROD_PID" || break
	sleep 1
done
check "the pool name was looked up again through DNS at run time (${lookups:-${n:-0}} lookups)" \
	[ -n "$lookups" ]
check "horod is still running after the lookups" pid_alive "$HOROD_PID"
horod_status
check "upstream replies were received on fresh sockets ($(grep -o 'upstream sent=[0-9]* received=[0-9]* valid=[0-9]*' <<<"$(grep 'upstream sent' "$HOROD_LOG" | tail -n1)"))" \
	[ "$(kv valid "$(grep 'upstream sent' "$HOROD_LOG" | tail -n1)")" -gt 0 ]
horod_stop
check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
check "the driftfile was written by nobody at stop" \
	[ "$(stat -c %U "$DRIFT_DIR/horod.drift" 2>/dev/null)" = nobody ]
check "no driftfile error was logged" not grep -q "driftfile.*failed\|driftfile.*cannot" "$HOROD_LOG"

# 3. Refusals, and the kernel driver with discipline off.
T_CTX="refusals"
conf=$T_DIR/nouser.conf
printf 'listen 127.0.0.1 port 12355\nlocal stratum 7\nuser no-such-user-horod\n' >"$conf"
out=$(timeout 5 ip netns exec "$SRV" "$HOROD" -n -f "$conf" 2>&1)
rc=$?
check "an unknown user is a configuration error (exit $rc)" [ "$rc" = 2 ]
check "the message is file:line: unknown user ($out)" \
	grep -q "^$conf:3: unknown user 'no-such-user-horod'" <<<"$out"
check "nothing was bound" not udp_bound "$SRV" 12355

conf=$T_DIR/nodir.conf
write_conf "$conf" <<CONF
listen 127.0.0.1 port 12356
server 127.0.0.2 minpoll 0 maxpoll 0
driver sim
driftfile $T_DIR/root-only/horod.drift
control off
user nobody
CONF
mkdir -m 755 "$T_DIR/root-only"
out=$(timeout 10 ip netns exec "$SRV" "$HOROD" -n -f "$conf" 2>&1)
rc=$?
check "a driftfile directory nobody cannot write stops start-up (exit $rc)" [ "$rc" = 1 ]
check "the message names the directory and the uid" \
	grep -q "driftfile $T_DIR/root-only/horod.drift: its directory $T_DIR/root-only is not writable by uid $NOBODY_UID" <<<"$out"
check "nothing is left serving" not udp_bound "$SRV" 12356

T_CTX="kernel driver, discipline off"
conf=$T_DIR/kernel-off.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
server 127.0.0.2 minpoll 0 maxpoll 0
driver kernel
discipline off
control off
user nobody
seccomp 1
CONF
if horod_start "$SRV" -f "$conf"; then
	check "no capability is kept (nothing adjusts the clock)" all_threads_sandboxed "$HOROD_PID"
	check "logs that it runs as nobody with no capability" \
		grep -q "running as user nobody (uid $NOBODY_UID, gid $NOBODY_GID), capabilities: none" "$HOROD_LOG"
	horod_stop
	check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
else
	fail "horod did not start"
fi

finish
