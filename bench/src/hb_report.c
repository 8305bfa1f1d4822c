/*
 * The report of horobench: counts of what was sent and what came back,
 * why replies were invalid, replies by mode (--xleave), rates,
 * percentiles of round-trip time, server residence and offset (basic and
 * interleaved), and the capture's arrival - T3 (--capture), printed as
 * text or as one JSON object per run or step (one line, the keys
 * bench/report.py and bench/compare read).
 */
#include <stdio.h>
#include <sys/socket.h>

#include "bench/src/horobench.h"
#include "bench/src/stats.h"

static const char *const bad_name[B_MAX] = {"short", "unknown_origin", "duplicate",
					    "mode",  "version",	       "stratum",
					    "leap",  "order",	       "nts"};

static double us(int64_t ns)
{
	return (double)ns / 1000.0;
}

static const char *const mode_name[M_MAX] = {"basic", "interleaved"};

/* The capture's figures for MODE as a JSON object. */
static void cap_json(struct hb_run *r, enum hb_mode mode)
{
	const struct hb_moments *m = &r->cap.mom[mode];
	struct bs_samples *s = &r->cap.smp[mode];

	bs_finish(s);
	printf("{\"n\":%llu,\"late\":%llu", (unsigned long long)m->n,
	       (unsigned long long)r->cap.late[mode]);
	if (m->n)
		printf(",\"min\":%.3f,\"mean\":%.3f,\"sd\":%.3f,\"p1\":%.3f,\"p50\":%.3f,"
		       "\"p99\":%.3f,\"max\":%.3f",
		       us(m->min), m->mean / 1000.0, hb_mom_sd(m) / 1000.0, us(bs_pct(s, 1)),
		       us(bs_pct(s, 50)), us(bs_pct(s, 99)), us(m->max));
	printf("}");
}

void hb_report(struct hb_run *r)
{
	const struct hb_opts *o = &r->o;
	double secs = (double)(r->t_stop - r->t_start) * 1e-9;
	uint64_t wf = r->c.sent[K_GOOD], invalid = 0, mal = r->c.sent_total - wf;
	double loss = wf ? (double)(wf - r->c.valid) / (double)wf : 1.0;
	struct bs_samples *q[4] = {&r->rtt, &r->res, &r->off, &r->off_x};
	const char *qn[4] = {"rtt_us", "residence_us", "offset_us", "offset_x_us"};
	int i, k;

	for (i = 0; i < B_MAX; i++)
		invalid += r->c.bad[i];
	for (i = 0; i < 4; i++)
		bs_finish(q[i]);
	if (o->json) {
		printf("{\"server\":\"%s\",\"port\":%d,\"family\":%d,\"loop\":\"%s\",", o->host,
		       o->port, o->dst.ss_family == AF_INET ? 4 : 6,
		       o->rate > 0 ? "open" : "closed");
		if (r->step >= 0)
			printf("\"step\":%d,", r->step);
		printf("\"clients\":%d,\"xleave\":%d,", r->n_clients, o->xleave);
		if (o->rate > 0)
			printf("\"rate\":%.0f,", o->rate);
		else
			printf("\"window\":%d,", o->window);
		printf("\"duration_s\":%.3f,\"sockets\":%d,\"sources\":%d,\"ts_every\":%d,", secs,
		       o->sockets, o->n_src, o->ts_every);
		printf("\"sent\":%llu,\"sent_wellformed\":%llu,\"sent_malformed\":%llu,"
		       "\"malformed\":{",
		       (unsigned long long)r->c.sent_total, (unsigned long long)wf,
		       (unsigned long long)mal);
		for (k = 1; k < K_MAX; k++)
			printf("%s\"%s\":%llu", k > 1 ? "," : "", hb_kind_name[k],
			       (unsigned long long)r->c.sent[k]);
		printf("},\"malformed_answered\":%llu,\"control_answered\":%llu,\"answered\":%llu,"
		       "\"valid\":%llu,\"invalid\":%llu,\"invalid_reasons\":{",
		       (unsigned long long)r->c.malformed_answered,
		       (unsigned long long)r->c.control_answered, (unsigned long long)r->c.answered,
		       (unsigned long long)r->c.valid, (unsigned long long)invalid);
		for (i = 0; i < B_MAX; i++)
			printf("%s\"%s\":%llu", i ? "," : "", bad_name[i],
			       (unsigned long long)r->c.bad[i]);
		printf("},\"late\":%llu,\"lost\":%llu,\"loss\":%.6f,\"send_errors\":%llu,",
		       (unsigned long long)r->c.late, (unsigned long long)r->c.lost, loss,
		       (unsigned long long)r->c.send_errors);
		printf("\"offered_rate\":%.1f,\"answered_rate\":%.1f,\"valid_rate\":%.1f,",
		       (double)wf / secs, (double)r->c.answered / secs, (double)r->c.valid / secs);
		printf("\"tx_stamps\":%llu,\"tx_stamp_missing\":%llu,\"rx_stamp_missing\":%llu",
		       (unsigned long long)r->c.tx_stamps,
		       (unsigned long long)r->c.tx_stamp_missing,
		       (unsigned long long)r->c.rx_stamp_missing);
		printf(",\"modes\":{\"basic\":%llu,\"interleaved\":%llu},\"interleaved_share\":%."
		       "6f,"
		       "\"xleave_stale\":%llu",
		       (unsigned long long)r->c.mode[M_BASIC],
		       (unsigned long long)r->c.mode[M_INTERLEAVED],
		       r->c.valid ? (double)r->c.mode[M_INTERLEAVED] / (double)r->c.valid : 0.0,
		       (unsigned long long)r->c.xleave_stale);
		if (r->cap.fd >= 0) {
			printf(",\"capture\":{\"frames\":%llu,\"replies\":%llu,\"unmatched\":%llu,"
			       "\"no_stamp\":%llu,\"kernel_drops\":%llu,\"xleave_unpaired\":%llu,"
			       "\"basic_us\":",
			       (unsigned long long)r->cap.frames,
			       (unsigned long long)r->cap.replies,
			       (unsigned long long)r->cap.unmatched,
			       (unsigned long long)r->cap.no_stamp,
			       (unsigned long long)r->cap.kernel_drops,
			       (unsigned long long)r->cap.xleave_unpaired);
			cap_json(r, M_BASIC);
			printf(",\"interleaved_us\":");
			cap_json(r, M_INTERLEAVED);
			printf("}");
		}
		for (i = 0; i < 4; i++) {
			struct bs_samples *s = q[i];

			printf(",\"%s\":{\"samples\":%llu", qn[i], (unsigned long long)s->seen);
			if (s->n) {
				printf(",\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
				       "\"p99_9\":%.3f,\"max\":%.3f",
				       us(s->v[0]), us(bs_pct(s, 50)), us(bs_pct(s, 90)),
				       us(bs_pct(s, 99)), us(bs_pct(s, 99.9)), us(s->v[s->n - 1]));
				if (s == &r->off || s == &r->off_x)
					printf(",\"p1\":%.3f,\"abs_p50\":%.3f,\"abs_p99\":%.3f,"
					       "\"abs_p99_9\":%.3f",
					       us(bs_pct(s, 1)), us(bs_abs_pct(s, 50)),
					       us(bs_abs_pct(s, 99)), us(bs_abs_pct(s, 99.9)));
			}
			printf("}");
		}
		hb_nts_report(r, 1);
		printf("}\n");
		return;
	}
	printf("horobench: %s port %d, %s loop (%s%.0f), %.2f s, %d sockets, %d clients%s", o->host,
	       o->port, o->rate > 0 ? "open" : "closed", o->rate > 0 ? "rate " : "window ",
	       o->rate > 0 ? o->rate : (double)o->window, secs, o->sockets, r->n_clients,
	       o->xleave ? ", interleaved" : "");
	if (r->step >= 0)
		printf(", step %d", r->step);
	printf("\n");
	printf("  sent       %llu (well-formed %llu, malformed %llu",
	       (unsigned long long)r->c.sent_total, (unsigned long long)wf,
	       (unsigned long long)mal);
	for (k = 1; k < K_MAX; k++)
		if (r->c.sent[k])
			printf(", %s %llu", hb_kind_name[k], (unsigned long long)r->c.sent[k]);
	printf(")\n");
	printf("  answered   %llu  valid %llu  invalid %llu  late %llu  lost %llu  loss %.3f%%\n",
	       (unsigned long long)r->c.answered, (unsigned long long)r->c.valid,
	       (unsigned long long)invalid, (unsigned long long)r->c.late,
	       (unsigned long long)r->c.lost, loss * 100);
	if (invalid) {
		printf("  invalid:  ");
		for (i = 0; i < B_MAX; i++)
			if (r->c.bad[i])
				printf(" %s %llu", bad_name[i], (unsigned long long)r->c.bad[i]);
		printf("\n");
	}
	if (mal)
		printf("  malformed requests answered: %llu\n",
		       (unsigned long long)r->c.malformed_answered);
	if (r->c.control_answered)
		printf("  mode 6 responses (this source may use ntpq): %llu\n",
		       (unsigned long long)r->c.control_answered);
	printf("  rate       offered %.0f/s  answered %.0f/s  valid %.0f/s\n", (double)wf / secs,
	       (double)r->c.answered / secs, (double)r->c.valid / secs);
	if (o->xleave)
		printf("  modes      basic %llu  interleaved %llu (%.2f%%)  stale %llu\n",
		       (unsigned long long)r->c.mode[M_BASIC],
		       (unsigned long long)r->c.mode[M_INTERLEAVED],
		       r->c.valid ? 100.0 * (double)r->c.mode[M_INTERLEAVED] / (double)r->c.valid
				  : 0.0,
		       (unsigned long long)r->c.xleave_stale);
	for (i = 0; i < 4; i++) {
		struct bs_samples *s = q[i];

		if (!s->n)
			continue;
		printf("  %-12s p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  (us, %llu samples)\n",
		       qn[i], us(bs_pct(s, 50)), us(bs_pct(s, 90)), us(bs_pct(s, 99)),
		       us(bs_pct(s, 99.9)), (unsigned long long)s->seen);
	}
	if (r->off.n)
		printf("  |offset|     p50 %.2f  p99 %.2f  p99.9 %.2f (us)\n",
		       us(bs_abs_pct(&r->off, 50)), us(bs_abs_pct(&r->off, 99)),
		       us(bs_abs_pct(&r->off, 99.9)));
	hb_nts_report(r, 0);
	if (r->cap.fd < 0)
		return;
	printf("  capture    %llu frames, %llu replies (%llu not ours, %llu without stamp), %llu "
	       "dropped by the kernel\n",
	       (unsigned long long)r->cap.frames, (unsigned long long)r->cap.replies,
	       (unsigned long long)r->cap.unmatched, (unsigned long long)r->cap.no_stamp,
	       (unsigned long long)r->cap.kernel_drops);
	for (k = 0; k < M_MAX; k++) {
		const struct hb_moments *m = &r->cap.mom[k];
		struct bs_samples *s = &r->cap.smp[k];

		if (!m->n)
			continue;
		bs_finish(s);
		printf("  arrival-T3 %-11s min %.2f  mean %.2f  sd %.2f  p50 %.2f  p99 %.2f  max "
		       "%.2f (us, %llu replies, %llu late)\n",
		       mode_name[k], us(m->min), m->mean / 1000.0, hb_mom_sd(m) / 1000.0,
		       us(bs_pct(s, 50)), us(bs_pct(s, 99)), us(m->max), (unsigned long long)m->n,
		       (unsigned long long)r->cap.late[k]);
	}
}
