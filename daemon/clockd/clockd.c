/*
 * The clock thread's loop. It runs the clock core on the configured
 * driver with every source the configuration has (reference clocks, NTP
 * servers and pools, the local reference), each kind behind its source
 * driver (srcdrv.h), which the loop runs alike: their descriptors
 * in one poll with the registered pollers', then their I/O and polls.
 * It publishes a snapshot at least once a second, when polls go out,
 * when samples arrive and at the core's own events (a leap second's
 * edge, clk_core_next_event), and hands each to the publish hook. It logs what
 * operators need: reachability changes come from the core and the
 * sources, the tracking summary on SIGUSR1 (the figures from report.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock/driftfile.h"
#include "clock/kclock.h"
#include "clock/leapload.h"
#include "daemon/clockd/clockd.h"
#include "daemon/clockd/refsrc.h"
#include "daemon/clockd/report.h"
#include "daemon/sys/log.h"
#include "proto/appendf.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

/* descriptors the loop waits on: the signalfd; every NTP source's socket and the resolver's
 * wake-up (CLK_MAX_SOURCES + 1); the SOCK refclocks' (CFG_MAX_REFCLOCKS); the pollers' (the
 * control socket's 18, the mode 6 queue's 1) */
#define CLOCKD_MAX_FDS 128

/* Every kind of source, in the order their sources join the core (mode 6 association ids
 * follow it): reference clocks, NTP servers and pools, then the local reference. */
static const struct srcdrv_ops *const clockd_srcdrvs[] = {&srcdrv_refclock, &srcdrv_ntp,
							  &srcdrv_local};

static int64_t sys_now(void)
{
	return clk_now_ns(CLOCK_REALTIME);
}

/* The sim driver's truth in the daemon: the system clock. */
static int64_t truth_sys(void *arg)
{
	(void)arg;
	return sys_now();
}

/* Log the leap table's expiry when its state changed at served time NOW (ns). */
static void leap_expiry_log(struct clockd *cd, int64_t now)
{
	const struct cfg_leap *l = &cd->cfg->leap;
	int64_t s = now / NS_PER_SEC;
	int e;
	char desc[256];

	if (l->src == CFG_LEAP_NONE)
		return;
	e = clk_leap_expiry(&l->tab, s);
	if (e == cd->leap_exp)
		return;
	cd->leap_exp = e;
	clk_leap_describe(&l->tab, s, desc, sizeof(desc));
	if (e == CLK_LEAP_EXP_EXPIRED)
		log_msg(LOG_WARNING,
			"leap table %s has expired: it gives no authority, leap seconds come from "
			"the sources' bits (%s)",
			l->path, desc);
	else if (e == CLK_LEAP_EXP_SOON)
		log_msg(LOG_WARNING, "leap table %s expires within %d days: update it (%s)",
			l->path, CLK_LEAP_EXPIRY_WARN_S / 86400, desc);
	else
		log_msg(LOG_INFO, "leap table %s: %s", l->path, desc);
}

/* ms: how long a leap fence stands before the step and after it: a worker's batch begun on
 * the last snapshot ends (microseconds), and requests the kernel stamped before the step are
 * answered from the fence, not mapped by the new snapshot */
#define CLOCKD_FENCE_MS 2
/* ns: how long after a leap step the snapshots carry the clock's reading just after it, so
 * a worker recognises a request the kernel stamped before the step (a step forward); far
 * longer than a request waits in a socket, far shorter than the next leap */
#define CLOCKD_STEP_KEEP_NS (10 * NS_PER_SEC)

/*
 * The core is about to step the steered clock at a leap's edge: the
 * snapshot published maps the clock before the step (under the smear or
 * the slew with a correction that changes by the leap at that very
 * moment), and a request served on it with a clock read after the step
 * would get a time 1 s off. Publish the same snapshot unsynchronized (LI
 * 3, stratum 16: clients take no time from it) and let the workers' batches
 * on the old one end; the publication after the step waits as long again
 * before the new mapping is served. The step is counted in the
 * publication (clk_pub_fence): a worker that read the old snapshot before
 * the fence and the clock after the step (preempted longer than the fence)
 * finds it out (clk_snapshot_maps) and answers unsynchronized.
 */
static void leap_fence(void *arg)
{
	struct clockd *cd = arg;
	struct clk_snapshot s;

	clk_pub_fence(cd->pub, &s);
	if (cd->on_publish)
		cd->on_publish(cd->on_publish_arg, &s);
	poll(NULL, 0, CLOCKD_FENCE_MS);
	cd->fenced = 1;
	log_msg(LOG_INFO, "leap second: stepping the clock behind an unsynchronized snapshot");
}

static void publish(struct clockd *cd)
{
	struct clk_snapshot s;
	int64_t now;
	int i;

	/* Published in every configuration, also with no source at all (then
	 * unsynchronized): the XDP guard serves only fresh publications. */
	if (cd->drv->ops->tick)
		cd->drv->ops->tick(cd->drv);
	now = cd->drv->ops->now(cd->drv);
	for (i = 0; i < cd->n_src; i++)
		if (cd->src[i].ops->refresh)
			cd->src[i].ops->refresh(&cd->src[i], now);
	clk_core_update(cd->core, now, &s);
	/* The clock the workers and the kernel's stamps read, just after the step: a request
	 * stamped earlier is not mapped by the snapshots that follow (a step forward). */
	if (cd->fenced)
		cd->step_sys = clk_now_ns(CLOCK_REALTIME);
	if (cd->step_sys && clk_now_ns(CLOCK_REALTIME) >= cd->step_sys &&
	    clk_now_ns(CLOCK_REALTIME) - cd->step_sys < CLOCKD_STEP_KEEP_NS)
		s.step_sys = cd->step_sys;
	else
		cd->step_sys = 0;
	leap_expiry_log(cd, s.update_ns);
	if (cd->fenced) {
		poll(NULL, 0, CLOCKD_FENCE_MS);
		cd->fenced = 0;
	}
	clk_snapshot_publish(cd->pub, &s);
	if (cd->on_publish)
		cd->on_publish(cd->on_publish_arg, &s);
}

static void save_drift(struct clockd *cd)
{
	double f, sk;
	char why[160];

	if (!cd->cfg->clk.driftfile[0] || !clk_core_drift(cd->core, &f, &sk))
		return; /* nothing learnt yet (or nothing to learn from): keep the old file */
	if (clk_driftfile_write(cd->cfg->clk.driftfile, f, sk, why, sizeof(why)) < 0)
		log_msg(LOG_WARNING, "driftfile %s: %s", cd->cfg->clk.driftfile, why);
	else
		log_msg(LOG_DEBUG, "driftfile %s: saved %.3f ppm, skew %.3f ppm",
			cd->cfg->clk.driftfile, f, sk);
}

/* The driftfile's frequency and skew into CC, when there is one to read. */
static void read_drift(const char *path, struct clk_core_cfg *cc)
{
	char why[160];
	int stale = clk_driftfile_clean(path);

	if (stale > 0)
		log_msg(LOG_NOTICE,
			"driftfile %s: removed %d temporary file(s) left by an interrupted save",
			path, stale);
	if (clk_driftfile_read(path, &cc->init_freq_ppm, &cc->init_skew_ppm, why, sizeof(why)) <
	    0) {
		log_msg(LOG_WARNING, "driftfile %s: %s: starting without it", path, why);
		cc->init_freq_ppm = 0;
		cc->init_skew_ppm = -1;
	} else {
		log_msg(LOG_INFO, "driftfile %s: frequency %.3f ppm, skew %.3f ppm", path,
			cc->init_freq_ppm, cc->init_skew_ppm);
	}
}

/* The clock driver K asks for; NULL (logged) on failure. MEASURING: sources that measure
 * are configured; without them the system clock is served as it is, never adjusted. */
static struct clk_driver *open_driver(const struct cfg_clock *k, int measuring, int discipline)
{
	struct clk_driver *drv;
	char why[160];

	if (k->driver == CFG_DRIVER_SIM) {
		struct clk_sim_cfg sc = {
			.offset = k->sim_offset,
			.freq = k->sim_freq,
			.wander = k->sim_wander,
			.seed = k->sim_seed,
			.shift_ns = k->sim_date ? k->sim_date * NS_PER_SEC - sys_now() : 0};

		drv = clk_driver_sim(&sc, truth_sys, NULL);
		snprintf(why, sizeof(why), "out of memory");
		if (drv && !measuring)
			log_msg(LOG_NOTICE,
				"driver sim without sources: serving the virtual clock "
				"(offset %g s, freq %g ppm) as the local reference",
				k->sim_offset, k->sim_freq);
	} else {
		drv = clk_driver_kernel(measuring && k->device[0] ? k->device : NULL, discipline,
					why, sizeof(why));
	}
	if (!drv)
		log_msg(LOG_ERR, "clock driver %s: %s",
			k->driver == CFG_DRIVER_SIM ? "sim" : "kernel", why);
	return drv;
}

int clockd_init(struct clockd *cd, const struct horod_config *cfg, struct clk_pub *pub,
		int precision)
{
	const struct cfg_clock *k = &cfg->clk;
	/* Only sources that measure can discipline the clock or learn its frequency. */
	int measuring = k->n_servers > 0 || k->n_refclocks > 0;
	/* default (-1): on when there is something to discipline with */
	int discipline = measuring && k->discipline != 0;
	struct srcdrv_env env;
	struct clk_core_cfg cc;
	size_t i;
	int r;

	memset(cd, 0, sizeof(*cd));
	cd->cfg = cfg;
	cd->pub = pub;
	cd->precision = precision;
	cd->next_tick = sys_now() + CLOCKD_TICK_NS;
	cd->next_save = sys_now() + CLOCKD_DRIFT_SAVE_NS;
	cd->drv = open_driver(k, measuring, discipline);
	if (!cd->drv)
		return -1;

	memset(&cc, 0, sizeof(cc));
	cc.discipline = discipline;
	cc.makestep_threshold = k->makestep_threshold;
	cc.makestep_limit = k->makestep_limit;
	cc.maxdistance = k->maxdistance;
	cc.holdover = k->holdover;
	cc.minsources = k->minsources;
	cc.precision = precision;
	cc.init_freq_ppm = 0;
	cc.init_skew_ppm = -1;
	cc.leapmode = cfg->leap.mode;
	cc.smear_s = cfg->leap.smear_s;
	cc.leap_fence = leap_fence;
	cc.leap_fence_arg = cd;
	if (measuring && k->driftfile[0])
		read_drift(k->driftfile, &cc);
	cd->core = clk_core_create(&cc, cd->drv);
	if (!cd->core) {
		log_msg(LOG_ERR, "clock core: cannot start");
		return -1;
	}
	cd->leap_exp = -1;
	if (cfg->leap.src != CFG_LEAP_NONE)
		clk_core_set_leaptab(cd->core, &cfg->leap.tab);
	env.cfg = cfg;
	env.core = cd->core;
	env.drv = cd->drv;
	env.precision = precision;
	for (i = 0; i < sizeof(clockd_srcdrvs) / sizeof(clockd_srcdrvs[0]); i++) {
		struct srcdrv *d = &cd->src[cd->n_src];

		d->ops = clockd_srcdrvs[i];
		d->priv = NULL;
		r = d->ops->init(d, &env);
		if (r < 0) {
			log_msg(LOG_ERR, "clock core: cannot start");
			return -1;
		}
		if (r == 0)
			cd->n_src++;
	}
	if (measuring && !discipline)
		log_msg(LOG_NOTICE,
			"discipline off: the %s clock is never adjusted; horod serves "
			"it plus its own correction",
			cd->drv->ops->name);
	publish(cd);
	return 0;
}

int clockd_add_poller(struct clockd *cd, const struct clockd_poller *p)
{
	if (cd->n_pollers >= CLOCKD_MAX_POLLERS)
		return -1;
	cd->poller[cd->n_pollers++] = *p;
	return 0;
}

void clockd_on_publish(struct clockd *cd, clockd_publish_fn fn, void *arg)
{
	cd->on_publish = fn;
	cd->on_publish_arg = arg;
}

int clockd_wait(struct clockd *cd, int sigfd)
{
	struct pollfd pfd[CLOCKD_MAX_FDS];
	int first[CLOCKD_MAX_POLLERS], count[CLOCKD_MAX_POLLERS];
	int64_t now = sys_now(), wake = cd->next_tick, dnow, due = INT64_MAX, t;
	int n = 0, own, timeout_ms, r, ready = 0, got_signal = 0, i, j;

	pfd[n].fd = sigfd;
	pfd[n++].events = POLLIN;
	for (i = 0; i < cd->n_src; i++)
		if (cd->src[i].ops->pollfds)
			n += cd->src[i].ops->pollfds(&cd->src[i], pfd + n, CLOCKD_MAX_FDS - n);
	own = n; /* after the signal, the sources: what a sample can come through */
	for (i = 0; i < cd->n_pollers; i++) {
		first[i] = n;
		count[i] = cd->poller[i].fds(cd->poller[i].arg, pfd + n, CLOCKD_MAX_FDS - n);
		n += count[i];
	}
	timeout_ms = wake > now ? (int)((wake - now) / 1000000) + 1 : 0;
	if (timeout_ms > 1000)
		timeout_ms = 1000;
	r = poll(pfd, (nfds_t)n, timeout_ms);
	if (r < 0 && errno != EINTR)
		log_msg(LOG_WARNING, "clock thread: poll: %s", strerror(errno));
	if (r > 0) {
		got_signal = (pfd[0].revents & POLLIN) != 0;
		for (j = 1; j < own; j++)
			ready += pfd[j].revents != 0;
		/* Control traffic and mode 6 are answered here; they are no samples. */
		for (i = 0; i < cd->n_pollers; i++)
			for (j = first[i]; j < first[i] + count[i]; j++)
				if (pfd[j].revents) {
					cd->poller[i].handle(cd->poller[i].arg, pfd + first[i],
							     count[i]);
					break;
				}
	}

	now = sys_now();
	dnow = cd->drv->ops->now(cd->drv);
	for (i = 0; i < cd->n_src; i++) {
		if (!cd->src[i].ops->run)
			continue;
		t = cd->src[i].ops->run(&cd->src[i], dnow);
		if (t < due)
			due = t;
	}
	/* The core's own event (a leap second's edge) is due like a poll. */
	t = clk_core_next_event(cd->core);
	if (t < due)
		due = t;
	/* Samples arrived or polls went out: publish now rather than at the tick. */
	if (ready > 0 || due <= dnow)
		publish(cd);
	if (due != INT64_MAX && due - dnow < cd->next_tick - now)
		cd->next_tick = now + (due - dnow > 0 ? due - dnow : 0);
	if (now >= cd->next_tick) {
		publish(cd);
		cd->next_tick = now + CLOCKD_TICK_NS;
	}
	if (now >= cd->next_save) {
		save_drift(cd);
		cd->next_save = now + CLOCKD_DRIFT_SAVE_NS;
	}
	return got_signal;
}

void clockd_log_status(struct clockd *cd)
{
	struct clockd_tracking t;
	struct clockd_source si;
	char refid[32];
	int i;

	clockd_report_tracking(cd, &t);
	if (t.mode != CLOCKD_MODE_NTP) {
		log_msg(LOG_NOTICE, "tracking source=%s stratum=%d leap=%d rootdisp=%.6f",
			t.mode == CLOCKD_MODE_LOCAL ? "local" : "none", t.snap.stratum, t.snap.leap,
			clk_snapshot_root_disp(&t.snap, t.sys_ns));
		return;
	}
	log_msg(LOG_NOTICE,
		"tracking refid=%s stratum=%d leap=%d synced=%d offset=%.9f rms=%.9f "
		"freq=%.3f skew=%.3f rootdelay=%.6f rootdisp=%.6f updates=%d steps=%d "
		"true_error=%.9f",
		ntp_refid_format(t.refid, t.stratum, refid, sizeof(refid)), t.stratum, t.leap,
		t.synced, t.offset, t.rms_offset, t.freq_ppm, t.skew_ppm, t.root_delay, t.root_disp,
		t.updates, t.steps, t.true_error);
	for (i = 0; i < t.n_sources; i++) {
		if (clockd_report_source(cd, i, &si) < 0)
			continue;
		log_msg(LOG_NOTICE,
			"source %s tally=%c stratum=%d poll=%d reach=%03o delay=%.6f offset=%.6f "
			"jitter=%.6f flash=0x%x",
			si.name, si.tally == ' ' ? '_' : si.tally, si.stratum, si.poll, si.reach,
			si.delay, si.offset, si.jitter, si.flash);
	}
	for (i = 0; i < cd->n_src; i++)
		if (cd->src[i].ops->log_status)
			cd->src[i].ops->log_status(&cd->src[i]);
}

const char *clockd_describe(const struct clockd *cd, char *buf, unsigned long len)
{
	struct clockd_tracking t;
	struct ntp_text o;
	int rc = cd->cfg->clk.n_refclocks, up;

	clockd_report_tracking(cd, &t);
	ntp_text_init(&o, buf, len);
	up = t.n_sources - rc;
	if (t.mode == CLOCKD_MODE_NTP) {
		if (rc)
			ntp_textf(&o, "%d reference clock%s%s", rc, rc == 1 ? "" : "s",
				  up ? " and " : "");
		if (up || !rc)
			ntp_textf(&o, "%d upstream source%s", up, up == 1 ? "" : "s");
		ntp_textf(&o, ", driver %s, discipline %s", t.driver, t.discipline ? "on" : "off");
	} else if (t.mode == CLOCKD_MODE_LOCAL) {
		ntp_textf(&o, "local reference");
	} else {
		ntp_textf(&o, "no time source (unsynchronized)");
	}
	return buf;
}

void clockd_fini(struct clockd *cd)
{
	int i;

	if (cd->core)
		save_drift(cd);
	for (i = cd->n_src - 1; i >= 0; i--)
		cd->src[i].ops->fini(&cd->src[i]);
	cd->n_src = 0;
	if (cd->core)
		clk_core_destroy(cd->core);
	if (cd->drv && cd->drv->ops->destroy)
		cd->drv->ops->destroy(cd->drv);
	cd->core = NULL;
	cd->drv = NULL;
}
