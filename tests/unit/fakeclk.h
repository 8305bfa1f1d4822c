/*
 * A fake clock driver for the clock core's unit tests: a linear virtual
 * clock over a "sys" time the test sets by hand, which counts every call
 * to a setter so a test can prove that a core with discipline off never
 * calls one, and can be told to refuse them.
 */
#ifndef HOROD_TESTS_FAKECLK_H
#define HOROD_TESTS_FAKECLK_H

#include <stdint.h>

#include "clock/driver.h"

struct fakeclk {
	struct clk_driver base; /* first: the core holds a pointer to it */
	int64_t sys;		/* ns: the time the test sets */
	int64_t off;		/* ns: driver - sys at base_ns */
	int64_t base_ns;	/* sys ns where off holds */
	double osc;		/* fractional: the oscillator's own error */
	double corr;		/* fractional: the correction set_freq() set */
	double freq;		/* fractional frequency of driver against sys: osc + corr */
	int fail;		/* setters return -EPERM */
	int set_freq_calls, step_calls, status_calls, tick_calls;
	double last_ppm;
	int64_t last_step;
	int leap, synced;
	double maxerror, esterror;
	int kernel; /* 1: mapped as the kernel driver maps CLOCK_REALTIME: the
		       snapshot's raw time is the driver's own, and a step moves it */
	void (*on_step)(struct fakeclk *f, void *arg); /* after a step (NULL: none) */
	void *on_step_arg;			       /* passed to on_step */
};

/* Start F at sys time SYS, driver = sys + OFF, oscillator error OSC (fractional), adjustable. */
void fakeclk_init(struct fakeclk *f, int64_t sys, int64_t off, double osc);

/* Move F's sys time to SYS. */
void fakeclk_set(struct fakeclk *f, int64_t sys);

#endif
