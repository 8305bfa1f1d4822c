#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# `guard serve on`: the XDP guard answers plain client requests itself.
# horod serves `local stratum 3` behind the guard (native on the veth, the
# client's end with a pass program so XDP_TX frames arrive, and without
# checksum offload so its frames carry complete checksums; generic on lo).
# Real clients must accept the answers — ntpdig over IPv4 and IPv6,
# chronyd -Q, horobench checking every reply and its offset from kernel
# timestamps — and horod must count them: reply_server and xdp by the
# number sent, the workers dequeuing none (no kernel timestamp taken).
# Requests whose checksum the sender left to be completed (loopback, the
# veth with offload on) go to the workers, answered, never dropped.
# What the guard leaves to the workers: mode 1, a request with a MAC. Then
# the production setting: an upstream chronyd, discipline on, the kernel
# clock's changes made no-ops (tests/tools/clock-frozen): XDP answers real
# clients. And where the served time is not the bare system clock the
# guard leaves every request to the workers: `discipline off` (horod
# serves its own correction), and `driver sim` (says so at start, and
# with `guard stamp on` attaches no egress program and says why).
# The NIC's receive stamp in XDP: hs0 has `hwtimestamp`, which a veth
# refuses (no PHC), so the test hook HOROD_TEST_GUARD_BOUND=hs0 asks for
# the device-bound program anyway: it loads and attaches (veth has the
# XDP RX metadata ops, and gives a zero stamp), and every answer takes the
# kernel's receive time (reply_server_xdp, reply_server_xdp_hwrx 0). No
# PHC exists on this machine: only that fallback can be exercised. The
# production section runs the ordinary program on hs0 (no test hook).

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd ntpdig
need_chronyd
HOROCTL=$HOROD_BUILD/horoctl
HB=$HOROD_BUILD/horobench
GUARD_TEST=$HOROD_BUILD/guard-test
for b in "$HOROCTL" "$HB" "$GUARD_TEST"; do
	[ -x "$b" ] || die "no $b (run make all)"
done

SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"
MAX_OFFSET=0.001 # seconds: one clock on both sides, only timestamp error shows
HB_P99_MAX=50    # µs: p99 |offset| horobench may see (the VM stalls now and then)

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
# The client sends complete UDP checksums, as a NIC delivers them: with
# veth's checksum offload on, the server end sees a sender's partial one,
# which the guard does not verify and leaves to the workers (checked below).
ip netns exec "$CLI" ethtool -K hc0 tx off >/dev/null || die "cannot turn checksum offload off on hc0"

ntpdig_check()
{
	local ns=$1 addr=$2 want=$3 out st off
	for _ in 1 2; do
		out=$(timeout 15 ip netns exec "$ns" ntpdig -j -t 2 -p 4 -g 10 "$addr" 2>&1 |
			grep '^{' | head -n1)
		st=$(json_get "$out" stratum)
		off=$(json_get "$out" offset)
		if [ "$st" = "$want" ] && abs_below "$off" "$MAX_OFFSET"; then
			pass "ntpdig via $addr: stratum $st, offset $off s"
			return
		fi
	done
	fail "ntpdig via $addr: want stratum $want, |offset| < $MAX_OFFSET; got: ${out:-no answer}"
}

chronyd_check()
{
	local addr=$1 log=$T_DIR/chronyd-q.log off rc
	chronyd_q "$CLI" "$addr" "$T_DIR/chronyd-q.pid" >"$log" 2>&1
	rc=$?
	off=$(sed -n 's/.*System clock wrong by \([-+0-9.e]*\) seconds.*/\1/p' "$log" | tail -n1)
	if [ "$rc" = 0 ] && abs_below "$off" "$MAX_OFFSET"; then
		pass "chronyd -Q via $addr: offset $off s"
	else
		fail "chronyd -Q via $addr: exit $rc, offset '${off:-none}'"
		tail -n 5 "$log" | sed 's/^/    | /'
	fi
}

# horobench_check ADDR N: N requests in a closed loop, every reply valid, offsets small.
horobench_check()
{
	local addr=$1 n=$2 j
	j=$(timeout 20 ip netns exec "$CLI" "$HB" -j -w 4 -d 1 "$addr" 2>"$T_DIR/hb.err")
	HB_SENT=$(json_get "$j" sent)
	check "horobench via $addr: every reply valid, p99 |offset| < $HB_P99_MAX µs" \
		python3 -c 'import json, sys
d = json.loads(sys.argv[1]); o = d["offset_us"]
print("    | sent %d valid %d invalid %d lost %d, offset p50 %s p99 |%s| us" % (d["sent"], d["valid"], d["invalid"], d["lost"], o.get("p50"), o.get("abs_p99")))
sys.exit(not (d["valid"] > 100 and d["invalid"] == 0 and d["valid"] + d["lost"] == d["sent"] and d["lost"] <= d["sent"] // 100 and o.get("abs_p99", 1e9) < float(sys.argv[2])))' "$j" "$HB_P99_MAX"
}

for io in $HOROD_IO_MODES; do
	T_CTX="serve io=$io"
	conf=$T_DIR/serve-$io.conf
	write_conf "$conf" <<CONF
listen 127.0.0.1
listen $VETH_SRV4
listen $VETH_SRV6
local stratum 3
workers 2
io $io
control $T_DIR/ctl.sock
guard interface hs0 mode native
guard interface lo mode skb
guard serve on
guard pin $PIN
hwtimestamp hs0
CONF
	export HOROD_TEST_GUARD_BOUND=hs0
	if ! horod_start "$SRV" -f "$conf"; then
		unset HOROD_TEST_GUARD_BOUND
		fail "horod did not start"
		continue
	fi
	unset HOROD_TEST_GUARD_BOUND
	check "horod says the guard answers client requests, device-bound on hs0" \
		grep -q 'guard: XDP on hs0 (native, device-bound), lo (generic); .*answers client requests' "$HOROD_LOG"
	check "hwtimestamp refuses the veth (no PHC), said once" \
		test "$(grep -c 'hwtimestamp hs0: the NIC has no hardware receive timestamps' "$HOROD_LOG")" = 1
	check "the device-bound program on hs0 is said once" \
		test "$(grep -c 'guard: hs0: device-bound program' "$HOROD_LOG")" = 1
	counters_mark
	ntpdig_check "$CLI" "$VETH_SRV4" 3
	ntpdig_check "$CLI" "$VETH_SRV6" 3
	chronyd_check "$VETH_SRV4"
	horod_counters
	n=$(($(counter reply_server) - $(counter reply_server "$_BASE")))
	check "the real clients were answered ($n requests)" [ "$n" -ge 8 ]
	expect_deltas "every answer from XDP, none through a worker" \
		"reply_server=$n received=$n xdp=$n ts_kernel=0"
	# Loopback (generic mode): the kernel leaves UDP checksums to be
	# completed (CHECKSUM_PARTIAL, fixed on lo), so the guard cannot verify
	# them and hands every request to the workers: answered, never dropped.
	ntpdig_check "$SRV" 127.0.0.1 3
	horod_counters
	m=$(($(counter reply_server) - $(counter reply_server "$_BASE")))
	check "loopback's requests were answered ($m)" [ "$m" -ge 1 ]
	expect_deltas "loopback: partial checksums, every answer through a worker" \
		"reply_server=$m received=$m ts_kernel=$m xdp=0"
	ip netns exec "$CLI" ethtool -K hc0 tx on >/dev/null
	ntpdig_check "$CLI" "$VETH_SRV4" 3
	ip netns exec "$CLI" ethtool -K hc0 tx off >/dev/null
	horod_counters
	m=$(($(counter reply_server) - $(counter reply_server "$_BASE")))
	expect_deltas "the veth with checksum offload on: through a worker, not dropped" \
		"reply_server=$m received=$m ts_kernel=$m xdp=0"
	counters_mark
	horobench_check "$VETH_SRV4"
	# A request that meets the clock thread writing the state (once a
	# second) goes to a worker: a handful at most.
	horod_counters
	d_rs=$(($(counter reply_server) - $(counter reply_server "$_BASE")))
	d_x=$(($(counter xdp) - $(counter xdp "$_BASE")))
	d_k=$(($(counter ts_kernel) - $(counter ts_kernel "$_BASE")))
	check "horobench's $HB_SENT requests: reply_server +$d_rs, by XDP +$d_x, by a worker +$d_k" \
		[ "$d_rs" = "$HB_SENT" ] && [ $((d_x + d_k)) = "$HB_SENT" ] && [ "$d_k" -le 10 ]
	_BASE=$HOROD_COUNTERS
	json=$(ip netns exec "$SRV" "$HOROCTL" guard --pin "$PIN" --json --once)
	check "horoctl guard: hs0 native and device-bound, lo generic and not" python3 -c 'import json, sys
m = {i["name"]: (i["mode"], i["device_bound"]) for i in json.loads(sys.argv[1])["interfaces"]}
print("    | %s" % m)
sys.exit(m != {"hs0": ("native", True), "lo": ("generic", False)})' "$json"
	check "horoctl guard counts them as reply_server_xdp (the kernel's receive time), none as reply_server_xdp_hwrx" python3 -c 'import json, sys
c = json.loads(sys.argv[1])["counters"]
print("    | reply_server_xdp %d, reply_server_xdp_hwrx %d" % (c["reply_server_xdp"]["packets"], c["reply_server_xdp_hwrx"]["packets"]))
sys.exit(c["reply_server_xdp"]["packets"] != int(sys.argv[2]) or c["reply_server_xdp_hwrx"]["packets"] != 0)' "$json" "$((n + d_x))"

	# What the workers still answer.
	check_craft "mode 1 is answered by a worker" "$CLI" "$VETH_SRV4" 123 --mode 1 \
		--expect answered=true --expect mode=2 --expect stratum=3
	expect_deltas "mode 1 through a worker" "reply_symmetric=1 received=1 ts_kernel=1 xdp=0"
	check_craft "a request with an extension field is answered by a worker" "$CLI" \
		"$VETH_SRV4" 123 --len 80 --expect answered=true --expect stratum=3
	expect_deltas "the extension field request through a worker" \
		"reply_server=1 received=1 ts_kernel=1 xdp=0"
	check_craft "a request with a MAC (no keyfile: an unknown key) reaches a worker, which drops it" \
		"$CLI" "$VETH_SRV4" 123 --len 68 --pad zero --timeout 0.3 --expect answered=false
	expect_deltas "the MAC request through a worker" \
		"drop_auth=1 mac_unknown_key=1 received=1 ts_kernel=1 xdp=0"
	horod_stop
	check "horod stops cleanly (exit $HOROD_RC)" [ "$HOROD_RC" = 0 ]
	check "the guard is gone from hs0 after horod stopped" \
		not bash -c 'ip -n "$1" link show hs0 | grep -q "prog/xdp"' _ "$SRV"
done

# The served time is horod's own correction of the system clock: no answer from XDP.
T_CTX="discipline off"
chronyd_upstream "$SRV" 127.0.0.2 1 || die "no upstream"
conf=$T_DIR/corrected.conf
write_conf "$conf" <<CONF
listen $VETH_SRV4
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
discipline off
control $T_DIR/ctl.sock
guard interface hs0 mode native
guard interface lo mode skb
guard serve on
guard pin $PIN
CONF
if horod_start "$SRV" -f "$conf"; then
	for _ in $(seq 100); do
		"$HOROCTL" -s "$T_DIR/ctl.sock" status >/dev/null 2>&1 && break
		sleep 0.1
	done
	check "horod synchronises to the upstream" "$HOROCTL" -s "$T_DIR/ctl.sock" status
	check "the guard runs and would answer" grep -q 'answers client requests' "$HOROD_LOG"
	counters_mark
	check_craft "a client request is answered" "$CLI" "$VETH_SRV4" 123 --count 3 \
		--expect answered=true --expect stratum=2
	expect_deltas "a corrected clock: every answer through a worker" \
		"reply_server=3 received=3 ts_kernel=3 xdp=0"
	horod_stop
else
	fail "horod did not start with an upstream"
fi

# The production setting: an upstream, discipline on (the kernel driver on
# CLOCK_REALTIME, CAP_SYS_TIME kept), horod sure it disciplines the clock;
# tests/tools/clock-frozen turns every change it asks for into a no-op, so
# that the machine's clock is left as it is (checked), and the served time
# is the system clock as it is: XDP answers, and real clients accept it.
T_CTX="production: upstream, discipline on"
FROZEN=$HOROD_BUILD/tools/clock-frozen
[ -x "$FROZEN" ] || die "no $FROZEN (run make all)"
if [ "$("$FROZEN" "$FROZEN" --show | sed 's/.*tick=\([0-9]*\).*/\1/')" != 0 ]; then
	fail "clock-frozen should keep the clock calls from the kernel (tick=0 under it)"
else
	clock_before=$("$FROZEN" --show | cut -d' ' -f1-2)
	wrap=$T_DIR/horod-frozen
	printf '#!/bin/sh\nexec %s %s "$@"\n' "$FROZEN" "$HOROD" >"$wrap"
	chmod +x "$wrap"
	conf=$T_DIR/production.conf
	write_conf "$conf" <<CONF
listen $VETH_SRV4
listen $VETH_SRV6
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
control $T_DIR/ctl.sock
guard interface hs0 mode native
guard serve on
guard pin $PIN
CONF
	REAL_HOROD=$HOROD
	HOROD=$wrap
	if horod_start "$SRV" -f "$conf"; then
		check "horod disciplines the kernel clock (as it believes)" \
			grep -q "driver kernel, discipline on" <<<"$(horod_ready_line)"
		for _ in $(seq 100); do
			"$HOROCTL" -s "$T_DIR/ctl.sock" status >/dev/null 2>&1 && break
			sleep 0.1
		done
		check "horod synchronises to the upstream" "$HOROCTL" -s "$T_DIR/ctl.sock" status
		check "the guard answers client requests, the ordinary program on hs0" \
			grep -q 'guard: XDP on hs0 (native); .*answers client requests' "$HOROD_LOG"
		sleep 1 # a publication of the synchronized state
		counters_mark
		ntpdig_check "$CLI" "$VETH_SRV4" 2
		ntpdig_check "$CLI" "$VETH_SRV6" 2
		chronyd_check "$VETH_SRV4"
		horod_counters
		n=$(($(counter reply_server) - $(counter reply_server "$_BASE")))
		check "the real clients were answered ($n requests)" [ "$n" -ge 8 ]
		expect_deltas "synchronized to an upstream, discipline on: every answer from XDP" \
			"reply_server=$n received=$n xdp=$n ts_kernel=0"
		horod_stop
	else
		fail "horod did not start with an upstream and discipline on"
	fi
	HOROD=$REAL_HOROD
	check "the machine's clock was not changed ($clock_before)" \
		[ "$("$FROZEN" --show | cut -d' ' -f1-2)" = "$clock_before" ]
fi

# driver sim: the served clock is not CLOCK_REALTIME; said at start.
T_CTX="driver sim"
conf=$T_DIR/sim.conf
write_conf "$conf" <<CONF
listen $VETH_SRV4
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
driver sim offset 0.001 seed 5
guard interface hs0 mode native
guard serve on
guard stamp on
guard pin $PIN
CONF
if horod_start "$SRV" -f "$conf"; then
	check "horod says the guard does not answer with driver sim" \
		grep -q 'does not answer (the served clock is not CLOCK_REALTIME)' "$HOROD_LOG"
	check "horod says it writes no transmit time at egress with driver sim" \
		grep -q 'no egress stamps (the served clock is not CLOCK_REALTIME)' "$HOROD_LOG"
	eg=$(ip netns exec "$SRV" "$HOROD_BUILD/tools/tcx-egress" hs0 2>&1)
	check "driver sim: no egress program on hs0 (${eg:-none})" [ -z "$eg" ]
	counters_mark
	check_craft "a client request is answered" "$CLI" "$VETH_SRV4" 123 --expect answered=true
	expect_deltas "driver sim: through a worker" "reply_server=1 received=1 ts_kernel=1 xdp=0"
	horod_stop
else
	fail "horod did not start with driver sim"
fi

finish
