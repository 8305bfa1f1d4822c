#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# horod follows a real upstream. A real chronyd (-x, no CAP_SYS_TIME,
# `local stratum 1`) serves on 127.0.0.2 in a namespace; horod runs the
# sim driver (a virtual clock 0.2 s and 100 ppm off the system clock, so
# the system clock is the truth and is never touched) with
# `server 127.0.0.2 minpoll 0 iburst` and the default makestep (1.0 3), so
# the 0.2 s is slewed. Within 60 s the sim clock's true error must be
# below 100 us (for 5 s in a row); then ntpdig and chronyd -Q against horod
# must see stratum 2, refid 127.0.0.2 and |offset| < 200 us.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd ntpdig setpriv
need_chronyd
SRV=$(ns_name srv)
ns_create "$SRV"

SYNC_LIMIT=60       # s: time allowed to reach the true-error bound
TRUE_ERR=0.0001     # s: sim driver's true error after sync
CLIENT_OFF=0.0002   # s: offset real clients may measure against horod

chronyd_upstream "$SRV" 127.0.0.2 1 || die "no upstream"

conf=$T_DIR/horod.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
listen ::1
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
driver sim offset 0.2 freq 100 seed 1
driftfile $T_DIR/drift
CONF
horod_start "$SRV" -f "$conf" || die "horod did not start"
check "ready line names the upstream and the sim driver" \
	grep -q "1 upstream source, driver sim, discipline on" <<<"$(horod_ready_line)"

# Synchronized = the true error stayed below the bound for 5 s in a row
# (the frequency error is learnt by then, not just the phase).
synced=""
good=0
for t in $(seq "$SYNC_LIMIT"); do
	sleep 1
	horod_status || break
	te=$(kv true_error "$HOROD_TRACKING")
	if [ "$(kv synced "$HOROD_TRACKING")" = 1 ] && abs_below "$te" "$TRUE_ERR"; then
		good=$((good + 1))
	else
		good=0
	fi
	if [ "$good" -ge 5 ]; then
		synced=$t
		break
	fi
done
if [ -n "$synced" ]; then
	pass "sim driver true error < $TRUE_ERR s for 5 s in a row after ${synced} s (last $te s, $(kv freq "$HOROD_TRACKING") ppm)"
else
	fail "sim driver did not reach |true error| < $TRUE_ERR s within $SYNC_LIMIT s"
	echo "    last: $HOROD_TRACKING"
	echo "$HOROD_SOURCES" | sed 's/^/    /'
fi
check "the upstream is the system peer (tally *)" grep -q "source 127.0.0.2 tally=\*" <<<"$HOROD_SOURCES"
check "no step was taken (0.2 s < makestep 1.0: slewed)" [ "$(kv steps "$HOROD_TRACKING")" = 0 ]

out=$(timeout 15 ip netns exec "$SRV" ntpdig -j -t 2 -p 4 -g 10 127.0.0.1 2>&1 | grep '^{' | head -n1)
st=$(json_get "$out" stratum)
off=$(json_get "$out" offset)
check "ntpdig sees stratum 2 (got ${st:-none})" [ "$st" = 2 ]
check "ntpdig |offset| < $CLIENT_OFF (got ${off:-none})" abs_below "$off" "$CLIENT_OFF"

reply=$(craft "$SRV" 127.0.0.1 123 | head -n1)
refid=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1])["reply"]; print(r["refid_hex"])' "$reply" 2>/dev/null)
check "refid is 127.0.0.2 (7f000002), got ${refid:-none}" [ "$refid" = 7f000002 ]

# chronyd -Q takes 4 samples; the VM's 2-6 ms stalls can spoil a run, so a
# second run is allowed (both shown).
cq=$T_DIR/chronyd-q.log
first=""
for _ in 1 2; do
	chronyd_q "$SRV" 127.0.0.1 "$T_DIR/cq.pid" >"$cq" 2>&1
	off=$(sed -n 's/.*System clock wrong by \([-+0-9.e]*\) seconds.*/\1/p' "$cq" | tail -n1)
	abs_below "$off" "$CLIENT_OFF" && break
	first=${off:-none}
done
check "chronyd -Q |offset| < $CLIENT_OFF (got ${off:-none}${first:+, first run $first})" abs_below "$off" "$CLIENT_OFF"

horod_stop
check "horod exits 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
# The sim oscillator runs 100 ppm fast: the learnt correction is -100 ppm.
read -r dfreq dskew <"$T_DIR/drift" 2>/dev/null
check "the driftfile saved at stop holds about -100 ppm (got '${dfreq:-none} ${dskew:-}')" \
	awk -v f="${dfreq:-x}" 'BEGIN { exit !(f ~ /^-?[0-9.]+$/ && f > -101 && f < -99) }'
finish
