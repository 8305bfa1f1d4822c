#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# `guard serve on` answers only what a socket of horod's would receive,
# never from a stale clock: crafted frames from the client's end of a
# veth (tests/tools/xdpframe.py, an AF_PACKET socket) to horod behind the
# guard (native XDP on the server's end), each sent once with `guard
# serve off` and once with it on. Whatever the frame, the answers seen on
# the wire must be the same both ways (XDP answers exactly where a worker
# would), and only the frames a socket of horod's receives are answered
# by XDP:
#   1. to an address horod does not listen on (`listen 127.0.0.1` only);
#   2. for another host, routed through the server with TTL 1 (the kernel
#      answers with ICMP time exceeded, never an NTP reply from that host);
#   3. to the subnet broadcast (behind the broadcast MAC and behind ours),
#      the NTP multicast groups;
#   4. with a bad IPv4 header checksum, a bad UDP checksum, a sender's
#      partial one (the kernel drops all three), none (IPv4: valid; IPv6:
#      dropped); and the frames that must be answered, by XDP when on.
# Then 5., a time namespace: horod with CLOCK_MONOTONIC 100000 s ahead
# answers from XDP with the right time; 6., a stall: the clock thread
# stopped (ptrace) for 4 s, the workers answer once the publication is
# older than 2 s, and XDP again after it resumes; and a horod with
# neither `server` nor `local` answers unsynchronized, with reference
# time 0 (not 1970), whoever answers.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd ntpdig ethtool nsenter unshare
XF=$TOOLS/xdpframe.py
TSTOP=$HOROD_BUILD/tools/thread-stop
GUARD_TEST=$HOROD_BUILD/guard-test
for b in "$TSTOP" "$GUARD_TEST"; do
	[ -x "$b" ] || die "no $b (run make all)"
done

SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"
# seconds: one clock on both sides, only timestamp error shows, and the
# time this script's frame tool takes to send (Python, on a loaded machine);
# the defects this catches are off by whole seconds and more
MAX_OFFSET=0.005
FWD_NET=198.51.100.0/24
FWD_DST=198.51.100.7 # another host's address, routed through the server
BCAST4=192.0.2.255   # the veth subnet's broadcast address

BPFFS=$T_DIR/bpffs
PIN=$BPFFS/horod
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || skip "cannot mount a bpffs (no BPF filesystem here)"
trap 'umount -l "$BPFFS" 2>/dev/null; lib_cleanup' EXIT
out=$(ip netns exec "$CLI" "$GUARD_TEST" xdp-pass hc0 2>&1)
case $? in
0) ;;
77) skip "the kernel refused to load BPF programs" ;;
*) die "cannot attach the pass program to hc0: $out" ;;
esac
# Complete checksums from the client's sockets (ntpdig, ntpcraft), as from a NIC.
ip netns exec "$CLI" ethtool -K hc0 tx off >/dev/null || die "cannot turn checksum offload off on hc0"
# The server routes FWD_NET back through the client's second address.
ip netns exec "$SRV" sysctl -qw net.ipv4.ip_forward=1 || die "cannot enable forwarding"
ip -n "$SRV" route add "$FWD_NET" via "$VETH_CLI4B" || die "cannot route $FWD_NET"
SRV_MAC=$(ip netns exec "$SRV" cat /sys/class/net/hs0/address)

# frame ARGS...: send one crafted request from the client; its JSON report on stdout.
frame()
{
	ip netns exec "$CLI" python3 "$XF" --iface hc0 --dst-mac "$SRV_MAC" "$@"
}

# outcome JSON: the answers as one line, without what varies from run to run.
outcome()
{
	python3 -c 'import json, sys
r = json.loads(sys.argv[1])["replies"]
print(" ".join(sorted("%s:%s>%s@%s%s" % (x["kind"], x["src"], x["dst"], x["src_mac"],
    ":%d/%d" % (x["type"], x["code"]) if "type" in x else ":s%d" % x["stratum"]) for x in r)) or "none")' "$1"
}

# ntp_ok JSON: exactly one NTP reply, from FROM, with |offset| < MAX_OFFSET.
ntp_ok()
{
	python3 -c 'import json, sys
r = [x for x in json.loads(sys.argv[1])["replies"] if x["kind"] == "ntp"]
sys.exit(not (len(r) == 1 and r[0]["src"] == sys.argv[2] and abs(r[0]["offset"]) < float(sys.argv[3])))' \
		"$1" "$2" "$MAX_OFFSET"
}

# The frames: name, then xdpframe's arguments.
CASES=(
	"ok4|--src $VETH_CLI4 --dst $VETH_SRV4"
	"ok6|--src $VETH_CLI6 --dst $VETH_SRV6"
	"nocsum4|--src $VETH_CLI4 --dst $VETH_SRV4 --udp-csum zero"
	"forward|--src $VETH_CLI4 --dst $FWD_DST --ttl 1"
	"bcast|--src $VETH_CLI4 --dst $BCAST4 --dst-mac ff:ff:ff:ff:ff:ff"
	"bcast-unicast-mac|--src $VETH_CLI4 --dst $BCAST4"
	"limited-bcast|--src $VETH_CLI4 --dst 255.255.255.255 --dst-mac ff:ff:ff:ff:ff:ff"
	"mcast4|--src $VETH_CLI4 --dst 224.0.1.1 --dst-mac 01:00:5e:00:01:01"
	"mcast6|--src $VETH_CLI6 --dst ff02::101 --dst-mac 33:33:00:00:01:01"
	"other-mac|--src $VETH_CLI4 --dst $VETH_SRV4 --dst-mac 02:00:00:00:00:99"
	"bad-udp|--src $VETH_CLI4 --dst $VETH_SRV4 --udp-csum bad"
	"bad-ip|--src $VETH_CLI4 --dst $VETH_SRV4 --ip-csum bad"
	"partial|--src $VETH_CLI4 --dst $VETH_SRV4 --udp-csum partial"
	"nocsum6|--src $VETH_CLI6 --dst $VETH_SRV6 --udp-csum zero"
	"bad-udp6|--src $VETH_CLI6 --dst $VETH_SRV6 --udp-csum bad"
)
ANSWERED="ok4 ok6 nocsum4" # what horod's sockets receive: answered (by XDP when on)

# guard_conf_lines SERVE: the guard in front of hs0, serving or not.
guard_lines()
{
	printf 'guard interface hs0 mode native\nguard serve %s\nguard pin %s\n' "$1" "$PIN"
}

declare -A SEEN
T_CTX="crafted frames"
for serve in off on; do
	# 1. An address horod does not listen on: the same fate either way.
	conf=$T_DIR/lo-$serve.conf
	{
		printf 'listen 127.0.0.1\nlocal stratum 3\nworkers 1\n'
		guard_lines "$serve"
	} >"$conf"
	if horod_start "$SRV" -f "$conf"; then
		counters_mark
		SEEN[unlistened-$serve]=$(outcome "$(frame --src "$VETH_CLI4" --dst "$VETH_SRV4")")
		expect_deltas "serve $serve: a request to $VETH_SRV4 (not listened on) is nobody's" \
			"received=0 xdp=0"
		horod_stop
	else
		fail "horod did not start (listen 127.0.0.1, serve $serve)"
	fi

	# 2-4. Wildcard listens: every frame above.
	conf=$T_DIR/any-$serve.conf
	{
		printf 'listen 0.0.0.0\nlisten ::\nlocal stratum 3\nworkers 1\n'
		guard_lines "$serve"
	} >"$conf"
	if ! horod_start "$SRV" -f "$conf"; then
		fail "horod did not start (wildcard listens, serve $serve)"
		continue
	fi
	[ "$serve" = on ] && check "horod says the guard answers client requests" \
		grep -q 'answers client requests' "$HOROD_LOG"
	counters_mark
	for c in "${CASES[@]}"; do
		name=${c%%|*}
		# shellcheck disable=SC2086 # the arguments split on purpose
		j=$(frame ${c#*|})
		SEEN[$name-$serve]=$(outcome "$j")
		case " $ANSWERED " in
		*" $name "*)
			dst=$(echo "$c" | sed 's/.*--dst \([^ ]*\).*/\1/')
			check "serve $serve: $name is answered from $dst, |offset| < $MAX_OFFSET s" ntp_ok "$j" "$dst"
			;;
		esac
	done
	n=$(echo "$ANSWERED" | wc -w)
	horod_counters
	d_x=$(($(counter xdp) - $(counter xdp "$_BASE")))
	d_r=$(($(counter reply_server) - $(counter reply_server "$_BASE")))
	if [ "$serve" = on ]; then
		check "serve on: XDP answered exactly the $n requests for us (xdp +$d_x, reply_server +$d_r)" \
			[ "$d_x" = "$n" ]
	else
		check "serve off: XDP answered nothing (xdp +$d_x, reply_server +$d_r)" [ "$d_x" = 0 ]
	fi
	_BASE=$HOROD_COUNTERS
	horod_stop
done

# Every frame met the same fate with XDP answering as without.
for name in unlistened ${CASES[*]%%|*}; do
	name=${name%%|*}
	check "$name: the same answers with guard serve on as off (${SEEN[$name-off]})" \
		[ "${SEEN[$name-on]}" = "${SEEN[$name-off]}" ]
done
check "1: a request to an address horod does not listen on gets no NTP reply" \
	not grep -q ntp <<<"${SEEN[unlistened-on]}"
check "2: routed through with TTL 1: ICMP time exceeded from the server, no NTP reply" \
	bash -c '[[ $1 == "icmp:$2>"*":11/0" ]]' _ "${SEEN[forward-on]}" "$VETH_SRV4"
check "3: nothing answers from the broadcast address or the broadcast MAC" \
	not grep -qE "$BCAST4|255\.255\.255\.255|ff:ff:ff:ff:ff:ff" <<<"${SEEN[bcast-on]} ${SEEN[bcast-unicast-mac-on]} ${SEEN[limited-bcast-on]}"
for name in bad-udp bad-ip partial nocsum6 bad-udp6; do
	check "4: $name: no answer (the kernel drops it)" [ "${SEEN[$name-on]}" = none ]
done

# 5. A time namespace: CLOCK_MONOTONIC 100000 s ahead, CLOCK_TAI and CLOCK_REALTIME not.
T_CTX="time namespace"
unshare --time --monotonic 100000 --boottime 100000 sleep 300 &
HOLDER=$!
_PIDS+=("$HOLDER")
sleep 0.2
up=$(nsenter --time="/proc/$HOLDER/ns/time_for_children" cat /proc/uptime | cut -d. -f1)
if [ -z "$up" ] || [ "$up" -lt 100000 ]; then
	fail "cannot make a time namespace 100000 s ahead (uptime there: ${up:-?})"
else
	wrap=$T_DIR/horod-timens
	printf '#!/bin/sh\nexec nsenter --time=/proc/%s/ns/time_for_children -- %s "$@"\n' \
		"$HOLDER" "$HOROD" >"$wrap"
	chmod +x "$wrap"
	REAL_HOROD=$HOROD
	HOROD=$wrap
	for serve in off on; do
		conf=$T_DIR/timens-$serve.conf
		{
			printf 'listen 0.0.0.0\nlocal stratum 3\nworkers 1\n'
			guard_lines "$serve"
		} >"$conf"
		if ! horod_start "$SRV" -f "$conf"; then
			fail "horod did not start in the time namespace (serve $serve)"
			continue
		fi
		counters_mark
		j=$(frame --src "$VETH_CLI4" --dst "$VETH_SRV4")
		check "serve $serve, in a time namespace: answered with the right time ($(outcome "$j"))" \
			ntp_ok "$j" "$VETH_SRV4"
		expect_deltas "serve $serve, in a time namespace: answered by $([ $serve = on ] && echo XDP || echo a worker)" \
			"reply_server=1 received=1 xdp=$([ $serve = on ] && echo 1 || echo 0)"
		horod_stop
	done
	HOROD=$REAL_HOROD
fi
kill "$HOLDER" 2>/dev/null

# 6. The clock thread stalls: past 2 s the workers answer, then XDP again.
T_CTX="stall"
conf=$T_DIR/stall.conf
{
	printf 'listen 0.0.0.0\nlocal stratum 3\nworkers 1\n'
	guard_lines on
} >"$conf"
if horod_start "$SRV" -f "$conf"; then
	counters_mark
	j=$(frame --src "$VETH_CLI4" --dst "$VETH_SRV4")
	check "before the stall: answered" ntp_ok "$j" "$VETH_SRV4"
	expect_deltas "before the stall: by XDP" "reply_server=1 received=1 xdp=1"
	"$TSTOP" "$HOROD_PID" 4 >"$T_DIR/tstop.log" 2>&1 &
	STOPPER=$!
	sleep 2.6
	j=$(frame --src "$VETH_CLI4" --dst "$VETH_SRV4")
	check "the clock thread stopped for 2.6 s: still answered, right time" ntp_ok "$j" "$VETH_SRV4"
	wait "$STOPPER"
	check "the clock thread was stopped and let go" [ $? = 0 ]
	sleep 1.5 # a publication since
	j=$(frame --src "$VETH_CLI4" --dst "$VETH_SRV4")
	check "after the stall: answered" ntp_ok "$j" "$VETH_SRV4"
	expect_deltas "during the stall by a worker, after it by XDP" \
		"reply_server=2 received=2 xdp=1 ts_kernel=1"
	horod_stop
else
	fail "horod did not start (stall)"
fi

# Neither `server` nor `local`: unsynchronized, reference time 0, whoever answers.
T_CTX="no time source"
conf=$T_DIR/nosource.conf
{
	printf 'listen 0.0.0.0\nworkers 1\n'
	guard_lines on
} >"$conf"
if horod_start "$SRV" -f "$conf"; then
	sleep 3 # longer than the age limit: only a clock thread that keeps publishing keeps XDP answering
	counters_mark
	check_craft "no time source: LI 3, stratum 0, reference time 0 (not 1970)" "$CLI" \
		"$VETH_SRV4" 123 --expect answered=true --expect leap=3 --expect stratum=0 \
		--expect reftime_hex=0000000000000000
	horod_counters
	d_x=$(($(counter xdp) - $(counter xdp "$_BASE")))
	check "no time source: answered by XDP (the clock thread publishes in every configuration, so the state stays fresh; xdp +$d_x)" \
		[ "$d_x" = 1 ]
	horod_stop
else
	fail "horod did not start without a time source"
fi

finish
