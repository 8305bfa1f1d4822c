/*
 * Tests of the clock core through its API, on the fake driver with
 * crafted exchanges: the initial snapshot is unsynchronized; three
 * servers of which one lies give '*', '+' and 'x' and a snapshot with the
 * peer's stratum + 1, its configured refid and an honest bound; a large
 * offset is stepped only as makestep allows, or slewed at up to
 * CLK_MAX_SLEW_PPM on a driver that reaches it, honestly, and the slew is
 * dropped when the core goes; with discipline off no
 * setter is ever called and the snapshot carries the correction; losing
 * every source leads to LI 3 after the holdover, or to the local
 * fallback; minsources, prefer, the leap vote, the drift and bad
 * arguments; our clock stepped behind the core's back (a watch: the
 * other sources asked at once, the bound widened, then the step followed)
 * and a source stepping its own scale against one other (no majority, and
 * the bound held over contradicted: LI 3); a leap second the core makes
 * at its edge.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/core.h"
#include "clock/discipline.h"
#include "clock/snapshot.h"
#include "proto/ntp.h"
#include "tests/unit/fakeclk.h"

Suite *core_suite(void);

/* ns: a sys time in 2023 */
#define T0 1700000000000000000LL
/* ns per second */
#define S 1000000000LL
/* ns per microsecond */
#define US 1000LL
/* ns: 2017-01-01 00:00:00 UTC, the end of a day with an inserted leap second, and noon
 * of that day */
#define LEAP_END (1483228800LL * S)
#define LEAP_DAY (LEAP_END - 12 * 3600 * S)
/* "LOCL" and "INIT" as reference IDs */
#define REFID_LOCL 0x4c4f434cu
#define REFID_INIT 0x494e4954u

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

static int add_src(struct clk_core *c, int n, int prefer)
{
	struct clk_source_cfg s;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "192.0.2.%d", n);
	s.refid = 0xc0000200u + (uint32_t)n;
	s.minpoll = 4;
	s.maxpoll = 6;
	s.iburst = 1;
	s.prefer = prefer;
	return clk_core_add_source(c, &s);
}

/* Add the local reference at STRATUM (dispersion 1 ms); returns its id. */
static int add_local(struct clk_core *c, int stratum)
{
	struct clk_source_cfg s;

	memset(&s, 0, sizeof(s));
	s.kind = CLK_KIND_LOCAL;
	strcpy(s.name, "local");
	s.refid = REFID_LOCL;
	s.stratum = stratum;
	s.dispersion = 0.001;
	return clk_core_add_source(c, &s);
}

/* 1 when source ID measures (is not the local reference, which nothing polls here). */
static int measures(const struct clk_core *c, int id)
{
	return clk_core_source_kind(c, id) == CLK_KIND_NTP;
}

/*
 * One exchange with source ID whose clock is LIE seconds off the truth
 * (sys time is the truth), 200 us each way, leap LEAP; sys advances.
 */
static void exchange(struct clk_core *c, struct fakeclk *f, int id, double lie, int leap)
{
	struct clk_meas m;
	int64_t rec;

	memset(&m, 0, sizeof(m));
	m.t1 = f->base.ops->now(&f->base);
	clk_core_poll_sent(c, id, m.t1);
	fakeclk_set(f, f->sys + 200 * US);
	rec = f->sys + (int64_t)llround(lie * 1e9);
	m.leap = leap;
	m.stratum = 1;
	m.precision = -20;
	m.root_disp = 1e-4;
	m.refid = ntp_refid_ascii("GPS");
	m.t2 = rec;
	m.t3 = rec + 10 * US;
	fakeclk_set(f, f->sys + 210 * US);
	m.t4 = f->base.ops->now(&f->base);
	clk_core_sample(c, id, &m);
}

/* Run the core for SECONDS of sys time: every source polled when due, updated each second. */
static void run(struct clk_core *c, struct fakeclk *f, double seconds, const double *lies, int leap,
		struct clk_snapshot *snap)
{
	int64_t end = f->sys + (int64_t)(seconds * 1e9);
	int i;

	while (f->sys < end) {
		for (i = 0; i < clk_core_n_sources(c); i++)
			if (measures(c, i) &&
			    clk_core_next_poll(c, i) <= f->base.ops->now(&f->base))
				exchange(c, f, i, lies ? lies[i] : 0.0, leap);
		clk_core_update(c, f->base.ops->now(&f->base), snap);
		fakeclk_set(f, f->sys + S);
	}
}

/* The served time's error (s) and whether the snapshot's bound covers it. */
static double served_error(const struct clk_snapshot *s, int64_t sys, int *honest)
{
	int64_t served = clk_snapshot_served(s, sys);
	double err = (double)(served - sys) / 1e9;

	*honest = fabs(err) <= s->root_delay / 2.0 + clk_snapshot_root_disp(s, served) + 1e-9;
	return err;
}

START_TEST(test_initial_unsynced)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_tracking tr;
	double fr = -1, sk = -1;

	fakeclk_init(&f, T0, 0, 0.0);
	cfg.init_freq_ppm = 12.5;
	c = clk_core_create(&cfg, &f.base);
	ck_assert_msg(c != NULL, "create should succeed");
	ck_assert_msg(f.set_freq_calls == 1 && fabs(f.last_ppm - 12.5) < 1e-9,
		      "a disciplining core should set the initial frequency");
	add_src(c, 1, 0);
	clk_core_update(c, f.base.ops->now(&f.base), &s);
	ck_assert_msg(s.leap == NTP_LEAP_UNSYNC && s.stratum == 16 && !(s.flags & CLK_F_SYNCED),
		      "before any sample the snapshot should be unsynchronized");
	ck_assert_msg(s.refid == REFID_INIT, "the refid should be INIT, got %#x", s.refid);
	ck_assert_msg(s.precision == -20, "precision should come from the config");
	clk_core_tracking(c, f.base.ops->now(&f.base), &tr);
	ck_assert_msg(tr.sys_peer == -1 && tr.updates == 0 && !tr.synced, "tracking: nothing yet");
	ck_assert_msg(clk_core_drift(c, &fr, &sk) == 0 && fr == 0.0 && sk == 0.0,
		      "no drift should be known yet");
	ck_assert_msg(f.tick_calls == 1, "update should tick the driver");
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_falseticker_marked)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_source_info si[3];
	double lies[3] = {0.0, 0.5, 0.0}, err;
	int i, honest, stars = 0;

	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	for (i = 0; i < 3; i++)
		add_src(c, i + 1, 0);
	run(c, &f, 120, lies, NTP_LEAP_NONE, &s);
	for (i = 0; i < 3; i++) {
		ck_assert_msg(clk_core_source_info(c, i, &si[i]) == 0, "source %d should exist", i);
		stars += si[i].tally == '*';
	}
	ck_assert_msg(si[1].tally == 'x', "the liar should be a falseticker 'x', is '%c'",
		      si[1].tally);
	ck_assert_msg(stars == 1 && (si[0].tally == '*' || si[2].tally == '*'),
		      "one good source should be the system peer");
	ck_assert_msg(si[0].tally != ' ' && si[2].tally != ' ' && si[0].reach && si[0].flash == 0,
		      "the good sources should be reachable candidates");
	ck_assert_msg((s.flags & CLK_F_SYNCED) && s.leap == NTP_LEAP_NONE && s.stratum == 2,
		      "the core should be synchronized at stratum 2 (got %u, leap %u)", s.stratum,
		      s.leap);
	ck_assert_msg(s.refid == (si[0].tally == '*' ? 0xc0000201u : 0xc0000203u),
		      "the refid should be the system peer's configured one, got %#x", s.refid);
	ck_assert_msg(s.root_delay >= 399e-6, "root delay should include the path, got %g",
		      s.root_delay);
	ck_assert_msg(fabs(s.disp_rate - CLK_PHI) < 1e-6, "dispersion should grow near PHI");
	err = served_error(&s, f.sys, &honest);
	ck_assert_msg(honest && fabs(err) < 1e-4,
		      "the served time should be right (%g) and the "
		      "bound honest",
		      err);
	ck_assert_msg(f.step_calls == 0, "no step for a clock already right");
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_makestep)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_tracking tr;
	int honest;

	/* Our clock 5 s behind: makestep 1.0 3 steps it forward. */
	fakeclk_init(&f, T0, -5 * S, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	run(c, &f, 60, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg(f.step_calls == 1 && llabs(f.last_step - 5 * S) < 1000000,
		      "one step of +5 s should be made (calls %d, step %lld)", f.step_calls,
		      (long long)f.last_step);
	clk_core_tracking(c, f.base.ops->now(&f.base), &tr);
	ck_assert_msg(tr.steps == 1, "tracking should count the step");
	ck_assert_msg(fabs(served_error(&s, f.sys, &honest)) < 1e-3 && honest,
		      "after the step the clock should be right, the bound honest");
	clk_core_destroy(c);

	/* The same without makestep: slews, never steps, honest all the way. */
	fakeclk_init(&f, T0, -5 * S, 0.0);
	cfg.makestep_limit = 0;
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	run(c, &f, 600, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg(f.step_calls == 0, "makestep limit 0 should never step");
	ck_assert_msg(fabs(f.last_ppm - 500.0) < 1e-6,
		      "a 5 s offset should slew at 500 ppm, "
		      "at %g",
		      f.last_ppm);
	ck_assert_msg(served_error(&s, f.sys, &honest) > -5.0 + 0.25 && honest,
		      "600 s of slewing should have gained 0.25 s+, honestly");
	ck_assert_msg(s.leap == NTP_LEAP_UNSYNC, "5 s off is beyond maxdistance: unsynchronized");
	clk_core_destroy(c);
}
END_TEST

/* A 5 s offset, no makestep, on a driver that reaches 10 %: slewed at the
 * ceiling in about a minute, the bound honest each second, then synchronized;
 * destroying the core leaves the driver at the estimated frequency. */
START_TEST(test_fast_slew)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	double most = 0.0, err = 0.0;
	int honest, all_honest = 1, t;

	fakeclk_init(&f, T0, -5 * S, 0.0);
	f.base.max_ppm = 100000.0;
	cfg.makestep_limit = 0;
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	for (t = 0; t < 200; t++) {
		run(c, &f, 1, NULL, NTP_LEAP_NONE, &s);
		most = fmax(most, fabs(f.last_ppm));
		err = served_error(&s, f.sys, &honest);
		if (s.leap != NTP_LEAP_UNSYNC)
			all_honest &= honest;
		if (t == 30)
			ck_assert_msg(err > -5.0 + 1.5,
				      "30 s at the ceiling should have gained 1.5 s+, error %g s",
				      err);
	}
	ck_assert_msg(f.step_calls == 0, "makestep limit 0 should never step");
	ck_assert_msg(most > 0.99 * CLK_MAX_SLEW_PPM && most <= CLK_MAX_SLEW_PPM + 1e-6,
		      "the slew should reach the ceiling and stay within it, most %g ppm", most);
	ck_assert_msg(fabs(err) < 1e-3 && s.leap != NTP_LEAP_UNSYNC && all_honest,
		      "after 200 s the clock should be right, synchronized, the bound honest "
		      "throughout (error %g s)",
		      err);
	clk_core_destroy(c);

	/* Mid-slew, destroying the core drops the slew. */
	fakeclk_init(&f, T0, -5 * S, 0.0);
	f.base.max_ppm = 100000.0;
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	run(c, &f, 20, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg(fabs(f.last_ppm) > 1000.0, "20 s in, the core should be slewing");
	clk_core_destroy(c);
	ck_assert_msg(fabs(f.last_ppm) < 10.0,
		      "destroying the core should drop the slew, left %g ppm", f.last_ppm);
}
END_TEST

START_TEST(test_discipline_off)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(0);
	struct clk_core *c;
	struct clk_snapshot s;
	int honest;
	double err;

	/* The raw clock is 0.3 s ahead and 20 ppm fast; nobody may touch it. */
	fakeclk_init(&f, T0, 300000000, 20e-6);
	cfg.init_freq_ppm = 3.0;
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	run(c, &f, 900, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg(f.set_freq_calls == 0 && f.step_calls == 0 && f.status_calls == 0,
		      "discipline off should never call a setter");
	ck_assert_msg(s.flags & CLK_F_CORRECTED, "the snapshot should say it is corrected");
	err = served_error(&s, f.sys, &honest);
	ck_assert_msg(honest, "the bound should be honest");
	ck_assert_msg(fabs(err) < 300e-3, "the correction should be under way, error %g", err);
	clk_core_destroy(c);

	/* With makestep the correction itself steps: right at once. */
	fakeclk_init(&f, T0, 3 * S, 20e-6);
	cfg.init_freq_ppm = 0.0;
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	run(c, &f, 300, NULL, NTP_LEAP_NONE, &s);
	err = served_error(&s, f.sys, &honest);
	ck_assert_msg(fabs(err) < 1e-3 && honest && f.step_calls == 0,
		      "a stepped correction should serve the right time (%g) without a setter",
		      err);
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_holdover_and_local)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	double d1, d2;
	int honest, i;

	for (i = 0; i < 2; i++) {
		fakeclk_init(&f, T0, 0, 0.0);
		c = clk_core_create(&cfg, &f.base);
		add_src(c, 1, 0);
		if (i)
			add_local(c, 9);
		run(c, &f, 300, NULL, NTP_LEAP_NONE, &s);
		ck_assert_msg(s.flags & CLK_F_SYNCED && s.stratum == 2, "synchronized first");
		/* The source goes silent: keep updating without exchanges. */
		clk_core_update(c, f.base.ops->now(&f.base), &s);
		d1 = clk_snapshot_root_disp(&s, clk_snapshot_served(&s, f.sys));
		fakeclk_set(&f, f.sys + 100 * S);
		clk_core_update(c, f.base.ops->now(&f.base), &s);
		d2 = clk_snapshot_root_disp(&s, clk_snapshot_served(&s, f.sys));
		ck_assert_msg(d2 - d1 >= 100 * CLK_PHI - 1e-9,
			      "dispersion should grow >= 15 ppm/s in holdover (%g in 100 s)",
			      d2 - d1);
		fakeclk_set(&f, f.sys + (int64_t)(cfg.holdover * 1e9));
		clk_core_update(c, f.base.ops->now(&f.base), &s);
		served_error(&s, f.sys, &honest);
		if (!i) {
			ck_assert_msg(s.leap == NTP_LEAP_UNSYNC && s.stratum == 16,
				      "after the holdover: LI 3, stratum 16");
		} else {
			ck_assert_msg(
				s.leap == NTP_LEAP_NONE && s.stratum == 9 &&
					s.refid == REFID_LOCL && honest,
				"after the holdover: the local fallback at stratum 9, honest");
		}
		clk_core_destroy(c);
	}
}
END_TEST

/* The local reference beside a server: fallback only, and only once the server had its chance;
 * its own word (a vouching measurement) does not count in a core that measures. */
START_TEST(test_local_fallback)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_source_info si;
	struct clk_meas m;
	double age;
	int i, lid;

	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	lid = add_local(c, 9);
	ck_assert_msg(lid == 1 && add_local(c, 8) == -1, "one local reference, after the server");
	ck_assert_msg(clk_core_n_sources(c) == 2 && clk_core_source_info(c, lid, &si) == 0 &&
			      si.kind == CLK_KIND_LOCAL &&
			      clk_core_source_kind(c, lid) == CLK_KIND_LOCAL &&
			      clk_core_source_kind(c, 0) == CLK_KIND_NTP &&
			      clk_core_source_kind(c, 2) == -1,
		      "the local reference should be a source of its kind");
	clk_core_update(c, f.base.ops->now(&f.base), &s);
	ck_assert_msg(s.leap == NTP_LEAP_UNSYNC && s.stratum == 16,
		      "while the server starts, the local reference should wait");

	/* The server stays silent for three polls: its chance is over. */
	for (i = 0; i < 3; i++) {
		clk_core_poll_sent(c, 0, f.base.ops->now(&f.base));
		fakeclk_set(&f, f.sys + 2 * S);
	}
	/* The local reference's own word, which does not count beside a server. */
	memset(&m, 0, sizeof(m));
	m.t1 = m.t2 = m.t3 = m.t4 = f.base.ops->now(&f.base);
	m.leap = NTP_LEAP_INSERT;
	m.stratum = 8;
	m.precision = -20;
	m.root_disp = 0.0005;
	clk_core_poll_sent(c, lid, m.t1);
	clk_core_sample(c, lid, &m);
	clk_core_update(c, f.base.ops->now(&f.base), &s);
	age = (double)(f.sys - T0) / 1e9;
	ck_assert_msg((s.flags & CLK_F_SYNCED) && s.stratum == 9 && s.refid == REFID_LOCL &&
			      s.leap == NTP_LEAP_NONE && !(s.flags & CLK_F_KERNEL_SYNC),
		      "then the local reference at stratum 9, its own word ignored");
	ck_assert_msg(s.ref_ns == T0, "its reference time should be the start");
	ck_assert_msg(fabs(s.disp_rate - (CLK_PHI + 500e-6)) < 1e-12,
		      "with a server, an unknown frequency error grows too, rate %g", s.disp_rate);
	ck_assert_msg(fabs(s.root_disp - (0.001 + s.disp_rate * age)) < 1e-9,
		      "dispersion should be 1 ms grown since the start, got %g", s.root_disp);

	/* The server answers: it is served, the local reference is no candidate. */
	run(c, &f, 60, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg((s.flags & CLK_F_SYNCED) && s.stratum == 2 && s.refid == 0xc0000201u,
		      "the server should be served once it answers");
	clk_core_source_info(c, lid, &si);
	ck_assert_msg(si.tally == ' ', "the local reference is never selected, tally '%c'",
		      si.tally);
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(si.tally == '*', "the server should be the system peer");
	clk_core_destroy(c);
}
END_TEST

/* The local reference alone: a core that measures nothing corrects nothing. */
START_TEST(test_local_alone)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(0);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_tracking tr;
	int t;

	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_local(c, 7);
	for (t = 0; t < 100; t++) {
		clk_core_update(c, f.base.ops->now(&f.base), &s);
		fakeclk_set(&f, f.sys + S);
	}
	ck_assert_msg((s.flags == CLK_F_SYNCED) && s.stratum == 7 && s.refid == REFID_LOCL,
		      "the local reference at once, flags %#x", s.flags);
	ck_assert_msg(s.disp_rate == CLK_PHI && s.corr_ns == 0 && s.corr_freq == 0.0,
		      "no correction and growth at PHI alone");
	clk_core_tracking(c, f.base.ops->now(&f.base), &tr);
	ck_assert_msg(tr.offset == 0.0 && tr.freq_ppm == 0.0 && tr.skew_ppm == 0.0 &&
			      tr.rms_offset == 0.0 && tr.updates == 0 && tr.sys_peer == -1 &&
			      !tr.synced && tr.stratum == 7 && tr.refid == REFID_LOCL,
		      "tracking should show nothing measured and the local reference served");
	ck_assert_msg(f.set_freq_calls == 0 && f.step_calls == 0 && f.status_calls == 0,
		      "nothing should touch the clock");
	clk_core_destroy(c);
}
END_TEST

START_TEST(test_minsources_prefer_leap)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_source_info si;

	fakeclk_init(&f, T0, 0, 0.0);
	cfg.minsources = 2;
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	run(c, &f, 60, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg(s.leap == NTP_LEAP_UNSYNC, "one source should not satisfy minsources 2");
	clk_core_destroy(c);

	fakeclk_init(&f, T0, 0, 0.0);
	cfg.minsources = 1;
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	add_src(c, 2, 1);
	add_src(c, 3, 0);
	run(c, &f, 60, NULL, NTP_LEAP_INSERT, &s);
	clk_core_source_info(c, 1, &si);
	ck_assert_msg(si.tally == '*', "the preferred source should be the system peer");
	ck_assert_msg(s.refid == 0xc0000202u, "the refid should be the preferred source's");
	/* In November: the bits can only mean the end of the month, which has no leap. */
	ck_assert_msg(s.leap == NTP_LEAP_NONE && f.leap == NTP_LEAP_NONE,
		      "leap bits outside June and December should be ignored");
	ck_assert_msg(f.synced == 1 && f.maxerror > 0.0 && f.maxerror < 0.1,
		      "the driver should hear synchronized with a small error bound");
	clk_core_destroy(c);

	/* The last day of December 2016: announced and armed. */
	fakeclk_init(&f, LEAP_DAY, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	add_src(c, 2, 0);
	add_src(c, 3, 0);
	run(c, &f, 60, NULL, NTP_LEAP_INSERT, &s);
	ck_assert_msg(s.leap == NTP_LEAP_INSERT && f.leap == NTP_LEAP_INSERT,
		      "a unanimous leap insert on its last day should be served and told to the "
		      "driver");
	ck_assert_msg(clk_core_next_event(c) == LEAP_END,
		      "the core should ask to run at the leap's edge (23:59:60)");
	clk_core_destroy(c);
}
END_TEST

/* A leap table of the leaps ending at 2015-07-01 and, with INS_2016, 2017-01-01, valid
 * until EXPIRES (Unix s). */
static void leaptab(struct ntp_leaptab *t, int ins_2016, int64_t expires)
{
	memset(t, 0, sizeof(*t));
	t->e[t->n].utc_s = 1435708800LL; /* 2015-07-01 */
	t->e[t->n++].tai_utc = 36;
	if (ins_2016) {
		t->e[t->n].utc_s = LEAP_END / S;
		t->e[t->n++].tai_utc = 37;
	}
	t->expires_s = expires;
	t->src = NTP_LEAPTAB_LIST;
}

/* The last day of 2016 with three sources sending LEAP and table T (NULL: none); into S. */
static void leap_day(const struct ntp_leaptab *t, int leap, struct fakeclk *f,
		     struct clk_snapshot *s)
{
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;

	fakeclk_init(f, LEAP_DAY, 0, 0.0);
	c = clk_core_create(&cfg, &f->base);
	clk_core_set_leaptab(c, t);
	add_src(c, 1, 0);
	add_src(c, 2, 0);
	add_src(c, 3, 0);
	run(c, f, 60, NULL, leap, s);
	clk_core_destroy(c);
}

/*
 * A leap table within its expiry is the authority (issue 16): it
 * announces and arms the leap none of the sources announce, and it
 * overrules sources announcing a leap it does not list; expired, it
 * says nothing and the sources decide again.
 */
START_TEST(test_leap_table)
{
	struct ntp_leaptab t;
	struct fakeclk f;
	struct clk_snapshot s;
	const int64_t later = LEAP_END / S + 30 * 86400, before = LEAP_DAY / S - 1;

	leaptab(&t, 1, later);
	leap_day(&t, NTP_LEAP_NONE, &f, &s);
	ck_assert_msg(s.leap == NTP_LEAP_INSERT && f.leap == NTP_LEAP_INSERT,
		      "a valid table should announce and arm its leap on the last day, sources "
		      "silent (served %u, driver %d)",
		      s.leap, f.leap);
	leaptab(&t, 0, later);
	leap_day(&t, NTP_LEAP_INSERT, &f, &s);
	ck_assert_msg(s.leap == NTP_LEAP_NONE && f.leap == NTP_LEAP_NONE,
		      "sources' bits a valid table contradicts should be ignored (served %u)",
		      s.leap);
	leaptab(&t, 1, before);
	leap_day(&t, NTP_LEAP_NONE, &f, &s);
	ck_assert_msg(s.leap == NTP_LEAP_NONE && f.leap == NTP_LEAP_NONE,
		      "an expired table should give no authority (served %u)", s.leap);
	leaptab(&t, 0, before);
	leap_day(&t, NTP_LEAP_INSERT, &f, &s);
	ck_assert_msg(s.leap == NTP_LEAP_INSERT,
		      "with an expired table the sources' majority should decide (served %u)",
		      s.leap);
}
END_TEST

/*
 * leapsecmode smear (issue 16): sources exact, discipline off (served =
 * clock + the core's correction), a leap table listing the insertion (or
 * deletion) at LEAP_END, a 2 h smear. At every 0.25 s, between and at
 * the publications, the served time is within 1 us of the formula (the
 * leap-free time plus clk_smear_offset_ns), never goes backwards, and LI
 * is never set; the driver is never armed; at the end it is UTC.
 */
static void smear_run(int dir)
{
	struct clk_core_cfg cfg = core_cfg(0);
	const int64_t smear_s = 7200, m = LEAP_END / S;
	struct ntp_leap l = {.utc_s = m, .dir = dir};
	struct ntp_leaptab t;
	struct clk_smear sm;
	struct fakeclk f;
	struct clk_core *c;
	struct clk_snapshot snap;
	int64_t leap_t = dir > 0 ? LEAP_END : LEAP_END - S; /* sys (leap-free) ns UTC leaps */
	int64_t end, prev = 0, worst = 0, want, served, q, next, ev;
	int i, li = 0, back = 0;

	leaptab(&t, 1, m + 86400);
	t.e[1].tai_utc = 36 + dir;
	ck_assert(clk_smear_init(&sm, &l, smear_s) == 0);
	fakeclk_init(&f, sm.start_ns - 600 * S, 0, 0.0);
	cfg.leapmode = CLK_LEAPMODE_SMEAR;
	cfg.smear_s = smear_s;
	c = clk_core_create(&cfg, &f.base);
	clk_core_set_leaptab(c, &t);
	for (i = 0; i < 3; i++)
		add_src(c, i + 1, 0);
	end = sm.end_ns + 600 * S;
	while (f.sys < end) {
		for (i = 0; i < 3; i++)
			if (clk_core_next_poll(c, i) <= f.base.ops->now(&f.base))
				exchange(c, &f, i, f.sys >= leap_t ? -dir : 0.0, NTP_LEAP_NONE);
		clk_core_update(c, f.base.ops->now(&f.base), &snap);
		li |= snap.leap == NTP_LEAP_INSERT || snap.leap == NTP_LEAP_DELETE;
		/* The clock thread runs again in a second, or at the core's own event (the
		 * leap's edge, the smear's start and end), as clockd does. */
		next = f.sys + S;
		ev = clk_core_next_event(c);
		if (ev > f.base.ops->now(&f.base) && ev - f.base.ops->now(&f.base) < S)
			next = f.sys + (ev - f.base.ops->now(&f.base));
		/* Reads from this snapshot every 0.25 s until then, the first at once. */
		for (q = 0; f.sys + q * (S / 4) < next; q++) {
			int64_t sys = f.sys + q * (S / 4);

			served = clk_snapshot_served(&snap, sys);
			want = sys + clk_smear_offset_ns(&sm, sys);
			if (getenv("SMEAR_DEBUG") && llabs(served - want) > 100)
				fprintf(stderr, "at %+.4f s: %lld\n", (double)(sys - leap_t) / 1e9,
					(long long)(served - want));
			if (f.sys > sm.start_ns - 300 * S && llabs(served - want) > worst)
				worst = llabs(served - want);
			back += prev && served < prev;
			prev = served;
		}
		fakeclk_set(&f, next);
	}
	ck_assert_msg(worst <= 1000,
		      "dir %d: the served time should stay within 1 us of the smear "
		      "formula, worst %lld ns",
		      dir, (long long)worst);
	if (getenv("SMEAR_DEBUG")) /* the number README quotes */
		fprintf(stderr, "smear dir %+d: worst |served - formula| %lld ns\n", dir,
			(long long)worst);
	ck_assert_msg(back == 0, "dir %d: the smeared time went backwards %d times", dir, back);
	ck_assert_msg(!li && f.leap == NTP_LEAP_NONE,
		      "dir %d: a smearing server never announces the leap (LI seen %d, driver %d)",
		      dir, li, f.leap);
	served = clk_snapshot_served(&snap, f.sys);
	ck_assert_msg(llabs(served - (f.sys - dir * S)) < 1000,
		      "dir %d: after the smear the served time is UTC (off by %lld ns)", dir,
		      (long long)(served - (f.sys - dir * S)));
	clk_core_destroy(c);
}

START_TEST(test_leap_smear)
{
	smear_run(1);
	smear_run(-1);
}
END_TEST

/* What a worker sees at the step of test_leap_fence. */
struct fence_view {
	struct clk_pub pub;    /* what the workers read */
	struct clk_smear sm;   /* the served time's formula (smear or slew) */
	int use_fence;	       /* 0: no leap_fence hook (the gap) */
	int fences, steps;     /* hook calls */
	int synced_at_step;    /* synchronized snapshots read right after the step */
	int64_t worst_at_step; /* ns: their worst |served - formula| */
	/* A worker that read its snapshot just before the fence and was preempted past the
	 * step, and a request the kernel stamped then and a worker answers after it. */
	struct clk_snapshot early; /* the snapshot that worker read */
	int64_t early_rx;	   /* ns: the clock then (the request's receive stamp) */
	int64_t early_sys;	   /* ns: the truth then (leap-free) */
	int late_ok, late_off;	   /* after the step: refused (clk_snapshot_maps 0), or served
				      within 1 ms of the formula / more than that off */
	int queued_ok, queued_off; /* the same for the request stamped before the step */
};

/* A worker's verdict on snapshot S with receive stamp RX and its clock read TX: refused by
 * clk_snapshot_maps (1), served within 1 ms of WANT_RX and WANT_TX (1), or off (0). */
static int fence_answer(const struct clk_pub *p, const struct clk_snapshot *s, int64_t rx,
			int64_t tx, int64_t want_rx, int64_t want_tx)
{
	if (!clk_snapshot_maps(p, s, rx, tx))
		return 1;
	return llabs(clk_snapshot_served(s, rx) - want_rx) < 1000 * US &&
	       llabs(clk_snapshot_served(s, tx) - want_tx) < 1000 * US;
}

/* The core's leap_fence: as clockd (clk_pub_fence), the last snapshot republished
 * unsynchronized and the step counted. */
static void fence_publish(void *arg)
{
	struct fence_view *v = arg;
	struct clk_snapshot s;

	clk_pub_fence(&v->pub, &s);
	v->fences++;
}

/* Right after the fake kernel clock stepped: a worker reads the snapshot and the clock. */
static void fence_worker(struct fakeclk *f, void *arg)
{
	struct fence_view *v = arg;
	struct clk_snapshot s;
	int64_t served, want;

	v->steps++;
	/* The worker preempted since just before the fence reads the clock now. */
	if (fence_answer(&v->pub, &v->early, v->early_rx, f->base.ops->now(&f->base),
			 v->early_sys + clk_smear_offset_ns(&v->sm, v->early_sys),
			 f->sys + clk_smear_offset_ns(&v->sm, f->sys)))
		v->late_ok++;
	else
		v->late_off++;
	clk_snapshot_read(&v->pub, &s);
	if (s.leap == NTP_LEAP_UNSYNC)
		return; /* the client takes no time from it */
	served = clk_snapshot_served(&s, f->base.ops->now(&f->base));
	want = f->sys + clk_smear_offset_ns(&v->sm, f->sys);
	v->synced_at_step++;
	if (llabs(served - want) > v->worst_at_step)
		v->worst_at_step = llabs(served - want);
}

/*
 * Discipline on, a kernel-like clock (the workers read the clock the core
 * steps), leapsecmode MODE (smear over 600 s, or slew) through the leap
 * DIR: the core steps the clock at the edge while the published snapshot
 * still maps the clock before the step. V->use_fence 1: the core calls
 * leap_fence first, as clockd has it; V gets what a worker read just
 * after the step. Returns the worst |served - formula| (ns) of the
 * snapshots published after the edge.
 */
static int64_t fence_run(int mode, int dir, struct fence_view *v)
{
	struct clk_core_cfg cfg = core_cfg(1);
	const int64_t m = LEAP_END / S;
	struct ntp_leap l = {.utc_s = m, .dir = dir};
	struct ntp_leaptab t;
	struct fakeclk f;
	struct clk_core *c;
	struct clk_snapshot snap, s2;
	int64_t leap_t = dir > 0 ? LEAP_END : LEAP_END - S, next, ev, worst = 0, now;
	int64_t step_sys = 0;
	int i;

	leaptab(&t, 1, m + 86400);
	t.e[1].tai_utc = 36 + dir;
	if (mode == CLK_LEAPMODE_SMEAR)
		ck_assert(clk_smear_init(&v->sm, &l, 600) == 0);
	else
		ck_assert(clk_slew_init(&v->sm, &l) == 0);
	clk_pub_init(&v->pub);
	fakeclk_init(&f, leap_t - 900 * S, 0, 0.0);
	f.kernel = 1;
	f.on_step = fence_worker;
	f.on_step_arg = v;
	cfg.leapmode = mode;
	cfg.smear_s = 600;
	if (v->use_fence) {
		cfg.leap_fence = fence_publish;
		cfg.leap_fence_arg = v;
	}
	c = clk_core_create(&cfg, &f.base);
	clk_core_set_leaptab(c, &t);
	for (i = 0; i < 3; i++)
		add_src(c, i + 1, 0);
	while (f.sys < leap_t + 60 * S) {
		for (i = 0; i < 3; i++)
			if (clk_core_next_poll(c, i) <= f.base.ops->now(&f.base))
				exchange(c, &f, i, f.sys >= leap_t ? -dir : 0.0, NTP_LEAP_NONE);
		/* Just before the update that steps at the edge: a worker reads the snapshot,
		 * and a request is stamped. */
		clk_snapshot_read(&v->pub, &v->early);
		v->early_rx = f.base.ops->now(&f.base);
		v->early_sys = f.sys;
		i = v->steps;
		clk_core_update(c, f.base.ops->now(&f.base), &snap);
		/* As clockd: the first snapshots after the step carry the clock just after it. */
		if (v->steps != i)
			step_sys = f.base.ops->now(&f.base);
		snap.step_sys = step_sys;
		clk_snapshot_publish(&v->pub, &snap);
		now = f.base.ops->now(&f.base);
		/* The request stamped before the step, answered by a worker after it. */
		if (v->steps != i) {
			clk_snapshot_read(&v->pub, &s2);
			if (fence_answer(&v->pub, &s2, v->early_rx, now,
					 v->early_sys + clk_smear_offset_ns(&v->sm, v->early_sys),
					 f.sys + clk_smear_offset_ns(&v->sm, f.sys)))
				v->queued_ok++;
			else
				v->queued_off++;
		}
		if (f.sys > leap_t && llabs(clk_snapshot_served(&snap, now) -
					    (f.sys + clk_smear_offset_ns(&v->sm, f.sys))) > worst)
			worst = llabs(clk_snapshot_served(&snap, now) -
				      (f.sys + clk_smear_offset_ns(&v->sm, f.sys)));
		next = f.sys + S;
		ev = clk_core_next_event(c);
		if (ev > now && ev - now < S)
			next = f.sys + (ev - now);
		fakeclk_set(&f, next);
	}
	clk_core_destroy(c);
	return worst;
}

/*
 * The gap at a leap step with discipline on: the core steps the clock and
 * republishes; a request served in between mapped the stepped clock with
 * the last snapshot, 1 s off. With the fence (the core calls leap_fence
 * before the step) a worker reading just after the step finds an
 * unsynchronized snapshot and serves no time. Without it (the check that
 * the test can fail) it finds the old one, 1 s off.
 */
START_TEST(test_leap_fence)
{
	static const int modes[] = {CLK_LEAPMODE_SMEAR, CLK_LEAPMODE_SLEW};
	struct fence_view v;
	int64_t after;
	int k, dir;

	for (k = 0; k < 2; k++)
		for (dir = -1; dir <= 1; dir += 2) {
			memset(&v, 0, sizeof(v));
			fence_run(modes[k], dir, &v);
			ck_assert_msg(v.steps == 1 && v.synced_at_step == 1 &&
					      v.worst_at_step > S / 2,
				      "mode %d dir %d, no fence: the step should be seen once "
				      "through the old snapshot, 1 s off (steps %d, synced %d, "
				      "off %lld ns)",
				      modes[k], dir, v.steps, v.synced_at_step,
				      (long long)v.worst_at_step);
			memset(&v, 0, sizeof(v));
			v.use_fence = 1;
			after = fence_run(modes[k], dir, &v);
			ck_assert_msg(v.fences == 1 && v.steps == 1 && v.synced_at_step == 0,
				      "mode %d dir %d: a worker right after the step should find "
				      "the fence (fences %d, steps %d, synchronized %d, off %lld "
				      "ns)",
				      modes[k], dir, v.fences, v.steps, v.synced_at_step,
				      (long long)v.worst_at_step);
			ck_assert_msg(v.late_ok == 1 && v.late_off == 0,
				      "mode %d dir %d: a worker that read the snapshot before the "
				      "fence and the clock after the step should serve no time "
				      "from it (clk_snapshot_maps), or the right one",
				      modes[k], dir);
			ck_assert_msg(v.queued_ok == 1 && v.queued_off == 0,
				      "mode %d dir %d: a request stamped before the step and "
				      "answered after it should get no time, or the right one",
				      modes[k], dir);
			ck_assert_msg(after < 1000,
				      "mode %d dir %d: the snapshots after the edge should follow "
				      "the formula (worst %lld ns)",
				      modes[k], dir, (long long)after);
		}
}
END_TEST

START_TEST(test_drift_and_args)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_source_info si;
	struct clk_tracking tr;
	double fr, sk;

	fakeclk_init(&f, T0, 0, 40e-6);
	cfg.init_freq_ppm = -35.0;
	cfg.init_skew_ppm = 0.2;
	c = clk_core_create(&cfg, &f.base);
	ck_assert_msg(clk_core_drift(c, &fr, &sk) == 1 && fr == -35.0 && fabs(sk - 0.2) < 1e-12,
		      "a driftfile value should be known at once");
	add_src(c, 1, 0);
	run(c, &f, 1800, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg(clk_core_drift(c, &fr, &sk) == 1 && fabs(fr + 40.0) < 0.05,
		      "the measured frequency should be -40 ppm, got %g", fr);
	clk_core_tracking(c, f.base.ops->now(&f.base), &tr);
	ck_assert_msg(tr.synced && tr.updates > 10 && tr.sys_peer == 0 &&
			      fabs(tr.freq_ppm + 40.0) < 0.05,
		      "tracking should show the updates and the frequency");
	/* Bad arguments change nothing and crash nothing. */
	ck_assert_msg(clk_core_source_info(c, 1, &si) == -1 &&
			      clk_core_source_info(c, -1, &si) == -1,
		      "unknown sources should be refused");
	ck_assert_msg(clk_core_next_poll(c, 5) == INT64_MAX, "an unknown source is never due");
	clk_core_sample(c, 9, NULL);
	clk_core_sample(c, 0, NULL);
	clk_core_poll_sent(c, -2, 0);
	clk_core_refused(c, 3);
	clk_core_slow_down(c, -1, 0);
	clk_core_reject(c, 1, NTP_FLASH_DUP);
	clk_core_source_addr(c, 7, 1);
	ck_assert_msg(clk_core_n_sources(c) == 1, "still one source");
	/* A new address restarts the source. */
	clk_core_source_addr(c, 0, 0xc0000299u);
	clk_core_source_info(c, 0, &si);
	ck_assert_msg(si.reach == 0 && si.last_rx == 0, "a new address should reset the source");
	clk_core_destroy(c);
	ck_assert_msg(clk_core_create(NULL, &f.base) == NULL, "no config, no core");
}
END_TEST

/* Step the fake clock by OFF ns behind the core's back (date -s). */
static void jump_clock(struct fakeclk *f, int64_t off)
{
	f->off += off;
}

/*
 * Three good sources; our clock jumps +0.5 s. The first sample after it
 * opens a watch: the other two are due at once, the clock holds still,
 * the bound covers the jump; their samples close the watch, every source
 * having started again, and the error is slewed away, the bound honest
 * at every update from the first sample on.
 */
START_TEST(test_step_watch)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_tracking tr;
	int64_t now;
	double err;
	int i, k, honest;

	fakeclk_init(&f, T0, 0, 0.0);
	f.base.max_ppm = 100000.0; /* slews at up to 8 %, as the kernel driver does */
	c = clk_core_create(&cfg, &f.base);
	for (i = 0; i < 3; i++)
		add_src(c, i + 1, 0);
	run(c, &f, 600, NULL, NTP_LEAP_NONE, &s);
	err = served_error(&s, f.sys, &honest);
	ck_assert_msg(honest && fabs(err) < 1e-4, "the core should be synchronized first");
	jump_clock(&f, S / 2);
	exchange(c, &f, 0, 0.0, NTP_LEAP_NONE);
	now = f.base.ops->now(&f.base);
	clk_core_update(c, now, &s);
	clk_core_tracking(c, now, &tr);
	ck_assert_msg(tr.watching == 1 && tr.steps_seen == 1, "the step should open a watch");
	ck_assert_msg(clk_core_next_poll(c, 1) <= now && clk_core_next_poll(c, 2) <= now,
		      "the other sources should be due at once");
	err = served_error(&s, f.sys, &honest);
	ck_assert_msg(honest && fabs(err - 0.5) < 1e-3,
		      "the bound should cover the jump (error %g s, bound %g s)", err,
		      s.root_delay / 2 + s.root_disp);
	exchange(c, &f, 1, 0.0, NTP_LEAP_NONE);
	exchange(c, &f, 2, 0.0, NTP_LEAP_NONE);
	now = f.base.ops->now(&f.base);
	clk_core_update(c, now, &s);
	clk_core_tracking(c, now, &tr);
	ck_assert_msg(tr.watching == 0 && tr.steps_seen == 3,
		      "every source should have seen the step and the watch closed");
	for (k = 0; k < 300; k++) {
		fakeclk_set(&f, f.sys + S);
		for (i = 0; i < 3; i++)
			if (clk_core_next_poll(c, i) <= f.base.ops->now(&f.base))
				exchange(c, &f, i, 0.0, NTP_LEAP_NONE);
		clk_core_update(c, f.base.ops->now(&f.base), &s);
		err = served_error(&s, f.sys, &honest);
		ck_assert_msg(honest, "the bound should hold %d s after the step (error %g s)", k,
			      err);
	}
	ck_assert_msg(fabs(err) < 1e-3 && (s.flags & CLK_F_SYNCED),
		      "the jump should be slewed away, error %g s", err);
	clk_core_destroy(c);
}
END_TEST

/*
 * Two sources; one steps its own scale by 0.5 s. The other, asked at
 * once, saw nothing: no majority is left, and the bound held over covers
 * either being right. With minsources 2 and the other source gone
 * (refused), the step leaves too few sources, and the new sample
 * contradicts the bound held over: LI 3 at once.
 */
START_TEST(test_contradicted_holdover)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(1);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_tracking tr;
	int64_t now;
	int honest;

	fakeclk_init(&f, T0, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	add_src(c, 2, 0);
	run(c, &f, 600, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg(s.flags & CLK_F_SYNCED, "the core should be synchronized first");
	exchange(c, &f, 1, 0.5, NTP_LEAP_NONE);
	now = f.base.ops->now(&f.base);
	clk_core_update(c, now, &s);
	clk_core_tracking(c, now, &tr);
	ck_assert_msg(tr.watching == 1, "the step should open a watch");
	exchange(c, &f, 0, 0.0, NTP_LEAP_NONE);
	now = f.base.ops->now(&f.base);
	clk_core_update(c, now, &s);
	clk_core_tracking(c, now, &tr);
	ck_assert_msg(tr.watching == 0 && tr.steps_seen == 1 && tr.sys_peer == -1,
		      "the other source saw no step: the watch should close, with no majority");
	served_error(&s, f.sys, &honest);
	ck_assert_msg(honest && s.root_delay / 2 + s.root_disp >= 0.5,
		      "the bound held over should cover either source being right (%g s)",
		      s.root_delay / 2 + s.root_disp);
	clk_core_destroy(c);

	fakeclk_init(&f, T0, 0, 0.0);
	cfg.minsources = 2;
	c = clk_core_create(&cfg, &f.base);
	add_src(c, 1, 0);
	add_src(c, 2, 0);
	run(c, &f, 600, NULL, NTP_LEAP_NONE, &s);
	ck_assert_msg(s.flags & CLK_F_SYNCED, "the core should be synchronized first");
	clk_core_refused(c, 1);
	exchange(c, &f, 0, 0.5, NTP_LEAP_NONE);
	now = f.base.ops->now(&f.base);
	clk_core_update(c, now, &s);
	clk_core_tracking(c, now, &tr);
	ck_assert_msg(tr.watching == 0 && tr.steps_seen == 1, "no other source to ask: no watch");
	ck_assert_msg(s.leap == NTP_LEAP_UNSYNC && !(s.flags & CLK_F_SYNCED),
		      "a bound the newer sample contradicts should not be held over (leap %u)",
		      s.leap);
	clk_core_destroy(c);
}
END_TEST

/*
 * A leap second inserted on a driver that does not apply leaps (the fake):
 * the core makes it at the edge, in the served time, without a step of
 * its own counted; the samples across it stay consistent.
 */
START_TEST(test_leap_made_by_core)
{
	struct fakeclk f;
	struct clk_core_cfg cfg = core_cfg(0);
	struct clk_core *c;
	struct clk_snapshot s;
	struct clk_tracking tr;
	int64_t served;
	int i;

	fakeclk_init(&f, LEAP_END - 600 * S, 0, 0.0);
	c = clk_core_create(&cfg, &f.base);
	for (i = 0; i < 3; i++)
		add_src(c, i + 1, 0);
	run(c, &f, 599, NULL, NTP_LEAP_INSERT, &s);
	ck_assert_msg(s.leap == NTP_LEAP_INSERT, "the leap should be announced on its last day");
	ck_assert_msg(clk_core_next_event(c) == LEAP_END,
		      "with discipline off the edge is at driver (raw) time 23:59:60, got %lld",
		      (long long)(clk_core_next_event(c) - LEAP_END));
	fakeclk_set(&f, LEAP_END);
	clk_core_update(c, f.base.ops->now(&f.base), &s);
	served = clk_snapshot_served(&s, f.sys);
	ck_assert_msg(llabs(served - (LEAP_END - S)) < 1000000,
		      "at the edge the served time should read 23:59:59 again, off by %lld ns",
		      (long long)(served - (LEAP_END - S)));
	ck_assert_msg(s.leap == NTP_LEAP_NONE && clk_core_next_event(c) == INT64_MAX,
		      "after the edge nothing more is announced or due");
	/* The servers are on the new scale too: their samples match ours. */
	for (i = 0; i < 60; i++) {
		int k;

		fakeclk_set(&f, f.sys + S);
		for (k = 0; k < 3; k++)
			if (clk_core_next_poll(c, k) <= f.base.ops->now(&f.base))
				exchange(c, &f, k, -1.0, NTP_LEAP_NONE);
		clk_core_update(c, f.base.ops->now(&f.base), &s);
	}
	clk_core_tracking(c, f.base.ops->now(&f.base), &tr);
	served = clk_snapshot_served(&s, f.sys);
	ck_assert_msg(llabs(served - (f.sys - S)) < 1000000 && tr.steps == 0 && tr.steps_seen == 0,
		      "a minute later the served time should still be UTC (off by %lld ns), with "
		      "no step made or seen",
		      (long long)(served - (f.sys - S)));
	clk_core_destroy(c);
}
END_TEST

Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_initial_unsynced);
	tcase_add_test(tc, test_falseticker_marked);
	tcase_add_test(tc, test_makestep);
	tcase_add_test(tc, test_fast_slew);
	tcase_add_test(tc, test_discipline_off);
	tcase_add_test(tc, test_holdover_and_local);
	tcase_add_test(tc, test_local_fallback);
	tcase_add_test(tc, test_local_alone);
	tcase_add_test(tc, test_minsources_prefer_leap);
	tcase_add_test(tc, test_drift_and_args);
	tcase_add_test(tc, test_step_watch);
	tcase_add_test(tc, test_contradicted_holdover);
	tcase_add_test(tc, test_leap_made_by_core);
	tcase_add_test(tc, test_leap_table);
	tcase_add_test(tc, test_leap_smear);
	tcase_add_test(tc, test_leap_fence);
	suite_add_tcase(s, tc);
	return s;
}
