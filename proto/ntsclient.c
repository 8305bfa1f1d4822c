/*
 * An NTS client's cookie jar and session (ntsclient.h): a ring of at
 * most 8 cookies, the oldest spent first; the placeholders of a request
 * ask for what the ring lacks after it, so a client that gets its
 * answers keeps 8 cookies and never needs NTS-KE again until a NAK or a
 * loss of 8 answers in a row.
 */
#include <string.h>

#include "proto/ntsclient.h"

void ntsc_reset(struct ntsc *s)
{
	uint64_t naks = s->naks, bad = s->bad, ok = s->ok;

	memset(s, 0, sizeof(*s));
	s->naks = naks;
	s->bad = bad;
	s->ok = ok;
}

/* Put the cookie C (LEN bytes) in the jar, dropping the oldest when it is full. */
static void jar_put(struct ntsc *s, const uint8_t *c, size_t len)
{
	int at;

	if (len < 1 || len > NKE_COOKIE_MAX)
		return;
	if (s->n == NTS_MAX_COOKIES) {
		s->head = (s->head + 1) % NTS_MAX_COOKIES;
		s->n--;
	}
	at = (s->head + s->n) % NTS_MAX_COOKIES;
	memcpy(s->cookie[at], c, len);
	s->len[at] = (uint16_t)len;
	s->n++;
}

void ntsc_rekey(struct ntsc *s, const uint8_t *c2s, const uint8_t *s2c, const struct nke_reply *r)
{
	int i;

	ntsc_reset(s);
	cry_siv_init(&s->c2s, c2s);
	cry_siv_init(&s->s2c, s2c);
	s->keyed = 1;
	for (i = 0; i < r->n_cookies; i++)
		jar_put(s, r->cookie[i], r->cookie_len[i]);
}

int ntsc_need_ke(const struct ntsc *s)
{
	return !s->keyed || s->n == 0;
}

size_t ntsc_request(struct ntsc *s, uint8_t *pkt, size_t cap, const uint8_t *uid,
		    const uint8_t *nonce)
{
	int ph;
	size_t n;

	if (ntsc_need_ke(s))
		return 0;
	/*
	 * Ask for what the jar lacks once this cookie is spent (RFC 8915
	 * section 5.7), or for fewer when that many placeholders of a long
	 * cookie's length do not fit CAP.
	 */
	for (ph = NTS_MAX_COOKIES - s->n;; ph--) {
		n = nts_client_request(pkt, cap, uid, s->cookie[s->head], s->len[s->head], ph,
				       &s->c2s, nonce);
		if (n || ph == 0)
			break;
	}
	if (!n)
		return 0;
	/* Spent: a cookie is never sent twice (it would link the requests). */
	memset(s->cookie[s->head], 0, s->len[s->head]);
	s->head = (s->head + 1) % NTS_MAX_COOKIES;
	s->n--;
	memcpy(s->uid, uid, NTS_UID_LEN);
	s->pending = 1;
	return n;
}

enum ntsc_result ntsc_answer(struct ntsc *s, const uint8_t *pkt, size_t len)
{
	static _Thread_local struct nts_client_reply r;
	int i, v;

	if (!s->pending || !s->keyed)
		return NTSC_UNKNOWN;
	v = nts_client_check(pkt, len, s->uid, &s->s2c, &r);
	if (v == 1) {
		/* The server cannot use our session: start again with NTS-KE. */
		s->naks++;
		ntsc_reset(s);
		return NTSC_NAK;
	}
	if (v != 0) {
		s->bad++;
		return NTSC_BAD;
	}
	s->pending = 0;
	for (i = 0; i < r.n_cookies; i++)
		jar_put(s, r.plain + r.cookie_off[i], r.cookie_len[i]);
	s->ok++;
	return NTSC_OK;
}
