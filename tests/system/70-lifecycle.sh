#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# horod's life as an operator sees it: it writes its pidfile, says `ready:`
# with its io mode and worker count, binds the ports its listen lines and -P
# name (and nothing else), prints a complete counters line (every reason and
# total, zeros included) on each SIGUSR1, stamps received requests with
# kernel timestamps, and on SIGTERM or SIGINT exits 0 after a last counters
# line, releasing its ports. Without -f it serves the embedded default
# configuration (127.0.0.1 and ::1, local stratum 10). Once per io mode.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
SRV=$(ns_name srv)
ns_create "$SRV"

PORT_P=12345 # -P: the default port for listen lines without one
PORT_L=12346 # an explicit listen port

# Names from proto/reason.h, so a reason added there must be counted too.
mapfile -t HDR_REASONS < <(sed -n 's/^[[:space:]]*X([A-Z_]*, "\([a-z_]*\)".*/\1/p' "$REPO/proto/reason.h")

# complete_line LINE: every reason and total is there with an integer value.
complete_line()
{
	local line=$1 n missing=""
	for n in "${REASONS[@]}" "${HDR_REASONS[@]}" "${TOTALS[@]}"; do
		grep -Eq "(^|[[:space:]])$n=[0-9]+([[:space:]]|$)" <<<"${line#*counters }" || missing="$missing $n"
	done
	[ -z "$missing" ] && return 0
	echo "    missing or not an integer:$missing"
	echo "    line: $line"
	return 1
}

for io in $HOROD_IO_MODES; do
	T_CTX="io=$io"
	conf=$T_DIR/horod-$io.conf
	pidf=$T_DIR/horod-$io.pid
	write_conf "$conf" <<CONF
listen 127.0.0.1
listen ::1 port $PORT_L
local stratum 7
workers 2
io $io
pidfile $pidf
CONF
	if ! horod_start "$SRV" -f "$conf" -P $PORT_P; then
		fail "horod did not start"
		continue
	fi
	ready=$(horod_ready_line)
	check "ready line says io $io ($ready)" grep -Eq "io[ =:]+$io" <<<"$ready"
	check "ready line says 2 workers ($ready)" grep -Eq "(^|[^0-9])2 workers" <<<"$ready"
	check "pidfile holds horod's PID $HOROD_PID (got '$(cat "$pidf" 2>/dev/null)')" \
		[ "$(tr -d '[:space:]' <"$pidf" 2>/dev/null)" = "$HOROD_PID" ]
	check "127.0.0.1 bound on the -P port $PORT_P" udp_bound "$SRV" $PORT_P
	check "::1 bound on its listen port $PORT_L" udp_bound "$SRV" $PORT_L
	check "nothing bound on port 123" not udp_bound "$SRV" 123

	if horod_counters && complete_line "$HOROD_COUNTERS"; then
		pass "SIGUSR1 prints every reason and total"
	else
		fail "SIGUSR1 counters line incomplete"
	fi
	counters_mark
	check_craft "served on 127.0.0.1:$PORT_P" "$SRV" 127.0.0.1 $PORT_P --count 3 \
		--expect answered=true --expect stratum=7
	check_craft "served on [::1]:$PORT_L" "$SRV" ::1 $PORT_L --count 2 --expect answered=true
	expect_deltas "five requests" "reply_server=5 received=5"
	base_line=$(grep 'counters ' "$HOROD_LOG" | head -n1)
	ts_k=$(($(counter ts_kernel) - $(counter ts_kernel "$base_line")))
	ts_all=$((ts_k + $(counter ts_hardware) - $(counter ts_hardware "$base_line") +
		$(counter ts_daemon) - $(counter ts_daemon "$base_line")))
	check "received requests carry kernel timestamps (ts_kernel +$ts_k, all ts +$ts_all)" \
		[ "$ts_k" -ge 5 ]

	n_before=$(grep -c 'counters ' "$HOROD_LOG")
	horod_stop TERM
	check "SIGTERM: exit 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
	n_after=$(grep -c 'counters ' "$HOROD_LOG")
	last=$(grep 'counters ' "$HOROD_LOG" | tail -n1)
	if [ "$n_after" -gt "$n_before" ] && complete_line "$last"; then
		pass "SIGTERM: a last complete counters line"
	else
		fail "SIGTERM: no last complete counters line (log tail: $(tail -n 3 "$HOROD_LOG"))"
	fi
	check "SIGTERM: -P port released" not udp_bound "$SRV" $PORT_P
	check "SIGTERM: listen port released" not udp_bound "$SRV" $PORT_L

	if horod_start "$SRV" -f "$conf" -P $PORT_P; then
		n_before=$(grep -c 'counters ' "$HOROD_LOG")
		horod_stop INT
		check "SIGINT: exit 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
		check "SIGINT: a last counters line" [ "$(grep -c 'counters ' "$HOROD_LOG")" -gt "$n_before" ]
	else
		fail "horod did not start a second time (stale pidfile or port?)"
	fi
done
T_CTX=""

# The embedded default configuration.
if horod_start "$SRV" -P $PORT_P; then
	for a in 127.0.0.1 ::1; do
		check_craft "embedded default: served on $a:$PORT_P with stratum 10, LOCL" "$SRV" "$a" $PORT_P \
			--expect answered=true --expect stratum=10 --expect refid_ascii=LOCL --expect leap=0
	done
	horod_stop
	check "embedded default: SIGTERM exit 0 (got $HOROD_RC)" [ "$HOROD_RC" = 0 ]
else
	fail "horod did not start on its embedded configuration"
fi

finish
