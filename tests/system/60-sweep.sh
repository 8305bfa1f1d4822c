#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# No amplification: for every request size from 48 to 1024 bytes the reply
# is never longer than the request. Sizes that are a multiple of 4 carry
# one extension field of the right length where one fits (else zero
# padding); at least every size with no padding or with a lone extension
# field of 28 bytes or more (RFC 7822's minimum for the last field) must be
# answered, and no size that is not a multiple of 4. The counters must add
# up: every odd size counts drop_length, every answered one a reply, the
# rest drop_extension (or drop_unsupported, or drop_auth for the sizes
# whose zero padding has the size of a MAC: no key 0 is ever configured),
# nothing else. Swept over 127.0.0.1, ::1 and both families across a veth
# pair (mode 3), and in mode 1 across the veth; once per io mode.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
SRV=$(ns_name srv)
CLI=$(ns_name cli)
ns_create "$SRV"
ns_create "$CLI"
veth_create "$SRV" "$CLI"

P=123
MIN=48
MAX=1024
SENT=$((MAX - MIN + 1))
MULT4=$(((MAX - MIN) / 4 + 1))
# Sizes sure to be valid: 48, and 48 + 28 = 76 up to MAX in steps of 4.
LOWER=$((1 + (MAX - 76) / 4 + 1))

# sweep WHAT NS DST MODE REPLY_COUNTER
sweep()
{
	local what=$1 ns=$2 dst=$3 mode=$4 reply=$5 out rc a dl dr de du da others r d
	out=$(craft "$ns" "$dst" $P --mode "$mode" --sweep $MIN $MAX --timeout 1 \
		--expect "max_excess<=0" --expect longer_than_request=0 --expect answered_not_mult4=0 \
		--expect unmatched=0 --expect bad_mode=0 --expect bad_version=0 \
		--expect "answered>=$LOWER" 2>&1)
	rc=$?
	a=$(json_get "$(grep '^{' <<<"$out")" answered)
	if [ "$rc" = 0 ]; then
		pass "$what: $a of $SENT sizes answered (>= $LOWER), none longer than its request"
	else
		fail "$what: sweep $MIN-$MAX failed"
		echo "$out" | cut -c1-600 | sed 's/^/    | /'
	fi
	[ -n "$a" ] || return
	# The counters must account for every datagram (wait, bounded, until
	# all were counted as received).
	for _ in $(seq $((SETTLE_TIMEOUT * 10))); do
		horod_counters || {
			fail "$what: no counters"
			return
		}
		[ $(($(counter received) - $(counter received "$_BASE"))) -ge "$SENT" ] && break
		sleep 0.1
	done
	dl=$(($(counter drop_length) - $(counter drop_length "$_BASE")))
	dr=$(($(counter "$reply") - $(counter "$reply" "$_BASE")))
	de=$(($(counter drop_extension) - $(counter drop_extension "$_BASE")))
	du=$(($(counter drop_unsupported) - $(counter drop_unsupported "$_BASE")))
	da=$(($(counter drop_auth) - $(counter drop_auth "$_BASE")))
	d=$(($(counter received) - $(counter received "$_BASE")))
	others=""
	for r in "${REASONS[@]}"; do
		case $r in drop_length | "$reply" | drop_extension | drop_unsupported | drop_auth) continue ;; esac
		[ "$(counter "$r")" = "$(counter "$r" "$_BASE")" ] ||
			others="$others $r:+$(($(counter "$r") - $(counter "$r" "$_BASE")))"
	done
	if [ "$dl" = $((SENT - MULT4)) ] && [ "$dr" = "$a" ] && [ $((de + du + da)) = $((MULT4 - a)) ] &&
		[ "$d" = "$SENT" ] && [ -z "$others" ]; then
		pass "$what: counters add up (received +$d, drop_length +$dl, $reply +$dr, drop_extension +$de, drop_unsupported +$du, drop_auth +$da)"
	else
		fail "$what: counters: received +$d (want $SENT), drop_length +$dl (want $((SENT - MULT4))), $reply +$dr (want $a), drop_extension+drop_unsupported+drop_auth +$((de + du + da)) (want $((MULT4 - a)))${others:+, others moved:$others}"
	fi
	_BASE=$HOROD_COUNTERS
}

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
	sweep "mode 3 over 127.0.0.1" "$SRV" 127.0.0.1 3 reply_server
	sweep "mode 3 over ::1" "$SRV" ::1 3 reply_server
	sweep "mode 3 over veth IPv4" "$CLI" "$VETH_SRV4" 3 reply_server
	sweep "mode 3 over veth IPv6" "$CLI" "$VETH_SRV6" 3 reply_server
	sweep "mode 1 over veth IPv4" "$CLI" "$VETH_SRV4" 1 reply_symmetric
	horod_stop
	check "horod exits 0 on SIGTERM (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
done

finish
