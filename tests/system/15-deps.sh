#!/bin/bash
# shellcheck disable=SC2034,SC2086,SC2317 # T_CTX is read by lib.sh; lists split on purpose; helpers run through check
#
# The dependency steps of `make run` and `make test` never touch the
# machine's time service. scripts/install-deps runs under fake apt-get,
# apt-cache, dpkg, dpkg-query, dpkg-deb, id and the service managers'
# tools (systemctl, deb-systemd-helper, update-rc.d, invoke-rc.d), first
# on PATH, which record every call and act out a fresh Debian 12 machine
# with systemd-timesyncd and nothing else: every package of ours is
# missing, and installing a time daemon (as Debian's resolver would)
# removes systemd-timesyncd. The cache of scripts/third-party is the
# test's own. Checked:
#   - the run list holds no daemon package, nor does the test list;
#     README's "Two commands" names every package of both;
#   - `install-deps test` installs the run and test lists and chrony's
#     and ntpsec's libraries (lib* only), unpacks chrony and ntpsec into
#     the cache where `third-party path chronyd` finds chronyd, and never
#     installs chrony or another daemon, removes a package, or calls a
#     service tool; systemd-timesyncd stays installed; dpkg's progress
#     lines stay out of its output; a second run does nothing;
#   - a plan that would remove a package, install a listed daemon or a
#     package that provides time-daemon is refused before any install;
#   - not root, with a package missing: one message, exit 1, no install.
# Then, with the real apt and this machine's package lists (read only):
# the dependency closure of both lists and of the unpacked daemons'
# libraries holds no daemon, no time-daemon, and nothing that conflicts
# with or breaks systemd-timesyncd.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init --no-root
need_cmd flock comm sort
DEPS=$REPO/scripts/install-deps
# Never to be installed (a time service, or a daemon the tests run unpacked).
DAEMONS="chrony ntp ntpsec openntpd systemd-timesyncd ntpdate ntpsec-ntpdate gpsd bird bird2
linuxptp ptpd"

FAKE=$T_DIR/fake
BIN=$FAKE/bin
CALLS=$FAKE/calls  # one line per call: TOOL ARGS...
STATE=$FAKE/installed # the fake machine's installed packages, one a line
mkdir -p "$BIN"

# Each fake records its call, then acts from its body (bash, "$@" as given).
fake()
{
	{
		printf '#!/bin/bash\nprintf "%%s\\n" "%s $*" >>"%s"\nSTATE=%s\n' "$1" "$CALLS" "$STATE"
		cat
	} >"$BIN/$1"
	chmod +x "$BIN/$1"
}

fake id <<'EOF'
[ "$1" = -u ] && { echo "${FAKE_UID:-0}"; exit 0; }
exec /usr/bin/id "$@"
EOF
fake dpkg-query <<'EOF'
p=${!#}
grep -qx "$p" "$STATE" && { printf 'install ok installed'; exit 0; }
exit 1
EOF
# The time daemons Debian's resolver would replace systemd-timesyncd with.
fake apt-get <<'EOF'
sim=0; cmd=""; pkgs=()
for a in "$@"; do
	case $a in
	-s) sim=1 ;;
	-*|*=*|*::*) ;;
	update|install|download|remove|purge|autoremove) [ -z "$cmd" ] && cmd=$a || pkgs+=("$a") ;;
	*) pkgs+=("$a") ;;
	esac
done
case $cmd in
update) exit 0 ;;
download)
	for p in "${pkgs[@]}"; do : >"${p}_1.0-1_amd64.deb"; done ;;
install)
	for p in "${pkgs[@]}"; do
		grep -qx "$p" "$STATE" && continue
		case " chrony ntp ntpsec openntpd " in
		*" $p "*) grep -qx systemd-timesyncd "$STATE" && { [ $sim = 1 ] && echo "Remv systemd-timesyncd [252]" || sed -i '/^systemd-timesyncd$/d' "$STATE"; } ;;
		esac
		[ -n "${FAKE_REMOVE:-}" ] && [ $sim = 1 ] && echo "Remv $FAKE_REMOVE [1.0]"
		if [ $sim = 1 ]; then
			echo "Inst $p (1.0-1 Debian:12/stable [amd64])"
		else
			echo "Selecting previously unselected package $p."
			echo "Unpacking $p (1.0-1) ..."
			echo "Setting up $p (1.0-1) ..."
			echo "$p" >>"$STATE"
		fi
	done ;;
esac
exit 0
EOF
fake apt-cache <<'EOF'
[ "$1" = show ] || exit 0
for p in "$@"; do
	case $p in -*|show) continue ;; esac
	echo "Package: $p"
	case " ${FAKE_PROVIDES_TIME_DAEMON:-} chrony ntp ntpsec openntpd systemd-timesyncd " in
	*" $p "*) echo "Provides: time-daemon" ;;
	esac
	echo
done
EOF
fake dpkg-deb <<'EOF'
[ "$1" = -e ] || exit 1
mkdir -p "$3"
case ${2##*/} in
chrony_*) printf 'Package: chrony\nVersion: 1.0-1\nDepends: adduser, iproute2, tzdata, ucf, libc6 (>= 2.34), libcap2 (>= 1:2.10), libedit2, libgnutls30 (>= 3.7.5) | libgnutls-dane0, libnettle8, libseccomp2 (>= 2.4.3-1~)\nPre-Depends: init-system-helpers (>= 1.54~)\n' ;;
ntpsec_*) printf 'Package: ntpsec\nVersion: 1.0-1\nDepends: adduser, lsb-base, netbase, python3, python3-ntp (= 1.0-1), tzdata, libbsd0 (>= 0.0), libc6 (>= 2.34), libcap2:any, libssl3 (>= 3.0.0)\n' ;;
*) printf 'Package: other\nVersion: 1.0-1\n' ;;
esac >"$3/control"
EOF
fake dpkg <<'EOF'
[ "$1" = -x ] || exit 1
case ${2##*/} in
chrony_*) mkdir -p "$3/usr/sbin" && printf '#!/bin/sh\necho fake chronyd\n' >"$3/usr/sbin/chronyd" && chmod +x "$3/usr/sbin/chronyd" ;;
ntpsec_*) mkdir -p "$3/usr/sbin" "$3/usr/bin" && : >"$3/usr/sbin/ntpd" && : >"$3/usr/bin/ntpq" && chmod +x "$3/usr/sbin/ntpd" "$3/usr/bin/ntpq" ;;
esac
EOF
for t in systemctl deb-systemd-helper deb-systemd-invoke update-rc.d invoke-rc.d; do
	fake "$t" </dev/null
done

# A fresh machine: systemd-timesyncd and the C library.
fresh()
{
	printf '%s\n' systemd-timesyncd libc6 >"$STATE"
	: >"$CALLS"
	rm -rf "$T_DIR/cache"
}

# Run install-deps (or another script of ours) on the fake machine.
deps()
{
	PATH=$BIN:$PATH HOROD_TEST_CACHE=$T_DIR/cache TMPDIR=$T_DIR "$@"
}

# The install calls (not simulated) that name package P.
installs_of()
{
	grep -E '^apt-get .*install' "$CALLS" | grep -v -- ' -s ' | grep -E " $1( |$)"
}

# True when WORD is one of the words of LIST.
in_list()
{
	printf '%s\n' $2 | grep -qx -- "$1"
}

# --- the lists ----------------------------------------------------------------
T_CTX=lists
run_list=$("$DEPS" --list run | tr '\n' ' ')
test_list=$("$DEPS" --list test | tr '\n' ' ')
check "the run list is not empty (got '$run_list')" [ -n "$run_list" ]
for d in $DAEMONS; do
	check "the run list has no $d" not in_list "$d" "$run_list"
	check "the test list has no $d" not in_list "$d" "$test_list"
done
for p in check tcpdump ntpsec-ntpdig gnuplot-nox libclang-rt-14-dev; do
	check "$p is for the tests only, not in the run list" not in_list "$p" "$run_list"
done
for p in liburing-dev libbpf-dev clang bpftool libcap-dev; do
	check "the run list has $p (horod's build needs it)" in_list "$p" "$run_list"
done

# README's "Two commands" section names every package each command installs.
section=$(awk '/^## Two commands/ { on = 1; next } on && /^## / { exit } on' "$REPO/README.md")
for p in $test_list $("$DEPS" --list third-party); do
	check "README's Two commands names $p" grep -q -- "${p}[,.: ]" <<<"$section"
done

# --- install-deps test on a fresh machine ---------------------------------------
T_CTX=fresh
fresh
out=$(deps "$DEPS" --quiet test 2>&1)
rc=$?
check "install-deps test exits 0 (got $rc; output: $(head -c 400 <<<"$out" | tr '\n' ' '))" [ "$rc" = 0 ]
for p in $run_list $test_list; do
	grep -qx "$p" "$STATE" || fail "$p should have been installed"
done
pass "every package of both lists installed"
for d in $DAEMONS; do
	check "$d never installed" [ -z "$(installs_of "$d")" ]
done
check "systemd-timesyncd still installed" grep -qx systemd-timesyncd "$STATE"
check "nothing removed (no apt-get remove/purge/autoremove, no dpkg -r/-P)" \
	not grep -Eq '^apt-get .*(remove|purge|autoremove)|^dpkg .*(-r|-P|--remove|--purge)( |$)' "$CALLS"
check "no package installed with dpkg -i" not grep -Eq '^dpkg .*(-i|--install|--unpack)( |$)' "$CALLS"
check "no service tool called (systemctl, deb-systemd-helper, update-rc.d, invoke-rc.d)" \
	not grep -Eq '^(systemctl|deb-systemd-helper|deb-systemd-invoke|update-rc.d|invoke-rc.d) ' "$CALLS"
check "every install was planned first (apt-get -s)" \
	[ "$(grep -c '^apt-get -s ' "$CALLS")" -ge "$(grep -E '^apt-get .*install' "$CALLS" | grep -vc -- ' -s ')" ]
for l in libcap2 libedit2 libgnutls30 libnettle8 libseccomp2 libbsd0 libssl3; do
	check "the unpacked daemons' library $l installed" [ -n "$(installs_of "$l")" ]
done
for p in adduser tzdata ucf init-system-helpers lsb-base netbase libgnutls-dane0; do
	check "$p (a dependency of a daemon, not a library of it) not installed for it" \
		not grep -qx "$p" "$STATE"
done
check "chrony unpacked into the test's cache" [ -f "$T_DIR/cache/chrony/DEBIAN/control" ]
check "ntpsec unpacked into the test's cache" [ -f "$T_DIR/cache/ntpsec/DEBIAN/control" ]
path=$(deps "$REPO/scripts/third-party" path chronyd)
check "third-party path chronyd finds the unpacked one (got '$path')" \
	[ "$path" = "$T_DIR/cache/chrony/usr/sbin/chronyd" ]
check "dpkg's progress lines are kept out of the output" not grep -Eq 'Unpacking|Setting up|Selecting' <<<"$out"
check "a few lines of output, not a flood (got $(wc -l <<<"$out"))" [ "$(wc -l <<<"$out")" -le 8 ]
: >"$CALLS"
out=$(deps "$DEPS" --quiet test 2>&1)
rc=$?
check "a second run exits 0 and prints nothing (got $rc, '$(tr '\n' ' ' <<<"$out")')" [ "$rc.$out" = 0. ]
check "a second run installs and downloads nothing" not grep -Eq '^apt-get .*(install|download)' "$CALLS"

# --- plans that must be refused -------------------------------------------------
# refused WHAT ENV... -- ARGS: install-deps ARGS under ENV fails before installing.
refused()
{
	local what=$1 out rc
	shift
	fresh
	out=$(env "$@" PATH="$BIN:$PATH" HOROD_TEST_CACHE="$T_DIR/cache" TMPDIR="$T_DIR" \
		"$DEPS" --packages foo-client 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -q refusing <<<"$out" && [ -z "$(installs_of foo-client)" ]; then
		pass "$what: refused, nothing installed ($(tr '\n' ' ' <<<"$out"))"
	else
		fail "$what: want exit 1, 'refusing' and no install; got exit $rc: $(tr '\n' ' ' <<<"$out")"
	fi
}
T_CTX=refuse
refused "a plan that removes a package" FAKE_REMOVE=systemd-timesyncd
refused "a package that provides time-daemon" FAKE_PROVIDES_TIME_DAEMON=foo-client
for d in chrony gpsd; do
	fresh
	out=$(deps "$DEPS" --packages "$d" 2>&1)
	rc=$?
	check "install-deps --packages $d is refused (exit $rc, want 1): $(tr '\n' ' ' <<<"$out")" \
		[ "$rc" = 1 ]
	check "$d not installed" [ -z "$(installs_of "$d")" ]
done
check "systemd-timesyncd still installed after the refusals" grep -qx systemd-timesyncd "$STATE"

# --- not root -------------------------------------------------------------------
T_CTX=not-root
fresh
out=$(FAKE_UID=1000 deps "$DEPS" --quiet run 2>&1)
rc=$?
check "not root, packages missing: exit 1 (got $rc)" [ "$rc" = 1 ]
check "one line of output (got $(wc -l <<<"$out"): $out)" [ "$(wc -l <<<"$out")" = 1 ]
check "it says not root and what to run as root" grep -q 'not root.*as root run: .*install-deps run' <<<"$out"
check "nothing installed or planned" not grep -q '^apt-get' "$CALLS"

# --- the real dependency graph (read only) ------------------------------------------
T_CTX=debian
if ! command -v apt-cache >/dev/null || [ -z "$(apt-cache show --no-all-versions clang 2>/dev/null)" ]; then
	echo "NOTE: $T_NAME: no apt package lists here (apt-get update): the real graph is not checked"
else
	roots="$run_list $test_list"
	libs=$("$REPO/scripts/third-party" libs chrony ntpsec 2>/dev/null | tr '\n' ' ')
	if [ -n "$libs" ]; then
		roots="$roots $libs"
	else
		echo "NOTE: $T_NAME: chrony and ntpsec are not unpacked here: their libraries are not in the closure"
	fi
	closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances $roots 2>/dev/null |
		awk '/^[^ <]/ { sub(/:.*/, "", $1); print $1 }' | sort -u)
	n=$(wc -w <<<"$closure")
	check "the closure of both lists and the daemons' libraries has packages (got $n)" [ "$n" -gt 50 ]
	for d in $DAEMONS; do
		check "the closure has no $d" not grep -qx -- "$d" <<<"$closure"
	done
	bad=$(apt-cache show --no-all-versions $closure 2>/dev/null | awk '
		/^Package:/ { p = $2 }
		/^Provides:/ && /(^|[ ,])time-daemon([ ,(]|$)/ { print p " provides time-daemon" }
		/^(Conflicts|Breaks):/ && /(^|[ ,])(systemd-timesyncd|time-daemon)([ ,(]|$)/ { print p " " $0 }')
	check "nothing in the closure provides time-daemon or conflicts with systemd-timesyncd: ${bad:-none}" \
		[ -z "$bad" ]
fi
finish
