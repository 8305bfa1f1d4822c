/*
 * The report of horobench: counts of what was sent and what came back,
 * why replies were invalid, rates, and percentiles of round-trip time,
 * server residence and offset, printed as text or as one JSON object
 * (one line, the keys bench/report.py and bench/compare read).
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

void hb_report(struct hb_run *r)
{
	const struct hb_opts *o = &r->o;
	double secs = (double)(r->t_stop - r->t_start) * 1e-9;
	uint64_t wf = r->sent[K_GOOD], invalid = 0, mal = r->sent_total - wf;
	double loss = wf ? (double)(wf - r->valid) / (double)wf : 1.0;
	struct bs_samples *q[3] = {&r->rtt, &r->res, &r->off};
	const char *qn[3] = {"rtt_us", "residence_us", "offset_us"};
	int i, k;

	for (i = 0; i < B_MAX; i++)
		invalid += r->bad[i];
	for (i = 0; i < 3; i++)
		bs_finish(q[i]);
	if (o->json) {
		printf("{\"server\":\"%s\",\"port\":%d,\"family\":%d,\"loop\":\"%s\",", o->host,
		       o->port, o->dst.ss_family == AF_INET ? 4 : 6,
		       o->rate > 0 ? "open" : "closed");
		if (o->rate > 0)
			printf("\"rate\":%.0f,", o->rate);
		else
			printf("\"window\":%d,", o->window);
		printf("\"duration_s\":%.3f,\"sockets\":%d,\"sources\":%d,\"ts_every\":%d,", secs,
		       o->sockets, o->n_src, o->ts_every);
		printf("\"sent\":%llu,\"sent_wellformed\":%llu,\"sent_malformed\":%llu,"
		       "\"malformed\":{",
		       (unsigned long long)r->sent_total, (unsigned long long)wf,
		       (unsigned long long)mal);
		for (k = 1; k < K_MAX; k++)
			printf("%s\"%s\":%llu", k > 1 ? "," : "", hb_kind_name[k],
			       (unsigned long long)r->sent[k]);
		printf("},\"malformed_answered\":%llu,\"control_answered\":%llu,\"answered\":%llu,"
		       "\"valid\":%llu,\"invalid\":%llu,\"invalid_reasons\":{",
		       (unsigned long long)r->malformed_answered,
		       (unsigned long long)r->control_answered, (unsigned long long)r->answered,
		       (unsigned long long)r->valid, (unsigned long long)invalid);
		for (i = 0; i < B_MAX; i++)
			printf("%s\"%s\":%llu", i ? "," : "", bad_name[i],
			       (unsigned long long)r->bad[i]);
		printf("},\"late\":%llu,\"lost\":%llu,\"loss\":%.6f,\"send_errors\":%llu,",
		       (unsigned long long)r->late, (unsigned long long)r->lost, loss,
		       (unsigned long long)r->send_errors);
		printf("\"offered_rate\":%.1f,\"answered_rate\":%.1f,\"valid_rate\":%.1f,",
		       (double)wf / secs, (double)r->answered / secs, (double)r->valid / secs);
		printf("\"tx_stamps\":%llu,\"tx_stamp_missing\":%llu,\"rx_stamp_missing\":%llu",
		       (unsigned long long)r->tx_stamps, (unsigned long long)r->tx_stamp_missing,
		       (unsigned long long)r->rx_stamp_missing);
		for (i = 0; i < 3; i++) {
			struct bs_samples *s = q[i];

			printf(",\"%s\":{\"samples\":%llu", qn[i], (unsigned long long)s->seen);
			if (s->n) {
				printf(",\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
				       "\"p99_9\":%.3f,\"max\":%.3f",
				       us(s->v[0]), us(bs_pct(s, 50)), us(bs_pct(s, 90)),
				       us(bs_pct(s, 99)), us(bs_pct(s, 99.9)), us(s->v[s->n - 1]));
				if (s == &r->off)
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
	printf("horobench: %s port %d, %s loop (%s%.0f), %.2f s, %d sockets\n", o->host, o->port,
	       o->rate > 0 ? "open" : "closed", o->rate > 0 ? "rate " : "window ",
	       o->rate > 0 ? o->rate : (double)o->window, secs, o->sockets);
	printf("  sent       %llu (well-formed %llu, malformed %llu",
	       (unsigned long long)r->sent_total, (unsigned long long)wf, (unsigned long long)mal);
	for (k = 1; k < K_MAX; k++)
		if (r->sent[k])
			printf(", %s %llu", hb_kind_name[k], (unsigned long long)r->sent[k]);
	printf(")\n");
	printf("  answered   %llu  valid %llu  invalid %llu  late %llu  lost %llu  loss %.3f%%\n",
	       (unsigned long long)r->answered, (unsigned long long)r->valid,
	       (unsigned long long)invalid, (unsigned long long)r->late,
	       (unsigned long long)r->lost, loss * 100);
	if (invalid) {
		printf("  invalid:  ");
		for (i = 0; i < B_MAX; i++)
			if (r->bad[i])
				printf(" %s %llu", bad_name[i], (unsigned long long)r->bad[i]);
		printf("\n");
	}
	if (mal)
		printf("  malformed requests answered: %llu\n",
		       (unsigned long long)r->malformed_answered);
	if (r->control_answered)
		printf("  mode 6 responses (this source may use ntpq): %llu\n",
		       (unsigned long long)r->control_answered);
	printf("  rate       offered %.0f/s  answered %.0f/s  valid %.0f/s\n", (double)wf / secs,
	       (double)r->answered / secs, (double)r->valid / secs);
	for (i = 0; i < 3; i++) {
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
}
