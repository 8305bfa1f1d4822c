/*
 * Read-only access to the kernel clock: its NTP state as clock_adjtime()
 * reports it with no mode bits set (nothing is ever written), the current
 * time, and the precision of one clock read measured the way NTP servers
 * advertise it (the smallest step seen between two consecutive reads, as
 * a power of two of seconds).
 */
#include <errno.h>
#include <string.h>
#include <sys/timex.h>

#include "clock/kclock.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

/* Reads pairs for the precision measurement: enough to catch the smallest
 * step of any clocksource, few enough to be negligible at start-up. */
#define CLK_PREC_MAX_PAIRS 1000
/* ns: wall-clock budget of the precision measurement (20 ms), in case a
 * read is slow (a PHC behind a syscall, a VM exit per read). */
#define CLK_PREC_MAX_NS 20000000
/* log2 s: precision clamp; 2^-30 s is ~1 ns, below any clock read, and
 * 2^0 s = 1 s is the coarsest value worth advertising. */
#define CLK_PREC_MIN -30
#define CLK_PREC_MAX 0

int clk_kernel_read(clockid_t id, struct clk_kstate *out)
{
	struct timex tx;
	int ret;

	memset(&tx, 0, sizeof(tx));
	tx.modes = 0; /* read only: no ADJ_* bit, the kernel changes nothing */
	ret = clock_adjtime(id, &tx);
	if (ret < 0)
		return -errno;

	memset(out, 0, sizeof(*out));
	out->state = ret;
	out->status = tx.status;
	out->synced = !(tx.status & STA_UNSYNC) && ret != TIME_ERROR;
	if (tx.status & STA_INS)
		out->leap = NTP_LEAP_INSERT;
	else if (tx.status & STA_DEL)
		out->leap = NTP_LEAP_DELETE;
	else
		out->leap = NTP_LEAP_NONE;
	/* maxerror and esterror are in microseconds. */
	out->maxerror = (double)tx.maxerror * 1e-6;
	out->esterror = (double)tx.esterror * 1e-6;
	/* freq is "scaled ppm": ppm with a 16-bit binary fraction. */
	out->freq_ppm = (double)tx.freq / 65536.0;
	out->tick_us = tx.tick;
	return 0;
}

/* Returns 0 when the clock cannot be read (an invalid or vanished clock). */
int64_t clk_now_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return 0;
	return ns_from_timespec(&ts);
}

/* ceil(log2(NS nanoseconds in seconds)), clamped to the precision range. */
static int ns_to_log2_s(int64_t ns)
{
	double step = (double)NS_PER_SEC; /* 2^p seconds, in ns */
	int p = CLK_PREC_MAX;

	/* Halve while the next power still covers NS: ends at the smallest
	 * 2^p >= NS, i.e. ceil(log2), without libm. */
	while (p > CLK_PREC_MIN && step / 2 >= (double)ns) {
		step /= 2;
		p--;
	}
	return p;
}

int clk_measure_precision(clockid_t id)
{
	struct timespec res;
	int64_t a, b, start, best = 0;
	int i;

	start = clk_now_ns(id);
	b = start;
	for (i = 0; i < CLK_PREC_MAX_PAIRS; i++) {
		a = clk_now_ns(id);
		b = clk_now_ns(id);
		if (b > a && (best == 0 || b - a < best))
			best = b - a;
		if (b - start >= CLK_PREC_MAX_NS)
			break;
	}
	if (best > 0)
		return ns_to_log2_s(best);
	/* The clock never moved between two reads: it ticks coarsely, and its
	 * resolution is the best estimate of one step. */
	if (clock_getres(id, &res) == 0 && ns_from_timespec(&res) > 0)
		return ns_to_log2_s(ns_from_timespec(&res));
	return CLK_PREC_MAX;
}
