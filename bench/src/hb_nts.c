/*
 * horobench's NTS mode (--nts) and NTS-KE mode (--ke).
 *
 * --nts: before the run, NTS-KE exchanges with the target (port 4460 or
 * --nts-port, the certificate checked with --ca) give sessions of 8
 * cookies each; then every request table slot gets its request built and
 * sealed once (a pool as large as the table: the request in slot i
 * carries the cookie of slot i in its transmit timestamp, an identifier
 * and a cookie of its own), so sending costs the generator a copy, not a
 * seal, and the server does the whole of its work on every request (a
 * server keeps no state: reusing a cookie or an identifier costs it
 * nothing less). One reply in --nts-verify is checked completely (the
 * identifier, the authenticator with the session's key, the cookies
 * asked for); every reply must be as long as its request and not an NTS
 * NAK.
 *
 * --ke: NTS-KE exchanges back to back from --ke-threads threads for the
 * run's duration: exchanges per second, failures, latency percentiles.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bench/src/horobench.h"
#include "bench/src/stats.h"
#include "proto/ntp.h"
#include "proto/nts.h"
#include "proto/byteorder.h"
#include "tls/keclient.h"

#define HB_NTS_TIMEOUT 5.0 /* s: one NTS-KE exchange before the run */

/* One NTS-KE session: its keys and cookies. */
struct hb_session {
	struct cry_siv c2s, s2c;
	int n;
	uint16_t len[NKE_COOKIES];
	uint8_t cookie[NKE_COOKIES][NKE_COOKIE_MAX];
};

struct hb_nts {
	struct hb_session *sess;
	int n_sess;
	uint8_t *pool;	   /* mask + 1 requests of stride bytes */
	uint16_t *len;	   /* length of each */
	uint16_t *sess_of; /* the session of each */
	size_t stride;
	uint64_t checked, auth_bad, naks, bad_len;
};

/* The exchange with the target: 0, or -1 (reported). */
static int ke_once(const struct hb_opts *o, const struct tls_ctx *t, struct kec_result *k)
{
	const uint16_t aeads[] = {NKE_AEAD_AES_SIV_CMAC_256};

	if (kec_exchange(t, o->host, o->nts_port, HB_NTS_TIMEOUT, aeads, 1, k) < 0) {
		fprintf(stderr, "horobench: NTS-KE with %s port %d failed at %s: %s\n", o->host,
			o->nts_port, k->stage, k->err);
		return -1;
	}
	return 0;
}

int hb_nts_setup(struct hb_run *r)
{
	static struct kec_result k;
	struct hb_nts *n = calloc(1, sizeof(*n));
	uint64_t slots = r->mask + 1, i;
	struct tls_ctx t;
	char err[512];
	int s;

	if (!n)
		return -1;
	r->nts = n;
	if (tls_client_init(&t, r->o.ca, !r->o.ca, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "horobench: %s\n", err);
		return -1;
	}
	n->n_sess = r->o.nts_sessions;
	n->sess = calloc((size_t)n->n_sess, sizeof(*n->sess));
	for (s = 0; n->sess && s < n->n_sess; s++) {
		struct hb_session *h = &n->sess[s];
		int c;

		if (ke_once(&r->o, &t, &k) < 0) {
			tls_fini(&t);
			return -1;
		}
		if (k.reply.port && k.reply.port != r->o.port)
			fprintf(stderr, "horobench: note: the server names NTP port %d\n",
				k.reply.port);
		cry_siv_init(&h->c2s, k.c2s);
		cry_siv_init(&h->s2c, k.s2c);
		h->n = k.reply.n_cookies;
		for (c = 0; c < h->n; c++) {
			h->len[c] = k.reply.cookie_len[c];
			memcpy(h->cookie[c], k.reply.cookie[c], h->len[c]);
		}
	}
	tls_fini(&t);
	n->stride = NTP_HEADER_LEN + NTS_EF_HLEN + NTS_UID_LEN +
		    (size_t)(1 + r->o.placeholders) * (NTS_EF_HLEN + NKE_COOKIE_MAX) + 64;
	n->pool = malloc(slots * n->stride);
	n->len = calloc(slots, sizeof(*n->len));
	n->sess_of = calloc(slots, sizeof(*n->sess_of));
	if (!n->sess || !n->pool || !n->len || !n->sess_of) {
		fprintf(stderr, "horobench: out of memory for %llu NTS requests\n",
			(unsigned long long)slots);
		return -1;
	}
	for (i = 0; i < slots; i++) {
		uint8_t *p = n->pool + i * n->stride, uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN];
		int si = (int)(i % (uint64_t)n->n_sess);
		struct hb_session *h = &n->sess[si];
		int c = (int)((i / (uint64_t)n->n_sess) % (uint64_t)h->n);

		hb_request_header(r, i, p);
		if (getrandom(uid, sizeof(uid), 0) != sizeof(uid) ||
		    getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce))
			return -1;
		n->len[i] = (uint16_t)nts_client_request(p, n->stride, uid, h->cookie[c], h->len[c],
							 r->o.placeholders, &h->c2s, nonce);
		n->sess_of[i] = (uint16_t)si;
		if (!n->len[i])
			return -1;
	}
	return 0;
}

size_t hb_nts_request(const struct hb_run *r, uint64_t seq, const uint8_t **pkt)
{
	uint64_t i = seq & r->mask;

	*pkt = r->nts->pool + i * r->nts->stride;
	return r->nts->len[i];
}

uint64_t hb_nts_seq(const struct hb_run *r, uint64_t slot)
{
	const struct hb_req *e = &r->tab[slot & r->mask];

	/* The request in flight in that slot, if the origin names the slot. */
	if (slot > r->mask || !e->seq || ((e->seq - 1) & r->mask) != slot)
		return UINT64_MAX;
	return e->seq - 1;
}

int hb_nts_check(struct hb_run *r, uint64_t seq, const uint8_t *buf, size_t len)
{
	static struct nts_client_reply cr;
	struct hb_nts *n = r->nts;
	uint64_t i = seq & r->mask;
	const uint8_t *req = n->pool + i * n->stride;
	int ret;

	if (len >= NTP_HEADER_LEN && buf[1] == 0 && memcmp(buf + 12, "NTSN", 4) == 0) {
		n->naks++;
		return -1;
	}
	if (len != n->len[i]) {
		n->bad_len++;
		return -1;
	}
	if (r->o.nts_verify == 0 || seq % (uint64_t)r->o.nts_verify)
		return 0;
	n->checked++;
	ret = nts_client_check(buf, len, req + NTP_HEADER_LEN + NTS_EF_HLEN,
			       &n->sess[n->sess_of[i]].s2c, &cr);
	if (ret != 0 || cr.n_cookies != 1 + r->o.placeholders) {
		n->auth_bad++;
		return -1;
	}
	return 0;
}

void hb_nts_report(const struct hb_run *r, int json)
{
	const struct hb_nts *n = r->nts;

	if (!n)
		return;
	if (json)
		printf(",\"nts\":{\"sessions\":%d,\"placeholders\":%d,\"request_bytes\":%u,"
		       "\"checked\":%llu,\"auth_bad\":%llu,\"naks\":%llu,\"bad_len\":%llu}",
		       n->n_sess, r->o.placeholders, n->len[0], (unsigned long long)n->checked,
		       (unsigned long long)n->auth_bad, (unsigned long long)n->naks,
		       (unsigned long long)n->bad_len);
	else
		printf("  nts        %d NTS-KE sessions, %u-byte requests (%d placeholders); %llu "
		       "replies checked whole, %llu failed, %llu NTS NAKs, %llu of the wrong "
		       "length\n",
		       n->n_sess, n->len[0], r->o.placeholders, (unsigned long long)n->checked,
		       (unsigned long long)n->auth_bad, (unsigned long long)n->naks,
		       (unsigned long long)n->bad_len);
}

/* One --ke thread's share. */
struct ke_worker {
	const struct hb_opts *o;
	const struct tls_ctx *t;
	int64_t stop;
	uint64_t ok, failed;
	struct bs_samples lat;
	char first_err[600];
	pthread_t th;
};

static void *ke_thread(void *arg)
{
	const uint16_t aeads[] = {NKE_AEAD_AES_SIV_CMAC_256};
	struct ke_worker *w = arg;
	struct kec_result k;

	while (hb_now_ns() < w->stop) {
		int64_t t0 = hb_now_ns();

		if (kec_exchange(w->t, w->o->host, w->o->nts_port, HB_NTS_TIMEOUT, aeads, 1, &k) ==
		    0) {
			w->ok++;
			bs_add(&w->lat, hb_now_ns() - t0);
		} else {
			if (!w->failed)
				snprintf(w->first_err, sizeof(w->first_err), "%s: %s", k.stage,
					 k.err);
			w->failed++;
		}
	}
	return NULL;
}

int hb_ke_run(const struct hb_opts *o)
{
	struct ke_worker *w = calloc((size_t)o->ke_threads, sizeof(*w));
	uint64_t ok = 0, failed = 0;
	struct bs_samples all;
	struct tls_ctx t;
	char err[512];
	int64_t t0;
	double secs;
	int i;
	size_t j;

	if (!w || tls_client_init(&t, o->ca, !o->ca, 0, err, sizeof(err)) < 0 ||
	    bs_init(&all, 1) < 0) {
		fprintf(stderr, "horobench: %s\n", w ? err : "out of memory");
		return 2;
	}
	t0 = hb_now_ns();
	for (i = 0; i < o->ke_threads; i++) {
		w[i].o = o;
		w[i].t = &t;
		w[i].stop = t0 + (int64_t)(o->duration * 1e9);
		bs_init(&w[i].lat, (uint64_t)i + 2);
		pthread_create(&w[i].th, NULL, ke_thread, &w[i]);
	}
	for (i = 0; i < o->ke_threads; i++) {
		pthread_join(w[i].th, NULL);
		ok += w[i].ok;
		failed += w[i].failed;
		bs_finish(&w[i].lat);
		for (j = 0; j < w[i].lat.n; j++)
			bs_add(&all, w[i].lat.v[j]);
		bs_free(&w[i].lat);
	}
	secs = (double)(hb_now_ns() - t0) / 1e9;
	bs_finish(&all);
	if (o->json) {
		printf("{\"server\":\"%s\",\"port\":%d,\"mode\":\"ke\",\"threads\":%d,"
		       "\"duration_s\":%.3f,\"exchanges\":%llu,\"failed\":%llu,\"rate\":%.1f",
		       o->host, o->nts_port, o->ke_threads, secs, (unsigned long long)ok,
		       (unsigned long long)failed, (double)ok / secs);
		if (all.n)
			printf(",\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
			       (double)bs_pct(&all, 50) / 1e6, (double)bs_pct(&all, 99) / 1e6,
			       (double)all.v[all.n - 1] / 1e6);
		printf("}\n");
	} else {
		printf("horobench: NTS-KE with %s port %d, %d thread%s, %.2f s\n", o->host,
		       o->nts_port, o->ke_threads, o->ke_threads == 1 ? "" : "s", secs);
		printf("  exchanges  %llu ok (%.1f/s), %llu failed\n", (unsigned long long)ok,
		       (double)ok / secs, (unsigned long long)failed);
		if (all.n)
			printf("  latency    p50 %.2f  p99 %.2f  max %.2f (ms)\n",
			       (double)bs_pct(&all, 50) / 1e6, (double)bs_pct(&all, 99) / 1e6,
			       (double)all.v[all.n - 1] / 1e6);
		for (i = 0; i < o->ke_threads; i++)
			if (w[i].failed) {
				printf("  first failure: %s\n", w[i].first_err);
				break;
			}
	}
	tls_fini(&t);
	bs_free(&all);
	free(w);
	return ok && !failed ? 0 : 1;
}
