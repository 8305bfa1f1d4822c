/*
 * Restarts that lose nothing (README): one horod taking over from
 * another, main.c's steps for both sides (the exchange itself is
 * daemon/serve/handover.h).
 *
 * The successor (`horod --takeover`) asks the running horod for its
 * descriptors at start-up, before it would bind anything; when the
 * predecessor serves synchronized time, it runs its own clock until it
 * does too (bounded), so no client ever gets a worse answer from it; it
 * then serves from the very sockets the predecessor used (with whatever
 * is queued in them), its control and metrics listeners, and its XDP
 * links (the guard's program swapped in, its state maps kept); once its
 * workers run it writes the pidfile, tells systemd its PID, and lets the
 * predecessor go. The predecessor, asked, hands its descriptors over and
 * serves on until told to drain: its workers take nothing more from the
 * shared sockets and answer what they took, and it exits leaving the
 * socket files, pins and links to its successor.
 */
#ifndef HOROD_DAEMON_TAKEOVER_H
#define HOROD_DAEMON_TAKEOVER_H

#include <stdint.h>

#include "daemon/clockd/clockd.h"
#include "daemon/config/config.h"
#include "daemon/control/control.h"
#include "daemon/serve/worker.h"

#define TKO_SYNC_WAIT_S                                                                            \
	60 /* s a successor may run its clock to catch up with a synchronized predecessor */

/* What the takeover reads of the running horod (main.c's). */
struct tko_state {
	const struct horod_config *cfg;
	struct worker *workers;
	int n_workers;
	struct control *ctl;
	struct clockd *cd;
};

/* Point the takeover at S (set once, before any step uses it). */
void tko_bind(const struct tko_state *s);

/*
 * Successor: take the predecessor's descriptors (it answers on our
 * control socket), then run the clock until it serves synchronized time
 * when the predecessor did (at most TKO_SYNC_WAIT_S). 0, or -1 (logged:
 * nothing changed for the predecessor).
 */
int tko_fetch(void);

/* Successor: 1 while a takeover is under way (tko_fetch succeeded). */
int tko_active(void);

/* Successor: the handed-over socket of worker W for listen line J, or -1 (the fd is ours now). */
int tko_take_socket(int w, int j);

/* Successor: the handed-over control and metrics listeners (-1 each when none). */
void tko_take_listeners(int *lfd, int *hfd);

/* Successor: give the guard the predecessor's state maps and links (before xg_start). */
void tko_take_guard(void);

/* Successor: the predecessor's watchdog interval in ns (systemd gave it, not us), 0 none. */
int64_t tko_watchdog_ns(void);

/*
 * Successor, once serving: let the predecessor drain and go, and wait
 * for its exit (bounded). 0, or -1 (logged: both served meanwhile).
 */
int tko_release(void);

/* Successor: close whatever was handed over and not taken (at the end of start-up). */
void tko_drop_rest(void);

/*
 * Predecessor: answer takeover requests that come on the control socket
 * (control_on_takeover) and wait for the drain in the clock loop (the
 * poller it returns, to register with clockd_add_poller).
 */
struct clockd_poller tko_serve(void);

/* Predecessor: 1 once a successor took over (then stop, leaving it the files). */
int tko_handed_over(void);

#endif
