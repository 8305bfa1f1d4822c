#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# Leap seconds (issue 16). The leap table: `leapfile` reads an IETF
# leap-seconds.list when the configuration is parsed, so a tampered or
# truncated file stops horod with `file:line:` before anything is bound;
# `horoctl config` gives the directive back; `horoctl status` shows the
# file, its expiry and its next leap, and says when it has expired (the
# tests ship their own files in tests/data/leap/: ietf-2025.list expired
# on 2026-06-28, future.list lists a leap at the end of 2030 and expires
# on 2035-12-28); the log says so too.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
HOROCTL=$HOROD_BUILD/horoctl
[ -x "$HOROCTL" ] || skip "no horoctl built"
DATA=$(cd "$(dirname "$0")/../data/leap" && pwd)
NS=$(ns_name srv)
ns_create "$NS"
SOCK=$T_DIR/horod.sock
ctl() { "$HOROCTL" -s "$SOCK" "$@"; }

# A tampered file: refused on its line, before horod serves.
conf=$T_DIR/bad.conf
printf 'listen 127.0.0.1\n# the table\nleapfile %s\n' "$DATA/bad-hash.list" >"$conf"
out=$(timeout 10 ip netns exec "$NS" "$HOROD" -n -f "$conf" 2>&1)
rc=$?
check "a leapfile with a bad hash stops horod with status 2 (got $rc)" [ "$rc" = 2 ]
check "... naming the file and line ($conf:3:)" grep -q "^$conf:3: leapfile: $DATA/bad-hash.list" <<<"$out"
check "... and never ready" not grep -q 'ready:' <<<"$out"

# An expired file: accepted, logged, shown, and it gives no authority.
conf=$T_DIR/expired.conf
write_conf "$conf" <<CONF
listen 127.0.0.1
local stratum 1
control $SOCK
leapfile $DATA/ietf-2025.list
CONF
horod_start "$NS" -f "$conf" || die "horod did not start"
st=$(ctl status)
echo "$st" | sed 's/^/    | /'
check "status shows the expired leap file" grep -q "leap file $DATA/ietf-2025.list: expires 2026-06-28 (EXPIRED: no authority" <<<"$st"
check "the log says it expired" grep -q "leap table $DATA/ietf-2025.list has expired" "$HOROD_LOG"
check "status --json: leapfile_expiry expired" \
	python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["leapfile_expiry"] != "expired")' < <(ctl status --json)
check "config gives the leapfile back" grep -qx "leapfile $DATA/ietf-2025.list" < <(ctl config)
horod_stop

# A valid file: its next leap shown.
sed -i "s|ietf-2025.list|future.list|" "$conf"
horod_start "$NS" -f "$conf" || die "horod did not start"
st=$(ctl status)
echo "$st" | sed 's/^/    | /'
check "status shows the valid file" grep -q "leap file $DATA/future.list: expires 2035-12-28 (valid)" <<<"$st"
check "status shows its next leap (2030-12-31, inserted)" grep -q "next leap second: 2030-12-31 (inserted 23:59:60)" <<<"$st"
check "the log says nothing of expiry" not grep -q "has expired\|expires within" "$HOROD_LOG"
horod_stop
finish
