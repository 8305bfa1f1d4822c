/*
 * The metrics: every counter and gauge in the Prometheus text format
 * (proto/prom.h), for `horoctl metrics` and the HTTP /metrics endpoint
 * alike. The request totals (with what the XDP guard consumed), the
 * timestamp sources and each worker's share; what is served (from the
 * snapshot); with sources that measure, the clock core's figures, the
 * upstream counters and one sample per source in each source family, and
 * with reference clocks their sample counters.
 * Names and help texts are part of the interface: dashboards rely on
 * them.
 */
#include <math.h>
#include <stdio.h>

#include "bpf/guard.h"
#include "daemon/clockd/report.h"
#include "daemon/control/metrics.h"
#include "daemon/serve/xguard.h"
#include "proto/ntp.h"
#include "proto/prom.h"

/* A gauge family with one unlabelled sample. */
static void gauge(struct ntp_text *o, const char *name, const char *help, double v)
{
	prom_family(o, name, "gauge", help);
	prom_sample(o, name, NULL, NULL, v);
}

/* A counter family with one unlabelled sample. */
static void counter(struct ntp_text *o, const char *name, const char *help, uint64_t v)
{
	prom_family(o, name, "counter", help);
	prom_sample_u64(o, name, NULL, NULL, v);
}

/* Per-source gauges: one family each, one sample per source. */
static void source_metrics(struct ntp_text *o, const struct clockd *cd)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{"horod_source_selected", "1 for the system peer (tally *), else 0."},
		{"horod_source_stratum", "Stratum the source advertises."},
		{"horod_source_reach",
		 "Reach register of the source (8 bits, newest poll in bit 0)."},
		{"horod_source_poll_seconds", "Current poll interval of the source."},
		{"horod_source_offset_seconds", "Offset of the source (source minus us)."},
		{"horod_source_delay_seconds", "Round-trip delay of the selected filter sample."},
		{"horod_source_jitter_seconds", "Jitter of the source."},
		{"horod_source_root_distance_seconds", "Root distance of the source."},
		{"horod_source_flash",
		 "Flash bits of the last reply (0: all RFC 5905 tests passed)."},
	};
	int f, i, n = clockd_report_n_sources(cd);

	for (f = 0; f < (int)(sizeof(fam) / sizeof(fam[0])); f++) {
		prom_family(o, fam[f].name, "gauge", fam[f].help);
		for (i = 0; i < n; i++) {
			struct clockd_source si;
			double v[] = {0, 0, 0, 0, 0, 0, 0, 0, 0};

			if (clockd_report_source(cd, i, &si) < 0)
				continue;
			v[0] = si.tally == '*';
			v[1] = si.stratum;
			v[2] = si.reach;
			v[3] = ldexp(1.0, si.poll);
			v[4] = si.offset;
			v[5] = si.delay;
			v[6] = si.jitter;
			v[7] = si.root_distance;
			v[8] = si.flash;
			prom_sample(o, fam[f].name, "source", si.name, v[f]);
		}
	}
}

/* Per reference clock counters: one family each, one sample per reference clock. */
static void refclock_metrics(struct ntp_text *o, const struct clockd *cd)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{"horod_refclock_samples_total", "Samples a reference clock gave to its polls."},
		{"horod_refclock_polls_total", "Polls of a reference clock."},
		{"horod_refclock_empty_polls_total",
		 "Polls of a reference clock without a sample."},
		{"horod_refclock_dropped_total",
		 "Samples never used: refused by the reader (torn, stale, future, malformed), "
		 "unsynchronized, unnumbered pulses, too old."},
	};
	int f, i, r, n = clockd_report_n_sources(cd);

	for (f = 0; f < (int)(sizeof(fam) / sizeof(fam[0])); f++) {
		prom_family(o, fam[f].name, "counter", fam[f].help);
		for (i = 0; i < n; i++) {
			struct clockd_source si;
			uint64_t v[4];

			if (clockd_report_source(cd, i, &si) < 0 || si.kind != CLK_KIND_REFCLOCK)
				continue;
			v[0] = si.rc.samples;
			v[1] = si.rc.polls;
			v[2] = si.rc.empty;
			v[3] = si.rc.unsync + si.rc.unnumbered + si.rc.old;
			for (r = 0; r < RC_DROP_N; r++)
				v[3] += si.rc_drops[r];
			prom_sample_u64(o, fam[f].name, "source", si.name, v[f]);
		}
	}
}

/*
 * The XDP guard's own counters by reason (what it dropped, passed and
 * answered, before the workers), and whether it runs: the family heads
 * always, the samples only while a guard runs and reads.
 */
static void guard_metrics(struct ntp_text *o)
{
	uint64_t pk[GUARD_NCOUNTERS], by[GUARD_NCOUNTERS];
	int k, up = xg_counts(pk, by) > 0;

	gauge(o, "horod_guard_up", "1 when the XDP guard is attached and its counters read.", up);
	prom_family(o, "horod_guard_packets_total", "counter",
		    "Frames the XDP guard classified, by verdict (reason, pass_*, "
		    "reply_server_xdp, reply_server_xdp_hwrx), and tx_stamped_egress: "
		    "replies whose transmit time it wrote at egress (guard stamp).");
	for (k = 0; up && k < GUARD_NCOUNTERS; k++)
		prom_sample_u64(o, "horod_guard_packets_total", "reason",
				guard_counter_name((unsigned int)k), pk[k]);
	prom_family(o, "horod_guard_bytes_total", "counter",
		    "Bytes of those frames (whole frames), by verdict.");
	for (k = 0; up && k < GUARD_NCOUNTERS; k++)
		prom_sample_u64(o, "horod_guard_bytes_total", "reason",
				guard_counter_name((unsigned int)k), by[k]);
}

size_t metrics_text(const struct ctl_view *v, char *buf, size_t len)
{
	struct clockd_tracking tr;
	struct clockd_upstream up;
	struct ctr_totals t;
	struct ntp_text o;
	int i;

	ntp_text_init(&o, buf, len);
	ctr_sum(v->ctr, v->n_workers, &t);
	xg_totals_add(&t);
	counter(&o, "horod_requests_received_total",
		"Datagrams seen: dequeued by the workers or consumed by the XDP guard.",
		t.received);
	counter(&o, "horod_requests_xdp_total",
		"Of those, consumed by the XDP guard: dropped, or answered (KoD, guard serve).",
		t.xdp);
	prom_family(&o, "horod_requests_total", "counter",
		    "Requests by outcome (reply_*, drop_*), see proto/reason.h.");
	for (i = 0; i < NTP_REASON_MAX; i++)
		prom_sample_u64(&o, "horod_requests_total", "reason",
				ntp_reason_name((enum ntp_reason)i), t.reason[i]);
	prom_family(&o, "horod_auth_requests_total", "counter",
		    "NTS and symmetric-key (MAC) requests by outcome (nts_*, mac_*), see "
		    "daemon/auth/auth.h.");
	for (i = 0; i < AUTH_OUTCOME_MAX; i++)
		prom_sample_u64(&o, "horod_auth_requests_total", "outcome",
				auth_outcome_name((enum auth_outcome)i), t.auth[i]);
	ctr_add_ke(&t, v->auth);
	prom_family(&o, "horod_ntske_sessions_total", "counter",
		    "NTS-KE sessions by outcome, see daemon/auth/keserver.h.");
	for (i = 0; i < KES_OUTCOME_MAX; i++)
		prom_sample_u64(&o, "horod_ntske_sessions_total", "outcome",
				kes_outcome_name((enum kes_outcome)i), t.ke[i]);
	prom_family(&o, "horod_rx_timestamps_total", "counter",
		    "Requests by receive timestamp source.");
	for (i = 0; i < CTR_TS_MAX; i++)
		prom_sample_u64(&o, "horod_rx_timestamps_total", "source",
				ctr_tsrc_name((enum ctr_tsrc)i), t.tsrc[i]);
	prom_family(&o, "horod_replies_mode_total", "counter",
		    "Time replies of the workers by mode (RFC 9769): basic, interleaved.");
	for (i = 0; i < CTR_MODE_MAX; i++)
		prom_sample_u64(&o, "horod_replies_mode_total", "mode",
				ctr_mode_name((enum ctr_mode)i), t.mode[i]);
	prom_family(&o, "horod_interleaved_tx_total", "counter",
		    "Interleaved replies by the source of their transmit timestamp.");
	for (i = 0; i < CTR_TS_MAX; i++)
		prom_sample_u64(&o, "horod_interleaved_tx_total", "source",
				ctr_tsrc_name((enum ctr_tsrc)i), t.xtx[i]);
	counter(&o, "horod_tx_stamps_total",
		"Transmit stamps of replies read back from the kernel.", t.txs[CTR_TXS_READ]);
	counter(&o, "horod_tx_stamps_unmatched_total",
		"Of those, matching no reply still known (or not horod's).",
		t.txs[CTR_TXS_UNMATCHED]);
	counter(&o, "horod_xleave_evicted_total",
		"Clients whose interleaved state a new client took (clientloglimit full).",
		t.xl_evicted);
	counter(&o, "horod_kernel_dropped_total",
		"Datagrams the kernel dropped before a worker read them: a full receive buffer, "
		"or the overload filter of a worker behind.",
		t.kernel_drops);
	prom_family(&o, "horod_worker_requests_received_total", "counter",
		    "Datagrams dequeued by each worker.");
	for (i = 0; i < v->n_workers; i++) {
		struct ctr_totals w;
		char id[16];

		ctr_sum(v->ctr + i, 1, &w);
		snprintf(id, sizeof(id), "%d", i);
		prom_sample_u64(&o, "horod_worker_requests_received_total", "worker", id,
				w.received);
	}

	guard_metrics(&o);

	clockd_report_tracking(v->cd, &tr);
	gauge(&o, "horod_synchronized", "1 when the served time is synchronized.",
	      answers_synced(&tr.snap));
	gauge(&o, "horod_stratum", "Stratum served.", tr.snap.stratum);
	gauge(&o, "horod_leap", "Leap indicator served (3: unsynchronized).", tr.snap.leap);
	gauge(&o, "horod_leap_planned",
	      "Leap second planned: 1 insertion, -1 deletion, 0 none (announced its last day).",
	      tr.leap_dir);
	gauge(&o, "horod_leap_smearing", "1 while the served time is smeared (leapsecmode smear).",
	      tr.smearing);
	gauge(&o, "horod_leap_smear_offset_seconds", "Smeared served time minus UTC.",
	      tr.smear_offset);
	if (tr.leap_path && tr.leap_expires_s) {
		gauge(&o, "horod_leap_file_expiry_seconds",
		      "Seconds until the leap file expires (negative: expired, no authority).",
		      (double)tr.leap_expires_s -
			      (double)clk_snapshot_served(&tr.snap, tr.sys_ns) / 1e9);
		gauge(&o, "horod_leap_file_valid", "1 while the leap file is the authority.",
		      tr.leap_table);
	}
	gauge(&o, "horod_root_delay_seconds", "Root delay served.", tr.snap.root_delay);
	gauge(&o, "horod_root_dispersion_seconds", "Root dispersion served, now.",
	      clk_snapshot_root_disp(&tr.snap, tr.sys_ns));
	if (tr.mode == CLOCKD_MODE_NTP) {
		gauge(&o, "horod_offset_seconds", "Last combined offset of the sources.",
		      tr.offset);
		gauge(&o, "horod_rms_offset_seconds", "RMS of the recent offsets.", tr.rms_offset);
		gauge(&o, "horod_frequency_ppm", "Frequency correction of the clock.", tr.freq_ppm);
		gauge(&o, "horod_residual_frequency_ppm", "Residual frequency error.",
		      tr.residual_freq_ppm);
		gauge(&o, "horod_skew_ppm", "Estimated error bound of the frequency.", tr.skew_ppm);
		gauge(&o, "horod_update_interval_seconds",
		      "Time between the last two clock updates.", tr.update_interval);
		counter(&o, "horod_clock_updates_total", "Clock updates done.",
			(uint64_t)(tr.updates > 0 ? tr.updates : 0));
		counter(&o, "horod_clock_steps_total", "Clock steps taken.",
			(uint64_t)(tr.steps > 0 ? tr.steps : 0));
		if (tr.has_true_error)
			gauge(&o, "horod_true_error_seconds",
			      "Served time minus the truth (sim driver only).", tr.true_error);
		clockd_report_upstream(v->cd, &up);
		counter(&o, "horod_upstream_sent_total", "Requests sent to upstream sources.",
			up.sent);
		counter(&o, "horod_upstream_received_total", "Replies received from upstream.",
			up.received);
		counter(&o, "horod_upstream_valid_total", "Upstream replies that gave a sample.",
			up.valid);
		counter(&o, "horod_upstream_bogus_total", "Upstream replies with a bad origin.",
			up.bogus);
		counter(&o, "horod_upstream_kod_total", "Kiss-o'-death replies from upstream.",
			up.kod);
		counter(&o, "horod_upstream_auth_fail_total",
			"Replies to an authenticated source (key, nts) that were not authentic.",
			up.auth_fail);
		counter(&o, "horod_upstream_nts_nak_total",
			"NTS NAKs from upstream (cookies refused: NTS-KE again).", up.nts_nak);
		prom_family(&o, "horod_upstream_ntske_total", "counter",
			    "NTS-KE exchanges of the NTS sources by outcome.");
		prom_sample_u64(&o, "horod_upstream_ntske_total", "outcome", "ok", up.ke_ok);
		prom_sample_u64(&o, "horod_upstream_ntske_total", "outcome", "failed", up.ke_fail);
		counter(&o, "horod_upstream_interleaved_total",
			"Interleaved replies to xleave requests (each measures the exchange "
			"before).",
			up.interleaved);
		counter(&o, "horod_upstream_basic_xleave_total",
			"Replies to interleaved requests that came back in basic mode.",
			up.basic_xleave);
		counter(&o, "horod_upstream_tx_stamps_total",
			"Kernel transmit stamps of xleave requests read.", up.tx_stamps);
		source_metrics(&o, v->cd);
		if (v->cfg->clk.n_refclocks)
			refclock_metrics(&o, v->cd);
	}
	return o.len;
}
