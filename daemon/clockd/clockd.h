/*
 * The clock thread: owns the clock driver, the clock core, the upstream
 * sources, the local reference, the driftfile and the snapshot it
 * publishes for the workers. horod's main thread runs it: clockd_wait()
 * sleeps until the next poll, reply, lookup, tick or signal, handles
 * what came, and publishes a fresh snapshot.
 */
#ifndef HOROD_DAEMON_CLOCKD_H
#define HOROD_DAEMON_CLOCKD_H

#include <stdint.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "clock/local.h"
#include "clock/snapshot.h"
#include "daemon/config/config.h"
#include "daemon/clockd/upstream.h"

#define CLOCKD_TICK_NS	     1000000000LL    /* ns between snapshot refreshes */
#define CLOCKD_DRIFT_SAVE_NS 3600000000000LL /* ns between driftfile saves (1 h) */

struct control;
struct m6_queue;

struct clockd {
	const struct horod_config *cfg;
	struct clk_pub *pub;
	int precision;
	int use_core;		/* upstream sources configured */
	struct clk_driver *drv; /* NULL without the core */
	struct clk_core *core;
	struct upstream up;
	struct clk_local local; /* the local reference when there is no core */
	int64_t next_tick;	/* sys ns */
	int64_t next_save;	/* sys ns */
	struct control *ctl;	/* control socket and metrics served in this loop, or NULL */
	struct m6_queue *m6;	/* mode 6 requests handed over by workers, or NULL */
};

/* Set up driver, core, sources (or the local reference) and publish a first snapshot; 0 or -1. */
int clockd_init(struct clockd *cd, const struct horod_config *cfg, struct clk_pub *pub,
		int precision);

/* Wait for work or SIGFD (a signalfd); handle it; returns 1 when SIGFD is readable, else 0. */
int clockd_wait(struct clockd *cd, int sigfd);

/* Log the tracking line and one line per source. */
void clockd_log_status(struct clockd *cd);

/* One line describing the time source, for the ready message. */
const char *clockd_describe(const struct clockd *cd, char *buf, unsigned long len);

/* Save the driftfile, stop the sources, free the core and driver. */
void clockd_fini(struct clockd *cd);

#endif
