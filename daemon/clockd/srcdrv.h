/*
 * Source drivers: the daemon's side of each kind of time source, the
 * I/O the clock core never does. A driver adds its sources to the core
 * at start (clk_core_add_source), gives the clock thread's loop the
 * descriptors to wait on, and when the loop runs it, reads what arrived,
 * polls what is due (clk_core_next_poll, clk_core_poll_sent) and hands
 * every measurement to the core (clk_core_sample, or clk_core_reject when
 * the source's own tests fail). For the reports it says what the core
 * does not know of its sources (an NTP server's address and port). The
 * loop (clockd.c) runs every driver the same way, whatever its kind:
 * upstream.c drives NTP servers and pools, local.c the local reference,
 * refsrc.c the reference clocks (PHC, PPS, SHM, SOCK).
 * Everything runs in the clock thread.
 */
#ifndef HOROD_DAEMON_CLOCKD_SRCDRV_H
#define HOROD_DAEMON_CLOCKD_SRCDRV_H

#include <poll.h>
#include <stdint.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "daemon/config/config.h"

struct srcdrv;
struct clockd_source;

/* What a source driver starts from. */
struct srcdrv_env {
	const struct horod_config *cfg;
	struct clk_core *core;	/* where its sources go */
	struct clk_driver *drv; /* the clock driver: driver time of system clock readings */
	int precision;		/* log2 s of one read of the system clock */
};

struct srcdrv_ops {
	const char *name; /* "ntp", "local", "refclock": for log lines */
	/* Add the sources ENV->cfg configures of this kind to the core and start; 0, 1 when it
	 * configures none (the driver is then dropped), -1 on failure (logged). */
	int (*init)(struct srcdrv *d, const struct srcdrv_env *env);
	/* Fill PFD (room for MAX) with the descriptors to wait on; returns how many. May be NULL.
	 */
	int (*pollfds)(struct srcdrv *d, struct pollfd *pfd, int max);
	/* Handle what arrived and the polls due at driver time NOW; returns the next due
	 * driver time (INT64_MAX: nothing scheduled). May be NULL. */
	int64_t (*run)(struct srcdrv *d, int64_t now);
	/* Right before each snapshot publication at driver time NOW: a source that reads a
	 * local state instead of polling (the local reference) measures here, so the
	 * snapshot holds the state of that instant. May be NULL. */
	void (*refresh)(struct srcdrv *d, int64_t now);
	/* Fill OUT's driver part (address, port, configured, unanswered) for core source ID;
	 * 0 when the source is this driver's, else -1. May be NULL. */
	int (*describe)(const struct srcdrv *d, int id, struct clockd_source *out);
	/* Log the driver's counters (SIGUSR1), after the source lines. May be NULL. */
	void (*log_status)(const struct srcdrv *d);
	/* Stop: close descriptors, let helpers finish, free the state. */
	void (*fini)(struct srcdrv *d);
};

struct srcdrv {
	const struct srcdrv_ops *ops;
	void *priv; /* the driver's state, its init allocates it */
};

extern const struct srcdrv_ops srcdrv_ntp;   /* NTP servers and pools (upstream.c) */
extern const struct srcdrv_ops srcdrv_local; /* the local reference (local.c) */

#endif
