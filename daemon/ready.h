/*
 * Telling the world horod serves, and that it still does: the pidfile
 * (created early, as root, written once horod serves), the parent that
 * waits when horod detaches, and systemd's Type=notify (daemon/sys/
 * notify.h): READY=1 with MAINPID= once the sockets are bound, the
 * guard attached and the control socket answers (the last start-up
 * step: the clock loop, which serves the control socket, runs right
 * after), STATUS= with what is served, WATCHDOG=1 at half of
 * WatchdogSec= only while every worker keeps moving (the clock thread
 * is alive: it is the one that feeds), STOPPING=1 at the end. A timer
 * in the clock thread's poll set paces the feeding and the status.
 */
#ifndef HOROD_DAEMON_READY_H
#define HOROD_DAEMON_READY_H

#include <stdint.h>

#include "daemon/clockd/clockd.h"
#include "daemon/config/config.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/worker.h"

#define RDY_STATUS_EVERY_NS 10000000000LL /* ns between STATUS= lines: systemctl shows the last */

/* What readiness reads of the running horod (main.c's). */
struct rdy_state {
	const struct horod_config *cfg;
	struct worker *workers;
	const struct ctr_block *counters;
	int n_workers;
	struct clockd *cd;
};

/* Point readiness at S (before any step uses it). */
void rdy_bind(const struct rdy_state *s);

/*
 * Detach: fork and start a session; the parent waits and exits 0 once
 * the child announced readiness, 1 when it gave up first. 0 in the
 * child, -1 (errno) when it failed.
 */
int rdy_daemonize(void);

/* Create the configured pidfile, still empty (as root: systemd's PIDFile= trusts root's). 0 or -1.
 */
int rdy_pidfile_open(void);

/*
 * Remove the pidfile when it still names this process and HANDED_OVER
 * is 0 (after a takeover it names the successor, whose file it is).
 */
void rdy_pidfile_close(int handed_over);

/*
 * Connect to systemd's notification socket and arm the supervision
 * timer, before the sandbox; WATCHDOG_NS is the interval to feed (0:
 * none). 0, or -1 (logged) when the timer cannot be made.
 */
int rdy_open(int64_t watchdog_ns);

/* The supervision timer's poller (clockd_add_poller): feeds the watchdog, refreshes STATUS=. */
struct clockd_poller rdy_poller(void);

/* horod serves: the pidfile, READY=1 with MAINPID=. 0 or -1 (logged). */
int rdy_announce(void);

/* Tell a detaching parent that horod serves (it exits 0). */
void rdy_tell_parent(void);

/* STOPPING=1 with WHY as the status. */
void rdy_stopping(const char *why);

/* Close the notification socket and the timer. */
void rdy_close(void);

#endif
