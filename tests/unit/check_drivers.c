/*
 * Tests of the clock drivers. The sim driver runs over a fake truth clock
 * the tests move by hand (hours at a time): its phase and frequency
 * evolve exactly as configured, set_freq and step act on it, mapping()
 * and now() agree, the same seed gives the same wander and the wander's
 * spread over many seeds is what its ppm/sqrt(s) says. The kernel driver
 * is only created, read and refused: this file replaces clock_adjtime()
 * for the whole test program with a fake that passes read-only calls
 * (modes 0) to the kernel and never passes anything else on, so no test
 * can change the real clock; the refusal tests count that a driver that
 * is not adjustable does not even call it, and the conversion tests check
 * what the setters would ask the kernel, on the fake only, after proving
 * that calls from the library reach the fake. A PHC, which this machine
 * lacks, is stood in for by CLOCK_MONOTONIC (days away from
 * CLOCK_REALTIME): its driver time, its mapping from sys time and what
 * the core serves through it must all be that clock's, and its missing
 * kernel status is said once.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock/core.h"
#include "clock/driver.h"
#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "proto/ntp.h"

Suite *drivers_suite(void);

/* ns: a start in 2023, so the arithmetic runs at real magnitudes */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL

/* USER_HZ and the nominal tick (us), as the kernel driver computes them */
static long user_hz, tick0;

/* Read USER_HZ and derive the nominal tick the kernel uses (rounded 1 s / USER_HZ). */
static void hz_setup(void)
{
	user_hz = sysconf(_SC_CLK_TCK);
	tick0 = user_hz > 0 ? (1000000 + user_hz / 2) / user_hz : 0;
}

/* ---- the fake clock_adjtime ---- */

static int fake_calls;	       /* calls with any mode bit set */
static int fake_reads;	       /* read-only calls (passed to the kernel) */
static struct timex fake_last; /* the last call with mode bits, as asked */
static int fake_errno;	       /* 0: pretend success; else fail with it */
static int fake_state = -1;    /* >= 0: what read-only calls return instead of the kernel's */
static long fake_tick = -1;    /* >= 0: the tick read-only calls say instead of the kernel's */
static int fake_status = -1;   /* >= 0: the status read-only calls with fake_state say */

/* Replaces libc's for this program: read-only calls go to the kernel (or return
 * fake_state), the rest is recorded and never reaches it. */
int clock_adjtime(clockid_t id, struct timex *tx)
{
	if (tx->modes == 0) {
		fake_reads++;
		if (fake_state >= 0) {
			if (fake_status >= 0)
				tx->status = fake_status;
			return fake_state;
		}
		if (fake_tick >= 0) {
			int r = (int)syscall(SYS_clock_adjtime, id, tx);

			tx->tick = fake_tick;
			return r;
		}
		return (int)syscall(SYS_clock_adjtime, id, tx);
	}
	fake_calls++;
	fake_last = *tx;
	if (fake_errno) {
		errno = fake_errno;
		return -1;
	}
	return TIME_OK;
}

/* ---- the drivers' logger (clk_set_log) ---- */

static int log_lines;	   /* lines the drivers logged through log_capture */
static int log_prio;	   /* the last one's priority */
static char log_last[256]; /* and its text */

static void log_capture(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_capture(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_last, sizeof(log_last), fmt, ap);
	va_end(ap);
	log_prio = prio;
	log_lines++;
}

/* ---- a truth clock the tests move ---- */

struct truth {
	int64_t t;
	int reads;
};

static int64_t truth_read(void *arg)
{
	struct truth *tr = arg;

	tr->reads++;
	return tr->t;
}

static struct clk_driver *sim_new(struct truth *tr, double offset, double freq, double wander,
				  uint64_t seed)
{
	struct clk_sim_cfg cfg = {.offset = offset, .freq = freq, .wander = wander, .seed = seed};
	struct clk_driver *d = clk_driver_sim(&cfg, truth_read, tr);

	ck_assert_msg(d != NULL, "a sim driver should be created");
	return d;
}

static double sim_phase(struct clk_driver *d)
{
	double ph, f;

	ck_assert_msg(clk_sim_state(d, &ph, &f) == 0, "clk_sim_state should accept a sim driver");
	return ph;
}

static double sim_fppm(struct clk_driver *d)
{
	double ph, f;

	ck_assert_msg(clk_sim_state(d, &ph, &f) == 0, "clk_sim_state should accept a sim driver");
	return f;
}

/* ---- sim driver ---- */

START_TEST(test_sim_create)
{
	struct truth tr = {.t = T0};
	struct clk_sim_cfg bad = {.offset = NAN};
	struct clk_driver *d = sim_new(&tr, 0.5, 10.0, 0.0, 1);
	int64_t off, base;
	double freq;

	ck_assert_str_eq(d->ops->name, "sim");
	ck_assert_msg(d->adjustable == 1, "a sim driver should be adjustable");
	ck_assert_msg(d->ops->now(d) == T0 + S / 2, "now should be truth + 0.5 s, got %lld",
		      (long long)(d->ops->now(d) - T0));
	d->ops->mapping(d, &off, &freq, &base);
	ck_assert_msg(off == S / 2 && base == T0, "mapping should start at offset 0.5 s at T0");
	ck_assert_double_eq_tol(freq, 10e-6, 1e-15);
	ck_assert_double_eq_tol(sim_phase(d), 0.5, 1e-12);
	ck_assert_double_eq_tol(sim_fppm(d), 10.0, 1e-12);
	d->ops->destroy(d);

	ck_assert_msg(clk_driver_sim(&bad, truth_read, &tr) == NULL,
		      "NaN offset should be refused");
	bad.offset = 0;
	bad.wander = -1;
	ck_assert_msg(clk_driver_sim(&bad, truth_read, &tr) == NULL,
		      "negative wander should be refused");
	bad.wander = 0;
	bad.freq = INFINITY;
	ck_assert_msg(clk_driver_sim(&bad, truth_read, &tr) == NULL,
		      "infinite frequency should be refused");
	ck_assert_msg(clk_driver_sim(NULL, NULL, &tr) == NULL, "no truth clock should be refused");
	d = clk_driver_sim(NULL, truth_read, &tr);
	ck_assert_msg(d && d->ops->now(d) == T0, "no config should be a perfect clock");
	d->ops->destroy(d);
}
END_TEST

START_TEST(test_sim_phase_over_hours)
{
	struct truth tr = {.t = T0};
	struct clk_driver *d = sim_new(&tr, 0.1, 100.0, 0.0, 7);
	struct clk_driver *lazy = sim_new(&tr, 0.1, 100.0, 0.0, 7);
	int i;

	/* Three hours in uneven jumps, ticking one driver and not the other. */
	for (i = 1; i <= 12; i++) {
		tr.t += (int64_t)(i % 3 + 1) * 450 * S;
		d->ops->tick(d);
	}
	ck_assert_msg(tr.t == T0 + 10800 * S, "the schedule should cover 3 hours");
	ck_assert_double_eq_tol(sim_phase(d), 0.1 + 100e-6 * 10800, 1e-9);
	ck_assert_double_eq_tol(sim_phase(lazy), 0.1 + 100e-6 * 10800, 1e-9);
	ck_assert_msg(llabs(d->ops->now(d) - (tr.t + 1180000000LL)) <= 1,
		      "now should be truth + 1.18 s after 3 h at 100 ppm, off by %lld ns",
		      (long long)(d->ops->now(d) - tr.t - 1180000000LL));
	ck_assert_msg(llabs(d->ops->now(d) - lazy->ops->now(lazy)) <= 1,
		      "ticking should not change the phase without wander");

	/* A truth clock that jumps ten hours at once. */
	tr.t += 36000 * S;
	d->ops->tick(d);
	ck_assert_double_eq_tol(sim_phase(d), 0.1 + 100e-6 * 46800, 1e-9);
	ck_assert_double_eq_tol(sim_fppm(d), 100.0, 1e-12);
	d->ops->destroy(d);
	lazy->ops->destroy(lazy);
}
END_TEST

START_TEST(test_sim_set_freq)
{
	struct truth tr = {.t = T0};
	struct clk_driver *d = sim_new(&tr, 0.1, 100.0, 0.0, 1);

	tr.t += 1000 * S; /* 100 ppm for 1000 s: +0.1 s */
	ck_assert_int_eq(d->ops->set_freq(d, -100.0), 0);
	ck_assert_double_eq_tol(sim_phase(d), 0.2, 1e-9);
	ck_assert_double_eq_tol(sim_fppm(d), 0.0, 1e-12);
	tr.t += 3600 * S;
	d->ops->tick(d);
	ck_assert_double_eq_tol(sim_phase(d), 0.2, 1e-9);

	ck_assert_int_eq(d->ops->set_freq(d, -150.0), 0); /* -50 ppm net */
	tr.t += 200 * S;
	ck_assert_double_eq_tol(sim_phase(d), 0.19, 1e-9);

	/* Beyond the kernel's 500 ppm, up to 10 %, exactly. */
	ck_assert_msg(d->max_ppm == 100000.0, "the sim should say it reaches 100000 ppm");
	ck_assert_int_eq(d->ops->set_freq(d, 83333.0), 0);
	ck_assert_double_eq_tol(sim_fppm(d), 83433.0, 1e-9);
	tr.t += 10 * S; /* 83433 ppm for 10 s: +0.83433 s */
	ck_assert_double_eq_tol(sim_phase(d), 0.19 + 0.83433, 1e-9);
	ck_assert_int_eq(d->ops->set_freq(d, 1e6), 0);
	ck_assert_double_eq_tol(sim_fppm(d), 100100.0, 1e-9); /* clamped at +100000 */
	ck_assert_int_eq(d->ops->set_freq(d, -1e9), 0);
	ck_assert_double_eq_tol(sim_fppm(d), -99900.0, 1e-9);
	ck_assert_msg(d->ops->set_freq(d, NAN) == -EINVAL, "NaN ppm should be -EINVAL");
	ck_assert_double_eq_tol(sim_fppm(d), -99900.0, 1e-9);
	d->ops->destroy(d);
}
END_TEST

START_TEST(test_sim_step)
{
	struct truth tr = {.t = T0};
	struct clk_driver *d = sim_new(&tr, 100.0, 0.0, 0.0, 1);

	ck_assert_msg(d->ops->now(d) == T0 + 100 * S, "now should start 100 s ahead");
	ck_assert_int_eq(d->ops->step(d, -100 * S), 0);
	ck_assert_msg(d->ops->now(d) == T0, "a -100 s step should cancel the offset");
	ck_assert_int_eq(d->ops->step(d, -1250000000LL), 0);
	ck_assert_msg(d->ops->now(d) == T0 - 1250000000LL, "a -1.25 s step should go back 1.25 s");
	ck_assert_double_eq_tol(sim_phase(d), -1.25, 1e-12);
	ck_assert_int_eq(d->ops->step(d, 7), 0);
	ck_assert_double_eq_tol(sim_phase(d), -1.25 + 7e-9, 1e-12);
	d->ops->destroy(d);
}
END_TEST

START_TEST(test_sim_mapping_matches_now)
{
	struct truth tr = {.t = T0};
	struct clk_driver *d = sim_new(&tr, -0.3, 42.0, 0.05, 99);
	int64_t off, base, pred, sys;
	double freq, before;
	int i;

	for (i = 0; i < 50; i++) {
		tr.t += (int64_t)(i + 1) * 37 * S + 123456789;
		/* A wander step changes the frequency, never the phase. */
		before = sim_phase(d);
		d->ops->tick(d);
		ck_assert_msg(fabs(sim_phase(d) - before) < 1e-12,
			      "tick should keep the phase continuous (jumped %g s)",
			      sim_phase(d) - before);
		if (i % 7 == 0)
			ck_assert_int_eq(d->ops->set_freq(d, -40.0 + i), 0);
		if (i % 11 == 0)
			ck_assert_int_eq(d->ops->step(d, (int64_t)i * 1000003), 0);
		d->ops->mapping(d, &off, &freq, &base);
		/* The map handed out now predicts now() until the next change. */
		sys = tr.t + (int64_t)i * 60 * S;
		pred = sys + off + (int64_t)((double)(sys - base) * freq);
		tr.t = sys;
		ck_assert_msg(llabs(d->ops->now(d) - pred) <= 2,
			      "now should follow the mapping, off by %lld ns",
			      (long long)(d->ops->now(d) - pred));
		ck_assert_msg(llabs(clk_driver_from_sys(d, sys) - pred) <= 2,
			      "clk_driver_from_sys should apply the mapping");
		ck_assert_msg(fabs((double)(d->ops->now(d) - sys) - sim_phase(d) * 1e9) <= 2,
			      "now - truth should be the phase");
		ck_assert_double_eq_tol(freq * 1e6, sim_fppm(d), 1e-9);
	}
	d->ops->destroy(d);
}
END_TEST

/* Final phase and frequency after a fixed tick schedule for SEED. */
static void sim_run(uint64_t seed, double *ph, double *f)
{
	struct truth tr = {.t = T0};
	struct clk_driver *d = sim_new(&tr, 0.0, 5.0, 0.01, seed);
	int i;

	for (i = 0; i < 200; i++) {
		tr.t += 16 * S;
		d->ops->tick(d);
	}
	ck_assert_int_eq(clk_sim_state(d, ph, f), 0);
	d->ops->destroy(d);
}

START_TEST(test_sim_deterministic)
{
	double p1, f1, p2, f2, p3, f3;

	sim_run(12345, &p1, &f1);
	sim_run(12345, &p2, &f2);
	sim_run(12346, &p3, &f3);
	ck_assert_msg(p1 == p2 && f1 == f2, "the same seed should give the same clock");
	ck_assert_msg(p1 != p3 && f1 != f3, "another seed should give another wander");
	ck_assert_msg(f1 != 5.0, "wander should move the frequency");
}
END_TEST

START_TEST(test_sim_wander_statistics)
{
	/* 0.01 ppm/sqrt(s) over 3600 s: the walk's variance is 0.36 ppm^2. */
	const double wander = 0.01, secs = 3600, expect = wander * wander * secs;
	const int seeds = 400;
	double sum = 0, sum2 = 0, mean, var, f;
	struct truth tr;
	struct clk_driver *d;
	int s, i;

	for (s = 0; s < seeds; s++) {
		tr.t = T0;
		d = sim_new(&tr, 0.0, 0.0, wander, (uint64_t)s * 7919 + 1);
		/* Uneven ticks: the variance must not depend on the schedule. */
		for (i = 0; tr.t < T0 + (int64_t)secs * S; i++) {
			tr.t += (i % 2 ? 10 : 26) * S;
			d->ops->tick(d);
		}
		f = sim_fppm(d);
		d->ops->destroy(d);
		sum += f;
		sum2 += f * f;
	}
	mean = sum / seeds;
	var = sum2 / seeds - mean * mean;
	ck_assert_msg(var > 0.7 * expect && var < 1.4 * expect,
		      "walk variance should be ~%.3f ppm^2 after 1 h, got %.3f", expect, var);
	ck_assert_msg(fabs(mean) < 4 * sqrt(expect / seeds), "walk mean should be ~0, got %.4f ppm",
		      mean);
}
END_TEST

START_TEST(test_sim_not_adjustable)
{
	struct truth tr = {.t = T0};
	struct clk_driver *d = sim_new(&tr, 0.25, 3.0, 0.0, 1);

	d->adjustable = 0;
	ck_assert_msg(d->ops->set_freq(d, 10) == -EPERM, "set_freq should be refused");
	ck_assert_msg(d->ops->step(d, S) == -EPERM, "step should be refused");
	ck_assert_msg(d->ops->set_status(d, NTP_LEAP_NONE, 1, 0.1, 0.01) == -EPERM,
		      "set_status should be refused");
	ck_assert_double_eq_tol(sim_phase(d), 0.25, 1e-12);
	ck_assert_double_eq_tol(sim_fppm(d), 3.0, 1e-12);
	d->adjustable = 1;
	ck_assert_int_eq(d->ops->set_status(d, NTP_LEAP_INSERT, 1, 0.1, 0.01), 0);
	d->ops->destroy(d);
}
END_TEST

START_TEST(test_sim_true_error)
{
	struct truth tr = {.t = T0};
	struct clk_driver *d = sim_new(&tr, 0.0, 0.0, 0.0, 1);

	ck_assert_double_eq_tol(d->ops->true_error(d, T0 + 1500, T0), 1.5e-6, 1e-15);
	ck_assert_double_eq_tol(d->ops->true_error(d, T0 - 2 * S, T0), -2.0, 1e-12);
	ck_assert_double_eq_tol(d->ops->true_error(d, INT64_MAX, INT64_MIN), 18.446744073709552e9,
				1e3);
	d->ops->destroy(d);
}
END_TEST

/* ns: 2016-12-31 24:00:00 UTC, the end of a day with a leap second (unix s 1483228800) */
#define LEAP_M (1483228800LL * S)

/*
 * The sim driver applies an armed leap second as Linux does: only while
 * synchronized, at the end of its own UTC day (an insertion repeats the
 * last second, a deletion skips 23:59:59), once per arming, counted.
 */
START_TEST(test_sim_leap)
{
	struct truth tr = {.t = LEAP_M - 10 * S};
	struct clk_driver *d = sim_new(&tr, 0.002, 0.0, 0.0, 1);
	int armed = 7;

	ck_assert_int_eq(d->ops->leaps(d, &armed), 0);
	ck_assert_msg(armed == 0, "nothing should be armed at first");
	/* Unsynchronized: no arming, no leap. */
	ck_assert_int_eq(d->ops->set_status(d, NTP_LEAP_INSERT, 0, 0.1, 0.01), 0);
	tr.t += 20 * S;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 0);
	ck_assert_msg(armed == 0, "an unsynchronized status should arm nothing");
	ck_assert_double_eq_tol(sim_phase(d), 0.002, 1e-12);

	/* An insertion at the clock's own midnight: 2 ms before the truth's. */
	tr.t = LEAP_M - 10 * S;
	d->ops->step(d, 0); /* integrate to the new truth */
	ck_assert_int_eq(d->ops->set_status(d, NTP_LEAP_INSERT, 1, 0.1, 0.01), 0);
	tr.t = LEAP_M - 3 * S;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 0);
	ck_assert_msg(armed == 1, "an insertion should be armed");
	tr.t = LEAP_M - 2000000; /* the clock reads midnight exactly */
	ck_assert_int_eq(d->ops->leaps(d, NULL), 1);
	ck_assert_msg(d->ops->now(d) == LEAP_M - S,
		      "the clock should read 23:59:59 again at its midnight, off by %lld ns",
		      (long long)(d->ops->now(d) - (LEAP_M - S)));
	tr.t = LEAP_M + 5 * S;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 1);
	ck_assert_msg(armed == 1, "still armed after it, as Linux's TIME_WAIT");
	ck_assert_double_eq_tol(sim_phase(d), 0.002 - 1.0, 1e-12);
	/* Still armed: nothing more at the next midnight until disarmed and armed again. */
	tr.t = LEAP_M + 86400 * S;
	ck_assert_int_eq(d->ops->leaps(d, NULL), 1);
	ck_assert_int_eq(d->ops->set_status(d, NTP_LEAP_NONE, 1, 0.1, 0.01), 0);

	/* A deletion: 23:59:59 never shows. */
	ck_assert_int_eq(d->ops->set_status(d, NTP_LEAP_DELETE, 1, 0.1, 0.01), 0);
	tr.t = LEAP_M + 2 * 86400 * S - 3 * S; /* the clock reads 1 s less: 23:59:56 */
	ck_assert_int_eq(d->ops->leaps(d, NULL), 1);
	tr.t += 3 * S - 1000000000LL + 998000000LL; /* the clock reads 23:59:59 */
	ck_assert_int_eq(d->ops->leaps(d, NULL), 0);
	ck_assert_msg(d->ops->now(d) == LEAP_M + 2 * 86400 * S,
		      "the clock should read midnight instead of 23:59:59, off by %lld ns",
		      (long long)(d->ops->now(d) - (LEAP_M + 2 * 86400 * S)));
	d->ops->destroy(d);
}
END_TEST

/* A step behind the core's back moves the phase and nothing else. */
START_TEST(test_sim_jump)
{
	struct truth tr = {.t = T0};
	struct clk_driver *d = sim_new(&tr, 0.1, 50.0, 0.0, 1);
	char why[256] = "";
	struct clk_driver *k = clk_driver_kernel(NULL, 0, why, sizeof(why));

	tr.t += 100 * S;
	ck_assert_int_eq(clk_sim_jump(d, -S / 2), 0);
	ck_assert_double_eq_tol(sim_phase(d), 0.1 + 50e-6 * 100 - 0.5, 1e-12);
	ck_assert_double_eq_tol(sim_fppm(d), 50.0, 1e-12);
	tr.t += 100 * S;
	ck_assert_double_eq_tol(sim_phase(d), 0.1 + 50e-6 * 200 - 0.5, 1e-12);
	ck_assert_msg(clk_sim_jump(k, S) == -EINVAL && clk_sim_jump(NULL, S) == -EINVAL,
		      "clk_sim_jump should refuse anything but a sim driver");
	k->ops->destroy(k);
	d->ops->destroy(d);
}
END_TEST

/* ---- kernel driver: creation, reads and refusals only ---- */

START_TEST(test_kernel_now_and_mapping)
{
	char why[256] = "";
	struct clk_driver *d = clk_driver_kernel(NULL, 0, why, sizeof(why));
	struct timespec a, b;
	int64_t off = 1, base = 1, now;
	double freq = 1;

	ck_assert_msg(d != NULL, "CLOCK_REALTIME driver should be created (%s)", why);
	ck_assert_str_eq(d->ops->name, "kernel");
	ck_assert_msg(d->adjustable == 0, "adjustable should be what was asked");
	clock_gettime(CLOCK_REALTIME, &a);
	now = d->ops->now(d);
	clock_gettime(CLOCK_REALTIME, &b);
	ck_assert_msg(now >= (int64_t)a.tv_sec * S + a.tv_nsec &&
			      now <= (int64_t)b.tv_sec * S + b.tv_nsec,
		      "now should read CLOCK_REALTIME");
	d->ops->mapping(d, &off, &freq, &base);
	ck_assert_msg(off == 0 && freq == 0.0 && base == 0, "mapping should be the identity");
	ck_assert_msg(clk_driver_from_sys(d, T0 + 12345) == T0 + 12345,
		      "from_sys should be the identity");
	ck_assert_msg(isnan(d->ops->true_error(d, T0, T0)), "true error should be unknown");
	ck_assert_msg(clk_sim_state(d, NULL, NULL) == -EINVAL,
		      "clk_sim_state should refuse a kernel driver");
	d->ops->destroy(d);
}
END_TEST

START_TEST(test_kernel_refuses_when_not_adjustable)
{
	char why[256] = "";
	struct clk_driver *d = clk_driver_kernel(NULL, 0, why, sizeof(why));
	int before = fake_calls, reads = fake_reads;

	ck_assert_msg(d != NULL, "CLOCK_REALTIME driver should be created (%s)", why);
	ck_assert_msg(d->ops->set_freq(d, 12.5) == -EPERM, "set_freq should be -EPERM");
	ck_assert_msg(d->ops->step(d, S) == -EPERM, "step should be -EPERM");
	ck_assert_msg(d->ops->set_status(d, NTP_LEAP_NONE, 1, 0.01, 0.001) == -EPERM,
		      "set_status should be -EPERM");
	ck_assert_msg(fake_calls == before && fake_reads == reads,
		      "a refused setter should not call clock_adjtime");
	d->ops->destroy(d);
}
END_TEST

START_TEST(test_kernel_bad_phc)
{
	char why[256] = "";

	ck_assert_msg(clk_driver_kernel("/nonexistent/ptp9", 0, why, sizeof(why)) == NULL,
		      "a missing PHC should fail");
	ck_assert_msg(strstr(why, "/nonexistent/ptp9") && strstr(why, "No such file"),
		      "the reason should name the path and the error, got '%s'", why);
	why[0] = '\0';
	ck_assert_msg(clk_driver_kernel("/dev/null", 0, why, sizeof(why)) == NULL,
		      "/dev/null should not pass for a PHC");
	ck_assert_msg(strstr(why, "not a PHC"), "the reason should say 'not a PHC', got '%s'", why);
	why[0] = '\0';
	ck_assert_msg(clk_driver_kernel("/proc/self/stat", 0, why, sizeof(why)) == NULL,
		      "a regular file should not pass for a PHC");
	ck_assert_msg(strstr(why, "not a PHC"), "the reason should say 'not a PHC', got '%s'", why);
}
END_TEST

/*
 * What the setters ask of the kernel, on the fake only. Proven first: a
 * read-only call from inside the library (kclock.c) must land in the fake;
 * otherwise the test stops before any setter runs.
 */
START_TEST(test_kernel_setters_on_fake)
{
	char why[256] = "";
	struct clk_kstate ks;
	struct clk_driver *d;
	int reads = fake_reads, calls;

	ck_assert_msg(clk_kernel_read(CLOCK_REALTIME, &ks) == 0 && fake_reads == reads + 1,
		      "library calls should reach the fake clock_adjtime (else stop here)");
	d = clk_driver_kernel(NULL, 1, why, sizeof(why));
	ck_assert_msg(d != NULL, "CLOCK_REALTIME driver should be created (%s)", why);
	calls = fake_calls;

	fake_errno = 0;
	ck_assert_int_eq(d->ops->set_freq(d, 12.5), 0);
	ck_assert_msg(fake_last.modes == (ADJ_FREQUENCY | ADJ_TICK) && fake_last.freq == 819200 &&
			      fake_last.tick == tick0,
		      "12.5 ppm should be ADJ_FREQUENCY 819200 scaled ppm on the nominal tick "
		      "%ld, got %#x %ld tick %ld",
		      tick0, fake_last.modes, fake_last.freq, fake_last.tick);

	ck_assert_int_eq(d->ops->step(d, -1250000000LL), 0);
	ck_assert_msg(fake_last.modes == (ADJ_SETOFFSET | ADJ_NANO) &&
			      fake_last.time.tv_sec == -2 && fake_last.time.tv_usec == 750000000,
		      "a -1.25 s step should be -2 s + 750000000 ns with ADJ_NANO");
	ck_assert_int_eq(d->ops->step(d, 3 * S + 5), 0);
	ck_assert_msg(fake_last.time.tv_sec == 3 && fake_last.time.tv_usec == 5,
		      "a 3 s + 5 ns step should be 3 s + 5 ns");

	ck_assert_int_eq(d->ops->set_status(d, NTP_LEAP_INSERT, 1, 0.25, 0.0015), 0);
	ck_assert_msg(fake_last.modes == (ADJ_STATUS | ADJ_MAXERROR | ADJ_ESTERROR),
		      "set_status should set status, maxerror and esterror");
	ck_assert_msg(fake_last.status == STA_INS, "synced + insert should be STA_INS only");
	ck_assert_msg(fake_last.maxerror == 250000 && fake_last.esterror == 1500,
		      "error bounds should be in us");
	ck_assert_int_eq(d->ops->set_status(d, NTP_LEAP_DELETE, 0, 100.0, NAN), 0);
	ck_assert_msg(fake_last.status == STA_UNSYNC, "unsynced should be STA_UNSYNC, no leap");
	ck_assert_msg(fake_last.maxerror == 16000000 && fake_last.esterror == 16000000,
		      "error bounds should clamp at 16 s");
	ck_assert_int_eq(d->ops->set_status(d, NTP_LEAP_DELETE, 1, 0.0, 0.0), 0);
	ck_assert_msg(fake_last.status == STA_DEL, "synced + delete should be STA_DEL");
	ck_assert_msg(!(fake_last.status & STA_PLL), "STA_PLL should stay off");

	fake_errno = EPERM;
	clk_set_log(log_capture);
	log_lines = 0;
	ck_assert_msg(d->ops->set_freq(d, 1.0) == -EPERM, "a kernel refusal should be -errno");
	clk_set_log(NULL);
	fake_errno = 0;
	ck_assert_msg(log_lines == 1 && log_prio == LOG_ERR &&
			      strstr(log_last, "clock_adjtime(CLOCK_REALTIME, modes=0x") &&
			      strstr(log_last, "to set the frequency failed"),
		      "a kernel refusal should be one LOG_ERR line through clk_set_log's logger, "
		      "got %d: %s",
		      log_lines, log_last);
	ck_assert_msg(fake_calls == calls + 7, "each setter should call clock_adjtime once");
	d->ops->destroy(d);
}
END_TEST

/*
 * The leap seconds Linux applied, counted from a read-only call's state
 * (TIME_OOP, TIME_WAIT) once per arming, and what is armed (STA_INS,
 * STA_DEL), whoever armed it; never on a refused read; on the fake only.
 */
START_TEST(test_kernel_leaps_on_fake)
{
	char why[256] = "";
	struct clk_driver *d = clk_driver_kernel(NULL, 1, why, sizeof(why));
	int armed = 7;

	ck_assert_msg(d != NULL, "CLOCK_REALTIME driver should be created (%s)", why);
	fake_errno = 0;
	fake_state = TIME_OK;
	fake_status = 0;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 0);
	ck_assert_msg(armed == 0, "nothing armed, nothing said");
	fake_state = TIME_INS;
	fake_status = STA_INS; /* armed by us, or by the program that owns the clock */
	ck_assert_int_eq(d->ops->leaps(d, &armed), 0);
	ck_assert_msg(armed == 1, "an armed insertion should be said");
	fake_state = TIME_OOP;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 1);
	fake_state = TIME_WAIT;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 1);
	ck_assert_msg(armed == 1, "still armed in TIME_WAIT, counted once");
	fake_state = TIME_OK;
	fake_status = 0;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 1);
	fake_state = TIME_WAIT;
	fake_status = STA_DEL;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 0);
	ck_assert_msg(armed == -1, "a deletion applied should count -1");
	fake_state = TIME_ERROR;
	fake_status = STA_INS | STA_UNSYNC;
	ck_assert_int_eq(d->ops->leaps(d, &armed), 0);
	ck_assert_msg(armed == 1, "TIME_ERROR hides the state: armed is still said");
	fake_state = -1;
	fake_status = -1;
	d->ops->destroy(d);
}
END_TEST

/*
 * A tick left off nominal (a slew of a horod killed while slewing) is
 * told at start-up: that the first frequency set puts it back, or, when
 * the driver may not adjust the clock, that it stays. On the fake.
 */
START_TEST(test_kernel_left_tick)
{
	char why[256] = "";
	struct clk_driver *d;

	clk_set_log(log_capture);
	log_lines = 0;
	fake_tick = tick0;
	d = clk_driver_kernel(NULL, 1, why, sizeof(why));
	ck_assert_msg(d != NULL && log_lines == 0, "a nominal tick should be no news");
	d->ops->destroy(d);
	fake_tick = tick0 + tick0 / 12; /* 8 % fast */
	d = clk_driver_kernel(NULL, 1, why, sizeof(why));
	ck_assert_msg(d != NULL && log_lines == 1 && log_prio == LOG_WARNING &&
			      strstr(log_last, "killed while slewing") &&
			      strstr(log_last, "puts it back"),
		      "a tick left off nominal should be one warning, got %d: %s", log_lines,
		      log_last);
	d->ops->destroy(d);
	d = clk_driver_kernel(NULL, 0, why, sizeof(why));
	ck_assert_msg(d != NULL && log_lines == 2 && strstr(log_last, "leaves it"),
		      "not adjustable, the warning should say horod leaves it: %s", log_last);
	d->ops->destroy(d);
	fake_tick = -1;
	clk_set_log(NULL);
}
END_TEST

/* The ppm that tick TICK and scaled frequency FREQ ask of the kernel together. */
static double tick_freq_ppm(long tick, long freq)
{
	return (double)(tick - tick0) * (double)user_hz + (double)freq / 65536.0;
}

/*
 * Corrections beyond ADJ_FREQUENCY's +-500 ppm on CLOCK_REALTIME: whole
 * microseconds of tick plus a frequency remainder, in one call, adding up
 * to what was asked, within the kernel's ranges; the nominal tick when the
 * frequency alone suffices; clamped at the driver's max_ppm. On the fake.
 */
START_TEST(test_kernel_tick_split)
{
	static const double asks[] = {500.0,   -500.0,	  500.5, -800.0,   1234.56,
				      83333.0, -83333.33, 6e4,	 -99999.0, 100.0 * 1000 + 0.25};
	char why[256] = "";
	struct clk_kstate ks;
	struct clk_driver *d;
	double max;
	int reads = fake_reads, calls;
	unsigned int i;

	ck_assert_msg(clk_kernel_read(CLOCK_REALTIME, &ks) == 0 && fake_reads == reads + 1,
		      "library calls should reach the fake clock_adjtime (else stop here)");
	ck_assert_msg(user_hz > 0 && user_hz <= 1000, "USER_HZ should be sane, got %ld", user_hz);
	d = clk_driver_kernel(NULL, 1, why, sizeof(why));
	ck_assert_msg(d != NULL, "CLOCK_REALTIME driver should be created (%s)", why);
	max = 500.0 + (double)(tick0 / 10 * user_hz);
	ck_assert_msg(fabs(d->max_ppm - max) < 1e-9,
		      "max_ppm should be 500 ppm + 10 %% of the tick (%g), got %g", max,
		      d->max_ppm);
	fake_errno = 0;
	for (i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		double want = fmax(-max, fmin(max, asks[i]));

		calls = fake_calls;
		ck_assert_int_eq(d->ops->set_freq(d, asks[i]), 0);
		ck_assert_msg(fake_calls == calls + 1, "%g ppm should take one call", asks[i]);
		ck_assert_msg(fake_last.modes == (ADJ_FREQUENCY | ADJ_TICK),
			      "%g ppm should set tick and frequency together, modes %#x", asks[i],
			      fake_last.modes);
		ck_assert_msg(fabs(tick_freq_ppm(fake_last.tick, fake_last.freq) - want) <=
				      1.0 / 65536.0,
			      "%g ppm: tick %ld + freq %ld should add up to %g ppm", asks[i],
			      fake_last.tick, fake_last.freq, want);
		ck_assert_msg(labs(fake_last.freq) <= 500 * 65536,
			      "%g ppm: the frequency part should be within 500 ppm", asks[i]);
		ck_assert_msg(fake_last.tick * user_hz >= 900000 &&
				      fake_last.tick * user_hz <= 1100000,
			      "%g ppm: the tick %ld should be within 10 %% of nominal", asks[i],
			      fake_last.tick);
		if (fabs(asks[i]) <= 500.0)
			ck_assert_msg(fake_last.tick == tick0,
				      "%g ppm should keep the nominal tick %ld, got %ld", asks[i],
				      tick0, fake_last.tick);
	}
	/* At USER_HZ 100 (1 us of tick = 100 ppm), the exact values. */
	if (user_hz == 100) {
		d->ops->set_freq(d, 83333.0);
		ck_assert_msg(fake_last.tick == 10833 && fake_last.freq == 33 * 65536,
			      "83333 ppm should be tick 10833 + 33 ppm, got %ld + %ld",
			      fake_last.tick, fake_last.freq);
		d->ops->set_freq(d, -800.0);
		ck_assert_msg(fake_last.tick == 9992 && fake_last.freq == 0,
			      "-800 ppm should be tick 9992 + 0 ppm, got %ld + %ld", fake_last.tick,
			      fake_last.freq);
		d->ops->set_freq(d, -1e9);
		ck_assert_msg(fake_last.tick == 9000 && fake_last.freq == -500 * 65536,
			      "-1e9 ppm should clamp to tick 9000 - 500 ppm, got %ld + %ld",
			      fake_last.tick, fake_last.freq);
	}
	/* The way back: within 500 ppm the nominal tick returns. */
	d->ops->set_freq(d, -3.0);
	ck_assert_msg(fake_last.tick == tick0 && fake_last.freq == -3 * 65536,
		      "-3 ppm after a slew should restore the nominal tick");
	/* A refused call fails whole (and the wrapper logs its modes). */
	fake_errno = EINVAL;
	ck_assert_msg(d->ops->set_freq(d, 20000.0) == -EINVAL,
		      "a refused tick should fail the set_freq");
	fake_errno = 0;
	d->ops->destroy(d);
}
END_TEST

/* ns: how far two reads of one clock through different paths may differ on a loaded VM */
#define READ_SLACK_NS 500000

/* |driver time of sys now - driver time now| (ns) on D. */
static int64_t map_gap(struct clk_driver *d)
{
	int64_t a = clk_driver_from_sys(d, clk_now_ns(CLOCK_REALTIME)), b = d->ops->now(d);

	return a > b ? a - b : b - a;
}

/*
 * A PHC's timescale, with CLOCK_MONOTONIC standing in: sys stamps convert
 * to its time (the identity map of CLOCK_REALTIME would be days off), a
 * frequency change and a step move the map at once, a tick measures it
 * again, and the core serves the stand-in's time to a worker reading
 * CLOCK_REALTIME. Setters land on the fake clock_adjtime only.
 */
/*
 * `driver kernel device /dev/ptpN` (issue 16): the PHC's rate against
 * CLOCK_REALTIME is taken over 16 s spans, and a span across which
 * CLOCK_REALTIME was stepped (a leap second, `date -s`) is discarded: the
 * step moves CLOCK_REALTIME - CLOCK_MONOTONIC, nothing else does. No PHC
 * exists here and a test may not step the clock: the arithmetic, with the
 * readings given.
 */
START_TEST(test_phc_span_rate)
{
	const int64_t sys0 = 1700000000000000000LL, span = 16000000000LL,
		      rtm = 1699990000123456789LL;
	const int64_t off0 = -37000000000LL + 12345; /* a PHC 37 s behind, say */
	int64_t d = 160000;			     /* ns: 10 ppm over the span */
	double rate = 0.0;

	ck_assert_msg(clk_phc_span_rate(sys0, off0, rtm, sys0 + span, off0 + d, rtm, 0.0, &rate) &&
			      fabs(rate - 10e-6) < 1e-12,
		      "10 ppm over a quiet span, got %g", rate);
	ck_assert_msg(
		clk_phc_span_rate(sys0, off0, rtm, sys0 + span, off0 + d, rtm, 80000.0, &rate) &&
			fabs(rate - 5e-6) < 1e-12,
		"our own corrections taken out: 5 ppm, got %g", rate);
	/* CLOCK_REALTIME inserts a leap second (steps back 1 s) within the span: PHC -
	 * CLOCK_REALTIME grows by 1 s, which the naive rate would take for 66,667 ppm. */
	ck_assert_msg((double)(d + 1000000000LL) / (double)(span - 1000000000LL) > 0.06,
		      "the naive rate across the leap would be absurd");
	ck_assert_msg(!clk_phc_span_rate(sys0, off0, rtm, sys0 + span - 1000000000LL,
					 off0 + d + 1000000000LL, rtm - 1000000000LL, 0.0, &rate),
		      "a span across a leap's step back is discarded");
	ck_assert_msg(!clk_phc_span_rate(sys0, off0, rtm, sys0 + span + 3000000000LL,
					 off0 + d - 3000000000LL, rtm + 3000000000LL, 0.0, &rate),
		      "a span across `date -s` +3 s is discarded");
	ck_assert_msg(!clk_phc_span_rate(sys0, off0, rtm, sys0 + span, off0 + d,
					 rtm + CLK_RT_STEP_SLACK_NS + 1, 0.0, &rate),
		      "a step just beyond the read noise is discarded");
	ck_assert_msg(clk_phc_span_rate(sys0, off0, rtm, sys0 + span, off0 + d,
					rtm - CLK_RT_STEP_SLACK_NS, 0.0, &rate),
		      "read noise within the slack is no step");
	ck_assert_msg(!clk_phc_span_rate(sys0, off0, CLK_RT_MONO_UNKNOWN, sys0 + span, off0 + d,
					 rtm, 0.0, &rate) &&
			      !clk_phc_span_rate(sys0, off0, rtm, sys0 + span, off0 + d,
						 CLK_RT_MONO_UNKNOWN, 0.0, &rate),
		      "unknown (stalled reads): discarded");
	ck_assert_msg(!clk_phc_span_rate(sys0, off0, rtm, sys0, off0, rtm, 0.0, &rate) &&
			      !clk_phc_span_rate(sys0, off0, rtm, sys0 - 5, off0, rtm, 0.0, &rate),
		      "an empty or negative span: discarded");
}
END_TEST

START_TEST(test_kernel_phc_timescale)
{
	char why[256] = "";
	struct clk_core_cfg cc = {.discipline = 0,
				  .maxdistance = 1.5,
				  .minsources = 1,
				  .precision = -20,
				  .init_skew_ppm = -1.0};
	struct clk_driver *d =
		clk_driver_kernel_posix(CLOCK_MONOTONIC, "stand-in", 1, why, sizeof(why));
	struct clk_snapshot snap;
	struct clk_core *c;
	int64_t off, base, days, served, mono;
	double freq;

	ck_assert_msg(d != NULL, "the stand-in PHC driver should be created (%s)", why);
	days = clk_now_ns(CLOCK_REALTIME) - clk_now_ns(CLOCK_MONOTONIC);
	ck_assert_msg(days > 86400 * S, "CLOCK_MONOTONIC should be days behind CLOCK_REALTIME");
	ck_assert_msg(map_gap(d) < READ_SLACK_NS,
		      "a sys stamp should convert to the stand-in's time (gap %lld ns; the "
		      "identity map would leave %lld ns)",
		      (long long)map_gap(d), (long long)days);
	d->ops->mapping(d, &off, &freq, &base);
	ck_assert_msg(llabs(off + days) < READ_SLACK_NS && freq == 0.0,
		      "the map should be the stand-in minus sys, no rate yet");

	/* +100 ppm (on the fake only): the map runs 100 ppm faster from now. */
	fake_errno = 0;
	ck_assert_int_eq(d->ops->set_freq(d, 100.0), 0);
	d->ops->mapping(d, &off, &freq, &base);
	ck_assert_msg(fabs(freq - 100e-6) < 1e-9, "the map's rate should take our +100 ppm");
	/* A step of +5 s (on the fake): the map jumps with it ... */
	ck_assert_int_eq(d->ops->step(d, 5 * S), 0);
	ck_assert_msg(llabs(clk_driver_from_sys(d, clk_now_ns(CLOCK_REALTIME)) - d->ops->now(d) -
			    5 * S) < READ_SLACK_NS,
		      "after a step the map should say the clock is 5 s later");
	/* ... and a tick measures the clock as it really is (the fake changed nothing). */
	d->ops->tick(d);
	ck_assert_msg(map_gap(d) < READ_SLACK_NS, "a tick should measure the map again (gap %lld)",
		      (long long)map_gap(d));
	d->ops->set_freq(d, 0.0);
	d->ops->tick(d);

	/* The core serves the stand-in's time: served(sys now) is CLOCK_MONOTONIC now. */
	d->adjustable = 0;
	c = clk_core_create(&cc, d);
	ck_assert(c != NULL);
	clk_core_update(c, d->ops->now(d), &snap);
	served = clk_snapshot_served(&snap, clk_now_ns(CLOCK_REALTIME));
	mono = clk_now_ns(CLOCK_MONOTONIC);
	ck_assert_msg(
		llabs(served - mono) < READ_SLACK_NS,
		"a worker reading CLOCK_REALTIME should serve the PHC's time (off by %lld ns)",
		(long long)(served - mono));
	clk_core_destroy(c);
	d->ops->destroy(d);
}
END_TEST

/* A PHC's kernel status does not exist: refused once, logged once, never asked again. */
START_TEST(test_kernel_phc_status_once)
{
	char why[256] = "";
	struct clk_driver *d =
		clk_driver_kernel_posix(CLOCK_MONOTONIC, "/dev/ptp7", 1, why, sizeof(why));
	int calls, i;

	ck_assert_msg(d != NULL, "the stand-in PHC driver should be created (%s)", why);
	clk_set_log(log_capture);
	log_lines = 0;
	fake_errno = EOPNOTSUPP;
	calls = fake_calls;
	for (i = 0; i < 5; i++)
		ck_assert_msg(d->ops->set_status(d, NTP_LEAP_NONE, 1, 0.001, 0.0001) == -EOPNOTSUPP,
			      "the status should be refused");
	fake_errno = 0;
	clk_set_log(NULL);
	ck_assert_msg(fake_calls == calls + 1, "only the first update asks the kernel (%d calls)",
		      fake_calls - calls);
	ck_assert_msg(log_lines == 1 && log_prio == LOG_NOTICE &&
			      strstr(log_last, "/dev/ptp7 keeps no kernel status"),
		      "one notice naming the device, got %d: %s", log_lines, log_last);
	/* Its frequency still goes to the kernel (to the fake here). */
	ck_assert_int_eq(d->ops->set_freq(d, 1.5), 0);
	ck_assert_msg(fake_last.modes == ADJ_FREQUENCY && fake_last.freq == 98304,
		      "a PHC takes ADJ_FREQUENCY alone, no tick");
	d->ops->destroy(d);
}
END_TEST

Suite *drivers_suite(void)
{
	Suite *s = suite_create("drivers");
	TCase *tc = tcase_create("sim");

	tcase_add_test(tc, test_sim_create);
	tcase_add_test(tc, test_sim_phase_over_hours);
	tcase_add_test(tc, test_sim_set_freq);
	tcase_add_test(tc, test_sim_step);
	tcase_add_test(tc, test_sim_mapping_matches_now);
	tcase_add_test(tc, test_sim_deterministic);
	tcase_add_test(tc, test_sim_wander_statistics);
	tcase_add_test(tc, test_sim_not_adjustable);
	tcase_add_test(tc, test_sim_true_error);
	tcase_add_test(tc, test_sim_leap);
	tcase_add_test(tc, test_sim_jump);
	suite_add_tcase(s, tc);

	tc = tcase_create("kernel");
	tcase_add_unchecked_fixture(tc, hz_setup, NULL);
	tcase_add_test(tc, test_kernel_now_and_mapping);
	tcase_add_test(tc, test_kernel_refuses_when_not_adjustable);
	tcase_add_test(tc, test_kernel_bad_phc);
	tcase_add_test(tc, test_kernel_setters_on_fake);
	tcase_add_test(tc, test_kernel_tick_split);
	tcase_add_test(tc, test_phc_span_rate);
	tcase_add_test(tc, test_kernel_phc_timescale);
	tcase_add_test(tc, test_kernel_phc_status_once);
	tcase_add_test(tc, test_kernel_leaps_on_fake);
	tcase_add_test(tc, test_kernel_left_tick);
	suite_add_tcase(s, tc);
	return s;
}
