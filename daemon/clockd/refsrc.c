/*
 * Reference clocks as sources of the clock core (see refsrc.h): samples
 * from the device readers, moved to driver time and collected per poll,
 * pulses numbered, each poll's samples filtered into one zero-delay
 * measurement; the source driver srcdrv_refclock opens the readers the
 * configuration names (a missing or unusable device stops horod at start
 * with a message naming it) and reports what the core does not know:
 * the device, its counters. Runs in the clock thread only.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock/filter.h"
#include "clock/kclock.h"
#include "clock/leapsec.h"
#include "daemon/clockd/refsrc.h"
#include "daemon/clockd/report.h"
#include "daemon/config/cfg_refclock.h"
#include "daemon/refclock/rc_phc.h"
#include "daemon/refclock/rc_pps.h"
#include "daemon/refclock/rc_shm.h"
#include "daemon/refclock/rc_sock.h"
#include "daemon/sys/log.h"
#include "proto/flash.h"
#include "proto/ntp.h"

#define RS_READ_BATCH 16 /* samples taken from a reader per read: a SOCK writer's burst */
/* deviations whose median is the measured noise: a few polls' worth at chrony's defaults,
 * so it follows a device whose noise changes, and half of them may be wild */
#define RS_NOISE_N 16
/* the median of a chi-square variable of one degree: median(dev^2) / this = variance */
#define RS_CHI2_MEDIAN 0.4549
/* deviations needed before the measured noise counts: a median of three */
#define RS_NOISE_MIN 3
/* s: the noise assumed until it is measured: what a reference timed by serial data (NMEA)
 * can be off; a better device shows it within five samples. Claiming less of a device not
 * yet seen would let its first samples fix the core's frequency estimate for good. */
#define RS_NOISE_UNKNOWN 1e-3
/* ns: the least age limit of a reader's samples (a 1 Hz writer's sample may wait a second
 * for our read, and the read another second behind a slow loop) */
#define RS_MIN_MAX_AGE_NS (2 * NS_PER_SEC)
/* mode 6's refclock addresses 127.127.TYPE.UNIT: ntpd's driver numbers (SHM 28, PPS 22);
 * PHC and SOCK have none in ntpd or NTPsec: type 0 */
#define RS_M6_TYPE_SHM	28
#define RS_M6_TYPE_PPS	22
#define RS_M6_TYPE_NONE 0

struct rs_clock {
	const struct cfg_refclock *cfg;
	struct rc_reader *rd;
	int id;		   /* its source in the core */
	uint32_t refid;	   /* ours while following it */
	int lock;	   /* the refclock numbering our pulses, -1 none */
	int64_t dpoll_ns;  /* ns between device reads */
	int64_t next_read; /* driver ns */
	int64_t offset_ns; /* the `offset` option */
	double prec_s;	   /* s: a sample's least error (`precision`, or our clock's) */
	struct rs_sample buf[RS_MAX_SAMPLES];
	int n;
	struct rs_sample last; /* newest whole-second sample, for the pulses locked to us */
	int have_last;
	struct rs_sample prev[2]; /* the two samples before the newest, raw, for the noise */
	int n_prev;
	double dev2[RS_NOISE_N]; /* s^2: the last deviations' variances (learn_noise) */
	int n_dev;		 /* deviations seen */
	double noise_var;	 /* s^2: the samples' noise (variance): RS_NOISE_UNKNOWN^2 until
				    measured */
	struct rs_counts ct;
	int silent;    /* polls in a row without a sample */
	int failing;   /* reads fail: logged once until they work again */
	int unreached; /* last poll found it unreachable: logged once */
	int heard;     /* a first sample was logged */
};

struct refsrc {
	struct clk_core *core;
	struct clk_driver *drv;
	int precision;			/* log2 s of our clock's reads */
	int steps;			/* the core's steps when we last looked */
	const struct ntp_leaptab *ltab; /* TAI - UTC for `tai` refclocks; NULL none */
	struct rs_clock rc[CFG_MAX_REFCLOCKS];
	int n;
};

/* ---- pure parts ----------------------------------------------------------- */

static int by_offset(const void *a, const void *b)
{
	const struct rs_sample *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

int refsrc_leap_split(struct rs_sample *s, int n, int64_t edge)
{
	int i, k = 0, after = 0;

	for (i = 0; i < n; i++)
		after += s[i].t >= edge + RS_LEAP_GUARD_NS;
	for (i = 0; i < n; i++) {
		if (s[i].t > edge - RS_LEAP_GUARD_NS && s[i].t < edge + RS_LEAP_GUARD_NS)
			continue; /* too close to tell which side the reference was on */
		if (after && s[i].t < edge)
			continue; /* before the edge, with samples after it: the older side */
		s[k++] = s[i];
	}
	return k;
}

int refsrc_filter(struct rs_sample *s, int n, struct rs_sample *out)
{
	int drop, i, k, newest;
	double dt = 0.0, doff = 0.0, err = 0.0;
	int64_t t0, o0;

	if (n <= 0)
		return 0;
	qsort(s, (size_t)n, sizeof(*s), by_offset);
	/* The outer fifth on each side, at least one once there is a median to keep. */
	drop = n / 5;
	if (drop < 1 && n >= 3)
		drop = 1;
	s += drop;
	k = n - 2 * drop;
	/* Sums relative to the first kept sample: exact in a double for any poll. */
	t0 = s[0].t;
	o0 = s[0].off;
	newest = 0;
	for (i = 0; i < k; i++) {
		dt += ns_diff(s[i].t, t0);
		doff += ns_diff(s[i].off, o0);
		if (s[i].err > err)
			err = s[i].err;
		if (s[i].t > s[newest].t)
			newest = i;
	}
	out->t = ns_add_sat(t0, ns_round_sat(dt / k));
	out->off = ns_add_sat(o0, ns_round_sat(doff / k));
	/* Sorted by offset: the spread is the last kept minus the first. */
	out->err = err + ns_dsec(s[k - 1].off, s[0].off) / 2.0;
	out->leap = s[newest].leap;
	return k;
}

int refsrc_number_pulse(int64_t t, int64_t est_ns, double est_err, int64_t offset_ns, int64_t *off)
{
	int64_t x, sec, ref;

	if (!(est_err >= 0.0) || est_err * NS_PER_SEC >= RS_PULSE_LIMIT_NS)
		return -1;
	/* The whole second nearest the estimate, shifted by the offset option. */
	if (__builtin_sub_overflow(est_ns, offset_ns, &x))
		return -1;
	sec = ns_floor_sec(x + NS_PER_SEC / 2);
	if (__builtin_mul_overflow(sec, NS_PER_SEC, &ref) ||
	    __builtin_add_overflow(ref, offset_ns, &ref))
		return -1;
	if (llabs(ref - est_ns) + (int64_t)(est_err * NS_PER_SEC) >= RS_PULSE_LIMIT_NS)
		return -1;
	if (__builtin_sub_overflow(ref, t, off))
		return -1;
	return 0;
}

/* ---- one refclock ---------------------------------------------------------- */

/* The log2 of S seconds rounded up, as an NTP precision (-30..0). */
static int log2_up(double s)
{
	int e = (int)ceil(log2(s));

	return e < -30 ? -30 : e > 0 ? 0 : e;
}

/*
 * Learn C's noise from sample X: on the core's raw timescale, where our
 * own slews and steps are taken out and a reference is a line over
 * seconds (the oscillator's frequency error), the middle of each three
 * consecutive samples against the line through the other two. Its
 * deviation has the variance of the noise times 1 + a^2 + b^2, the
 * squared weights of the ends. The noise is the median of the last
 * RS_NOISE_N such variances (over the median of a chi-square of one
 * degree): a jump of the reference, or of our clock by someone else,
 * moves it by one sample's worth, not by its size.
 */
static void learn_noise(struct refsrc *rs, struct rs_clock *c, const struct rs_sample *x)
{
	const struct rs_sample *a = &c->prev[0], *b = &c->prev[1];
	struct rs_sample r = *x;
	double span, wa, wc, dev, v[RS_NOISE_N];

	/* ref - raw = ref - driver + (driver - raw) */
	r.t = clk_core_raw(rs->core, x->t);
	r.off = ns_add_sat(x->off, x->t - r.t);
	if (c->n_prev == 2 && r.t > b->t && b->t > a->t &&
	    ns_diff(r.t, a->t) <= (double)RS_WINDOW_NS) {
		span = ns_diff(r.t, a->t);
		wa = ns_diff(r.t, b->t) / span;
		wc = ns_diff(b->t, a->t) / span;
		dev = (ns_diff(b->off, a->off) - wc * ns_diff(r.off, a->off)) / NS_PER_SEC;
		c->dev2[c->n_dev++ % RS_NOISE_N] = dev * dev / (1.0 + wa * wa + wc * wc);
		memcpy(v, c->dev2, sizeof(v));
		if (c->n_dev >= RS_NOISE_MIN)
			c->noise_var =
				clk_median(v, c->n_dev < RS_NOISE_N ? c->n_dev : RS_NOISE_N) /
				RS_CHI2_MEDIAN;
	}
	if (c->n_prev == 2)
		c->prev[0] = c->prev[1];
	c->prev[c->n_prev == 2 ? 1 : c->n_prev++] = r;
}

/* Keep sample X in C's poll (the oldest goes when it is full). */
static void keep(struct rs_clock *c, const struct rs_sample *x)
{
	if (c->n == RS_MAX_SAMPLES) {
		memmove(c->buf, c->buf + 1, sizeof(c->buf[0]) * (RS_MAX_SAMPLES - 1));
		c->n--;
		c->ct.old++;
	}
	c->buf[c->n++] = *x;
	c->ct.samples++;
	c->ct.noise = sqrt(c->noise_var);
}

/* Number the pulse of C at driver time T (NOW: driver time now); 0 with X's offset and leap. */
static int number(struct refsrc *rs, struct rs_clock *c, int64_t t, int64_t now,
		  struct rs_sample *x)
{
	if (c->lock >= 0) {
		const struct rs_clock *l = &rs->rc[c->lock];

		if (!l->have_last || llabs(t - l->last.t) >= RS_LOCK_AGE_NS)
			return -1;
		x->leap = l->last.leap;
		return refsrc_number_pulse(t, t + l->last.off, l->last.err, c->offset_ns, &x->off);
	} else {
		struct clk_tracking tr;

		/* Our own time, when it is good enough to name the second. */
		clk_core_tracking(rs->core, now, &tr);
		if (!tr.synced)
			return -1;
		x->leap = NTP_LEAP_NONE;
		return refsrc_number_pulse(t, clk_core_served(rs->core, t),
					   tr.root_delay / 2.0 + tr.root_disp, c->offset_ns,
					   &x->off);
	}
}

/* Take reader sample S of C into its poll. */
static void take(struct refsrc *rs, struct rs_clock *c, const struct rc_sample *s, int64_t now)
{
	struct rs_sample x;
	double claimed = s->precision ? ldexp(1.0, s->precision) : 0.0;

	if (s->leap == NTP_LEAP_UNSYNC) {
		c->ct.unsync++;
		return;
	}
	x.t = clk_driver_from_sys(rs->drv, s->local_ns);
	x.err = fmax(fmax(s->err, claimed), c->prec_s);
	x.leap = s->leap;
	if (s->flags & RC_PULSE) {
		if (number(rs, c, x.t, now, &x) < 0) {
			c->ct.unnumbered++;
			return;
		}
	} else {
		int64_t ref = s->ref_ns;

		/* `tai`: the reference's TAI less TAI - UTC; an inserted second has no UTC. */
		if (c->cfg->tai && clk_leap_tai_to_utc(rs->ltab, ref, &ref) < 0) {
			c->ct.unsync++;
			return;
		}
		/* Reference minus our driver time of the same instant, plus the offset option. */
		if (__builtin_sub_overflow(ref, x.t, &x.off) ||
		    __builtin_add_overflow(x.off, c->offset_ns, &x.off)) {
			c->rd->drops[RC_DROP_FORMAT]++;
			return;
		}
		c->last = x;
		c->have_last = 1;
	}
	learn_noise(rs, c, &x);
	/* No sample is better than the noise the device shows. */
	x.err = fmax(x.err, sqrt(c->noise_var));
	keep(c, &x);
}

/* Read C's device at NOW (driver) and SYS_NOW (CLOCK_REALTIME). */
static void read_device(struct refsrc *rs, struct rs_clock *c, int64_t now, int64_t sys_now)
{
	struct rc_sample s[RS_READ_BATCH];
	int n, i;

	n = rc_read(c->rd, sys_now, s, RS_READ_BATCH);
	if (n < 0) {
		c->ct.read_errors++;
		if (!c->failing)
			log_msg(LOG_WARNING, "refclock %s: reading %s: %s", c->cfg->name,
				c->rd->name, strerror(-n));
		c->failing = 1;
		return;
	}
	if (c->failing)
		log_msg(LOG_NOTICE, "refclock %s: %s reads again", c->cfg->name, c->rd->name);
	c->failing = 0;
	for (i = 0; i < n; i++)
		take(rs, c, &s[i], now);
}

/* C's poll at driver time NOW: its samples filtered into one measurement for the core. */
static void poll_clock(struct refsrc *rs, struct rs_clock *c, int64_t now)
{
	struct clk_source_info si;
	struct rs_sample f;
	struct clk_meas m;
	int64_t edge;
	int i, k = 0, kept;

	clk_core_poll_sent(rs->core, c->id, now);
	c->ct.polls++;
	/* Samples older than the window are out. */
	for (i = 0; i < c->n; i++)
		if (ns_diff(now, c->buf[i].t) <= (double)RS_WINDOW_NS)
			c->buf[k++] = c->buf[i];
		else
			c->ct.old++;
	c->n = 0;
	/* Never one median over a leap's edge: the reference's time steps there. */
	if (k && clk_core_leap_edge(rs->core, &edge)) {
		i = refsrc_leap_split(c->buf, k, edge);
		c->ct.old += (uint64_t)(k - i);
		k = i;
	}
	kept = refsrc_filter(c->buf, k, &f);
	if (kept == 0) {
		c->ct.empty++;
		c->silent++;
	} else {
		c->silent = 0;
		memset(&m, 0, sizeof(m));
		m.t1 = m.t4 = f.t;
		m.t2 = m.t3 = ns_add_sat(f.t, f.off);
		m.leap = f.leap;
		m.stratum = 0; /* a primary reference: we serve stratum 1 */
		/* The core's noise floor for it: the measured noise of a mean of KEPT samples. */
		m.precision = log2_up(fmax(c->prec_s, sqrt(c->noise_var / kept)));
		m.refid = c->refid;
		m.root_delay = c->cfg->delay;
		m.root_disp = f.err;
		clk_core_sample(rs->core, c->id, &m);
		if (!c->heard)
			log_msg(LOG_INFO,
				"refclock %s: first sample, offset %+.9f s (%d kept of %d)",
				c->cfg->name, ns_sec(f.off), kept, k);
		c->heard = 1;
	}
	if (clk_core_source_info(rs->core, c->id, &si) == 0) {
		int unreached = (si.flash & NTP_FLASH_PEER_UNREACH) != 0;

		if (unreached != c->unreached)
			log_msg(unreached ? LOG_WARNING : LOG_NOTICE,
				unreached ? "refclock %s: unreachable (no sample in %d polls)"
					  : "refclock %s: reachable again",
				c->cfg->name, RS_UNREACH_POLLS);
		c->unreached = unreached;
	}
}

/* ---- the set ------------------------------------------------------------- */

struct refsrc *refsrc_create(struct clk_core *core, struct clk_driver *drv, int precision)
{
	struct refsrc *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	rs->core = core;
	rs->drv = drv;
	rs->precision = precision;
	return rs;
}

void refsrc_set_leaptab(struct refsrc *rs, const struct ntp_leaptab *t)
{
	rs->ltab = t;
}

int refsrc_add(struct refsrc *rs, const struct cfg_refclock *cfg, struct rc_reader *rd)
{
	struct clk_source_cfg sc;
	struct rs_clock *c;

	if (cfg->tai && !rs->ltab) {
		log_msg(LOG_ERR, "refclock %s: 'tai' without a leap table (leapfile, leapsectz)",
			cfg->name);
		rc_close(rd);
		return -1;
	}
	if (rs->n >= CFG_MAX_REFCLOCKS) {
		log_msg(LOG_ERR, "refclock %s: more than %d refclocks", cfg->name,
			CFG_MAX_REFCLOCKS);
		rc_close(rd);
		return -1;
	}
	c = &rs->rc[rs->n];
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->rd = rd;
	c->lock = -1;
	c->refid = ntp_refid_ascii(cfg->refid);
	c->dpoll_ns = (int64_t)ldexp((double)NS_PER_SEC, cfg->dpoll);
	c->offset_ns = (int64_t)llround(cfg->offset * NS_PER_SEC);
	c->prec_s = cfg->precision > 0.0 ? cfg->precision : ldexp(1.0, rs->precision);
	c->noise_var = RS_NOISE_UNKNOWN * RS_NOISE_UNKNOWN;
	memset(&sc, 0, sizeof(sc));
	sc.kind = CLK_KIND_REFCLOCK;
	snprintf(sc.name, sizeof(sc.name), "%s", cfg->name);
	sc.refid = c->refid;
	sc.minpoll = sc.maxpoll = cfg->poll;
	sc.prefer = cfg->prefer;
	sc.noselect = cfg->noselect;
	sc.trust = cfg->trust;
	sc.unreach_polls = RS_UNREACH_POLLS;
	c->id = clk_core_add_source(rs->core, &sc);
	if (c->id < 0) {
		log_msg(LOG_ERR, "refclock %s: the clock core refused it", cfg->name);
		rc_close(rd);
		return -1;
	}
	rs->n++;
	return 0;
}

int refsrc_link(struct refsrc *rs)
{
	int i, j;

	for (i = 0; i < rs->n; i++) {
		struct rs_clock *c = &rs->rc[i];

		if (!c->cfg->lock[0])
			continue;
		for (j = 0; j < rs->n; j++)
			if (j != i && strcmp(rs->rc[j].cfg->refid, c->cfg->lock) == 0)
				c->lock = j;
		if (c->lock < 0) {
			/* The configuration checks it (cfg_refclock_check): only a caller's bug. */
			log_msg(LOG_ERR, "refclock %s: lock %s names no refclock", c->cfg->name,
				c->cfg->lock);
			return -1;
		}
	}
	return 0;
}

int64_t refsrc_run(struct refsrc *rs, int64_t now, int64_t sys_now)
{
	int64_t next = INT64_MAX, due;
	int i, pass;

	/* A step of our clock puts the samples taken before it on another timescale than
	 * the ones after: a poll never mixes them (a real reference's are all after). */
	if (clk_core_steps(rs->core) != rs->steps) {
		rs->steps = clk_core_steps(rs->core);
		for (i = 0; i < rs->n; i++) {
			rs->rc[i].ct.old += (uint64_t)rs->rc[i].n;
			rs->rc[i].n = 0;
			rs->rc[i].have_last = 0;
			rs->rc[i].n_prev = 0;
		}
	}
	/* Devices first, those numbered by a lock second: a pulse then meets the newest
	 * sample of its lock. A socket is read whenever we run (what waits is read, nothing
	 * blocks); a device on its dpoll, keeping its phase. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < rs->n; i++) {
			struct rs_clock *c = &rs->rc[i];

			if ((c->lock >= 0) != pass || (c->rd->fd < 0 && c->next_read > now))
				continue;
			read_device(rs, c, now, sys_now);
			if (c->next_read <= now)
				c->next_read = now - c->next_read < c->dpoll_ns
						       ? c->next_read + c->dpoll_ns
						       : now + c->dpoll_ns;
		}
	for (i = 0; i < rs->n; i++) {
		struct rs_clock *c = &rs->rc[i];

		if (c->rd->fd < 0 && c->next_read < next)
			next = c->next_read;
		due = clk_core_next_poll(rs->core, c->id);
		if (due <= now) {
			poll_clock(rs, c, now);
			due = clk_core_next_poll(rs->core, c->id);
		}
		if (due < next)
			next = due;
	}
	return next;
}

int refsrc_counts(const struct refsrc *rs, int i, struct rs_counts *out,
		  const struct rc_reader **rd)
{
	if (!rs || i < 0 || i >= rs->n)
		return -1;
	*out = rs->rc[i].ct;
	if (rd)
		*rd = rs->rc[i].rd;
	return 0;
}

void refsrc_destroy(struct refsrc *rs)
{
	int i;

	if (!rs)
		return;
	for (i = 0; i < rs->n; i++)
		rc_close(rs->rc[i].rd);
	free(rs);
}

/* ---- the source driver (srcdrv.h) ---------------------------------------- */

/* The reader refclock CFG asks for, opened (SHM and SOCK samples older than MAX_AGE_NS are
 * stale); NULL with WHY naming the device. */
static struct rc_reader *open_reader(const struct cfg_refclock *cfg, int64_t max_age_ns, char *why,
				     size_t len)
{
	switch (cfg->driver) {
	case CFG_RC_SHM:
		return rc_shm_open(rc_shm_key(cfg->unit), cfg->perm, max_age_ns, why, len);
	case CFG_RC_SOCK:
		/* Root's (or our user's) alone: only a trusted writer may tell us the time. */
		return rc_sock_open(cfg->path, 0600, max_age_ns, why, len);
	case CFG_RC_PHC:
		return rc_phc_open(cfg->path, NULL, why, len);
	case CFG_RC_PPS:
		return rc_pps_open(cfg->path, cfg->clear, NULL, why, len);
	}
	snprintf(why, len, "unknown driver");
	return NULL;
}

/* A PHC's first read, at start: finds the ioctl it supports, or says why none. */
static int probe_phc(struct rc_reader *rd, char *why, size_t len)
{
	struct rc_sample s;
	int n = rc_read(rd, clk_now_ns(CLOCK_REALTIME), &s, 1);

	if (n < 0) {
		snprintf(why, len, "%s: no PTP_SYS_OFFSET ioctl works: %s", rd->name, strerror(-n));
		return -1;
	}
	return 0;
}

static int rcd_init(struct srcdrv *d, const struct srcdrv_env *env)
{
	const struct cfg_clock *k = &env->cfg->clk;
	struct refsrc *rs;
	char why[256];
	int i;

	if (k->n_refclocks == 0)
		return 1;
	rs = refsrc_create(env->core, env->drv, env->precision);
	if (!rs) {
		log_msg(LOG_ERR, "refclock: out of memory");
		return -1;
	}
	if (env->cfg->leap.src != CFG_LEAP_NONE)
		refsrc_set_leaptab(rs, &env->cfg->leap.tab);
	for (i = 0; i < k->n_refclocks; i++) {
		const struct cfg_refclock *cfg = &k->refclocks[i];
		int64_t age = (int64_t)ldexp((double)NS_PER_SEC, cfg->dpoll + 1);
		struct rc_reader *rd;

		rd = open_reader(cfg, age > RS_MIN_MAX_AGE_NS ? age : RS_MIN_MAX_AGE_NS, why,
				 sizeof(why));
		if (rd && cfg->driver == CFG_RC_PHC && probe_phc(rd, why, sizeof(why)) < 0) {
			rc_close(rd);
			rd = NULL;
		}
		if (!rd) {
			log_msg(LOG_ERR, "refclock %s (line %d): %s", cfg->name, cfg->line, why);
			refsrc_destroy(rs);
			return -1;
		}
		log_msg(LOG_INFO, "refclock %s: %s, refid %s, poll %d, dpoll %d%s%s", cfg->name,
			rd->name, cfg->refid, cfg->poll, cfg->dpoll,
			cfg->lock[0] ? ", pulses locked" : "",
			cfg->tai ? ", TAI (TAI - UTC from the leap table)" : "");
		if (refsrc_add(rs, cfg, rd) < 0) {
			refsrc_destroy(rs);
			return -1;
		}
	}
	if (refsrc_link(rs) < 0) {
		refsrc_destroy(rs);
		return -1;
	}
	d->priv = rs;
	return 0;
}

static int rcd_pollfds(struct srcdrv *d, struct pollfd *pfd, int max)
{
	const struct refsrc *rs = d->priv;
	int i, n = 0;

	for (i = 0; i < rs->n && n < max; i++) {
		if (rs->rc[i].rd->fd < 0)
			continue;
		pfd[n].fd = rs->rc[i].rd->fd;
		pfd[n++].events = POLLIN;
	}
	return n;
}

static int64_t rcd_run(struct srcdrv *d, int64_t now)
{
	return refsrc_run(d->priv, now, clk_now_ns(CLOCK_REALTIME));
}

/* ntpd's clock type of driver D, for mode 6's 127.127.TYPE.UNIT. */
static int m6_type(enum cfg_rc_driver d)
{
	return d == CFG_RC_SHM	 ? RS_M6_TYPE_SHM
	       : d == CFG_RC_PPS ? RS_M6_TYPE_PPS
				 : RS_M6_TYPE_NONE;
}

static int rcd_describe(const struct srcdrv *d, int id, struct clockd_source *out)
{
	const struct refsrc *rs = d->priv;
	const struct rs_clock *c = NULL;
	const char *num;
	int i;

	for (i = 0; i < rs->n && !c; i++)
		if (rs->rc[i].id == id)
			c = &rs->rc[i];
	if (!c)
		return -1;
	out->configured = 1;
	out->unanswered = c->silent;
	snprintf(out->rc_driver, sizeof(out->rc_driver), "%s", cfg_rc_driver_name(c->cfg->driver));
	snprintf(out->rc_device, sizeof(out->rc_device), "%s", c->rd->name);
	/* The name's number: SHM0 -> 0; ntpq shows a refclock as DRIVER(UNIT). */
	num = c->cfg->name + strcspn(c->cfg->name, "0123456789");
	out->rc_type = m6_type(c->cfg->driver);
	out->rc_unit = atoi(num) & 0xff;
	snprintf(out->rc_srchost, sizeof(out->rc_srchost), "%s(%s)", out->rc_driver, num);
	out->rc = c->ct;
	memcpy(out->rc_drops, c->rd->drops, sizeof(out->rc_drops));
	return 0;
}

static void rcd_log_status(const struct srcdrv *d)
{
	const struct refsrc *rs = d->priv;
	char drops[256];
	int i, r;

	for (i = 0; i < rs->n; i++) {
		const struct rs_clock *c = &rs->rc[i];
		size_t p = 0;

		drops[0] = '\0';
		for (r = 0; r < RC_DROP_N && p < sizeof(drops); r++)
			p += (size_t)snprintf(drops + p, sizeof(drops) - p, " %s=%llu",
					      rc_drop_names[r],
					      (unsigned long long)c->rd->drops[r]);
		log_msg(LOG_NOTICE,
			"refclock %s samples=%llu polls=%llu empty=%llu unsync=%llu "
			"unnumbered=%llu old=%llu read_errors=%llu%s",
			c->cfg->name, (unsigned long long)c->ct.samples,
			(unsigned long long)c->ct.polls, (unsigned long long)c->ct.empty,
			(unsigned long long)c->ct.unsync, (unsigned long long)c->ct.unnumbered,
			(unsigned long long)c->ct.old, (unsigned long long)c->ct.read_errors,
			drops);
	}
}

static void rcd_fini(struct srcdrv *d)
{
	refsrc_destroy(d->priv);
	d->priv = NULL;
}

const struct srcdrv_ops srcdrv_refclock = {
	.name = "refclock",
	.init = rcd_init,
	.pollfds = rcd_pollfds,
	.run = rcd_run,
	.describe = rcd_describe,
	.log_status = rcd_log_status,
	.fini = rcd_fini,
};
