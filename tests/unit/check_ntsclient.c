/*
 * Unit tests of proto/ntsclient.c against proto/nts.c's server: a client
 * that gets its answers keeps 8 cookies and never needs NTS-KE again, and
 * never sends a cookie twice; one that loses its answers asks for the
 * missing cookies, and needs NTS-KE after 8 losses in a row; a NAK drops
 * the session; an answer replayed, altered, or to another request is not
 * accepted; a request that cannot hold every placeholder asks for fewer.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "proto/ntp.h"
#include "proto/ntsclient.h"

Suite *ntsclient_suite(void);

static struct nts_keyset ks;
static struct cry_rng rng;

/* An NTS-KE exchange's result: 8 cookies of the session C2S/S2C, sealed with KS. */
static void exchange(struct ntsc *c)
{
	static struct nke_reply r;
	struct nts_cookie ck = {.aead = NKE_AEAD_AES_SIV_CMAC_256};
	uint8_t nonce[NTS_NONCE_LEN];
	int i;

	memset(&r, 0, sizeof(r));
	cry_rng_bytes(&rng, ck.c2s, NTS_KEY_LEN);
	cry_rng_bytes(&rng, ck.s2c, NTS_KEY_LEN);
	for (i = 0; i < NKE_COOKIES; i++) {
		cry_rng_bytes(&rng, nonce, sizeof(nonce));
		nts_cookie_seal(&ks.key[0], nonce, &ck, r.cookie[i]);
		r.cookie_len[i] = NTS_COOKIE_LEN;
	}
	r.n_cookies = NKE_COOKIES;
	ntsc_rekey(c, ck.c2s, ck.s2c, &r);
}

/* One request from C; the server's answer into ANS (0: the server lost it). Returns its length. */
static size_t poll_once(struct ntsc *c, uint8_t *ans, int lose, uint8_t *sent_cookie)
{
	static uint8_t req[2048];
	struct ntp_reply_info info = {.stratum = 2};
	uint8_t uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN];
	struct nts_answer a;
	size_t n;

	memset(req, 0, NTP_HEADER_LEN);
	req[0] = 0x23;
	cry_rng_bytes(&rng, req + 40, 8);
	cry_rng_bytes(&rng, uid, sizeof(uid));
	cry_rng_bytes(&rng, nonce, sizeof(nonce));
	n = ntsc_request(c, req, sizeof(req), uid, nonce);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(nts_parse_request(req, n, &a.req), NTS_PARSE_OK);
	if (sent_cookie)
		memcpy(sent_cookie, req + a.req.cookie_off, NTS_COOKIE_LEN);
	if (lose)
		return 0;
	ck_assert_int_eq(nts_server_verify(&ks, req, n, &a), NTS_OK);
	ntp_build_reply(req, &info, 1, 2, ans);
	return nts_server_reply(&ks, &a, req, n, ans, 2048, &rng);
}

static void setup(void)
{
	const uint8_t seed[CRY_RNG_SEED_LEN] = {5};
	uint8_t key[NTS_KEY_LEN] = {6};

	cry_rng_seed(&rng, seed);
	ks.n = 1;
	ks.current = 0;
	ks.key[0].id = 77;
	cry_siv_init(&ks.key[0].siv, key);
}

START_TEST(test_steady_state)
{
	static uint8_t ans[2048], seen[64][NTS_COOKIE_LEN];
	struct ntsc c = {0};
	int i, j;

	ck_assert_int_eq(ntsc_need_ke(&c), 1);
	exchange(&c);
	ck_assert_int_eq(ntsc_need_ke(&c), 0);
	for (i = 0; i < 64; i++) {
		size_t n = poll_once(&c, ans, 0, seen[i]);

		ck_assert_int_eq(ntsc_answer(&c, ans, n), NTSC_OK);
		ck_assert_msg(c.n == NTS_MAX_COOKIES, "poll %d: the jar should be full again", i);
		for (j = 0; j < i; j++)
			if (memcmp(seen[i], seen[j], NTS_COOKIE_LEN) == 0)
				ck_abort_msg("poll %d sent the cookie of poll %d again", i, j);
	}
	ck_assert_uint_eq(c.ok, 64);
}
END_TEST

START_TEST(test_losses_then_recovery)
{
	static uint8_t ans[2048];
	struct ntsc c = {0};
	size_t n;
	int i;

	exchange(&c);
	for (i = 0; i < 5; i++)
		poll_once(&c, ans, 1, NULL);
	ck_assert_int_eq(c.n, 3);
	/* The next request asks for the 5 + 1 cookies missing: one answer refills the jar. */
	n = poll_once(&c, ans, 0, NULL);
	ck_assert_int_eq(ntsc_answer(&c, ans, n), NTSC_OK);
	ck_assert_int_eq(c.n, NTS_MAX_COOKIES);
	for (i = 0; i < NTS_MAX_COOKIES; i++)
		poll_once(&c, ans, 1, NULL);
	ck_assert_msg(ntsc_need_ke(&c), "8 losses in a row should empty the jar");
	ck_assert_uint_eq(ntsc_request(&c, ans, sizeof(ans), ans, ans), 0);
}
END_TEST

START_TEST(test_placeholders_fit)
{
	static uint8_t req[2048];
	uint8_t uid[NTS_UID_LEN] = {1}, nonce[NTS_NONCE_LEN] = {2};
	struct ntsc c = {0};
	struct nts_req r;
	size_t n, full;
	int i;

	exchange(&c);
	for (i = 0; i < 4; i++)
		poll_once(&c, req, 1, NULL);
	/* 4 left: the next request asks for 4 + 1 cookies (its own and 4 placeholders). */
	memset(req, 0, NTP_HEADER_LEN);
	req[0] = 0x23;
	full = ntsc_request(&c, req, sizeof(req), uid, nonce);
	ck_assert_int_eq(nts_parse_request(req, full, &r), NTS_PARSE_OK);
	ck_assert_int_eq(r.placeholders, 4);
	/* 3 left, 5 placeholders wanted, room for 2: it asks for 2, and still sends its cookie. */
	memset(req, 0, NTP_HEADER_LEN);
	req[0] = 0x23;
	n = ntsc_request(&c, req, full - 2 * (NTS_EF_HLEN + NTS_COOKIE_LEN), uid, nonce);
	ck_assert_uint_eq(n, full - 2 * (NTS_EF_HLEN + NTS_COOKIE_LEN));
	ck_assert_int_eq(nts_parse_request(req, n, &r), NTS_PARSE_OK);
	ck_assert_int_eq(r.placeholders, 2);
	/* No room for the cookie itself: nothing, and no cookie spent. */
	ck_assert_int_eq(c.n, 2);
	ck_assert_uint_eq(ntsc_request(&c, req, NTP_HEADER_LEN + 64, uid, nonce), 0);
	ck_assert_int_eq(c.n, 2);
}
END_TEST

START_TEST(test_nak_replay_tamper)
{
	static uint8_t ans[2048], old[2048], nak[256];
	struct ntsc c = {0};
	size_t n, on;

	exchange(&c);
	on = poll_once(&c, old, 0, NULL);
	ck_assert_int_eq(ntsc_answer(&c, old, on), NTSC_OK);
	/* The same answer again: nothing is in flight for it. */
	ck_assert_int_eq(ntsc_answer(&c, old, on), NTSC_UNKNOWN);
	n = poll_once(&c, ans, 0, NULL);
	/* The old answer to the new request: another identifier. */
	ck_assert_int_eq(ntsc_answer(&c, old, on), NTSC_BAD);
	ans[n - 3] ^= 1;
	ck_assert_int_eq(ntsc_answer(&c, ans, n), NTSC_BAD);
	ans[n - 3] ^= 1;
	ck_assert_int_eq(ntsc_answer(&c, ans, n), NTSC_OK);
	/* A NAK with our identifier drops the session. */
	n = poll_once(&c, ans, 0, NULL);
	memcpy(nak, ans, NTP_HEADER_LEN + 36);
	nak[1] = 0;
	memcpy(nak + 12, "NTSN", 4);
	ck_assert_int_eq(ntsc_answer(&c, nak, NTP_HEADER_LEN + 36), NTSC_NAK);
	ck_assert_int_eq(ntsc_need_ke(&c), 1);
	ck_assert_uint_eq(c.naks, 1);
}
END_TEST

Suite *ntsclient_suite(void)
{
	Suite *s = suite_create("ntsclient");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_steady_state);
	tcase_add_test(tc, test_losses_then_recovery);
	tcase_add_test(tc, test_nak_replay_tamper);
	tcase_add_test(tc, test_placeholders_fit);
	suite_add_tcase(s, tc);
	return s;
}
