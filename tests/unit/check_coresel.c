/*
 * Tests of the clock core's selection as reference clocks meet NTP
 * servers (chrony's semantics, clock/core.h): a reference clock's
 * zero-delay, stratum-0 measurements make the core stratum 1 with the
 * reference clock's refid, and it wins over NTP servers; a silent
 * reference clock configured with unreach_polls 4 is unreachable after
 * exactly four polls, and the core holds over; noselect sources are
 * measured, never selected; prefer combines only the preferred
 * survivors; trust lets one trusted source outvote untrusted ones; a
 * stratum-1 server's refid equal to ours is no timing loop; the served
 * time of a driver time carries our correction when not steering. All on
 * the fake driver, sys time being the truth.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/core.h"
#include "clock/snapshot.h"
#include "proto/ntp.h"
#include "tests/unit/fakeclk.h"

Suite *coresel_suite(void);

/* ns: a sys time in 2023 */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL
/* ns per microsecond */
#define US 1000LL
/* reference clock polls: 2^2 = 4 s */
#define RC_POLL 2

static struct clk_core_cfg core_cfg(int discipline)
{
	struct clk_core_cfg c = {
		.discipline = discipline,
		.makestep_threshold = 1.0,
		.makestep_limit = 3,
		.maxdistance = 1.5,
		.holdover = 600,
		.minsources = 1,
		.precision = -20,
		.init_freq_ppm = 0.0,
		.init_skew_ppm = -1.0,
	};

	return c;
}

/* What each source of a run does. */
struct who {
	int refclock; /* 1: a reference clock, 0: an NTP server */
	double lie;   /* s: its clock minus the truth */
	int silent;   /* 1: it answers nothing */
};

/* Add an NTP server N (192.0.2.N) with PREFER, NOSELECT, TRUST. */
static int add_ntp(struct clk_core *c, int n, int prefer, int noselect, int trust)
{
	struct clk_source_cfg s;

	memset(&s, 0, sizeof(s));
	s.kind = CLK_KIND_NTP;
	snprintf(s.name, sizeof(s.name), "192.0.2.%d", n);
	s.refid = 0xc0000200u + (uint32_t)n;
	s.minpoll = RC_POLL;
	s.maxpoll = RC_POLL;
	s.prefer = prefer;
	s.noselect = noselect;
	s.trust = trust;
	return clk_core_add_source(c, &s);
}

/* Add a reference clock named NAME with refid REFID, as the refclock driver does. */
static int add_rc(struct clk_core *c, const char *name, const char *refid, int noselect, int trust)
{
	struct clk_source_cfg s;

	memset(&s, 0, sizeof(s));
	s.kind = CLK_KIND_REFCLOCK;
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.refid = ntp_refid_ascii(refid);
	s.minpoll = RC_POLL;
	s.maxpoll = RC_POLL;
	s.noselect = noselect;
	s.trust = trust;
	s.unreach_polls = 4;
	return clk_core_add_source(c, &s);
}

/* One poll of source ID as W says: an NTP exchange (200 us each way, stratum 1, refid GPS) or
 * a reference clock's zero-delay stratum-0 measurement; sys advances 400 us. */
static void poll_one(struct clk_core *c, struct fakeclk *f, int id, const struct who *w)
{
	struct clk_meas m;
	int64_t now = f->base.ops->now(&f->base), lie = (int64_t)llround(w->lie * 1e9);

	clk_core_poll_sent(c, id, now);
	memset(&m, 0, sizeof(m));
	m.precision = -20;
	m.refid = ntp_refid_ascii("GPS");
	if (w->refclock) {
		fakeclk_set(f, f->sys + 400 * US);
		if (w->silent)
			return;
		m.t1 = m.t4 = f->base.ops->now(&f->base);
		m.t2 = m.t3 = f->sys + lie;
		m.stratum = 0;
		m.root_delay = 1e-9;
		m.root_disp = 1e-6;
		clk_core_sample(c, id, &m);
		return;
	}
	m.t1 = now;
	fakeclk_set(f, f->sys + 200 * US);
	m.t2 = m.t3 = f->sys + lie;
	fakeclk_set(f, f->sys + 200 * US);
	m.t4 = f->base.ops->now(&f->base);
	if (w->silent)
		return;
	m.stratum = 1;
	m.root_disp = 1e-4;
	clk_core_sample(c, id, &m);
}

/* Run SECONDS of sys time: every source polled when due as W[id] says, an update a second. */
static void run(struct clk_core *c, struct fakeclk *f, double seconds, const struct who *w,
		struct clk_snapshot *snap)
{
	int64_t end = f->sys + (int64_t)(seconds * 1e9);
	int i;

	while (f->sys < end) {
		for (i = 0; i < clk_core_n_sources(c); i++)
			if (clk_core_next_poll(c, i) <= f->base.ops->now(&f->base))
				poll_one(c, f, i, &w[i]);
		clk_core_update(c, f->base.ops->now(&f->base), snap);
		fakeclk_set(f, f->sys + S);
	}
}

static char tally(const struct clk_core *c, int id)
{
	struct clk_source_info si;

	ck_assert(clk_core_source_info(c, id, &si) == 0);
	return si.tally;
}

/* Served time minus the truth (s) now. */
static double served_error(const struct clk_snapshot *s, const struct fakeclk *f)
{
	return (double)(clk_snapshot_served(s, f->sys) - f->sys) / 1e9;
}

START_TEST(test_refclock_primary)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	const struct who w[] = {{0, 0.0002, 0}, {1, 0.0, 0}, {0, 0.00025, 0}};

	fakeclk_init(&f, T0, 0, 20e-6);
	c = clk_core_create(&cfg, &f.base);
	add_ntp(c, 1, 0, 0, 0);
	add_rc(c, "SHM0", "GPS", 0, 0);
	add_ntp(c, 3, 0, 0, 0);
	run(c, &f, 300, w, &s);
	ck_assert_msg(tally(c, 1) == '*', "the reference clock should be the system peer, got '%c'",
		      tally(c, 1));
	ck_assert_msg(s.stratum == 1 && s.refid == ntp_refid_ascii("GPS") &&
			      s.leap == NTP_LEAP_NONE,
		      "a stratum-0 reference should make us stratum 1 with its refid (got %d)",
		      s.stratum);
	/* Two servers 0.2 ms off and a reference clock some 50 us wide (its samples age over
	 * the 4 s poll), all agreeing within their distances: combined by 1/distance, the
	 * served time sits near the reference's, within what it advertises. */
	ck_assert_msg(fabs(served_error(&s, &f)) < 60e-6 &&
			      fabs(served_error(&s, &f)) <=
				      s.root_delay / 2 + clk_snapshot_root_disp(&s, f.sys),
		      "the served time should follow the reference clock, off by %g s",
		      served_error(&s, &f));
	ck_assert_msg(tally(c, 0) != 'x' && tally(c, 0) != ' ' && tally(c, 2) != ' ',
		      "a server at stratum 1 with refid GPS is no timing loop while we follow "
		      "our own GPS: it stays selectable (got '%c')",
		      tally(c, 0));
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_silent_refclock_unreachable)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_source_info si;
	struct who w[] = {{1, 0.0, 0}};
	double disp0;
	int polls;

	fakeclk_init(&f, T0, 0, 10e-6);
	c = clk_core_create(&cfg, &f.base);
	add_rc(c, "SHM0", "GPS", 0, 0);
	run(c, &f, 120, w, &s);
	ck_assert_msg(tally(c, 0) == '*' && (s.flags & CLK_F_SYNCED), "synchronized to it first");
	disp0 = clk_snapshot_root_disp(&s, f.sys);
	w[0].silent = 1;
	/* Three silent polls: still reachable, still the system peer. */
	for (polls = 0; polls < 3;)
		if (clk_core_next_poll(c, 0) <= f.base.ops->now(&f.base)) {
			poll_one(c, &f, 0, &w[0]);
			clk_core_update(c, f.base.ops->now(&f.base), &s);
			polls++;
		} else {
			fakeclk_set(&f, f.sys + S);
		}
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(!(si.flash & NTP_FLASH_PEER_UNREACH) && si.tally == '*',
		      "after 3 silent polls it should still be reachable (flash 0x%x, '%c')",
		      si.flash, si.tally);
	/* The fourth makes it unreachable: horod holds over. */
	while (clk_core_next_poll(c, 0) > f.base.ops->now(&f.base))
		fakeclk_set(&f, f.sys + S);
	poll_one(c, &f, 0, &w[0]);
	clk_core_update(c, f.base.ops->now(&f.base), &s);
	clk_core_source_info(c, 0, &si);
	ck_assert_msg((si.flash & NTP_FLASH_PEER_UNREACH) && si.tally == ' ',
		      "after 4 silent polls it should be unreachable (flash 0x%x, '%c')", si.flash,
		      si.tally);
	ck_assert_msg((s.flags & CLK_F_SYNCED) && s.stratum == 1 &&
			      clk_snapshot_root_disp(&s, f.sys) > disp0,
		      "horod should hold over: synchronized, its dispersion growing");
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_noselect)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_source_info si;
	const struct who w[] = {{1, 0.0, 0}, {0, 0.003, 0}};

	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_rc(c, "PHC0", "PHC0", 1, 0);
	add_ntp(c, 2, 0, 0, 0);
	run(c, &f, 200, w, &s);
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(si.tally == ' ' && si.reach != 0 && si.last_rx != 0,
		      "a noselect source should be measured, never selected ('%c')", si.tally);
	ck_assert_msg(tally(c, 1) == '*' && s.stratum == 2,
		      "the server should be followed instead (stratum %d)", s.stratum);
	clk_core_destroy(c);

	/* Alone, a noselect source leaves us unsynchronized. */
	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_rc(c, "PHC0", "PHC0", 1, 0);
	run(c, &f, 60, w, &s);
	ck_assert_msg(s.leap == NTP_LEAP_UNSYNC, "a noselect source alone should not synchronize");
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_prefer_combines_only_preferred)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	const struct who w[] = {{0, 0.0, 0}, {0, 0.0004, 0}, {0, 0.0, 0}};

	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_ntp(c, 1, 0, 0, 0);
	add_ntp(c, 2, 1, 0, 0);
	add_ntp(c, 3, 0, 0, 0);
	run(c, &f, 400, w, &s);
	ck_assert_msg(tally(c, 1) == '*', "the preferred source should be the system peer");
	ck_assert_msg(tally(c, 0) == '-' && tally(c, 2) == '-',
		      "the others should not be combined ('-'), got '%c' '%c'", tally(c, 0),
		      tally(c, 2));
	/* Combined with the other two it would be +133 us; alone, +400 us. */
	ck_assert_msg(fabs(served_error(&s, &f) - 0.0004) < 40e-6,
		      "the served time should be the preferred source's, +400 us, got %g s",
		      served_error(&s, &f));
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_trust)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	/* Three servers agree 30 ms away from a trusted reference clock. */
	const struct who w[] = {{1, 0.0, 0}, {0, 0.030, 0}, {0, 0.030, 0}, {0, 0.030, 0}};

	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_rc(c, "SOCK0", "GPS", 0, 1);
	add_ntp(c, 1, 0, 0, 0);
	add_ntp(c, 2, 0, 0, 0);
	add_ntp(c, 3, 0, 0, 0);
	run(c, &f, 200, w, &s);
	ck_assert_msg(tally(c, 0) == '*' && tally(c, 1) == 'x' && tally(c, 2) == 'x' &&
			      tally(c, 3) == 'x',
		      "the trusted reference should outvote three servers ('%c' '%c')", tally(c, 0),
		      tally(c, 1));
	ck_assert_msg(fabs(served_error(&s, &f)) < 50e-6, "served off by %g s",
		      served_error(&s, &f));
	clk_core_destroy(c);

	/* Untrusted, the same reference clock is the falseticker. */
	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_rc(c, "SOCK0", "GPS", 0, 0);
	add_ntp(c, 1, 0, 0, 0);
	add_ntp(c, 2, 0, 0, 0);
	add_ntp(c, 3, 0, 0, 0);
	run(c, &f, 200, w, &s);
	ck_assert_msg(tally(c, 0) == 'x', "untrusted and alone against three, it is 'x' ('%c')",
		      tally(c, 0));
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_served_of_driver_time)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(0);
	struct clk_core *c;
	struct clk_snapshot s;
	const struct who w[] = {{1, 0.0, 0}};
	int64_t d;

	/* Discipline off, the driver 5 ms ahead: served = driver minus our correction. */
	fakeclk_init(&f, T0, 5 * 1000 * US, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_rc(c, "SHM0", "GPS", 0, 0);
	run(c, &f, 300, w, &s);
	ck_assert_msg(f.set_freq_calls == 0 && f.step_calls == 0, "nothing should touch the clock");
	d = f.base.ops->now(&f.base);
	ck_assert_msg(llabs(clk_core_served(c, d) - f.sys) < 20 * US,
		      "served time of driver time should be the truth, off by %lld ns",
		      (long long)(clk_core_served(c, d) - f.sys));
	ck_assert_msg(clk_core_served(NULL, d) == d, "no core: driver time as it is");
	clk_core_destroy(c);
}
END_TEST

Suite *coresel_suite(void)
{
	Suite *s = suite_create("coresel");
	TCase *tc = tcase_create("coresel");

	tcase_add_test(tc, test_refclock_primary);
	tcase_add_test(tc, test_silent_refclock_unreachable);
	tcase_add_test(tc, test_noselect);
	tcase_add_test(tc, test_prefer_combines_only_preferred);
	tcase_add_test(tc, test_trust);
	tcase_add_test(tc, test_served_of_driver_time);
	suite_add_tcase(s, tc);
	return s;
}
