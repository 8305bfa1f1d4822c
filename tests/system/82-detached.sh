#!/bin/bash
# shellcheck disable=SC2034 # T_CTX is read by lib.sh
#
# horod detached (no -n), following an upstream given by a NAME that
# takes DNS two seconds to answer: the name must be looked up by the
# process that serves, after it detached (a lookup thread started before
# the fork runs on in the parent, which exits, and the child would wait
# for its answer forever). The namespace gets its own resolv.conf and
# nsswitch.conf (/etc/netns/NS, mounted by ip netns exec) pointing at
# tests/tools/slowdns.py on 127.0.0.53; a real chronyd on 127.0.0.1 is the
# upstream; horod serves on 127.0.0.3 with the sim driver, writes its
# pidfile and control socket. The parent exits only once the child
# serves: at that moment, with no wait, the pidfile names the child, the
# control socket answers and (HOROD_TEST_GUARD) the guard is attached.
# `horoctl status` must say synchronised within the limit; SIGTERM by
# the pidfile's PID stops it and removes the pidfile.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
need_cmd setpriv
need_chronyd
HOROCTL=$HOROD_BUILD/horoctl
SRV=$(ns_name srv)
ns_create "$SRV"
SYNC_LIMIT=40 # s: iburst at minpoll 0 selects within a few seconds
NAME=upstream.horod-test.example
DNS_DELAY=2 # s before the stub answers: longer than horod takes to detach
mkdir -p "/etc/netns/$SRV"
echo "nameserver 127.0.0.53" >"/etc/netns/$SRV/resolv.conf"
echo "hosts: files dns" >"/etc/netns/$SRV/nsswitch.conf"
ip netns exec "$SRV" python3 "$TOOLS/slowdns.py" 127.0.0.53 "$NAME" 127.0.0.1 "$DNS_DELAY" 90 \
	>"$T_DIR/dns.log" 2>&1 &
_PIDS+=("$!")
for _ in $(seq 50); do
	udp_bound "$SRV" 53 && break
	sleep 0.1
done
check "the DNS stub answers $NAME" \
	bash -c 'ip netns exec "$1" getent hosts "$2" | grep -q "^127\.0\.0\.1 "' _ "$SRV" "$NAME"

chronyd_upstream "$SRV" 127.0.0.1 1 || die "no upstream"
SOCK=$T_DIR/horod.sock
PIDF=$T_DIR/horod.pid
conf=$T_DIR/horod.conf
write_conf "$conf" <<CONF
listen 127.0.0.3
server $NAME minpoll 0 maxpoll 0 iburst
driver sim offset 0.001 seed 3
control $SOCK
pidfile $PIDF
CONF
guard_mode_conf "$conf" "$SRV" # HOROD_TEST_GUARD: behind the XDP guard too
ip netns exec "$SRV" "$HOROD" -f "$conf" >"$T_DIR/start.log" 2>&1
rc=$?
check "horod detaches and its parent exits 0 (got $rc)" [ "$rc" = 0 ]
# The parent has waited for the child to serve: everything is there now.
pid=$(cat "$PIDF" 2>/dev/null)
check "when the parent exits, the pidfile names a running horod" \
	bash -c '[ -n "$1" ] && kill -0 "$1"' _ "$pid"
[ -n "$pid" ] && _PIDS+=("$pid")
check "when the parent exits, the control socket answers" \
	bash -c '"$1" -s "$2" config >/dev/null' _ "$HOROCTL" "$SOCK"
if [ "$HOROD_GUARDED" = 1 ]; then
	check "HOROD_TEST_GUARD: when the parent exits, the guard is on lo" \
		bash -c 'ip -n "$1" link show lo | grep -q xdpgeneric' _ "$SRV"
fi

synced=""
for t in $(seq "$SYNC_LIMIT"); do
	if out=$("$HOROCTL" -s "$SOCK" status 2>&1); then
		synced=$t
		break
	fi
	sleep 1
done
echo "$out" | sed 's/^/    | /'
check "detached horod resolved $NAME and synchronised (after ${synced:-never} s)" [ -n "$synced" ]
check "status names the server as configured" grep -q "synchronised to NTP server ($NAME)" <<<"$out"

if [ -n "$pid" ]; then
	kill -TERM "$pid"
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	check "SIGTERM stops it within 5 s" not kill -0 "$pid" 2>/dev/null
	check "the pidfile is removed" [ ! -e "$PIDF" ]
fi
finish
