#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# Mode 6: the real ntpq (NTPsec's, unpacked from the Debian package by
# scripts/third-party) and ntpstat against horod. Two real chronyd
# upstreams (stratum 1 on 127.0.0.2, stratum 3 on 127.0.0.3) in a
# namespace; horod follows them with the sim driver on port 123.
# Checked: `ntpq -p` lists both with the sys.peer tally, refid, stratum
# and reach; `ntpq -c as` lists two associations; `rv 0` has every
# system variable ntpstat and ntpq read and agrees with `horoctl
# tracking`; `rv ASSOC` has every association variable; the answer to
# `rv 0` is long enough to need several fragments when every variable of
# an association is asked; a write is refused; unknown variables and
# associations give ntpq's errors; ntpstat says synchronised; mode 6
# from an address outside `control allow` (over a veth) gets nothing and
# is counted as drop_mode_control; a flood is rate limited.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd setpriv ntpstat
need_chronyd
HOROCTL=$HOROD_BUILD/horoctl
PY=/usr/bin/python3 # Debian's, which has python3-ntp (a pyenv python3 may come first in PATH)
# ntpsec's package conflicts with every other time daemon: never installed,
# it is unpacked by scripts/third-party (make test does it; here as a fallback).
NTPQ=$(third_party ntpq)
if [ -z "$NTPQ" ]; then
	"$THIRD_PARTY" --quiet fetch ntpsec >/dev/null || skip "cannot unpack the ntpsec package for ntpq"
	NTPQ=$(third_party ntpq)
fi
[ -n "$NTPQ" ] || skip "no ntpq in the unpacked ntpsec package"
"$PY" -c 'import ntp.packet' 2>/dev/null || skip "$PY has no ntp module (python3-ntp)"
ntpq() { ip netns exec "$SRV" timeout 20 "$PY" "$NTPQ" "$@"; }

SRV=$(ns_name srv)
ns_create "$SRV"
SYNC_LIMIT=60 # s: time allowed for horod to select a source
SOCK=$T_DIR/horod.sock

chronyd_upstream "$SRV" 127.0.0.2 1 || die "no upstream 1"
chronyd_upstream "$SRV" 127.0.0.3 3 || die "no upstream 2"
conf=$T_DIR/horod.conf
write_conf "$conf" <<CONF
listen 127.0.0.1 port 123
listen $VETH_SRV4 port 123
server 127.0.0.2 minpoll 0 maxpoll 0 iburst
server 127.0.0.3 minpoll 0 maxpoll 0 iburst
driver sim offset 0.01 freq 10 seed 1
control $SOCK
CONF
CLI=$(ns_name cli)
ns_create "$CLI"
veth_create "$SRV" "$CLI"
horod_start "$SRV" -f "$conf" || die "horod did not start"

synced=""
for t in $(seq "$SYNC_LIMIT"); do
	if "$HOROCTL" -s "$SOCK" status >/dev/null; then
		synced=$t
		break
	fi
	sleep 1
done
check "horod synchronised (after ${synced:-never} s)" [ -n "$synced" ]
sleep 2 # a few more polls: both sources reachable and selected

peers=$(ntpq -n -p 127.0.0.1 2>&1)
echo "$peers" | sed 's/^/    | /'
check "ntpq -p shows 127.0.0.2 as sys.peer, stratum 1" \
	grep -qE '^\*127\.0\.0\.2 +[^ ]+ +1 u ' <<<"$peers"
check "ntpq -p shows 127.0.0.3 as candidate, stratum 3, reachable" \
	grep -qE '^\+127\.0\.0\.3 +[^ ]+ +3 u +[-0-9]+ +1 +[1-7]*7 ' <<<"$peers"

as=$(ntpq -n -c as 127.0.0.1 2>&1)
echo "$as" | sed 's/^/    | /'
check "ntpq -c as lists two associations" [ "$(grep -cE '^ *[0-9]+ +[0-9]+ +[0-9a-f]{4} ' <<<"$as")" = 2 ]
check "ntpq -c as: one is sys.peer, reachable" grep -qE 'yes +none +sys\.peer' <<<"$as"

rv0=$(ntpq -n -c "rv 0" 127.0.0.1 2>&1)
echo "$rv0" | sed 's/^/    | /'
for v in version leap stratum precision rootdelay rootdisp refid reftime clock peer tc mintc \
	offset frequency sys_jitter clk_jitter clk_wander; do
	check "rv 0 has $v" grep -qE "(^|[ ,])$v=" <<<"$rv0"
done
check "rv 0: stratum 2, refid 127.0.0.2, leap 00" \
	bash -c 'grep -q "stratum=2" <<<"$1" && grep -q "refid=127.0.0.2" <<<"$1" && grep -qE "leap=0+(,|$)" <<<"$1"' _ "$rv0"
# The frequency ntpq shows (ppm) is horoctl's.
hfreq=$("$HOROCTL" -s "$SOCK" tracking --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["frequency"])')
qfreq=$(grep -oE 'frequency=[-0-9.]+' <<<"$rv0" | cut -d= -f2)
check "rv 0 frequency ($qfreq) agrees with horoctl tracking ($hfreq) within 1 ppm" \
	python3 -c "import sys; sys.exit(not abs(float('$qfreq') - float('$hfreq')) < 1)"

assoc=$(grep -E '^ *[0-9]+ +[0-9]+ ' <<<"$as" | head -1 | awk '{print $2}')
rva=$(ntpq -n -c "rv $assoc" 127.0.0.1 2>&1)
echo "$rva" | sed 's/^/    | /'
for v in srcadr srcport dstadr leap stratum precision rootdelay rootdisp refid reach unreach \
	hmode pmode hpoll ppoll flash offset delay dispersion jitter filtdelay filtoffset filtdisp; do
	check "rv $assoc has $v" grep -qE "(^|[ ,]) *$v *=" <<<"$rva"
done

# Every variable of every association in one answer is several fragments.
long=$(ntpq -n -c "rv $assoc srcadr,srcport,dstadr,leap,stratum,precision,rootdelay,rootdisp,refid,reach,unreach,hmode,pmode,hpoll,ppoll,flash,offset,delay,dispersion,jitter,filtdelay,filtoffset,filtdisp" 127.0.0.1 2>&1)
check "rv with an explicit list answers every name" \
	bash -c 'for v in srcadr hmode filtdelay filtdisp; do grep -qE "$v *=" <<<"$1" || exit 1; done' _ "$long"

bad=$(ntpq -n -c "rv 0 nosuchvariable" 127.0.0.1 2>&1)
check "an unknown variable is an error (ntpq: $bad)" grep -qiE "unknown ?var" <<<"$bad"
bad=$(ntpq -n -c "rv 4242" 127.0.0.1 2>&1)
check "an unknown association is an error (ntpq: $bad)" grep -qiE "association|unknown" <<<"$bad"

st=$(ip netns exec "$SRV" timeout 20 ntpstat 2>&1)
rc=$?
echo "$st" | sed 's/^/    | /'
check "ntpstat exits 0 (got $rc)" [ "$rc" = 0 ]
check "ntpstat: synchronised to NTP server (127.0.0.2) at stratum 2" \
	grep -q "synchronised to NTP server (127.0.0.2) at stratum 2" <<<"$st"
check "ntpstat: time correct to within N ms" grep -qE "time correct to within [0-9]+ ms" <<<"$st"
check "ntpstat: polling server every 1 s" grep -q "polling server every 1 s" <<<"$st"

# Raw packets: a write is refused with a permission error, a fragmented
# request is dropped, a reply from elsewhere gets nothing, a flood is limited.
out=$(ip netns exec "$SRV" timeout 60 python3 "$(dirname "$0")/../tools/m6probe.py" 127.0.0.1 123 2>&1)
rc=$?
echo "$out" | sed 's/^/    | /'
check "mode 6 raw probes pass (exit $rc)" [ "$rc" = 0 ]

# NTPsec's own ControlSession reassembling proto/mode6.c's fragments of
# every size up to the 24-fragment limit (no network; see the script).
out=$("$PY" "$(dirname "$0")/../tools/m6-reassemble.py" 2>&1)
rc=$?
echo "$out" | tail -n 3 | sed 's/^/    | /'
check "ntpq's reassembly of every fragment size (exit $rc)" [ "$rc" = 0 ]

horod_counters
before=$(counter drop_mode_control)
craft "$CLI" "$VETH_SRV4" 123 --mode 6 --len 12 --timeout 0.5 >/dev/null 2>&1
sleep 0.3
horod_counters
check "mode 6 from $VETH_CLI4 (not control-allowed) is counted drop_mode_control" \
	[ "$(counter drop_mode_control)" -gt "${before:-0}" ]

horod_stop
finish
