/*
 * Unit tests of proto/nts.c: a client's request goes through the
 * server's parse, verification and reply and back through the client's
 * check; the answer is exactly as long as the request (never longer) for
 * every number of placeholders, in the clear or encrypted; every changed
 * byte of a request is caught (in the cookie: bad cookie; anywhere else:
 * bad authenticator) and answered with an NTS NAK carrying the request's
 * identifier; malformed requests are told apart from bad ones; a cookie
 * opens only with the server key its id names, so a key that left the
 * set takes its cookies with it.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "proto/ntp.h"
#include "proto/nts.h"
#include "proto/ntske.h"
#include "proto/byteorder.h"

Suite *nts_suite(void);

/* One server (two keys, the second current) and one client session. */
struct world {
	struct nts_keyset ks;
	struct nts_cookie ck; /* the session's keys */
	uint8_t cookie[NTS_COOKIE_LEN];
	struct cry_siv c2s, s2c; /* the client's copies */
	uint8_t uid[NTS_UID_LEN];
	struct cry_rng rng;
};

static void world_init(struct world *w)
{
	uint8_t key[NTS_KEY_LEN], seed[CRY_RNG_SEED_LEN] = {42}, nonce[NTS_NONCE_LEN];
	int i;

	memset(w, 0, sizeof(*w));
	cry_rng_seed(&w->rng, seed);
	w->ks.n = 2;
	w->ks.current = 1;
	for (i = 0; i < 2; i++) {
		cry_rng_bytes(&w->rng, key, sizeof(key));
		w->ks.key[i].id = 0x1000u + (uint32_t)i;
		cry_siv_init(&w->ks.key[i].siv, key);
	}
	w->ck.aead = NKE_AEAD_AES_SIV_CMAC_256;
	cry_rng_bytes(&w->rng, w->ck.c2s, NTS_KEY_LEN);
	cry_rng_bytes(&w->rng, w->ck.s2c, NTS_KEY_LEN);
	cry_rng_bytes(&w->rng, nonce, sizeof(nonce));
	nts_cookie_seal(&w->ks.key[1], nonce, &w->ck, w->cookie);
	cry_siv_init(&w->c2s, w->ck.c2s);
	cry_siv_init(&w->s2c, w->ck.s2c);
	cry_rng_bytes(&w->rng, w->uid, sizeof(w->uid));
}

/* A client request with PH placeholders into PKT; returns its length. */
static size_t request(struct world *w, uint8_t *pkt, size_t cap, int ph)
{
	uint8_t nonce[NTS_NONCE_LEN];
	size_t n;

	memset(pkt, 0, NTP_HEADER_LEN);
	pkt[0] = 0x23; /* LI 0, VN 4, mode 3 */
	memcpy(pkt + 40, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	cry_rng_bytes(&w->rng, nonce, sizeof(nonce));
	n = nts_client_request(pkt, cap, w->uid, w->cookie, NTS_COOKIE_LEN, ph, &w->c2s, nonce);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(ntp_classify(pkt, n, 0), NTP_R_REPLY_SERVER);
	return n;
}

/* The server's whole path on REQ: the verdict, and the answer (OK or NAK) in REPLY. */
static enum nts_verdict serve(struct world *w, const uint8_t *req, size_t len, uint8_t *reply,
			      size_t *rlen, struct nts_answer *a)
{
	struct ntp_reply_info info = {.stratum = 2, .precision = -20};
	enum nts_verdict v;

	*rlen = 0;
	if (nts_parse_request(req, len, &a->req) != NTS_PARSE_OK)
		return NTS_MALFORMED;
	v = nts_server_verify(&w->ks, req, len, a);
	if (v == NTS_OK) {
		ntp_build_reply(req, &info, 1, 2, reply);
		*rlen = nts_server_reply(&w->ks, a, req, len, reply, 2048, &w->rng);
	} else if (v != NTS_MALFORMED) {
		*rlen = nts_server_nak(req, len, &a->req, reply);
	}
	return v;
}

START_TEST(test_cookie_seal_open)
{
	struct world w;
	struct nts_cookie c;
	uint8_t bad[NTS_COOKIE_LEN];
	size_t i;

	world_init(&w);
	ck_assert_int_eq(nts_cookie_open(&w.ks, w.cookie, NTS_COOKIE_LEN, &c), 0);
	ck_assert_int_eq(c.aead, NKE_AEAD_AES_SIV_CMAC_256);
	ck_assert_msg(memcmp(c.c2s, w.ck.c2s, NTS_KEY_LEN) == 0 &&
			      memcmp(c.s2c, w.ck.s2c, NTS_KEY_LEN) == 0,
		      "the cookie should carry the session's keys");
	ck_assert_uint_eq(be_get32(w.cookie), 0x1001);
	for (i = 0; i < NTS_COOKIE_LEN; i++) {
		memcpy(bad, w.cookie, sizeof(bad));
		bad[i] ^= 0x40;
		if (nts_cookie_open(&w.ks, bad, sizeof(bad), &c) != -1)
			ck_abort_msg("a cookie with byte %zu changed should not open", i);
	}
	ck_assert_int_eq(nts_cookie_open(&w.ks, w.cookie, NTS_COOKIE_LEN - 4, &c), -1);
	/* The key leaves the set: its cookies no longer open. */
	w.ks.n = 1;
	w.ks.current = 0;
	ck_assert_int_eq(nts_cookie_open(&w.ks, w.cookie, NTS_COOKIE_LEN, &c), -1);
}
END_TEST

START_TEST(test_roundtrip_every_placeholder_count)
{
	static uint8_t req[2048], reply[2048];
	struct nts_client_reply cr;
	struct nts_answer a;
	struct world w;
	int ph, i;

	world_init(&w);
	for (ph = 0; ph <= 7; ph++) {
		size_t len = request(&w, req, sizeof(req), ph), rlen;

		ck_assert_int_eq(serve(&w, req, len, reply, &rlen, &a), NTS_OK);
		ck_assert_int_eq(a.n_cookies, 1 + ph);
		ck_assert_msg(rlen == len, "answer of %zu bytes to a %zu-byte request (%d ph)",
			      rlen, len, ph);
		ck_assert_int_eq(nts_client_check(reply, rlen, w.uid, &w.s2c, &cr), 0);
		ck_assert_int_eq(cr.n_cookies, 1 + ph);
		for (i = 0; i < cr.n_cookies; i++) {
			struct nts_cookie c;

			ck_assert_uint_eq(cr.cookie_len[i], NTS_COOKIE_LEN);
			ck_assert_int_eq(nts_cookie_open(&w.ks, cr.plain + cr.cookie_off[i],
							 cr.cookie_len[i], &c),
					 0);
			ck_assert_msg(memcmp(c.s2c, w.ck.s2c, NTS_KEY_LEN) == 0,
				      "a fresh cookie should carry the same session");
			ck_assert_msg(
				memcmp(cr.plain + cr.cookie_off[i], w.cookie, NTS_COOKIE_LEN) != 0,
				"a fresh cookie should not be the one sent");
		}
		/* The origin timestamp is the request's transmit timestamp. */
		ck_assert_msg(memcmp(reply + 24, req + 40, 8) == 0, "origin should be echoed");
	}
}
END_TEST

START_TEST(test_answer_fits_smaller_request)
{
	static uint8_t req[2048], reply[2048];
	struct nts_answer a;
	struct world w;
	size_t len, rlen;

	world_init(&w);
	len = request(&w, req, sizeof(req), 3);
	ck_assert_int_eq(serve(&w, req, len, reply, &rlen, &a), NTS_OK);
	/* Less room than the request: fewer cookies, never past the room. */
	ntp_build_reply(req, &(struct ntp_reply_info){.stratum = 2}, 1, 2, reply);
	rlen = nts_server_reply(&w.ks, &a, req, len, reply, len - 108, &w.rng);
	ck_assert_uint_le(rlen, len - 108);
	{
		struct nts_client_reply cr;

		ck_assert_int_eq(nts_client_check(reply, rlen, w.uid, &w.s2c, &cr), 0);
		ck_assert_int_eq(cr.n_cookies, 3);
	}
}
END_TEST

START_TEST(test_tamper_every_byte)
{
	static uint8_t req[2048], bad[2048], reply[2048];
	struct nts_answer a;
	struct world w;
	size_t len, i, rlen;
	struct nts_req loc;

	world_init(&w);
	len = request(&w, req, sizeof(req), 1);
	ck_assert_int_eq(nts_parse_request(req, len, &loc), NTS_PARSE_OK);
	for (i = 0; i < len; i++) {
		enum nts_verdict v;
		int in_cookie = i >= loc.cookie_off && i < loc.cookie_off + loc.cookie_len;
		/* Field headers and the Authenticator's two lengths: the structure. */
		int in_fields = (i >= loc.uid_off && i < loc.uid_off + 4) ||
				(i >= loc.cookie_off - 4 && i < loc.cookie_off) ||
				(i >= loc.cookie_off + NTS_COOKIE_LEN &&
				 i < loc.cookie_off + NTS_COOKIE_LEN + 4) ||
				(i >= loc.auth_off && i < loc.auth_off + 8);

		memcpy(bad, req, len);
		bad[i] ^= 0x01;
		v = serve(&w, bad, len, reply, &rlen, &a);
		if (v == NTS_OK)
			ck_abort_msg("byte %zu changed should not verify", i);
		/* A changed field header may make the request malformed instead. */
		if (v == NTS_MALFORMED && in_fields)
			continue;
		if (v == NTS_MALFORMED)
			ck_abort_msg("byte %zu changed should not make the request malformed", i);
		if (in_cookie && v != NTS_BAD_COOKIE)
			ck_abort_msg("byte %zu (in the cookie) should be a bad cookie, got %d", i,
				     v);
		if (!in_cookie && v != NTS_BAD_AUTH)
			ck_abort_msg("byte %zu should be a bad authenticator, got %d", i, v);
		/* The NAK: kiss code NTSN, the identifier, nothing else, not longer. */
		if (rlen != NTP_HEADER_LEN + 36 || memcmp(reply + 12, "NTSN", 4) != 0 ||
		    reply[1] != 0 || memcmp(reply + 48, bad + loc.uid_off, 36) != 0)
			ck_abort_msg("byte %zu: the answer should be an NTS NAK", i);
	}
}
END_TEST

START_TEST(test_nak_seen_by_client)
{
	static uint8_t req[2048], reply[2048];
	struct nts_client_reply cr;
	struct nts_answer a;
	struct world w;
	size_t len, rlen;

	world_init(&w);
	len = request(&w, req, sizeof(req), 0);
	w.ks.key[1].id = 0x7777; /* the server lost the cookie's key */
	ck_assert_int_eq(serve(&w, req, len, reply, &rlen, &a), NTS_BAD_COOKIE);
	ck_assert_int_eq(nts_client_check(reply, rlen, w.uid, &w.s2c, &cr), 1);
	ck_assert_int_eq(cr.nak, 1);
	/* A NAK with someone else's identifier is not ours. */
	w.uid[0] ^= 1;
	ck_assert_int_eq(nts_client_check(reply, rlen, w.uid, &w.s2c, &cr), -1);
}
END_TEST

START_TEST(test_client_rejects)
{
	static uint8_t req[2048], reply[2048], bad[2048];
	struct nts_client_reply cr;
	struct nts_answer a;
	struct world w;
	size_t len, rlen, i;

	world_init(&w);
	len = request(&w, req, sizeof(req), 0);
	ck_assert_int_eq(serve(&w, req, len, reply, &rlen, &a), NTS_OK);
	/* Any changed byte of the answer is refused. */
	for (i = 0; i < rlen; i++) {
		memcpy(bad, reply, rlen);
		bad[i] ^= 0x80;
		if (nts_client_check(bad, rlen, w.uid, &w.s2c, &cr) == 0)
			ck_abort_msg("answer byte %zu changed should not verify", i);
	}
	/* The answer to another request (another identifier). */
	w.uid[31] ^= 1;
	ck_assert_int_eq(nts_client_check(reply, rlen, w.uid, &w.s2c, &cr), -1);
	ck_assert_msg(strstr(cr.why, "Identifier") != NULL, "why: %s", cr.why);
	w.uid[31] ^= 1;
	/* A plain 48-byte answer has no identifier. */
	ck_assert_int_eq(nts_client_check(reply, NTP_HEADER_LEN, w.uid, &w.s2c, &cr), -1);
	/* The right answer checked with the wrong key. */
	ck_assert_int_eq(nts_client_check(reply, rlen, w.uid, &w.c2s, &cr), -1);
	ck_assert_int_eq(nts_client_check(reply, rlen, w.uid, &w.s2c, &cr), 0);
}
END_TEST

/* Write an extension field of TYPE with BODY_LEN bytes of FILL at P; returns its length. */
static size_t ef(uint8_t *p, unsigned int type, size_t body_len, uint8_t fill)
{
	be_put16(p, (uint16_t)type);
	be_put16(p + 2, (uint16_t)(4 + body_len));
	memset(p + 4, fill, body_len);
	return 4 + body_len;
}

START_TEST(test_malformed)
{
	static uint8_t req[2048], pkt[2048];
	struct nts_req r;
	struct world w;
	size_t len, n;

	world_init(&w);
	len = request(&w, req, sizeof(req), 0);
	/* No NTS field at all: not ours to judge. */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x23;
	n = NTP_HEADER_LEN + ef(pkt + NTP_HEADER_LEN, 0xf0f0, 28, 0);
	ck_assert_int_eq(nts_parse_request(pkt, n, &r), NTS_PARSE_NONE);
	ck_assert_int_eq(nts_parse_request(pkt, NTP_HEADER_LEN, &r), NTS_PARSE_NONE);
	/* A 28-byte identifier (RFC 8915: at least 32). */
	n = NTP_HEADER_LEN;
	n += ef(pkt + n, NTS_EF_UID, 28, 1);
	memcpy(pkt + n, req + NTP_HEADER_LEN + 36, len - NTP_HEADER_LEN - 36);
	n += len - NTP_HEADER_LEN - 36;
	ck_assert_int_eq(nts_parse_request(pkt, n, &r), NTS_PARSE_MALFORMED);
	/* Identifier and cookie but no Authenticator. */
	memcpy(pkt, req, NTP_HEADER_LEN + 36 + NTS_COOKIE_EF_LEN);
	n = NTP_HEADER_LEN + 36 + NTS_COOKIE_EF_LEN;
	ck_assert_int_eq(nts_parse_request(pkt, n, &r), NTS_PARSE_MALFORMED);
	/* Two cookies. */
	memcpy(pkt, req, NTP_HEADER_LEN + 36 + NTS_COOKIE_EF_LEN);
	memcpy(pkt + n, req + NTP_HEADER_LEN + 36, len - NTP_HEADER_LEN - 36);
	ck_assert_int_eq(nts_parse_request(pkt, n + len - NTP_HEADER_LEN - 36, &r),
			 NTS_PARSE_MALFORMED);
	/* A field after the Authenticator. */
	memcpy(pkt, req, len);
	n = len + ef(pkt + len, 0xf0f0, 28, 0);
	ck_assert_int_eq(nts_parse_request(pkt, n, &r), NTS_PARSE_MALFORMED);
	/* A placeholder shorter than the cookie. */
	memcpy(pkt, req, NTP_HEADER_LEN + 36 + NTS_COOKIE_EF_LEN);
	n = NTP_HEADER_LEN + 36 + NTS_COOKIE_EF_LEN;
	n += ef(pkt + n, NTS_EF_PLACEHOLDER, NTS_COOKIE_LEN - 4, 0);
	memcpy(pkt + n, req + len - 40, 40);
	n += 40;
	ck_assert_int_eq(nts_parse_request(pkt, n, &r), NTS_PARSE_MALFORMED);
	/* An Authenticator whose ciphertext length runs past the field. */
	memcpy(pkt, req, len);
	be_put16(pkt + len - 40 + 6, 64);
	ck_assert_int_eq(nts_parse_request(pkt, len, &r), NTS_PARSE_MALFORMED);
	/* A nonce of 0 bytes. */
	memcpy(pkt, req, len);
	be_put16(pkt + len - 40 + 4, 0);
	ck_assert_int_eq(nts_parse_request(pkt, len, &r), NTS_PARSE_MALFORMED);
	/* The intact request parses. */
	ck_assert_int_eq(nts_parse_request(req, len, &r), NTS_PARSE_OK);
	ck_assert_uint_eq(r.uid_off, NTP_HEADER_LEN);
	ck_assert_uint_eq(r.cookie_len, NTS_COOKIE_LEN);
	ck_assert_uint_eq(r.auth_off, len - 40);
}
END_TEST

START_TEST(test_encrypted_placeholders)
{
	static uint8_t pkt[2048], reply[2048];
	uint8_t plain[3 * NTS_COOKIE_EF_LEN], nonce[NTS_NONCE_LEN];
	struct nts_client_reply cr;
	struct nts_answer a;
	struct world w;
	size_t n, rlen, auth;
	int i;

	/* A request with 3 placeholders inside the Authenticator, none in the clear. */
	world_init(&w);
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x23;
	n = NTP_HEADER_LEN;
	n += ef(pkt + n, NTS_EF_UID, NTS_UID_LEN, 0);
	memcpy(pkt + NTP_HEADER_LEN + 4, w.uid, NTS_UID_LEN);
	be_put16(pkt + n, NTS_EF_COOKIE);
	be_put16(pkt + n + 2, NTS_COOKIE_EF_LEN);
	memcpy(pkt + n + 4, w.cookie, NTS_COOKIE_LEN);
	n += NTS_COOKIE_EF_LEN;
	for (i = 0; i < 3; i++)
		ef(plain + (size_t)i * NTS_COOKIE_EF_LEN, NTS_EF_PLACEHOLDER, NTS_COOKIE_LEN, 0);
	auth = 4 + 4 + NTS_NONCE_LEN + CRY_SIV_TAG_LEN + sizeof(plain);
	be_put16(pkt + n, NTS_EF_AUTH);
	be_put16(pkt + n + 2, (uint16_t)auth);
	be_put16(pkt + n + 4, NTS_NONCE_LEN);
	be_put16(pkt + n + 6, (uint16_t)(CRY_SIV_TAG_LEN + sizeof(plain)));
	cry_rng_bytes(&w.rng, nonce, sizeof(nonce));
	memcpy(pkt + n + 8, nonce, NTS_NONCE_LEN);
	cry_siv_seal(&w.c2s, nonce, NTS_NONCE_LEN, pkt, n, plain, sizeof(plain),
		     pkt + n + 8 + NTS_NONCE_LEN);
	n += auth;
	ck_assert_int_eq(serve(&w, pkt, n, reply, &rlen, &a), NTS_OK);
	ck_assert_int_eq(a.n_cookies, 4);
	ck_assert_uint_eq(rlen, n);
	ck_assert_int_eq(nts_client_check(reply, rlen, w.uid, &w.s2c, &cr), 0);
	ck_assert_int_eq(cr.n_cookies, 4);
}
END_TEST

Suite *nts_suite(void)
{
	Suite *s = suite_create("nts");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_cookie_seal_open);
	tcase_add_test(tc, test_roundtrip_every_placeholder_count);
	tcase_add_test(tc, test_answer_fits_smaller_request);
	tcase_add_test(tc, test_tamper_every_byte);
	tcase_add_test(tc, test_nak_seen_by_client);
	tcase_add_test(tc, test_client_rejects);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_encrypted_placeholders);
	suite_add_tcase(s, tc);
	return s;
}
