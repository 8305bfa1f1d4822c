#!/bin/bash
# shellcheck disable=SC2034,SC2119 # T_CTX is read by lib.sh; optional arguments
#
# A bad configuration stops horod before it binds anything: started for
# real (not --check-config) inside a fresh namespace, horod must exit 2
# within a few seconds, print `file:line:` for the bad line on stderr, never
# log `ready:`, and at no point have a UDP port bound (ss is polled while it
# runs). The bad line comes after good `listen` lines, so a daemon that
# binds while it parses would be caught.

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
lib_init
NS=$(ns_name srv)
ns_create "$NS"

PORT=12300 # the port the good listen lines name
cases=(
	"unknown directive|frobnicate 3"
	"stratum 16|local stratum 16"
	"port 70000|listen 127.0.0.1 port 70000"
	"port 0|listen ::1 port 0"
	"unknown io mode|io epoll"
)
for c in "${cases[@]}"; do
	IFS='|' read -r name line <<<"$c"
	f=$T_DIR/bad.conf
	printf 'listen 127.0.0.1 port %s\nlisten ::1 port %s\nlocal stratum 7\n# line 4\n%s\n' \
		"$PORT" "$PORT" "$line" >"$f"
	log=$T_DIR/bad.log
	env --default-signal=INT ip netns exec "$NS" "$HOROD" -n -f "$f" >"$log" 2>&1 &
	pid=$!
	_PIDS+=("$pid")
	bound=""
	for _ in $(seq 100); do # 100 x 0.05 s: 5 s
		if [ -n "$(ip netns exec "$NS" ss -Huln 2>/dev/null)" ]; then
			bound=$(ip netns exec "$NS" ss -Huln)
		fi
		pid_alive "$pid" || break
		sleep 0.05
	done
	if pid_alive "$pid"; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		fail "'$name': horod still running after 5 s on a bad configuration; log: $(cat "$log")"
		continue
	fi
	wait "$pid"
	rc=$?
	check "'$name': horod exits 2 (got $rc)" [ "$rc" = 2 ]
	check "'$name': stderr has '$f:5:' (got: $(head -c 300 "$log"))" grep -q "$f:5:" "$log"
	check "'$name': never logs ready:" not grep -q "ready:" "$log"
	check "'$name': nothing was bound (saw: ${bound:-nothing})" [ -z "$bound" ]
done

finish
