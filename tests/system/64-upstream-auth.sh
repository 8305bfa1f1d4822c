#!/bin/bash
# shellcheck disable=SC2034,SC2119,SC2317 # T_CTX is read by lib.sh; optional arguments; functions run through wait_for
#
# horod's authenticated upstream sources, against real servers in one
# namespace (loopback only; every horod with `driver sim`, `discipline
# off`, so no clock is touched):
#  - `server HOST nts` against chronyd 4.3 -x as the NTS-KE and NTS
#    server: NTS-KE once, authenticated samples (reach, |offset| < 1 ms),
#    8 cookies kept, chronyd counting the NTS-KE connection and the
#    authenticated packets (chronyc serverstats); chronyd restarted with
#    new keys: an NTS NAK, NTS-KE again, samples again;
#  - a certificate from a CA we do not trust: NTS-KE fails at the
#    certificate check, no sample, logged;
#  - an expired certificate (horod's own NTS server): refused, and
#    accepted with `nocerttimecheck 1` (horod against horod);
#  - an NTS-KE server naming another NTP server (Server Negotiation) that
#    answers without NTS: every reply refused as not authentic (counted),
#    no sample, and NTS-KE again once the 8 cookies are spent;
#  - `server HOST key ID` against chronyd's keyfile (AES128 over IPv4,
#    MD5 over IPv6) and horod's (SHA1): samples; against a server that
#    answers without a MAC (a kiss-o'-death too): refused, counted;
#  - configuration errors: a key id not in the keyfile, a key without a
#    keyfile, trusted certificates that do not load, nts on a pool.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd openssl setpriv python3
need_chronyd
HOROCTL=$HOROD_BUILD/horoctl
FAKENTP=$REPO/tests/tools/fakentp.py
CHRONYC=$("$THIRD_PARTY" path chronyc 2>/dev/null || echo chronyc)
[ -x "$HOROCTL" ] || die "no $HOROCTL (make all)"
NS=$(ns_name auth)
ns_create "$NS"

WAIT=20	     # seconds: bound of every wait for a source to get (or not get) samples
MAX_OFFSET=0.001 # seconds: the same clock on both sides
PKI=$T_DIR/pki
OTHER=$T_DIR/other
nts_make_certs "$PKI" 127.0.0.1 ::1 127.0.0.2 127.0.0.4 || die "cannot make certificates"
nts_make_certs "$OTHER" 127.0.0.1 || die "cannot make the untrusted certificates"

# An expired server certificate (2001) from the trusted CA, for 127.0.0.2.
(
	cd "$PKI" || exit 1
	mkdir -p old && : >old/index.txt && echo 01 >old/serial
	printf '[ca]\ndefault_ca = t\n[t]\ndatabase = old/index.txt\nnew_certs_dir = old\n%s\n' \
		'serial = old/serial
default_md = sha256
policy = p
[p]
commonName = supplied' >old/ca.cnf
	openssl ca -config old/ca.cnf -batch -notext -startdate 20010101000000Z \
		-enddate 20020101000000Z -in server.csr -out old/server.crt -keyfile ca.key \
		-cert ca.pem -extfile ext.cnf && cat old/server.crt ca.pem >old/server.pem
) >"$T_DIR/old-cert.log" 2>&1 || {
	sed 's/^/    | /' "$T_DIR/old-cert.log"
	die "cannot make the expired certificate"
}

# Keys: chronyd's file and horod's (the client's and horod server's: one file).
umask 077
cat >"$T_DIR/chrony.keys" <<'KEYS'
10 AES128 HEX:000102030405060708090A0B0C0D0E0F
12 MD5 ASCII:horod-md5-test
KEYS
cat >"$T_DIR/horod.keys" <<'KEYS'
10 AES128 HEX:000102030405060708090A0B0C0D0E0F
11 SHA1 HEX:00112233445566778899AABBCCDDEEFF00112233
12 MD5 ASCII:horod-md5-test
14 AES256 HEX:000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
KEYS
umask 022

# chronyd -x on 127.0.0.1 and ::1 (NTP 123, NTS-KE 4460), NTS keys in $CD, our keyfile.
CD=$T_DIR/chronyd
mkdir -p "$CD" && chmod 700 "$CD"
cat >"$CD/chrony.conf" <<CONF
bindaddress 127.0.0.1
bindaddress ::1
local stratum 1
allow all
cmdport 0
bindcmdaddress $CD/chronyd.sock
pidfile $CD/chronyd.pid
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsdumpdir $CD
keyfile $T_DIR/chrony.keys
CONF
chronyd_start()
{
	ip netns exec "$NS" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$CHRONYD" -x -d -u root -f "$CD/chrony.conf" >>"$CD/log" 2>&1 &
	CHRONYD_PID=$!
	_PIDS+=("$CHRONYD_PID")
	for _ in $(seq 50); do
		ip netns exec "$NS" ss -Htln "src 127.0.0.1:4460" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	echo "chronyd did not listen on 127.0.0.1:4460 within 5 s; its log:"
	sed 's/^/    | /' "$CD/log"
	return 1
}
chronyd_stop()
{
	kill -TERM "$CHRONYD_PID" 2>/dev/null
	for _ in $(seq 50); do
		pid_alive "$CHRONYD_PID" || break
		sleep 0.1
	done
	kill -KILL "$CHRONYD_PID" 2>/dev/null
	wait "$CHRONYD_PID" 2>/dev/null
}
# A line of `chronyc serverstats` (e.g. "NTS-KE connections accepted"): its number.
chronyc_stat()
{
	ip netns exec "$NS" "$CHRONYC" -h "$CD/chronyd.sock" serverstats 2>/dev/null |
		awk -F': *' -v k="$1" 'index($1, k) == 1 { print $2; exit }'
}

# Start a horod client NAME (its control socket $T_DIR/NAME.sock) with the
# configuration lines on standard input besides its own; sets CLI_SOCK.
# Under HOROD_TEST_GUARD, a horod started while horod's own NTS server runs
# in the namespace (HOROD_GUARD_FALLBACK_OK=1) runs without the guard: the
# first one holds the namespace's XDP attachment.
client_start()
{
	local name=$1
	CLI_SOCK=$T_DIR/$name.sock
	{
		printf 'listen 127.0.0.9 port 1123\nworkers 1\ndriver sim\ndiscipline off\n'
		printf 'control %s\n' "$CLI_SOCK"
		cat
	} >"$T_DIR/$name.conf"
	horod_start "$NS" -f "$T_DIR/$name.conf"
}

# Source I (0-based) of the client at CLI_SOCK, field F (horoctl sources --json).
src()
{
	"$HOROCTL" sources -s "$CLI_SOCK" --json 2>/dev/null |
		python3 -c 'import json, sys
s = json.load(sys.stdin)["sources"][int(sys.argv[1])]
print(s.get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null
}

# Upstream counter NAME (a horod_upstream_* metric, with its labels) of the client.
up()
{
	"$HOROCTL" metrics -s "$CLI_SOCK" 2>/dev/null | awk -v k="$1" '$1 == k { print $2; exit }'
}

# Wait (at most WAIT s) until the shell test CMD... holds; 0 if it did.
wait_for()
{
	for _ in $(seq $((WAIT * 5))); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# Source I has at least N samples in its reach register.
reached()
{
	local r
	r=$(src "$1" reach)
	[ -n "$r" ] && [ "$(python3 -c 'import sys; print(bin(int(sys.argv[1])).count("1"))' "$r")" -ge "$2" ]
}

# Counter NAME has reached at least N.
up_ge()
{
	local v
	v=$(up "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

chronyd_start || die "chronyd did not start"

# --- NTS against chronyd ----------------------------------------------------
T_CTX="nts chronyd"
client_start nts1 <<CONF || die "the NTS client did not start"
server 127.0.0.1 nts iburst minpoll 0 maxpoll 0
ntstrustedcerts $PKI/ca.pem
nosystemcert
CONF
if wait_for reached 0 4; then
	pass "NTS samples from chronyd (reach $(src 0 reach))"
else
	fail "no 4 NTS samples from chronyd within $WAIT s (reach '$(src 0 reach)')"
	sed 's/^/    | /' "$HOROD_LOG" | tail -n 5
fi
off=$(src 0 offset)
check "offset $off s, |offset| < $MAX_OFFSET" abs_below "$off" "$MAX_OFFSET"
check "the source says auth nts, 8 cookies (got $(src 0 auth), $(src 0 nts_cookies))" \
	[ "$(src 0 auth)" = nts ] && [ "$(src 0 nts_cookies)" = 8 ]
check "one NTS-KE, no failure, no NAK, nothing unauthentic ($(up 'horod_upstream_ntske_total{outcome="ok"}') ok, $(up 'horod_upstream_ntske_total{outcome="failed"}') failed, $(up horod_upstream_nts_nak_total) NAK, $(up horod_upstream_auth_fail_total) not authentic)" \
	[ "$(up 'horod_upstream_ntske_total{outcome="ok"}')" = 1 ] &&
	[ "$(up 'horod_upstream_ntske_total{outcome="failed"}')" = 0 ] &&
	[ "$(up horod_upstream_nts_nak_total)" = 0 ] && [ "$(up horod_upstream_auth_fail_total)" = 0 ]
check "the NTS-KE line names TLS 1.3, 8 cookies, NTP to 127.0.0.1 port 123" \
	grep -q 'source 127.0.0.1: NTS-KE with 127.0.0.1:4460 in [0-9.]* s (TLS1.3 [^)]*), 8 cookies; NTP to 127.0.0.1 port 123' "$HOROD_LOG"
ke=$(chronyc_stat "NTS-KE connections accepted")
authn=$(chronyc_stat "Authenticated NTP packets")
valid=$(up horod_upstream_valid_total)
check "chronyd counted 1 NTS-KE connection and $authn authenticated packets (>= $valid valid replies)" \
	[ "$ke" = 1 ] && [ -n "$authn" ] && [ "$authn" -ge "$valid" ]

# chronyd again with new keys: our cookies are refused (NAK), NTS-KE again.
chronyd_stop
rm -f "$CD/ntskeys"
chronyd_start || die "chronyd did not start again"
if wait_for up_ge horod_upstream_nts_nak_total 1 && wait_for up_ge 'horod_upstream_ntske_total{outcome="ok"}' 2; then
	pass "chronyd's new keys: NTS NAK, NTS-KE again"
else
	fail "no NAK and second NTS-KE within $WAIT s (NAK $(up horod_upstream_nts_nak_total), NTS-KE $(up 'horod_upstream_ntske_total{outcome="ok"}'))"
fi
check "the NAK is logged" grep -q 'source 127.0.0.1: NTS NAK, new NTS-KE exchange' "$HOROD_LOG"
v0=$(up horod_upstream_valid_total)
check "samples again after the new NTS-KE" wait_for up_ge horod_upstream_valid_total $((v0 + 2))
horod_stop

# --- a CA we do not trust ---------------------------------------------------
T_CTX="nts untrusted"
client_start nts2 <<CONF || die "the NTS client did not start"
server 127.0.0.1 nts iburst minpoll 0 maxpoll 0
ntstrustedcerts $OTHER/ca.pem
nosystemcert
CONF
if wait_for up_ge 'horod_upstream_ntske_total{outcome="failed"}' 1; then
	pass "NTS-KE with a certificate of another CA fails"
else
	fail "no failed NTS-KE within $WAIT s"
fi
check "it failed at the certificate check, logged with the next try in 16 s" \
	grep -q 'source 127.0.0.1: NTS-KE with 127.0.0.1 port 4460 failed (certificate): .*; again in 16 s' "$HOROD_LOG"
check "no sample, nothing sent ($(up horod_upstream_sent_total) sent, reach $(src 0 reach))" \
	[ "$(up horod_upstream_sent_total)" = 0 ] && [ "$(src 0 reach)" = 0 ] &&
	[ "$(up 'horod_upstream_ntske_total{outcome="ok"}')" = 0 ]
horod_stop

# --- an expired certificate, on horod's own NTS server ----------------------
T_CTX="nts expired"
cat >"$T_DIR/old.conf" <<CONF
listen 127.0.0.2
local stratum 3
workers 1
control off
ntsservercert $PKI/old/server.pem
ntsserverkey $PKI/server.key
keyfile $T_DIR/horod.keys
CONF
horod_start "$NS" -f "$T_DIR/old.conf" || die "horod's NTS server did not start"
OLD_PID=$HOROD_PID
HOROD_GUARD_FALLBACK_OK=1 client_start nts3 <<CONF || die "the NTS client did not start"
server 127.0.0.2 nts iburst minpoll 0 maxpoll 0
ntstrustedcerts $PKI/ca.pem
nosystemcert
CONF
check "an expired certificate fails NTS-KE" \
	wait_for up_ge 'horod_upstream_ntske_total{outcome="failed"}' 1
check "logged as a certificate failure" \
	grep -q 'source 127.0.0.2: NTS-KE with 127.0.0.2 port 4460 failed (certificate)' "$HOROD_LOG"
horod_stop
HOROD_GUARD_FALLBACK_OK=1 client_start nts4 <<CONF || die "the NTS client did not start"
server 127.0.0.2 nts iburst minpoll 0 maxpoll 0
ntstrustedcerts $PKI/ca.pem
nosystemcert
nocerttimecheck 1
CONF
if wait_for reached 0 3; then
	pass "nocerttimecheck 1: the expired certificate accepted, NTS samples from horod (reach $(src 0 reach), stratum $(src 0 stratum))"
else
	fail "nocerttimecheck 1: no NTS samples within $WAIT s (reach '$(src 0 reach)')"
	sed 's/^/    | /' "$HOROD_LOG" | tail -n 5
fi
check "horod against horod: 1 NTS-KE, nothing unauthentic" \
	[ "$(up 'horod_upstream_ntske_total{outcome="ok"}')" = 1 ] &&
	[ "$(up horod_upstream_auth_fail_total)" = 0 ]
horod_stop

# --- NTS-KE names an NTP server that answers without NTS --------------------
T_CTX="nts unauthenticated"
cat >"$T_DIR/neg.conf" <<CONF
listen 127.0.0.4
local stratum 3
workers 1
control off
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsntpserver 127.0.0.3
CONF
HOROD_GUARD_FALLBACK_OK=1 horod_start "$NS" -f "$T_DIR/neg.conf" || die "horod's second NTS server did not start"
NEG_PID=$HOROD_PID
ip netns exec "$NS" python3 "$FAKENTP" --addr 127.0.0.3 --stratum 2 --refid 127.0.0.1 \
	--root-dispersion 0.001 --lifetime 60 >"$T_DIR/fake.log" 2>&1 &
FAKE_PID=$!
_PIDS+=("$FAKE_PID")
wait_for grep -q ready "$T_DIR/fake.log" || die "fakentp did not start"
HOROD_GUARD_FALLBACK_OK=1 client_start nts5 <<CONF || die "the NTS client did not start"
server 127.0.0.4 nts iburst minpoll 0 maxpoll 0
ntstrustedcerts $PKI/ca.pem
nosystemcert
CONF
check "Server Negotiation followed: NTP to 127.0.0.3" \
	wait_for grep -q 'source 127.0.0.4: NTS-KE with 127.0.0.4:4460 .* NTP to 127.0.0.3 port 123' "$HOROD_LOG"
if wait_for up_ge 'horod_upstream_ntske_total{outcome="ok"}' 2; then
	pass "the 8 cookies spent on unauthenticated answers: NTS-KE again"
else
	fail "no second NTS-KE within $WAIT s ($(up 'horod_upstream_ntske_total{outcome="ok"}'))"
fi
af=$(up horod_upstream_auth_fail_total)
check "every answer refused as not authentic ($af, >= 8), no sample (valid $(up horod_upstream_valid_total), reach $(src 0 reach))" \
	[ "$af" -ge 8 ] && [ "$(up horod_upstream_valid_total)" = 0 ] && [ "$(src 0 reach)" = 0 ]
horod_stop

# --- symmetric keys ---------------------------------------------------------
T_CTX="keys"
kill -TERM "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
ip netns exec "$NS" python3 "$FAKENTP" --addr 127.0.0.3 --kod RATE --lifetime 60 \
	>"$T_DIR/fake2.log" 2>&1 &
FAKE_PID=$!
_PIDS+=("$FAKE_PID")
wait_for grep -q ready "$T_DIR/fake2.log" || die "fakentp did not start"
HOROD_GUARD_FALLBACK_OK=1 client_start keys <<CONF || die "the key client did not start"
keyfile $T_DIR/horod.keys
server 127.0.0.1 key 10 iburst minpoll 0 maxpoll 0
server ::1 key 12 iburst minpoll 0 maxpoll 0
server 127.0.0.2 key 11 iburst minpoll 0 maxpoll 0
server 127.0.0.3 key 14 iburst minpoll 0 maxpoll 0
CONF
for i in 0 1 2; do
	name=$(src "$i" name)
	if wait_for reached "$i" 3; then
		pass "key source $name: samples (reach $(src "$i" reach), auth $(src "$i" auth))"
	else
		fail "key source $name: no 3 samples within $WAIT s (reach '$(src "$i" reach)')"
	fi
done
check "chronyd (AES128, MD5) and horod (SHA1): |offset| < $MAX_OFFSET" \
	abs_below "$(src 0 offset)" "$MAX_OFFSET" && abs_below "$(src 1 offset)" "$MAX_OFFSET" &&
	abs_below "$(src 2 offset)" "$MAX_OFFSET"
check "a kiss-o'-death without a MAC is refused, not obeyed ($(up horod_upstream_auth_fail_total) refused, $(up horod_upstream_kod_total) KoD, reach $(src 3 reach))" \
	wait_for up_ge horod_upstream_auth_fail_total 3
check "... and never counted as a KoD or a sample" \
	[ "$(up horod_upstream_kod_total)" = 0 ] && [ "$(src 3 reach)" = 0 ]
horod_stop
HOROD_PID=$OLD_PID
horod_stop
HOROD_PID=$NEG_PID
horod_stop

# --- configuration errors ---------------------------------------------------
T_CTX="config"
start_fails()
{
	local what=$1 want=$2 out rc
	out=$(ip netns exec "$NS" "$HOROD" -n -f "$T_DIR/bad.conf" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && grep -q -- "$want" <<<"$out"; then
		pass "$what: exit 2, '$want'"
	else
		fail "$what: exit $rc, want 2 and '$want'; got: $(head -c 300 <<<"$out")"
	fi
}
printf 'listen 127.0.0.9 port 1123\ncontrol off\ndriver sim\nkeyfile %s\nserver 127.0.0.1 key 99\n' \
	"$T_DIR/horod.keys" >"$T_DIR/bad.conf"
start_fails "a key id not in the keyfile" "server 127.0.0.1 key 99: no key 99 in keyfile"
printf 'listen 127.0.0.9 port 1123\ncontrol off\ndriver sim\nserver 127.0.0.1 key 10\n' >"$T_DIR/bad.conf"
start_fails "a key without a keyfile" "server 127.0.0.1 key 10 without a keyfile"
printf 'listen 127.0.0.9 port 1123\ncontrol off\ndriver sim\nserver 127.0.0.1 nts\nntstrustedcerts %s\n' \
	"$T_DIR/none.pem" >"$T_DIR/bad.conf"
start_fails "trusted certificates that do not load" "trusted certificates $T_DIR/none.pem"
printf 'listen 127.0.0.9 port 1123\ncontrol off\npool pool.example nts\n' >"$T_DIR/bad.conf"
start_fails "nts on a pool" "'nts' on a pool line is not supported"

kill -TERM "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
chronyd_stop
finish
