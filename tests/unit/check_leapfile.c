/*
 * Tests of the leap-seconds.list parser (proto/leapfile): the shipped
 * files (tests/data/leap/, written by make-leap-files.py) and the
 * machine's own list when it has one; hostile input built here, each
 * with a correct SHA-1 (computed with nettle by the same digit rule) so
 * that the check under test is the one that refuses it.
 */
#include <check.h>
#include <errno.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/leapfile.h"
#include "proto/utcdate.h"

Suite *leapfile_suite(void);

#define DATA	   HOROD_TESTDATA "/leap/"
#define SYS_LIST   "/usr/share/zoneinfo/leap-seconds.list"
#define TEXT_MAX   (NTP_LEAPFILE_MAX + 4096)	     /* bytes: room for the oversized case */
#define EXP_2025   (3991593600LL - NTP_UNIX_EPOCH_S) /* Unix s: 2026-06-28, the 2025 list */
#define UPD_2025   (3960835200LL - NTP_UNIX_EPOCH_S) /* Unix s: its last update */
#define N_2025	   28				     /* entries of the 2025 list */
#define EXP_FUTURE 2082412800LL			     /* Unix s: 2035-12-28 (future.list) */

static struct ntp_leaptab tab;
static char why[256];
static char text[TEXT_MAX];

/* Read FILE (under tests/data/leap/ unless absolute) into text; its length. */
static size_t slurp(const char *file)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s%s", file[0] == '/' ? "" : DATA, file);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s should open: %s", path, strerror(errno));
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	return n;
}

static int parse_file(const char *file)
{
	size_t n = slurp(file);

	return ntp_leapfile_parse(text, n, &tab, why, sizeof(why));
}

/* The #h line for the digits of UPD, EXP and the data lines of BODY; NOPAD drops leading 0s. */
static void hash_line(const char *upd, const char *exp, const char *body, int nopad, char *out,
		      size_t len)
{
	struct sha1_ctx c;
	uint8_t d[SHA1_DIGEST_SIZE];
	const char *p;
	size_t pos = 0;
	int w, in_comment = 0, line_start = 1;

	sha1_init(&c);
	for (p = upd; *p; p++)
		if (*p >= '0' && *p <= '9')
			sha1_update(&c, 1, (const uint8_t *)p);
	for (p = exp; *p; p++)
		if (*p >= '0' && *p <= '9')
			sha1_update(&c, 1, (const uint8_t *)p);
	for (p = body; *p; p++) {
		if (*p == '\n') {
			in_comment = 0;
			line_start = 1;
			continue;
		}
		if (*p == '#')
			in_comment = 1;
		if (line_start && *p == '#')
			in_comment = 1;
		line_start = 0;
		if (!in_comment && *p >= '0' && *p <= '9')
			sha1_update(&c, 1, (const uint8_t *)p);
	}
	sha1_digest(&c, sizeof(d), d);
	pos += (size_t)snprintf(out + pos, len - pos, "#h\t");
	for (w = 0; w < 5; w++) {
		unsigned v = (unsigned)d[4 * w] << 24 | (unsigned)d[4 * w + 1] << 16 |
			     (unsigned)d[4 * w + 2] << 8 | d[4 * w + 3];

		pos += (size_t)snprintf(out + pos, len - pos, nopad ? "%x%s" : "%08x%s", v,
					w < 4 ? " " : "\n");
	}
}

/* A list with update UPD, expiry EXP, data lines BODY and a correct hash into text. */
static size_t make_list(const char *upd, const char *exp, const char *body)
{
	char h[128];

	hash_line(upd, exp, body, 0, h, sizeof(h));
	return (size_t)snprintf(text, sizeof(text), "#$\t%s\n#@\t%s\n%s%s", upd, exp, body, h);
}

static int parse_made(const char *upd, const char *exp, const char *body)
{
	size_t n = make_list(upd, exp, body);

	return ntp_leapfile_parse(text, n, &tab, why, sizeof(why));
}

/* Three real entries (1972-01-01 10, 1972-07-01 11, 1973-01-01 12). */
#define BODY3 "2272060800\t10\t# 1 Jan 1972\n2287785600\t11\n2303683200\t12\n"

START_TEST(test_ietf_2025)
{
	ck_assert_msg(parse_file("ietf-2025.list") == 0, "the 2025 list should parse: %s", why);
	ck_assert_int_eq(tab.n, N_2025);
	ck_assert_int_eq(tab.e[0].utc_s, 63072000);
	ck_assert_int_eq(tab.e[0].tai_utc, 10);
	ck_assert_int_eq(tab.e[N_2025 - 1].utc_s, 1483228800);
	ck_assert_int_eq(tab.e[N_2025 - 1].tai_utc, 37);
	ck_assert_int_eq(tab.expires_s, EXP_2025);
	ck_assert_int_eq(tab.updated_s, UPD_2025);
	ck_assert_int_eq(tab.hashed, 1);
	ck_assert_int_eq(tab.src, NTP_LEAPTAB_LIST);
}
END_TEST

START_TEST(test_system_list)
{
	struct ntp_leaptab ref;
	FILE *f = fopen(SYS_LIST, "rb");
	int i;

	if (!f) {
		/* Not every machine has tzdata's list: say so instead of passing silently. */
		fprintf(stderr, "leapfile: %s absent, its test only checks the shipped copy\n",
			SYS_LIST);
		ck_assert_int_eq(parse_file("ietf-2025.list"), 0);
		return;
	}
	fclose(f);
	ck_assert_int_eq(parse_file("ietf-2025.list"), 0);
	ref = tab;
	ck_assert_msg(parse_file(SYS_LIST) == 0, "%s should parse: %s", SYS_LIST, why);
	ck_assert_int_ge(tab.n, N_2025);
	for (i = 0; i < N_2025; i++) {
		ck_assert_int_eq(tab.e[i].utc_s, ref.e[i].utc_s);
		ck_assert_int_eq(tab.e[i].tai_utc, ref.e[i].tai_utc);
	}
	ck_assert_int_ge(tab.expires_s, ref.expires_s);
}
END_TEST

START_TEST(test_future_and_crlf)
{
	struct ntp_leaptab a;

	ck_assert_msg(parse_file("future.list") == 0, "future.list should parse: %s", why);
	ck_assert_int_eq(tab.n, N_2025 + 2);
	ck_assert_int_eq(tab.e[N_2025].utc_s, ntp_utc_days(2031, 1, 1) * NTP_DAY_S);
	ck_assert_int_eq(tab.e[N_2025].tai_utc, 38);
	ck_assert_int_eq(tab.e[N_2025 + 1].utc_s, ntp_utc_days(2033, 7, 1) * NTP_DAY_S);
	ck_assert_int_eq(tab.e[N_2025 + 1].tai_utc, 37);
	ck_assert_int_eq(tab.expires_s, EXP_FUTURE);
	a = tab;
	ck_assert_msg(parse_file("crlf.list") == 0, "CRLF line ends should parse: %s", why);
	ck_assert_msg(memcmp(&a, &tab, sizeof(a)) == 0, "CRLF should give the same table");
}
END_TEST

START_TEST(test_shipped_refusals)
{
	ck_assert_int_eq(parse_file("bad-hash.list"), -1);
	ck_assert_msg(strstr(why, "hash") != NULL, "a changed digit should fail the hash: %s", why);
	ck_assert_int_eq(tab.n, 0);
	/* Cut mid-line: the half line is refused before the missing hash is noticed. */
	ck_assert_int_eq(parse_file("truncated.list"), -1);
	ck_assert_msg(why[0] && tab.n == 0, "a cut file should be refused with a reason");
	ck_assert_int_eq(parse_file("no-hash.list"), -1);
	ck_assert_msg(strstr(why, "no hash") != NULL, "a list without #h should be refused: %s",
		      why);
}
END_TEST

START_TEST(test_made_valid)
{
	ck_assert_msg(parse_made("3676924800", "3928521600", BODY3) == 0,
		      "a small hashed list should parse: %s", why);
	ck_assert_int_eq(tab.n, 3);
	ck_assert_int_eq(tab.e[2].utc_s, 94694400);
	ck_assert_int_eq(tab.e[2].tai_utc, 12);
	/* The same list without its last newline: a cut-off copy. */
	ck_assert_int_eq(ntp_leapfile_parse(text, strlen(text) - 1, &tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "truncated") != NULL, "no final newline: %s", why);
}
END_TEST

START_TEST(test_hash_without_leading_zeros)
{
	char upd[24], h[128], body[] = BODY3;
	int i, found = 0;

	/* Find an update time whose hash has a word with a leading zero, print it unpadded. */
	for (i = 0; i < 200 && !found; i++) {
		char padded[128];

		snprintf(upd, sizeof(upd), "%lld", 3676924800LL + i * 86400LL);
		hash_line(upd, "3928521600", body, 1, h, sizeof(h));
		hash_line(upd, "3928521600", body, 0, padded, sizeof(padded));
		found = strcmp(h, padded) != 0;
	}
	ck_assert_msg(found, "some hash in 200 should have a leading zero nibble");
	snprintf(text, sizeof(text), "#$\t%s\n#@\t3928521600\n%s%s", upd, body, h);
	ck_assert_msg(ntp_leapfile_parse(text, strlen(text), &tab, why, sizeof(why)) == 0,
		      "hash words without their leading zeros should be accepted: %s", why);
}
END_TEST

/* Each hostile body with a correct hash, and the word its refusal must contain. */
static const struct {
	const char *upd, *exp, *body, *expect;
} hostile[] = {
	{"3676924800", "3928521600", "2287785600\t11\n2272060800\t10\n", "not after"},
	{"3676924800", "3928521600", "2272060800\t10\n2287785600\t12\n", "leap second moves"},
	{"3676924800", "3928521600", "2272060800\t10\n2287872000\t11\n", "first of a month"},
	{"3676924800", "3928521600", "2272060800\t10\n2272060800\t11\n", "not after"},
	{"3676924800", "2287785600", BODY3, "expiry"},
	{"3928521600", "3676924800", BODY3, "expiry"},
	{"3676924800", "3928521600", "1000\t10\n", "outside"},
	{"3676924800", "3928521600", "99999999999\t10\n", "outside"},
	{"3676924800", "3928521600", "2272060800\t10\n2287785600\t999\n", "TAI-UTC"},
	{"3676924800", "3928521600", "2272060800\t1000\n", "1-3 digits"},
	{"3676924800", "3928521600", "9999999999999\t10\n", "1-12 digits"},
	{"3676924800", "3928521600", "-2272060800\t10\n", "no time"},
	{"3676924800", "3928521600", "2272060800\t-10\n", "1-3 digits"},
	{"3676924800", "3928521600", "2272060800 10 11\n", "garbage"},
	{"3676924800", "3928521600", "2272060800\n", "blank"},
	{"3676924800", "3928521600", "2272060800\t10x\n", "garbage"},
	{"3676924800", "3928521600", "#@\t3928521600\n" BODY3, "second expiry"},
	{"3676924800", "3928521600", "#$\t3676924800\n" BODY3, "second update"},
	{"x", "3928521600", BODY3, "update time"},
	{"3676924800", "39285216001234", BODY3, "expiry"},
	{"3676924800", "3928521600", "# only a comment\n", "no leap second"},
};

START_TEST(test_hostile_made)
{
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		int rc = parse_made(hostile[i].upd, hostile[i].exp, hostile[i].body);

		ck_assert_msg(rc == -1, "hostile case %zu should be refused", i);
		ck_assert_msg(strstr(why, hostile[i].expect) != NULL,
			      "hostile case %zu should say '%s', said '%s'", i, hostile[i].expect,
			      why);
		ck_assert_msg(tab.n == 0 && tab.expires_s == 0, "a refused list leaves TAB empty");
	}
}
END_TEST

START_TEST(test_hostile_raw)
{
	static const struct {
		const char *text, *expect;
	} raw[] = {
		{"", "no leap second"},
		{"#$\t3676924800\n2272060800\t10\n#h\t1 2 3 4 5\n", "no expiry"},
		{"#@\t3928521600\n2272060800\t10\n#h\t1 2 3 4\n", "fewer than 5"},
		{"#@\t3928521600\n2272060800\t10\n#h\t1 2 3 4 5 6\n", "more than 5"},
		{"#@\t3928521600\n2272060800\t10\n#h\t1 2 3 4 g\n", "not hex"},
		{"#@\t3928521600\n2272060800\t10\n#h\t1 2 3 4 123456789\n", "8 hex"},
		{"#@\t3928521600\n2272060800\t10\n#h\t1 2 3 4 5\n#h\t1 2 3 4 5\n", "second hash"},
		{"#@\t3928521600\n2272060800\t10\n#h\t1 2 3 4 5\n", "does not match"},
	};
	size_t i;

	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		ck_assert_msg(ntp_leapfile_parse(raw[i].text, strlen(raw[i].text), &tab, why,
						 sizeof(why)) == -1,
			      "raw case %zu should be refused", i);
		ck_assert_msg(strstr(why, raw[i].expect) != NULL,
			      "raw case %zu should say '%s', said '%s'", i, raw[i].expect, why);
	}
}
END_TEST

START_TEST(test_hostile_sizes)
{
	char body[NTP_LEAPTAB_MAX * 24 + 64];
	size_t pos = 0, n;
	int i, off = 10;
	int64_t t = 2272060800LL;

	/* One entry more than a table holds, each valid on its own. */
	for (i = 0; i <= NTP_LEAPTAB_MAX; i++) {
		int64_t u = t - NTP_UNIX_EPOCH_S;

		pos += (size_t)snprintf(body + pos, sizeof(body) - pos, "%lld\t%d\n", (long long)t,
					off);
		off += (i & 1) ? -1 : 1;
		t = ntp_utc_next_month(u) + NTP_UNIX_EPOCH_S;
	}
	ck_assert_int_eq(parse_made("3676924800", "4291401600", body), -1);
	ck_assert_msg(strstr(why, "more entries") != NULL, "too many entries: %s", why);

	/* A line longer than the limit (a comment is no excuse). */
	memset(body, 'x', NTP_LEAPFILE_LINE_MAX + 1);
	body[0] = '#';
	body[NTP_LEAPFILE_LINE_MAX + 1] = '\n';
	body[NTP_LEAPFILE_LINE_MAX + 2] = '\0';
	ck_assert_int_eq(parse_made("3676924800", "3928521600", body), -1);
	ck_assert_msg(strstr(why, "longer than") != NULL, "an overlong line: %s", why);

	/* A NUL byte inside a line. */
	n = make_list("3676924800", "3928521600", BODY3);
	text[n - 50] = '\0';
	ck_assert_int_eq(ntp_leapfile_parse(text, n, &tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "NUL") != NULL, "a NUL byte: %s", why);

	/* More bytes than a list may have, even if every line is a comment. */
	memset(text, '\n', NTP_LEAPFILE_MAX + 1);
	ck_assert_int_eq(ntp_leapfile_parse(text, NTP_LEAPFILE_MAX + 1, &tab, why, sizeof(why)),
			 -1);
	ck_assert_msg(strstr(why, "larger than") != NULL, "an oversized list: %s", why);
}
END_TEST

Suite *leapfile_suite(void)
{
	Suite *s = suite_create("leapfile");
	TCase *tc = tcase_create("leapfile");

	tcase_add_test(tc, test_ietf_2025);
	tcase_add_test(tc, test_system_list);
	tcase_add_test(tc, test_future_and_crlf);
	tcase_add_test(tc, test_shipped_refusals);
	tcase_add_test(tc, test_made_valid);
	tcase_add_test(tc, test_hash_without_leading_zeros);
	tcase_add_test(tc, test_hostile_made);
	tcase_add_test(tc, test_hostile_raw);
	tcase_add_test(tc, test_hostile_sizes);
	suite_add_tcase(s, tc);
	return s;
}
