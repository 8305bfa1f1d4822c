/*
 * The clock core's leap seconds, in one place: which leap the sources
 * announce, when to announce it and arm the driver, and what happens at
 * its edge. Issue 16's stage B replaces the decision (core_leap_update's
 * first half) with the leap file, `leapsecmode` and the smear; the edge
 * handling stays.
 *
 * Today's decision: a majority of the survivors announcing LI 1 or 2
 * (the core's leap_vote) names the leap at the end of the current UTC
 * month, counted only in June and December (clk_leap_bits_midnight:
 * servers set LI weeks early); it is announced, and armed in the driver
 * through set_status, during its last day only (clk_leap_due), so Linux
 * never inserts it on another midnight. With no survivors the plan holds.
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
 */
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

	if ((make || c->disc.steer) && clk_disc_leap(&c->disc, r, -dir, make) == 0)
		for (i = 0; i < c->n; i++)
			clk_src_leap(&c->src[i], dir);
	c->leap_done_m = c->leap_m;
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

void core_leap_update(struct clk_core *c, int64_t r, int vote)
{
	int64_t served = clk_disc_served(&c->disc, r), m, e;

	if (vote == NTP_LEAP_INSERT || vote == NTP_LEAP_DELETE) {
		if (clk_leap_bits_midnight(served, &m) && m != c->leap_done_m &&
		    (!c->leap_dir || m != c->leap_m)) {
			c->leap_dir = vote == NTP_LEAP_INSERT ? 1 : -1;
			c->leap_m = m;
			c->drv_leaps = drv_leaps(c); /* leaps from before the plan are not it */
		}
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
	if (clk_leap_due(c->leap_m, served))
		c->leap_li = c->leap_dir > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
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
	if (!c->leap_dir || c->leap_next == INT64_MAX)
		return INT64_MAX;
	return clk_disc_drv(&c->disc, clk_disc_raw_of_served(&c->disc, c->leap_next));
}
