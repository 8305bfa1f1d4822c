/*
 * Nanosecond timestamps (int64 ns since the Unix epoch, driver time) to
 * seconds, for the clock core's arithmetic in doubles. One definition
 * shared by the core's modules.
 */
#ifndef HOROD_CLOCK_NSEC_H
#define HOROD_CLOCK_NSEC_H

#include <stdint.h>

#define CLK_NS_PER_S 1e9 /* ns in a second, as a double for the conversions */

/* NS nanoseconds in seconds. */
static inline double clk_sec(int64_t ns)
{
	return (double)ns / CLK_NS_PER_S;
}

/* A - B in seconds, without signed overflow. */
static inline double clk_dsec(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return ((double)a - (double)b) / CLK_NS_PER_S;
	return clk_sec(r);
}

#endif
