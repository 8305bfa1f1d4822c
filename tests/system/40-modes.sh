#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# Every mode and version, and the malformed requests, get the right answer
# and move the right counter by the right amount (and no other reason).
# Mode 3 and mode 1 requests of every version 1-4 are answered with mode 4
# and mode 2, their version echoed, the origin timestamp copied bit for bit,
# 48 bytes, stratum 7, refid LOCL. Modes 0, 2, 4, 5, mode 7 (long and
# short), versions 0 and 5-7, short datagrams (0-47 bytes), lengths that
# are not a multiple of 4 and malformed extension fields get no reply. Mode
# 6 from loopback counts as `control`; from a client across a veth pair
# (not loopback, not control-allowed) it is dropped as drop_mode_control.
# Each ntpcraft run ends with a valid probe request from the same socket,
# so its reply proves the earlier datagrams were read. Runs once per io mode.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

P=123
NR="--timeout 0.2 --expect answered=false --probe" # no reply expected
RPL="--expect answered=true --expect reply_len=48 --expect org_matches=true
	--expect stratum=7 --expect leap=0 --expect refid_ascii=LOCL --expect rec_le_xmt=true"

for io in $HOROD_IO_MODES; do
	T_CTX="io=$io"
	conf=$T_DIR/horod-$io.conf
	write_conf "$conf" <<CONF
listen 127.0.0.1
listen ::1
listen $VETH_SRV4
listen $VETH_SRV6
local stratum 7
workers 2
io $io
CONF
	if ! horod_start "$SRV" -f "$conf"; then
		fail "horod did not start"
		continue
	fi
	counters_mark

	# Mode 3 -> mode 4, VN echoed.
	for vn in 1 2 3 4; do
		# shellcheck disable=SC2086
		check_craft "mode 3 VN $vn over 127.0.0.1 -> mode 4 VN $vn" "$SRV" 127.0.0.1 $P \
			--vn $vn --mode 3 $RPL --expect mode=4 --expect version=$vn
	done
	# shellcheck disable=SC2086
	check_craft "mode 3 VN 4 over ::1 -> mode 4" "$SRV" ::1 $P $RPL --expect mode=4 --expect version=4
	# shellcheck disable=SC2086
	check_craft "mode 3 VN 4 over veth IPv6 -> mode 4" "$CLI" "$VETH_SRV6" $P $RPL --expect mode=4
	expect_deltas "mode 3" "reply_server=6 received=6"

	# Mode 1 (symmetric active) -> mode 2, statelessly, VN echoed.
	for vn in 1 2 3 4; do
		# shellcheck disable=SC2086
		check_craft "mode 1 VN $vn -> mode 2 VN $vn" "$SRV" 127.0.0.1 $P \
			--vn $vn --mode 1 $RPL --expect mode=2 --expect version=$vn
	done
	# shellcheck disable=SC2086
	check_craft "mode 1 over veth IPv4 -> mode 2" "$CLI" "$VETH_SRV4" $P --mode 1 $RPL --expect mode=2
	expect_deltas "mode 1" "reply_symmetric=5 received=5"

	# Modes a server never answers.
	for m in 0 2 4 5; do
		# shellcheck disable=SC2086
		check_craft "mode $m gets no reply" "$SRV" 127.0.0.1 $P --mode $m --count 2 $NR
	done
	expect_deltas "modes 0 2 4 5" "drop_mode_reserved=2 drop_mode_passive=2 drop_mode_server=2
		drop_mode_broadcast=2 reply_server=4 received=12"

	# Mode 7 (monlist): 48 bytes, its own 8-byte header (short, still
	# classified by mode), and from the veth client.
	# shellcheck disable=SC2086
	check_craft "mode 7, 48 bytes, gets no reply" "$SRV" 127.0.0.1 $P --mode 7 --vn 2 --len 48 --count 2 $NR
	# shellcheck disable=SC2086
	check_craft "mode 7, 8 bytes, gets no reply" "$SRV" 127.0.0.1 $P --mode 7 --vn 2 --len 8 --count 2 $NR
	# shellcheck disable=SC2086
	check_craft "mode 7 over veth gets no reply" "$CLI" "$VETH_SRV4" $P --mode 7 --vn 2 --len 48 $NR
	expect_deltas "mode 7" "drop_mode_private=5 reply_server=3 received=8"

	# Versions 0 and 5-7; a short mode 7 with VN 0 is just short; a
	# 48-byte mode 7 with VN 5 is a bad version.
	for vn in 0 5 6 7; do
		# shellcheck disable=SC2086
		check_craft "VN $vn gets no reply" "$SRV" 127.0.0.1 $P --vn $vn $NR
	done
	# shellcheck disable=SC2086
	check_craft "VN 0 mode 7 8 bytes gets no reply" "$SRV" 127.0.0.1 $P --vn 0 --mode 7 --len 8 $NR
	# shellcheck disable=SC2086
	check_craft "VN 5 mode 7 48 bytes gets no reply" "$SRV" 127.0.0.1 $P --vn 5 --mode 7 $NR
	expect_deltas "bad versions" "drop_version=5 drop_short=1 reply_server=6 received=12"

	# Every length below the header, 0 to 47 bytes.
	check_craft "0-47 byte requests get no reply" "$SRV" 127.0.0.1 $P --sweep 0 47 \
		--timeout 0.3 --expect answered=0 --probe
	expect_deltas "short" "drop_short=48 reply_server=1 received=49"

	# Lengths that are not a multiple of 4.
	for len in 49 50 51 53 55; do
		# shellcheck disable=SC2086
		check_craft "$len-byte request gets no reply" "$SRV" 127.0.0.1 $P --len $len $NR
	done
	expect_deltas "odd lengths" "drop_length=5 reply_server=5 received=10"

	# Malformed extension fields: length past the end, zero, not a
	# multiple of 4; and 8 bytes after the header (neither an extension
	# field nor a MAC).
	for ef in 32 0 6; do
		# shellcheck disable=SC2086
		check_craft "extension field length $ef in 16 bytes gets no reply" "$SRV" 127.0.0.1 $P \
			--len 64 --ef-len $ef $NR
	done
	# shellcheck disable=SC2086
	check_craft "8 bytes after the header get no reply" "$SRV" 127.0.0.1 $P --len 56 --pad zero $NR
	expect_deltas "bad extensions" "drop_extension=4 reply_server=4 received=8"

	# Mode 6 from loopback: control (dropped for now, so no reply check).
	craft "$SRV" 127.0.0.1 $P --mode 6 --vn 2 --len 12 --count 2 --timeout 0.2 >/dev/null
	craft "$SRV" ::1 $P --mode 6 --vn 2 --len 12 --timeout 0.2 >/dev/null
	expect_deltas "mode 6 from loopback" "control=3 received=3"

	# Mode 6 from a non-control address: no reply.
	# shellcheck disable=SC2086
	check_craft "mode 6 (12 bytes) over veth IPv4 gets no reply" "$CLI" "$VETH_SRV4" $P \
		--mode 6 --vn 2 --len 12 $NR
	# shellcheck disable=SC2086
	check_craft "mode 6 (48 bytes) over veth IPv6 gets no reply" "$CLI" "$VETH_SRV6" $P \
		--mode 6 --vn 2 --len 48 $NR
	expect_deltas "mode 6 from a non-control address" "drop_mode_control=2 reply_server=2 received=4"

	horod_stop
	check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
done

finish
