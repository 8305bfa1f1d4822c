/*
 * The clock thread's loop. With upstream sources it runs the clock core
 * on the configured driver; without, it serves the local reference as
 * before. Either way it publishes a snapshot at least once a second,
 * after every sample, and logs what operators need: reachability changes
 * come from the core and the sources, the tracking summary on SIGUSR1.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock/driftfile.h"
#include "clock/kclock.h"
#include "daemon/clockd/clockd.h"
#include "daemon/control/control.h"
#include "daemon/sys/log.h"
#include "daemon/control/m6srv.h"
#include "daemon/serve/xguard.h"
#include "proto/ntp.h"

/* sources, resolver wake-up, signalfd, control listeners and connections, mode 6 queue */
#define CLOCKD_MAX_FDS (UP_MAX_SOURCES + 2 + CONTROL_MAX_FDS + 1)

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

static void publish(struct clockd *cd)
{
	struct clk_snapshot s;

	if (cd->use_core) {
		if (cd->drv->ops->tick)
			cd->drv->ops->tick(cd->drv);
		clk_core_update(cd->core, cd->drv->ops->now(cd->drv), &s);
	} else if (cd->cfg->local.enabled) {
		struct clk_kstate ks;

		if (clk_kernel_read(CLOCK_REALTIME, &ks) < 0)
			memset(&ks, 0, sizeof(ks)); /* unknown: treat as not synchronized */
		clk_local_update(&cd->local, &ks, clk_now_ns(CLOCK_REALTIME), &s);
		if (cd->drv) {
			/*
			 * A sim clock with no sources (a test's deliberately wrong
			 * server): serve the virtual clock, i.e. publish its mapping.
			 */
			int64_t now = sys_now(), dnow;

			if (cd->drv->ops->tick)
				cd->drv->ops->tick(cd->drv);
			dnow = clk_driver_from_sys(cd->drv, now);
			s.corr_ns = dnow - now;
			s.update_ns = dnow;
			{
				int64_t off, base;
				double f;

				cd->drv->ops->mapping(cd->drv, &off, &f, &base);
				s.corr_freq = f;
			}
			s.flags |= CLK_F_CORRECTED;
		}
	} else {
		return; /* nothing to follow: the snapshot stays unsynchronized */
	}
	clk_snapshot_publish(cd->pub, &s);
	xg_serve_publish(&s); /* `guard serve on`: the same snapshot to the XDP guard */
}

static void save_drift(struct clockd *cd)
{
	double f, sk;
	char why[160];

	if (!cd->use_core || !cd->cfg->clk.driftfile[0] || !clk_core_drift(cd->core, &f, &sk))
		return; /* nothing learnt yet: keep the old file */
	if (clk_driftfile_write(cd->cfg->clk.driftfile, f, sk, why, sizeof(why)) < 0)
		log_msg(LOG_WARNING, "driftfile %s: %s", cd->cfg->clk.driftfile, why);
	else
		log_msg(LOG_DEBUG, "driftfile %s: saved %.3f ppm, skew %.3f ppm",
			cd->cfg->clk.driftfile, f, sk);
}

int clockd_init(struct clockd *cd, const struct horod_config *cfg, struct clk_pub *pub,
		int precision)
{
	const struct cfg_clock *k = &cfg->clk;
	struct clk_core_cfg cc;
	char why[160];
	int discipline;

	memset(cd, 0, sizeof(*cd));
	cd->cfg = cfg;
	cd->pub = pub;
	cd->precision = precision;
	cd->use_core = k->n_servers > 0;
	cd->up.wake_fd = -1;
	if (cfg->local.enabled)
		clk_local_init(&cd->local, cfg->local.stratum, cfg->local.dispersion, precision,
			       clk_now_ns(CLOCK_REALTIME));
	cd->next_tick = sys_now() + CLOCKD_TICK_NS;
	cd->next_save = sys_now() + CLOCKD_DRIFT_SAVE_NS;
	if (!cd->use_core && k->driver == CFG_DRIVER_SIM) {
		struct clk_sim_cfg sc = {.offset = k->sim_offset,
					 .freq = k->sim_freq,
					 .wander = k->sim_wander,
					 .seed = k->sim_seed};

		cd->drv = clk_driver_sim(&sc, truth_sys, NULL);
		if (!cd->drv)
			return -1;
		log_msg(LOG_NOTICE,
			"driver sim without sources: serving the virtual clock "
			"(offset %g s, freq %g ppm) as the local reference",
			k->sim_offset, k->sim_freq);
	}
	if (!cd->use_core) {
		publish(cd);
		return 0;
	}

	discipline = k->discipline != 0; /* default (-1): on, since sources are configured */
	if (k->driver == CFG_DRIVER_SIM) {
		struct clk_sim_cfg sc = {.offset = k->sim_offset,
					 .freq = k->sim_freq,
					 .wander = k->sim_wander,
					 .seed = k->sim_seed};

		cd->drv = clk_driver_sim(&sc, truth_sys, NULL);
		snprintf(why, sizeof(why), "out of memory");
	} else {
		cd->drv = clk_driver_kernel(k->device[0] ? k->device : NULL, discipline, why,
					    sizeof(why));
	}
	if (!cd->drv) {
		log_msg(LOG_ERR, "clock driver %s: %s",
			k->driver == CFG_DRIVER_SIM ? "sim" : "kernel", why);
		return -1;
	}

	memset(&cc, 0, sizeof(cc));
	cc.discipline = discipline;
	cc.makestep_threshold = k->makestep_threshold;
	cc.makestep_limit = k->makestep_limit;
	cc.maxdistance = k->maxdistance;
	cc.holdover = k->holdover;
	cc.local_stratum = cfg->local.enabled ? cfg->local.stratum : 0;
	cc.local_dispersion = cfg->local.dispersion;
	cc.minsources = k->minsources;
	cc.precision = precision;
	cc.init_freq_ppm = 0;
	cc.init_skew_ppm = -1;
	if (k->driftfile[0]) {
		int stale = clk_driftfile_clean(k->driftfile);

		if (stale > 0)
			log_msg(LOG_NOTICE,
				"driftfile %s: removed %d temporary file(s) left by an "
				"interrupted save",
				k->driftfile, stale);
		if (clk_driftfile_read(k->driftfile, &cc.init_freq_ppm, &cc.init_skew_ppm, why,
				       sizeof(why)) < 0) {
			log_msg(LOG_WARNING, "driftfile %s: %s: starting without it", k->driftfile,
				why);
			cc.init_freq_ppm = 0;
			cc.init_skew_ppm = -1;
		} else {
			log_msg(LOG_INFO, "driftfile %s: frequency %.3f ppm, skew %.3f ppm",
				k->driftfile, cc.init_freq_ppm, cc.init_skew_ppm);
		}
	}
	cd->core = clk_core_create(&cc, cd->drv);
	if (!cd->core || up_init(&cd->up, k, cd->core, cd->drv) < 0) {
		log_msg(LOG_ERR, "clock core: cannot start");
		return -1;
	}
	if (!discipline)
		log_msg(LOG_NOTICE,
			"discipline off: the %s clock is never adjusted; horod serves "
			"it plus its own correction",
			cd->drv->ops->name);
	publish(cd);
	return 0;
}

int clockd_wait(struct clockd *cd, int sigfd)
{
	struct pollfd pfd[CLOCKD_MAX_FDS];
	int64_t now = sys_now(), wake = cd->next_tick;
	int n = 0, timeout_ms, r, got_signal = 0, c0 = 0, nc = 0, i, m6 = -1;

	pfd[n].fd = sigfd;
	pfd[n++].events = POLLIN;
	if (cd->use_core)
		n += up_pollfds(&cd->up, pfd + n, CLOCKD_MAX_FDS - n);
	if (cd->ctl) {
		c0 = n;
		nc = control_pollfds(cd->ctl, pfd + n, CLOCKD_MAX_FDS - n);
		n += nc;
	}
	if (cd->m6) {
		m6 = n;
		pfd[n].fd = m6q_fd(cd->m6);
		pfd[n++].events = POLLIN;
	}
	timeout_ms = wake > now ? (int)((wake - now) / 1000000) + 1 : 0;
	if (timeout_ms > 1000)
		timeout_ms = 1000;
	r = poll(pfd, (nfds_t)n, timeout_ms);
	if (r < 0 && errno != EINTR)
		log_msg(LOG_WARNING, "clock thread: poll: %s", strerror(errno));
	if (r > 0 && (pfd[0].revents & POLLIN))
		got_signal = 1;
	if (r > 0 && nc > 0) {
		control_handle(cd->ctl, pfd + c0, nc);
		for (i = c0; i < c0 + nc; i++)
			r -= pfd[i].revents != 0; /* control traffic is not a sample */
	}
	if (r > 0 && m6 >= 0 && pfd[m6].revents) {
		m6srv_drain(cd->m6, cd);
		r--; /* nor is mode 6 */
	}

	now = sys_now();
	if (cd->use_core) {
		int64_t dnow = cd->drv->ops->now(cd->drv);
		int64_t due = up_run(&cd->up, dnow);

		/* Samples arrived or polls went out: publish now rather than at the tick. */
		if (r > 1 || due <= dnow)
			publish(cd);
		if (due != INT64_MAX && due - dnow < cd->next_tick - now)
			cd->next_tick = now + (due - dnow > 0 ? due - dnow : 0);
	}
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
	struct clk_tracking t;
	struct clk_snapshot s;
	char refid[32];
	int i;

	clk_snapshot_read(cd->pub, &s);
	if (!cd->use_core) {
		log_msg(LOG_NOTICE, "tracking source=%s stratum=%d leap=%d rootdisp=%.6f",
			cd->cfg->local.enabled ? "local" : "none", s.stratum, s.leap,
			clk_snapshot_root_disp(&s, sys_now()));
		return;
	}
	clk_core_tracking(cd->core, cd->drv->ops->now(cd->drv), &t);
	{
		int64_t sys = sys_now();
		double te = cd->drv->ops->true_error
				    ? cd->drv->ops->true_error(cd->drv,
							       clk_snapshot_served(&s, sys), sys)
				    : NAN;

		log_msg(LOG_NOTICE,
			"tracking refid=%s stratum=%d leap=%d synced=%d offset=%.9f rms=%.9f "
			"freq=%.3f skew=%.3f rootdelay=%.6f rootdisp=%.6f updates=%d steps=%d "
			"true_error=%.9f",
			ntp_refid_format(t.refid, t.stratum, refid, sizeof(refid)), t.stratum,
			t.leap, t.synced, t.offset, t.rms_offset, t.freq_ppm, t.skew_ppm,
			t.root_delay, t.root_disp, t.updates, t.steps, te);
	}
	for (i = 0; i < clk_core_n_sources(cd->core); i++) {
		struct clk_source_info si;

		if (clk_core_source_info(cd->core, i, &si) < 0)
			continue;
		log_msg(LOG_NOTICE,
			"source %s tally=%c stratum=%d poll=%d reach=%03o delay=%.6f offset=%.6f "
			"jitter=%.6f flash=0x%x",
			si.name, si.tally == ' ' ? '_' : si.tally, si.stratum, si.poll, si.reach,
			si.delay, si.offset, si.jitter, si.flash);
	}
	log_msg(LOG_NOTICE, "upstream sent=%llu received=%llu valid=%llu bogus=%llu kod=%llu",
		(unsigned long long)cd->up.stats.sent, (unsigned long long)cd->up.stats.received,
		(unsigned long long)cd->up.stats.valid, (unsigned long long)cd->up.stats.bogus,
		(unsigned long long)cd->up.stats.kod);
}

const char *clockd_describe(const struct clockd *cd, char *buf, unsigned long len)
{
	if (cd->use_core)
		snprintf(buf, len, "%d upstream source%s, driver %s, discipline %s",
			 clk_core_n_sources(cd->core), clk_core_n_sources(cd->core) == 1 ? "" : "s",
			 cd->drv->ops->name, cd->drv->adjustable ? "on" : "off");
	else if (cd->cfg->local.enabled)
		snprintf(buf, len, "local reference");
	else
		snprintf(buf, len, "no time source (unsynchronized)");
	return buf;
}

void clockd_fini(struct clockd *cd)
{
	if (!cd->use_core) {
		if (cd->drv && cd->drv->ops->destroy)
			cd->drv->ops->destroy(cd->drv);
		cd->drv = NULL;
		return;
	}
	save_drift(cd);
	up_fini(&cd->up);
	if (cd->core)
		clk_core_destroy(cd->core);
	if (cd->drv && cd->drv->ops->destroy)
		cd->drv->ops->destroy(cd->drv);
	cd->core = NULL;
	cd->drv = NULL;
}
