/*
 * Tests of the reference clocks' source driver (daemon/clockd/refsrc.c):
 * the poll filter (median fifth trimmed, mean time and offset, the error
 * bound with half the kept spread), numbering pulses (nearest second,
 * the offset option, the 0.4 s limit), and the whole path from a device
 * reader to the clock core with scripted readers on the fake clock
 * driver: a whole-second reference synchronizes the core at stratum 1
 * with its refid and an honest bound; unsynchronized (leap 3) samples are
 * never used and a silent refclock turns unreachable after 4 polls; a
 * PPS is numbered from its lock, or from our own time once synchronized,
 * and never before; samples older than the window, or from before a step
 * of our clock, are dropped; a noisy device's noise is measured, and the
 * served time stays within 10 us of the truth through 20 us of it. sys time
 * is the truth; nothing touches a real clock.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock/core.h"
#include "clock/snapshot.h"
#include "daemon/clockd/refsrc.h"
#include "daemon/config/config.h"
#include "daemon/refclock/refclock.h"
#include "proto/ntp.h"
#include "tests/unit/fakeclk.h"

Suite *refsrc_suite(void);

/* ns: a sys time in 2023, on a whole second */
#define T0 1700000000000000000LL
#define S  NS_PER_SEC
#define US 1000LL
#define MS NS_PER_MS

/* ---- the filter and pulse numbering ----------------------------------- */

START_TEST(test_filter)
{
	struct rs_sample s[10], f;
	int i, k;

	ck_assert_msg(refsrc_filter(s, 0, &f) == 0, "no sample, no result");
	/* One sample: itself. */
	s[0] = (struct rs_sample){.t = 5 * S, .off = 123, .err = 1e-6, .leap = 1};
	ck_assert_int_eq(refsrc_filter(s, 1, &f), 1);
	ck_assert_msg(f.t == 5 * S && f.off == 123 && f.err == 1e-6 && f.leap == 1,
		      "one sample should pass as it is");
	/* Ten samples a second apart, offsets 0..9 us shuffled, two wild ones. */
	for (i = 0; i < 10; i++)
		s[i] = (struct rs_sample){.t = (10 + i) * S,
					  .off = ((i * 7) % 10) * US,
					  .err = 1e-7 * (i + 1),
					  .leap = i == 9 ? 2 : 0};
	s[3].off = 5 * MS; /* an outlier each way */
	s[6].off = -5 * MS;
	k = refsrc_filter(s, 10, &f);
	ck_assert_msg(k == 6, "10 samples: the outer 2 on each side dropped, 6 kept (got %d)", k);
	for (i = 2; i < 8; i++)
		ck_assert_msg(s[i].off >= 0 && s[i].off <= 9 * US,
			      "the kept samples should be the middle ones");
	/* The result from the kept samples themselves. */
	{
		double mo = 0, mt = 0, e = 0, lo = 1e30, hi = -1e30;

		for (i = 2; i < 8; i++) {
			mo += s[i].off;
			mt += s[i].t;
			e = fmax(e, s[i].err);
			lo = fmin(lo, s[i].off);
			hi = fmax(hi, s[i].off);
		}
		ck_assert_msg(llabs(f.off - llround(mo / 6)) <= 1 &&
				      llabs(f.t - llround(mt / 6)) <= 1,
			      "mean offset and time of the kept samples");
		ck_assert_msg(fabs(f.err - (e + (hi - lo) / 2e9)) < 1e-15,
			      "error bound: the largest kept plus half the kept spread (%g)",
			      f.err);
	}
	/* Three samples: the median alone. */
	s[0] = (struct rs_sample){.t = 1 * S, .off = 100};
	s[1] = (struct rs_sample){.t = 2 * S, .off = -100};
	s[2] = (struct rs_sample){.t = 3 * S, .off = 7, .leap = 1};
	ck_assert_msg(refsrc_filter(s, 3, &f) == 1 && f.off == 7 && f.t == 3 * S && f.leap == 1,
		      "of three, the median should be kept alone");
	/* Four (a SOCK writer's poll): the middle two, their mean, the median of four. */
	s[0] = (struct rs_sample){.t = 1 * S, .off = 1000};
	s[1] = (struct rs_sample){.t = 2 * S, .off = 10};
	s[2] = (struct rs_sample){.t = 3 * S, .off = -5000};
	s[3] = (struct rs_sample){.t = 4 * S, .off = 20};
	ck_assert_msg(refsrc_filter(s, 4, &f) == 2 && f.off == 15 && f.t == 3 * S,
		      "of four, the middle two should be kept and averaged (offset %lld)",
		      (long long)f.off);
}
END_TEST

/*
 * refsrc_leap_split (issue 16): a poll's samples around a leap's edge E,
 * the reference (UTC) a second behind our continuous clock after it:
 * one median over both sides mixes them (half a second off, a spread of a
 * second); split, only the samples from E + RS_LEAP_GUARD_NS on remain,
 * their offset the reference's. Polls clear of the edge are untouched.
 */
START_TEST(test_leap_split)
{
	const int64_t e = 1000 * S;
	struct rs_sample s[16], mixed;
	int i, n;

	for (i = 0; i < 16; i++)
		s[i] = (struct rs_sample){
			.t = e + (i - 8) * S + 300 * MS, .off = i >= 8 ? -S : 0, .err = 1e-6};
	refsrc_filter(s, 16, &mixed);
	ck_assert_msg(llabs(mixed.off) > 100 * MS && mixed.err > 0.1,
		      "unsplit, the median mixes both sides (offset %lld ns, err %g s)",
		      (long long)mixed.off, mixed.err);
	for (i = 0; i < 16; i++)
		s[i] = (struct rs_sample){
			.t = e + (i - 8) * S + 300 * MS, .off = i >= 8 ? -S : 0, .err = 1e-6};
	n = refsrc_leap_split(s, 16, e);
	ck_assert_msg(n == 6 && s[0].t == e + 2 * S + 300 * MS && s[5].t == e + 7 * S + 300 * MS,
		      "the samples from E + 2 s on remain, in order (%d)", n);
	refsrc_filter(s, n, &mixed);
	ck_assert_msg(mixed.off == -S && mixed.err < 1e-5, "split: the reference's offset, -1 s");
	/* All before, clear of the guard: untouched. */
	for (i = 0; i < 16; i++)
		s[i] = (struct rs_sample){.t = e - (20 - i) * S, .off = 0, .err = 1e-6};
	ck_assert_int_eq(refsrc_leap_split(s, 16, e), 16);
	/* Only before the edge, some within the guard: those go, the rest stay. */
	for (i = 0; i < 16; i++)
		s[i] = (struct rs_sample){.t = e - (15 - i) * S - 500 * MS, .off = 0, .err = 1e-6};
	ck_assert_int_eq(refsrc_leap_split(s, 16, e), 14);
}
END_TEST

START_TEST(test_number_pulse)
{
	int64_t off;

	/* A pulse at 1000.000020 s of our time, the truth estimated at 1000.000010 s. */
	ck_assert_msg(refsrc_number_pulse(1000 * S + 20 * US, 1000 * S + 10 * US, 1e-3, 0, &off) ==
				      0 &&
			      off == -20 * US,
		      "the pulse marks second 1000: offset -20 us (got %lld)", (long long)off);
	/* The estimate 0.3 s late still names the same second. */
	ck_assert_msg(refsrc_number_pulse(1000 * S, 1000 * S + 300 * MS, 0.0, 0, &off) == 0 &&
			      off == 0,
		      "0.3 s off still names it");
	/* 0.3 s late with 0.15 s of error does not: 0.45 s > 0.4 s. */
	ck_assert_msg(refsrc_number_pulse(1000 * S, 1000 * S + 300 * MS, 0.15, 0, &off) < 0,
		      "a second not known within 0.4 s is refused");
	ck_assert_msg(refsrc_number_pulse(1000 * S, 1000 * S + 500 * MS, 0.0, 0, &off) < 0,
		      "half a second off is ambiguous");
	/* The offset option: a pulse 50 ms after each second (a late edge, or a cable). */
	ck_assert_msg(refsrc_number_pulse(2000 * S + 50 * MS + 3 * US, 2000 * S + 50 * MS, 1e-3,
					  50 * MS, &off) == 0 &&
			      off == -3 * US,
		      "with offset 0.05 the pulse marks 2000.05 s (got %lld)", (long long)off);
	/* Before 1970: floor division. */
	ck_assert_msg(refsrc_number_pulse(-3 * S + 2 * US, -3 * S, 0.0, 0, &off) == 0 &&
			      off == -2 * US,
		      "negative times round to the nearest second too");
	ck_assert_msg(refsrc_number_pulse(0, 0, NAN, 0, &off) < 0, "an unknown error is refused");
}
END_TEST

/* ---- scripted readers on the fake driver --------------------------------- */

#define FAKE_Q 64

/* A reader whose samples the test queues. */
struct fake_rd {
	struct rc_sample q[FAKE_Q];
	int n;
	int fail; /* read returns -EIO */
	int reads;
};

static int fake_read(struct rc_reader *r, int64_t now_ns, struct rc_sample *out, int max)
{
	struct fake_rd *f = r->priv;
	int n = f->n < max ? f->n : max;

	(void)now_ns;
	f->reads++;
	if (f->fail)
		return -5;
	memcpy(out, f->q, sizeof(*out) * (size_t)n);
	memmove(f->q, f->q + n, sizeof(f->q[0]) * (size_t)(f->n - n));
	f->n -= n;
	r->samples += (uint64_t)n;
	return n;
}

static void fake_close(struct rc_reader *r)
{
	(void)r; /* the test owns its fake_rd */
}

static const struct rc_reader_ops fake_ops = {
	.kind = "FAKE", .read = fake_read, .close = fake_close};

static void push(struct fake_rd *f, const struct rc_sample *s)
{
	ck_assert(f->n < FAKE_Q);
	f->q[f->n++] = *s;
}

/* makestep's limit of the next rig: 3 updates, as horod's default */
static int rig_step_limit = 3;
/* leapsecmode and smear interval (s) of the next rig: system, the default interval */
static int rig_leapmode = CLK_LEAPMODE_SYSTEM;
static int64_t rig_smear_s = 0;

struct rig {
	struct fakeclk f;
	struct clk_core *core;
	struct refsrc *rs;
	struct horod_config cfg;
	struct fake_rd rd[CFG_MAX_REFCLOCKS];
	int n;
	struct clk_snapshot snap;
};

/* A rig: the fake clock OFF ns ahead at OSC, a core (DISCIPLINE), the refclocks of TEXT. */
static void rig_init(struct rig *g, const char *text, int64_t off, double osc, int discipline)
{
	struct clk_core_cfg cc = {.discipline = discipline,
				  .makestep_threshold = 1.0,
				  .makestep_limit = rig_step_limit,
				  .leapmode = rig_leapmode,
				  .smear_s = rig_smear_s,
				  .maxdistance = 1.5,
				  .holdover = 600,
				  .minsources = 1,
				  .precision = -25,
				  .init_skew_ppm = -1.0};
	char err[256];
	int i;

	memset(g, 0, sizeof(*g));
	fakeclk_init(&g->f, T0, off, osc);
	g->f.base.max_ppm = 100000; /* ppm: slews at the core's 8 %, as the sim driver takes */
	cfg_defaults(&g->cfg);
	ck_assert_msg(cfg_parse_string(&g->cfg, "t", text, err, sizeof(err)) == 0, "%s", err);
	g->core = clk_core_create(&cc, &g->f.base);
	g->rs = refsrc_create(g->core, &g->f.base, -25);
	ck_assert(g->core && g->rs);
	if (g->cfg.leap.src != CFG_LEAP_NONE)
		refsrc_set_leaptab(g->rs, &g->cfg.leap.tab);
	for (i = 0; i < g->cfg.clk.n_refclocks; i++) {
		struct rc_reader *r = rc_new(&fake_ops, &g->rd[i], "FAKE");

		ck_assert(r != NULL);
		ck_assert_msg(refsrc_add(g->rs, &g->cfg.clk.refclocks[i], r) == 0, "add");
	}
	g->n = i;
	ck_assert_msg(refsrc_link(g->rs) == 0, "link");
}

static void rig_fini(struct rig *g)
{
	refsrc_destroy(g->rs);
	clk_core_destroy(g->core);
	cfg_free(&g->cfg);
}

/* One second of the rig: FEED queues what each reader gives for it, then the driver runs
 * (at least twice: reads are due each second) and the core updates. */
static void rig_second(struct rig *g, void (*feed)(struct rig *g, void *arg), void *arg)
{
	int64_t end = g->f.sys + S;

	if (feed)
		feed(g, arg);
	while (g->f.sys < end) {
		refsrc_run(g->rs, g->f.base.ops->now(&g->f.base), g->f.sys);
		clk_core_update(g->core, g->f.base.ops->now(&g->f.base), &g->snap);
		fakeclk_set(&g->f, g->f.sys + S / 4);
	}
}

/* The served time's error (s) now. */
static double rig_error(const struct rig *g)
{
	return (double)(clk_snapshot_served(&g->snap, g->f.sys) - g->f.sys) / 1e9;
}

/* A reference keeping TAI (a PHC under ptp4l): the truth plus TAI - UTC, 37 s since 2017. */
static void feed_tai(struct rig *g, void *arg)
{
	struct rc_sample s = {.local_ns = g->f.sys, .ref_ns = g->f.sys + 37 * S};

	(void)arg;
	push(&g->rd[0], &s);
}

/*
 * `refclock ... tai` (issue 16): a TAI reference is served as UTC, TAI -
 * UTC (37 s at T0, 2023) taken from the leap table (right/UTC); without
 * `tai` the same reference would be followed 37 s off. A `tai` refclock
 * without a table is refused by refsrc_add (the config check refuses it
 * first: check_cfg_refclock).
 */
START_TEST(test_tai_reference)
{
	struct refsrc *rs;
	struct rc_reader *r;
	struct fake_rd rd;
	struct rig g;
	int i;

	rig_init(&g, "refclock SHM 0 poll 2 refid GPS tai\nleapsectz right/UTC\n", 20 * MS, 0.0, 1);
	for (i = 0; i < 60; i++)
		rig_second(&g, feed_tai, NULL);
	ck_assert_msg((g.snap.flags & CLK_F_SYNCED) && fabs(rig_error(&g)) < 1e-5,
		      "a TAI reference with `tai`: served within 10 us of UTC, got %g s",
		      rig_error(&g));
	rig_fini(&g);
	rig_init(&g, "refclock SHM 0 poll 2 refid GPS\n", 20 * MS, 0.0, 1);
	for (i = 0; i < 60; i++)
		rig_second(&g, feed_tai, NULL);
	ck_assert_msg(fabs(rig_error(&g) - 37.0) < 1e-3,
		      "without `tai` the same reference is followed 37 s off (got %g s)",
		      rig_error(&g));
	ck_assert_msg(g.cfg.clk.refclocks[0].tai == 0, "no tai");
	/* refsrc_add itself refuses a `tai` refclock when no table was given. */
	g.cfg.clk.refclocks[0].tai = 1;
	rs = refsrc_create(g.core, &g.f.base, -25);
	memset(&rd, 0, sizeof(rd));
	r = rc_new(&fake_ops, &rd, "FAKE");
	ck_assert(rs && r);
	ck_assert_msg(refsrc_add(rs, &g.cfg.clk.refclocks[0], r) < 0,
		      "a `tai` refclock without a leap table is refused");
	refsrc_destroy(rs);
	rig_fini(&g);
}
END_TEST

/* A UTC reference through the insertion ending at midnight *ARG (s): our sys time is
 * leap-free, UTC a second behind it from the edge on. */
static void feed_utc(struct rig *g, void *arg)
{
	int64_t m = *(const int64_t *)arg;
	struct rc_sample s = {.local_ns = g->f.sys,
			      .ref_ns = g->f.sys - (g->f.sys >= m * S ? S : 0)};

	push(&g->rd[0], &s);
}

/*
 * A refclock through a leap second (discipline off: our clock runs on as
 * leap-free time, the core takes the leap in its correction; a 16 s poll
 * straddles the edge): the served time stays on UTC within 10 us from
 * 20 s after the edge, and the straddling poll's far side is dropped
 * (counted as old).
 */
START_TEST(test_refclock_through_leap)
{
	static int64_t m = 1700006400LL; /* 2023-11-15 00:00:00 UTC: a leap here, for the test */
	struct ntp_leaptab t;
	struct rs_counts ct;
	struct rig g;
	double worst = 0.0, e;
	int i;

	memset(&t, 0, sizeof(t));
	t.e[t.n].utc_s = 1483228800LL;
	t.e[t.n++].tai_utc = 37;
	t.e[t.n].utc_s = m;
	t.e[t.n++].tai_utc = 38;
	t.src = NTP_LEAPTAB_LIST;
	rig_init(&g, "refclock SHM 0 poll 4 refid GPS\n", 0, 0.0, 0);
	clk_core_set_leaptab(g.core, &t);
	/* The polls (16 s from the first) 7 s out of phase with the edge: one straddles it. */
	fakeclk_set(&g.f, T0 + 7 * S);
	/* Bounded: T0 to 10 minutes past the leap, a second at a time. */
	for (i = 0; g.f.sys < (m + 600) * S; i++) {
		rig_second(&g, feed_utc, &m);
		e = fabs((double)(clk_snapshot_served(&g.snap, g.f.sys) -
				  (g.f.sys - (g.f.sys >= m * S ? S : 0))) /
			 1e9);
		if (g.f.sys >= (m + 20) * S && e > worst)
			worst = e;
	}
	refsrc_counts(g.rs, 0, &ct, NULL);
	ck_assert_msg(worst < 1e-5, "after the leap, served time within 10 us of UTC (worst %g s)",
		      worst);
	/* The straddling poll's samples before the edge and within the guard (10 of 16),
	 * 0 without the split. */
	ck_assert_msg(ct.old >= 10, "the straddling poll's far side dropped (%llu)",
		      (unsigned long long)ct.old);
	rig_fini(&g);
}
END_TEST

/* Feeders: a whole-second reference with a fixed lie (ARG: double s), read 1 ms late. */
static void feed_true(struct rig *g, void *arg)
{
	double lie = arg ? *(double *)arg : 0.0;
	struct rc_sample s = {.local_ns = g->f.sys, .ref_ns = g->f.sys + llround(lie * 1e9)};

	push(&g->rd[0], &s);
}

START_TEST(test_reference_synchronizes)
{
	struct rig g;
	struct clk_source_info si;
	struct rs_counts ct;
	double worst = 0.0;
	int i;

	/* The clock 20 ms ahead, 30 ppm fast; a whole-second reference read each second. */
	rig_init(&g, "refclock SHM 0 poll 2 refid GPS\n", 20 * MS, 30e-6, 1);
	for (i = 0; i < 300; i++) {
		rig_second(&g, feed_true, NULL);
		if (i >= 100) {
			double e = fabs(rig_error(&g));

			worst = fmax(worst, e);
			ck_assert_msg(e <= g.snap.root_delay / 2 +
						      clk_snapshot_root_disp(&g.snap, g.f.sys),
				      "the bound should cover the true error (%g s) at %d s", e, i);
		}
	}
	ck_assert_msg(g.snap.stratum == 1 && g.snap.refid == ntp_refid_ascii("GPS") &&
			      (g.snap.flags & CLK_F_SYNCED),
		      "stratum 1, refid GPS, synchronized");
	ck_assert_msg(worst < 5e-6, "served time within 5 us of the truth after 100 s, got %g s",
		      worst);
	clk_core_source_info(g.core, 0, &si);
	ck_assert_msg(si.kind == CLK_KIND_REFCLOCK && si.stratum == 0 && si.tally == '*' &&
			      si.reach == 0377 && si.refid == ntp_refid_ascii("GPS"),
		      "the refclock: kind, stratum 0, sys.peer, reach 377");
	ck_assert_msg(refsrc_counts(g.rs, 0, &ct, NULL) == 0 && ct.samples == 300 &&
			      ct.polls == 75 && ct.empty == 0,
		      "300 samples in 75 polls of 4 s (got %llu in %llu)",
		      (unsigned long long)ct.samples, (unsigned long long)ct.polls);
	ck_assert_msg(refsrc_counts(g.rs, 1, &ct, NULL) == -1, "only one refclock");
	rig_fini(&g);
}
END_TEST

/* A reference that says it is unsynchronized (leap 3). */
static void feed_unsync(struct rig *g, void *arg)
{
	struct rc_sample s = {.local_ns = g->f.sys, .ref_ns = g->f.sys, .leap = NTP_LEAP_UNSYNC};

	(void)arg;
	push(&g->rd[0], &s);
}

START_TEST(test_unsync_and_silence)
{
	struct rig g;
	struct clk_source_info si;
	struct rs_counts ct;
	int i;

	rig_init(&g, "refclock SOCK /x poll 0\n", 0, 0.0, 1);
	for (i = 0; i < 30; i++)
		rig_second(&g, feed_true, NULL);
	ck_assert_msg(g.snap.flags & CLK_F_SYNCED, "synchronized to the reference first");
	/* Then it says it lost its own synchronization: nothing it says is used. */
	for (i = 0; i < 3; i++)
		rig_second(&g, feed_unsync, NULL);
	clk_core_source_info(g.core, 0, &si);
	ck_assert_msg(!(si.flash & NTP_FLASH_PEER_UNREACH) && si.tally == '*',
		      "three polls without a usable sample: still reachable");
	rig_second(&g, feed_unsync, NULL);
	clk_core_source_info(g.core, 0, &si);
	ck_assert_msg((si.flash & NTP_FLASH_PEER_UNREACH) && si.tally == ' ',
		      "the fourth poll makes it unreachable (flash 0x%x, tally '%c')", si.flash,
		      si.tally);
	ck_assert_msg((g.snap.flags & CLK_F_SYNCED) && g.snap.stratum == 1,
		      "and horod holds over, still stratum 1");
	refsrc_counts(g.rs, 0, &ct, NULL);
	ck_assert_msg(ct.unsync == 4 && ct.empty == 4, "4 unsynchronized samples, 4 empty polls");
	/* Silence (the reader fails) changes nothing more; samples bring it back. */
	g.rd[0].fail = 1;
	for (i = 0; i < 3; i++)
		rig_second(&g, NULL, NULL);
	refsrc_counts(g.rs, 0, &ct, NULL);
	ck_assert_msg(ct.read_errors >= 3, "read errors are counted");
	g.rd[0].fail = 0;
	for (i = 0; i < 3; i++)
		rig_second(&g, feed_true, NULL);
	clk_core_source_info(g.core, 0, &si);
	ck_assert_msg(!(si.flash & NTP_FLASH_PEER_UNREACH) && (si.reach & 1),
		      "samples make it reachable again");
	rig_fini(&g);
}
END_TEST

/* A pulse at each true second, its local stamp ARG (int64_t ns) late; and, on reader 1 when
 * there is one, a whole-second reference 2 ms off the truth announcing a leap. */
static void feed_pps(struct rig *g, void *arg)
{
	int64_t late = arg ? *(int64_t *)arg : 0;
	int64_t sec = ns_floor_sec(g->f.sys) * S;
	struct rc_sample p = {.local_ns = sec + late, .ref_ns = sec + late, .flags = RC_PULSE};
	struct rc_sample w = {.local_ns = g->f.sys, .ref_ns = g->f.sys + 2 * MS, .leap = 1};

	push(&g->rd[0], &p);
	if (g->n > 1)
		push(&g->rd[1], &w);
}

START_TEST(test_pps_locked)
{
	struct rig g;
	struct clk_source_info si;
	struct rs_counts ct;
	int64_t late = 30 * US;
	int i;

	/* The clock 0.3 s ahead: the pulses alone could not tell their second. */
	rig_init(&g,
		 "refclock PPS /dev/pps0 lock NMEA poll 2 refid PPS offset 0.00003\n"
		 "refclock SHM 0 refid NMEA noselect poll 2\n",
		 300 * MS, 0.0, 1);
	for (i = 0; i < 200; i++)
		rig_second(&g, feed_pps, &late);
	clk_core_source_info(g.core, 0, &si);
	ck_assert_msg(si.tally == '*' && g.snap.refid == ntp_refid_ascii("PPS") &&
			      g.snap.stratum == 1,
		      "the PPS, numbered by its lock, should be followed (tally '%c')", si.tally);
	ck_assert_msg(fabs(rig_error(&g)) < 5e-6,
		      "served time within 5 us of the truth, the lock's 2 ms and the 30 us "
		      "latency (offset option) taken out: %g s",
		      rig_error(&g));
	ck_assert_msg(si.leap == 1, "the pulses carry the lock's leap bits");
	refsrc_counts(g.rs, 0, &ct, NULL);
	ck_assert_msg(ct.unnumbered == 0 && ct.samples == 200,
		      "every pulse numbered (%llu unnumbered, %llu samples)",
		      (unsigned long long)ct.unnumbered, (unsigned long long)ct.samples);
	clk_core_source_info(g.core, 1, &si);
	ck_assert_msg(si.tally == ' ' && si.reach != 0, "the noselect lock is measured, not used");
	rig_fini(&g);
}
END_TEST

START_TEST(test_pps_unlocked)
{
	struct rig g;
	struct rs_counts ct;
	int64_t late = 0;
	int i;

	/* No lock and nothing else: the pulses cannot be numbered, nothing is used. */
	rig_init(&g, "refclock PPS /dev/pps0 poll 2\n", 100 * MS, 0.0, 1);
	for (i = 0; i < 30; i++)
		rig_second(&g, feed_pps, &late);
	refsrc_counts(g.rs, 0, &ct, NULL);
	ck_assert_msg(ct.unnumbered == 30 && ct.samples == 0 && !(g.snap.flags & CLK_F_SYNCED),
		      "unsynchronized, every pulse is unnumbered (%llu)",
		      (unsigned long long)ct.unnumbered);
	rig_fini(&g);

	/* With a whole-second reference keeping us synchronized, our own time numbers them. */
	/* (The whole-second reference is wider than its 2 ms error, as an NMEA one must be
	 * told, so that the two agree.) */
	rig_init(&g, "refclock PPS /dev/pps0 poll 2 prefer\nrefclock SHM 0 poll 2 delay 0.01\n",
		 100 * MS, 0.0, 1);
	for (i = 0; i < 200; i++)
		rig_second(&g, feed_pps, &late);
	refsrc_counts(g.rs, 0, &ct, NULL);
	ck_assert_msg(ct.samples > 150, "once synchronized the pulses count (%llu)",
		      (unsigned long long)ct.samples);
	ck_assert_msg(g.snap.refid == ntp_refid_ascii("PPS0") && fabs(rig_error(&g)) < 5e-6,
		      "and the preferred PPS gives the time, within 5 us: %g s", rig_error(&g));
	rig_fini(&g);
}
END_TEST

/* A pulse at each true second, and on reader 1 a UTC whole-second reference through the
 * insertion ending at midnight *ARG (s): our sys time is leap-free. */
static void feed_pps_utc(struct rig *g, void *arg)
{
	int64_t m = *(const int64_t *)arg;
	int64_t sec = ns_floor_sec(g->f.sys) * S;
	struct rc_sample p = {.local_ns = sec, .ref_ns = sec, .flags = RC_PULSE};
	struct rc_sample w = {.local_ns = g->f.sys,
			      .ref_ns = g->f.sys - (g->f.sys >= m * S ? S : 0)};

	push(&g->rd[0], &p);
	push(&g->rd[1], &w);
}

/*
 * Pulses without `lock` under `leapsecmode smear` (issue 16): they are
 * numbered from the core's own UTC (clk_core_served), not from the served
 * time, which the smear takes up to a second away from UTC (a pulse more
 * than 0.4 s from its second could not be numbered, or be numbered
 * wrong). Through a 600 s smear of an insertion the preferred PPS stays
 * the reference, every pulse but those at the step is numbered, and the
 * core's UTC stays within 5 us of the truth.
 */
START_TEST(test_pps_unlocked_smear)
{
	static int64_t m = 1700006400LL; /* 2023-11-15 00:00:00 UTC: a leap here, for the test */
	struct ntp_leaptab t;
	struct rs_counts before, ct;
	struct rig g;
	double worst = 0.0, e;
	int64_t utc;

	memset(&t, 0, sizeof(t));
	t.e[t.n].utc_s = 1483228800LL;
	t.e[t.n++].tai_utc = 37;
	t.e[t.n].utc_s = m;
	t.e[t.n++].tai_utc = 38;
	t.src = NTP_LEAPTAB_LIST;
	rig_leapmode = CLK_LEAPMODE_SMEAR;
	rig_smear_s = 600;
	rig_init(&g, "refclock PPS /dev/pps0 poll 2 prefer\nrefclock SHM 0 poll 2 delay 0.01\n",
		 100 * MS, 0.0, 1);
	rig_leapmode = CLK_LEAPMODE_SYSTEM;
	rig_smear_s = 0;
	clk_core_set_leaptab(g.core, &t);
	/* Bounded: T0 to 10 minutes past the leap, a second at a time. */
	while (g.f.sys < (m - 300) * S)
		rig_second(&g, feed_pps_utc, &m);
	refsrc_counts(g.rs, 0, &before, NULL);
	while (g.f.sys < (m + 600) * S) {
		rig_second(&g, feed_pps_utc, &m);
		utc = g.f.sys - (g.f.sys >= m * S ? S : 0);
		e = fabs((double)(clk_core_served(g.core, g.f.base.ops->now(&g.f.base)) - utc) /
			 1e9);
		if (e > worst && llabs(g.f.sys - m * S) > 5 * S)
			worst = e;
	}
	refsrc_counts(g.rs, 0, &ct, NULL);
	ck_assert_msg(ct.unnumbered - before.unnumbered <= 2 && ct.samples - before.samples > 800,
		      "pulses numbered through the smear (%llu unnumbered, %llu samples)",
		      (unsigned long long)(ct.unnumbered - before.unnumbered),
		      (unsigned long long)(ct.samples - before.samples));
	ck_assert_msg(worst < 5e-6, "the core's UTC within 5 us of the truth: %g s", worst);
	ck_assert_msg(g.snap.refid == ntp_refid_ascii("PPS0"), "the PPS still the reference");
	rig_fini(&g);
}
END_TEST

/* Samples stamped 20 s ago (a writer that stalled): older than the window. */
static void feed_old(struct rig *g, void *arg)
{
	struct rc_sample s = {.local_ns = g->f.sys - 20 * S, .ref_ns = g->f.sys - 20 * S};

	(void)arg;
	push(&g->rd[0], &s);
}

START_TEST(test_old_samples)
{
	struct rig g;
	struct rs_counts ct;
	int i;

	rig_init(&g, "refclock SHM 1 poll 4\n", 0, 0.0, 1);
	for (i = 0; i < 40; i++)
		rig_second(&g, feed_old, NULL);
	refsrc_counts(g.rs, 0, &ct, NULL);
	ck_assert_msg(ct.old >= 32 && !(g.snap.flags & CLK_F_SYNCED),
		      "samples older than 16 s at their poll are never used (%llu old)",
		      (unsigned long long)ct.old);
	rig_fini(&g);
}
END_TEST

/* A whole-second reference for both readers. */
static void feed_both(struct rig *g, void *arg)
{
	struct rc_sample s = {.local_ns = g->f.sys, .ref_ns = g->f.sys};

	(void)arg;
	push(&g->rd[0], &s);
	push(&g->rd[1], &s);
}

/* A whole-second reference for the second reader only (the first silent). */
static void feed_slow(struct rig *g, void *arg)
{
	struct rc_sample s = {.local_ns = g->f.sys, .ref_ns = g->f.sys};

	(void)arg;
	push(&g->rd[1], &s);
}

START_TEST(test_step_clears_samples)
{
	struct rig g;
	struct clk_source_info si, fast;
	struct rs_counts ct;
	uint64_t polls;
	int i;

	/* Our clock starts 3 s off; the fast refclock is silent for 4 s, then its first poll
	 * steps our clock while the slow one (noselect: it never steps it) holds samples
	 * from before the step, on the other timescale: they are dropped, and its next poll
	 * sees only samples after the step. */
	rig_init(&g, "refclock SHM 0 poll 0\nrefclock SHM 1 poll 3 noselect\n", 3 * S, 0.0, 1);
	for (i = 0; i < 4; i++)
		rig_second(&g, feed_slow, NULL);
	refsrc_counts(g.rs, 1, &ct, NULL);
	polls = ct.polls;
	for (i = 0; i < 16 && ct.polls == polls; i++) {
		rig_second(&g, feed_both, NULL);
		refsrc_counts(g.rs, 1, &ct, NULL);
	}
	clk_core_source_info(g.core, 0, &fast);
	clk_core_source_info(g.core, 1, &si);
	ck_assert_msg(clk_core_steps(g.core) == 1, "stepped once (%d steps)",
		      clk_core_steps(g.core));
	ck_assert_msg(ct.old > 0, "the slow refclock's samples from before the step were dropped");
	ck_assert_msg(
		ct.polls > polls && fabs(si.offset - fast.offset) < 0.01,
		"its first poll after the step saw only samples after it: offsets %g and %g s",
		si.offset, fast.offset);
	rig_fini(&g);

	rig_step_limit = -1; /* step whenever it is beyond the threshold */
	rig_init(&g, "refclock SHM 0 poll 0\nrefclock SHM 1 poll 3 noselect\n", 0, 0.0, 1);
	rig_step_limit = 3;
	for (i = 0; i < 60; i++)
		rig_second(&g, feed_both, NULL);
	/* Right after the slow refclock's poll, someone jumps our clock 3 s ahead. The fast
	 * one sees it first; the core asks every other source at once before it steps back
	 * (its watch), so the slow one polls early, on samples from both sides of the jump
	 * (its error covering their spread), and after the step on samples after it. */
	refsrc_counts(g.rs, 1, &ct, NULL);
	polls = ct.polls;
	for (i = 0; i < 16 && ct.polls == polls; i++) {
		rig_second(&g, feed_both, NULL);
		refsrc_counts(g.rs, 1, &ct, NULL);
	}
	g.f.off += 3 * S;
	for (i = 0; i < 20; i++)
		rig_second(&g, feed_both, NULL);
	refsrc_counts(g.rs, 1, &ct, NULL);
	clk_core_source_info(g.core, 0, &fast);
	clk_core_source_info(g.core, 1, &si);
	/* (An outside jump also disturbs the core's frequency estimate: it may step twice.) */
	ck_assert_msg(clk_core_steps(g.core) >= 1, "stepped back (%d steps)",
		      clk_core_steps(g.core));
	ck_assert_msg(fabs(si.offset - fast.offset) < 0.1,
		      "its polls after the step saw only samples after it, as the fast one's "
		      "(within the 0.1 s its older samples and the slew allow): offsets %g and "
		      "%g s (one sample from before the step in 8 pulls it by 0.4 s)",
		      si.offset, fast.offset);
	rig_fini(&g);
}
END_TEST

/* A reference whose every sample is off by a uniform error in +-ARG (double s). */
static void feed_noisy(struct rig *g, void *arg)
{
	static uint64_t x = 88172645463325252ULL; /* xorshift64: the same noise every run */
	double u;
	struct rc_sample s = {.local_ns = g->f.sys};

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	u = (double)(x >> 11) / 4503599627370496.0 - 1.0;
	s.ref_ns = g->f.sys + llround(u * *(double *)arg * 1e9);
	push(&g->rd[0], &s);
}

START_TEST(test_noise_measured)
{
	struct rig g;
	struct rs_counts ct;
	double j = 20e-6, worst = 0.0, e;
	int i;

	/* A device 20 us noisy (uniform: 11.5 us sd) claiming a microsecond, the clock 1 ms and
	 * 20 ppm off, one sample per 1 s poll: no median to help, only the estimator. */
	rig_init(&g, "refclock SHM 0 poll 0\n", 1000000, 20e-6, 1);
	refsrc_counts(g.rs, 0, &ct, NULL);
	for (i = 0; i < 150; i++) {
		rig_second(&g, feed_noisy, &j);
		e = fabs(rig_error(&g));
		ck_assert_msg(!(g.snap.flags & CLK_F_SYNCED) ||
				      e <= g.snap.root_delay / 2 +
						      clk_snapshot_root_disp(&g.snap, g.f.sys),
			      "the bound should cover the error (%g s) at %d s", e, i);
		if (i >= 50)
			worst = fmax(worst, e);
	}
	refsrc_counts(g.rs, 0, &ct, NULL);
	/* (The median-based estimate reads a uniform noise low: 7-12 us for 11.5 us.) */
	ck_assert_msg(ct.noise > 6e-6 && ct.noise < 16e-6,
		      "the measured noise should be near 11.5 us, got %g s", ct.noise);
	ck_assert_msg(worst < 10e-6, "within 10 us of the truth after 50 s, got %g s", worst);
	rig_fini(&g);
}
END_TEST

Suite *refsrc_suite(void)
{
	Suite *s = suite_create("refsrc");
	TCase *tc = tcase_create("refsrc");

	tcase_add_test(tc, test_filter);
	tcase_add_test(tc, test_number_pulse);
	tcase_add_test(tc, test_reference_synchronizes);
	tcase_add_test(tc, test_tai_reference);
	tcase_add_test(tc, test_leap_split);
	tcase_add_test(tc, test_refclock_through_leap);
	tcase_add_test(tc, test_pps_unlocked_smear);
	tcase_add_test(tc, test_unsync_and_silence);
	tcase_add_test(tc, test_pps_locked);
	tcase_add_test(tc, test_pps_unlocked);
	tcase_add_test(tc, test_old_samples);
	tcase_add_test(tc, test_step_clears_samples);
	tcase_add_test(tc, test_noise_measured);
	suite_add_tcase(s, tc);
	return s;
}
