/*
 * The clock thread: owns the clock driver, the clock core, the source
 * drivers (srcdrv.h: NTP upstreams, the local reference), the driftfile
 * and the snapshot it publishes for the workers. horod's main thread
 * runs it: clockd_wait() sleeps until the next poll, reply, lookup, tick,
 * signal or request on a registered poller (the control socket, the mode
 * 6 queue), handles what came, and publishes a fresh snapshot, then calls
 * the publish hook (the XDP guard's copy). What it knows is read through
 * report.h. It includes nothing from daemon/control or daemon/serve:
 * main.c wires those in.
 */
#ifndef HOROD_DAEMON_CLOCKD_H
#define HOROD_DAEMON_CLOCKD_H

#include <poll.h>
#include <stdint.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "clock/snapshot.h"
#include "daemon/clockd/srcdrv.h"
#include "daemon/config/config.h"

#define CLOCKD_TICK_NS	     1000000000LL    /* ns between snapshot refreshes */
#define CLOCKD_DRIFT_SAVE_NS 3600000000000LL /* ns between driftfile saves (1 h) */
#define CLOCKD_MAX_SRCDRV    4 /* source drivers: NTP, local, room for the reference clocks' */
#define CLOCKD_MAX_POLLERS   4 /* extra pollers: the control socket, the mode 6 queue, room */

/* A set of descriptors the clock thread's loop also waits on, and their handler. */
struct clockd_poller {
	/* Fill PFD (room for MAX) with the descriptors to wait on; returns how many. */
	int (*fds)(void *arg, struct pollfd *pfd, int max);
	/* After poll(), when one of them has events: handle the N entries fds() filled. */
	void (*handle)(void *arg, const struct pollfd *pfd, int n);
	void *arg;
};

/* Called after every snapshot publication with the snapshot published. */
typedef void (*clockd_publish_fn)(void *arg, const struct clk_snapshot *s);

struct clockd {
	const struct horod_config *cfg;
	struct clk_pub *pub;
	int precision;
	struct clk_driver *drv; /* the clock driver (clock/driver.h) */
	struct clk_core *core;
	struct srcdrv src[CLOCKD_MAX_SRCDRV]; /* the source drivers with sources, in order */
	int n_src;
	int64_t next_tick; /* sys ns */
	int64_t next_save; /* sys ns */
	struct clockd_poller poller[CLOCKD_MAX_POLLERS];
	int n_pollers;
	clockd_publish_fn on_publish; /* or NULL */
	void *on_publish_arg;
	int leap_exp;	  /* the leap table's CLK_LEAP_EXP_* last logged, -1 none yet */
	int fenced;	  /* 1: a leap fence is published, the next publication waits first */
	int64_t step_sys; /* CLOCK_REALTIME ns just after the last leap step, for the snapshots
			     of CLOCKD_STEP_KEEP_NS after it (clk_snapshot_maps); 0 none */
};

/*
 * Set up the driver, the core and the source drivers CFG asks for, and
 * publish a first snapshot; 0 or -1 (logged). With no server or pool the
 * driver is the system clock as it is (the sim driver with `driver sim`)
 * and nothing is ever adjusted: there is nothing to discipline with.
 */
int clockd_init(struct clockd *cd, const struct horod_config *cfg, struct clk_pub *pub,
		int precision);

/* Also wait on P's descriptors in clockd_wait(); 0, or -1 when CLOCKD_MAX_POLLERS are in use. */
int clockd_add_poller(struct clockd *cd, const struct clockd_poller *p);

/* Call FN(ARG, snapshot) after every publication (NULL: none). */
void clockd_on_publish(struct clockd *cd, clockd_publish_fn fn, void *arg);

/* Wait for work or SIGFD (a signalfd); handle it; returns 1 when SIGFD is readable, else 0. */
int clockd_wait(struct clockd *cd, int sigfd);

/* Log the tracking line and one line per source. */
void clockd_log_status(struct clockd *cd);

/* One line describing the time source, for the ready message. */
const char *clockd_describe(const struct clockd *cd, char *buf, unsigned long len);

/* Save the driftfile, stop the source drivers, free the core and driver. */
void clockd_fini(struct clockd *cd);

#endif
