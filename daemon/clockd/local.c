/*
 * The local reference as a source of the clock core: one source, no
 * socket and no schedule of its own. The kernel clock's state is read at
 * every publication (the refresh of srcdrv.h), so the snapshot always
 * carries the kernel's word of that instant, as when the local reference
 * lived outside the core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/clockd/local.h"
#include "daemon/clockd/srcdrv.h"
#include "daemon/sys/log.h"
#include "proto/flash.h"
#include "proto/ntp.h"

struct lref {
	struct clk_core *core;
	int id;	       /* its source in the core */
	int stratum;   /* served, 1..15 */
	int precision; /* log2 s, ours */
};

/* The measurement KS makes at NOW: 1 and M filled when the kernel vouches for its clock. */
static int lref_meas(const struct clk_kstate *ks, int64_t now, int stratum, int precision,
		     struct clk_meas *m)
{
	if (!ks->synced)
		return 0;
	memset(m, 0, sizeof(*m));
	/* The clock against itself: one instant on both sides, no delay. */
	m->t1 = m->t2 = m->t3 = m->t4 = now;
	m->leap = ks->leap;
	m->stratum = stratum - 1; /* the source's: we serve it one lower, at STRATUM */
	m->precision = precision;
	m->refid = ntp_refid_ascii("LOCL");
	m->root_delay = 0.0;
	m->root_disp = ks->esterror;
	return 1;
}

void lref_hand(struct clk_core *core, int id, const struct clk_kstate *ks, int64_t now, int stratum,
	       int precision)
{
	struct clk_meas m;

	clk_core_poll_sent(core, id, now);
	if (lref_meas(ks, now, stratum, precision, &m))
		clk_core_sample(core, id, &m);
	else
		clk_core_reject(core, id, NTP_FLASH_UNSYNC);
}

static int lref_init(struct srcdrv *d, const struct srcdrv_env *env)
{
	struct clk_source_cfg sc = {.kind = CLK_KIND_LOCAL};
	struct lref *l;

	if (!env->cfg->local.enabled)
		return 1;
	l = calloc(1, sizeof(*l));
	if (!l) {
		log_msg(LOG_ERR, "local reference: out of memory");
		return -1;
	}
	snprintf(sc.name, sizeof(sc.name), "local");
	sc.refid = ntp_refid_ascii("LOCL");
	sc.stratum = env->cfg->local.stratum;
	sc.dispersion = env->cfg->local.dispersion;
	l->core = env->core;
	l->stratum = env->cfg->local.stratum;
	l->precision = env->precision;
	l->id = clk_core_add_source(env->core, &sc);
	if (l->id < 0) {
		log_msg(LOG_ERR, "local reference: the clock core refused it");
		free(l);
		return -1;
	}
	d->priv = l;
	return 0;
}

static void lref_refresh(struct srcdrv *d, int64_t now)
{
	struct lref *l = d->priv;
	struct clk_kstate ks;

	if (clk_kernel_read(CLOCK_REALTIME, &ks) < 0)
		memset(&ks, 0, sizeof(ks)); /* unknown: treat as not synchronized */
	lref_hand(l->core, l->id, &ks, now, l->stratum, l->precision);
}

static void lref_fini(struct srcdrv *d)
{
	free(d->priv);
	d->priv = NULL;
}

const struct srcdrv_ops srcdrv_local = {
	.name = "local",
	.init = lref_init,
	.refresh = lref_refresh,
	.fini = lref_fini,
};
