/*
 * The control socket's answers, one function per command of
 * proto/ctlproto.h: status (what ntpstat says), tracking (chronyc
 * tracking's figures), sources (ntpq -p's; a reference clock's device
 * and counters too), serverstats (the counters,
 * in total and per worker), clients (the busiest of the workers' client
 * logs), config (the configuration as horod understood it) and metrics
 * (metrics.c). Each is key=value text built from the clock thread's
 * report (daemon/clockd/report.h), the counters and the configuration;
 * no I/O here, control.c frames and sends it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock/kclock.h"
#include "clock/leapsec.h"
#include "daemon/clockd/report.h"
#include "daemon/control/answers.h"
#include "daemon/control/metrics.h"
#include "daemon/serve/clientlog.h"
#include "daemon/serve/xguard.h"
#include "proto/ctlproto.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

static int64_t sys_ns(void)
{
	return clk_now_ns(CLOCK_REALTIME);
}

int answers_synced(const struct clk_snapshot *s)
{
	return s->leap != NTP_LEAP_UNSYNC && s->stratum >= 1 && s->stratum <= 15;
}

static size_t answer_status(const struct ctl_view *v, char *b, size_t len)
{
	struct clockd_tracking t;
	struct clockd_source si;
	char refid[32];
	size_t p = 0;

	clockd_report_tracking(v->cd, &t);
	p = ctl_kv_put(b, len, p, "synced", "%d", answers_synced(&t.snap));
	p = ctl_kv_put(b, len, p, "stratum", "%d", t.snap.stratum);
	p = ctl_kv_put(b, len, p, "leap", "%d", t.snap.leap);
	p = ctl_kv_put(b, len, p, "refid", "%s",
		       ntp_refid_format(t.snap.refid, t.snap.stratum, refid, sizeof(refid)));
	p = ctl_kv_put(b, len, p, "root_delay", "%.9f", t.snap.root_delay);
	p = ctl_kv_put(b, len, p, "root_dispersion", "%.9f",
		       clk_snapshot_root_disp(&t.snap, t.sys_ns));
	/* ntpstat's "time correct to within": root distance = delay/2 + dispersion. */
	p = ctl_kv_put(b, len, p, "root_distance", "%.9f",
		       t.snap.root_delay / 2 + clk_snapshot_root_disp(&t.snap, t.sys_ns));
	if (t.synced && t.sys_peer >= 0 && clockd_report_source(v->cd, t.sys_peer, &si) == 0) {
		p = ctl_kv_put(b, len, p, "source", "%s",
			       si.kind == CLK_KIND_REFCLOCK ? "refclock" : "ntp");
		p = ctl_kv_put(b, len, p, "server", "%s", si.name);
		if (si.kind == CLK_KIND_REFCLOCK)
			p = ctl_kv_put(b, len, p, "device", "%s", si.rc_device);
		p = ctl_kv_put(b, len, p, "poll", "%d", si.poll);
	} else {
		/* The local reference, a holdover with no system peer left, or nothing. */
		p = ctl_kv_put(b, len, p, "source", "%s",
			       !answers_synced(&t.snap)			 ? "none"
			       : t.snap.refid == ntp_refid_ascii("LOCL") ? "local"
									 : "holdover");
	}
	if (t.leap_path) {
		static const char *const exp[] = {"ok", "soon", "expired", "unknown"};

		p = ctl_kv_put(b, len, p, "leapfile", "%s", t.leap_path);
		p = ctl_kv_put(b, len, p, "leapfile_expiry", "%s",
			       t.leap_expiry >= 0 && t.leap_expiry <= 3 ? exp[t.leap_expiry] : "?");
		p = ctl_kv_put(b, len, p, "leapfile_expires", "%lld", (long long)t.leap_expires_s);
		p = ctl_kv_put(b, len, p, "leapfile_next", "%lld", (long long)t.leap_next_s);
		p = ctl_kv_put(b, len, p, "leapfile_next_dir", "%d", t.leap_next_dir);
	}
	return p;
}

/* The leap second's part of tracking: the mode, the leap planned, the smear. */
static size_t leap_kv(const struct clockd_tracking *t, char *b, size_t len, size_t p)
{
	static const char *const modes[] = {"system", "step", "slew", "smear"};

	p = ctl_kv_put(b, len, p, "leapsecmode", "%s",
		       t->leapmode >= 0 && t->leapmode <= 3 ? modes[t->leapmode] : "?");
	p = ctl_kv_put(b, len, p, "leap_planned", "%d", t->leap_dir);
	p = ctl_kv_put(b, len, p, "leap_midnight", "%lld", (long long)t->leap_m);
	p = ctl_kv_put(b, len, p, "leap_table", "%d", t->leap_table);
	if (t->leapmode == CLK_LEAPMODE_SMEAR) {
		p = ctl_kv_put(b, len, p, "smear_interval", "%lld", (long long)t->smear_s);
		p = ctl_kv_put(b, len, p, "smearing", "%d", t->smearing);
		p = ctl_kv_put(b, len, p, "smear_offset", "%.9f", t->smear_offset);
	}
	if (t->leapmode == CLK_LEAPMODE_SLEW) { /* the smear's arithmetic, after the edge */
		p = ctl_kv_put(b, len, p, "slewing", "%d", t->smearing);
		p = ctl_kv_put(b, len, p, "slew_offset", "%.9f", t->smear_offset);
	}
	return p;
}

static size_t answer_tracking(const struct ctl_view *v, char *b, size_t len, int *status)
{
	struct clockd_tracking t;
	struct clockd_source si;
	char refid[32];
	size_t p = 0;

	clockd_report_tracking(v->cd, &t);
	if (t.mode != CLOCKD_MODE_NTP) {
		/* The local reference (or nothing): what the snapshot says, nothing is measured. */
		p = ctl_kv_put(b, len, p, "mode", "local");
		p = ctl_kv_put(
			b, len, p, "refid", "%s",
			ntp_refid_format(t.snap.refid, t.snap.stratum, refid, sizeof(refid)));
		p = ctl_kv_put(b, len, p, "stratum", "%d", t.snap.stratum);
		p = ctl_kv_put(b, len, p, "leap", "%d", t.snap.leap);
		p = ctl_kv_put(b, len, p, "synced", "%d", answers_synced(&t.snap));
		p = ctl_kv_put(b, len, p, "ref_time", "%.9f", t.snap.ref_ns / 1e9);
		p = ctl_kv_put(b, len, p, "root_delay", "%.9f", t.snap.root_delay);
		p = ctl_kv_put(b, len, p, "root_dispersion", "%.9f",
			       clk_snapshot_root_disp(&t.snap, t.sys_ns));
		p = leap_kv(&t, b, len, p);
		*status = CTL_S_OK;
		return p;
	}
	p = ctl_kv_put(b, len, p, "mode", "ntp");
	p = ctl_kv_put(b, len, p, "refid", "%s",
		       ntp_refid_format(t.refid, t.stratum, refid, sizeof(refid)));
	p = ctl_kv_put(b, len, p, "refid_hex", "%08x", t.refid);
	p = ctl_kv_put(b, len, p, "stratum", "%d", t.stratum);
	p = ctl_kv_put(b, len, p, "leap", "%d", t.leap);
	p = ctl_kv_put(b, len, p, "synced", "%d", t.synced);
	p = ctl_kv_put(b, len, p, "ref_time", "%.9f", t.ref_ns / 1e9);
	/* System time offset: served time minus the system clock, now. */
	p = ctl_kv_put(b, len, p, "system_offset", "%.9f",
		       (double)(clk_snapshot_served(&t.snap, t.sys_ns) - t.sys_ns) / 1e9);
	p = ctl_kv_put(b, len, p, "last_offset", "%.9f", t.offset);
	p = ctl_kv_put(b, len, p, "rms_offset", "%.9f", t.rms_offset);
	p = ctl_kv_put(b, len, p, "frequency", "%.6f", t.freq_ppm);
	p = ctl_kv_put(b, len, p, "residual_frequency", "%.6f", t.residual_freq_ppm);
	p = ctl_kv_put(b, len, p, "skew", "%.6f", t.skew_ppm);
	p = ctl_kv_put(b, len, p, "root_delay", "%.9f", t.root_delay);
	p = ctl_kv_put(b, len, p, "root_dispersion", "%.9f", t.root_disp);
	p = ctl_kv_put(b, len, p, "update_interval", "%.3f", t.update_interval);
	p = ctl_kv_put(b, len, p, "updates", "%d", t.updates);
	p = ctl_kv_put(b, len, p, "steps", "%d", t.steps);
	p = ctl_kv_put(b, len, p, "driver", "%s", t.driver);
	if (t.sys_peer >= 0 && clockd_report_source(v->cd, t.sys_peer, &si) == 0) {
		p = ctl_kv_put(b, len, p, "source", "%s", si.name);
		p = ctl_kv_put(b, len, p, "source_kind", "%s",
			       si.kind == CLK_KIND_REFCLOCK ? "refclock" : "ntp");
	}
	if (t.has_true_error)
		p = ctl_kv_put(b, len, p, "true_error", "%.9f", t.true_error);
	p = leap_kv(&t, b, len, p);
	*status = CTL_S_OK;
	return p;
}

static size_t answer_sources(const struct ctl_view *v, char *b, size_t len)
{
	size_t p = 0;
	int i, n = clockd_report_n_sources(v->cd);

	p = ctl_kv_put(b, len, p, "sources", "%d", n);
	for (i = 0; i < n; i++) {
		struct clockd_source si;
		char k[32], refid[32];

		if (clockd_report_source(v->cd, i, &si) < 0)
			continue;
#define SRC_KV(key, ...)                                                                           \
	do {                                                                                       \
		snprintf(k, sizeof(k), "s%d." key, i);                                             \
		p = ctl_kv_put(b, len, p, k, __VA_ARGS__);                                         \
	} while (0)
		SRC_KV("name", "%s", si.name);
		SRC_KV("tally", "%c", si.tally == ' ' ? '_' : si.tally);
		SRC_KV("refid", "%s", ntp_refid_format(si.refid, si.stratum, refid, sizeof(refid)));
		SRC_KV("stratum", "%d", si.stratum);
		SRC_KV("poll", "%d", si.poll);
		SRC_KV("reach", "%u", si.reach);
		SRC_KV("when", "%lld",
		       si.since_rx_ns >= 0 ? (long long)(si.since_rx_ns / NS_PER_SEC) : -1LL);
		SRC_KV("delay", "%.9f", si.delay);
		SRC_KV("offset", "%.9f", si.offset);
		SRC_KV("jitter", "%.9f", si.jitter);
		SRC_KV("dispersion", "%.9f", si.dispersion);
		SRC_KV("root_distance", "%.9f", si.root_distance);
		SRC_KV("flash", "%u", si.flash);
		SRC_KV("leap", "%d", si.leap);
		SRC_KV("auth", "%s", si.auth ? si.auth : "none");
		if (si.auth && strcmp(si.auth, "nts") == 0)
			SRC_KV("nts_cookies", "%d", si.nts_cookies);
		SRC_KV("unanswered", "%d", si.unanswered);
		SRC_KV("kind", "%s", si.kind == CLK_KIND_REFCLOCK ? "refclock" : "ntp");
		if (si.kind == CLK_KIND_REFCLOCK) {
			int r;

			SRC_KV("driver", "%s", si.rc_driver);
			SRC_KV("device", "%s", si.rc_device);
			SRC_KV("samples", "%llu", (unsigned long long)si.rc.samples);
			SRC_KV("polls", "%llu", (unsigned long long)si.rc.polls);
			SRC_KV("empty_polls", "%llu", (unsigned long long)si.rc.empty);
			SRC_KV("dropped_unsync", "%llu", (unsigned long long)si.rc.unsync);
			SRC_KV("dropped_unnumbered", "%llu", (unsigned long long)si.rc.unnumbered);
			SRC_KV("dropped_old", "%llu", (unsigned long long)si.rc.old);
			SRC_KV("read_errors", "%llu", (unsigned long long)si.rc.read_errors);
			SRC_KV("noise", "%.9f", si.rc.noise);
			for (r = 0; r < RC_DROP_N; r++) {
				snprintf(k, sizeof(k), "s%d.dropped_%s", i, rc_drop_names[r]);
				p = ctl_kv_put(b, len, p, k, "%llu",
					       (unsigned long long)si.rc_drops[r]);
			}
		}
#undef SRC_KV
	}
	return p;
}

static size_t answer_serverstats(const struct ctl_view *v, char *b, size_t len)
{
	struct ctr_totals t;
	size_t p = 0;
	int i, r;

	p = ctl_kv_put(b, len, p, "workers", "%d", v->n_workers);
	for (i = -1; i < v->n_workers; i++) {
		uint64_t ans = 0, drop = 0;
		char k[48], pre[16];

		/* i = -1: the totals, unprefixed; then each worker as wN. */
		ctr_sum(i < 0 ? v->ctr : v->ctr + i, i < 0 ? v->n_workers : 1, &t);
		if (i < 0)
			xg_totals_add(&t); /* the totals count what XDP consumed */
		snprintf(pre, sizeof(pre), i < 0 ? "" : "w%d.", i);
		for (r = 0; r < NTP_REASON_MAX; r++) {
			if (ntp_reason_is_reply((enum ntp_reason)r))
				ans += t.reason[r];
			else
				drop += t.reason[r];
		}
		snprintf(k, sizeof(k), "%sreceived", pre);
		p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.received);
		snprintf(k, sizeof(k), "%sanswered", pre);
		p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)ans);
		snprintf(k, sizeof(k), "%sdropped", pre);
		p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)drop);
		for (r = 0; r < CTR_TS_MAX; r++) {
			snprintf(k, sizeof(k), "%sts.%s", pre, ctr_tsrc_name((enum ctr_tsrc)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.tsrc[r]);
		}
		if (i >= 0)
			continue;
		p = ctl_kv_put(b, len, p, "xdp", "%llu", (unsigned long long)t.xdp);
		/* Interleaved mode (the workers'): replies by mode, transmit stamps. */
		for (r = 0; r < CTR_MODE_MAX; r++) {
			snprintf(k, sizeof(k), "mode.%s", ctr_mode_name((enum ctr_mode)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.mode[r]);
		}
		for (r = 0; r < CTR_TS_MAX; r++) {
			snprintf(k, sizeof(k), "xtx.%s", ctr_tsrc_name((enum ctr_tsrc)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.xtx[r]);
		}
		p = ctl_kv_put(b, len, p, "tx_stamps", "%llu",
			       (unsigned long long)t.txs[CTR_TXS_READ]);
		p = ctl_kv_put(b, len, p, "tx_unmatched", "%llu",
			       (unsigned long long)t.txs[CTR_TXS_UNMATCHED]);
		p = ctl_kv_put(b, len, p, "xleave_evicted", "%llu",
			       (unsigned long long)t.xl_evicted);
		p = ctl_kv_put(b, len, p, "kernel_dropped", "%llu",
			       (unsigned long long)t.kernel_drops);
		for (r = 0; r < NTP_REASON_MAX; r++) {
			snprintf(k, sizeof(k), "reason.%s", ntp_reason_name((enum ntp_reason)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.reason[r]);
		}
		/* Authenticated requests and NTS-KE sessions by outcome (daemon/auth/). */
		ctr_add_ke(&t, v->auth);
		p = ctl_kv_put(b, len, p, "nts_server", "%d", v->auth && v->auth->kes_open);
		p = ctl_kv_put(
			b, len, p, "symmetric_keys", "%d",
			v->auth ? atomic_load_explicit(&v->auth->n_keys, memory_order_relaxed) : 0);
		for (r = 0; r < AUTH_OUTCOME_MAX; r++) {
			snprintf(k, sizeof(k), "auth.%s", auth_outcome_name((enum auth_outcome)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.auth[r]);
		}
		for (r = 0; r < KES_OUTCOME_MAX; r++) {
			snprintf(k, sizeof(k), "ke.%s", kes_outcome_name((enum kes_outcome)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.ke[r]);
		}
	}
	return p;
}

/* The busiest clients of every worker's client log, merged (clientlog.h). */
static size_t answer_clients(const struct ctl_view *v, char *b, size_t len, int *status)
{
	struct clog *logs[CFG_MAX_WORKERS];
	struct clog_client *top;
	int64_t now = sys_ns();
	int i, n, total, nl = 0;
	size_t p = 0;

	for (i = 0; i < v->n_workers && nl < CFG_MAX_WORKERS; i++)
		logs[nl++] = v->ctr[i].clog;
	top = malloc(sizeof(*top) * CLOG_TOP_MAX);
	if (!top) {
		*status = CTL_S_UNAVAILABLE;
		return 0;
	}
	n = clog_top(logs, nl, top, CLOG_TOP_MAX, &total);
	p = ctl_kv_put(b, len, p, "clients", "%d", n);
	p = ctl_kv_put(b, len, p, "tracked", "%d", total);
	p = ctl_kv_put(b, len, p, "capacity", "%d", nl * CLOG_SLOTS);
	for (i = 0; i < n; i++) {
		char k[32], a[INET6_ADDRSTRLEN];

		if (!inet_ntop(top[i].family, top[i].addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
#define CL_KV(key, ...)                                                                            \
	do {                                                                                       \
		snprintf(k, sizeof(k), "c%d." key, i);                                             \
		p = ctl_kv_put(b, len, p, k, __VA_ARGS__);                                         \
	} while (0)
		CL_KV("address", "%s", a);
		CL_KV("requests", "%llu", (unsigned long long)top[i].requests);
		CL_KV("dropped", "%llu", (unsigned long long)top[i].drops);
		CL_KV("last", "%.3f", (double)(now - top[i].last_ns) / 1e9);
		CL_KV("interval", "%.3f", (double)top[i].ival_ns / 1e9);
#undef CL_KV
	}
	free(top);
	return p;
}

size_t answers_build(const struct ctl_view *v, int cmd, char *buf, size_t len, int *status)
{
	*status = CTL_S_OK;
	switch (cmd) {
	case CTL_CMD_STATUS:
		return answer_status(v, buf, len);
	case CTL_CMD_TRACKING:
		return answer_tracking(v, buf, len, status);
	case CTL_CMD_SOURCES:
		return answer_sources(v, buf, len);
	case CTL_CMD_SERVERSTATS:
		return answer_serverstats(v, buf, len);
	case CTL_CMD_CONFIG:
		return cfg_format(v->cfg, buf, len);
	case CTL_CMD_METRICS:
		return metrics_text(v, buf, len);
	case CTL_CMD_CLIENTS:
		return answer_clients(v, buf, len, status);
	default:
		*status = CTL_S_UNKNOWN_CMD;
		return 0;
	}
}
