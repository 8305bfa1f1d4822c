/*
 * NTS extension fields and cookies (nts.h). One walker reads extension
 * fields with bounds checks; the server's parse, verify and reply, and
 * the client's request and check are built on it. Everything is a fixed
 * amount of work on the caller's buffers: no allocation, and the only
 * secrets on the stack are the session keys of the one request at hand.
 */
#include <string.h>

#include "proto/ntp.h"
#include "proto/nts.h"
#include "proto/ntske.h"
#include "proto/byteorder.h"

#define NTS_KOD_NAK	 "NTSN" /* kiss code of the NTS NAK (RFC 8915 section 5.7) */
#define COOKIE_PLAIN_LEN (2 + 2 + 2 * NTS_KEY_LEN) /* bytes: AEAD id, 0, C2S, S2C */
#define COOKIE_ID_LEN	 4			   /* bytes: the server key id */
#define OFF_STRATUM	 1			   /* byte of the header's stratum */
#define OFF_REFID	 12			   /* bytes to the header's reference id */

_Static_assert(COOKIE_ID_LEN + NTS_NONCE_LEN + CRY_SIV_TAG_LEN + COOKIE_PLAIN_LEN == NTS_COOKIE_LEN,
	       "the cookie layout drawn in nts.h");
_Static_assert(NTS_COOKIE_LEN % 4 == 0, "a cookie field needs no padding");

/* N rounded up to a multiple of 4 (extension field bodies are padded so). */
static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/*
 * The extension field of BUF (LEN bytes) at *POS: its type and total
 * length, *POS moved past it. 1, or 0 at the end, or -1 when it is not a
 * well-formed field (shorter than 16 bytes, not a multiple of 4, past
 * the end).
 */
static int ef_next(const uint8_t *buf, size_t len, size_t *pos, unsigned int *type, size_t *flen)
{
	size_t n;

	if (*pos >= len)
		return 0;
	if (len - *pos < NTS_EF_MIN)
		return -1;
	n = be_get16(buf + *pos + 2);
	if (n < NTS_EF_MIN || n % 4 || n > len - *pos)
		return -1;
	*type = be_get16(buf + *pos);
	*flen = n;
	*pos += n;
	return 1;
}

void nts_cookie_seal(const struct nts_key *k, const uint8_t *nonce, const struct nts_cookie *c,
		     uint8_t *out)
{
	uint8_t plain[COOKIE_PLAIN_LEN];

	be_put16(plain, c->aead);
	be_put16(plain + 2, 0);
	memcpy(plain + 4, c->c2s, NTS_KEY_LEN);
	memcpy(plain + 4 + NTS_KEY_LEN, c->s2c, NTS_KEY_LEN);
	be_put32(out, k->id);
	memcpy(out + COOKIE_ID_LEN, nonce, NTS_NONCE_LEN);
	cry_siv_seal(&k->siv, nonce, NTS_NONCE_LEN, out, COOKIE_ID_LEN, plain, sizeof(plain),
		     out + COOKIE_ID_LEN + NTS_NONCE_LEN);
	memset(plain, 0, sizeof(plain));
}

int nts_cookie_open(const struct nts_keyset *ks, const uint8_t *cookie, size_t len,
		    struct nts_cookie *c)
{
	uint8_t plain[COOKIE_PLAIN_LEN];
	uint32_t id;
	int i, ret;

	if (len != NTS_COOKIE_LEN)
		return -1;
	id = be_get32(cookie);
	for (i = 0; i < ks->n && ks->key[i].id != id; i++)
		;
	if (i == ks->n)
		return -1;
	ret = cry_siv_open(&ks->key[i].siv, cookie + COOKIE_ID_LEN, NTS_NONCE_LEN, cookie,
			   COOKIE_ID_LEN, cookie + COOKIE_ID_LEN + NTS_NONCE_LEN,
			   NTS_COOKIE_LEN - COOKIE_ID_LEN - NTS_NONCE_LEN, plain);
	if (ret == 0 && be_get16(plain) == NKE_AEAD_AES_SIV_CMAC_256) {
		c->aead = be_get16(plain);
		memcpy(c->c2s, plain + 4, NTS_KEY_LEN);
		memcpy(c->s2c, plain + 4 + NTS_KEY_LEN, NTS_KEY_LEN);
	} else {
		ret = -1;
	}
	memset(plain, 0, sizeof(plain));
	return ret;
}

/*
 * Locate nonce and ciphertext in the Authenticator field of BUF at OFF
 * (FLEN bytes) into R: 0, or -1 when they do not fit it. As chrony (and
 * the RFC's padding rule) has it, the nonce takes at least 16 bytes of
 * the field with its padding, and the ciphertext at least a tag.
 */
static int auth_locate(const uint8_t *buf, size_t off, size_t flen, struct nts_req *r)
{
	size_t body = flen - NTS_EF_HLEN, nl, cl, nspace;

	if (body < NTS_AUTH_HLEN)
		return -1;
	nl = be_get16(buf + off + NTS_EF_HLEN);
	cl = be_get16(buf + off + NTS_EF_HLEN + 2);
	nspace = pad4(nl) > NTS_NONCE_LEN ? pad4(nl) : NTS_NONCE_LEN;
	if (nl < 1 || cl < CRY_SIV_TAG_LEN || cl - CRY_SIV_TAG_LEN > NTS_PLAIN_MAX)
		return -1;
	if (pad4(nl) + pad4(cl) > body - NTS_AUTH_HLEN || nspace + pad4(cl) > body - NTS_AUTH_HLEN)
		return -1;
	r->auth_off = off;
	r->nonce_off = off + NTS_EF_HLEN + NTS_AUTH_HLEN;
	r->nonce_len = nl;
	r->ct_off = r->nonce_off + pad4(nl);
	r->ct_len = cl;
	return 0;
}

enum nts_parse nts_parse_request(const uint8_t *pkt, size_t len, struct nts_req *r)
{
	size_t pos = NTP_HEADER_LEN, at, flen, ph_len = 0;
	int uid = 0, cookie = 0, auth = 0, nts = 0, got;
	unsigned int type;

	memset(r, 0, sizeof(*r));
	if (len < NTP_HEADER_LEN)
		return NTS_PARSE_NONE;
	for (;;) {
		at = pos;
		got = ef_next(pkt, len, &pos, &type, &flen);
		if (got != 1)
			break;
		switch (type) {
		case NTS_EF_UID:
			nts = 1;
			if (uid++ || flen - NTS_EF_HLEN < NTS_UID_LEN)
				return NTS_PARSE_MALFORMED;
			r->uid_off = at;
			r->uid_len = flen;
			break;
		case NTS_EF_COOKIE:
			nts = 1;
			if (cookie++)
				return NTS_PARSE_MALFORMED;
			r->cookie_off = at + NTS_EF_HLEN;
			r->cookie_len = flen - NTS_EF_HLEN;
			break;
		case NTS_EF_PLACEHOLDER:
			nts = 1;
			if (r->placeholders++ && ph_len != flen - NTS_EF_HLEN)
				return NTS_PARSE_MALFORMED;
			ph_len = flen - NTS_EF_HLEN;
			break;
		case NTS_EF_AUTH:
			nts = 1;
			if (auth++ || auth_locate(pkt, at, flen, r) < 0)
				return NTS_PARSE_MALFORMED;
			break;
		default:
			break;
		}
		/* Nothing may follow the Authenticator: it covers all before it. */
		if (auth && pos != len)
			return NTS_PARSE_MALFORMED;
	}
	if (!nts)
		return NTS_PARSE_NONE;
	if (got < 0 || !uid || !cookie || !auth)
		return NTS_PARSE_MALFORMED;
	if (r->placeholders && ph_len != r->cookie_len)
		return NTS_PARSE_MALFORMED;
	return NTS_PARSE_OK;
}

enum nts_verdict nts_server_verify(const struct nts_keyset *ks, const uint8_t *pkt, size_t len,
				   struct nts_answer *a)
{
	const struct nts_req *r = &a->req;
	uint8_t plain[NTS_PLAIN_MAX];
	size_t pos = 0, plen, flen;
	unsigned int type;
	struct cry_siv c2s;
	int got, asked;

	(void)len;
	if (nts_cookie_open(ks, pkt + r->cookie_off, r->cookie_len, &a->ck) < 0)
		return NTS_BAD_COOKIE;
	cry_siv_init(&c2s, a->ck.c2s);
	plen = r->ct_len - CRY_SIV_TAG_LEN;
	if (cry_siv_open(&c2s, pkt + r->nonce_off, r->nonce_len, pkt, r->auth_off, pkt + r->ct_off,
			 r->ct_len, plain) < 0) {
		memset(&c2s, 0, sizeof(c2s));
		return NTS_BAD_AUTH;
	}
	memset(&c2s, 0, sizeof(c2s));
	/* Authentic. Encrypted placeholders ask for cookies too. */
	asked = 1 + r->placeholders;
	while ((got = ef_next(plain, plen, &pos, &type, &flen)) == 1)
		if (type == NTS_EF_PLACEHOLDER) {
			if (flen - NTS_EF_HLEN != r->cookie_len)
				return NTS_MALFORMED;
			asked++;
		}
	if (got < 0)
		return NTS_MALFORMED;
	a->n_cookies = asked < NTS_MAX_COOKIES ? asked : NTS_MAX_COOKIES;
	return NTS_OK;
}

size_t nts_server_reply(const struct nts_keyset *ks, const struct nts_answer *a, const uint8_t *req,
			size_t req_len, uint8_t *reply, size_t cap, struct cry_rng *rng)
{
	/* Authenticator without cookies: header, our nonce, the tag. */
	const size_t auth_min = NTS_EF_HLEN + NTS_AUTH_HLEN + NTS_NONCE_LEN + CRY_SIV_TAG_LEN;
	const struct nts_key *k = &ks->key[ks->current];
	uint8_t plain[NTS_MAX_COOKIES * NTS_COOKIE_EF_LEN], nonce[NTS_NONCE_LEN], *ef;
	size_t limit = (req_len < cap ? req_len : cap) & ~(size_t)3, pos, room, plen;
	int n = a->n_cookies, i;

	pos = NTP_HEADER_LEN + a->req.uid_len;
	if (limit < pos + auth_min)
		return 0;
	memcpy(reply + NTP_HEADER_LEN, req + a->req.uid_off, a->req.uid_len);
	/* A field's length is 16 bits: a longer request gets a shorter answer. */
	room = limit - pos < 0xfffc ? limit - pos : 0xfffc;
	limit = pos + room;
	while (n > 0 && auth_min + (size_t)n * NTS_COOKIE_EF_LEN > room)
		n--;
	for (i = 0; i < n; i++) {
		uint8_t *c = plain + (size_t)i * NTS_COOKIE_EF_LEN;

		be_put16(c, NTS_EF_COOKIE);
		be_put16(c + 2, NTS_COOKIE_EF_LEN);
		cry_rng_bytes(rng, nonce, sizeof(nonce));
		nts_cookie_seal(k, nonce, &a->ck, c + NTS_EF_HLEN);
	}
	plen = (size_t)n * NTS_COOKIE_EF_LEN;
	/* One Authenticator field takes all the room left: its padding ends the answer. */
	ef = reply + pos;
	be_put16(ef, NTS_EF_AUTH);
	be_put16(ef + 2, (uint16_t)room);
	be_put16(ef + 4, NTS_NONCE_LEN);
	be_put16(ef + 6, (uint16_t)(CRY_SIV_TAG_LEN + plen));
	cry_rng_bytes(rng, ef + 8, NTS_NONCE_LEN);
	{
		struct cry_siv s2c;

		cry_siv_init(&s2c, a->ck.s2c);
		cry_siv_seal(&s2c, ef + 8, NTS_NONCE_LEN, reply, pos, plain, plen,
			     ef + 8 + NTS_NONCE_LEN);
		memset(&s2c, 0, sizeof(s2c));
	}
	memset(ef + auth_min + plen, 0, room - auth_min - plen);
	memset(plain, 0, plen);
	return limit;
}

size_t nts_server_nak(const uint8_t *req, size_t req_len, const struct nts_req *r, uint8_t *reply)
{
	(void)req_len;
	ntp_build_kod(req, NTS_KOD_NAK, reply);
	memcpy(reply + NTP_HEADER_LEN, req + r->uid_off, r->uid_len);
	return NTP_HEADER_LEN + r->uid_len;
}

size_t nts_client_request(uint8_t *pkt, size_t cap, const uint8_t *uid, const uint8_t *cookie,
			  size_t cookie_len, int placeholders, const struct cry_siv *c2s,
			  const uint8_t *nonce)
{
	const size_t cef = NTS_EF_HLEN + pad4(cookie_len);
	const size_t auth = NTS_EF_HLEN + NTS_AUTH_HLEN + NTS_NONCE_LEN + CRY_SIV_TAG_LEN;
	size_t pos = NTP_HEADER_LEN, need;
	int i;

	if (cookie_len < 1 || cookie_len > NKE_COOKIE_MAX || placeholders < 0 ||
	    placeholders > NTS_MAX_COOKIES - 1)
		return 0;
	need = NTP_HEADER_LEN + NTS_EF_HLEN + NTS_UID_LEN + cef * (size_t)(1 + placeholders) + auth;
	if (need > cap)
		return 0;
	be_put16(pkt + pos, NTS_EF_UID);
	be_put16(pkt + pos + 2, NTS_EF_HLEN + NTS_UID_LEN);
	memcpy(pkt + pos + NTS_EF_HLEN, uid, NTS_UID_LEN);
	pos += NTS_EF_HLEN + NTS_UID_LEN;
	for (i = 0; i <= placeholders; i++) {
		be_put16(pkt + pos, i == 0 ? NTS_EF_COOKIE : NTS_EF_PLACEHOLDER);
		be_put16(pkt + pos + 2, (uint16_t)cef);
		memset(pkt + pos + NTS_EF_HLEN, 0, cef - NTS_EF_HLEN);
		if (i == 0)
			memcpy(pkt + pos + NTS_EF_HLEN, cookie, cookie_len);
		pos += cef;
	}
	be_put16(pkt + pos, NTS_EF_AUTH);
	be_put16(pkt + pos + 2, (uint16_t)auth);
	be_put16(pkt + pos + 4, NTS_NONCE_LEN);
	be_put16(pkt + pos + 6, CRY_SIV_TAG_LEN);
	memcpy(pkt + pos + 8, nonce, NTS_NONCE_LEN);
	cry_siv_seal(c2s, nonce, NTS_NONCE_LEN, pkt, pos, NULL, 0, pkt + pos + 8 + NTS_NONCE_LEN);
	return pos + auth;
}

int nts_client_check(const uint8_t *pkt, size_t len, const uint8_t *uid, const struct cry_siv *s2c,
		     struct nts_client_reply *r)
{
	size_t pos = NTP_HEADER_LEN, at, flen, plen;
	struct nts_req loc = {0};
	int uid_ok = 0, auth = 0, got;
	unsigned int type;

	r->nak = 0;
	r->n_cookies = 0;
	r->why = NULL;
	if (len < NTP_HEADER_LEN || len % 4) {
		r->why = "not an NTP packet";
		return -1;
	}
	for (;;) {
		at = pos;
		got = ef_next(pkt, len, &pos, &type, &flen);
		if (got != 1)
			break;
		if (type == NTS_EF_UID && !uid_ok && flen == NTS_EF_HLEN + NTS_UID_LEN &&
		    !cry_differ(pkt + at + NTS_EF_HLEN, uid, NTS_UID_LEN))
			uid_ok = 1;
		if (type == NTS_EF_AUTH) {
			if (auth++ || auth_locate(pkt, at, flen, &loc) < 0 || pos != len) {
				r->why = "malformed or misplaced Authenticator field";
				return -1;
			}
		}
	}
	if (got < 0) {
		r->why = "malformed extension field";
		return -1;
	}
	if (!uid_ok) {
		r->why = "the Unique Identifier is not the request's";
		return -1;
	}
	if (pkt[OFF_STRATUM] == 0 && memcmp(pkt + OFF_REFID, NTS_KOD_NAK, 4) == 0) {
		r->nak = 1;
		r->why = "NTS NAK: the server could not use the cookie or the authenticator";
		return 1;
	}
	if (!auth) {
		r->why = "no Authenticator field: the answer is not authenticated";
		return -1;
	}
	plen = loc.ct_len - CRY_SIV_TAG_LEN;
	if (cry_siv_open(s2c, pkt + loc.nonce_off, loc.nonce_len, pkt, loc.auth_off,
			 pkt + loc.ct_off, loc.ct_len, r->plain) < 0) {
		r->why = "the Authenticator does not verify with the session's key";
		return -1;
	}
	pos = 0;
	while ((got = ef_next(r->plain, plen, &pos, &type, &flen)) == 1) {
		size_t body = flen - NTS_EF_HLEN;

		if (type != NTS_EF_COOKIE || body > NKE_COOKIE_MAX ||
		    r->n_cookies == NTS_MAX_COOKIES)
			continue;
		r->cookie_off[r->n_cookies] = pos - flen + NTS_EF_HLEN;
		r->cookie_len[r->n_cookies++] = body;
	}
	if (got < 0) {
		r->why = "malformed encrypted extension field";
		return -1;
	}
	return 0;
}
