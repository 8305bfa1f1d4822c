#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# NTS server keys, replicas and limits (tests/tools/ntsprobe as the client):
#  1. configuration: a certificate without its key and ntsrotate 0 without
#     ntsdumpdir are refused by --check-config (exit 2), a certificate that
#     does not match its key stops the start (exit 2), a key file readable
#     by everyone too (exit 1);
#  2. rotation: with `ntsrotate 1` a cookie opens until its key has left
#     the two previous keys, then gets an NTS NAK (nts_bad_cookie);
#  3. replicas sharing ntsdumpdir: server A (rotates every 4 s, names
#     B with `ntsntpserver`) and server B (`ntsrotate 0`, reads the file
#     when it changes): horoctl check --nts A queries B; A's cookies are
#     accepted by B after one rotation (the next key) and after two (B read
#     the file again);
#  4. NTPv4 Port Negotiation: NTP on port 11123, NTS-KE on 14460, and the
#     client is told so;
#  5. a flood: 40 idle connections against maxntsconnections 8 and two
#     clients running handshakes back to back: the idle ones past the limit
#     are closed at once, the others at the 2 s deadline, nothing stays
#     open, memory stays bounded, every plain NTP request meanwhile is
#     answered, and NTS-KE works afterwards; with `ntsthreads 2`, the two
#     threads bound the sessions together, and idle connections alone
#     are closed at the deadline whichever thread holds them;
#  6. SIGHUP under a stream of plain requests (none lost): a new keyfile
#     (key 2 in, key 1 out) is in force at once (a MAC with key 2 answered,
#     with key 1 not), a broken one keeps the keys in force; a new NTS
#     certificate (another CA) is what the next handshake sees (horoctl
#     check --nts trusts the new CA, not the old), one that does not match
#     its key keeps the one in force; an NTS-KE session that shook hands
#     before the reload still gets its cookies after it; the leapfile
#     read again replaces the table in force (an expired one by a valid
#     one), not when it has expired.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd openssl
NTSPROBE=$HOROD_BUILD/tools/ntsprobe
HOROCTL=$HOROD_BUILD/horoctl
[ -x "$NTSPROBE" ] && [ -x "$HOROCTL" ] || die "no $NTSPROBE or $HOROCTL (make all)"
SRV=$(ns_name srv)
ns_create "$SRV"
PKI=$T_DIR/pki
nts_make_certs "$PKI" 127.0.0.1 127.0.0.2 127.0.0.3 ::1 || die "cannot make certificates"

# ntsprobe in the server's namespace; each PASS/FAIL line becomes a check.
probe()
{
	local out rc line
	out=$(ip netns exec "$SRV" "$NTSPROBE" "$@" 2>&1)
	rc=$?
	while read -r line; do
		case $line in
		PASS*) pass "ntsprobe: ${line#PASS }" ;;
		FAIL*) fail "ntsprobe: ${line#FAIL }" ;;
		ntsprobe:*) fail "$line" ;;
		esac
	done <<<"$out"
	return $rc
}

# Run CMD... with HOROD_PID/HOROD_LOG set to PID and LOG (a second horod).
as_horod()
{
	local pid=$HOROD_PID log=$HOROD_LOG rc
	HOROD_PID=$1
	HOROD_LOG=$2
	shift 2
	"$@"
	rc=$?
	HOROD_PID=$pid
	HOROD_LOG=$log
	return $rc
}

# 1. Configuration errors.
T_CTX="config"
mkdir -m 700 "$T_DIR/dump1"
printf 'listen 127.0.0.1\nntsservercert %s\n' "$PKI/server.pem" >"$T_DIR/c1.conf"
out=$("$HOROD" --check-config -f "$T_DIR/c1.conf" 2>&1)
rc=$?
check "a certificate without its key: exit 2 (got $rc: $out)" \
	[ "$rc" = 2 ] && grep -q 'ntsservercert without ntsserverkey' <<<"$out"
printf 'listen 127.0.0.1\nntsservercert %s\nntsserverkey %s\n' "$PKI/ca.pem" "$PKI/server.key" \
	>"$T_DIR/c2.conf"
out=$(timeout 10 ip netns exec "$SRV" "$HOROD" -n -f "$T_DIR/c2.conf" 2>&1)
rc=$?
check "a certificate that does not match its key: exit 2 (got $rc: $out)" \
	[ "$rc" = 2 ] && grep -q 'certificate .* with key' <<<"$out"
printf 'listen 127.0.0.1\nntsservercert %s\nntsserverkey %s\nntsrotate 0\n' \
	"$PKI/server.pem" "$PKI/server.key" >"$T_DIR/c3.conf"
out=$("$HOROD" --check-config -f "$T_DIR/c3.conf" 2>&1)
rc=$?
check "ntsrotate 0 without ntsdumpdir: exit 2 (got $rc: $out)" \
	[ "$rc" = 2 ] && grep -q 'ntsrotate 0 .* needs ntsdumpdir' <<<"$out"
write_conf "$T_DIR/c4.conf" <<CONF
listen 127.0.0.1
local stratum 5
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsdumpdir $T_DIR/dump1
CONF
horod_start "$SRV" -f "$T_DIR/c4.conf" || die "horod did not start"
horod_stop
chmod 644 "$T_DIR/dump1/ntskeys"
timeout 10 ip netns exec "$SRV" "$HOROD" -n -f "$T_DIR/c4.conf" >"$T_DIR/c4.log" 2>&1
rc=$?
check "a key file readable by everyone stops the start: exit 1 (got $rc: $(grep -o 'readable by everyone.*' "$T_DIR/c4.log" | head -c 120))" \
	[ "$rc" = 1 ] && grep -q 'ntskeys: readable by everyone' "$T_DIR/c4.log"

# 2. Rotation: a cookie lives two rotations, then gets an NTS NAK.
T_CTX="rotation"
mkdir -m 700 "$T_DIR/dump2"
write_conf "$T_DIR/rot.conf" <<CONF
listen 127.0.0.1
local stratum 5
workers 1
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsdumpdir $T_DIR/dump2
ntsrotate 1
CONF
horod_start "$SRV" -f "$T_DIR/rot.conf" || die "horod did not start"
counters_mark
probe 127.0.0.1 --ca "$PKI/ca.pem" ok sleep=5 expired
check "the log says the keys rotated" grep -q 'nts: server keys rotated' "$HOROD_LOG"
expect_deltas "a fresh cookie, then the same one three rotations later" \
	"nts_ok=1 reply_server=1 nts_bad_cookie=1 reply_kod_ntsn=1 ke_ok=1"
horod_stop

# 3. Replicas sharing the key file.
T_CTX="replicas"
mkdir -m 700 "$T_DIR/shared"
write_conf "$T_DIR/a.conf" <<CONF
listen 127.0.0.1
local stratum 5
control $T_DIR/a.sock
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsdumpdir $T_DIR/shared
ntsrotate 4
ntsntpserver 127.0.0.2
CONF
write_conf "$T_DIR/b.conf" <<CONF
listen 127.0.0.2
local stratum 6
control $T_DIR/b.sock
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsdumpdir $T_DIR/shared
ntsrotate 0
CONF
horod_start "$SRV" -f "$T_DIR/a.conf" || die "server A did not start"
A_PID=$HOROD_PID
A_LOG=$HOROD_LOG
t0=$SECONDS
# Under HOROD_TEST_GUARD, A holds the namespace's XDP attachment: B runs without.
HOROD_GUARD_FALLBACK_OK=1 horod_start "$SRV" -f "$T_DIR/b.conf" || die "server B did not start"
B_PID=$HOROD_PID
B_LOG=$HOROD_LOG
counters_mark
out=$(ip netns exec "$SRV" "$HOROCTL" check --nts 127.0.0.1 --ca "$PKI/ca.pem" --json)
check "horoctl check --nts A: NTP goes to B (127.0.0.2, stratum 6), authenticated" \
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
sys.exit(not (d["exit"] == 0 and d["ke"]["ntp_server"] == "127.0.0.2" and d["query"]["stratum"] == 6))' "$out"
# After A's first rotation (4 s): A's new cookies use the key B has as "next".
sleep $((5 - (SECONDS - t0)))
probe 127.0.0.1 --ntp-host 127.0.0.2 --ca "$PKI/ca.pem" ok
# After A's second rotation (8 s) and B's look at the file (every 10 s).
sleep $((12 - (SECONDS - t0)))
probe 127.0.0.1 --ntp-host 127.0.0.2 --ca "$PKI/ca.pem" ok
check "B read the key file again" grep -q 'nts: server keys read again' "$B_LOG"
expect_deltas "B answered A's cookies, three times" "nts_ok=3 reply_server=3 nts_bad_cookie=0
	ke_ok=0"
as_horod "$A_PID" "$A_LOG" horod_counters
check "A ran the three NTS-KE exchanges and rotated twice" \
	[ "$(counter ke_ok)" = 3 ] && [ "$(grep -c 'server keys rotated' "$A_LOG")" -ge 2 ]
horod_stop
HOROD_PID=$A_PID
HOROD_LOG=$A_LOG
horod_stop

# 4. Port negotiation: NTP on 11123, NTS-KE on 14460.
T_CTX="port"
write_conf "$T_DIR/port.conf" <<CONF
listen 127.0.0.3 port 11123
local stratum 5
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
ntsport 14460
CONF
horod_start "$SRV" -f "$T_DIR/port.conf" || die "horod did not start"
out=$(ip netns exec "$SRV" "$HOROCTL" check --nts 127.0.0.3:14460 --ca "$PKI/ca.pem" --json)
check "NTS-KE on 14460 names NTP port 11123, and the query there is authenticated" \
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
sys.exit(not (d["exit"] == 0 and d["ke"]["ntp_port"] == 11123 and d["query"]["target"] == "127.0.0.3:11123"))' "$out"
horod_stop

# 5. A flood of connections and handshakes, bounded; NTP serving unaffected.
T_CTX="flood"
write_conf "$T_DIR/flood.conf" <<CONF
listen 127.0.0.1
local stratum 5
workers 2
ntsservercert $PKI/server.pem
ntsserverkey $PKI/server.key
maxntsconnections 8
ntsthreads 2
CONF
horod_start "$SRV" -f "$T_DIR/flood.conf" || die "horod did not start"
check "the log names two NTS-KE threads" grep -q 'NTS-KE on port 4460 (1 listener, 2 threads' "$HOROD_LOG"
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$HOROD_PID/status")
counters_mark
ip netns exec "$SRV" "$NTSPROBE" 127.0.0.1 --ca "$PKI/ca.pem" flood=40 >"$T_DIR/flood.out" 2>&1 &
fpid=$!
_PIDS+=($fpid)
lpids=()
for i in 1 2; do
	ip netns exec "$SRV" "$NTSPROBE" 127.0.0.1 --ca "$PKI/ca.pem" ke-loop=3 \
		>"$T_DIR/loop$i.out" 2>&1 &
	lpids+=($!)
	_PIDS+=($!)
done
check_craft "300 plain NTP requests during the flood, every one answered" "$SRV" 127.0.0.1 123 \
	--count 300 --interval 0.005 --expect answered=true
rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$HOROD_PID/status")
wait "$fpid"
rc=$?
while read -r line; do
	case $line in
	PASS*) pass "ntsprobe: ${line#PASS }" ;;
	FAIL*) fail "ntsprobe: ${line#FAIL }" ;;
	esac
done <"$T_DIR/flood.out"
check "the flooding probe exits 0 (got $rc)" [ "$rc" = 0 ]
for i in 1 2; do
	wait "${lpids[$((i - 1))]}"
	sed -n 's/^PASS \(.*\)/handshake client '"$i"': \1/p' "$T_DIR/loop$i.out"
done
horod_counters
refused=$(($(counter ke_refused) - $(counter ke_refused "$_BASE")))
timeouts=$(($(counter ke_timeout) - $(counter ke_timeout "$_BASE")))
oks=$(($(counter ke_ok) - $(counter ke_ok "$_BASE")))
echo "    NTS-KE during the flood: ok $oks, refused $refused, timeouts $timeouts; RSS ${rss0} KiB -> ${rss1} KiB"
check "sessions past maxntsconnections refused (refused $refused), idle ones timed out ($timeouts)" \
	[ "$refused" -ge 1 ] && [ "$timeouts" -ge 1 ] && [ "$oks" -ge 3 ]
if ldd "$HOROD" 2>/dev/null | grep -q libasan; then
	# ASan keeps freed memory in its quarantine (256 MiB): growth says nothing here.
	echo "    (memory bound not checked: an ASan build, whose quarantine keeps what TLS frees)"
else
	check "memory during the flood grows by less than 16 MiB (${rss0} -> ${rss1} KiB)" \
		[ $((rss1 - rss0)) -lt 16384 ]
fi
check_craft "NTP still answered after the flood" "$SRV" 127.0.0.1 123 --expect answered=true
# Idle connections alone, nothing else to wake either thread: each closes its own at 2 s.
probe 127.0.0.1 --ca "$PKI/ca.pem" flood=8
horod_stop
check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]

# 6. SIGHUP: the keyfile and the NTS certificate read again, nothing lost.
T_CTX="reload"
HB=$HOROD_BUILD/horobench
[ -x "$HB" ] || die "no horobench binary at $HB (run make all)"
LOAD_RATE=3000 # requests/s of plain NTP meanwhile
LOAD_S=4       # s of load: covers the reloads below (checked)
RELOAD_WAIT=5  # s: a SIGHUP to its log line
LIVE=$T_DIR/live
mkdir -m 700 "$LIVE"
nts_make_certs "$T_DIR/pki2" 127.0.0.1 || die "cannot make the second certificates"
cp "$PKI/server.pem" "$PKI/server.key" "$LIVE/"
printf '1 MD5 ASCII:horod-reload-one\n' >"$LIVE/keys"
chmod 600 "$LIVE/keys"
LEAPDATA=$(cd "$(dirname "$0")/../data/leap" && pwd)
cp "$LEAPDATA/ietf-2025.list" "$LIVE/leap.list" # expired on 2026-06-28: accepted, no authority
write_conf "$T_DIR/reload.conf" <<CONF
listen 127.0.0.1
local stratum 5
workers 2
control $T_DIR/reload.sock
leapfile $LIVE/leap.list
keyfile $LIVE/keys
ntsservercert $LIVE/server.pem
ntsserverkey $LIVE/server.key
CONF

# A mode 3 request with an MD5 MAC under key ID with SECRET: "answered LEN" or "silence".
mac_ask()
{
	ip netns exec "$SRV" python3 - "$1" "$2" <<'PY'
import hashlib, os, socket, sys
keyid, secret = int(sys.argv[1]), sys.argv[2].encode()
hdr = bytes([0x23, 0, 6, 0]) + bytes(36) + os.urandom(8)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.sendto(hdr + keyid.to_bytes(4, "big") + hashlib.md5(secret + hdr).digest(), ("127.0.0.1", 123))
try:
    print("answered", len(s.recv(2048)))
except socket.timeout:
    print("silence")
PY
}

# SIGHUP horod; wait (bounded) until its log has a line matching PATTERN more; print it.
hup_until()
{
	local n i
	n=$(grep -c -- "$1" "$HOROD_LOG")
	kill -HUP "$HOROD_PID"
	for i in $(seq $((RELOAD_WAIT * 20))); do
		[ "$(grep -c -- "$1" "$HOROD_LOG")" -gt "$n" ] && break
		sleep 0.05
	done
	grep -- "$1" "$HOROD_LOG" | tail -n1
}

# horoctl check --nts trusting CA: exit status 0 when the served certificate chains to it.
nts_check()
{
	ip netns exec "$SRV" "$HOROCTL" check --nts 127.0.0.1 --ca "$1" --timeout 2 >/dev/null 2>&1
}

# horoctl status --json's leapfile_expiry ("expired", ...).
leap_expiry()
{
	"$HOROCTL" -s "$T_DIR/reload.sock" status --json |
		python3 -c 'import json, sys; print(json.load(sys.stdin).get("leapfile_expiry"))'
}

horod_start "$SRV" -f "$T_DIR/reload.conf" || die "horod did not start"
counters_mark
ip netns exec "$SRV" "$HB" --rate "$LOAD_RATE" --duration "$LOAD_S" --json 127.0.0.1 123 \
	>"$T_DIR/load.json" 2>"$T_DIR/load.err" &
load=$!
_PIDS+=($load)
# An NTS-KE session that shakes hands now and asks for its cookies after the reload.
ip netns exec "$SRV" python3 - "$PKI/ca.pem" >"$T_DIR/inflight.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.set_alpn_protocols(["ntske/1"])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", 4460), timeout=2),
                    server_hostname="127.0.0.1")
print("handshake done", flush=True)
time.sleep(1.2)
# Next Protocol NTPv4, AEAD AES-SIV-CMAC-256 (15), End of Message: all critical.
s.sendall(bytes.fromhex("80010002000080040002000f80000000"))
data = b""
while True:
    try:
        b = s.recv(4096)
    except (ssl.SSLError, OSError):
        break
    if not b:
        break
    data += b
cookies, i = 0, 0
while i + 4 <= len(data):
    t, n = int.from_bytes(data[i:i + 2], "big") & 0x7FFF, int.from_bytes(data[i + 2:i + 4], "big")
    cookies += t == 5
    i += 4 + n
print("cookies", cookies)
PY
inflight=$!
_PIDS+=($inflight)
for i in $(seq 40); do
	grep -q 'handshake done' "$T_DIR/inflight.out" && break
	sleep 0.05
done
check "a MAC with key 1 is answered before the reload ($(mac_ask 1 horod-reload-one))" \
	grep -q answered <<<"$(mac_ask 1 horod-reload-one)"
check "horoctl check --nts trusts the first CA before the reload" nts_check "$PKI/ca.pem"
# New keys and a new certificate, in place.
printf '2 MD5 ASCII:horod-reload-two\n' >"$LIVE/keys.new"
chmod 600 "$LIVE/keys.new"
mv "$LIVE/keys.new" "$LIVE/keys"
cp "$T_DIR/pki2/server.pem" "$LIVE/server.pem"
cp "$T_DIR/pki2/server.key" "$LIVE/server.key"
cp "$LEAPDATA/future.list" "$LIVE/leap.list"
check "the leap table in force at start has expired ($(leap_expiry))" [ "$(leap_expiry)" = expired ]
line=$(hup_until 'SIGHUP: NTS-KE certificate')
check "SIGHUP reloads the NTS-KE certificate (${line#*horod*: })" grep -q 'reloaded' <<<"$line"
check "SIGHUP reloads the keyfile: 1 key (were 1)" \
	grep -q "SIGHUP: keyfile $LIVE/keys reloaded: 1 symmetric key (were 1)" "$HOROD_LOG"
check "a MAC with the new key 2 is answered ($(mac_ask 2 horod-reload-two))" \
	grep -q answered <<<"$(mac_ask 2 horod-reload-two)"
check "a MAC with the removed key 1 is not ($(mac_ask 1 horod-reload-one))" \
	grep -q silence <<<"$(mac_ask 1 horod-reload-one)"
check "horoctl check --nts trusts the new CA after the reload" nts_check "$T_DIR/pki2/ca.pem"
check "SIGHUP reloads the leap table: a valid one takes the expired one's place" \
	grep -q "SIGHUP: leap table $LIVE/leap.list reloaded: .* expires 2035-12-28" "$HOROD_LOG"
check "horoctl status shows the new table ($(leap_expiry))" [ "$(leap_expiry)" != expired ]
check "and no longer the first one" not nts_check "$PKI/ca.pem"
# Broken files: what is in force stays.
printf '3 MD5 ASCII:horod-reload-three\n4 SHA256 HEX:00\n' >"$LIVE/keys"
cp "$PKI/server.pem" "$LIVE/server.pem" # the first certificate with the second's key
cp "$LEAPDATA/ietf-2025.list" "$LIVE/leap.list"
line=$(hup_until 'the NTS-KE certificate and key in force stay')
check "the plain load still ran at the last SIGHUP" kill -0 "$load"
check "a certificate that does not match its key keeps the one in force (${line#*horod*: })" \
	[ -n "$line" ]
check "a broken keyfile keeps the keys in force: PATH:LINE: what" \
	grep -q "SIGHUP: $LIVE/keys:2: .*: the 1 key in force stay" "$HOROD_LOG"
check "a MAC with key 2 is still answered ($(mac_ask 2 horod-reload-two))" \
	grep -q answered <<<"$(mac_ask 2 horod-reload-two)"
check "horoctl check --nts still trusts the new CA" nts_check "$T_DIR/pki2/ca.pem"
check "an expired leap table keeps the one in force" \
	grep -q "SIGHUP: leap table $LIVE/leap.list has expired: the table in force stays" "$HOROD_LOG"
check "horoctl status still shows the valid table ($(leap_expiry))" [ "$(leap_expiry)" != expired ]
wait "$inflight"
check "the NTS-KE session begun before the reload got its cookies ($(tail -n1 "$T_DIR/inflight.out"))" \
	grep -q '^cookies 8$' "$T_DIR/inflight.out"
wait "$load"
out=$(cat "$T_DIR/load.json")
echo "    plain load meanwhile: $(python3 -c 'import json, sys
d = json.loads(sys.argv[1]); print("sent %d, answered %d, valid %d, loss %s" % (d["sent"], d["answered"], d["valid"], d["loss"]))' "$out" 2>&1)"
check "every plain request during the reloads answered and valid" python3 -c 'import json, sys
d = json.loads(sys.argv[1]); sys.exit(not (d["sent"] > 0 and d["valid"] == d["sent"]))' "$out"
horod_stop
check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]

finish
