/*
 * Unit tests of proto/ntske.c: NTS-KE records as RFC 8915 section 4 has
 * them. A server reads a request to the answer the RFC prescribes (the
 * protocol and AEAD, or Bad Request, or Unrecognized Critical Record); a
 * client accepts a server's answer only when it is complete and names
 * what was offered; messages are found in a byte stream whatever the
 * boundaries, and refused past 16 KiB.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "proto/ntske.h"
#include "proto/byteorder.h"

Suite *ntske_suite(void);

/* An appending record writer for hand-made messages. */
struct msg {
	uint8_t b[NKE_MSG_MAX + 64];
	size_t len;
};

static void rec(struct msg *m, int critical, unsigned int type, const void *body, size_t blen)
{
	be_put16(m->b + m->len, (uint16_t)(type | (critical ? NKE_CRITICAL : 0)));
	be_put16(m->b + m->len + 2, (uint16_t)blen);
	if (blen)
		memcpy(m->b + m->len + 4, body, blen);
	m->len += 4 + blen;
}

static void rec16(struct msg *m, int critical, unsigned int type, unsigned int v)
{
	uint8_t b[2];

	be_put16(b, (uint16_t)v);
	rec(m, critical, type, b, 2);
}

static void end(struct msg *m)
{
	rec(m, 1, NKE_REC_END, NULL, 0);
}

/* The server's reading of M. */
static struct nke_request ask(const struct msg *m)
{
	struct nke_request r;

	nke_parse_request(m->b, m->len, &r);
	return r;
}

START_TEST(test_request_roundtrip)
{
	const uint16_t aeads[] = {30, NKE_AEAD_AES_SIV_CMAC_256};
	uint8_t buf[256];
	struct nke_request r;
	size_t n = nke_build_request(aeads, 2, buf, sizeof(buf));

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(nke_msg_length(buf, n), (long)n);
	nke_parse_request(buf, n, &r);
	ck_assert_int_eq(r.error, -1);
	ck_assert_int_eq(r.ntpv4, 1);
	ck_assert_msg(r.aead == NKE_AEAD_AES_SIV_CMAC_256,
		      "the first offered AEAD we have (15 after 30) should be chosen");
	ck_assert_uint_eq(nke_build_request(aeads, 2, buf, 10), 0);
}
END_TEST

START_TEST(test_request_errors)
{
	struct msg m;
	struct nke_request r;
	uint8_t two[4];

#define START() (memset(&m, 0, sizeof(m)))
	/* No Next Protocol record. */
	START();
	rec16(&m, 1, NKE_REC_AEAD, 15);
	end(&m);
	ck_assert_int_eq(ask(&m).error, NKE_ERR_BAD_REQUEST);
	/* Next Protocol not critical. */
	START();
	rec16(&m, 0, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_AEAD, 15);
	end(&m);
	ck_assert_int_eq(ask(&m).error, NKE_ERR_BAD_REQUEST);
	/* Two Next Protocol records. */
	START();
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_AEAD, 15);
	end(&m);
	ck_assert_int_eq(ask(&m).error, NKE_ERR_BAD_REQUEST);
	/* NTPv4 without an AEAD record. */
	START();
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	end(&m);
	ck_assert_int_eq(ask(&m).error, NKE_ERR_BAD_REQUEST);
	/* An odd-length AEAD record. */
	START();
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec(&m, 1, NKE_REC_AEAD, "\x00\x0f\x00", 3);
	end(&m);
	ck_assert_int_eq(ask(&m).error, NKE_ERR_BAD_REQUEST);
	/* Records only a server sends. */
	for (unsigned int t = NKE_REC_ERROR; t <= NKE_REC_COOKIE; t++) {
		if (t == NKE_REC_AEAD)
			continue;
		START();
		rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
		rec16(&m, 1, NKE_REC_AEAD, 15);
		rec16(&m, 0, t, 0);
		end(&m);
		ck_assert_msg(ask(&m).error == NKE_ERR_BAD_REQUEST,
			      "record type %u from a client should be a bad request", t);
	}
	/* A port record of 3 bytes. */
	START();
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_AEAD, 15);
	rec(&m, 1, NKE_REC_PORT, "\x00\x7b\x00", 3);
	end(&m);
	ck_assert_int_eq(ask(&m).error, NKE_ERR_BAD_REQUEST);
	/* An unknown critical record, and an unknown one that is not critical. */
	START();
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_AEAD, 15);
	rec16(&m, 1, 0x1234, 0);
	end(&m);
	ck_assert_int_eq(ask(&m).error, NKE_ERR_UNRECOGNIZED_CRITICAL);
	START();
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_AEAD, 15);
	rec16(&m, 0, 0x1234, 0);
	be_put16(two, 4460);
	rec(&m, 1, NKE_REC_SERVER, "ntp.example", 11);
	rec(&m, 1, NKE_REC_PORT, two, 2);
	end(&m);
	r = ask(&m);
	ck_assert_int_eq(r.error, -1);
	ck_assert_str_eq(r.server, "ntp.example");
	ck_assert_int_eq(r.port, 4460);
	/* No End of Message. */
	START();
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_AEAD, 15);
	ck_assert_int_eq(ask(&m).error, NKE_ERR_BAD_REQUEST);
#undef START
}
END_TEST

START_TEST(test_request_nothing_in_common)
{
	struct msg m;
	struct nke_request r;
	struct nke_response resp = {.error = -1};
	struct nke_reply rep;
	uint8_t out[256];
	const uint16_t ours[] = {15};
	size_t n;

	/* Only a protocol we do not speak: an empty Next Protocol record answers. */
	memset(&m, 0, sizeof(m));
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0x8001);
	end(&m);
	r = ask(&m);
	ck_assert_int_eq(r.error, -1);
	ck_assert_int_eq(r.ntpv4, 0);
	resp.ntpv4 = 0;
	n = nke_build_response(&resp, out, sizeof(out));
	ck_assert_int_eq(nke_parse_reply(out, n, ours, 1, &rep), -1);
	ck_assert_msg(strstr(rep.why, "protocols") != NULL, "should say no protocol: %s", rep.why);
	/* NTPv4 with only AES-128-GCM-SIV (30), which this build lacks. */
	memset(&m, 0, sizeof(m));
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_AEAD, 30);
	end(&m);
	r = ask(&m);
	ck_assert_int_eq(r.error, -1);
	ck_assert_int_eq(r.aead, -1);
	resp.ntpv4 = 1;
	resp.aead = -1;
	n = nke_build_response(&resp, out, sizeof(out));
	ck_assert_int_eq(nke_parse_reply(out, n, ours, 1, &rep), -1);
	ck_assert_msg(strstr(rep.why, "AEAD") != NULL, "should say no AEAD: %s", rep.why);
}
END_TEST

START_TEST(test_msg_length_stream)
{
	const uint16_t aeads[] = {15};
	uint8_t buf[64];
	size_t n = nke_build_request(aeads, 1, buf, sizeof(buf)), i;
	static uint8_t big[NKE_MSG_MAX + 8];

	/* Every prefix is incomplete; the whole is the message, extra bytes or not. */
	for (i = 0; i < n; i++)
		ck_assert_int_eq(nke_msg_length(buf, i), 0);
	ck_assert_int_eq(nke_msg_length(buf, n), (long)n);
	memset(big, 0, sizeof(big));
	/* A record announcing a body that would pass 16 KiB is refused as soon as seen. */
	be_put16(big, NKE_REC_COOKIE);
	be_put16(big + 2, 0xffff);
	ck_assert_int_eq(nke_msg_length(big, 4), -1);
	/* Many small non-critical records up to the limit, no End: refused. */
	for (i = 0; i + 4 <= sizeof(big); i += 4) {
		be_put16(big + i, 0x4000);
		be_put16(big + i + 2, 0);
	}
	ck_assert_int_eq(nke_msg_length(big, sizeof(big)), -1);
}
END_TEST

START_TEST(test_response_roundtrip)
{
	const uint16_t ours[] = {15};
	uint8_t cookies[NKE_COOKIES * 104], out[2048];
	struct nke_response resp = {.error = -1,
				    .ntpv4 = 1,
				    .aead = 15,
				    .server = "192.0.2.1",
				    .port = 11123,
				    .cookies = cookies,
				    .cookie_len = 104,
				    .n_cookies = NKE_COOKIES};
	struct nke_reply rep;
	size_t n, i;

	for (i = 0; i < sizeof(cookies); i++)
		cookies[i] = (uint8_t)(i * 13);
	n = nke_build_response(&resp, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(nke_msg_length(out, n), (long)n);
	ck_assert_int_eq(nke_parse_reply(out, n, ours, 1, &rep), 0);
	ck_assert_int_eq(rep.aead, 15);
	ck_assert_int_eq(rep.next_protocol, 0);
	ck_assert_int_eq(rep.n_cookies, NKE_COOKIES);
	ck_assert_str_eq(rep.server, "192.0.2.1");
	ck_assert_int_eq(rep.port, 11123);
	for (i = 0; i < NKE_COOKIES; i++) {
		ck_assert_uint_eq(rep.cookie_len[i], 104);
		ck_assert_msg(memcmp(rep.cookie[i], cookies + i * 104, 104) == 0,
			      "cookie %zu should come back as sent", i);
	}
	ck_assert_uint_eq(nke_build_response(&resp, out, n - 1), 0);
	/* An error answer is the error alone, and the client names it. */
	resp.error = NKE_ERR_BAD_REQUEST;
	n = nke_build_response(&resp, out, sizeof(out));
	ck_assert_uint_eq(n, 6 + 4);
	ck_assert_int_eq(nke_parse_reply(out, n, ours, 1, &rep), -1);
	ck_assert_int_eq(rep.error, NKE_ERR_BAD_REQUEST);
	ck_assert_str_eq(nke_error_name(rep.error), "bad request");
}
END_TEST

START_TEST(test_reply_checks)
{
	const uint16_t ours[] = {15};
	struct nke_reply rep;
	struct msg m;
	uint8_t c[8] = {1, 2, 3, 4, 5, 6, 7, 8};

#define BASE()                                                                                     \
	do {                                                                                       \
		memset(&m, 0, sizeof(m));                                                          \
		rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);                                            \
		rec16(&m, 1, NKE_REC_AEAD, 15);                                                    \
	} while (0)
	BASE();
	rec(&m, 0, NKE_REC_COOKIE, c, 8);
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len, ours, 1, &rep), 0);
	ck_assert_int_eq(rep.n_cookies, 1);
	/* No cookie. */
	BASE();
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len, ours, 1, &rep), -1);
	/* An AEAD that was not offered. */
	memset(&m, 0, sizeof(m));
	rec16(&m, 1, NKE_REC_NEXT_PROTOCOL, 0);
	rec16(&m, 1, NKE_REC_AEAD, 17);
	rec(&m, 0, NKE_REC_COOKIE, c, 8);
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len, ours, 1, &rep), -1);
	/* An unknown critical record; a warning is kept and is not fatal. */
	BASE();
	rec(&m, 0, NKE_REC_COOKIE, c, 8);
	rec16(&m, 1, 0x2222, 0);
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len, ours, 1, &rep), -1);
	BASE();
	rec(&m, 0, NKE_REC_COOKIE, c, 8);
	rec16(&m, 1, NKE_REC_WARNING, 5);
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len, ours, 1, &rep), 0);
	ck_assert_int_eq(rep.warning, 5);
	/* A server name with a space, a port of 0, a truncated message. */
	BASE();
	rec(&m, 0, NKE_REC_COOKIE, c, 8);
	rec(&m, 1, NKE_REC_SERVER, "a b", 3);
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len, ours, 1, &rep), -1);
	BASE();
	rec(&m, 0, NKE_REC_COOKIE, c, 8);
	rec16(&m, 1, NKE_REC_PORT, 0);
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len, ours, 1, &rep), -1);
	BASE();
	rec(&m, 0, NKE_REC_COOKIE, c, 8);
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len - 1, ours, 1, &rep), -1);
	/* Nine cookies: eight kept, one counted. */
	BASE();
	for (int i = 0; i < 9; i++)
		rec(&m, 0, NKE_REC_COOKIE, c, 8);
	end(&m);
	ck_assert_int_eq(nke_parse_reply(m.b, m.len, ours, 1, &rep), 0);
	ck_assert_int_eq(rep.n_cookies, 8);
	ck_assert_int_eq(rep.extra_cookies, 1);
#undef BASE
}
END_TEST

START_TEST(test_export_context)
{
	uint8_t c[NKE_EXPORT_CTX_LEN];
	const uint8_t c2s[] = {0, 0, 0, 15, 0}, s2c[] = {0, 0, 0, 15, 1};

	nke_export_context(15, 0, c);
	ck_assert_msg(memcmp(c, c2s, sizeof(c)) == 0, "C2S context should be 00 00 00 0f 00");
	nke_export_context(15, 1, c);
	ck_assert_msg(memcmp(c, s2c, sizeof(c)) == 0, "S2C context should be 00 00 00 0f 01");
	ck_assert_str_eq(nke_aead_name(15), "AES-SIV-CMAC-256");
}
END_TEST

Suite *ntske_suite(void)
{
	Suite *s = suite_create("ntske");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_request_roundtrip);
	tcase_add_test(tc, test_request_errors);
	tcase_add_test(tc, test_request_nothing_in_common);
	tcase_add_test(tc, test_msg_length_stream);
	tcase_add_test(tc, test_response_roundtrip);
	tcase_add_test(tc, test_reply_checks);
	tcase_add_test(tc, test_export_context);
	suite_add_tcase(s, tc);
	return s;
}
