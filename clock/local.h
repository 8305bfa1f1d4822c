/*
 * The local reference source (`local stratum N [dispersion S]`): serve the
 * system clock as a reference, the w32time "reliable, no peer" case, but
 * honestly. When the kernel clock reports synchronized (another
 * discipliner such as phc2sys keeps it), the reference time follows now
 * and the root dispersion is the configured dispersion plus the kernel's
 * estimated error. When it does not, the reference time stays at the last
 * moment the clock was known good (start-up at the latest) and the root
 * dispersion grows at 15 ppm/s from there, as RFC 5905 says a free-running
 * clock's error bound must.
 */
#ifndef HOROD_CLOCK_LOCAL_H
#define HOROD_CLOCK_LOCAL_H

#include <stdint.h>

#include "clock/kclock.h"
#include "clock/snapshot.h"

struct clk_local {
	int stratum;	   /* 1..15, advertised stratum */
	double dispersion; /* seconds: error of the clock at the reference time */
	int precision;	   /* log2 s, measured at start */
	int64_t ref_ns;	   /* current reference time, ns since the Unix epoch */
};

/* Start the local source at NOW_NS (the reference time until the kernel says synced). */
void clk_local_init(struct clk_local *l, int stratum, double dispersion, int precision,
		    int64_t now_ns);

/* Build the snapshot for NOW_NS from kernel state KS into OUT (pure: no clock reads). */
void clk_local_update(struct clk_local *l, const struct clk_kstate *ks, int64_t now_ns,
		      struct clk_snapshot *out);

#endif
