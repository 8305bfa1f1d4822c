/*
 * Time as int64 nanoseconds (since the Unix epoch, or since whatever a
 * clock counts from): the one vocabulary every layer shares. A struct
 * timespec becomes nanoseconds here and nowhere else; sums saturate at
 * the type's range instead of overflowing, differences never overflow
 * (they come out as doubles), and a double turns back into nanoseconds
 * rounded and saturated. Pure arithmetic: nothing here reads a clock
 * (the daemon reads one with clk_now_ns() of clock/kclock.h; programs
 * that do not link clock/ call clock_gettime and ns_from_timespec).
 */
#ifndef HOROD_PROTO_NSTIME_H
#define HOROD_PROTO_NSTIME_H

#include <stdint.h>
#include <time.h>

#define NS_PER_SEC 1000000000LL /* ns in a second */
#define NS_PER_MS  1000000LL	/* ns in a millisecond (poll timeouts, log stamps) */
/* ns: beyond this a double does not convert to int64_t (2^63, exactly representable) */
#define NS_I64_LIMIT 0x1p63

/* TS in ns (tv_nsec added as it is), saturated at the int64_t range. */
static inline int64_t ns_from_timespec(const struct timespec *ts)
{
	int64_t sec = ts->tv_sec, nsec = ts->tv_nsec, r;

	/* A negative time borrows a second, so that INT64_MIN's own split
	 * (-9223372037 s + 145224192 ns) converts without overflowing. */
	if (sec < 0 && nsec > 0) {
		sec += 1;
		nsec -= NS_PER_SEC;
	}
	if (__builtin_mul_overflow(sec, NS_PER_SEC, &r) || __builtin_add_overflow(r, nsec, &r))
		return sec < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

/* The whole second holding NS: floor(NS / 1 s), for negative NS too (-1 ns is in second -1). */
static inline int64_t ns_floor_sec(int64_t ns)
{
	int64_t q = ns / NS_PER_SEC;

	return ns % NS_PER_SEC < 0 ? q - 1 : q;
}

/* NS as a struct timespec with 0 <= tv_nsec < 1 s (-1.25 s is -2 s + 0.75 s). */
static inline void ns_to_timespec(int64_t ns, struct timespec *out)
{
	int64_t sec = ns / NS_PER_SEC, sub = ns % NS_PER_SEC;

	/* C division truncates toward zero: make the remainder non-negative. */
	if (sub < 0) {
		sub += NS_PER_SEC;
		sec--;
	}
	out->tv_sec = (time_t)sec;
	out->tv_nsec = (long)sub;
}

/* A + B, clamped to the int64_t range instead of overflowing. */
static inline int64_t ns_add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* A - B in ns as a double, without signed overflow (exact when it fits int64_t). */
static inline double ns_diff(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return (double)a - (double)b;
	return (double)r;
}

/* NS nanoseconds in seconds. */
static inline double ns_sec(int64_t ns)
{
	return (double)ns / NS_PER_SEC;
}

/* A - B in seconds, without signed overflow. */
static inline double ns_dsec(int64_t a, int64_t b)
{
	return ns_diff(a, b) / NS_PER_SEC;
}

/* X (ns) rounded half away from zero, clamped to the int64_t range; NaN gives 0. */
static inline int64_t ns_round_sat(double x)
{
	if (x != x)
		return 0;
	if (x >= NS_I64_LIMIT)
		return INT64_MAX;
	if (x <= -NS_I64_LIMIT)
		return INT64_MIN;
	/* |x| < 2^63 here and x +- 0.5 stays below it (doubles that large are
	 * whole numbers), so the cast is defined. */
	return (int64_t)(x < 0 ? x - 0.5 : x + 0.5);
}

#endif
