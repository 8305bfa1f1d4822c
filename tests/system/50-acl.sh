#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# Access lists. A denied source gets no reply and counts drop_denied; deny
# wins over allow whatever the order and the prefix lengths; with allow
# lines, only what they match is served (loopback included); `deny all`
# refuses everyone. Packet checks come before the access list, so a denied
# source sending mode 7, a short datagram or a bad version counts that
# reason instead. `control allow` lets a non-loopback address send mode 6.
# Clients sit across a veth pair with two addresses per family, so one can
# be denied while the other is served. Runs once per io mode.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

P=123
NR="--timeout 0.3 --expect answered=false"
OK="--expect answered=true --expect stratum=7 --expect org_matches=true"

# start_with IO RULES...: horod with the four listen addresses and RULES.
start_with()
{
	local io=$1 conf=$T_DIR/horod.conf
	shift
	{
		printf 'listen 127.0.0.1\nlisten ::1\nlisten %s\nlisten %s\n' "$VETH_SRV4" "$VETH_SRV6"
		printf 'local stratum 7\nworkers 2\nio %s\n' "$io"
		printf '%s\n' "$@"
	} >"$conf"
	horod_start "$SRV" -f "$conf" || return 1
	counters_mark
}

# served WHAT NS SRCADDR DST / refused WHAT NS SRCADDR DST [ntpcraft options]
served()
{
	local what=$1 ns=$2 src=$3 dst=$4
	shift 4
	# shellcheck disable=SC2086
	check_craft "$what: $src -> $dst served" "$ns" "$dst" $P --bind "$src" $OK "$@"
}
refused()
{
	local what=$1 ns=$2 src=$3 dst=$4
	shift 4
	# shellcheck disable=SC2086
	check_craft "$what: $src -> $dst refused" "$ns" "$dst" $P --bind "$src" $NR "$@"
}

for io in $HOROD_IO_MODES; do
	T_CTX="io=$io"

	# A: allow all, deny one address per family, control for .3.
	if start_with "$io" "allow all" "deny $VETH_CLI4" "deny $VETH_CLI6" "control allow $VETH_CLI4B/32"; then
		refused "deny one" "$CLI" "$VETH_CLI4" "$VETH_SRV4"
		refused "deny one" "$CLI" "$VETH_CLI6" "$VETH_SRV6"
		refused "deny one, mode 1" "$CLI" "$VETH_CLI4" "$VETH_SRV4" --mode 1
		served "deny one" "$CLI" "$VETH_CLI4B" "$VETH_SRV4"
		served "deny one" "$CLI" "$VETH_CLI6B" "$VETH_SRV6"
		served "deny one" "$SRV" 127.0.0.1 127.0.0.1
		expect_deltas "deny one" "drop_denied=3 reply_server=3 received=6"

		refused "denied, mode 7" "$CLI" "$VETH_CLI4" "$VETH_SRV4" --mode 7 --vn 2
		refused "denied, 20 bytes" "$CLI" "$VETH_CLI4" "$VETH_SRV4" --len 20
		refused "denied, VN 5" "$CLI" "$VETH_CLI4" "$VETH_SRV4" --vn 5
		expect_deltas "packet checks before the access list" \
			"drop_mode_private=1 drop_short=1 drop_version=1 received=3"

		craft "$CLI" "$VETH_SRV4" $P --bind "$VETH_CLI4B" --mode 6 --vn 2 --len 12 --timeout 0.2 >/dev/null
		refused "mode 6 from a non-control address" "$CLI" "$VETH_CLI4" "$VETH_SRV4" --mode 6 --vn 2 --len 12
		expect_deltas "control allow" "control=1 drop_mode_control=1 received=2"
		horod_stop
	else
		fail "horod did not start (allow all, deny one)"
	fi

	# B: deny wins over a more specific allow, whatever the order.
	if start_with "$io" "deny 192.0.2.0/24" "allow $VETH_CLI4" "allow 127.0.0.1" \
		"allow $VETH_CLI6/128" "deny 2001:db8::/32" "allow ::1"; then
		refused "deny wins" "$CLI" "$VETH_CLI4" "$VETH_SRV4"
		refused "deny wins" "$CLI" "$VETH_CLI4B" "$VETH_SRV4"
		refused "deny wins" "$CLI" "$VETH_CLI6" "$VETH_SRV6"
		served "deny wins" "$SRV" 127.0.0.1 127.0.0.1
		served "deny wins" "$SRV" ::1 ::1
		expect_deltas "deny wins over allow" "drop_denied=3 reply_server=2 received=5"
		horod_stop
	else
		fail "horod did not start (deny wins)"
	fi

	# C: allow lines only: what they do not match is refused, loopback too.
	if start_with "$io" "allow $VETH_CLI4B" "allow $VETH_CLI6B"; then
		served "allow list" "$CLI" "$VETH_CLI4B" "$VETH_SRV4"
		served "allow list" "$CLI" "$VETH_CLI6B" "$VETH_SRV6"
		refused "allow list" "$CLI" "$VETH_CLI4" "$VETH_SRV4"
		refused "allow list" "$CLI" "$VETH_CLI6" "$VETH_SRV6"
		refused "allow list" "$SRV" 127.0.0.1 127.0.0.1
		expect_deltas "allow list" "drop_denied=3 reply_server=2 received=5"
		horod_stop
	else
		fail "horod did not start (allow list)"
	fi

	# D: deny all beats allow all.
	if start_with "$io" "allow all" "deny all"; then
		refused "deny all" "$CLI" "$VETH_CLI4" "$VETH_SRV4"
		refused "deny all" "$CLI" "$VETH_CLI6B" "$VETH_SRV6"
		refused "deny all" "$SRV" ::1 ::1
		expect_deltas "deny all" "drop_denied=3 received=3"
		horod_stop
	else
		fail "horod did not start (deny all)"
	fi
done

finish
