#!/bin/bash
# shellcheck disable=SC2034,SC2317,SC2001 # T_CTX is read by lib.sh; helpers run through check; sed on purpose
#
# What `make install` ships, and whether its documentation is true. It
# installs the build under test (without rebuilding it) into temporary
# DESTDIRs and checks: every file where it belongs with its mode and
# nothing else; the unit's ExecStart rewritten to PREFIX; an operator's
# /etc/horod/horod.conf never overwritten; each manual page renders
# without a warning (groff) and has a NAME line apropos can read; the unit
# passes `systemd-analyze verify` (its Documentation= pages found among the
# installed ones) and keeps its exposure score; the example configuration
# parses, and so does every commented-out directive in it once
# uncommented. Then the drift between code and manuals, with every list
# taken from the binaries, never written here: each directive horod's
# parser accepts has an entry in horod.conf.5 (and nothing else has one),
# each keyword of its form is in the page and the directive is in the
# example; each horoctl command has an entry in horoctl.8; each option
# in the --help text of horod, horoctl (and its commands) and horobench
# is in its page; the examples of horod.conf.5 parse. A tool this machine
# lacks (groff, systemd-analyze) skips its part with a NOTE line, not the
# test.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init --no-root
need_cmd make sed cmp find stat sort

HOROCTL=$HOROD_BUILD/horoctl
HOROBENCH=$HOROD_BUILD/horobench
have_ctl=$(find "$REPO/ctl" -maxdepth 1 -name '*.c' 2>/dev/null | head -n1)
have_bench=$(find "$REPO/bench/src" -maxdepth 1 -name '*.c' 2>/dev/null | head -n1)
[ -z "$have_ctl" ] || [ -x "$HOROCTL" ] || die "no horoctl binary at $HOROCTL (run make all)"
[ -z "$have_bench" ] || [ -x "$HOROBENCH" ] || die "no horobench binary at $HOROBENCH (run make all)"

# Say that a part of the test did not run, and why (the test goes on).
note()
{
	echo "NOTE: $T_NAME: $*"
}

# Run a command without its output; its exit status.
quiet()
{
	"$@" >/dev/null 2>&1
}

# make install into DESTDIR with PREFIX and more make arguments. It
# installs the build under test (B=HOROD_BUILD) as it is: `-o progs` keeps
# make from rebuilding it. Output in $T_DIR/install.log.
do_install()
{
	local d=$1 p=$2
	shift 2
	# B relative to the repository, as the Makefile names its targets:
	# an absolute one would leave dependency files whose targets a later
	# plain `make` never matches (objects then not rebuilt for a header).
	make -C "$REPO" --no-print-directory -o progs B="${HOROD_BUILD#"$REPO"/}" install DESTDIR="$d" \
		PREFIX="$p" "$@" >"$T_DIR/install.log" 2>&1
}

# The text of a manual page's source with font changes, \- and quotes
# removed, so that options and names can be looked for as written.
man_text()
{
	sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\(aq/'\''/g' -e 's/\\(lq//g' \
		-e 's/\\(rq//g' -e 's/"//g' "$1"
}

# The first word of every .TP tag of page FILE between the section headers
# FROM and TO (TO empty: to the end), in man_text form.
man_tags()
{
	man_text "$1" | awk -v from="$2" -v to="$3" '
		$0 == ".SH " from { on = 1; next }
		on && to != "" && $0 == ".SH " to { on = 0 }
		on && tag { sub(/^\.[A-Z]+ +/, ""); print $1; tag = 0; next }
		on && /^\.TP/ { tag = 1 }'
}

# True when option OPT (-x or --xyz) appears in TEXT as a whole option.
has_opt()
{
	grep -Eq -- "(^|[^-A-Za-z0-9])$2([^-A-Za-z0-9]|$)" <<<"$1"
}

# The options (-x, --xyz) a --help TEXT offers: at the start of a line, in
# brackets or after a comma, `|` or `Options:`, not named in passing in prose
# ("like ntpq -p").
help_opts()
{
	grep -Eo -- '(^ *|[[|]|, |Options: )--?[A-Za-z][-A-Za-z]*' <<<"$1" |
		grep -Eo -- '--?[A-Za-z][-A-Za-z]*$' | sort -u
}

# ---- make install -------------------------------------------------------

D=$T_DIR/root
if do_install "$D" /usr/local; then
	pass "make install DESTDIR=... PREFIX=/usr/local succeeds"
else
	sed 's/^/    | /' "$T_DIR/install.log" | tail -n 20
	die "make install DESTDIR=$D PREFIX=/usr/local failed"
fi

# path mode [source it must equal]
expect=(
	"usr/local/sbin/horod 755 $HOROD_BUILD/horod"
	"lib/systemd/system/horod.service 644"
	"usr/local/share/man/man8/horod.8 644 $REPO/man/horod.8"
	"usr/local/share/man/man5/horod.conf.5 644 $REPO/man/horod.conf.5"
	"etc/horod/horod.conf 644 $REPO/dist/horod.conf"
	"usr/local/share/doc/horod/horod.conf.example 644 $REPO/dist/horod.conf"
	"usr/local/libexec/horod/horod-anycast-check 755 $REPO/dist/fleet/horod-anycast-check"
	"usr/local/share/horod/grafana/horod.json 644 $REPO/dist/grafana/horod.json"
	"usr/local/share/horod/prometheus/horod-rules.yml 644 $REPO/dist/prometheus/horod-rules.yml"
	"usr/local/share/horod/fleet/bird-replica.conf 644 $REPO/dist/fleet/bird-replica.conf"
	"usr/local/share/horod/fleet/bird-router.conf 644 $REPO/dist/fleet/bird-router.conf"
	"usr/local/share/horod/fleet/horod-anycast-check.service 644 $REPO/dist/fleet/horod-anycast-check.service"
)
[ -n "$have_ctl" ] && expect+=("usr/local/bin/horoctl 755 $HOROCTL"
	"usr/local/share/man/man8/horoctl.8 644 $REPO/man/horoctl.8")
[ -n "$have_bench" ] && expect+=("usr/local/bin/horobench 755 $HOROBENCH"
	"usr/local/share/man/man1/horobench.1 644 $REPO/man/horobench.1")
for e in "${expect[@]}"; do
	read -r path mode src <<<"$e"
	f=$D/$path
	if [ ! -f "$f" ]; then
		fail "make install should put /$path in DESTDIR (it is missing)"
		continue
	fi
	got=$(stat -c %a "$f")
	check "/$path should have mode $mode (has $got)" [ "$got" = "$mode" ]
	[ -n "$src" ] && check "/$path should be a copy of ${src#"$REPO"/}" cmp -s "$src" "$f"
done
extra=$(cd "$D" && find . -type f -o -type l | sed 's|^\./||' | sort |
	grep -vxF -f <(printf '%s\n' "${expect[@]}" | awk '{ print $1 }'))
check "make install should install nothing else (extra: ${extra:-none})" [ -z "$extra" ]

UNIT=$D/lib/systemd/system/horod.service
execstart=$(grep -m1 '^ExecStart=' "$UNIT" 2>/dev/null)
check "the unit should start /usr/local/sbin/horod in the foreground on /etc/horod/horod.conf (has '$execstart')" \
	[ "$execstart" = "ExecStart=/usr/local/sbin/horod -n -p /run/horod/horod.pid -f /etc/horod/horod.conf" ]
execreload=$(grep -m1 '^ExecReload=' "$UNIT" 2>/dev/null)
check "the unit's reload should be a takeover by /usr/local/sbin/horod (has '$execreload')" \
	[ "$execreload" = "ExecReload=/usr/local/sbin/horod --takeover -p /run/horod/horod.pid -f /etc/horod/horod.conf" ]
help=$("$HOROD" --help 2>&1)
for line in "$execstart" "$execreload"; do
	args=${line#*=}
	for o in ${args#* }; do
		case $o in
		-*) check "the unit's option $o should be one horod --help lists" has_opt "$help" "$o" ;;
		esac
	done
done
check "the unit should use Type=notify (horod says READY=1)" grep -qx 'Type=notify' "$UNIT"
check "the unit's PIDFile= should be the pidfile it passes (-p)" \
	grep -qx 'PIDFile=/run/horod/horod.pid' "$UNIT"
check "the unit should have a watchdog" grep -q '^WatchdogSec=' "$UNIT"
check "the unit should let a takeover's new horod notify (NotifyAccess=all)" \
	grep -qx 'NotifyAccess=all' "$UNIT"

# An operator's configuration survives a second install; the example is renewed.
echo "# an operator's edit" >>"$D/etc/horod/horod.conf"
echo "# stale" >>"$D/usr/local/share/doc/horod/horod.conf.example"
if do_install "$D" /usr/local; then
	check "a second make install should keep the operator's /etc/horod/horod.conf" \
		grep -qx "# an operator's edit" "$D/etc/horod/horod.conf"
	check "a second make install should say it keeps /etc/horod/horod.conf" \
		grep -q 'keeping the existing' "$T_DIR/install.log"
	check "a second make install should renew horod.conf.example" \
		cmp -s "$REPO/dist/horod.conf" "$D/usr/local/share/doc/horod/horod.conf.example"
else
	fail "a second make install into the same DESTDIR failed"
	tail -n 10 "$T_DIR/install.log" | sed 's/^/    | /'
fi

# PREFIX=/usr: binaries under /usr, the unit still under /lib, ExecStart rewritten;
# UNITDIR moves the unit.
D2=$T_DIR/root-usr
if do_install "$D2" /usr UNITDIR=/usr/lib/systemd/system; then
	check "PREFIX=/usr should put horod in /usr/sbin" [ -x "$D2/usr/sbin/horod" ]
	check "PREFIX=/usr should put the manual pages in /usr/share/man" \
		[ -f "$D2/usr/share/man/man5/horod.conf.5" ]
	check "UNITDIR=/usr/lib/systemd/system should put the unit there" \
		[ -f "$D2/usr/lib/systemd/system/horod.service" ]
	check "PREFIX=/usr should rewrite ExecStart to /usr/sbin/horod" \
		grep -qx 'ExecStart=/usr/sbin/horod -n -p /run/horod/horod.pid -f /etc/horod/horod.conf' \
		"$D2/usr/lib/systemd/system/horod.service"
	check "PREFIX=/usr should rewrite ExecReload to /usr/sbin/horod" \
		grep -qx 'ExecReload=/usr/sbin/horod --takeover -p /run/horod/horod.pid -f /etc/horod/horod.conf' \
		"$D2/usr/lib/systemd/system/horod.service"
	check "the configuration should stay in /etc whatever PREFIX is" \
		[ -f "$D2/etc/horod/horod.conf" ]
else
	fail "make install DESTDIR=... PREFIX=/usr UNITDIR=/usr/lib/systemd/system failed"
	tail -n 10 "$T_DIR/install.log" | sed 's/^/    | /'
fi

# ---- manual pages render -------------------------------------------------

PAGES=$(cd "$D" && find usr/local/share/man -type f | sort)
if command -v groff >/dev/null 2>&1; then
	for p in $PAGES; do
		out=$(LC_ALL=C groff -man -ww -z "$D/$p" 2>&1
			LC_ALL=C.UTF-8 groff -man -ww -Tutf8 -rLL=80n -z "$D/$p" 2>&1)
		if [ -z "$out" ]; then
			pass "${p##*/} should render without a warning (groff -man -ww, ps and utf8 80 columns)"
		else
			fail "${p##*/} should render without a warning; groff says:"
			head -n 10 <<<"$out" | sed 's/^/    | /'
		fi
	done
else
	note "groff not found: the manual pages were NOT rendered (install groff-base)"
fi
if command -v lexgrog >/dev/null 2>&1; then
	for p in $PAGES; do
		check "${p##*/} should have a NAME line apropos reads (lexgrog)" \
			quiet lexgrog "$D/$p"
	done
else
	note "lexgrog (man-db) not found: the NAME lines were not checked"
fi

# ---- systemd-analyze ----------------------------------------------------

if ! command -v systemd-analyze >/dev/null 2>&1; then
	note "systemd-analyze not found: the unit was NOT verified"
else
	mkdir -p "$T_DIR/probe"
	printf '[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n' \
		>"$T_DIR/probe/probe.service"
	if ! out=$(systemd-analyze verify --man=no "$T_DIR/probe/probe.service" 2>&1); then
		note "systemd-analyze verify does not work here (on a trivial unit: $(head -n1 <<<"$out")): the unit was NOT verified"
	else
		# The unit as installed, its ExecStart pointing into DESTDIR (verify
		# checks the program), with the installed pages on MANPATH (verify
		# runs man on each Documentation= page).
		mkdir -p "$T_DIR/unit"
		sed -e "s|^ExecStart=/usr/local/sbin/horod|ExecStart=$D/usr/local/sbin/horod|" \
			-e "s|^ExecReload=/usr/local/sbin/horod|ExecReload=$D/usr/local/sbin/horod|" \
			"$UNIT" >"$T_DIR/unit/horod.service"
		out=$(MANPATH=$D/usr/local/share/man systemd-analyze verify \
			"$T_DIR/unit/horod.service" 2>&1)
		rc=$?
		if [ "$rc" = 0 ] && [ -z "$out" ]; then
			pass "systemd-analyze verify should accept the unit, its man: pages installed"
		else
			fail "systemd-analyze verify should accept the unit (exit $rc):"
			head -n 10 <<<"$out" | sed 's/^/    | /'
		fi
		out=$(systemd-analyze security --offline=yes "$T_DIR/unit/horod.service" 2>&1)
		score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
		if [ -z "$score" ]; then
			note "systemd-analyze security --offline gave no score: exposure not checked"
		else
			check "the unit's exposure (systemd-analyze security) should stay at most 4.0 (is $score)" \
				awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }'
		fi
	fi
fi

# ---- the example configuration ---------------------------------------------

CONF=$D/etc/horod/horod.conf
out=$("$HOROD" --check-config -f "$CONF" 2>&1)
check "horod --check-config should accept the installed example ($out)" \
	grep -q 'configuration OK' <<<"$out"

# The directives, from the parser itself: its unknown-directive message lists them.
printf 'horod-install-test-no-such-directive\n' >"$T_DIR/unknown.conf"
DIRECTIVES=$("$HOROD" --check-config -f "$T_DIR/unknown.conf" 2>&1 |
	sed -n 's/.*unknown directive.*allowed: *//p' | tr ' ' '\n' | grep -E '^[a-z]+$' | sort -u)
n_dir=$(grep -c . <<<"$DIRECTIVES")
check "horod should list its directives when given an unknown one (found $n_dir, listen among them)" \
	grep -qx listen <<<"$DIRECTIVES"

# Every `#directive ...` example, uncommented, parses too.
alt=$(tr '\n' '|' <<<"$DIRECTIVES")
alt=${alt%|}
sed -E "s/^#($alt)( |\$)/\\1\\2/" "$CONF" >"$T_DIR/uncommented.conf"
n_ex=$(grep -cE "^#($alt)( |\$)" "$CONF")
out=$("$HOROD" --check-config -f "$T_DIR/uncommented.conf" 2>&1)
check "the example with its $n_ex commented-out directives uncommented should parse ($out)" \
	grep -q 'configuration OK' <<<"$out"
# Every directive line, in use or commented out, has a comment right above it.
bare=$(awk -v re="^#?($alt)( |\$)" '$0 ~ re && prev !~ /^# / { print NR ": " $0 } { prev = $0 }' "$CONF")
check "every directive line of the example should have a comment above it (not: ${bare:-none})" \
	[ -z "$bare" ]

# ---- drift: horod.conf.5 against the parser ------------------------------

CONF5=$REPO/man/horod.conf.5
CONF5_TEXT=$(man_text "$CONF5")
TAGS=$(man_tags "$CONF5" DESCRIPTION EXAMPLES | sort -u)
for d in $DIRECTIVES; do
	check "horod.conf.5 should have an entry for directive '$d'" grep -qx "$d" <<<"$TAGS"
	check "the example configuration should show directive '$d'" grep -qE "^#?$d( |\$)" "$CONF"
	# The keywords of the directive's form, from the parser's own messages.
	form=""
	for args in "" " x y z w"; do
		printf 'listen 127.0.0.1\n%s%s\n' "$d" "$args" >"$T_DIR/form.conf"
		msg=$("$HOROD" --check-config -f "$T_DIR/form.conf" 2>&1)
		form=$(sed -n "s/.*allowed: \\($d\\( .*\\)\\{0,1\\}\\)\$/\\1/p" <<<"$msg")
		[ -n "$form" ] && break
	done
	if [ -z "$form" ]; then
		note "no 'allowed: $d ...' form in horod's messages: the keywords of '$d' were not checked"
		continue
	fi
	words=$(sed -e 's/([^)]*)//g' <<<"$form" | tr '[]|() ' '\n' | grep -E '^[a-z]{2,}$' |
		sort -u)
	missing=""
	for w in $words; do
		grep -qw -- "$w" <<<"$CONF5_TEXT" || missing="$missing $w"
	done
	check "horod.conf.5 should name every keyword of '$form' (missing:${missing:- none})" \
		[ -z "$missing" ]
done
for t in $TAGS; do
	check "horod.conf.5's entry '$t' should be a directive the parser accepts" \
		grep -qx -- "$t" <<<"$DIRECTIVES"
done
# The examples of the page parse.
man_text "$CONF5" | awk -v dir="$T_DIR" '
	/^\.SH EXAMPLES/ { on = 1; next }
	/^\.SH / { on = 0 }
	on && /^\.nf/ { n++; inb = 1; next }
	on && /^\.fi/ { inb = 0 }
	inb && !/^\./ { print > (dir "/man-example-" n ".conf") }'
for f in "$T_DIR"/man-example-*.conf; do
	[ -e "$f" ] || {
		fail "horod.conf.5 should have examples under EXAMPLES"
		break
	}
	out=$("$HOROD" --check-config -f "$f" 2>&1)
	check "horod.conf.5's example ${f##*-} should parse ($out)" grep -q 'configuration OK' <<<"$out"
done

# ---- drift: options and commands against --help ----------------------------

# horod's options.
HOROD8=$(man_text "$REPO/man/horod.8")
for o in $(help_opts "$("$HOROD" --help 2>&1)"); do
	check "horod.8 should describe horod's option $o" has_opt "$HOROD8" "$o"
done

if [ -n "$have_ctl" ]; then
	HOROCTL8=$(man_text "$REPO/man/horoctl.8")
	help=$("$HOROCTL" --help 2>&1)
	CMDS=$(awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }' <<<"$help")
	check "horoctl --help should list its commands (found $(grep -c . <<<"$CMDS"), status among them)" \
		grep -qx status <<<"$CMDS"
	CTAGS=$(man_tags "$REPO/man/horoctl.8" COMMANDS "EXIT STATUS" | grep -E '^[a-z]' | sort -u)
	for c in $CMDS; do
		check "horoctl.8 should have an entry for command '$c'" grep -qx "$c" <<<"$CTAGS"
		[ "$c" = help ] && continue
		chelp=$("$HOROCTL" "$c" --help 2>&1)
		rc=$?
		check "horoctl $c --help should exit 0 (got $rc)" [ "$rc" = 0 ]
		help="$help
$chelp"
	done
	for t in $CTAGS; do
		check "horoctl.8's entry '$t' should be a command horoctl --help lists" \
			grep -qx -- "$t" <<<"$CMDS"
	done
	for o in $(help_opts "$help"); do
		check "horoctl.8 should describe horoctl's option $o" has_opt "$HOROCTL8" "$o"
	done
fi

if [ -n "$have_bench" ]; then
	BENCH1=$(man_text "$REPO/man/horobench.1")
	help="$("$HOROBENCH" --help 2>&1)
$("$HOROBENCH" respond --help 2>&1)"
	for o in $(help_opts "$help"); do
		check "horobench.1 should describe horobench's option $o" has_opt "$BENCH1" "$o"
	done
fi

finish
