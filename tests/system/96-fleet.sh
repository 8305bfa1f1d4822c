#!/bin/bash
# shellcheck disable=SC2034 # T_CTX is read by lib.sh
#
# An anycast fleet, simulated with real parts: three horod replicas, each
# in a namespace of its own with BIRD 2 (Debian's bird2, unpacked into the
# third-party cache, run by hand: never a service of this machine)
# announcing the anycast address 203.0.113.123 over eBGP with BFD to a
# router namespace whose BIRD installs the three routes as one ECMP
# route (layer 4 hash); a client namespace behind the router queries the
# anycast address from 16 flows (tests/tools/fleetprobe.py). The replicas
# follow one upstream (a horod serving its clock at stratum 1 on the
# router) with the sim driver. On each replica, dist/fleet/horod-anycast-
# check (the health check operators run) enables BIRD's anycast route
# only while horod is synchronized and answering. The configurations are
# dist/fleet's examples with each replica's addresses.
#
# While the clients query without a pause:
#   1. replica 1 is killed (horod, BIRD, health check: SIGKILL);
#   2. replica 2 loses its upstream (a blackhole route): after its 3 s
#      holdover it serves LI 3, and its health check withdraws it;
#   3. replica 2's upstream comes back: it resynchronizes and is
#      announced again;
#   4. replica 3 freezes (SIGSTOP of everything in it: a host that dies
#      without closing anything), which only BFD notices; then it thaws;
#   5. replica 2's horod alone is killed (BIRD runs on): its health check
#      withdraws it; a new horod starts, and once synchronized it is
#      announced again.
# Goals checked: after a replica dies, every client gets valid replies
# again within 5 s; no client receives LI 3 from the unsynchronized
# replica for more than 5 s; no invalid reply ever; each replica serves
# while announced (its own metrics). The times measured are printed.
# Skips loudly when bird2 cannot be had or run here.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd sysctl
BIRD=$(third_party bird) ||
	skip "no bird: make test (scripts/install-deps test) unpacks Debian's bird2 package into $("$THIRD_PARTY" cache)"
BIRDCL=$(third_party birdcl) || skip "no birdcl in the unpacked bird2 package"
"$BIRD" --version >/dev/null 2>&1 ||
	skip "bird does not run here ($("$BIRD" --version 2>&1 | head -n1)): its libraries are missing (make test installs them)"
HOROCTL=$HOROD_BUILD/horoctl
CHECK=$REPO/dist/fleet/horod-anycast-check
PROBE=$TOOLS/fleetprobe.py

ANYCAST=203.0.113.123 # the fleet's address (TEST-NET-3)
UPSTREAM=203.0.113.1  # the replicas' upstream, on the router
CLIENT_NET=198.51.100.64/29
R_CLIENT=198.51.100.65 # the router's address towards the clients
CLIENT=198.51.100.66
CONVERGE_GOAL=5   # s: a replica died, every client served again within this
LI3_GOAL=5        # s: longest run of LI 3 replies any client gets
ROUTES_LIMIT=30   # s: BGP sessions up and all routes in the router's kernel
SYNC_LIMIT=30     # s: the replicas synchronize to their upstream
WITHDRAW_LIMIT=15 # s: a failure to its route gone from the router
ANNOUNCE_LIMIT=30 # s: a recovery to its route back
SETTLE=3          # s: traffic measured after each convergence
HC_INTERVAL=0.5   # s: the health check's period in this test (default 1)

# Replica K's link to the router: 198.51.100.8(K-1)/29, router .1, replica .2.
r_addr() { echo "198.51.100.$((8 * ($1 - 1) + 1))"; }
a_addr() { echo "198.51.100.$((8 * ($1 - 1) + 2))"; }

R=$(ns_name r)
C=$(ns_name c)
ns_create "$R"
ns_create "$C"
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$R" sysctl -qw net.ipv4.fib_multipath_hash_policy=1
ip -n "$R" addr add "$UPSTREAM/32" dev lo

# The client namespace behind the router.
ip -n "$R" link add rc0 type veth peer name c0 netns "$C"
ip -n "$R" addr add "$R_CLIENT/29" dev rc0
ip -n "$C" addr add "$CLIENT/29" dev c0
ip -n "$R" link set rc0 up
ip -n "$C" link set c0 up
ip -n "$C" route add default via "$R_CLIENT"

# ---- the upstream: a horod on the router serving its clock at stratum 1 ----

write_conf "$T_DIR/up.conf" <<CONF
listen $UPSTREAM
local stratum 1
control $T_DIR/up.sock
CONF
horod_start "$R" -f "$T_DIR/up.conf" || die "the upstream horod did not start"

# ---- the replicas ---------------------------------------------------------------

declare -A NS_OF HOROD_OF BIRD_OF HC_OF
for k in 1 2 3; do
	A=$(ns_name "a$k")
	NS_OF[$k]=$A
	ns_create "$A"
	ip -n "$R" link add "ra$k" type veth peer name up0 netns "$A"
	ip -n "$R" addr add "$(r_addr $k)/29" dev "ra$k"
	ip -n "$A" addr add "$(a_addr $k)/29" dev up0
	ip -n "$R" link set "ra$k" up
	ip -n "$A" link set up0 up
	ip -n "$A" route add default via "$(r_addr $k)"
	ip -n "$A" addr add "$ANYCAST/32" dev lo
	d=$T_DIR/a$k
	mkdir -p "$d"
	write_conf "$d/horod.conf" <<CONF
listen $ANYCAST
server $UPSTREAM iburst minpoll 0 maxpoll 0
driver sim offset 0.001 seed $k
holdover 3
control $d/horod.sock
metrics listen 127.0.0.1:9123
CONF
	horod_start "$A" -f "$d/horod.conf" || die "replica $k's horod did not start"
	HOROD_OF[$k]=$HOROD_PID
	# BIRD: the example configuration with this replica's addresses.
	sed -e "s/router id 198\.51\.100\.2;/router id $(a_addr $k);/" \
		-e "s/local 198\.51\.100\.2 as/local $(a_addr $k) as/" \
		-e "s/neighbor 198\.51\.100\.1 as/neighbor $(r_addr $k) as/" \
		"$REPO/dist/fleet/bird-replica.conf" >"$d/bird.conf"
	ip netns exec "$A" "$BIRD" -f -c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid" \
		>"$d/bird.log" 2>&1 &
	BIRD_OF[$k]=$!
	_PIDS+=("$!")
done
cp "$REPO/dist/fleet/bird-router.conf" "$T_DIR/router.conf"
ip netns exec "$R" "$BIRD" -f -c "$T_DIR/router.conf" -s "$T_DIR/router.ctl" \
	-P "$T_DIR/router.pid" >"$T_DIR/router.log" 2>&1 &
_PIDS+=("$!")
for k in 1 2 3; do
	d=$T_DIR/a$k
	ip netns exec "${NS_OF[$k]}" "$CHECK" -s "$d/horod.sock" -b "$d/bird.ctl" \
		-i "$HC_INTERVAL" -H "$HOROCTL" -B "$BIRDCL" >"$d/check.log" 2>&1 &
	HC_OF[$k]=$!
	_PIDS+=("$!")
done

# The router's ECMP route to the anycast address: its next hops, one a line.
nexthops()
{
	ip -n "$R" route show "$ANYCAST" 2>/dev/null | grep -o 'via [0-9.]*' | awk '{ print $2 }' | sort
}

# Wait (bounded by LIMIT s) until the router's next hops are exactly WANT
# (replica numbers, e.g. "1 3"); the seconds it took since T0 in WAITED.
wait_nexthops()
{
	local want=$1 limit=$2 t0=$3 exp k
	exp=$(for k in $want; do a_addr "$k"; done | sort)
	WAITED=""
	while awk -v t0="$t0" -v l="$limit" -v now="$(date +%s.%N)" 'BEGIN { exit !(now - t0 < l) }'; do
		if [ "$(nexthops)" = "$exp" ]; then
			WAITED=$(awk -v t0="$t0" -v now="$(date +%s.%N)" 'BEGIN { printf "%.2f", now - t0 }')
			return 0
		fi
		sleep 0.05
	done
	return 1
}

for k in 1 2 3; do
	synced=0
	for _ in $(seq $((SYNC_LIMIT * 4))); do
		ip netns exec "${NS_OF[$k]}" "$HOROCTL" -s "$T_DIR/a$k/horod.sock" status >/dev/null 2>&1 &&
			synced=1 && break
		sleep 0.25
	done
	check "replica $k should synchronize to the upstream within $SYNC_LIMIT s" [ "$synced" = 1 ]
done
if wait_nexthops "1 2 3" "$ROUTES_LIMIT" "$(date +%s.%N)"; then
	pass "the router should install an ECMP route over the three replicas"
else
	fail "the router should install an ECMP route over the three replicas (next hops: $(nexthops | tr '\n' ' '))"
	ip -n "$R" route show "$ANYCAST" | sed 's/^/    | /'
	ip netns exec "$R" "$BIRDCL" -s "$T_DIR/router.ctl" show protocols | sed 's/^/    | /'
	for k in 1 2 3; do
		tail -n 5 "$T_DIR/a$k/check.log" "$T_DIR/a$k/bird.log" | sed "s/^/    | a$k /"
	done
	die "no fleet to test"
fi
ip -n "$R" route show "$ANYCAST" | sed 's/^/    | /'

# ---- the clients ---------------------------------------------------------------

EVENTS=$T_DIR/events.csv
ip netns exec "$C" python3 "$PROBE" probe "$ANYCAST" --flows 16 --rate 10 --duration 300 \
	--timeout 0.5 --out "$EVENTS" >"$T_DIR/probe.json" 2>"$T_DIR/probe.err" &
PROBE_PID=$!
_PIDS+=("$PROBE_PID")
now() { date +%s.%N; }
# The analysis of the requests sent between T0 and T1 (JSON).
analyze()
{
	python3 "$PROBE" analyze "$EVENTS" --from "$1" ${2:+--to "$2"}
}
# True when the phase ANALYSIS had requests and its recovery time R is a
# number of seconds no greater than GOAL (null: a flow never recovered).
within()
{
	[ "$(json_get "$3" requests)" -gt 0 ] 2>/dev/null &&
		awk -v r="$1" -v g="$2" 'BEGIN { exit !(r ~ /^[0-9.eE+-]+$/ && r <= g) }'
}
t_start=$(now)
sleep "$SETTLE"

# Every replica serves while announced.
served_by()
{
	ip netns exec "${NS_OF[$1]}" "$HOROCTL" -s "$T_DIR/a$1/horod.sock" serverstats --json 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["answered"])' 2>/dev/null
}
for k in 1 2 3; do
	n=$(served_by "$k")
	check "replica $k should answer clients through the anycast address (answered ${n:-?})" \
		[ "${n:-0}" -gt 0 ]
done

# ---- 1. replica 1 dies ----------------------------------------------------------

t_kill=$(now)
kill -KILL "${HOROD_OF[1]}" "${BIRD_OF[1]}" "${HC_OF[1]}" 2>/dev/null
if wait_nexthops "2 3" "$WITHDRAW_LIMIT" "$t_kill"; then
	echo "    replica 1 killed: its route gone from the router after $WAITED s"
else
	fail "replica 1's route should leave the router within $WITHDRAW_LIMIT s of its death"
fi
sleep "$SETTLE"
t_unsync=$(now)
a1=$(analyze "$t_kill" "$t_unsync")
echo "    replica 1 killed: $a1"
rec=$(json_get "$a1" recovered_max)
check "after replica 1 died, every client should get valid replies again within $CONVERGE_GOAL s (longest: ${rec} s, $(json_get "$a1" flows_hit) flows hit)" \
	within "$rec" "$CONVERGE_GOAL" "$a1"

# ---- 2. replica 2 loses its upstream ----------------------------------------------

ip -n "${NS_OF[2]}" route add blackhole "$UPSTREAM/32"
if wait_nexthops "3" $((WITHDRAW_LIMIT + 5)) "$t_unsync"; then
	echo "    replica 2 cut from its upstream: withdrawn after $WAITED s (holdover 3 s)"
	pass "the health check should withdraw the unsynchronized replica 2"
else
	fail "the health check should withdraw replica 2 once unsynchronized (next hops: $(nexthops | tr '\n' ' '))"
	sed 's/^/    | /' "$T_DIR/a2/check.log"
fi
grep withdraw "$T_DIR/a2/check.log" | tail -n1 | sed 's/^/    a2 health check: /'
sleep "$SETTLE"
t_recover=$(now)
a2=$(analyze "$t_unsync" "$t_recover")
echo "    replica 2 unsynchronized: $a2"
run=$(json_get "$a2" li3_longest_run)
check "no client should receive LI 3 from the unsynchronized replica for more than $LI3_GOAL s (longest run: ${run} s)" \
	awk -v r="$run" -v g="$LI3_GOAL" 'BEGIN { exit !(r != "" && r <= g) }'

# ---- 3. replica 2's upstream comes back --------------------------------------------

ip -n "${NS_OF[2]}" route del blackhole "$UPSTREAM/32"
if wait_nexthops "2 3" "$ANNOUNCE_LIMIT" "$t_recover"; then
	echo "    replica 2's upstream back: announced again after $WAITED s"
	pass "the health check should announce replica 2 again once synchronized"
else
	fail "the health check should announce replica 2 again within $ANNOUNCE_LIMIT s (next hops: $(nexthops | tr '\n' ' '))"
	sed 's/^/    | /' "$T_DIR/a2/check.log"
fi
before=$(served_by 2)
sleep "$SETTLE"
after=$(served_by 2)
check "replica 2 should serve clients again once announced (answered $before, then $after)" \
	[ "${after:-0}" -gt "${before:-0}" ]
t_freeze=$(now)
a3=$(analyze "$t_recover" "$t_freeze")
echo "    replica 2 back: $a3"

# ---- 4. replica 3 freezes (dies silently), then thaws ------------------------------

frozen=$(ip netns pids "${NS_OF[3]}")
kill -STOP $frozen 2>/dev/null
if wait_nexthops "2" "$WITHDRAW_LIMIT" "$t_freeze"; then
	echo "    replica 3 frozen: its route gone from the router after $WAITED s (BFD)"
else
	fail "replica 3's route should leave the router within $WITHDRAW_LIMIT s of its freezing"
fi
sleep "$SETTLE"
t_thaw=$(now)
a4=$(analyze "$t_freeze" "$t_thaw")
echo "    replica 3 frozen: $a4"
rec=$(json_get "$a4" recovered_max)
check "after replica 3 froze, every client should get valid replies again within $CONVERGE_GOAL s (longest: ${rec} s, $(json_get "$a4" flows_hit) flows hit)" \
	within "$rec" "$CONVERGE_GOAL" "$a4"
kill -CONT $frozen 2>/dev/null
if wait_nexthops "2 3" "$ANNOUNCE_LIMIT" "$t_thaw"; then
	echo "    replica 3 thawed: announced again after $WAITED s"
	pass "replica 3 should be announced again once it runs again"
else
	fail "replica 3 should be announced again within $ANNOUNCE_LIMIT s of thawing (next hops: $(nexthops | tr '\n' ' '))"
fi
sleep "$SETTLE"

# ---- 5. replica 2's horod dies alone, then starts again --------------------------

t_hkill=$(now)
kill -KILL "${HOROD_OF[2]}" 2>/dev/null
if wait_nexthops "3" "$WITHDRAW_LIMIT" "$t_hkill"; then
	echo "    replica 2's horod killed: withdrawn by its health check after $WAITED s"
	pass "the health check should withdraw replica 2 once its horod does not answer"
else
	fail "the health check should withdraw replica 2 within $WITHDRAW_LIMIT s of its horod's death (next hops: $(nexthops | tr '\n' ' '))"
	sed 's/^/    | /' "$T_DIR/a2/check.log"
fi
grep withdraw "$T_DIR/a2/check.log" | tail -n1 | sed 's/^/    a2 health check: /'
sleep "$SETTLE"
t_hstart=$(now)
a5=$(analyze "$t_hkill" "$t_hstart")
echo "    replica 2's horod killed: $a5"
rec=$(json_get "$a5" recovered_max)
check "after replica 2's horod died, every client should get valid replies again within $CONVERGE_GOAL s (longest: ${rec} s, $(json_get "$a5" flows_hit) flows hit)" \
	within "$rec" "$CONVERGE_GOAL" "$a5"
horod_start "${NS_OF[2]}" -f "$T_DIR/a2/horod.conf" || fail "replica 2's horod should start again"
if wait_nexthops "2 3" "$ANNOUNCE_LIMIT" "$t_hstart"; then
	echo "    replica 2's horod started again: announced after $WAITED s"
	pass "the health check should announce replica 2 again once its new horod is synchronized"
else
	fail "the health check should announce replica 2 again within $ANNOUNCE_LIMIT s of its horod's start (next hops: $(nexthops | tr '\n' ' '))"
fi
sleep "$SETTLE"

# ---- the whole run ---------------------------------------------------------------

kill -TERM "$PROBE_PID"
wait "$PROBE_PID"
echo "    probe: $(cat "$T_DIR/probe.json")"
all=$(analyze "$t_start")
echo "    whole run: $all"
inv=$(python3 -c 'import json, sys
c = json.loads(sys.argv[1])["counts"]
print(sum(v for k, v in c.items() if k.startswith("invalid")))' "$all")
check "no client should ever receive an invalid reply (got ${inv:-?})" [ "${inv:-1}" = 0 ]
ok=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["counts"].get("ok", 0))' "$all")
check "the clients should have been answered throughout (ok replies: $ok)" [ "${ok:-0}" -gt 1000 ]

finish
