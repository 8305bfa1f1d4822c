#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# horod when upstreams misbehave. Two real chronyd upstreams (127.0.0.2,
# 127.0.0.3) and a lying one: a second horod serving `driver sim offset
# 1.0` with `discipline off` as `local stratum 1` on 127.0.0.4. horod
# (sim driver, so the system clock is never touched) must mark the liar a
# falseticker (x) and follow the good ones. Then every upstream stops:
# horod holds over and, past `holdover 5`, answers LI 3 (unsynchronized);
# a horod with `local stratum 10` as fallback serves stratum 10 instead.
# Finally driftfile handling: absent, corrupt and unreadable files are
# reported in one line and ignored; at stop horod writes a valid one.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd setpriv
need_chronyd
SRV=$(ns_name srv)
ns_create "$SRV"

chronyd_upstream "$SRV" 127.0.0.2 1 || die "no upstream .2"
CH2=$CHRONYD_PID
chronyd_upstream "$SRV" 127.0.0.3 1 || die "no upstream .3"
CH3=$CHRONYD_PID

# The liar: a second horod, its own log, stopped by PID in the EXIT trap.
liar_conf=$T_DIR/liar.conf
write_conf "$liar_conf" <<CONF
listen 127.0.0.4
local stratum 1
driver sim offset 1.0
discipline off
CONF
LIAR_LOG=$T_DIR/liar.log
ip netns exec "$SRV" "$HOROD" -n -f "$liar_conf" >"$LIAR_LOG" 2>&1 &
LIAR=$!
_PIDS+=("$LIAR")
for _ in $(seq 100); do grep -q 'ready:' "$LIAR_LOG" && break; sleep 0.05; done
check "the lying horod is up" grep -q 'ready:' "$LIAR_LOG"
liar_off=$(craft "$SRV" 127.0.0.4 123 | head -n1)
check "the liar really serves ~1 s ahead ($(json_get "$liar_off" checks))" \
	python3 -c 'import json,sys; o=json.loads(sys.argv[1])["checks"]["offset"]; sys.exit(not 0.9 < o < 1.1)' "$liar_off"

drift=$T_DIR/drift
echo "12.5 0.3 junk" >"$drift"
conf=$T_DIR/horod.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
server 127.0.0.3 minpoll 0 maxpoll 0 iburst
server 127.0.0.4 minpoll 0 maxpoll 0 iburst
driver sim seed 3
holdover 5
driftfile $drift
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
check "a corrupt driftfile is reported and ignored" grep -q "driftfile $drift: .*starting without it" "$HOROD_LOG"

marked=""
for t in $(seq 30); do
	sleep 1
	horod_status || break
	if grep -q "source 127.0.0.4 tally=x" <<<"$HOROD_SOURCES" &&
		grep -Eq "source 127.0.0.[23] tally=\*" <<<"$HOROD_SOURCES"; then
		marked=$t
		break
	fi
done
if [ -n "$marked" ]; then
	pass "the liar is a falseticker (x) and a good upstream the system peer after ${marked} s"
else
	fail "the liar was not marked x with a good system peer within 30 s"
	echo "$HOROD_SOURCES" | sed 's/^/    /'
fi
reply=$(craft "$SRV" 127.0.0.1 123 | head -n1)
check "horod serves the good time, not the liar's ($(json_get "$reply" checks))" \
	python3 -c 'import json,sys; o=json.loads(sys.argv[1])["checks"]["offset"]; sys.exit(not abs(o) < 0.001)' "$reply"

# Every upstream goes silent.
kill "$CH2" "$CH3" "$LIAR" 2>/dev/null
unsync=""
for t in $(seq 40); do
	sleep 1
	leap=$(craft "$SRV" 127.0.0.1 123 | head -n1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["reply"]["leap"])' 2>/dev/null)
	if [ "$leap" = 3 ]; then
		unsync=$t
		break
	fi
done
check "after losing every upstream and holdover 5, horod answers LI 3 (after ${unsync:-never} s)" [ -n "$unsync" ]
# minpoll 0: eight silent 1 s polls empty the reach register.
for t in $(seq 15); do
	horod_status
	grep -Eq "reach=(00[1-7]|0[1-7][0-7]|[1-3][0-7][0-7])" <<<"$HOROD_SOURCES" || break
	sleep 1
done
check "reach decays to 0 for every source" \
	not grep -Eq "reach=(00[1-7]|0[1-7][0-7]|[1-3][0-7][0-7])" <<<"$HOROD_SOURCES"
horod_stop
check "horod exits 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
check "the driftfile written at stop parses as 'FREQ SKEW' ($(cat "$drift" 2>/dev/null))" \
	grep -Eq '^-?[0-9]+\.[0-9]+ [0-9]+\.[0-9]+$' "$drift"

# Local fallback: the same silence, but with `local stratum 10`.
rm -f "$drift"
write_conf "$conf" <<CONF
listen 127.0.0.1
server 127.0.0.2 minpoll 0 maxpoll 0
driver sim seed 4
holdover 2
local stratum 10
driftfile $drift
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
check "an absent driftfile is reported and ignored" grep -q "driftfile $drift: .*starting without it" "$HOROD_LOG"
st=""
for t in $(seq 20); do
	sleep 1
	st=$(craft "$SRV" 127.0.0.1 123 | head -n1 | python3 -c 'import json,sys; r=json.loads(sys.stdin.read())["reply"]; print(r["stratum"], r["leap"], r["refid_ascii"])' 2>/dev/null)
	[ "$st" = "10 0 LOCL" ] && break
done
check "with no upstream and local stratum 10, horod serves stratum 10 LOCL (got '$st')" [ "$st" = "10 0 LOCL" ]
horod_stop

# A directory where the driftfile should be: unreadable as a file.
rm -f "$drift"
mkdir -p "$drift"
horod_start "$SRV" -f "$conf" || die "horod did not start"
check "an unreadable driftfile is reported and ignored" grep -q "driftfile $drift: .*starting without it" "$HOROD_LOG"
check "horod still serves" craft "$SRV" 127.0.0.1 123 --expect answered=true
horod_stop
finish
