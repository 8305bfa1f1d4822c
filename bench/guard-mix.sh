#!/bin/bash
#
# The XDP guard benchmark: share of legit requests answered when every
# legit request comes with MIX malformed ones (mode 7 monlist, version 0,
# 20-byte runts), for horod without the guard, horod with the guard in
# generic (skb) and in native mode, and chronyd, all behind a veth between
# two namespaces this script creates. The server side runs on CPU 0: the
# server (one worker) and, through RPS, the receive path of its veth; the
# load generator and the receive path of its own veth run on CPU 1. On a
# veth, native XDP runs in the sender's NAPI (CPU 1, before RPS), generic
# XDP in the server's receive path (CPU 0): generic is the fair model of a
# server CPU that pays for what it drops. Also the guard's cost per
# packet on the veth, from the kernel's BPF run-time statistics
# (kernel.bpf_stats_enabled, switched on for the guard runs only and put
# back as it was).
#
# Each repetition runs every kind in turn (a server started afresh for
# each), so a machine shared with other work weighs on them alike; the
# medians come last, then horod over chronyd per repetition: the share of
# legit requests answered and the legit replies per second (the sender
# reaches different rates with different servers: its CPU also takes
# their replies in). Per run: the rate the sender reached, the requests
# the server's UDP socket refused (a full buffer: RcvbufErrors of its
# namespace) and the replies the client's refused (must be 0, else the
# count is the client's). ntpmix reads replies after every batch it sends
# and gives up requests more than 5 ms overdue: before 2026-12-07 it
# sent seconds-long bursts without reading when it fell behind, and lost
# up to a third of the replies in its own socket.
#
#   bench/guard-mix.sh [SECONDS [REPS [RATES...]]]
#     SECONDS per point (default 5), REPS per point (default 3, the median
#     is printed), RATES legit requests/s (default 50000 100000 150000)
#   KINDS="horod chronyd" (environment) measures only those of
#     horod guard-skb guard-native chronyd (default: all, chronyd when installed)
#     and horod-base: HOROD_BASE/horod (another build, e.g. before a change),
#     without the guard
#
# Needs root, build/horod, build/tools/ntpmix; chronyd is optional. Every
# process it starts is stopped by PID, every namespace deleted, on exit.

set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${HOROD_BUILD:-$REPO/build}
# chronyd unpacked from its Debian package (scripts/third-party), never installed.
CHRONYD=$("$REPO/scripts/third-party" path chronyd) || CHRONYD=""
SECS=${1:-5}
REPS=${2:-3}
shift 2 2>/dev/null
RATES=${*:-50000 100000 150000}
MIX=${MIX:-1}
SRV=horod-b-$$-srv
CLI=horod-b-$$-cli
TMP=$(mktemp -d /tmp/horod-b-$$.XXXXXX)
PIDS=()
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)

[ "$(id -u)" = 0 ] || {
	echo "guard-mix: needs root"
	exit 77
}
for f in "$B/horod" "$B/tools/ntpmix"; do
	[ -x "$f" ] || {
		echo "guard-mix: no $f (make all)"
		exit 1
	}
done

cleanup()
{
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.3
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS" 2>/dev/null
	umount -l "$TMP/bpffs" 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$SRV" && ip netns add "$CLI" || exit 1
ip -n "$SRV" link set lo up
ip -n "$CLI" link set lo up
ip -n "$SRV" link add hs0 type veth peer name hc0 netns "$CLI"
ip -n "$SRV" addr add 192.0.2.1/24 dev hs0
ip -n "$CLI" addr add 192.0.2.2/24 dev hc0
ip -n "$SRV" link set hs0 up
ip -n "$CLI" link set hc0 up
# Receive processing: the server's veth on CPU 0, the client's on CPU 1.
ip netns exec "$SRV" sh -c 'echo 1 > /sys/class/net/hs0/queues/rx-0/rps_cpus'
ip netns exec "$CLI" sh -c 'echo 2 > /sys/class/net/hc0/queues/rx-0/rps_cpus'
sleep 1
mkdir -p "$TMP/bpffs" && mount -t bpf bpf "$TMP/bpffs"

# start_server KIND: horod without / with the guard, or chronyd; sets SPID.
start_server()
{
	case $1 in
	horod | horod-base | guard-skb | guard-native)
		{
			printf 'listen 192.0.2.1\nlocal stratum 10\nworkers 1\nio uring\n'
			case $1 in guard-*)
				printf 'guard interface hs0 mode %s\nguard pin %s\n' "${1#guard-}" \
					"$TMP/bpffs/horod" ;;
			esac
		} >"$TMP/$1.conf"
		bin=$B/horod
		[ "$1" = horod-base ] && bin=$HOROD_BASE/horod
		taskset -c 0 ip netns exec "$SRV" "$bin" -n -f "$TMP/$1.conf" \
			>"$TMP/$1.log" 2>&1 &
		;;
	chronyd)
		printf 'local stratum 10\nallow all\ncmdport 0\nbindcmdaddress /\nbindaddress 192.0.2.1\npidfile %s\n' \
			"$TMP/chronyd.pid" >"$TMP/chrony.conf"
		taskset -c 0 ip netns exec "$SRV" setpriv --bounding-set=-sys_time \
			--inh-caps=-sys_time "$CHRONYD" -x -d -u root -f "$TMP/chrony.conf" \
			>"$TMP/chronyd.log" 2>&1 &
		;;
	esac
	SPID=$!
	PIDS+=("$SPID")
	sleep 1.5
}

stop_server()
{
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
}

# The server's CPU ticks so far (user + system, all threads) and CPU 0's
# softirq ticks (the receive path RPS put there): other processes on the
# machine do not count in the first, hardly in the second.
ticks()
{
	local st
	st=$(sed 's/^.*) //' "/proc/$SPID/stat" 2>/dev/null)
	echo "$(awk '{ print $12 + $13 }' <<<"$st") $(awk '$1 == "cpu0" { print $8 }' /proc/stat)"
}

# udp_drops NS: datagrams the UDP sockets of namespace NS refused so far
# (RcvbufErrors: a full receive buffer).
udp_drops()
{
	ip netns exec "$1" awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6 }' /proc/net/snmp
}

# run KIND RATE: one run of ntpmix against the running server. Appends to
# $TMP/runs one line: kind rate rep share sent/s answered/s, the server's
# CPU and CPU 0's softirq per request offered (us), the requests the
# server's socket refused and the replies the client's socket refused.
run()
{
	local out a b n hz d0 d1 c0 c1
	hz=$(getconf CLK_TCK)
	d0=$(udp_drops "$SRV")
	c0=$(udp_drops "$CLI")
	a=$(ticks)
	out=$(taskset -c 1 ip netns exec "$CLI" "$B/tools/ntpmix" 192.0.2.1 123 "$SECS" \
		"$2" "$MIX")
	b=$(ticks)
	d1=$(udp_drops "$SRV")
	c1=$(udp_drops "$CLI")
	n=$(sed -E 's/.*legit_sent=([0-9]+).*malformed_sent=([0-9]+).*/\1 \2/' <<<"$out" |
		awk '{ print $1 + $2 }')
	awk -v k="$1" -v rate="$2" -v rep="$3" -v a="$a" -v b="$b" -v n="$n" -v hz="$hz" \
		-v share="$(sed -E 's/.*share=([0-9.]+).*/\1/' <<<"$out")" \
		-v sent="$(sed -E 's/.*total_rate=([0-9]+).*/\1/' <<<"$out")" \
		-v ans="$(sed -E 's/.*answered_rate=([0-9]+).*/\1/' <<<"$out")" \
		-v sd="$((d1 - d0))" -v cd="$((c1 - c0))" 'BEGIN { split(a, x, " ");
		split(b, y, " "); if (!n) n = 1
		printf "%s %s %s %s %s %s %.2f %.2f %s %s\n", k, rate, rep, share, sent, ans,
			(y[1] - x[1]) / hz * 1e6 / n, (y[2] - x[2]) / hz * 1e6 / n, sd, cd }' \
		>>"$TMP/runs"
}

med()
{
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# summary KIND RATE: the medians of its runs, then every run.
summary()
{
	local f
	f=$(awk -v k="$1" -v r="$2" '$1 == k && $2 == r' "$TMP/runs")
	# shellcheck disable=SC2046
	printf '  %s: legit %s/s + malformed %s/s: answered %s%% (%s/s); per request offered: server %s us, CPU 0 softirq %s us\n' \
		"$1" "$2" "$(($2 * MIX))" \
		"$(awk -v v="$(med $(awk '{ print $4 }' <<<"$f"))" 'BEGIN { printf "%.1f", 100 * v }')" \
		"$(med $(awk '{ print $6 }' <<<"$f"))" "$(med $(awk '{ print $7 }' <<<"$f"))" \
		"$(med $(awk '{ print $8 }' <<<"$f"))"
	printf '    runs: answered %s; sent/s %s; refused by the server socket %s, by the client socket %s\n' \
		"$(awk '{ printf "%s%s", s, $4; s = " " }' <<<"$f")" \
		"$(awk '{ printf "%s%s", s, $5; s = " " }' <<<"$f")" \
		"$(awk '{ printf "%s%s", s, $9; s = " " }' <<<"$f")" \
		"$(awk '{ printf "%s%s", s, $10; s = " " }' <<<"$f")"
}

kinds="horod guard-skb guard-native"
[ -n "$CHRONYD" ] && kinds="$kinds chronyd"
kinds=${KINDS:-$kinds}
case " $kinds " in *" horod-base "*)
	[ -x "${HOROD_BASE:-}/horod" ] || {
		echo "guard-mix: horod-base needs HOROD_BASE=DIR with DIR/horod"
		exit 1
	} ;;
esac
echo "guard-mix: $SECS s points, median of $REPS, $MIX malformed per legit request," \
	"server on CPU 0, load on CPU 1, the kinds alternating in each repetition"
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$TMP/runs"
for rep in $(seq "$REPS"); do
	for kind in $kinds; do
		start_server "$kind"
		case $kind in guard-*)
			grep -q 'guard: XDP on hs0' "$TMP/$kind.log" || {
				echo "guard-mix: the guard did not attach:"
				cat "$TMP/$kind.log"
				exit 1
			}
			sysctl -qw kernel.bpf_stats_enabled=1
			;;
		esac
		for rate in $RATES; do
			run "$kind" "$rate" "$rep"
		done
		if [ "${kind#guard-}" != "$kind" ]; then
			id=$(ip -n "$SRV" -d link show hs0 |
				sed -nE 's/.*prog\/xdp id ([0-9]+).*/\1/p' | head -n1)
			bpftool prog show id "$id" 2>/dev/null |
				sed -nE 's/.*run_time_ns ([0-9]+) run_cnt ([0-9]+).*/\1 \2/p' |
				awk '$2 > 0 { print k, $1, $2 }' k="$kind" >>"$TMP/bpf"
			sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
		fi
		stop_server
	done
done
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in $kinds; do
	for rate in $RATES; do
		summary "$kind" "$rate"
	done
	[ -s "$TMP/bpf" ] && awk -v k="$kind" '$1 == k { t += $2; c += $3 } END { if (c)
		printf "  %s: %d packets through XDP on hs0, %.1f ns each (run_time_ns / run_cnt)\n",
		k, c, t / c }' "$TMP/bpf"
done
# Legit requests answered, horod without the guard over chronyd, per repetition.
if [[ " $kinds " == *" horod "* && " $kinds " == *" chronyd "* ]]; then
	for rate in $RATES; do
		awk -v r="$rate" '$2 == r && ($1 == "horod" || $1 == "chronyd") { a[$1, $3] = $6
			sh[$1, $3] = $4 }
			END { for (i = 1; ("horod", i) in a && ("chronyd", i) in a; i++) {
				s = s sprintf(" %.2f", a["chronyd", i] ? a["horod", i] / a["chronyd", i] : 0)
				t = t sprintf(" %.2f", sh["chronyd", i] ? sh["horod", i] / sh["chronyd", i] : 0) }
				printf "  horod/chronyd at %s/s, per repetition: share answered%s; answered per second%s\n", r, t, s }' \
			"$TMP/runs"
	done
fi
