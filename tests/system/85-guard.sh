#!/bin/bash
# shellcheck disable=SC2034,SC2086 # T_CTX is read by lib.sh; option lists split on purpose
#
# horod behind the XDP guard: native mode on a veth between two
# namespaces, generic (skb) mode on the server namespace's loopback. A
# mixed stream goes through each — legit clients, every malformed kind,
# denied sources (IPv4 and IPv6) and one flooding source — and then:
# every guard counter (read with `horoctl guard --json`) equals what was
# injected, exactly; every legit request is answered; the flooder gets
# its burst, the leaked 1 in 4 and one RATE kiss-o'-death, no more; each
# denied source one DENY kiss-o'-death; the workers see only what the
# guard passed. The maps are pinned in a bpffs of the test's own and
# removed when horod stops. Then the fallback: with a guard interface
# that does not exist the guard cannot attach, horod says so in one log
# line, and the same stream gets the same answers from the workers, whose
# counters say the same (once per io mode).

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
HOROCTL=$HOROD_BUILD/horoctl
GUARD_TEST=$HOROD_BUILD/guard-test
[ -x "$HOROCTL" ] || die "no horoctl binary at $HOROCTL (run make all)"
[ -x "$GUARD_TEST" ] || die "no guard-test binary at $GUARD_TEST (run make all)"

SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

# Client addresses on the veth: three legit, one flooder, one denied.
LEGIT4="192.0.2.10 192.0.2.11 192.0.2.12"
FLOOD4=192.0.2.66
DENY4=192.0.2.99
BAD4=192.0.2.13 # sends the malformed requests
for a in $LEGIT4 $FLOOD4 $DENY4 $BAD4; do
	ip -n "$CLI" addr add "$a/24" dev hc0 || die "cannot add $a"
done
LEGIT6=$VETH_CLI6
DENY6=$VETH_CLI6B
# On the server's loopback (all of 127/8 is local).
LO_LEGIT="127.0.0.1 127.0.0.2 127.0.0.3"
LO_FLOOD=127.0.0.66
LO_DENY=127.0.0.99
LO_BAD=127.0.0.4

# Our own bpffs, mounted before horod starts so the pins are visible here
# too (`ip netns exec` runs horod in a mount namespace of its own).
BPFFS=$T_DIR/bpffs
PIN=$BPFFS/horod
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || skip "cannot mount a bpffs (no BPF filesystem here)"
trap 'umount -l "$BPFFS" 2>/dev/null; lib_cleanup' EXIT

# The veth peer needs an XDP program of its own to receive XDP_TX frames.
out=$(ip netns exec "$CLI" "$GUARD_TEST" xdp-pass hc0 2>&1)
case $? in
0) ;;
77) skip "the kernel refused to load BPF programs" ;;
*) die "cannot attach the pass program to hc0: $out" ;;
esac

P=123
FLOOD_N=100 # requests from each flooder
BURST=8     # ratelimit burst
LEAK=4      # 1 in 2^2 over-rate requests leaks
# What the flooder gets: the burst, the leaked, and one KoD before the spacing.
FLOOD_ANSWERED=$((BURST + (FLOOD_N - BURST) / LEAK))
FLOOD_DROPPED=$((FLOOD_N - FLOOD_ANSWERED - 1))

conf()
{
	local io=$1 guard_if=$2
	cat <<CONF
listen 127.0.0.1
listen $VETH_SRV4
listen $VETH_SRV6
local stratum 7
workers 2
io $io
ratelimit interval 6 burst $BURST leak 2 kod
denykod on
deny $DENY4
deny $DENY6
deny $LO_DENY
$guard_if
guard pin $PIN
control $T_DIR/ctl.sock
CONF
}

# stream NS DST LEGIT FLOOD DENY BAD [DST6 LEGIT6 DENY6]: the mixed stream.
stream()
{
	local ns=$1 dst=$2 legit=$3 flood=$4 deny=$5 bad=$6 dst6=${7:-} legit6=${8:-} deny6=${9:-}
	local src opts
	local none="--flood 2 --timeout 0.2 --expect answered=0 --expect kod=0"

	for src in $legit; do
		check_craft "legit $src -> $dst: 3 answered" "$ns" "$dst" $P --bind "$src" --count 3 \
			--expect answered=true --expect stratum=7 --expect org_matches=true
	done
	if [ -n "$dst6" ]; then
		check_craft "legit $legit6 -> $dst6: 3 answered" "$ns" "$dst6" $P --bind "$legit6" \
			--count 3 --expect answered=true --expect stratum=7
	fi
	while read -r opts; do
		check_craft "malformed ($opts) from $bad: no answer" "$ns" "$dst" $P --bind "$bad" \
			$opts $none
	done <<'KINDS'
--len 20
--len 50
--vn 0
--vn 5
--mode 0
--mode 2
--mode 4
--mode 5
--mode 7 --vn 2 --len 8
--len 64 --ef-len 32
--mode 6 --vn 2 --len 12
KINDS
	check_craft "denied $deny: one DENY KoD of 3" "$ns" "$dst" $P --bind "$deny" --flood 3 \
		--timeout 0.3 --expect answered=0 --expect kod_deny=1 --expect kod=1
	if [ -n "$dst6" ]; then
		check_craft "denied $deny6: one DENY KoD of 3" "$ns" "$dst6" $P --bind "$deny6" \
			--flood 3 --timeout 0.3 --expect answered=0 --expect kod_deny=1 --expect kod=1
	fi
	check_craft "flooder $flood: $FLOOD_ANSWERED of $FLOOD_N answered, one RATE KoD" "$ns" \
		"$dst" $P --bind "$flood" --flood $FLOOD_N --timeout 0.5 \
		--expect answered=$FLOOD_ANSWERED --expect kod_rate=1 --expect kod=1
}

# Both streams: veth (IPv4 and IPv6) from the client namespace, loopback in the server's.
both_streams()
{
	stream "$CLI" "$VETH_SRV4" "$LEGIT4" "$FLOOD4" "$DENY4" "$BAD4" \
		"$VETH_SRV6" "$LEGIT6" "$DENY6"
	stream "$SRV" 127.0.0.1 "$LO_LEGIT" "$LO_FLOOD" "$LO_DENY" "$LO_BAD"
}

# What both streams inject, by reason: veth (3 + 1 legit, 2 denied) + loopback
# (3 legit, 1 denied, mode 6 from loopback is control).
EXPECT="reply_server=$((3 * 3 + 3 + FLOOD_ANSWERED + 3 * 3 + FLOOD_ANSWERED))
	reply_kod_rate=2 drop_rate=$((2 * FLOOD_DROPPED)) reply_kod_deny=3 drop_denied=6
	drop_short=4 drop_length=4 drop_version=8 drop_mode_reserved=4 drop_mode_passive=4
	drop_mode_server=4 drop_mode_broadcast=4 drop_mode_private=4 drop_extension=4
	drop_mode_control=2 control=2"
TOTAL=$(((3 * 3 + 3 + FLOOD_N + 6 + 22) + (3 * 3 + FLOOD_N + 3 + 22)))

# guard_counters_ok: horoctl's counters equal EXPECT, every other reason 0.
guard_counters_ok()
{
	local json rc
	json=$(ip netns exec "$SRV" "$HOROCTL" guard --pin "$PIN" --json --once)
	rc=$?
	if [ "$rc" != 0 ]; then
		fail "horoctl guard --json exits 0 (got $rc)"
		return
	fi
	python3 - "$json" "$EXPECT" "${REASONS[*]}" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
want = dict(kv.split("=") for kv in sys.argv[2].split())
bad = []
for r in sys.argv[3].split():
    have = j["counters"][r]["packets"]
    if have != int(want.get(r, 0)):
        bad.append("%s=%d (want %s)" % (r, have, want.get(r, 0)))
modes = {i["name"]: i["mode"] for i in j["interfaces"]}
if modes != {"hs0": "native", "lo": "generic"}:
    bad.append("interfaces %s (want hs0 native, lo generic)" % modes)
talk = {t["addr"]: t["packets"] for t in j["talkers"]}
for a, n in (("192.0.2.66", 69), ("127.0.0.66", 69), ("192.0.2.99", 3),
             ("2001:db8::3", 3), ("127.0.0.99", 3)):
    if talk.get(a) != n:
        bad.append("talker %s: %s packets (want %d)" % (a, talk.get(a), n))
if bad:
    print("    " + "\n    ".join(bad))
    sys.exit(1)
PY
	check "guard counters equal the injected stream, interfaces and talkers right" [ $? = 0 ]
}

# 1. The guard in front: native on hs0, generic on lo.
T_CTX="guard"
write_conf "$T_DIR/guard.conf" < <(conf auto "guard interface hs0 mode native
guard interface lo mode skb")
if horod_start "$SRV" -f "$T_DIR/guard.conf"; then
	check "horod says the guard runs (one line)" grep -q 'guard: XDP on hs0 (native), lo (generic)' "$HOROD_LOG"
	counters_mark
	both_streams
	guard_counters_ok
	# horod's totals count what the workers saw (the answered requests and
	# control, 85) plus what XDP consumed: the same as without the guard.
	expect_deltas "horod's totals behind the guard" "$EXPECT received=$TOTAL xdp=$((TOTAL - 85))"
	st=$("$HOROCTL" -s "$T_DIR/ctl.sock" serverstats --json 2>&1)
	check "serverstats: the workers dequeued only what the guard passed (85)" \
		python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(sum(w["received"] for w in d["per_worker"]) != 85)' "$st"
	text=$(ip netns exec "$SRV" "$HOROCTL" guard --pin "$PIN")
	check "horoctl guard (text, with rates) lists reasons and talkers" \
		grep -q "drop_rate .* 136 " <<<"$text"
	echo "$text" | sed 's/^/    | /' | head -n 40
	horod_stop
	check "horod stops cleanly (exit $HOROD_RC)" [ "$HOROD_RC" = 0 ]
	check "the pins are gone after horod stopped" not [ -e "$PIN" ]
	ip netns exec "$SRV" "$HOROCTL" guard --pin "$PIN" --once >/dev/null 2>&1
	check "horoctl guard says nothing is pinned (exit 2)" [ $? = 2 ]
else
	fail "horod did not start with the guard"
fi

# 2. Fallback: the guard cannot attach, the workers enforce the same rules.
for io in $HOROD_IO_MODES; do
	T_CTX="fallback io=$io"
	write_conf "$T_DIR/fallback.conf" < <(conf "$io" "guard interface nosuch0 mode native")
	if ! horod_start "$SRV" -f "$T_DIR/fallback.conf"; then
		fail "horod did not start with an unusable guard"
		continue
	fi
	check "one log line says why the guard is not loaded" \
		[ "$(grep -c 'guard: not loaded (attach nosuch0.*the workers enforce the access list and the rate limit' "$HOROD_LOG")" = 1 ]
	counters_mark
	both_streams
	expect_deltas "the workers count what the guard counted" "$EXPECT received=$TOTAL"
	check "nothing pinned in the fallback" not [ -e "$PIN" ]
	horod_stop
	check "horod stops cleanly (exit $HOROD_RC)" [ "$HOROD_RC" = 0 ]
done

finish
