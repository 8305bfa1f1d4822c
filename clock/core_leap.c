/*
 * The clock core's leap seconds, in one place: which leap the sources
 * announce, when to announce it and arm the driver, and what happens at
 * its edge. Issue 16's stage B replaces the decision (core_leap_update's
 * first half) with the leap file, `leapsecmode` and the smear; the edge
 * handling stays.
 *
 * The decision: a leap table (`leapfile`, `leapsectz`) valid at the
 * served time is the authority: its next leap is planned whatever the
 * sources say, and bits it contradicts are ignored (as chrony does with
 * leapsectz); an expired table says nothing. Without one, a majority of
 * the survivors announcing LI 1 or 2 (the core's leap_vote) names the
 * leap at the end of the current UTC month, counted only in June and
 * December (clk_leap_bits_midnight: servers set LI weeks early). Either
 * way it is announced, and armed in the driver through set_status, during
 * its last day only (clk_leap_due), so Linux never inserts it on another
 * midnight. With no survivors the plan holds.
 *
 * The edge: served 23:59:60 begins (insertion) or 23:59:59 would
 * (deletion). A clock that has the leap armed, whoever armed it (our
 * set_status: Linux on CLOCK_REALTIME, the sim driver; or, when the clock
 * is not ours, the program that owns it), steps itself there; the core
 * sees it in the driver's leaps() count and, steering, records the step
 * in its correction at the edge's raw time (clk_disc_leap without making
 * it), so raw time stays continuous (not steering, raw time is the
 * clock's own and moved with it); it is never applied twice. Otherwise
 * (discipline off with nobody else arming it, a refused set_status, a
 * PHC) the core makes it when the served time reaches the edge: in its
 * correction, through the driver when steering. The clock thread wakes at
 * the edge (clk_core_next_event), so the snapshot follows UTC to the
 * wake-up's latency. Either way every source's samples shift by the leap
 * so that those before and after compare, and exchanges within
 * LEAP_GUARD_NS of the edge are dropped: their stamps cannot be placed on
 * either side of it, ours or the server's.
 *
 * The served time across it (core_leap_smear): under `leapsecmode smear`
 * a linear segment around the leap; under `slew` the same arithmetic over
 * CLK_LEAP_SLEW_S from the edge, so the served time does not step but is
 * slewed back to UTC after it, the bound including the offset still to
 * slew.
 */
#include <math.h>

#include "clock/core.h"
#include "clock/core_priv.h"
#include "clock/leapsec.h"
#include "proto/ntp.h"

/* ns: exchanges this close to a leap's edge are dropped: the longest exchange a source
 * takes (source.c's MAX_DELAY), and servers leap within their own error of it */
#define LEAP_GUARD_NS (3 * NS_PER_SEC)
/* ns: past the edge of a leap the clock has armed, how often the core looks again whether
 * it was applied (a kernel insertion puts the served time back before the edge) */
#define LEAP_LATE_NS (NS_PER_SEC / 2)

/* Served ns of the edge of the leap ending at midnight M (s) in direction DIR. */
static int64_t edge_ns(int64_t m, int dir)
{
	return (dir > 0 ? m : m - 1) * NS_PER_SEC;
}

/*
 * Apply the planned leap at raw time R: make it (MAKE), or account for the
 * clock's. Not steering, raw time is the clock's own: a leap the clock made
 * moved it and the sources' time alike, and there is nothing to record.
 * Otherwise the correction takes it, and the samples shift with the
 * sources' time. A driver that refuses the step leaves us a second off:
 * the samples will say so (a step of the sources' scale), and the leap is
 * not tried again.
 */
static void apply(struct clk_core *c, int64_t r, int make)
{
	int i, dir = c->leap_dir;

	/* Steering, the step moves the clock the published snapshot maps: fence it first. */
	if (make && c->disc.steer && c->cfg.leap_fence)
		c->cfg.leap_fence(c->cfg.leap_fence_arg);
	if ((make || c->disc.steer) && clk_disc_leap(&c->disc, r, -dir, make) == 0)
		for (i = 0; i < c->n; i++)
			clk_src_leap(&c->src[i], dir);
	c->leap_done_m = c->leap_m;
	c->leap_done_dir = dir;
	c->leap_done_r = r;
	c->leap_dir = 0;
	c->leap_li = NTP_LEAP_NONE;
	c->leap_armed = 0;
	c->leap_next = INT64_MAX;
}

/* The driver's count of leaps its clock applied; what is armed in it into leap_armed. */
static int drv_leaps(struct clk_core *c)
{
	c->leap_armed = 0;
	if (!c->drv->ops->leaps)
		return c->drv_leaps;
	return c->drv->ops->leaps(c->drv, &c->leap_armed);
}

void core_leap_seen(struct clk_core *c)
{
	int n;

	if (!c->leap_dir)
		return;
	n = drv_leaps(c);
	if (n == c->drv_leaps)
		return;
	c->drv_leaps = n;
	/* The clock stepped at the edge: where the correction before it put the edge. */
	apply(c, clk_disc_raw_of_served(&c->disc, edge_ns(c->leap_m, c->leap_dir)), 0);
}

/* Plan the leap ending at midnight M in direction DIR (0: none), unless it is the plan. */
static void plan(struct clk_core *c, int64_t m, int dir)
{
	if (!dir || m == c->leap_done_m) {
		c->leap_dir = 0;
		return;
	}
	if (c->leap_dir == dir && c->leap_m == m)
		return;
	c->leap_dir = dir;
	c->leap_m = m;
	c->drv_leaps = drv_leaps(c); /* leaps from before the plan are not it */
}

/*
 * The table's word at served time SERVED: 1 and the plan made when it is
 * valid then (its next leap, or none: any source bits are contradicted,
 * since a valid table lists every leap up to its expiry), 0 when there is
 * no table or it has expired (it then gives no authority).
 */
static int plan_from_table(struct clk_core *c, int64_t served)
{
	int64_t now_s = ns_floor_sec(served);
	struct ntp_leap l;

	c->leap_auth = c->have_ltab && !ntp_leaptab_expired(&c->ltab, now_s);
	if (!c->leap_auth)
		return 0;
	if (ntp_leaptab_next(&c->ltab, now_s, &l))
		plan(c, l.utc_s, l.dir);
	else
		plan(c, 0, 0);
	return 1;
}

void clk_core_set_leaptab(struct clk_core *c, const struct ntp_leaptab *tab)
{
	if (!c)
		return;
	c->have_ltab = tab != NULL;
	if (tab)
		c->ltab = *tab;
	c->leap_auth = 0;
}

void core_leap_update(struct clk_core *c, int64_t r, int vote)
{
	int64_t served = clk_disc_served(&c->disc, r), m, e;

	c->ls_served = served;
	/* A plan past its edge, waiting for the clock's count to move, is kept whatever is
	 * said now: the sources stop announcing at the edge, the table names the next leap. */
	if (c->leap_dir && served >= edge_ns(c->leap_m, c->leap_dir)) {
		/* keep it */
	} else if (plan_from_table(c, served)) {
		/* the table decided */
	} else if (vote == NTP_LEAP_INSERT || vote == NTP_LEAP_DELETE) {
		if (clk_leap_bits_midnight(served, &m))
			plan(c, m, vote == NTP_LEAP_INSERT ? 1 : -1);
	} else if (vote == NTP_LEAP_NONE) {
		c->leap_dir = 0;
	}
	c->leap_li = NTP_LEAP_NONE;
	c->leap_next = INT64_MAX;
	if (!c->leap_dir)
		return;
	e = edge_ns(c->leap_m, c->leap_dir);
	if (served >= e) {
		core_leap_seen(c); /* the clock's own, just now? */
		if (!c->leap_dir)
			return;
		if (c->leap_armed != c->leap_dir) {
			apply(c, r, 1); /* nothing else applies it: we do */
			return;
		}
		/* The clock applies it: look again soon for its count to move. */
		c->leap_next = served + LEAP_LATE_NS;
		return;
	}
	c->leap_next = e;
	/* RFC 5905: LI during the last day; never under the smear (clients see no leap). */
	if (clk_leap_announce(c->leap_m, served, (enum clk_leapmode)c->cfg.leapmode))
		c->leap_li = c->leap_dir > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
}

int core_leap_arm_li(const struct clk_core *c, int li)
{
	/* step, slew, smear: the kernel never inserts it; the core does at the edge. */
	if (c->cfg.leapmode != CLK_LEAPMODE_SYSTEM &&
	    (li == NTP_LEAP_INSERT || li == NTP_LEAP_DELETE))
		return NTP_LEAP_NONE;
	return li;
}

/*
 * 1 when the served time is carried across the leap by a linear segment:
 * the smear (around it), or the slew (after it: the same arithmetic, a
 * window from the edge over CLK_LEAP_SLEW_S, see clk_slew_init).
 */
static int leap_smeared(const struct clk_core *c)
{
	return c->cfg.leapmode == CLK_LEAPMODE_SMEAR || c->cfg.leapmode == CLK_LEAPMODE_SLEW;
}

/* 1 when the smear's leap has been applied (its UTC has leapt in our served time). */
static int smear_applied(const struct clk_core *c)
{
	return c->smear_m == c->leap_done_m;
}

/*
 * The smear in force: the one of the leap just applied until its end,
 * else the planned leap's; a smear whose leap is no longer planned (the
 * sources changed their mind before the edge) is dropped.
 */
static void smear_pick(struct clk_core *c)
{
	struct ntp_leap l;

	if (c->smear_set && !smear_applied(c) && (!c->leap_dir || c->smear_m != c->leap_m))
		c->smear_set = 0;
	if (c->smear_set || !c->leap_dir || !leap_smeared(c))
		return;
	l.utc_s = c->leap_m;
	l.dir = c->leap_dir;
	l.tai_utc = 0;
	if (c->cfg.leapmode == CLK_LEAPMODE_SLEW)
		c->smear_set = clk_slew_init(&c->smear, &l) == 0;
	else
		c->smear_set = clk_smear_init(&c->smear, &l, c->cfg.smear_s) == 0;
	c->smear_m = c->leap_m;
}

/* ns: a republished mapping below the last one by at most this is its rounding, taken up */
#define MONO_SLACK_NS 1000
/* ns: the taken-up rounding is given back over this much time (a publication's period) */
#define MONO_BACK_NS NS_PER_SEC

/*
 * Smear mode promises a served time that never goes backwards. A new
 * snapshot's mapping, computed afresh, can start a few ns below where the
 * last one had got to at the same system time (the roundings of
 * clk_disc_mapping and of the snapshot's own slew: 1-4 ns in the
 * simulator). Under the smear the new snapshot then starts where the last
 * one was and runs slower by that much over the next second, reaching its
 * own mapping there: continuous, monotonic, and nothing accumulates (a
 * step kept instead would, by a rounding a second: 0.8 us over a 2 h
 * deletion smear, measured). A larger difference is a step of the core's
 * (makestep at the start) and is left alone.
 */
static void monotonic(struct clk_core *c, struct clk_snapshot *out, int was)
{
	int64_t sys0 = out->update_ns - out->corr_ns, d;

	/* An identity mapping (the kernel steered, no smear now or just before) has no
	 * rounding to take up, and must stay one: the XDP guard serves only that. */
	if (leap_smeared(c) && c->have_prev &&
	    (was || c->smearing || out->corr_ns || out->corr_freq != 0.0)) {
		/* + 1 ns: SYS0 is itself rounded (the inverse of the driver's mapping) */
		d = clk_snapshot_served(&c->prev, sys0) - out->update_ns + 1;
		if (d > 0 && d <= MONO_SLACK_NS) {
			out->corr_ns += d;
			out->update_ns += d;
			out->corr_freq -= (double)d / (double)MONO_BACK_NS;
		}
	}
	c->prev = *out;
	c->have_prev = 1;
}

/*
 * The smear in the snapshot. Unsmeared served time V (UTC, the core's) is
 * leap-free time U less the leap once the core applied it; the smeared
 * time is U + clk_smear_offset_ns(U) = V + C(V) where, inside the window,
 * C is linear in V with slope K = -dir / S. So at the update point V0 the
 * snapshot's correction takes C(V0) and its frequency (1 + f)(1 + K) - 1:
 * the workers' and the guard's arithmetic serves the smear exactly (to
 * the rounding of one double over a second, far below 1 ns) until the
 * next publication, which the clock thread makes at the window's start
 * and end as at the leap's edge (core_leap_next).
 */
void core_leap_smear(struct clk_core *c, struct clk_snapshot *out)
{
	int64_t v0 = out->update_ns, u0, c0;
	int applied, was = c->smearing;
	double k, f;

	c->smearing = 0;
	c->smear_vs_utc = 0;
	smear_pick(c);
	if (!c->smear_set) {
		monotonic(c, out, was);
		return;
	}
	applied = smear_applied(c);
	u0 = applied ? v0 + c->smear.dir * NS_PER_SEC : v0;
	if (u0 >= c->smear.end_ns && applied) {
		c->smear_set = 0; /* over: the served time is UTC again */
		monotonic(c, out, was);
		return;
	}
	c0 = clk_smear_offset_ns(&c->smear, u0) + (applied ? c->smear.dir * NS_PER_SEC : 0);
	c->smearing = clk_smear_active(&c->smear, u0);
	c->smear_vs_utc = c0;
	k = c->smearing ? -(double)c->smear.dir / (double)c->smear.interval_s : 0.0;
	f = out->corr_freq;
	out->corr_ns += c0;
	out->update_ns += c0;
	out->corr_freq = f + k + f * k;
	if (out->ref_ns)
		out->ref_ns += c0;
	/* The slew's served time is UTC's plus C0, shrinking to 0 at 1/S: the bound says so
	 * (the smear's is a time scale of its own, served as such, and adds nothing). */
	if (c->cfg.leapmode == CLK_LEAPMODE_SLEW)
		out->root_disp += fabs((double)c0 / 1e9);
	monotonic(c, out, was);
}

int core_leap_near(const struct clk_core *c, int64_t t1, int64_t t4)
{
	int64_t re, r1 = clk_disc_raw(&c->disc, t1), r4 = clk_disc_raw(&c->disc, t4);

	if (c->leap_dir) {
		re = clk_disc_raw_of_served(&c->disc, edge_ns(c->leap_m, c->leap_dir));
		if (r4 >= re - LEAP_GUARD_NS && r1 <= re + LEAP_GUARD_NS)
			return 1;
	}
	if (c->leap_done_m) {
		re = c->leap_done_r;
		if (r4 >= re - LEAP_GUARD_NS && r1 <= re + LEAP_GUARD_NS)
			return 1;
	}
	return 0;
}

int64_t core_leap_next(const struct clk_core *c)
{
	int64_t next = c->leap_dir ? c->leap_next : INT64_MAX, u;
	int applied;

	if (c->smear_set) {
		/* The window's ends, leap-free, on our served (UTC) scale. */
		applied = smear_applied(c);
		u = applied ? c->ls_served + c->smear.dir * NS_PER_SEC : c->ls_served;
		if (u < c->smear.start_ns && c->smear.start_ns < next)
			next = c->smear.start_ns;
		else if (u < c->smear.end_ns) {
			int64_t e = c->smear.end_ns - (applied ? c->smear.dir * NS_PER_SEC : 0);

			if (e < next)
				next = e;
		}
	}
	if (next == INT64_MAX)
		return INT64_MAX;
	return clk_disc_drv(&c->disc, clk_disc_raw_of_served(&c->disc, next));
}

int clk_core_leap_edge(const struct clk_core *c, int64_t *drv_ns)
{
	int64_t r;

	if (!c)
		return 0;
	if (c->leap_dir)
		r = clk_disc_raw_of_served(&c->disc, edge_ns(c->leap_m, c->leap_dir));
	else if (c->leap_done_m)
		r = c->leap_done_r;
	else
		return 0;
	*drv_ns = clk_disc_drv(&c->disc, r);
	return 1;
}
