#!/bin/bash
# shellcheck disable=SC2034 # T_CTX is read by lib.sh
#
# Interleaved mode (RFC 9769) with real clients, across a veth pair, two
# workers (a chronyd client changes its source port on every request:
# only steering by address keeps its state on one worker), once per io
# mode:
#   - chronyd -Q with `xleave` over IPv4 and IPv6: every request after
#     its first answered in interleaved mode with the kernel's transmit
#     stamp of the previous reply, and chronyd's offset small; without
#     `xleave`, basic only;
#   - horobench --xleave from 2,000 client addresses (AnyIP in the client
#     namespace): >= 99 % of the replies interleaved, none invalid, the
#     interleaved offsets computed from the previous exchange near zero (a
#     stamp given to the wrong client would be off by the gap between two
#     replies, ~100 us), and the capture at the client's interface sees no
#     reply arrive before its transmit timestamp, basic or interleaved;
#   - the same with the socket counting its stamp keys (as on kernels
#     before SCM_TS_OPT_ID: HOROD_TEST_TXSTAMP=counted), the replies then
#     checked against what the stamp carries back.
# With `guard serve on`: a basic client answered in XDP, an interleaved one
# by the workers (its first request in XDP, its second basic, the rest
# interleaved with kernel stamps).
# With `guard stamp on`: every basic reply chronyd gets (IPv4 and IPv6)
# has its transmit time written at egress (counted by the guard as
# tx_stamped_egress, one per basic reply), no interleaved reply does, the
# offsets stay below 1 ms, and horobench's capture finds no reply that
# arrived before its transmit timestamp, basic or interleaved.
# Then the error-queue trap (transmit stamps are charged to a socket's
# receive buffer: the send socket's, rxsock.h): an overload burst, then the sockets' receive queues
# must be empty again (no stamp left unread), horod must answer at once,
# most replies must have had their stamp read, and the answered rate
# under overload must not fall far below the one without stamps.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_chronyd
HB=$HOROD_BUILD/horobench
HOROCTL=$HOROD_BUILD/horoctl
[ -x "$HB" ] || die "no horobench binary at $HB (run make all)"
[ -x "$HOROCTL" ] || die "no horoctl binary at $HOROCTL (run make all)"
SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

CLIENTS=2000	     # client addresses of horobench
CLIENT_NET=10.99.0.0 # ... local in the client namespace (AnyIP), routed there by the server
RATE=5000	     # requests/s: far below saturation
SHARE_MIN=0.99	     # interleaved share horobench must see
OFFX_P50_MAX=20	     # us: |median| of the interleaved offsets (the truth is 0)
OVERLOAD=300000	     # requests/s: past what this machine answers
QUEUE_DRAIN=20	     # tenths of a second for the receive queues to empty after the burst
# Answered rate under overload with stamps, at least this share of the rate
# without: the trap (a queue of unread stamps) would starve requests
# outright; what the stamps cost is for the benchmarks to say (a shared
# machine, and sanitizer builds, move this a lot).
RATE_KEEP=0.4

ip -n "$CLI" route add local 10.99.0.0/16 dev lo || die "cannot add the AnyIP route"
ip -n "$SRV" route add 10.99.0.0/16 via "$VETH_CLI4" || die "cannot route the client addresses"

# Value of a (dotted) key in the JSON object $1; empty when absent.
jget()
{
	python3 -c 'import json, sys
try:
    v = json.loads(sys.argv[1])
    for k in sys.argv[2].split("."):
        v = v[k]
except (ValueError, KeyError, TypeError):
    sys.exit(1)
print(v)' "$1" "$2" 2>/dev/null
}

# horod_start_env VAR=VALUE... -- ARGS: horod_start ARGS with that environment.
horod_start_env()
{
	local envs=() e rc
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	for e in "${envs[@]}"; do
		export "${e?}"
	done
	horod_start "$@"
	rc=$?
	for e in "${envs[@]}"; do
		unset "${e%%=*}"
	done
	return $rc
}

# xl_q ADDR [xleave]: one chronyd -Q run (the client, as lib.sh's
# chronyd_q runs it) against ADDR, polling every 1/8 s; sets CQ_OUT, CQ_OFF (s).
xl_q()
{
	CQ_OUT=$(timeout 30 ip netns exec "$CLI" setpriv --bounding-set=-sys_time \
		--inh-caps=-sys_time "$CHRONYD" -x -u root -Q -t 20 \
		"server $1 iburst ${2:-} minpoll -3 maxpoll -3 maxsamples 8" \
		"pidfile $T_DIR/chronyd-q.pid" "cmdport 0" "bindcmdaddress /" 2>&1)
	CQ_OFF=$(sed -n 's/.*System clock wrong by \([-0-9.e]*\) seconds.*/\1/p' <<<"$CQ_OUT" | tail -n1)
}

# stamped: the guard's count of replies stamped at egress (horoctl guard), empty if none.
stamped()
{
	jget "$(ip netns exec "$SRV" "$HOROCTL" guard --pin "$PIN" --json --once 2>/dev/null)" \
		counters.tx_stamped_egress.packets
}

# holds EXPR: true when the arithmetic EXPR (numbers substituted by the
# caller) holds; an empty or non-numeric value makes it fail. One argument,
# so that check sees the whole conjunction.
holds()
{
	(($1)) 2>/dev/null
}

# delta NAME: counter NAME now minus at the last mark.
delta()
{
	echo $(($(counter "$1") - $(counter "$1" "$_BASE")))
}

# hb_xleave WHAT: horobench --xleave from CLIENTS addresses with the capture; checks its JSON.
hb_xleave()
{
	local what=$1 out share inv x50 late_b late_x
	out=$(ip netns exec "$CLI" timeout 60 "$HB" -j --clients $CLIENTS --client-base $CLIENT_NET \
		--capture hc0 --xleave --warmup --steps $RATE -d 2 "$VETH_SRV4" 2>"$T_DIR/hb.err")
	share=$(jget "$out" interleaved_share)
	inv=$(jget "$out" invalid)
	x50=$(jget "$out" offset_x_us.p50)
	late_b=$(jget "$out" capture.basic_us.late)
	late_x=$(jget "$out" capture.interleaved_us.late)
	check "$what: >= $SHARE_MIN of the replies interleaved (got ${share:-none})" \
		awk -v s="${share:-0}" -v m=$SHARE_MIN 'BEGIN { exit !(s >= m) }'
	check "$what: no invalid reply (got ${inv:-none})" [ "${inv:-1}" = 0 ]
	check "$what: interleaved offsets near 0 (|p50| ${x50:-none} us < $OFFX_P50_MAX)" \
		abs_below "${x50:-x}" $OFFX_P50_MAX
	check "$what: no reply arrived before its transmit timestamp (late: basic ${late_b:-none}, interleaved ${late_x:-none})" \
		holds "${late_b:-1} == 0 && ${late_x:-1} == 0"
	[ "${inv:-1}" = 0 ] || echo "    | $(cut -c1-600 <<<"${out:-$(head -c 400 "$T_DIR/hb.err")}")"
}

for io in $HOROD_IO_MODES; do
	T_CTX="io=$io"
	conf=$T_DIR/horod-$io.conf
	write_conf "$conf" <<CONF
listen $VETH_SRV4
listen $VETH_SRV6
local stratum 10
workers 2
io $io
clientloglimit 1048576
CONF
	if ! horod_start "$SRV" -f "$conf"; then
		fail "horod did not start"
		continue
	fi
	check "horod says how many clients' state it holds" \
		grep -q 'interleaved mode: state for 16384 clients per worker' "$HOROD_LOG"

	for addr in $VETH_SRV4 $VETH_SRV6; do
		counters_mark
		xl_q "$addr" xleave
		horod_counters
		check "chronyd -Q xleave against $addr: offset ${CQ_OFF:-none} s, |offset| < 1 ms" \
			abs_below "${CQ_OFF:-x}" 0.001
		n=$(delta reply_server)
		check "chronyd xleave ($addr): all but the first of its $n requests interleaved ($(delta interleaved))" \
			holds "$n >= 3 && $(delta interleaved) == $n - 1 && $(delta basic) == 1"
		# The reply to its first request (basic) is stamped only when sent
		# alone: the first interleaved reply may carry the time read before.
		check "... each after the first with the kernel's stamp of the previous reply ($(delta interleaved_kernel))" \
			[ "$(delta interleaved_kernel)" -ge $(($(delta interleaved) - 1)) ]
	done
	counters_mark
	xl_q "$VETH_SRV4"
	horod_counters
	check "chronyd -Q without xleave: basic replies only ($(delta basic) basic, $(delta interleaved) interleaved)" \
		holds "$(delta basic) >= 3 && $(delta interleaved) == 0"

	counters_mark
	hb_xleave "horobench --xleave, $CLIENTS clients"
	horod_counters
	# The warm-up's second round names replies to basic requests (stamped
	# only when sent alone): those CLIENTS interleaved replies may carry the
	# time read before.
	check "the interleaved replies after the warm-up carried kernel stamps ($(delta interleaved_kernel) of $(delta interleaved))" \
		awk -v k="$(delta interleaved_kernel)" -v n="$(delta interleaved)" -v c=$CLIENTS \
		'BEGIN { exit !(n > c && k >= 0.99 * (n - c)) }'
	horod_stop

	# The kernels without SCM_TS_OPT_ID: keys counted by the socket.
	if ! horod_start_env HOROD_TEST_TXSTAMP=counted -- "$SRV" -f "$conf"; then
		fail "horod (counted keys) did not start"
		continue
	fi
	counters_mark
	hb_xleave "counted stamp keys"
	horod_counters
	check "counted keys: the interleaved replies carried kernel stamps ($(delta interleaved_kernel) of $(delta interleaved)), few unmatched ($(delta tx_unmatched))" \
		awk -v k="$(delta interleaved_kernel)" -v n="$(delta interleaved)" -v u="$(delta tx_unmatched)" \
		-v c=$CLIENTS 'BEGIN { exit !(n > c && k >= 0.99 * (n - c) && u <= 0.01 * n) }'
	horod_stop
done
T_CTX=""

# Hardware stamps asked for on a NIC without them (a veth): said once, and
# the interleaved replies carry the kernel's software stamps (no PHC or
# PPS device exists on the machines this runs on: only the fallback).
conf=$T_DIR/horod-hw.conf
write_conf "$conf" <<CONF
listen $VETH_SRV4
local stratum 10
workers 1
hwtimestamp hs0
CONF
if horod_start "$SRV" -f "$conf"; then
	check "hwtimestamp on a veth: software stamps, said once" \
		grep -q 'hwtimestamp hs0: .*software timestamps' "$HOROD_LOG"
	counters_mark
	xl_q "$VETH_SRV4" xleave
	horod_counters
	check "hwtimestamp fallback: interleaved replies with the kernel's stamps ($(delta interleaved_kernel) of $(delta interleaved))" \
		holds "$(delta interleaved) >= 2 && $(delta interleaved_kernel) >= $(delta interleaved) - 1"
	horod_stop
else
	fail "horod with hwtimestamp did not start"
fi

# guard serve on: XDP answers a basic client, the workers every request
# that may be interleaved (only they hold the transmit stamps). chronyd's
# first request (origin 0) is XDP's; its second names XDP's reply, of
# which the workers know nothing (basic); from its third on, interleaved.
GUARD_TEST=$HOROD_BUILD/guard-test
BPFFS=$T_DIR/bpffs
PIN=$BPFFS/horod
mkdir -p "$BPFFS"
if ! mount -t bpf bpf "$BPFFS" 2>/dev/null; then
	echo "SKIP part: guard serve on (cannot mount a bpffs)"
elif ! ip netns exec "$CLI" "$GUARD_TEST" xdp-pass hc0 >/dev/null 2>&1 ||
	! ip netns exec "$CLI" ethtool -K hc0 tx off >/dev/null; then
	umount -l "$BPFFS"
	echo "SKIP part: guard serve on (no pass program on hc0, or checksum offload stays on)"
else
	trap 'umount -l "$BPFFS" 2>/dev/null; lib_cleanup' EXIT
	conf=$T_DIR/horod-xdp.conf
	write_conf "$conf" <<CONF
listen $VETH_SRV4
local stratum 10
workers 1
guard interface hs0 mode native
guard serve on
guard pin $PIN
CONF
	if horod_start "$SRV" -f "$conf"; then
		counters_mark
		xl_q "$VETH_SRV4"
		horod_counters
		check "guard serve on, chronyd without xleave: answered in XDP ($(delta xdp) in XDP, $(delta basic) basic by the workers)" \
			holds "$(delta xdp) >= 3 && $(delta basic) == 0"
		counters_mark
		xl_q "$VETH_SRV4" xleave
		horod_counters
		check "guard serve on, chronyd xleave: offset ${CQ_OFF:-none} s, |offset| < 1 ms" \
			abs_below "${CQ_OFF:-x}" 0.001
		check "guard serve on, chronyd xleave: its first request in XDP ($(delta xdp)), one basic ($(delta basic)) and the rest, at least 2, interleaved by the workers ($(delta interleaved), kernel stamps $(delta interleaved_kernel))" \
			holds "$(delta xdp) == 1 && $(delta basic) == 1 && $(delta interleaved) >= 2 &&
				$(delta interleaved_kernel) >= $(delta interleaved) - 1"
		horod_stop
	else
		fail "horod with guard serve on did not start"
	fi

	# guard stamp on: the workers answer, the guard writes each basic
	# reply's transmit time as it leaves hs0 (tc egress), never an
	# interleaved reply's (the previous reply's kernel stamp).
	conf=$T_DIR/horod-stamp.conf
	write_conf "$conf" <<CONF
listen $VETH_SRV4
listen $VETH_SRV6
local stratum 10
workers 1
guard interface hs0 mode native
guard stamp on
guard pin $PIN
CONF
	if horod_start "$SRV" -f "$conf"; then
		check "guard stamp on: horod says the egress program is attached" \
			grep -q 'transmit times written at egress on 1 of 1' "$HOROD_LOG"
		check "guard stamp on: horoctl guard says so" \
			bash -c 'ip netns exec "$1" "$2" guard --pin "$3" --once | grep -q "transmit times at egress (guard stamp)"' \
			_ "$SRV" "$HOROCTL" "$PIN"
		for addr in $VETH_SRV4 $VETH_SRV6; do
			counters_mark
			s0=$(stamped)
			xl_q "$addr"
			horod_counters
			s1=$(stamped)
			check "guard stamp on, chronyd -Q basic against $addr: offset ${CQ_OFF:-none} s, |offset| < 1 ms" \
				abs_below "${CQ_OFF:-x}" 0.001
			check "guard stamp on, chronyd basic against $addr: every basic reply stamped at egress ($((s1 - s0)) of $(delta basic), at least 3)" \
				holds "$(delta basic) >= 3 && $s1 - $s0 == $(delta basic)"
		done
		counters_mark
		s0=$(stamped)
		xl_q "$VETH_SRV4" xleave
		horod_counters
		s1=$(stamped)
		check "guard stamp on, chronyd xleave: offset ${CQ_OFF:-none} s, |offset| < 1 ms" \
			abs_below "${CQ_OFF:-x}" 0.001
		check "guard stamp on, chronyd xleave: only its basic replies stamped at egress ($((s1 - s0)) of $(delta basic) basic), none of the $(delta interleaved) interleaved (at least 2)" \
			holds "$(delta interleaved) >= 2 && $s1 - $s0 == $(delta basic)"
		hb_xleave "guard stamp on, horobench --xleave"
		out=$(ip netns exec "$CLI" timeout 60 "$HB" -j --clients $CLIENTS \
			--client-base $CLIENT_NET --capture hc0 --warmup --steps $RATE -d 2 \
			"$VETH_SRV4" 2>"$T_DIR/hb.err")
		check "guard stamp on, horobench basic: every reply valid and captured, none before its transmit timestamp (valid $(jget "$out" valid) of $(jget "$out" sent), late $(jget "$out" capture.basic_us.late), mean arrival - T3 $(jget "$out" capture.basic_us.mean) us)" \
			holds "$(jget "$out" invalid || echo 1) == 0 && $(jget "$out" capture.basic_us.n || echo 0) > 0 &&
				$(jget "$out" capture.basic_us.late || echo 1) == 0"
		horod_stop
	else
		fail "horod with guard stamp on did not start"
	fi
fi

# The error-queue trap: overload, then everything read back and horod answering.
# overload VAR=VALUE...: horod (io uring) with that environment under an
# open-loop overload; sets OV_RATE (valid replies/s).
overload()
{
	local conf=$T_DIR/horod-ov.conf out
	write_conf "$conf" <<CONF
listen $VETH_SRV4
local stratum 10
workers 1
io uring
clientloglimit 1048576
CONF
	horod_start_env "$@" -- "$SRV" -f "$conf" || return 1
	out=$(ip netns exec "$CLI" timeout 60 "$HB" -j --clients $CLIENTS --client-base $CLIENT_NET \
		--xleave -r $OVERLOAD -d 3 "$VETH_SRV4" 2>/dev/null)
	OV_RATE=$(jget "$out" valid_rate)
}

# Two overloads each way, alternating; the better of each (the machine is shared).
rate_off=0
rate_on=0
for round in 1 2; do
	if overload HOROD_TEST_TXSTAMP=off; then
		rate_off=$(awk -v a="$rate_off" -v b="${OV_RATE:-0}" 'BEGIN { print (b > a ? b : a) }')
		horod_stop
	else
		fail "horod without stamps did not start"
	fi
	overload HOROD_TEST_TXSTAMP= || {
		fail "horod with stamps did not start"
		continue
	}
	rate_on=$(awk -v a="$rate_on" -v b="${OV_RATE:-0}" 'BEGIN { print (b > a ? b : a) }')
	[ "$round" = 2 ] || {
		horod_stop
		continue
	}
	drained=0
	for _ in $(seq $QUEUE_DRAIN); do
		if ! ip netns exec "$SRV" ss -uamn "sport = :123" | grep -q 'skmem:(r[1-9]'; then
			drained=1
			break
		fi
		sleep 0.1
	done
	check "after the overload every socket's receive queue is empty (no stamp left unread)" \
		[ "$drained" = 1 ]
	[ "$drained" = 1 ] || ip netns exec "$SRV" ss -uamn "sport = :123" | sed 's/^/    | /'
	xl_q "$VETH_SRV4" xleave
	check "horod answers at once after the overload (chronyd offset ${CQ_OFF:-none} s)" \
		abs_below "${CQ_OFF:-x}" 0.001
	horod_counters
	replies=$(($(counter basic) + $(counter interleaved)))
	# At overload the receive buffer is full of requests and the kernel
	# refuses some stamps (their replies' successors carry the time read
	# before the send); at least half must have come back and been read.
	check "most replies' stamps read back under overload ($(counter tx_stamps) of $replies)" \
		awk -v s="$(counter tx_stamps)" -v r="$replies" 'BEGIN { exit !(r > 0 && s >= 0.5 * r) }'
	horod_stop
done
check "answered under overload with stamps ${rate_on}/s, without ${rate_off}/s (>= $RATE_KEEP of it, the better of two runs each)" \
	awk -v a="$rate_on" -v b="$rate_off" -v k=$RATE_KEEP 'BEGIN { exit !(b > 0 && a >= k * b) }'

finish
