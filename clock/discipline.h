/*
 * The clock correction: what the core has done to the clock, as a
 * piecewise-linear function of the raw timescale. "Raw" is the clock as
 * it would run had the core never touched it; "served" is raw plus the
 * correction. When steering, every change of the correction goes to the
 * driver (set_freq, step) and driver time is served time; when not
 * (discipline off, or the driver cannot be adjusted), the driver is never
 * called, driver time is raw time, and the correction is only published
 * in the snapshot. A short history of segments converts driver times of
 * the last seconds (a request's transmit time) back to raw time.
 */
#ifndef HOROD_CLOCK_DISCIPLINE_H
#define HOROD_CLOCK_DISCIPLINE_H

#include <stdint.h>

#include "clock/driver.h"
#include "clock/snapshot.h"

/* ppm: the largest oscillator frequency estimate, the kernel's ADJ_FREQUENCY limit (an
 * oscillator off by more is broken, and a driftfile may not claim more) */
#define CLK_MAX_FREQ_PPM 500.0
/* ppm: the largest correction (estimate plus slew), 1/12 (about 8 %): a 0.1 s offset goes
 * in seconds, not minutes, while served time never runs more than 8 % fast or slow.
 * The slew itself is the offset over a time constant, so small offsets stay gentle.
 * A driver that reaches less (driver.h max_ppm) lowers it while steering. */
#define CLK_MAX_SLEW_PPM 83333.0
#define CLK_DISC_SEGS	 128 /* segments kept: a 3 s round trip even at ~40 updates a second */

struct clk_disc_seg {
	int64_t r; /* raw ns where the segment starts */
	double a;  /* ns: the correction at r */
	double f;  /* fractional frequency of the correction from r on */
};

struct clk_disc {
	struct clk_driver *drv;
	int steer;				/* 1: changes go to the driver */
	struct clk_disc_seg seg[CLK_DISC_SEGS]; /* ring, seg[cur] the newest */
	int cur;
	int nseg;
	int64_t step_r; /* raw ns of the last step, INT64_MIN before any */
	int steps;	/* steps made */
	int errors;	/* driver setters that failed */
};

/*
 * Start at driver time NOW with correction frequency FREQ (fractional). It
 * steers DRV when STEER is set, DRV is adjustable and accepts FREQ; returns
 * whether it does.
 */
int clk_disc_init(struct clk_disc *d, struct clk_driver *drv, int steer, double freq, int64_t now);

/* Raw time of the recent driver time DRV_NS. */
int64_t clk_disc_raw(const struct clk_disc *d, int64_t drv_ns);

/* Driver time of raw time RAW_NS (on the newest segment). */
int64_t clk_disc_drv(const struct clk_disc *d, int64_t raw_ns);

/* The correction (ns) at raw time RAW_NS. */
double clk_disc_corr(const struct clk_disc *d, int64_t raw_ns);

/* Served time of raw time RAW_NS. */
int64_t clk_disc_served(const struct clk_disc *d, int64_t raw_ns);

/* The correction's frequency now (fractional). */
double clk_disc_freq(const struct clk_disc *d);

/* The largest |correction frequency| (fractional): CLK_MAX_SLEW_PPM, or less when steering a
 * driver whose max_ppm is lower. */
double clk_disc_max_freq(const struct clk_disc *d);

/* From raw time RAW_NOW on, correct at FREQ (clamped to clk_disc_max_freq()); 0 or -errno. */
int clk_disc_set_freq(struct clk_disc *d, int64_t raw_now, double freq);

/* Step the served time by OFFSET_S seconds at raw time RAW_NOW; 0 or -errno. */
int clk_disc_step(struct clk_disc *d, int64_t raw_now, double offset_s);

/*
 * A leap second: the served time moves by OFFSET_S seconds at raw time
 * RAW_AT. With MAKE set it is made here (through the driver when
 * steering, like a step); without, the driver made it itself (Linux at
 * an armed leap) and it is only recorded, so that raw time stays
 * continuous. Not counted among the steps; 0 or -errno.
 */
int clk_disc_leap(struct clk_disc *d, int64_t raw_at, double offset_s, int make);

/* Raw time at which the served time is SERVED_NS (the inverse of clk_disc_served). */
int64_t clk_disc_raw_of_served(const struct clk_disc *d, int64_t served_ns);

/*
 * Fill OUT's corr_ns, corr_freq and update_ns: the map from sys time to
 * served time (the driver's map, composed with the correction when not
 * steering), anchored at driver time DRV_NOW.
 */
void clk_disc_mapping(const struct clk_disc *d, int64_t drv_now, struct clk_snapshot *out);

#endif
