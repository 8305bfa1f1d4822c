/*
 * The clock thread's report (report.h), from the clock core's own
 * reports (clk_core_tracking, clk_core_source_info, _filter), the
 * snapshot last published, the clock driver, and what each source
 * driver adds about its sources. The list of sources is the core's in
 * order, without the local reference: so mode 6 association ids (the
 * position plus one) and `horoctl sources` stay what they were when the
 * local reference lived outside the core.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "clock/kclock.h"
#include "clock/leapload.h"
#include "daemon/clockd/clockd.h"
#include "daemon/clockd/report.h"
#include "daemon/clockd/upstream.h"
#include "proto/nstime.h"

static int64_t sys_now(void)
{
	return clk_now_ns(CLOCK_REALTIME);
}

/* 1 when core source ID is in the list (every source but the local reference). */
static int listed(const struct clockd *cd, int id)
{
	int kind = clk_core_source_kind(cd->core, id);

	return kind >= 0 && kind != CLK_KIND_LOCAL;
}

/* The core id of source I of the list, or -1. */
static int core_id(const struct clockd *cd, int i)
{
	int id, n = cd->core ? clk_core_n_sources(cd->core) : 0;

	for (id = 0; id < n && i >= 0; id++)
		if (listed(cd, id) && i-- == 0)
			return id;
	return -1;
}

/* The position in the list of core source ID, or -1. */
static int list_index(const struct clockd *cd, int id)
{
	int k, i = 0;

	if (id < 0 || !listed(cd, id))
		return -1;
	for (k = 0; k < id; k++)
		i += listed(cd, k);
	return i;
}

int clockd_report_n_sources(const struct clockd *cd)
{
	int id, n = 0, all = cd->core ? clk_core_n_sources(cd->core) : 0;

	for (id = 0; id < all; id++)
		n += listed(cd, id);
	return n;
}

void clockd_report_tracking(const struct clockd *cd, struct clockd_tracking *out)
{
	struct clk_tracking t;
	int all;

	memset(out, 0, sizeof(*out));
	out->sys_peer = -1;
	clk_snapshot_read(cd->pub, &out->snap);
	out->sys_ns = sys_now();
	out->true_error = NAN;
	if (!cd->core)
		return;
	all = clk_core_n_sources(cd->core);
	out->n_sources = clockd_report_n_sources(cd);
	out->mode = out->n_sources ? CLOCKD_MODE_NTP : all ? CLOCKD_MODE_LOCAL : CLOCKD_MODE_NONE;
	clk_core_tracking(cd->core, cd->drv->ops->now(cd->drv), &t);
	out->refid = t.refid;
	out->stratum = t.stratum;
	out->leap = t.leap;
	out->synced = t.synced;
	out->ref_ns = t.ref_ns;
	out->offset = t.offset;
	out->rms_offset = t.rms_offset;
	out->freq_ppm = t.freq_ppm;
	out->residual_freq_ppm = t.residual_freq_ppm;
	out->skew_ppm = t.skew_ppm;
	out->root_delay = t.root_delay;
	out->root_disp = t.root_disp;
	out->update_interval = t.update_interval;
	out->updates = t.updates;
	out->steps = t.steps;
	out->sys_peer = list_index(cd, t.sys_peer);
	out->driver = cd->drv->ops->name;
	out->discipline = t.steering;
	out->leapmode = t.leapmode;
	out->leap_dir = t.leap_dir;
	out->leap_m = t.leap_m;
	out->leap_table = t.leap_table;
	out->smear_s = t.smear_s;
	out->smearing = t.smearing;
	out->smear_offset = t.smear_offset;
	if (cd->cfg->leap.src != CFG_LEAP_NONE) {
		const struct ntp_leaptab *tab = &cd->cfg->leap.tab;
		int64_t s = clk_snapshot_served(&out->snap, out->sys_ns) / NS_PER_SEC;
		struct ntp_leap l;

		out->leap_path = cd->cfg->leap.path;
		out->leap_expiry = clk_leap_expiry(tab, s);
		out->leap_expires_s = tab->expires_s;
		if (ntp_leaptab_next(tab, s, &l)) {
			out->leap_next_s = l.utc_s;
			out->leap_next_dir = l.dir;
		}
	}
	out->has_true_error = cd->drv->ops->true_error != NULL;
	if (out->has_true_error)
		out->true_error = cd->drv->ops->true_error(
			cd->drv, clk_snapshot_served(&out->snap, out->sys_ns), out->sys_ns);
}

int clockd_report_source(const struct clockd *cd, int i, struct clockd_source *out)
{
	struct clk_source_info si;
	int id = core_id(cd, i), k;

	if (id < 0 || clk_core_source_info(cd->core, id, &si) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->kind = si.kind;
	memcpy(out->name, si.name, sizeof(out->name));
	out->tally = si.tally;
	out->refid = si.refid;
	out->stratum = si.stratum;
	out->poll = si.poll;
	out->reach = si.reach;
	out->since_rx_ns = si.last_rx ? cd->drv->ops->now(cd->drv) - si.last_rx : -1;
	out->delay = si.delay;
	out->offset = si.offset;
	out->jitter = si.jitter;
	out->dispersion = si.dispersion;
	out->root_distance = si.root_distance;
	out->flash = si.flash;
	out->leap = si.leap;
	out->precision = si.precision;
	out->root_delay = si.root_delay;
	out->root_disp = si.root_disp;
	for (k = 0; k < cd->n_src; k++)
		if (cd->src[k].ops->describe && cd->src[k].ops->describe(&cd->src[k], id, out) == 0)
			break;
	return 0;
}

int clockd_report_filter(const struct clockd *cd, int i, struct clockd_filter *out)
{
	struct clk_source_filter f;
	int id = core_id(cd, i), k;

	memset(out, 0, sizeof(*out));
	if (id < 0 || clk_core_source_filter(cd->core, id, cd->drv->ops->now(cd->drv), &f) < 0)
		return -1;
	for (k = 0; k < f.n && k < CLOCKD_FILTER_LEN; k++) {
		out->delay[k] = f.delay[k];
		out->offset[k] = f.offset[k];
		out->disp[k] = f.disp[k];
	}
	out->n = k;
	return 0;
}

void clockd_report_upstream(const struct clockd *cd, struct clockd_upstream *out)
{
	struct up_stats st;
	int k;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < cd->n_src; k++) {
		if (cd->src[k].ops != &srcdrv_ntp)
			continue;
		up_stats_of(&cd->src[k], &st);
		out->sent = st.sent;
		out->received = st.received;
		out->valid = st.valid;
		out->bogus = st.bogus;
		out->kod = st.kod;
		out->auth_fail = st.auth_fail;
		out->nts_nak = st.nts_nak;
		out->ke_ok = st.ke_ok;
		out->ke_fail = st.ke_fail;
		out->interleaved = st.interleaved;
		out->basic_xleave = st.basic_xleave;
		out->tx_stamps = st.tx_stamps;
	}
}
