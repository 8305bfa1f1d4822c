#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# Symmetric keys (RFC 5905 MACs, RFC 8573 AES-CMAC) with real clients.
# horod reads a chrony-format keyfile (MD5, SHA1, AES128, AES256 keys as
# ASCII and HEX); chronyd 4.3 -Q with `server ADDR key N` accepts only a
# reply authenticated with key N, so its sample proves the MAC, for each
# kind of key; NTPsec's ntpdig (-a N -k FILE, NTPsec's own key file
# format) too. A request with a key id horod does not have, or a wrong
# digest, gets no answer (as chrony does) and is counted. A keyfile that
# everyone may read, or a line that is not a key, stops horod before it
# listens (exit 2, `PATH:LINE: ...`; --check-config checks the text of
# horod.conf only). Per io mode.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd setpriv
need_chronyd
SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"
MAX_OFFSET=0.001 # seconds: same clock on both sides

K2=00112233445566778899aabbccddeeff00112233
K3=2b7e151628aed2a6abf7158809cf4f3c
K4=603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4
KEYS=$T_DIR/horod.keys
cat >"$KEYS" <<KEYS
# horod's keys, chrony's format
1 MD5 ASCII:horod-md5-secret
2 SHA1 HEX:$K2
3 AES128 HEX:$K3
4 AES256 HEX:$K4
5 plainmd5key
KEYS
chmod 640 "$KEYS"

# Configuration errors first: no namespace needed.
T_CTX="config"
cp "$KEYS" "$T_DIR/open.keys"
chmod 644 "$T_DIR/open.keys"
printf 'listen 127.0.0.1\nkeyfile %s\n' "$T_DIR/open.keys" >"$T_DIR/open.conf"
out=$(timeout 10 ip netns exec "$SRV" "$HOROD" -n -f "$T_DIR/open.conf" 2>&1)
rc=$?
check "a keyfile everyone may read stops horod: exit 2 (got $rc: $out)" \
	[ "$rc" = 2 ] && grep -q 'readable by everyone (mode 644)' <<<"$out"
printf '1 MD5 ASCII:ok\n2 SHA256 HEX:00\n' >"$T_DIR/bad.keys"
chmod 600 "$T_DIR/bad.keys"
printf 'listen 127.0.0.1\nkeyfile %s\n' "$T_DIR/bad.keys" >"$T_DIR/bad.conf"
out=$(timeout 10 ip netns exec "$SRV" "$HOROD" -n -f "$T_DIR/bad.conf" 2>&1)
rc=$?
check "an unsupported key type: exit 2, PATH:LINE: what, allowed (got $rc: $out)" \
	[ "$rc" = 2 ] && grep -q "bad.keys:2: key type 'SHA256' not supported, allowed: MD5 SHA1 AES128 AES256" <<<"$out"

# Send a mode 3 request with a MAC (key ID, digest of DIGEST kind over the
# header with SECRET) from namespace NS to ADDR; print "answered LEN" or
# "silence". For the keys horod lacks and for wrong digests.
mac_request()
{
	ip netns exec "$1" python3 - "$2" "$3" "$4" "$5" <<'PY'
import hashlib, os, socket, sys
addr, keyid, kind, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
hdr = bytes([0x23, 0, 6, 0]) + bytes(36) + os.urandom(8)
digest = hashlib.new(kind, secret + hdr).digest()
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.sendto(hdr + keyid.to_bytes(4, "big") + digest, (addr, 123))
try:
    data = s.recv(2048)
    print("answered", len(data))
except socket.timeout:
    print("silence")
PY
}

# chronyd -Q in NS against ADDR with key ID from FILE: its log, its exit status.
chronyd_key()
{
	timeout 30 ip netns exec "$1" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$CHRONYD" -x -u root -Q -t 10 "server $2 iburst key $3 maxsamples 3" \
		"keyfile $4" "pidfile $T_DIR/chronyd-key.pid" "cmdport 0" "bindcmdaddress /" 2>&1
}

NTPDIG=$(command -v ntpdig)
# NTPsec's key file: `ID TYPE KEY`, ASCII up to 20 characters or hex.
cat >"$T_DIR/ntpsec.keys" <<KEYS
1 MD5 horod-md5-secret
2 SHA1 $K2
3 AES $K3
KEYS
chmod 600 "$T_DIR/ntpsec.keys"

for io in $HOROD_IO_MODES; do
	T_CTX="io=$io"
	conf=$T_DIR/horod-$io.conf
	write_conf "$conf" <<CONF
listen 127.0.0.1
listen $VETH_SRV4
listen $VETH_SRV6
local stratum 4
workers 2
io $io
keyfile $KEYS
CONF
	if ! horod_start "$SRV" -f "$conf"; then
		fail "horod did not start"
		continue
	fi
	check "the start logs the keys" grep -q "keyfile $KEYS: 5 symmetric keys" "$HOROD_LOG"
	counters_mark
	for k in 1 2 3 4 5; do
		addr=$VETH_SRV4
		[ "$k" = 2 ] && addr=$VETH_SRV6
		log=$(chronyd_key "$CLI" "$addr" "$k" "$KEYS")
		rc=$?
		off=$(sed -n 's/.*System clock wrong by \([-+0-9.e]*\) seconds.*/\1/p' <<<"$log" | tail -n1)
		if [ "$rc" = 0 ] && abs_below "$off" "$MAX_OFFSET"; then
			kind=$(sed -n "s/^$k \([A-Z0-9]*\) .*/\1/p" "$KEYS")
			pass "chronyd -Q key $k (${kind:-MD5, the type left out}) via $addr: offset $off s"
		else
			fail "chronyd -Q key $k via $addr: exit $rc, offset '${off:-none}'"
			tail -n 5 <<<"$log" | sed 's/^/    | /'
		fi
	done
	horod_counters
	d=$(($(counter mac_ok) - $(counter mac_ok "$_BASE")))
	check "chronyd's requests were all answered with a MAC ($d of them, >= 15)" [ "$d" -ge 15 ]
	expect_deltas "chronyd with keys" "mac_ok=$d reply_server=$d mac_unknown_key=0 mac_bad=0
		drop_auth=0"
	if [ -n "$NTPDIG" ]; then
		for k in 1 2 3; do
			out=$(timeout 15 ip netns exec "$CLI" "$NTPDIG" -j -t 2 -a "$k" -k "$T_DIR/ntpsec.keys" \
				"$VETH_SRV4" 2>&1 | grep '^{' | head -n1)
			st=$(json_get "$out" stratum)
			check "ntpdig -a $k (NTPsec's $(sed -n "s/^$k \([A-Z0-9]*\) .*/\1/p" "$T_DIR/ntpsec.keys") key): stratum 4 (got: ${out:-nothing})" \
				[ "$st" = 4 ]
		done
		horod_counters
		d=$(($(counter mac_ok) - $(counter mac_ok "$_BASE")))
		expect_deltas "ntpdig with keys" "mac_ok=$d reply_server=$d mac_unknown_key=0 mac_bad=0"
	fi
	out=$(mac_request "$CLI" "$VETH_SRV4" 99 md5 horod-md5-secret)
	check "a key id horod lacks: no answer ($out)" [ "$out" = silence ]
	out=$(mac_request "$CLI" "$VETH_SRV4" 1 md5 wrong-secret)
	check "key 1 with a wrong digest: no answer ($out)" [ "$out" = silence ]
	out=$(mac_request "$CLI" "$VETH_SRV4" 1 md5 horod-md5-secret)
	check "key 1 with its digest: answered with a 68-byte reply ($out)" [ "$out" = "answered 68" ]
	out=$(mac_request "$CLI" "$VETH_SRV4" 1 sha1 horod-md5-secret)
	check "key 1 (MD5) with a SHA-1 digest (wrong length): no answer ($out)" [ "$out" = silence ]
	expect_deltas "unknown key, wrong digest, right digest, wrong length" \
		"mac_unknown_key=1 mac_bad=2 mac_ok=1 drop_auth=3 reply_server=1 received=4"
	horod_stop
	check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
done

finish
