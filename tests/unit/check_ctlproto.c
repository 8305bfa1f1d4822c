/*
 * Unit tests of the control protocol: round trips of requests and
 * responses, incremental decoding, and every malformed message rejected
 * (magic, version, type, command, status, reserved, length, oversize),
 * plus the key=value payload reader on good and bad lines, and the
 * default control socket path for root and for other users.
 */
#include <check.h>
#include <string.h>

#include "proto/ctlproto.h"

Suite *ctlproto_suite(void);

START_TEST(request_round_trip)
{
	uint8_t b[CTL_HDR_LEN];
	struct ctl_msg m;
	int c;

	for (c = 1; c < CTL_CMD_MAX; c++) {
		ck_assert_uint_eq(ctl_request_encode((enum ctl_cmd)c, b), CTL_HDR_LEN);
		ck_assert_msg(ctl_decode(b, sizeof(b), CTL_T_REQUEST, &m) == CTL_HDR_LEN,
			      "a request for command %d should decode whole", c);
		ck_assert_msg(m.h.command == c && m.h.length == 0 && m.h.status == 0,
			      "the decoded request should carry command %d", c);
		ck_assert_msg(ctl_cmd_from_name(ctl_cmd_name(c)) == c,
			      "command names should map back to their command");
	}
}
END_TEST

START_TEST(response_round_trip)
{
	uint8_t b[CTL_HDR_LEN + 5];
	struct ctl_header h = {CTL_VERSION, CTL_T_RESPONSE, CTL_CMD_CONFIG, CTL_S_OK, 5};
	struct ctl_msg m;
	size_t i;

	ctl_header_encode(&h, b);
	memcpy(b + CTL_HDR_LEN, "hello", 5);
	ck_assert_msg(ctl_decode(b, sizeof(b), CTL_T_RESPONSE, &m) == (int)sizeof(b),
		      "a response should decode to its full length");
	ck_assert_msg(m.h.length == 5 && memcmp(m.payload, "hello", 5) == 0,
		      "the payload should come back intact");
	for (i = 0; i < sizeof(b); i++)
		ck_assert_msg(ctl_decode(b, i, CTL_T_RESPONSE, &m) == 0,
			      "a truncated message (%zu bytes) should ask for more", i);
}
END_TEST

/* Encode a valid request, apply one corruption, expect ERR. */
static void expect_bad(int off, uint8_t val, int err)
{
	uint8_t b[CTL_HDR_LEN];
	struct ctl_msg m;

	ctl_request_encode(CTL_CMD_STATUS, b);
	b[off] = val;
	ck_assert_msg(ctl_decode(b, sizeof(b), CTL_T_REQUEST, &m) == err,
		      "byte %d = 0x%02x should be rejected with %d (%s)", off, val, err,
		      ctl_err_text(err));
}

START_TEST(malformed_rejected)
{
	uint8_t b[CTL_HDR_LEN];
	struct ctl_msg m;

	expect_bad(0, 'G', CTL_E_MAGIC); /* "GET /metrics" on the control socket */
	expect_bad(3, 0, CTL_E_MAGIC);
	expect_bad(4, 0, CTL_E_VERSION);
	expect_bad(4, 2, CTL_E_VERSION);
	expect_bad(5, CTL_T_RESPONSE, CTL_E_TYPE);
	expect_bad(6, 0, CTL_E_COMMAND);
	expect_bad(6, CTL_CMD_MAX, CTL_E_COMMAND);
	expect_bad(6, 0xff, CTL_E_COMMAND);
	expect_bad(7, 1, CTL_E_STATUS);
	expect_bad(12, 1, CTL_E_RESERVED);
	expect_bad(15, 0x80, CTL_E_RESERVED);
	expect_bad(8, 0x80, CTL_E_LENGTH); /* 2 GiB */
	/* One byte over the request limit. */
	ctl_request_encode(CTL_CMD_STATUS, b);
	b[10] = (uint8_t)((CTL_MAX_REQUEST + 1) >> 8);
	b[11] = (uint8_t)(CTL_MAX_REQUEST + 1);
	ck_assert_msg(ctl_decode(b, sizeof(b), CTL_T_REQUEST, &m) == CTL_E_LENGTH,
		      "a request payload over CTL_MAX_REQUEST should be rejected");
	/* Garbage is rejected from its first byte, before a whole header arrives. */
	ck_assert_msg(ctl_decode((const uint8_t *)"x", 1, CTL_T_REQUEST, &m) == CTL_E_MAGIC,
		      "one garbage byte should already be rejected");
}
END_TEST

START_TEST(response_oversize)
{
	struct ctl_header h = {CTL_VERSION, CTL_T_RESPONSE, CTL_CMD_METRICS, CTL_S_OK,
			       CTL_MAX_PAYLOAD + 1};
	uint8_t b[CTL_HDR_LEN];
	struct ctl_msg m;

	ctl_header_encode(&h, b);
	ck_assert_msg(ctl_decode(b, sizeof(b), CTL_T_RESPONSE, &m) == CTL_E_LENGTH,
		      "a response over CTL_MAX_PAYLOAD should be rejected");
	h.length = CTL_MAX_PAYLOAD;
	ctl_header_encode(&h, b);
	ck_assert_msg(ctl_decode(b, sizeof(b), CTL_T_RESPONSE, &m) == 0,
		      "a response of exactly CTL_MAX_PAYLOAD should wait for its payload");
	h.status = CTL_S_MAX;
	ctl_header_encode(&h, b);
	ck_assert_msg(ctl_decode(b, sizeof(b), CTL_T_RESPONSE, &m) == CTL_E_STATUS,
		      "an unknown status should be rejected");
}
END_TEST

START_TEST(kv_round_trip)
{
	char buf[256], k[CTL_KEY_MAX], v[CTL_VAL_MAX];
	size_t pos = 0, rd = 0;

	pos = ctl_kv_put(buf, sizeof(buf), pos, "stratum", "%d", 2);
	pos = ctl_kv_put(buf, sizeof(buf), pos, "s0.name", "%s", "a\nb=c");
	ck_assert_msg(pos < sizeof(buf), "two short lines should fit");
	ck_assert_int_eq(ctl_kv_next(buf, pos, &rd, k, sizeof(k), v, sizeof(v)), 1);
	ck_assert_msg(strcmp(k, "stratum") == 0 && strcmp(v, "2") == 0,
		      "the first line should read back as stratum=2");
	ck_assert_int_eq(ctl_kv_next(buf, pos, &rd, k, sizeof(k), v, sizeof(v)), 1);
	ck_assert_msg(strcmp(v, "a?b=c") == 0, "a newline in a value should become '?', got %s", v);
	ck_assert_msg(ctl_kv_next(buf, pos, &rd, k, sizeof(k), v, sizeof(v)) == 0,
		      "the end should be reported");
	ck_assert_msg(ctl_kv_get(buf, pos, "stratum", v, sizeof(v)) == 0 && strcmp(v, "2") == 0,
		      "kv_get should find stratum");
	ck_assert_msg(ctl_kv_get(buf, pos, "nope", v, sizeof(v)) == -1,
		      "kv_get should miss an absent key");
	ck_assert_msg(ctl_kv_put(buf, 4, 0, "stratum", "%d", 2) > 4,
		      "kv_put should report the length it wanted when truncated");
}
END_TEST

START_TEST(kv_malformed)
{
	static const char *const bad[] = {"novalue\n", "=x\n", "Key=x\n",
					  "a b=1\n",   "k=v",  "k-1=v\n"};
	char k[CTL_KEY_MAX], v[CTL_VAL_MAX], big[CTL_VAL_MAX + 8];
	size_t i, pos;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pos = 0;
		ck_assert_msg(
			ctl_kv_next(bad[i], strlen(bad[i]), &pos, k, sizeof(k), v, sizeof(v)) == -1,
			"line '%s' should be rejected", bad[i]);
	}
	pos = 0;
	ck_assert_msg(ctl_kv_next("k=a\0b\n", 6, &pos, k, sizeof(k), v, sizeof(v)) == -1,
		      "a NUL byte should be rejected");
	memset(big, 'x', sizeof(big));
	big[0] = 'k';
	big[1] = '=';
	big[sizeof(big) - 1] = '\n';
	pos = 0;
	ck_assert_msg(ctl_kv_next(big, sizeof(big), &pos, k, sizeof(k), v, sizeof(v)) == -1,
		      "a value longer than CTL_VAL_MAX should be rejected");
}
END_TEST

/* A stat result for a directory owned by UID with permission bits MODE. */
static struct stat dir_st(uid_t uid, mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR | mode;
	st.st_uid = uid;
	return st;
}

START_TEST(sock_default)
{
	struct stat mine = dir_st(1000, 0700), theirs = dir_st(1001, 0700);
	struct stat open_dir = dir_st(1000, 0777), file = mine;
	char out[CTL_SOCK_PATH_MAX], longx[CTL_SOCK_PATH_MAX];

	file.st_mode = S_IFREG | 0600;
	ck_assert_int_eq(ctl_sock_default(out, sizeof(out), 0, "/run/user/0", &mine), 21);
	ck_assert_msg(strcmp(out, "/run/horod/horod.sock") == 0,
		      "root should get /run/horod/horod.sock whatever XDG_RUNTIME_DIR says: %s",
		      out);
	ctl_sock_default(out, sizeof(out), 1000, "/run/user/1000", &mine);
	ck_assert_msg(strcmp(out, "/run/user/1000/horod/horod.sock") == 0,
		      "a user's own XDG_RUNTIME_DIR should hold the socket: %s", out);
	ctl_sock_default(out, sizeof(out), 1000, NULL, NULL);
	ck_assert_msg(strcmp(out, "/tmp/horod-1000/horod.sock") == 0,
		      "without XDG_RUNTIME_DIR the socket should be in /tmp/horod-UID: %s", out);
	ctl_sock_default(out, sizeof(out), 1000, "/run/user/1000", NULL);
	ck_assert_msg(strcmp(out, "/tmp/horod-1000/horod.sock") == 0,
		      "an XDG_RUNTIME_DIR that cannot be stat'ed should not be used: %s", out);
	ctl_sock_default(out, sizeof(out), 1000, "/run/user/1001", &theirs);
	ck_assert_msg(strcmp(out, "/tmp/horod-1000/horod.sock") == 0,
		      "another user's directory should not be used: %s", out);
	ctl_sock_default(out, sizeof(out), 1000, "/tmp", &open_dir);
	ck_assert_msg(strcmp(out, "/tmp/horod-1000/horod.sock") == 0,
		      "a directory others may write should not be used: %s", out);
	ctl_sock_default(out, sizeof(out), 1000, "/run/user/1000", &file);
	ck_assert_msg(strcmp(out, "/tmp/horod-1000/horod.sock") == 0,
		      "a file should not be used as a directory: %s", out);
	ctl_sock_default(out, sizeof(out), 1000, "run/user/1000", &mine);
	ck_assert_msg(strcmp(out, "/tmp/horod-1000/horod.sock") == 0,
		      "a relative XDG_RUNTIME_DIR should not be used: %s", out);
	memset(longx, 'x', sizeof(longx));
	longx[0] = '/';
	longx[CTL_SOCK_PATH_MAX - 18] = '\0'; /* 90 bytes + the tail's 17 + NUL = 108 fit... */
	ck_assert_msg(ctl_sock_default(out, sizeof(out), 1000, longx, &mine) == 107,
		      "an XDG path of 90 bytes should just fit a socket address");
	longx[CTL_SOCK_PATH_MAX - 18] = 'x';
	longx[CTL_SOCK_PATH_MAX - 17] = '\0'; /* ...one more byte does not */
	ctl_sock_default(out, sizeof(out), 1000, longx, &mine);
	ck_assert_msg(strcmp(out, "/tmp/horod-1000/horod.sock") == 0,
		      "an XDG path too long for a socket address should not be used: %s", out);
	ck_assert_msg(ctl_sock_default(out, 10, 1000, NULL, NULL) == -1,
		      "a path that does not fit the buffer should return -1");
}
END_TEST

Suite *ctlproto_suite(void)
{
	Suite *s = suite_create("ctlproto");
	TCase *t = tcase_create("core");

	tcase_add_test(t, request_round_trip);
	tcase_add_test(t, response_round_trip);
	tcase_add_test(t, malformed_rejected);
	tcase_add_test(t, response_oversize);
	tcase_add_test(t, kv_round_trip);
	tcase_add_test(t, kv_malformed);
	tcase_add_test(t, sock_default);
	suite_add_tcase(s, t);
	return s;
}
