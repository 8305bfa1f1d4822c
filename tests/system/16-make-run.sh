#!/bin/bash
# shellcheck disable=SC2034,SC2317,SC2016,SC2119 # T_CTX is read by lib.sh; helpers run through check; sh -c scripts; optional arguments
#
# `make run` as a new user runs it, as root and not, each in a namespace
# of its own so that nothing else on the machine is in the way. The build
# under test must be up to date (make run then writes nothing).
#   - not root (a spare uid with no account, no XDG_RUNTIME_DIR): make run
#     serves on 11123, says how to ask and read it, puts the control
#     socket in /tmp/horod-UID (0700, the user's), and `horoctl status`
#     as the same user, without -s, answers; `horoctl check` and ntpcraft
#     get an answer; after a stop the directory is gone;
#   - not root with XDG_RUNTIME_DIR: the socket is in $XDG_RUNTIME_DIR/horod/
#     and horoctl finds it there; the directory goes at exit, not
#     XDG_RUNTIME_DIR itself;
#   - a /tmp/horod-UID another user made first: horod serves but opens no
#     control socket there, says why, and leaves the directory alone;
#   - root: `make run RUN_PORT=N` listens on N, not 123; horoctl status
#     answers on /run/horod/horod.sock; the /run/horod it created is gone
#     after the stop (in a mount namespace with a /run of its own, where
#     no other horod of the machine is); the port make run picks is 123
#     for root and 11123 for anyone else (make -n).

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd make setpriv getent ps unshare nsenter
HOROCTL=$HOROD_BUILD/horoctl
RUN_TIMEOUT=60 # s: make run's dependency check, make's up-to-date check, then horod ready
ROOT_PORT=12345

# make run builds into build/ (build/san with SAN=1): only that build can be tested.
case ${HOROD_BUILD#"$REPO"/} in
build) MAKEARGS=() ;;
build/san) MAKEARGS=(SAN=1) ;;
*) skip "make run builds into build/, not $HOROD_BUILD" ;;
esac
make -C "$REPO" --no-print-directory -q "${MAKEARGS[@]}" "${HOROD_BUILD#"$REPO"/}/horod" "${HOROD_BUILD#"$REPO"/}/horoctl" ||
	skip "the build is not up to date (make all first): make run would rebuild it"
[ -x "$HOROCTL" ] || die "no horoctl at $HOROCTL"

# A uid with no account and nothing in /tmp: a user nobody else is.
U=""
for u in $(seq $((60000 + $$ % 4000)) $((60000 + $$ % 4000 + 50))); do
	if [ -z "$(getent passwd "$u")" ] && [ -z "$(getent group "$u")" ] &&
		[ ! -e "/tmp/horod-$u" ] && [ -z "$(ps -o pid= -u "$u" 2>/dev/null)" ]; then
		U=$u
		break
	fi
done
[ -n "$U" ] || skip "no spare uid between 60000 and 64050"
TMPSOCKDIR=/tmp/horod-$U
chmod 0711 "$T_DIR" # the user may pass through to its XDG_RUNTIME_DIR below
# Run as the user, with nothing of root's environment but PATH (and the
# sanitizers' options, for a SAN=1 build).
USER_WRAP=(setpriv --reuid="$U" --regid="$U" --clear-groups env -i PATH="$PATH"
	${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"})
as_user()
{
	"${USER_WRAP[@]}" "$@"
}
as_user test -r "$REPO/Makefile" -a -x "$HOROD_BUILD/horod" -a -x "$HOROCTL" ||
	skip "the repository or its build is not readable by another user"

# Remove what this test made beyond lib.sh's cleanup (horod removes its own).
cleanup()
{
	[ "${MADE_TMPSOCKDIR:-0}" = 1 ] && rm -rf "$TMPSOCKDIR"
	lib_cleanup
}
trap cleanup EXIT

# make_run LOG NS [WRAPPER...] -- [MAKE ARGS...]: make run in namespace NS,
# run through the command WRAPPER (e.g. USER_WRAP); waits (bounded) for
# horod's `ready:`.
# Sets MPID (make) and HPID (horod). Returns 1 (log shown) if not ready.
make_run()
{
	local log=$1 ns=$2 w=() p i
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		w+=("$1")
		shift
	done
	shift
	: >"$log"
	(cd "$REPO" && exec ip netns exec "$ns" "${w[@]}" make --no-print-directory run \
		"${MAKEARGS[@]}" "$@") >"$log" 2>&1 &
	MPID=$!
	_PIDS+=("$MPID")
	HPID=""
	for i in $(seq $((RUN_TIMEOUT * 10))); do
		if [ -z "$HPID" ]; then
			for p in $(ip netns pids "$ns" 2>/dev/null); do
				[ "$(cat "/proc/$p/comm" 2>/dev/null)" = horod ] && HPID=$p
			done
			[ -n "$HPID" ] && _PIDS+=("$HPID")
		fi
		[ -n "$HPID" ] && grep -q 'ready:' "$log" && return 0
		pid_alive "$MPID" || break
		sleep 0.1
	done
	echo "make run: no horod ready within ${RUN_TIMEOUT} s; its output:"
	sed 's/^/    | /' "$log"
	return 1
}

# Stop the horod make run started (SIGTERM, by PID) and wait for make, bounded.
make_stop()
{
	local i
	[ -n "$HPID" ] && kill -TERM "$HPID" 2>/dev/null
	for i in $(seq $((STOP_TIMEOUT * 20))); do
		pid_alive "$MPID" || break
		sleep 0.05
	done
	if pid_alive "$MPID"; then
		echo "make run did not end within ${STOP_TIMEOUT} s of SIGTERM to horod; killing it"
		kill -KILL "$HPID" "$MPID" 2>/dev/null
	fi
	wait "$MPID" 2>/dev/null
	MAKE_RC=$?
}

# --- the port make run picks --------------------------------------------------
T_CTX=port
cmd=$(cd "$REPO" && make -s -n run "${MAKEARGS[@]}" | grep 'horod -n')
check "as root make run serves on 123 (make -n: $cmd)" grep -q -- '-P 123$' <<<"$cmd"
cmd=$(cd "$REPO" && as_user make -s -n run "${MAKEARGS[@]}" | grep 'horod -n')
check "not root make run serves on 11123 (make -n: $cmd)" grep -q -- '-P 11123$' <<<"$cmd"
cmd=$(cd "$REPO" && make -s -n run RUN_PORT=4123 "${MAKEARGS[@]}" | grep 'horod -n')
check "RUN_PORT=4123 wins as root (make -n: $cmd)" grep -q -- '-P 4123$' <<<"$cmd"

# --- not root, no XDG_RUNTIME_DIR -------------------------------------------------
T_CTX=user
NS=$(ns_name user)
ns_create "$NS"
LOG=$T_DIR/run-user.log
if make_run "$LOG" "$NS" "${USER_WRAP[@]}" --; then
	check "make run says port 11123" grep -q 'serving on 127.0.0.1 and ::1 port 11123' "$LOG"
	check "make run says once that it is not root" [ "$(grep -c 'not root' "$LOG")" = 1 ]
	check "make run says how to ask it" grep -q 'horoctl check 127.0.0.1:11123' "$LOG"
	check "make run says how to ask it with ntpcraft" grep -q 'ntpcraft.py 127.0.0.1 11123' "$LOG"
	check "make run says how to read it" grep -q 'read it: .*horoctl status' "$LOG"
	check "make run builds nothing (the build is up to date)" not grep -Eq '^ +(CC|LD|AR) ' "$LOG"
	check "horod logs its control socket $TMPSOCKDIR/horod.sock" \
		grep -q "control socket $TMPSOCKDIR/horod.sock" "$LOG"
	check "no warning about the control socket" not grep -q 'warning: control socket' "$LOG"
	check "UDP 11123 bound in the namespace" udp_bound "$NS" 11123
	check "$TMPSOCKDIR is the user's, mode 0700 (got $(stat -c '%u %a' "$TMPSOCKDIR" 2>&1))" \
		[ "$(stat -c '%u %a' "$TMPSOCKDIR" 2>/dev/null)" = "$U 700" ]
	out=$(timeout 10 "${USER_WRAP[@]}" "$HOROCTL" status 2>&1)
	rc=$?
	check "horoctl status as the same user, no -s, answers (exit $rc: $out)" [ "$rc" -le 1 ]
	check "horoctl status says local clock, stratum 10" grep -q 'local clock at stratum 10' <<<"$out"
	out=$(timeout 20 ip netns exec "$NS" setpriv --reuid="$U" --regid="$U" --clear-groups \
		"$HOROCTL" check 127.0.0.1:11123 2>&1)
	rc=$?
	check "horoctl check 127.0.0.1:11123 gets answers accepted by all (exit $rc)" [ "$rc" = 0 ]
	check_craft "ntpcraft 127.0.0.1 11123 gets a stratum 10 answer" "$NS" 127.0.0.1 11123 \
		--expect answered=true --expect stratum=10
	make_stop
	check "make run ends with status 0 when horod is stopped (got $MAKE_RC)" [ "$MAKE_RC" = 0 ]
	check "$TMPSOCKDIR removed at the stop" [ ! -e "$TMPSOCKDIR" ]
else
	fail "make run as uid $U did not start horod"
fi

# --- not root, with XDG_RUNTIME_DIR --------------------------------------------------
T_CTX=xdg
XDG=$T_DIR/xdg
mkdir -m 0700 "$XDG" && chown "$U:$U" "$XDG"
LOG=$T_DIR/run-xdg.log
if make_run "$LOG" "$NS" "${USER_WRAP[@]}" XDG_RUNTIME_DIR="$XDG" --; then
	check "horod logs its control socket $XDG/horod/horod.sock" \
		grep -q "control socket $XDG/horod/horod.sock" "$LOG"
	out=$(timeout 10 "${USER_WRAP[@]}" XDG_RUNTIME_DIR="$XDG" "$HOROCTL" status 2>&1)
	rc=$?
	check "horoctl status with the same XDG_RUNTIME_DIR answers (exit $rc: $out)" [ "$rc" -le 1 ]
	check "nothing in /tmp for this user" [ ! -e "$TMPSOCKDIR" ]
	make_stop
	check "$XDG/horod removed at the stop" [ ! -e "$XDG/horod" ]
	check "$XDG itself kept" [ -d "$XDG" ]
else
	fail "make run with XDG_RUNTIME_DIR did not start horod"
fi

# --- a /tmp/horod-UID someone else made first -----------------------------------------
T_CTX=squatted
mkdir -m 0755 "$TMPSOCKDIR" && MADE_TMPSOCKDIR=1 # root's, not the user's
HOROD_LOG=$T_DIR/squat.log
env --default-signal=INT ip netns exec "$NS" setpriv --reuid="$U" --regid="$U" --clear-groups \
	env -i "$HOROD" -n -P 11124 >"$HOROD_LOG" 2>&1 &
HOROD_PID=$!
_PIDS+=("$HOROD_PID")
for _ in $(seq $((HOROD_READY_TIMEOUT * 20))); do
	grep -q 'ready:' "$HOROD_LOG" && break
	sleep 0.05
done
check "horod serves anyway" grep -q 'ready:' "$HOROD_LOG"
check "horod says the directory is not the user's" \
	grep -q "control socket directory $TMPSOCKDIR is not a directory of uid $U" "$HOROD_LOG"
check "no socket made in it" [ ! -e "$TMPSOCKDIR/horod.sock" ]
horod_stop
check "the directory horod did not make is left alone" [ -d "$TMPSOCKDIR" ]
rm -rf "$TMPSOCKDIR" && MADE_TMPSOCKDIR=0

# --- root, RUN_PORT ------------------------------------------------------------
# In a mount namespace with an empty /run (the machine's /run/horod may
# hold another horod's socket); the wrapper says what horod left there.
T_CTX=root
NS2=$(ns_name root)
ns_create "$NS2"
ROOT_WRAP=(unshare -m --propagation private sh -c
	'mount -t tmpfs -o mode=0755 tmpfs /run || exit 1
	"$@"; rc=$?
	[ -e /run/horod ] && echo "LEFT: /run/horod: $(ls -A /run/horod | tr "\n" " ")"
	exit $rc' sh)
LOG=$T_DIR/run-root.log
if make_run "$LOG" "$NS2" "${ROOT_WRAP[@]}" -- RUN_PORT=$ROOT_PORT; then
	check "make run says port $ROOT_PORT" grep -q "port $ROOT_PORT " "$LOG"
	check "make run does not say not root" not grep -q 'not root' "$LOG"
	check "UDP $ROOT_PORT bound in the namespace" udp_bound "$NS2" $ROOT_PORT
	check "UDP 123 not bound in the namespace" not udp_bound "$NS2" 123
	check "horod logs its control socket /run/horod/horod.sock" \
		grep -q 'control socket /run/horod/horod.sock' "$LOG"
	out=$(timeout 10 nsenter -t "$HPID" -m "$HOROCTL" status 2>&1)
	rc=$?
	check "horoctl status as root, no -s, answers (exit $rc: $out)" [ "$rc" -le 1 ]
	make_stop
	check "make run ends with status 0 when horod is stopped (got $MAKE_RC)" [ "$MAKE_RC" = 0 ]
	check "/run/horod, which horod created, removed at the stop ($(grep LEFT "$LOG"))" \
		not grep -q LEFT "$LOG"
else
	fail "make run RUN_PORT=$ROOT_PORT as root did not start horod"
fi
finish
