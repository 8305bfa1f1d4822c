/*
 * The kernel clock, read-only: what clock_adjtime(modes = 0) says about
 * CLOCK_REALTIME (synchronized or not, leap flags, error estimates), the
 * time itself, and the precision of one clock read. This is the only
 * file that reads the kernel clock's state; it never sets anything.
 */
#ifndef HOROD_CLOCK_KCLOCK_H
#define HOROD_CLOCK_KCLOCK_H

#include <stdint.h>
#include <time.h>

struct clk_kstate {
	int synced;	 /* 1 when STA_UNSYNC is clear and the state is not TIME_ERROR */
	int leap;	 /* NTP_LEAP_INSERT / _DELETE from STA_INS / STA_DEL, else 0 */
	int state;	 /* clock_adjtime return value (TIME_OK .. TIME_ERROR) */
	int status;	 /* raw timex status bits */
	double maxerror; /* seconds, kernel maximum error */
	double esterror; /* seconds, kernel estimated error */
	double freq_ppm; /* kernel frequency offset, ppm */
	long tick_us;	 /* kernel tick length, us (USER_HZ of them make a nominal second) */
};

/* Read the kernel's view of clock ID with clock_adjtime(modes = 0); 0 or -errno. */
int clk_kernel_read(clockid_t id, struct clk_kstate *out);

/* Current time of clock ID in ns since its epoch. */
int64_t clk_now_ns(clockid_t id);

/* Precision of reading clock ID as a log2 exponent (e.g. -24), measured over bounded reads. */
int clk_measure_precision(clockid_t id);

#endif
