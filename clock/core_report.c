/*
 * What the clock core tells about itself: each source as `horoctl
 * sources` and ntpq show it (the core's last view of it, its filter's
 * samples), the tracking figures (chronyc tracking's), and the
 * frequency and skew for the driftfile, the steps made, the raw and the
 * served time of a driver time. Read-only on the core's state.
 */
#include <math.h>
#include <string.h>

#include "clock/core.h"
#include "clock/core_priv.h"
#include "proto/ntp.h"

int clk_core_source_info(const struct clk_core *c, int id, struct clk_source_info *out)
{
	const struct clk_src *s;

	if (!c || !out || id < 0 || id >= c->n)
		return -1;
	s = &c->src[id];
	memset(out, 0, sizeof(*out));
	out->kind = s->cfg.kind;
	memcpy(out->name, s->cfg.name, sizeof(out->name));
	out->tally = s->tally;
	out->refid = s->refid;
	out->stratum = s->stratum;
	out->poll = s->poll;
	out->reach = s->reach;
	out->last_rx = s->last_rx;
	out->delay = s->delay;
	out->offset = s->offset;
	out->jitter = s->jitter;
	out->dispersion = s->disp;
	out->root_distance = s->dist;
	out->flash = s->flash | s->peer;
	out->leap = s->leap;
	out->precision = s->precision;
	out->root_delay = s->root_delay;
	out->root_disp = s->root_disp;
	return 0;
}

int clk_core_source_filter(const struct clk_core *c, int id, int64_t now,
			   struct clk_source_filter *out)
{
	const struct clk_src *s;
	const struct clk_sample *newest;
	int64_t raw;
	int i;

	if (!c || !out || id < 0 || id >= c->n)
		return -1;
	s = &c->src[id];
	memset(out, 0, sizeof(*out));
	if (s->filt.n == 0)
		return 0;
	raw = clk_disc_raw(&c->disc, now);
	newest = clk_filter_at(&s->filt, s->filt.n - 1);
	for (i = 0; i < CLK_FILTER_LEN_PUB && i < s->filt.n; i++) {
		const struct clk_sample *x = clk_filter_at(&s->filt, s->filt.n - 1 - i);
		double age = (double)(raw - x->t) / 1e9;

		out->delay[i] = x->delay;
		/* Raw-scale offsets, shifted so the newest matches the source's offset. */
		out->offset[i] = s->offset + (x->x - newest->x);
		out->disp[i] = x->disp + CLK_PHI * (age > 0 ? age : 0);
		out->n = i + 1;
	}
	return 0;
}

int clk_core_n_sources(const struct clk_core *c)
{
	return c ? c->n : 0;
}

int clk_core_source_kind(const struct clk_core *c, int id)
{
	if (!c || id < 0 || id >= c->n)
		return -1;
	return c->src[id].cfg.kind;
}

void clk_core_tracking(const struct clk_core *c, int64_t now, struct clk_tracking *out)
{
	int64_t r;

	if (!c || !out)
		return;
	memset(out, 0, sizeof(*out));
	r = clk_disc_raw(&c->disc, now);
	out->refid = c->synced ? c->refid : c->local ? ntp_refid_ascii("LOCL") : c->refid;
	out->stratum = c->synced ? c->stratum : c->local ? c->src[c->local_id].cfg.stratum : 16;
	out->leap = c->synced ? c->leap_li : c->local ? c->local_leap : NTP_LEAP_UNSYNC;
	out->synced = c->synced;
	out->ref_ns = c->ref_served;
	out->offset = c->offset;
	out->rms_offset = sqrt(c->ms_offset);
	out->freq_ppm = c->freq * 1e6;
	out->residual_freq_ppm = (c->peer_freq - c->freq) * 1e6;
	out->skew_ppm = core_skew(c) * 1e6;
	out->root_delay = c->root_delay;
	out->root_disp = core_root_disp_at(c, r);
	out->update_interval = c->upd_interval;
	out->steps = c->disc.steps;
	out->updates = c->updates;
	out->sys_peer = c->sys_peer;
	out->steering = c->disc.steer;
	out->watching = c->watch;
	out->steps_seen = c->step_detected;
	out->leapmode = c->cfg.leapmode;
	out->leap_dir = c->leap_dir;
	out->leap_m = c->leap_dir ? c->leap_m : 0;
	out->leap_table = c->leap_auth;
	out->smear_s = c->cfg.smear_s;
	out->smearing = c->smearing;
	out->smear_offset = (double)c->smear_vs_utc / 1e9;
	if (c->smear_set) {
		out->smear_start = c->smear.start_ns;
		out->smear_end = c->smear.end_ns;
	}
}

int clk_core_steps(const struct clk_core *c)
{
	return c ? c->disc.steps : 0;
}

int64_t clk_core_raw(const struct clk_core *c, int64_t drv_ns)
{
	return c ? clk_disc_raw(&c->disc, drv_ns) : drv_ns;
}

int64_t clk_core_served(const struct clk_core *c, int64_t drv_ns)
{
	if (!c)
		return drv_ns;
	return clk_disc_served(&c->disc, clk_disc_raw(&c->disc, drv_ns));
}

int clk_core_drift(const struct clk_core *c, double *freq_ppm, double *skew_ppm)
{
	int known = c && c->freq_sd >= 0.0;

	if (freq_ppm)
		*freq_ppm = known ? c->freq * 1e6 : 0.0;
	if (skew_ppm)
		*skew_ppm = known ? c->freq_sd * 1e6 : 0.0;
	return known;
}
