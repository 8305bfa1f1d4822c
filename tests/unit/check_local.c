/*
 * Tests of the local reference and the read-only kernel clock: what
 * `local stratum N` advertises with an unsynchronized kernel (fixed
 * reference time, dispersion growing at PHI), with a synchronized one
 * (reference time now, kernel error estimate), after losing sync; and that
 * reading the real kernel clock works and gives plausible values. The
 * local reference is a source of the clock core: each reading goes
 * through its driver's hand-over (lref_hand, daemon/clockd/local.c) into
 * a core on a fake driver that measures nothing else, as in horod with
 * no server, and the snapshot is the core's.
 */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "clock/core.h"
#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "daemon/clockd/local.h"
#include "proto/ntp.h"
#include "tests/unit/fakeclk.h"

Suite *local_suite(void);

/* ns: a start-up time in 2023, so the arithmetic runs at real magnitudes. */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL
/* "LOCL" as a reference ID, first character in the most significant byte. */
#define REFID_LOCL 0x4c4f434cu

/* A core with the local reference alone, as horod without servers runs it. */
struct lref_fix {
	struct fakeclk f;
	struct clk_core *c;
	int id, stratum, precision;
};

/* Start the local reference at STRATUM with DISPERSION and PRECISION at time T0_NS. */
static void local_init(struct lref_fix *x, int stratum, double dispersion, int precision,
		       int64_t t0_ns)
{
	struct clk_core_cfg cfg = {
		.discipline = 0, /* nothing to discipline with */
		.makestep_threshold = 1.0,
		.makestep_limit = 3,
		.maxdistance = 1.5,
		.holdover = -1,
		.minsources = 1,
		.precision = precision,
		.init_skew_ppm = -1.0,
	};
	struct clk_source_cfg sc = {.kind = CLK_KIND_LOCAL};

	fakeclk_init(&x->f, t0_ns, 0, 0.0);
	x->c = clk_core_create(&cfg, &x->f.base);
	ck_assert_msg(x->c != NULL, "a core should be created");
	strcpy(sc.name, "local");
	sc.refid = REFID_LOCL;
	sc.stratum = stratum;
	sc.dispersion = dispersion;
	x->id = clk_core_add_source(x->c, &sc);
	ck_assert_msg(x->id == 0, "the local reference should be source 0");
	x->stratum = stratum;
	x->precision = precision;
}

/* The snapshot at NOW_NS after the local reference read kernel state KS. */
static void local_update(struct lref_fix *x, const struct clk_kstate *ks, int64_t now_ns,
			 struct clk_snapshot *out)
{
	fakeclk_set(&x->f, now_ns);
	lref_hand(x->c, x->id, ks, now_ns, x->stratum, x->precision);
	clk_core_update(x->c, now_ns, out);
}

static void kstate(struct clk_kstate *ks, int synced, int leap, double esterror)
{
	memset(ks, 0, sizeof(*ks));
	ks->synced = synced;
	ks->leap = leap;
	ks->esterror = esterror;
	ks->maxerror = 16.0;
	ks->state = synced ? TIME_OK : TIME_ERROR;
	ks->status = synced ? 0 : STA_UNSYNC;
}

START_TEST(test_unsynced_grows_from_start)
{
	struct lref_fix l;
	struct clk_kstate ks;
	struct clk_snapshot s;

	local_init(&l, 3, 0.01, -22, T0);
	/* A kernel leap flag without sync is not trusted. */
	kstate(&ks, 0, NTP_LEAP_INSERT, 0.5);
	local_update(&l, &ks, T0 + 3600 * S, &s);
	ck_assert_msg(s.ref_ns == T0, "unsynced: reference time should stay at init");
	ck_assert_double_eq_tol(s.root_disp, 0.01 + 0.054, 1e-12);
	ck_assert_msg(s.leap == NTP_LEAP_NONE, "unsynced: leap should be 0, got %u", s.leap);
	ck_assert_msg(s.stratum == 3, "stratum should be the configured 3, got %u", s.stratum);
	ck_assert_msg(s.precision == -22, "precision should be the configured -22");
	ck_assert_msg(s.refid == REFID_LOCL, "refid should be LOCL, got %#x", s.refid);
	ck_assert_msg(s.update_ns == T0 + 3600 * S, "update_ns should be now");
	ck_assert_msg(s.root_delay == 0.0, "a local reference should have no root delay");
	ck_assert_msg(s.disp_rate == CLK_PHI, "dispersion should grow at PHI");
	ck_assert_msg(s.corr_ns == 0 && s.corr_freq == 0.0, "no correction should apply");
	ck_assert_msg(s.flags == CLK_F_SYNCED, "flags should be SYNCED only, got %#x", s.flags);

	/* A reader growing the published value agrees with a later update. */
	ck_assert_double_eq_tol(clk_snapshot_root_disp(&s, T0 + 7200 * S), 0.01 + 0.108, 1e-12);
	local_update(&l, &ks, T0 + 7200 * S, &s);
	ck_assert_msg(s.ref_ns == T0, "unsynced: reference time should still be init");
	ck_assert_double_eq_tol(s.root_disp, 0.01 + 0.108, 1e-12);
	clk_core_destroy(l.c);
}
END_TEST

START_TEST(test_unsynced_at_start)
{
	struct lref_fix l;
	struct clk_kstate ks;
	struct clk_snapshot s;

	local_init(&l, 1, 0.0, -20, T0);
	kstate(&ks, 0, 0, 0.0);
	local_update(&l, &ks, T0, &s);
	ck_assert_msg(s.root_disp == 0.0, "no time elapsed: root dispersion should be 0");
	local_update(&l, &ks, T0 - S, &s);
	ck_assert_msg(s.root_disp == 0.0, "a time before init should not shrink the dispersion");
	clk_core_destroy(l.c);
}
END_TEST

START_TEST(test_synced_follows_now)
{
	struct lref_fix l;
	struct clk_kstate ks;
	struct clk_snapshot s;

	local_init(&l, 2, 0.001, -24, T0);
	kstate(&ks, 1, NTP_LEAP_INSERT, 0.000250);
	local_update(&l, &ks, T0 + 100 * S, &s);
	ck_assert_msg(s.ref_ns == T0 + 100 * S, "synced: reference time should be now");
	ck_assert_double_eq_tol(s.root_disp, 0.001 + 0.000250, 1e-15);
	ck_assert_msg(s.leap == NTP_LEAP_INSERT, "synced: leap should come from the kernel");
	ck_assert_msg(s.flags == (CLK_F_SYNCED | CLK_F_KERNEL_SYNC),
		      "synced: flags should be SYNCED|KERNEL_SYNC, got %#x", s.flags);
	ck_assert_msg(s.stratum == 2 && s.refid == REFID_LOCL, "stratum 2, refid LOCL");

	kstate(&ks, 1, NTP_LEAP_DELETE, 0.0);
	local_update(&l, &ks, T0 + 200 * S, &s);
	ck_assert_msg(s.ref_ns == T0 + 200 * S, "synced: reference time should follow now");
	ck_assert_msg(s.leap == NTP_LEAP_DELETE, "synced: a delete leap should pass through");
	ck_assert_msg(s.root_disp == 0.001, "synced: no growth since now is the reference");
	clk_core_destroy(l.c);
}
END_TEST

START_TEST(test_sync_lost_keeps_last_reference)
{
	struct lref_fix l;
	struct clk_kstate ks;
	struct clk_snapshot s;

	local_init(&l, 4, 0.002, -20, T0);
	kstate(&ks, 1, 0, 0.0001);
	local_update(&l, &ks, T0 + 500 * S, &s);
	kstate(&ks, 0, 0, 0.0001);
	local_update(&l, &ks, T0 + 1500 * S, &s);
	ck_assert_msg(s.ref_ns == T0 + 500 * S,
		      "after sync is lost, reference time should stay at the last synced time");
	ck_assert_double_eq_tol(s.root_disp, 0.002 + 1000 * 15e-6, 1e-12);
	ck_assert_msg(s.flags == CLK_F_SYNCED, "after sync loss, KERNEL_SYNC should be clear");
	local_update(&l, &ks, T0 + 2500 * S, &s);
	ck_assert_msg(s.ref_ns == T0 + 500 * S, "the source should remember the last sync time");
	clk_core_destroy(l.c);
}
END_TEST

START_TEST(test_kernel_read_realtime)
{
	struct clk_kstate ks;
	int ret;

	memset(&ks, 0xff, sizeof(ks));
	ret = clk_kernel_read(CLOCK_REALTIME, &ks);
	ck_assert_msg(ret == 0, "reading CLOCK_REALTIME should succeed, got %d", ret);
	ck_assert_msg(ks.maxerror >= 0.0 && ks.esterror >= 0.0,
		      "error estimates should be non-negative (%g, %g)", ks.maxerror, ks.esterror);
	ck_assert_msg(ks.maxerror <= 100.0, "maxerror should be in seconds, got %g", ks.maxerror);
	ck_assert_msg(ks.freq_ppm >= -600.0 && ks.freq_ppm <= 600.0,
		      "kernel frequency should be within +-600 ppm, got %g", ks.freq_ppm);
	ck_assert_msg(ks.state >= TIME_OK && ks.state <= TIME_ERROR, "state should be TIME_*");
	ck_assert_msg(ks.synced == (!(ks.status & STA_UNSYNC) && ks.state != TIME_ERROR),
		      "synced should follow STA_UNSYNC and TIME_ERROR");
	ck_assert_msg(ks.leap >= NTP_LEAP_NONE && ks.leap <= NTP_LEAP_DELETE,
		      "kernel leap should be none, insert or delete");
}
END_TEST

START_TEST(test_kernel_read_bad_clock)
{
	struct clk_kstate ks;

	/* 1000 is beyond every POSIX clock id the kernel knows. */
	ck_assert_msg(clk_kernel_read((clockid_t)1000, &ks) == -EINVAL,
		      "an invalid clock should give -EINVAL");
}
END_TEST

START_TEST(test_precision_range)
{
	int p = clk_measure_precision(CLOCK_REALTIME);

	ck_assert_msg(p >= -30 && p <= 0, "precision should be in [-30, 0], got %d", p);
	p = clk_measure_precision(CLOCK_REALTIME_COARSE);
	ck_assert_msg(p >= -30 && p <= 0, "coarse precision should be in [-30, 0], got %d", p);
	ck_assert_msg(p <= -5, "a coarse clock ticks at least every 31 ms, got %d", p);
}
END_TEST

START_TEST(test_now_increases)
{
	struct timespec pause = {0, 2000000}; /* 2 ms */
	int64_t a, b;

	a = clk_now_ns(CLOCK_MONOTONIC);
	nanosleep(&pause, NULL);
	b = clk_now_ns(CLOCK_MONOTONIC);
	ck_assert_msg(a > 0, "the monotonic clock should read positive");
	ck_assert_msg(b - a >= 2000000, "2 ms of sleep should advance the clock by 2 ms");
	a = clk_now_ns(CLOCK_REALTIME);
	ck_assert_msg(a > T0, "the real-time clock should be after 2023");
}
END_TEST

Suite *local_suite(void)
{
	Suite *s = suite_create("local");
	TCase *tl = tcase_create("local");
	TCase *tk = tcase_create("kclock");

	tcase_add_test(tl, test_unsynced_grows_from_start);
	tcase_add_test(tl, test_unsynced_at_start);
	tcase_add_test(tl, test_synced_follows_now);
	tcase_add_test(tl, test_sync_lost_keeps_last_reference);
	suite_add_tcase(s, tl);

	tcase_add_test(tk, test_kernel_read_realtime);
	tcase_add_test(tk, test_kernel_read_bad_clock);
	tcase_add_test(tk, test_precision_range);
	tcase_add_test(tk, test_now_increases);
	suite_add_tcase(s, tk);
	return s;
}
