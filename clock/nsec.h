/*
 * Nanosecond timestamps (int64 ns since the Unix epoch, driver time) to
 * seconds, for the clock core's arithmetic in doubles: the clock core's
 * names for proto/nstime.h's conversions, which define them; and the one
 * integer clamp the clock files share.
 */
#ifndef HOROD_CLOCK_NSEC_H
#define HOROD_CLOCK_NSEC_H

#include <stdint.h>

#include "proto/nstime.h"

/* NS nanoseconds in seconds (ns_sec). */
static inline double clk_sec(int64_t ns)
{
	return ns_sec(ns);
}

/* A - B in seconds, without signed overflow (ns_dsec). */
static inline double clk_dsec(int64_t a, int64_t b)
{
	return ns_dsec(a, b);
}

/* V limited to LO..HI (LO <= HI). */
static inline int clk_clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

#endif
