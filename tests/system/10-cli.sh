#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# horod's command line without starting a server: --version and --help exit
# 0 and say something useful; --check-config accepts a file that uses every
# directive, and rejects each kind of bad file with exit 2 and a
# `file:line:` message naming the right line (and the allowed range where
# there is one), without starting anything.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init --no-root

out=$(timeout 5 "$HOROD" --version 2>&1)
rc=$?
check "--version exits 0 (got $rc)" [ "$rc" = 0 ]
check "--version prints horod and a version number (got '$out')" \
	grep -Eq 'horod.*[0-9]+\.[0-9]+' <<<"$out"

out=$(timeout 5 "$HOROD" --help 2>&1)
rc=$?
check "--help exits 0 (got $rc)" [ "$rc" = 0 ]
for opt in -f -n -d -P --check-config --version; do
	check "--help mentions $opt" grep -q -- "$opt" <<<"$out"
done

good=$T_DIR/good.conf
write_conf "$good" <<CONF
# every directive horod knows
listen 127.0.0.1 port 12300
listen ::1
local stratum 7 dispersion 0.001
allow all
deny 192.0.2.128/25
control allow 192.0.2.0/24
workers 2
io mmsg
pidfile $T_DIR/horod.pid
log stderr
CONF
out=$(timeout 5 "$HOROD" --check-config -f "$good" 2>&1)
rc=$?
check "--check-config accepts a good file (exit $rc, output '$out')" [ "$rc" = 0 ]
check "--check-config does not write the pidfile (nothing starts)" [ ! -e "$T_DIR/horod.pid" ]

# Each bad file: its error is on line 3, after a comment and a good line.
# Fields: name | bad line | text the message must also contain (or empty).
cases=(
	"unknown directive|frobnicate 3|"
	"stratum 16|local stratum 16|15"
	"stratum 0|local stratum 0|15"
	"stratum not a number|local stratum seven|"
	"dispersion too large|local stratum 7 dispersion 17|16"
	"port 0|listen 127.0.0.1 port 0|65535"
	"port 65536|listen 127.0.0.1 port 65536|65535"
	"port not a number|listen 127.0.0.1 port ntp|65535"
	"bad address|listen 256.1.1.1|"
	"bad prefix length|allow 192.0.2.0/33|"
	"bad v6 prefix length|deny 2001:db8::/129|"
	"workers 0|workers 0|"
	"workers too many|workers 100000|"
	"unknown io|io epoll|"
	"unknown log target|log nowhere|"
	"missing argument|listen|"
	"trailing junk|workers 2 3|"
)
for c in "${cases[@]}"; do
	IFS='|' read -r name line want <<<"$c"
	f=$T_DIR/bad.conf
	printf '# a bad file\nlocal stratum 7\n%s\nworkers 1\n' "$line" >"$f"
	out=$(timeout 5 "$HOROD" --check-config -f "$f" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && grep -q "$f:3:" <<<"$out" &&
		{ [ -z "$want" ] || grep -q -- "$want" <<<"$out"; }; then
		pass "--check-config rejects '$name' with exit 2 and '$f:3:'${want:+ mentioning $want}"
	else
		fail "--check-config on '$name' ('$line'): exit $rc (want 2), output: $out"
	fi
done

out=$(timeout 5 "$HOROD" --check-config -f "$T_DIR/does-not-exist.conf" 2>&1)
rc=$?
if [ "$rc" = 2 ] && grep -q "does-not-exist.conf" <<<"$out"; then
	pass "--check-config on a missing file exits 2 naming it"
else
	fail "--check-config on a missing file: exit $rc (want 2), output: $out"
fi

finish
