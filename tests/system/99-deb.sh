#!/bin/bash
# shellcheck disable=SC2034,SC2317 # T_CTX is read by lib.sh; cleanup runs through a trap
#
# The Debian package, built, installed and purged on this machine. It
# builds the package from the tree with scripts/build-deb (lintian: no
# error, no warning), installs it with dpkg, and checks: every file where
# it belongs, /etc/horod/horod.conf a conffile with `user _horod` in
# force, the _horod system account and group, /var/lib/horod owned by
# it, `horod --check-config` on the installed file, the installed unit
# through systemd-analyze verify, and that the installed horod runs
# (in a namespace of its own, as _horod, answering a client). It checks
# what the installation must not do: enable or start the service
# (deb-systemd-helper's view and the wants links), change the state of
# any time service package (chrony, systemd-timesyncd, ntpsec...), or
# enable anything at boot. Then it purges the package and checks that
# nothing is left: files, directories, the account and group, the
# statoverride, deb-systemd-helper's state.
#
# It changes this machine's package database, so it skips when horod is
# already installed (or a _horod account exists) rather than touch an
# installation it did not make, holds a lock so that two runs never
# overlap, and purges what it installed however it ends.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd dpkg dpkg-query dpkg-buildpackage dh lintian flock getent stat
LOCK=/run/lock/horod-deb-test.lock
LOCK_WAIT=300   # s: another run of this test building and installing
DPKG_WAIT=120   # s: dpkg's lock, held by another installation on the machine
BUILD_LIMIT=600 # s: scripts/build-deb (about 30 s here)
PKG=horod

exec 9>"$LOCK"
flock -w "$LOCK_WAIT" 9 || skip "another run holds $LOCK for more than $LOCK_WAIT s"

status_of()
{
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '
}

[ -z "$(status_of $PKG)" ] || [ "$(status_of $PKG)" = un ] ||
	skip "the $PKG package is on this machine already ($(status_of $PKG)): not touching an installation this test did not make"
getent passwd _horod >/dev/null && skip "a _horod account exists already: not touching it"
getent group _horod >/dev/null && skip "a _horod group exists already: not touching it"

INSTALLED=0
# Purge what we installed, whatever way the test ends.
deb_cleanup()
{
	if [ "$INSTALLED" = 1 ]; then
		dpkg_retry --purge "$PKG" >/dev/null 2>&1
	fi
	lib_cleanup
}
trap deb_cleanup EXIT

# dpkg ARGS, retried while another dpkg or apt holds the lock (bounded).
dpkg_retry()
{
	local i out rc
	for i in $(seq "$DPKG_WAIT"); do
		out=$(dpkg "$@" 2>&1)
		rc=$?
		if [ "$rc" = 0 ] || ! grep -qi 'lock' <<<"$out"; then
			printf '%s\n' "$out"
			return "$rc"
		fi
		sleep 1
	done
	printf '%s\n' "$out"
	return "$rc"
}

# Units enabled at boot: systemd wants links and SysV start links.
enabled_units()
{
	{
		find /etc/systemd/system -mindepth 2 -maxdepth 2 -path '*.wants/*'
		find /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d -name 'S*'
	} 2>/dev/null | sort
}

# The state of every time service package there is (installed or not).
TIME_PKGS="chrony systemd-timesyncd ntpsec ntp openntpd ntpdate ntpsec-ntpdate"
time_services()
{
	local p
	for p in $TIME_PKGS; do
		echo "$p $(status_of "$p")"
	done
}

# Files and directories named after horod where a package puts things.
# Not /run/horod: the running service's (systemd's RuntimeDirectory=, or
# any horod's control socket), which the package neither ships nor
# removes (other horods on this machine may be using it).
# (/etc/netns/horod-t-*: the namespaces of tests running beside this one,
# `ip netns` keeps a directory per namespace there while it exists)
horod_paths()
{
	find /etc /usr /lib /var/lib /var/log -name '*horod*' 2>/dev/null |
		grep -v -e '^/var/lib/dpkg/' -e '^/etc/netns/horod-t-' | sort
}

# ---- build ------------------------------------------------------------------

OUT=$T_DIR/deb
if timeout "$BUILD_LIMIT" env DEB_BUILD_OPTIONS=nocheck "$REPO/scripts/build-deb" "$OUT" \
	>"$T_DIR/build-deb.log" 2>&1; then
	pass "scripts/build-deb builds the package and lintian passes it"
else
	sed 's/^/    | /' "$T_DIR/build-deb.log" | tail -n 30
	die "scripts/build-deb failed"
fi
summary=$(grep '^build-deb: lintian' "$T_DIR/build-deb.log")
echo "    $summary"
check "lintian should report no error and no warning ($summary)" \
	grep -q ': 0 errors, 0 warnings' <<<"$summary"
DEB=$(ls "$OUT"/${PKG}_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -n1)
[ -f "$DEB" ] || die "no .deb in $OUT"
VERSION=$(dpkg-deb -f "$DEB" Version)
check "the package's version should be horod's own ($VERSION)" \
	bash -c '[ "$("$1" --version)" = "horod $2" ]' _ "$HOROD" "$VERSION"
check "the package should not declare time-daemon (installing it would remove the machine's time service)" \
	not bash -c 'dpkg-deb -f "$1" Provides Conflicts Replaces Breaks | grep -q time-daemon' _ "$DEB"

# ---- install -------------------------------------------------------------------

units_before=$(enabled_units)
time_before=$(time_services)
paths_before=$(horod_paths)
out=$(dpkg_retry -i "$DEB")
rc=$?
INSTALLED=1
if [ "$rc" = 0 ]; then
	pass "dpkg -i installs the package"
else
	sed 's/^/    | /' <<<"$out" | tail -n 20
	die "dpkg -i failed (exit $rc)"
fi
check "dpkg should record horod as installed ($(status_of $PKG))" [ "$(status_of $PKG)" = ii ]

# path mode owner
expect=(
	"/usr/sbin/horod 755 root"
	"/usr/bin/horoctl 755 root"
	"/usr/bin/horobench 755 root"
	"/lib/systemd/system/horod.service 644 root"
	"/etc/horod/horod.conf 644 root"
	"/usr/share/man/man8/horod.8.gz 644 root"
	"/usr/share/man/man5/horod.conf.5.gz 644 root"
	"/usr/share/man/man8/horoctl.8.gz 644 root"
	"/usr/share/man/man1/horobench.1.gz 644 root"
	"/usr/share/doc/horod/copyright 644 root"
	"/usr/share/doc/horod/horod.conf.example.gz 644 root"
	"/usr/libexec/horod/horod-anycast-check 755 root"
	"/usr/share/horod/grafana/horod.json 644 root"
	"/usr/share/horod/prometheus/horod-rules.yml 644 root"
	"/usr/share/horod/fleet/bird-replica.conf 644 root"
	"/usr/share/horod/fleet/bird-router.conf 644 root"
	"/usr/share/horod/fleet/horod-anycast-check.service 644 root"
	"/var/lib/horod 750 _horod"
)
for e in "${expect[@]}"; do
	read -r path mode owner <<<"$e"
	if [ ! -e "$path" ]; then
		fail "the package should install $path (it is missing)"
		continue
	fi
	got=$(stat -c '%a %U' "$path")
	check "$path should have mode $mode and owner $owner (has $got)" [ "$got" = "$mode $owner" ]
done
check "/usr/sbin/horod should be the version packaged" \
	bash -c '[ "$(/usr/sbin/horod --version)" = "horod $1" ]' _ "$VERSION"
check "/usr/bin/horoctl should run (--help)" bash -c '/usr/bin/horoctl --help >/dev/null'
check "/etc/horod/horod.conf should be a conffile" \
	bash -c 'dpkg-query -W -f="\${Conffiles}\n" horod | grep -q "^ /etc/horod/horod.conf "'
check "the installed configuration should run horod as _horod" \
	grep -qx 'user _horod' /etc/horod/horod.conf
check "the installed unit should start /usr/sbin/horod" \
	grep -q '^ExecStart=/usr/sbin/horod ' /lib/systemd/system/horod.service

pw=$(getent passwd _horod)
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
check "the _horod account should exist ($pw)" [ -n "$pw" ]
check "_horod should be a system account (uid $uid below 1000)" \
	bash -c '[ -n "$1" ] && [ "$1" -lt 1000 ]' _ "$uid"
check "_horod's home should be /var/lib/horod (is $home)" [ "$home" = /var/lib/horod ]
check "_horod should have no login shell (has $shell)" \
	bash -c 'case $1 in */nologin | */false) exit 0 ;; esac; exit 1' _ "$shell"
check "_horod's group should be _horod" \
	bash -c '[ "$(getent group _horod | cut -d: -f3)" = "$1" ]' _ "$gid"
check "/var/lib/horod should be kept _horod's by a statoverride" \
	bash -c 'dpkg-statoverride --list /var/lib/horod | grep -q "^_horod _horod 0\?750 /var/lib/horod$"'

out=$(/usr/sbin/horod --check-config -f /etc/horod/horod.conf 2>&1)
check "horod --check-config should accept the installed configuration ($out)" \
	grep -q 'configuration OK' <<<"$out"

if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(systemd-analyze verify /lib/systemd/system/horod.service 2>&1)
	rc=$?
	check "systemd-analyze verify should accept the installed unit (exit $rc${out:+: $out})" \
		bash -c '[ "$1" = 0 ] && [ -z "$2" ]' _ "$rc" "$out"
else
	echo "NOTE: $T_NAME: systemd-analyze not found: the installed unit was NOT verified"
fi

# What the installation must not have done.
check "installing should enable nothing at boot (new: $(comm -13 <(echo "$units_before") <(enabled_units) | tr '\n' ' '))" \
	[ "$units_before" = "$(enabled_units)" ]
# deb-systemd-helper (which only answers as if called by dpkg) records the
# links `enable` would make, and makes none of them.
DSH_STATE=/var/lib/systemd/deb-systemd-helper-enabled/horod.service.dsh-also
would=$(cat "$DSH_STATE" 2>/dev/null | tr '\n' ' ')
echo "    deb-systemd-helper would enable: ${would:-nothing}"
check "deb-systemd-helper should record the one link enabling would make (${would:-none})" \
	[ "$would" = "/etc/systemd/system/multi-user.target.wants/horod.service " ]
check "deb-systemd-helper should not consider horod.service enabled" \
	not env DPKG_MAINTSCRIPT_PACKAGE=$PKG deb-systemd-helper --quiet is-enabled horod.service
check "the link enabling would make should not exist" \
	[ ! -e /etc/systemd/system/multi-user.target.wants/horod.service ]
check "installing should change no time service package" [ "$time_before" = "$(time_services)" ]
check "installing should start no horod" not pgrep -x -f '/usr/sbin/horod.*' >/dev/null

# The installed horod runs: in a namespace of its own, with the installed
# configuration but a control socket of the test's (the machine's
# /run/horod stays untouched), it drops to _horod and answers.
NS=$(ns_name deb)
ns_create "$NS"
sed "s|^control .*|control $T_DIR/ctl/horod.sock|" /etc/horod/horod.conf >"$T_DIR/run.conf"
env --default-signal=INT ip netns exec "$NS" /usr/sbin/horod -n -f "$T_DIR/run.conf" \
	>"$T_DIR/run.log" 2>&1 &
RUN_PID=$!
_PIDS+=("$RUN_PID")
for _ in $(seq 100); do
	grep -q 'ready:' "$T_DIR/run.log" && break
	pid_alive "$RUN_PID" || break
	sleep 0.05
done
if grep -q 'ready:' "$T_DIR/run.log"; then
	pass "the installed horod starts on the installed configuration"
	sleep 0.2
	user=$(ps -o user= -p "$RUN_PID" 2>/dev/null | tr -d ' ')
	check "the installed horod should run as _horod (runs as ${user:-nothing})" [ "$user" = _horod ]
	check_craft "the installed horod answers on 127.0.0.1" "$NS" 127.0.0.1 123
	kill -TERM "$RUN_PID"
	for _ in $(seq 100); do
		pid_alive "$RUN_PID" || break
		sleep 0.05
	done
	wait "$RUN_PID"
	rc=$?
	check "the installed horod should stop cleanly on SIGTERM (exit $rc)" [ "$rc" = 0 ]
else
	fail "the installed horod should start on the installed configuration; its log:"
	sed 's/^/    | /' "$T_DIR/run.log"
fi

# ---- purge ----------------------------------------------------------------------

files=$(dpkg-query -L "$PKG" 2>/dev/null)
out=$(dpkg_retry --purge "$PKG")
rc=$?
if [ "$rc" = 0 ]; then
	INSTALLED=0
	pass "dpkg --purge removes the package"
else
	sed 's/^/    | /' <<<"$out" | tail -n 20
	fail "dpkg --purge failed (exit $rc)"
fi
check "dpkg should know nothing of horod after the purge ($(status_of $PKG))" \
	bash -c '[ -z "$1" ] || [ "$1" = un ] || [ "$1" = pn ]' _ "$(status_of $PKG)"
left=""
while read -r f; do
	case $f in
	*horod*) [ -e "$f" ] && left="$left $f" ;;
	esac
done <<<"$files"
check "every file and directory of the package should be gone (left:${left:- none})" [ -z "$left" ]
for d in /etc/horod /var/lib/horod; do
	check "$d should be gone" [ ! -e "$d" ]
done
check "the _horod account should be gone" not getent passwd _horod
check "the _horod group should be gone" not getent group _horod
check "the statoverride of /var/lib/horod should be gone" \
	not bash -c 'dpkg-statoverride --list /var/lib/horod >/dev/null'
dsh=$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
	-name '*horod*' 2>/dev/null | tr '\n' ' ')
check "deb-systemd-helper should keep no state of horod.service (has: ${dsh:-none})" [ -z "$dsh" ]
extra=$(comm -13 <(echo "$paths_before") <(horod_paths) | tr '\n' ' ')
check "nothing named after horod should be left in /etc, /usr, /lib, /var/lib, /var/log (left: ${extra:-none})" \
	[ -z "$extra" ]
check "installing and purging should leave the boot-enabled units as they were" \
	[ "$units_before" = "$(enabled_units)" ]
check "installing and purging should leave every time service package as it was" \
	[ "$time_before" = "$(time_services)" ]

finish
