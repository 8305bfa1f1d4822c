/*
 * guard-test unit, `guard serve on` around a leap second (issue 16): the
 * XDP path must serve the same time as the workers or hand the requests
 * to them. The snapshots are the clock core's own, not hand-written: a
 * core disciplining a kernel-like fake clock (tests/unit/fakeclk.c, the
 * one the core's leap tests use) with three exact sources and a leap
 * table, run second by second as clockd runs it, and each snapshot is
 * published into the loaded program by horod's publisher
 * (guard_serve_fill, as xguard.c does) at the instant the core made it.
 * Under `leapsecmode smear` (insertion and deletion, a 600 s smear) the
 * guard answers before the window (the snapshot is the bare clock, and
 * its answer is the worker's, field by field), passes every request to
 * the workers inside it, before and after the edge, and answers again
 * once it is over; under `step` it passes during the last day (LI 1,
 * which only the workers' path announces) and answers after the step;
 * under `slew` it passes while the second is being slewed away. The
 * guard's counters must count each verdict.
 */
#include <stdio.h>
#include <string.h>

#include "bpf/guard.h"
#include "clock/core.h"
#include "clock/leapsec.h"
#include "proto/ntp.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"
#include "tests/unit/fakeclk.h"

#define LP_M	     1483228800LL	 /* Unix s: 2017-01-01 00:00:00 UTC, the leap's midnight */
#define LP_SMEAR_S   600		 /* s: the smear's interval (300 s each side of the leap) */
#define LP_TABLE_EXP (LP_M + 30 * 86400) /* Unix s: the table's expiry, a month after */
#define LP_US	     1000LL		 /* ns */
#define LP_AFTER_PUB                                                                               \
	(100 * LP_US * 1000) /* ns: the request arrives 0.1 s after the publication                \
			      */

/* One exchange with exact source ID (its clock says UTC: leap-free time less the leap once
 * it is past), 200 us each way; the fake clock advances. */
static void lp_exchange(struct clk_core *c, struct fakeclk *f, int id, int64_t utc_off)
{
	struct clk_meas m;
	int64_t rec;

	memset(&m, 0, sizeof(m));
	m.t1 = f->base.ops->now(&f->base);
	clk_core_poll_sent(c, id, m.t1);
	fakeclk_set(f, f->sys + 200 * LP_US);
	rec = f->sys + utc_off;
	m.leap = NTP_LEAP_NONE; /* the table is the authority */
	m.stratum = 1;
	m.precision = -20;
	m.root_disp = 1e-4;
	m.refid = ntp_refid_ascii("GPS");
	m.t2 = rec;
	m.t3 = rec + 10 * LP_US;
	fakeclk_set(f, f->sys + 210 * LP_US);
	m.t4 = f->base.ops->now(&f->base);
	clk_core_sample(c, id, &m);
}

/* A check point: at leap-free time leap + AT_S, the guard's verdict on a plain request. */
struct lp_point {
	int64_t at_s; /* s from the leap (leap-free time) */
	int serve;    /* 1: answered here (XDP_TX), 0: passed to a worker */
	int smearing; /* the core's tracking must say it smears (1) or not (0); -1: unchecked */
	const char *what;
};

/*
 * Run a core in leap mode MODE through the leap DIR from leap - 1 day - 10 min,
 * and at each of POINTS publish its snapshot into R's program and send it a
 * request. Every point's snapshot is checked to be what the point claims
 * (the core's own tracking), so the test cannot pass on a snapshot that is
 * not in the state named.
 */
static void lp_run(struct gt_rig *r, const char *mname, int mode, int dir,
		   const struct lp_point *pts, int npts)
{
	struct clk_core_cfg cfg;
	struct ntp_leaptab t;
	struct clk_tracking tr;
	struct clk_snapshot snap;
	struct guard_clocks at;
	struct clk_core *c;
	struct fakeclk f;
	struct fr_spec spec;
	uint8_t pay[48];
	int64_t leap_t = dir > 0 ? LP_M * (int64_t)SEC : (LP_M - 1) * (int64_t)SEC, next, ev, now;
	char name[200];
	int i, k = 0;

	memset(&t, 0, sizeof(t));
	t.e[t.n].utc_s = 1435708800LL; /* 2015-07-01 */
	t.e[t.n++].tai_utc = 36;
	t.e[t.n].utc_s = LP_M;
	t.e[t.n++].tai_utc = 36 + dir;
	t.expires_s = LP_TABLE_EXP;
	t.src = NTP_LEAPTAB_LIST;
	memset(&cfg, 0, sizeof(cfg));
	cfg.discipline = 1;
	cfg.makestep_threshold = 1.0;
	cfg.makestep_limit = 3;
	cfg.maxdistance = 1.5;
	cfg.holdover = 600;
	cfg.minsources = 1;
	cfg.precision = -20;
	cfg.init_skew_ppm = -1.0;
	cfg.leapmode = mode;
	cfg.smear_s = LP_SMEAR_S;
	fakeclk_init(&f, leap_t - (86400 + 600) * (int64_t)SEC, 0, 0.0);
	f.kernel = 1; /* the workers and the guard read the clock the core steers */
	c = clk_core_create(&cfg, &f.base);
	if (!c) {
		gt_expect(0, "leap: a clock core", "cannot create one");
		return;
	}
	clk_core_set_leaptab(c, &t);
	for (i = 0; i < 3; i++) {
		struct clk_source_cfg sc;

		memset(&sc, 0, sizeof(sc));
		snprintf(sc.name, sizeof(sc.name), "192.0.2.%d", i + 1);
		sc.refid = 0xc0000201u + (uint32_t)i;
		sc.minpoll = 4;
		sc.maxpoll = 6;
		sc.iburst = 1;
		clk_core_add_source(c, &sc);
	}
	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	/* Bounded: a day and 20 minutes of simulated seconds, plus the core's own events. */
	while (k < npts && f.sys < leap_t + 3600 * (int64_t)SEC) {
		for (i = 0; i < 3; i++)
			if (clk_core_next_poll(c, i) <= f.base.ops->now(&f.base))
				lp_exchange(c, &f, i, f.sys >= leap_t ? -dir * (int64_t)SEC : 0);
		now = f.base.ops->now(&f.base);
		clk_core_update(c, now, &snap);
		if (f.sys >= leap_t + pts[k].at_s * (int64_t)SEC) {
			clk_core_tracking(c, now, &tr);
			snprintf(name, sizeof(name), "leap %s %s: %s", mname,
				 dir > 0 ? "insertion" : "deletion", pts[k].what);
			if (pts[k].smearing >= 0 && tr.smearing != pts[k].smearing) {
				gt_expect(0, name, "the core should %s (tracking says %d)",
					  pts[k].smearing ? "smear" : "not smear", tr.smearing);
			} else if (!(snap.flags & CLK_F_SYNCED)) {
				gt_expect(0, name, "the core should be synchronized");
			} else {
				/* Published as xguard.c does, the instant the core made it: the
				 * clock here is CLOCK_REALTIME, TAI 37 s ahead. */
				at.real_ns = now;
				at.tai_ns = now + TAI_OFFSET;
				r->tai = (uint64_t)(at.tai_ns + LP_AFTER_PUB);
				gt_serve_case_at(r, name, &spec, &snap, &at,
						 pts[k].serve ? XDP_TX_ : XDP_PASS_,
						 pts[k].serve ? GUARD_C_SERVED
							      : NTP_R_REPLY_SERVER);
				/* Answered here, the time must be UTC: the bare clock, stepped. */
				if (pts[k].serve) {
					strncat(name, ", from the bare clock, UTC",
						sizeof(name) - strlen(name) - 1);
					gt_expect(
						snap.corr_ns == 0 && snap.corr_freq == 0.0 &&
							snap.leap == NTP_LEAP_NONE &&
							now == f.sys - (f.sys >= leap_t
										? dir * (int64_t)SEC
										: 0),
						name, "answered from a snapshot that is not UTC");
				}
			}
			k++;
		}
		next = f.sys + (int64_t)SEC;
		ev = clk_core_next_event(c);
		if (ev > now && ev - now < (int64_t)SEC)
			next = f.sys + (ev - now);
		fakeclk_set(&f, next);
	}
	gt_expect(k == npts, "leap: every check point reached", "%s: %d of %d", mname, k, npts);
	clk_core_destroy(c);
}

int gt_do_leap(void)
{
	static const struct lp_point smear[] = {
		{-600, 1, 0, "before the smear, the bare clock: answered here"},
		{-299, 0, 1, "1 s into the smear: passed to a worker"},
		{-1, 0, 1, "1 s before the edge, smearing: passed"},
		{1, 0, 1, "1 s after the edge (the clock stepped), smearing: passed"},
		{299, 0, 1, "the last second of the smear: passed"},
		{600, 1, 0, "after the smear, UTC again: answered here"},
	};
	static const struct lp_point step[] = {
		{-86400 - 300, 1, -1, "the day before the last: answered here"},
		{-3600, 0, -1, "the last day, LI announced: passed"},
		{-1, 0, -1, "1 s before the edge, LI announced: passed"},
		{5, 1, -1, "5 s after the step, UTC, no LI: answered here"},
	};
	static const struct lp_point slew[] = {
		{-3600, 0, -1, "the last day, LI announced: passed"},
		{2, 0, -1, "2 s into the slew after the edge: passed"},
		{60, 1, -1, "after the slew, UTC: answered here"},
	};
	struct gt_rig_conf c = {.serve = 1};
	struct guard_stats st;
	struct gt_rig r;
	int k, ok;

	gt_rig_open(&r, &c);
	lp_run(&r, "smear", CLK_LEAPMODE_SMEAR, 1, smear, 6);
	lp_run(&r, "smear", CLK_LEAPMODE_SMEAR, -1, smear, 6);
	lp_run(&r, "step", CLK_LEAPMODE_STEP, 1, step, 4);
	lp_run(&r, "slew", CLK_LEAPMODE_SLEW, 1, slew, 3);
	ok = gt_counters(&r, &st) == 0;
	for (k = 0; ok && k < GUARD_NCOUNTERS; k++)
		ok = st.packets[k] == r.tally_packets[k] && st.bytes[k] == r.tally_bytes[k];
	gt_expect(ok && r.tally_packets[GUARD_C_SERVED] == 7 &&
			  r.tally_packets[NTP_R_REPLY_SERVER] == 12,
		  "leap: counters, 7 answered here (served), 12 passed (reply_server)",
		  "counter %d differs, or served %llu passed %llu", k - 1,
		  (unsigned long long)r.tally_packets[GUARD_C_SERVED],
		  (unsigned long long)r.tally_packets[NTP_R_REPLY_SERVER]);
	gt_rig_close(&r);
	return gt_n_fail ? 1 : 0;
}
