# shellcheck shell=bash disable=SC2034 # variables set here are read by the tests
#
# Helpers sourced by every system test. A system test runs horod inside
# network namespaces that it creates itself (named horod-t-PID-SUFFIX), talks
# to it with real clients (ntpdig, chronyd -Q) and with tests/tools/ntpcraft.py,
# reads its counters through SIGUSR1, and stops it by PID. Everything a test
# starts or creates is registered here and removed by an EXIT trap, whatever
# way the test ends. Traffic only ever goes to loopback or to the
# documentation addresses (192.0.2.0/24, 2001:db8::/32) configured on veth
# pairs between the test's own namespaces.
#
# A test calls lib_init first, records checks with pass/fail (fail does not
# stop the test) or die (does), and ends with finish: exit 0 when every check
# passed, 1 when one failed, 77 (skip) when root or a tool is missing.
#
# Third-party daemons (chronyd; ntpsec's ntpd and ntpq) are never installed
# on the machine: scripts/third-party unpacks their Debian packages into a
# cache (make test does it), and the tests run them by path: CHRONYD, and
# third_party PROGRAM for the others. chronyd only ever runs with -x (an
# upstream server, chronyd_upstream) or -Q (a client, chronyd_q), without
# CAP_SYS_TIME and with `bindcmdaddress /`, so it writes nothing outside
# the test's own directory.
#
# Environment: HOROD_BUILD (build directory, default build, relative to the
# repository root), HOROD (the daemon, default $HOROD_BUILD/horod), TOOLS
# (default tests/tools), HOROD_IO_MODES (io modes each test runs under,
# default "uring mmsg"), HOROD_READY_TIMEOUT (seconds, default 5),
# HOROD_TEST_SECCOMP (0-2: add `seccomp N` to every configuration that
# horod_start is given with -f), HOROD_TEST_GUARD (1: put the XDP guard,
# generic mode, on every interface of horod's namespace, in every
# configuration given with -f that does not configure a guard itself).

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LIB_DIR/../.." && pwd)
HOROD_BUILD=${HOROD_BUILD:-build}
case $HOROD_BUILD in
/*) ;;
*) HOROD_BUILD=$REPO/$HOROD_BUILD ;;
esac
HOROD=${HOROD:-$HOROD_BUILD/horod}
TOOLS=${TOOLS:-$REPO/tests/tools}
NTPCRAFT=$TOOLS/ntpcraft.py
THIRD_PARTY=$REPO/scripts/third-party # unpacked third-party daemons (HOROD_TEST_CACHE)
CHRONYD=$("$THIRD_PARTY" path chronyd 2>/dev/null || echo chronyd) # chronyd -x and -Q
HOROD_IO_MODES=${HOROD_IO_MODES:-uring mmsg}
HOROD_READY_TIMEOUT=${HOROD_READY_TIMEOUT:-5} # seconds: start-up to `ready:`
STOP_TIMEOUT=5                                # seconds: SIGTERM to exit before SIGKILL
COUNTERS_TIMEOUT=3                            # seconds: SIGUSR1 to a new counters line
SETTLE_TIMEOUT=2                              # seconds: counters reaching the expected values
T_NAME=$(basename "$0" .sh)

# Addresses of the veth pair (documentation ranges, only inside our namespaces).
VETH_SRV4=192.0.2.1
VETH_CLI4=192.0.2.2
VETH_CLI4B=192.0.2.3 # a second client address, for access-list tests
VETH_SRV6=2001:db8::1
VETH_CLI6=2001:db8::2
VETH_CLI6B=2001:db8::3

# Every reason horod counts (the contract), in its order.
REASONS=(reply_server reply_symmetric reply_kod_rate reply_kod_deny control drop_short
	drop_length drop_version drop_mode_reserved drop_mode_passive drop_mode_server
	drop_mode_broadcast drop_mode_control drop_mode_private drop_extension drop_denied
	drop_rate drop_truncated drop_no_slot drop_send_error drop_unsupported reply_kod_ntsn
	drop_auth)
# Totals the counters line carries besides the reasons.
TOTALS=(received ts_hardware ts_kernel ts_daemon xdp)

T_FAILS=0
T_CHECKS=0
T_CTX=""
T_DIR=""
_PIDS=()
_NSS=()
_LOGN=0
_GUARD_STARTS=0

# Print a skip line and exit 77.
skip()
{
	echo "SKIP: $T_NAME: $*"
	exit 77
}

# Record a passed check.
pass()
{
	T_CHECKS=$((T_CHECKS + 1))
	echo "PASS: ${T_CTX:+[$T_CTX] }$*"
}

# Record a failed check (the test goes on).
fail()
{
	T_CHECKS=$((T_CHECKS + 1))
	T_FAILS=$((T_FAILS + 1))
	echo "FAIL: ${T_CTX:+[$T_CTX] }$*"
}

# Record a failure and end the test now.
die()
{
	fail "$@"
	exit 1
}

# pass or fail on a command's exit status: check "what should hold" CMD ARGS...
check()
{
	local what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what"
	fi
}

# True when the command fails: check "what" not CMD ARGS...
not()
{
	! "$@"
}

# End the test: 1 if any check failed, 0 if all passed; 1 when none ran.
finish()
{
	if [ "$T_CHECKS" -eq 0 ]; then
		echo "FAIL: $T_NAME: no check ran"
		exit 1
	fi
	if [ "$T_FAILS" -gt 0 ]; then
		echo "$T_NAME: $T_FAILS of $T_CHECKS checks failed"
		exit 1
	fi
	echo "$T_NAME: all $T_CHECKS checks passed"
	if [ "${HOROD_TEST_GUARD:-0}" = 1 ]; then
		echo "$T_NAME: HOROD_TEST_GUARD: $_GUARD_STARTS horod starts behind the guard (of $_LOGN through horod_start)"
	fi
	exit 0
}

# Skip unless every named command exists.
need_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "missing tool '$c'"
	done
}

# The path of a third-party PROGRAM (scripts/third-party path); empty if none.
third_party()
{
	"$THIRD_PARTY" path "$1" 2>/dev/null
}

# Skip unless chronyd is there (unpacked into the cache, or the machine's own).
need_chronyd()
{
	[ -x "$CHRONYD" ] ||
		skip "no chronyd: make test (scripts/install-deps test) unpacks it into $("$THIRD_PARTY" cache)"
}

# The real gpsd (Debian's 3.22), unpacked by scripts/third-party into its
# cache (or, without it, by hand into HOROD_TEST_CACHE/gpsd with the
# libraries it links installed: they start nothing); the daemon itself
# is never installed. Prints the gpsd binary's path; 1 when it cannot be
# had.
gpsd_fetch()
{
	local tmp deb cache=${HOROD_TEST_CACHE:-/var/cache/horod-test}
	local libs="libbluetooth3 libusb-1.0-0" # what the gpsd binary links beyond the base system
	if [ -x "$THIRD_PARTY" ]; then
		"$THIRD_PARTY" --quiet fetch gpsd >&2 || return 1
		"$THIRD_PARTY" path gpsd
		return
	fi
	if [ ! -x "$cache/gpsd/usr/sbin/gpsd" ]; then
		mkdir -p "$cache" && tmp=$(mktemp -d "$cache/.gpsd.XXXXXX") || return 1
		(cd "$tmp" && timeout 120 apt-get download -q=2 -o APT::Sandbox::User=root gpsd) >&2 ||
			{ rm -rf "$tmp"; return 1; }
		# shellcheck disable=SC2015 # any failure of the three cleans up
		deb=$(ls "$tmp"/gpsd_*.deb) && dpkg -x "$deb" "$tmp/root" &&
			dpkg-deb -e "$deb" "$tmp/root/DEBIAN" || { rm -rf "$tmp"; return 1; }
		rm -rf "$cache/gpsd" && mv "$tmp/root" "$cache/gpsd" && rm -rf "$tmp"
	fi
	# shellcheck disable=SC2086
	dpkg-query -W $libs >/dev/null 2>&1 ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$libs >&2 || return 1
	echo "$cache/gpsd/usr/sbin/gpsd"
}

# --- reference-clock tests (76-78) ---
# horod in a fresh IPC namespace of its own (the SHM key is fixed by the
# protocol, 0x4e545030 + unit: it never meets the machine's): HOROD becomes
# a wrapper that `ip netns exec` execs and that execs horod (same PID);
# RC_HOROD is the real binary.
rc_horod_ipc()
{
	RC_HOROD=$HOROD
	HOROD=$T_DIR/horod-ipc
	printf '#!/bin/sh\nexec unshare --ipc "%s" "$@"\n' "$RC_HOROD" >"$HOROD"
	chmod +x "$HOROD"
}

# Start a command in horod's network and IPC namespaces in the background:
# nsenter execs it, so BG_PID is the command's own PID (registered for the
# cleanup).
bg_in_horod()
{
	nsenter --ipc="/proc/$HOROD_PID/ns/ipc" --net="/proc/$HOROD_PID/ns/net" "$@" &
	BG_PID=$!
	_PIDS+=("$BG_PID")
}

# One line per second for N seconds, "t synced true_error root_distance",
# from horoctl tracking on the control socket SOCK.
rc_track()
{
	local n=$1 t j
	for t in $(seq "$n"); do
		j=$("$HOROD_BUILD/horoctl" -s "$SOCK" tracking --json 2>/dev/null)
		python3 -c 'import json, sys
d = json.loads(sys.argv[1]); t = sys.argv[2]
print(t, d.get("synced", 0), d.get("true_error", "nan"),
      d.get("root_delay", 0) / 2 + d.get("root_dispersion", 0))' "$j" "$t" 2>/dev/null ||
			echo "$t 0 nan 0"
		sleep 1
	done
}

# Of the synchronized samples after S s in FILE (rc_track's lines): "max
# median margin n", the largest and median |true error| and the least
# root distance minus |true error|.
rc_stats()
{
	awk -v s="$1" '$1 > s && $2 == 1 { e = $3 < 0 ? -$3 : $3; print e, $4 - e }' "$2" |
		sort -g | awk '{ v[++n] = $1; if (n == 1 || $2 < mm) mm = $2 }
		END { if (!n) { print "nan nan nan 0"; exit }
		      printf "%.9f %.9f %.9f %d\n", v[n], v[int((n + 1) / 2)], mm, n }'
}

# Track horod for SETTLE + WINDOW s and check it: synchronized by SETTLE,
# the root distance covering the true error in every sample, within GOAL
# (s) of the truth after SETTLE.
# shellcheck disable=SC2016 # awk programs in single quotes
rc_accuracy()
{
	local worst med margin n
	rc_track $((SETTLE + WINDOW)) >"$T_DIR/track"
	awk '{ printf "    t=%s synced=%s true_error=%s root_distance=%s\n", $1, $2, $3, $4 }' \
		"$T_DIR/track" | awk 'NR <= 3 || NR % 5 == 0'
	check "synchronized within $SETTLE s" \
		awk -v s="$SETTLE" '$1 == s && $2 == 1 { ok = 1 } END { exit !ok }' "$T_DIR/track"
	check "in every synchronized sample the root distance covers the true error" \
		awk '$2 == 1 { n++; e = $3 < 0 ? -$3 : $3; if (!($4 >= e)) { bad++; print "    bad: " $0 } }
		     END { exit !(n > 0 && !bad) }' "$T_DIR/track"
	read -r worst med margin n <<<"$(rc_stats "$SETTLE" "$T_DIR/track")"
	echo "    measured over ${n} s after ${SETTLE} s: |true error| max ${worst} s, median ${med} s; least margin of the root distance ${margin} s"
	check "the served time is within ${GOAL} s of the truth in every one of the last $WINDOW s (max ${worst})" \
		awk -v w="$worst" -v g="$GOAL" -v n="$n" -v want="$WINDOW" \
		'BEGIN { exit !(n >= want - 1 && w <= g) }'
}

# Skip unless root.
need_root()
{
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
}

# Fail the test unless the horod binary is there (a missing build is a failure).
need_horod()
{
	[ -x "$HOROD" ] || die "no horod binary at $HOROD (run make all, or set HOROD_BUILD/HOROD)"
}

# Kill what we started (by PID), delete our namespaces and the temp dir.
lib_cleanup()
{
	local pid ns p
	for pid in "${_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${_NSS[@]}"; do
		# Anything still running inside a namespace this test created was
		# started by this test.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
		# Files a test put in /etc/netns/NS (ip netns exec mounts them over /etc).
		[ -d "/etc/netns/$ns" ] && rm -rf "/etc/netns/$ns"
	done
	[ -n "$T_DIR" ] && rm -rf "$T_DIR"
	return 0
}

# Common start: root, tools, temp dir, cleanup trap. Options: --no-root
# (does not need root or namespaces).
lib_init()
{
	if [ "${1:-}" != --no-root ]; then
		need_root
		need_cmd ip ss
	fi
	need_cmd python3 timeout awk grep
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/horod-t-$$.XXXXXX") || die "mktemp failed"
	trap lib_cleanup EXIT
	trap 'echo "FAIL: $T_NAME: interrupted"; exit 1' INT TERM HUP
	need_horod
}

# The name of this test's namespace with SUFFIX.
ns_name()
{
	echo "horod-t-$$-$1"
}

# Create namespace NS with lo up and both 127.0.0.1 and ::1.
ns_create()
{
	local ns=$1
	_NSS+=("$ns")
	ip netns add "$ns" || die "cannot create namespace $ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 2>/dev/null
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.lo.disable_ipv6=0 2>/dev/null
	ip -n "$ns" link set lo up || die "cannot bring lo up in $ns"
	if ! ip -n "$ns" -6 addr show dev lo | grep -q 'inet6 ::1/128'; then
		ip -n "$ns" addr add ::1/128 dev lo nodad || die "cannot add ::1 in $ns"
	fi
}

# Connect namespaces SRV and CLI with a veth pair: SRV gets VETH_SRV4/6,
# CLI gets VETH_CLI4/6 and VETH_CLI4B/6B. No DAD, so the addresses are
# usable at once; waits (bounded) for both ends to be up.
veth_create()
{
	local srv=$1 cli=$2 i
	ip -n "$srv" link add hs0 type veth peer name hc0 netns "$cli" ||
		die "cannot create a veth pair between $srv and $cli"
	ip -n "$srv" addr add "$VETH_SRV4/24" dev hs0
	ip -n "$srv" addr add "$VETH_SRV6/64" dev hs0 nodad
	ip -n "$cli" addr add "$VETH_CLI4/24" dev hc0
	ip -n "$cli" addr add "$VETH_CLI4B/24" dev hc0
	ip -n "$cli" addr add "$VETH_CLI6/64" dev hc0 nodad
	ip -n "$cli" addr add "$VETH_CLI6B/64" dev hc0 nodad
	ip -n "$srv" link set hs0 up
	ip -n "$cli" link set hc0 up
	for i in $(seq 50); do
		if ip -n "$srv" link show hs0 | grep -q LOWER_UP &&
			ip -n "$cli" link show hc0 | grep -q LOWER_UP; then
			return 0
		fi
		sleep 0.1
	done
	die "veth pair did not come up within 5 s"
}

# Write a configuration file from standard input to PATH.
write_conf()
{
	cat >"$1"
}

# Start horod in the foreground (-n) in namespace NS with ARGS (usually
# -f CONF); waits for `ready:` (bounded). Sets HOROD_PID and HOROD_LOG.
# Returns 1 if it exited or never got ready (its log is printed).
horod_start()
{
	local ns=$1 i rc a prev=""
	shift
	# HOROD_TEST_SECCOMP=N: run under `seccomp N` (appended to the -f file
	# unless it names a level itself), so the whole suite can prove the
	# allowlist.
	if [ -n "${HOROD_TEST_SECCOMP:-}" ]; then
		for a in "$@"; do
			if [ "$prev" = -f ] && [ -f "$a" ] && ! grep -q '^[[:space:]]*seccomp' "$a"; then
				printf '\nseccomp %s\n' "$HOROD_TEST_SECCOMP" >>"$a"
			fi
			prev=$a
		done
	fi
	# HOROD_TEST_GUARD=1: the XDP guard in front of every start (see
	# guard_conf); a start that configured it must say the guard runs.
	HOROD_GUARDED=0
	prev=""
	for a in "$@"; do
		[ "$prev" = -f ] && [ -f "$a" ] && guard_mode_conf "$a" "$ns"
		prev=$a
	done
	_LOGN=$((_LOGN + 1))
	HOROD_LOG=$T_DIR/horod.$_LOGN.log
	: >"$HOROD_LOG" # exists before the background job opens it
	# env and `ip netns exec` exec in turn, so $! is horod's PID. A
	# non-interactive shell starts background jobs with SIGINT ignored;
	# env restores the default so that SIGINT reaches horod as it would
	# from a terminal.
	env --default-signal=INT,QUIT ip netns exec "$ns" "$HOROD" -n "$@" \
		>"$HOROD_LOG" 2>&1 &
	HOROD_PID=$!
	_PIDS+=("$HOROD_PID")
	for i in $(seq $((HOROD_READY_TIMEOUT * 20))); do
		if grep -q 'ready:' "$HOROD_LOG"; then
			if [ "$HOROD_GUARDED" = 1 ] && [ "${HOROD_GUARD_FALLBACK_OK:-0}" != 1 ] &&
				! grep -q 'guard: XDP on' "$HOROD_LOG"; then
				fail "HOROD_TEST_GUARD: the guard should run in front of horod $_LOGN"
				grep 'guard' "$HOROD_LOG" | sed 's/^/    | /'
			fi
			return 0
		fi
		if ! pid_alive "$HOROD_PID"; then
			wait "$HOROD_PID"
			rc=$?
			echo "horod exited with status $rc before ready; its log:"
			sed 's/^/    | /' "$HOROD_LOG"
			return 1
		fi
		sleep 0.05
	done
	echo "horod did not log 'ready:' within ${HOROD_READY_TIMEOUT} s; its log:"
	sed 's/^/    | /' "$HOROD_LOG"
	return 1
}

# HOROD_TEST_GUARD=1: append guard_conf NS to the configuration FILE
# unless it sets up a guard of its own; sets HOROD_GUARDED (1: the guard
# is in FILE, so the start must say it runs) and counts the start.
guard_mode_conf()
{
	HOROD_GUARDED=0
	[ "${HOROD_TEST_GUARD:-0}" = 1 ] || return 0
	if grep -q '^# HOROD_TEST_GUARD' "$1"; then
		HOROD_GUARDED=1
	elif ! grep -q '^[[:space:]]*guard[[:space:]]' "$1"; then
		guard_conf "$2" >>"$1"
		HOROD_GUARDED=1
	fi
	_GUARD_STARTS=$((_GUARD_STARTS + HOROD_GUARDED))
}

# The guard lines HOROD_TEST_GUARD appends: generic mode on every interface
# of namespace NS, the maps pinned in horod's own mount namespace (`ip
# netns exec` gives it one, so nothing is left behind when it exits).
guard_conf()
{
	local ifname
	printf '\n# HOROD_TEST_GUARD: the XDP guard on every interface of %s\n' "$1"
	for ifname in $(ip -n "$1" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		printf 'guard interface %s mode skb\n' "$ifname"
	done
	printf 'guard pin /sys/fs/bpf/horod-test\n'
}

# True while PID exists and is not a zombie.
pid_alive()
{
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# The `ready:` line of the running horod.
horod_ready_line()
{
	grep -m1 'ready:' "$HOROD_LOG"
}

# Stop horod with SIG (default TERM); bounded wait, then SIGKILL. Sets HOROD_RC.
horod_stop()
{
	local sig=${1:-TERM} i
	[ -n "${HOROD_PID:-}" ] || return 0
	if ! pid_alive "$HOROD_PID"; then
		horod_died
	fi
	kill -"$sig" "$HOROD_PID" 2>/dev/null
	for i in $(seq $((STOP_TIMEOUT * 20))); do
		pid_alive "$HOROD_PID" || break
		sleep 0.05
	done
	if pid_alive "$HOROD_PID"; then
		echo "horod did not exit within ${STOP_TIMEOUT} s of SIG$sig; killing it"
		kill -KILL "$HOROD_PID" 2>/dev/null
	fi
	wait "$HOROD_PID" 2>/dev/null
	HOROD_RC=$?
	HOROD_PID=""
}

# Say that horod exited by itself, with the end of its log (once per run).
horod_died()
{
	[ "${_DIED_SHOWN:-}" = "$HOROD_PID" ] && return
	_DIED_SHOWN=$HOROD_PID
	echo "horod (PID $HOROD_PID) exited by itself; the end of its log:"
	tail -n 15 "$HOROD_LOG" | cut -c1-300 | sed 's/^/    | /'
}

# Ask horod for its counters (SIGUSR1) and wait, bounded, for the new line;
# sets HOROD_COUNTERS to the line. Returns 1 if none came.
horod_counters()
{
	local before i n
	before=$(grep -c 'counters ' "$HOROD_LOG")
	if ! pid_alive "$HOROD_PID"; then
		horod_died
		return 1
	fi
	kill -USR1 "$HOROD_PID" 2>/dev/null || return 1
	for i in $(seq $((COUNTERS_TIMEOUT * 20))); do
		n=$(grep -c 'counters ' "$HOROD_LOG")
		# Only a complete line (the file ends with a newline) counts.
		if [ "$n" -gt "$before" ] && [ -z "$(tail -c1 "$HOROD_LOG")" ]; then
			HOROD_COUNTERS=$(grep 'counters ' "$HOROD_LOG" | tail -n1)
			return 0
		fi
		sleep 0.05
	done
	echo "no new 'counters ' line within ${COUNTERS_TIMEOUT} s of SIGUSR1"
	return 1
}

# horod_counters, repeated until two lines 0.2 s apart say the same (at
# most SETTLE_TIMEOUT * 5 tries): what is counted after a reply has left
# (its transmit stamp, read back from the kernel) has landed.
horod_counters_settled()
{
	local prev=""
	for _ in $(seq $((SETTLE_TIMEOUT * 5))); do
		horod_counters || return 1
		[ "${HOROD_COUNTERS#*counters }" = "$prev" ] && return 0
		prev=${HOROD_COUNTERS#*counters }
		sleep 0.2
	done
	return 0
}

# The value of counter NAME in LINE (default HOROD_COUNTERS); empty if absent.
counter()
{
	local line=${2:-$HOROD_COUNTERS}
	line=${line#*counters }
	echo "$line" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'
}

# Take the current counters as the baseline for expect_deltas.
counters_mark()
{
	horod_counters || die "cannot read horod's counters"
	_BASE=$HOROD_COUNTERS
}

# Check that since counters_mark exactly the counters named in SPEC
# ("name=delta ...") moved by exactly those amounts and every other reason
# stayed put (received/ts_* are checked only when named). Polls, bounded,
# until the named counters reach their deltas, so a slow worker is waited for.
expect_deltas()
{
	local what=$1 spec item name want have base ok bad r named items
	read -r -d '' -a items <<<"$2"
	spec=${items[*]} # one line, single spaces
	for _ in $(seq $((SETTLE_TIMEOUT * 10))); do
		horod_counters || {
			fail "$what: no counters"
			return
		}
		ok=1
		for item in $spec; do
			name=${item%%=*}
			want=${item#*=}
			have=$(counter "$name")
			base=$(counter "$name" "$_BASE")
			if [ -z "$have" ] || [ -z "$base" ] || [ $((have - base)) -lt "$want" ]; then
				ok=0
			fi
		done
		[ "$ok" = 1 ] && break
		sleep 0.1
	done
	bad=""
	for item in $spec; do
		name=${item%%=*}
		want=${item#*=}
		have=$(counter "$name")
		base=$(counter "$name" "$_BASE")
		if [ -z "$have" ] || [ -z "$base" ]; then
			bad="$bad $name=missing"
		elif [ $((have - base)) -ne "$want" ]; then
			bad="$bad $name:+$((have - base))(want +$want)"
		fi
	done
	for r in "${REASONS[@]}"; do
		named=0
		for item in $spec; do
			[ "${item%%=*}" = "$r" ] && named=1
		done
		[ "$named" = 1 ] && continue
		have=$(counter "$r")
		base=$(counter "$r" "$_BASE")
		if [ -z "$have" ] || [ -z "$base" ]; then
			bad="$bad $r=missing"
		elif [ "$have" != "$base" ]; then
			bad="$bad $r:+$((have - base))(want +0)"
		fi
	done
	if [ -z "$bad" ]; then
		pass "$what: counters $spec"
	else
		fail "$what: counters moved wrongly:$bad"
		echo "    before: $_BASE"
		echo "    after:  $HOROD_COUNTERS"
	fi
	_BASE=$HOROD_COUNTERS
}

# Run ntpcraft in namespace NS: craft NS HOST PORT [options]; its output
# goes to stdout, its verdict is the exit status.
craft()
{
	local ns=$1
	shift
	ip netns exec "$ns" python3 "$NTPCRAFT" "$@"
}

# check_craft "what" NS HOST PORT [options]: pass/fail on ntpcraft's verdict,
# showing its output on failure.
check_craft()
{
	local what=$1 out rc
	shift
	out=$(craft "$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ]; then
		pass "$what"
	else
		fail "$what (ntpcraft exit $rc)"
		echo "$out" | head -n 20 | cut -c1-400 | sed 's/^/    | /'
	fi
}

# True when something in namespace NS has UDP port PORT bound.
udp_bound()
{
	[ -n "$(ip netns exec "$1" ss -Huln "sport = :$2" 2>/dev/null)" ]
}

# Field KEY of the JSON object JSON (strings bare, others as JSON); empty if
# JSON does not parse.
json_get()
{
	python3 -c 'import json, sys
try:
    v = json.loads(sys.argv[1]).get(sys.argv[2])
except (ValueError, AttributeError):
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2" 2>/dev/null
}

# True when the number X is a number and |X| < LIMIT.
abs_below()
{
	awk -v x="$1" -v l="$2" 'BEGIN {
		if (x !~ /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) exit 1
		if (x < 0) x = -x
		exit !(x < l)
	}'
}

# Start a real chronyd as an upstream server in namespace NS on ADDR
# port 123 at STRATUM (its `local stratum`): -x (never touches the clock),
# without CAP_SYS_TIME in its bounding set, command port and socket off,
# files in T_DIR. Sets CHRONYD_PID; the EXIT trap stops it.
chronyd_upstream()
{
	local ns=$1 addr=$2 stratum=$3 d
	d=$T_DIR/chronyd-$addr
	mkdir -p "$d"
	cat >"$d/chrony.conf" <<CONF
bindaddress $addr
port 123
local stratum $stratum
allow all
cmdport 0
bindcmdaddress /
pidfile $d/chronyd.pid
driftfile $d/drift
CONF
	ip netns exec "$ns" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$CHRONYD" -x -d -u root -f "$d/chrony.conf" >"$d/log" 2>&1 &
	CHRONYD_PID=$!
	_PIDS+=("$CHRONYD_PID")
	for _ in $(seq 50); do
		ip netns exec "$ns" ss -Huln "src $addr:123" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	echo "chronyd did not bind $addr:123 within 5 s; its log:"
	sed 's/^/    | /' "$d/log"
	return 1
}

# chronyd -Q in namespace NS against server ADDR, its pidfile at PIDFILE:
# four samples, then it prints `System clock wrong by X seconds` (and
# never sets the clock: -Q, -x, no CAP_SYS_TIME). At most 30 s.
chronyd_q()
{
	timeout 30 ip netns exec "$1" setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
		"$CHRONYD" -x -u root -Q -t 20 "server $2 iburst maxsamples 4" "pidfile $3" \
		"cmdport 0" "bindcmdaddress /"
}

# Ask horod (SIGUSR1) for its tracking and source lines; sets HOROD_TRACKING
# (the `tracking ` line) and HOROD_SOURCES (the `source ` lines).
horod_status()
{
	local before i
	before=$(grep -c 'tracking ' "$HOROD_LOG")
	horod_counters || return 1
	# The tracking and source lines follow the counters line at once.
	for i in $(seq 40); do
		[ "$(grep -c 'tracking ' "$HOROD_LOG")" -gt "$before" ] && break
		sleep 0.05
	done
	sleep 0.1
	HOROD_TRACKING=$(grep 'tracking ' "$HOROD_LOG" | tail -n1)
	HOROD_SOURCES=$(awk '/ counters /{ blk = "" } / source /{ blk = blk $0 "\n" } END { printf "%s", blk }' "$HOROD_LOG")
}

# Field NAME=value of a `key=value ...` LINE.
kv()
{
	echo "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2; exit }'
}

# Make a test PKI in DIR for NTS: an EC P-256 CA (ca.pem) and a server
# certificate (server.pem, the chain: server then CA; its key server.key,
# 0600) named "horod NTS test server" for the addresses ADDR... (as IP
# subjectAltNames) and localhost, valid 30 days. openssl, in DIR only.
nts_make_certs()
{
	local dir=$1 san="DNS:localhost" a
	shift
	for a in "$@"; do
		san="$san,IP:$a"
	done
	mkdir -p "$dir" || return 1
	(
		cd "$dir" || exit 1
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout ca.key -out ca.pem -days 30 -subj "/CN=horod NTS test CA" &&
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-keyout server.key -out server.csr -subj "/CN=horod NTS test server" &&
			printf 'subjectAltName=%s\n' "$san" >ext.cnf &&
			openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
				-out server.crt -days 30 -extfile ext.cnf &&
			cat server.crt ca.pem >server.pem && chmod 644 ca.pem server.pem
	) >"$dir/openssl.log" 2>&1 || {
		sed 's/^/    | /' "$dir/openssl.log"
		return 1
	}
}

# The path of NTPsec's ntpd, unpacked beside the machine's chrony (never
# installed): scripts/third-party's cache, else bench/compare's; empty if none.
nts_ntpsec_ntpd()
{
	local p
	if type third_party >/dev/null 2>&1; then
		p=$(third_party ntpd)
		[ -n "$p" ] && [ -x "$p" ] && {
			echo "$p"
			return
		}
	fi
	for p in /var/cache/horod-test/ntpsec/usr/sbin/ntpd /var/cache/horobench/ntpsec/usr/sbin/ntpd; do
		[ -x "$p" ] && {
			echo "$p"
			return
		}
	done
}
