/*
 * Summing and printing the per-worker counters. The hot path only calls
 * ctr_inc() (inline in the header); everything here runs on demand.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/serve/counters.h"

static const char *const tsrc_names[CTR_TS_MAX] = {
	[CTR_TS_HARDWARE] = "hardware",
	[CTR_TS_KERNEL] = "kernel",
	[CTR_TS_DAEMON] = "daemon",
};

static const char *const mode_names[CTR_MODE_MAX] = {
	[CTR_MODE_BASIC] = "basic",
	[CTR_MODE_INTERLEAVED] = "interleaved",
};

const char *ctr_mode_name(enum ctr_mode m)
{
	if ((unsigned)m >= CTR_MODE_MAX)
		return "unknown";
	return mode_names[m];
}

const char *ctr_tsrc_name(enum ctr_tsrc t)
{
	if ((unsigned)t >= CTR_TS_MAX)
		return "unknown";
	return tsrc_names[t];
}

void ctr_sum(const struct ctr_block *blocks, int n, struct ctr_totals *out)
{
	int i, r;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		const struct ctr_block *b = &blocks[i];

		out->received += atomic_load_explicit(&b->received, memory_order_relaxed);
		for (r = 0; r < NTP_REASON_MAX; r++)
			out->reason[r] += atomic_load_explicit(&b->reason[r], memory_order_relaxed);
		for (r = 0; r < CTR_TS_MAX; r++) {
			out->tsrc[r] += atomic_load_explicit(&b->tsrc[r], memory_order_relaxed);
			out->xtx[r] += atomic_load_explicit(&b->xtx[r], memory_order_relaxed);
		}
		for (r = 0; r < CTR_MODE_MAX; r++)
			out->mode[r] += atomic_load_explicit(&b->mode[r], memory_order_relaxed);
		for (r = 0; r < CTR_TXS_MAX; r++)
			out->txs[r] += atomic_load_explicit(&b->txs[r], memory_order_relaxed);
		out->xl_evicted += atomic_load_explicit(&b->xl_evicted, memory_order_relaxed);
		out->kernel_drops += atomic_load_explicit(&b->kernel_drops, memory_order_relaxed);
		for (r = 0; r < AUTH_OUTCOME_MAX; r++)
			out->auth[r] += atomic_load_explicit(&b->auth[r], memory_order_relaxed);
	}
}

void ctr_add_ke(struct ctr_totals *t, const struct auth_shared *as)
{
	int o;

	if (!as || !as->kes_open)
		return;
	for (o = 0; o < KES_OUTCOME_MAX; o++)
		t->ke[o] += atomic_load_explicit(&as->kes.outcome[o], memory_order_relaxed);
}

int ctr_xdp_consumes(enum ntp_reason r)
{
	return (unsigned int)r < (unsigned int)NTP_REASON_MAX && r != NTP_R_REPLY_SERVER &&
	       r != NTP_R_REPLY_SYMMETRIC && r != NTP_R_CONTROL;
}

void ctr_add_xdp(struct ctr_totals *t, const uint64_t g[NTP_REASON_MAX], uint64_t served)
{
	int r;

	t->reason[NTP_R_REPLY_SERVER] += served;
	t->received += served;
	t->xdp += served;
	for (r = 0; r < NTP_REASON_MAX; r++) {
		if (!ctr_xdp_consumes((enum ntp_reason)r))
			continue;
		t->reason[r] += g[r];
		t->received += g[r];
		t->xdp += g[r];
	}
}

/* Append to BUF at *POS without overflowing; output is cut at LEN - 1. */
static void append(char *buf, size_t len, size_t *pos, const char *name, uint64_t v)
{
	int n;

	if (*pos >= len)
		return;
	n = snprintf(buf + *pos, len - *pos, "%s%s=%llu", *pos ? " " : "", name,
		     (unsigned long long)v);
	if (n < 0)
		return;
	*pos += (size_t)n < len - *pos ? (size_t)n : len - *pos - 1;
}

size_t ctr_format(const struct ctr_totals *t, char *buf, size_t len)
{
	char name[32];
	size_t pos = 0;
	int r;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	append(buf, len, &pos, "received", t->received);
	for (r = 0; r < NTP_REASON_MAX; r++)
		append(buf, len, &pos, ntp_reason_name((enum ntp_reason)r), t->reason[r]);
	for (r = 0; r < CTR_TS_MAX; r++) {
		snprintf(name, sizeof(name), "ts_%s", ctr_tsrc_name((enum ctr_tsrc)r));
		append(buf, len, &pos, name, t->tsrc[r]);
	}
	append(buf, len, &pos, "xdp", t->xdp);
	for (r = 0; r < CTR_MODE_MAX; r++)
		append(buf, len, &pos, ctr_mode_name((enum ctr_mode)r), t->mode[r]);
	for (r = 0; r < CTR_TS_MAX; r++) {
		snprintf(name, sizeof(name), "interleaved_%s", ctr_tsrc_name((enum ctr_tsrc)r));
		append(buf, len, &pos, name, t->xtx[r]);
	}
	append(buf, len, &pos, "tx_stamps", t->txs[CTR_TXS_READ]);
	append(buf, len, &pos, "tx_unmatched", t->txs[CTR_TXS_UNMATCHED]);
	append(buf, len, &pos, "xleave_evicted", t->xl_evicted);
	append(buf, len, &pos, "kernel_dropped", t->kernel_drops);
	for (r = 0; r < AUTH_OUTCOME_MAX; r++)
		append(buf, len, &pos, auth_outcome_name((enum auth_outcome)r), t->auth[r]);
	for (r = 0; r < KES_OUTCOME_MAX; r++) {
		snprintf(name, sizeof(name), "ke_%s", kes_outcome_name((enum kes_outcome)r));
		append(buf, len, &pos, name, t->ke[r]);
	}
	return pos;
}
