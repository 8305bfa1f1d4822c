#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# NTS (RFC 8915) with real clients. horod serves NTS-KE and NTS with a
# certificate the test makes (openssl: a CA and a server certificate for
# 127.0.0.1, ::1 and the veth addresses). Per io mode:
#  - horoctl check --nts: TLS 1.3, AES-SIV-CMAC-256, 8 cookies of 104
#    bytes, an authenticated query; the key file is 0600;
#  - chronyd 4.3 -Q as an NTS client over 127.0.0.1, and over IPv4 and
#    IPv6 across a veth pair: NTS-KE, authenticated samples, |offset| <
#    1 ms; no NAK, no drop;
#  - tests/tools/ntsprobe's misbehaving client: answers as long as the
#    request (placeholders, padding), NTS NAK for a changed cookie, key
#    id, authenticator or header, no answer for malformed fields, replays
#    answered (the client's identifier check refuses them), NTS-KE errors
#    as the RFC says, TLS without ntske/1 or below 1.3 refused; every
#    outcome counted exactly;
#  - a restart with the same ntsdumpdir: chronyd's cookies from before are
#    accepted, no new NTS-KE; the same across a `horod --takeover`.
# Then NTPsec's ntpd (unpacked, no CAP_SYS_TIME) as an NTS client across
# the veth pair.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd openssl setpriv
need_chronyd
NTSPROBE=$HOROD_BUILD/tools/ntsprobe
HOROCTL=$HOROD_BUILD/horoctl
[ -x "$NTSPROBE" ] && [ -x "$HOROCTL" ] || die "no $NTSPROBE or $HOROCTL (make all)"
SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

MAX_OFFSET=0.001 # seconds: same clock on both sides, so only timestamp error shows
PKI=$T_DIR/pki
nts_make_certs "$PKI" 127.0.0.1 ::1 "$VETH_SRV4" "$VETH_SRV6" || die "cannot make certificates"

# chronyd -Q as an NTS client in NS of server ADDR, its cookies kept in DIR:
# four samples; prints its log. At most 30 s.
chronyd_nts()
{
	local ns=$1 addr=$2 dir=$3
	mkdir -p "$dir"
	timeout 30 ip netns exec "$ns" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$CHRONYD" -x -u root -Q -t 20 "server $addr iburst nts maxsamples 4" \
		"ntstrustedcerts $PKI/ca.pem" "ntsdumpdir $dir" "pidfile $dir/chronyd.pid" \
		"cmdport 0" "bindcmdaddress /" 2>&1
}

# Pass when chronyd's log LOG (its exit status RC) shows a sample within MAX_OFFSET.
chronyd_ok()
{
	local what=$1 rc=$2 log=$3 off
	off=$(sed -n 's/.*System clock wrong by \([-+0-9.e]*\) seconds.*/\1/p' <<<"$log" | tail -n1)
	if [ "$rc" = 0 ] && abs_below "$off" "$MAX_OFFSET"; then
		pass "$what: offset $off s"
	else
		fail "$what: exit $rc, offset '${off:-none}' (want |offset| < $MAX_OFFSET)"
		sed 's/^/    | /' <<<"$log" | tail -n 8
	fi
}

for io in $HOROD_IO_MODES; do
	T_CTX="io=$io"
	dump=$T_DIR/dump-$io
	mkdir -m 700 "$dump"
	conf=$T_DIR/horod-$io.conf
	write_conf "$conf" <<CONF
listen 127.0.0.1
listen ::1
listen $VETH_SRV4
listen $VETH_SRV6
local stratum 5
workers 2
io $io
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsdumpdir $dump
control $T_DIR/horod-$io.sock
CONF
	if ! horod_start "$SRV" -f "$conf"; then
		fail "horod did not start"
		continue
	fi
	check "the key file is 0600 ($(stat -c %a "$dump/ntskeys" 2>&1))" \
		[ "$(stat -c %a "$dump/ntskeys" 2>/dev/null)" = 600 ]
	counters_mark

	# horoctl check --nts: the whole client side in one report.
	out=$(ip netns exec "$SRV" "$HOROCTL" check --nts 127.0.0.1 --ca "$PKI/ca.pem" --json)
	rc=$?
	check "horoctl check --nts: exit 0, AES-SIV-CMAC-256, 8 cookies of 104 bytes, TLS 1.3 with AES-128-GCM and X25519 (GnuTLS lists AES-256-GCM and P-256 first), an authenticated query (exit $rc)" \
		python3 -c 'import json, sys
d = json.loads(sys.argv[1]); k = d["ke"]; q = d["query"]
sys.exit(not (d["exit"] == 0 and k["aead"] == 15 and k["cookies"] == 8 and k["cookie_len"] == 104
	and k["tls"].startswith("TLS1.3") and k["tls"].endswith(" AES-128-GCM X25519") and q["ok"] and q["stratum"] == 5 and len(k["chain"]) >= 1
	and k["chain"][0]["subject"] == "CN=horod NTS test server"))' "$out"
	expect_deltas "horoctl check --nts" "reply_server=1 nts_ok=1 ke_ok=1 received=1"

	# chronyd -Q as an NTS client, three ways, in parallel.
	i=0
	pids=()
	for target in "$SRV 127.0.0.1" "$CLI $VETH_SRV4" "$CLI $VETH_SRV6"; do
		read -r ns addr <<<"$target"
		i=$((i + 1))
		chronyd_nts "$ns" "$addr" "$T_DIR/cc-$io-$i" >"$T_DIR/chronyd-$io-$i.log" &
		pids+=($!)
		_PIDS+=($!)
	done
	i=0
	for addr in 127.0.0.1 "$VETH_SRV4" "$VETH_SRV6"; do
		wait "${pids[$i]}"
		rc=$?
		i=$((i + 1))
		chronyd_ok "chronyd -Q nts via $addr" "$rc" "$(cat "$T_DIR/chronyd-$io-$i.log")"
	done
	horod_counters
	d_ok=$(($(counter nts_ok) - $(counter nts_ok "$_BASE")))
	d_rs=$(($(counter reply_server) - $(counter reply_server "$_BASE")))
	check "chronyd's requests: every one answered with NTS ($d_ok NTS of $d_rs replies, >= 9)" \
		[ "$d_ok" = "$d_rs" ] && [ "$d_ok" -ge 9 ]
	expect_deltas "chronyd -Q nts, three clients" "ke_ok=3 reply_server=$d_rs nts_ok=$d_ok
		nts_bad_cookie=0 nts_bad_auth=0 nts_malformed=0 reply_kod_ntsn=0 drop_auth=0"

	# The misbehaving client, over IPv4 across the veth pair.
	out=$(ip netns exec "$CLI" "$NTSPROBE" "$VETH_SRV4" --ca "$PKI/ca.pem" ok placeholders \
		padded bad-cookie bad-auth bad-header unknown-key no-uid short-uid two-cookies \
		auth-not-last truncated mode1 replay ke-no-np ke-critical ke-oversized \
		ke-truncated ke-no-alpn ke-tls12 2>&1)
	rc=$?
	while read -r line; do
		case $line in
		PASS*) pass "ntsprobe: ${line#PASS }" ;;
		FAIL*) fail "ntsprobe: ${line#FAIL }" ;;
		esac
	done <<<"$out"
	check "ntsprobe exits 0 (got $rc)" [ "$rc" = 0 ]
	# ok, placeholders, padded, replay x2: 5 answers; 4 NAKs; 5 malformed + mode 1 dropped;
	# truncated fails classification; NTS-KE: the probe's own exchange, 3 error answers,
	# 1 closed early, 2 TLS failures.
	expect_deltas "ntsprobe's cases" "reply_server=5 nts_ok=5 reply_kod_ntsn=4 nts_bad_cookie=2
		nts_bad_auth=2 drop_auth=5 nts_malformed=5 drop_extension=1 received=15
		ke_ok=1 ke_bad_request=3 ke_closed=1 ke_tls_failed=2 ke_timeout=0 ke_refused=0"

	# horoctl serverstats and the metrics say the same as the counters line.
	out=$(ip netns exec "$SRV" "$HOROCTL" -s "$T_DIR/horod-$io.sock" serverstats --json)
	check "horoctl serverstats --json: auth and ke counts as the counters line's" \
		python3 -c 'import json, sys
d = json.loads(sys.argv[1]); line = dict(kv.split("=") for kv in sys.argv[2].split("counters ", 1)[1].split())
ok = all(int(line[k]) == v for k, v in d["auth"].items()) and all(int(line["ke_" + k]) == v for k, v in d["ke"].items())
sys.exit(not (ok and d["auth"]["nts_bad_cookie"] >= 2 and d["ke"]["tls_failed"] >= 2))' "$out" "$HOROD_COUNTERS"
	out=$(ip netns exec "$SRV" "$HOROCTL" -s "$T_DIR/horod-$io.sock" metrics)
	check "horoctl metrics: horod_auth_requests_total and horod_ntske_sessions_total" \
		grep -q "^horod_ntske_sessions_total{outcome=\"tls_failed\"} $(counter ke_tls_failed)$" <<<"$out"
	check "horoctl metrics: NTS NAKs counted by outcome" \
		grep -q "^horod_auth_requests_total{outcome=\"nts_bad_cookie\"} $(counter nts_bad_cookie)$" <<<"$out"

	# The server's key exchange group: X25519 when the client sent a share for it (OpenSSL's
	# default), the client's own group without a HelloRetryRequest when it lists no X25519;
	# the server's cipher suite (OpenSSL lists AES-256-GCM first).
	for groups in X25519:P-256 P-256; do
		out=$(timeout 10 ip netns exec "$SRV" openssl s_client -connect 127.0.0.1:4460 \
			-alpn ntske/1 -tls1_3 -groups "$groups" -msg </dev/null 2>&1)
		want="X25519"
		[ "$groups" = P-256 ] && want="prime256v1"
		check "openssl s_client -groups $groups: one ServerHello, key exchange $want, TLS_AES_128_GCM_SHA256 ($(grep -c ', ServerHello' <<<"$out") ServerHello, $(grep -m1 'Temp Key' <<<"$out"), $(grep -m1 -o 'Cipher is .*' <<<"$out"))" \
			[ "$(grep -c ', ServerHello' <<<"$out")" = 1 ] && grep -q "Temp Key: .*$want" <<<"$out" &&
			grep -q "Cipher is TLS_AES_128_GCM_SHA256" <<<"$out"
	done

	# A restart keeps the clients' cookies valid: chronyd's saved cookies work, no NTS-KE.
	horod_stop
	check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
	horod_start "$SRV" -f "$conf" || {
		fail "horod did not start again"
		continue
	}
	counters_mark
	log=$(chronyd_nts "$CLI" "$VETH_SRV4" "$T_DIR/cc-$io-2")
	chronyd_ok "after a restart, chronyd -Q with its saved cookies" $? "$log"
	horod_counters
	d_ok=$(($(counter nts_ok) - $(counter nts_ok "$_BASE")))
	check "after a restart: $d_ok NTS answers, no new NTS-KE, no NAK" [ "$d_ok" -ge 3 ]
	expect_deltas "after a restart" "ke_ok=0 nts_bad_cookie=0 reply_kod_ntsn=0 reply_server=$d_ok
		nts_ok=$d_ok"

	# A takeover (horod --takeover): the successor listens for NTS-KE beside
	# its predecessor (SO_REUSEPORT) and reads the same key file.
	old=$HOROD_PID
	succ=$T_DIR/successor-$io.log
	env --default-signal=INT,QUIT ip netns exec "$SRV" "$HOROD" -n --takeover -f "$conf" \
		>"$succ" 2>&1 &
	new=$!
	_PIDS+=("$new")
	for _ in $(seq 200); do # 10 s
		grep -q 'this horod serves alone' "$succ" && ! pid_alive "$old" && break
		pid_alive "$new" || break
		sleep 0.05
	done
	if grep -q 'this horod serves alone' "$succ" && ! pid_alive "$old"; then
		wait "$old" 2>/dev/null
		rc=$?
		check "a takeover with NTS completes, the predecessor exiting 0 (got $rc)" [ "$rc" = 0 ]
		HOROD_PID=$new
		HOROD_LOG=$succ
		counters_mark
		out=$(ip netns exec "$SRV" "$HOROCTL" check --nts 127.0.0.1 --ca "$PKI/ca.pem")
		check "after a takeover: horoctl check --nts works" grep -q 'result: NTS works' <<<"$out"
		log=$(chronyd_nts "$CLI" "$VETH_SRV4" "$T_DIR/cc-$io-2")
		chronyd_ok "after a takeover, chronyd -Q with its saved cookies" $? "$log"
		horod_counters
		d_ok=$(($(counter nts_ok) - $(counter nts_ok "$_BASE")))
		check "after a takeover: $d_ok NTS answers (horoctl's and chronyd's), no NAK" [ "$d_ok" -ge 4 ] &&
			[ "$(($(counter nts_bad_cookie) - $(counter nts_bad_cookie "$_BASE")))" = 0 ]
		expect_deltas "after a takeover (horoctl's NTS-KE and query, chronyd's)" \
			"ke_ok=1 nts_bad_cookie=0 reply_kod_ntsn=0 reply_server=$d_ok nts_ok=$d_ok"
	else
		fail "a takeover with NTS did not complete; the successor's log:"
		sed 's/^/    | /' "$succ" | tail -n 8
		kill "$new" 2>/dev/null
	fi
	horod_stop
	check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
done

# NTPsec's ntpd as an NTS client (no CAP_SYS_TIME, the clock untouched).
T_CTX="ntpsec"
NTPD=$(nts_ntpsec_ntpd)
if [ -z "$NTPD" ]; then
	echo "SKIP (part): no NTPsec ntpd unpacked (scripts/third-party fetch ntpsec, or bench/compare)"
else
	conf=$T_DIR/horod-ntpsec.conf
	mkdir -m 700 "$T_DIR/dump-ntpsec"
	write_conf "$conf" <<CONF
listen $VETH_SRV4
local stratum 5
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsdumpdir $T_DIR/dump-ntpsec
CONF
	horod_start "$SRV" -f "$conf" || die "horod did not start"
	counters_mark
	cat >"$T_DIR/ntp.conf" <<CONF
server $VETH_SRV4 nts ca $PKI/ca.pem minpoll 0 maxpoll 0 iburst
disable ntp
disable kernel
driftfile $T_DIR/ntpd.drift
CONF
	timeout 20 ip netns exec "$CLI" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$NTPD" -n -c "$T_DIR/ntp.conf" -l "$T_DIR/ntpd.log" >/dev/null 2>&1 &
	_PIDS+=($!)
	ntpd_pid=$!
	# Bounded: until horod has answered 4 NTS requests, or 15 s.
	for _ in $(seq 150); do
		horod_counters >/dev/null
		[ $(($(counter nts_ok) - $(counter nts_ok "$_BASE"))) -ge 4 ] && break
		sleep 0.1
	done
	kill "$ntpd_pid" 2>/dev/null
	wait "$ntpd_pid" 2>/dev/null
	horod_counters
	d_ok=$(($(counter nts_ok) - $(counter nts_ok "$_BASE")))
	d_ke=$(($(counter ke_ok) - $(counter ke_ok "$_BASE")))
	if [ "$d_ok" -ge 4 ] && [ "$d_ke" = 1 ] && grep -q 'NTSc: Got [0-9]* cookies' "$T_DIR/ntpd.log"; then
		pass "NTPsec ntpd: NTS-KE ($(grep -o 'NTSc: Got [0-9]* cookies' "$T_DIR/ntpd.log" | head -n1)), $d_ok NTS requests answered"
	else
		fail "NTPsec ntpd: $d_ke NTS-KE, $d_ok NTS answers (want 1 and >= 4)"
		grep -i 'nts' "$T_DIR/ntpd.log" | tail -n 8 | sed 's/^/    | /'
	fi
	expect_deltas "NTPsec ntpd's requests" "ke_ok=$d_ke nts_ok=$d_ok nts_bad_cookie=0 nts_bad_auth=0
		reply_kod_ntsn=0 drop_auth=0 reply_server=$d_ok"
	horod_stop
fi

finish
