/*
 * Tests of the TZif leap-record reader (proto/tzif): the shipped zic
 * output (right/UTC of tzdata 2025b, and a table with a deletion) against
 * the leap-seconds.list of the same data; the machine's own right/UTC
 * when present; version 4 files (expiry record, truncated start) and
 * hostile ones built here byte by byte.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/leapfile.h"
#include "proto/tzif.h"
#include "proto/utcdate.h"

Suite *tzif_suite(void);

#define DATA	 HOROD_TESTDATA "/leap/"
#define SYS_TZIF "/usr/share/zoneinfo/right/UTC"
#define BUF_MAX	 8192 /* bytes: every file of these tests */
#define N_2025	 28   /* table entries for the 2025 data: 1972-01-01 plus 27 leaps */

static struct ntp_leaptab tab;
static char why[256];
static unsigned char buf[BUF_MAX];

static size_t slurp(const char *file)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s%s", file[0] == '/' ? "" : DATA, file);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s should open: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return n;
}

/* The 2025 leap-seconds.list as a table, the reference for TZif results. */
static void list_2025(struct ntp_leaptab *ref)
{
	static char text[4096];
	FILE *f = fopen(DATA "ietf-2025.list", "rb");
	size_t n;

	ck_assert(f != NULL);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	ck_assert_msg(ntp_leapfile_parse(text, n, ref, why, sizeof(why)) == 0, "%s", why);
}

struct rec {
	int64_t t;
	int32_t corr;
};

static size_t put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return 4;
}

/* Header with VER and LEAPCNT leap records (one UTC type, "UTC\0", nothing else). */
static size_t header(unsigned char *p, char ver, uint32_t leapcnt)
{
	memset(p, 0, 44);
	memcpy(p, "TZif", 4);
	p[4] = (unsigned char)ver;
	put32(p + 28, leapcnt);
	put32(p + 36, 1); /* typecnt */
	put32(p + 40, 4); /* charcnt */
	return 44;
}

/* The data block after a header: the UTC type, "UTC\0", then the leap records. */
static size_t block(unsigned char *p, const struct rec *r, int n, int tsize)
{
	size_t o = 0;
	int i;

	memset(p, 0, 6); /* utoff 0, isdst 0, desigidx 0 */
	o += 6;
	memcpy(p + o, "UTC", 4);
	o += 4;
	for (i = 0; i < n; i++) {
		if (tsize == 8) {
			o += put32(p + o, (uint32_t)((uint64_t)r[i].t >> 32));
			o += put32(p + o, (uint32_t)r[i].t);
		} else {
			o += put32(p + o, (uint32_t)r[i].t);
		}
		o += put32(p + o, (uint32_t)r[i].corr);
	}
	return o;
}

/* A TZif file of version VER (0, '2', '3', '4') with the N records R, in buf; its length. */
static size_t build(char ver, const struct rec *r, int n)
{
	size_t o = 0;

	o += header(buf + o, ver, (uint32_t)n);
	o += block(buf + o, r, n, 4);
	if (ver) {
		o += header(buf + o, ver, (uint32_t)n);
		o += block(buf + o, r, n, 8);
		buf[o++] = '\n';
		buf[o++] = '\n';
	}
	return o;
}

static int parse(size_t n)
{
	return ntp_tzif_parse(buf, n, &tab, why, sizeof(why));
}

/* Occurrence of an insertion whose midnight is Y-M-1 after PREV corrections. */
static int64_t occ(int y, int m, int prev)
{
	return ntp_utc_days(y, m, 1) * NTP_DAY_S + prev;
}

START_TEST(test_right_utc_2025)
{
	struct ntp_leaptab ref;
	int i;

	list_2025(&ref);
	ck_assert_msg(parse(slurp("right-utc-2025")) == 0, "right/UTC 2025 should parse: %s", why);
	ck_assert_int_eq(tab.n, N_2025);
	for (i = 0; i < N_2025; i++) {
		ck_assert_msg(tab.e[i].utc_s == ref.e[i].utc_s,
			      "entry %d: %lld, the list says %lld", i, (long long)tab.e[i].utc_s,
			      (long long)ref.e[i].utc_s);
		ck_assert_int_eq(tab.e[i].tai_utc, ref.e[i].tai_utc);
	}
	ck_assert_msg(tab.expires_s == 0, "a version 2 file should have no known expiry");
	ck_assert_int_eq(tab.src, NTP_LEAPTAB_TZIF);
	ck_assert_int_eq(tab.hashed, 0);
}
END_TEST

START_TEST(test_system_right_utc)
{
	struct ntp_leaptab ref;
	FILE *f = fopen(SYS_TZIF, "rb");
	int i;

	if (!f) {
		fprintf(stderr, "tzif: %s absent, only the shipped copy is checked\n", SYS_TZIF);
		ck_assert_int_eq(parse(slurp("right-utc-2025")), 0);
		return;
	}
	fclose(f);
	list_2025(&ref);
	ck_assert_msg(parse(slurp(SYS_TZIF)) == 0, "%s should parse: %s", SYS_TZIF, why);
	ck_assert_int_ge(tab.n, N_2025);
	for (i = 0; i < N_2025; i++)
		ck_assert_int_eq(tab.e[i].utc_s, ref.e[i].utc_s);
}
END_TEST

START_TEST(test_zic_deletion)
{
	struct ntp_leap l;

	ck_assert_msg(parse(slurp("right-utc-future")) == 0, "zic's deletion should parse: %s",
		      why);
	ck_assert_int_eq(tab.n, N_2025 + 1);
	ck_assert_msg(tab.e[N_2025].utc_s == ntp_utc_days(2031, 1, 1) * NTP_DAY_S,
		      "the deleted 2030-12-31 23:59:59 should end at 2031-01-01, got %lld",
		      (long long)tab.e[N_2025].utc_s);
	ck_assert_int_eq(tab.e[N_2025].tai_utc, 36);
	ck_assert_int_eq(ntp_leaptab_next(&tab, ntp_utc_days(2030, 12, 31) * NTP_DAY_S, &l), 1);
	ck_assert_int_eq(l.dir, -1);
}
END_TEST

START_TEST(test_v1_only)
{
	struct rec r[] = {{occ(1972, 7, 0), 1}, {occ(1973, 1, 1), 2}};

	ck_assert_msg(parse(build(0, r, 2)) == 0, "a version 1 file should parse: %s", why);
	ck_assert_int_eq(tab.n, 3);
	ck_assert_int_eq(tab.e[1].utc_s, 78796800);
	ck_assert_int_eq(tab.e[2].utc_s, 94694400);
	ck_assert_int_eq(tab.e[2].tai_utc, 12);
}
END_TEST

START_TEST(test_v4_expiry)
{
	int64_t exp = ntp_utc_days(2026, 6, 28) * NTP_DAY_S;
	struct rec r[] = {{occ(1972, 7, 0), 1}, {occ(1973, 1, 1), 2}, {exp + 2, 2}};

	ck_assert_msg(parse(build('4', r, 3)) == 0, "a v4 expiry record should parse: %s", why);
	ck_assert_int_eq(tab.n, 3);
	ck_assert_msg(tab.expires_s == exp, "the expiry should be 2026-06-28, got %lld",
		      (long long)tab.expires_s);
	ck_assert_int_eq(parse(build('2', r, 3)), -1);
	ck_assert_msg(strstr(why, "repeats") != NULL, "v2 may not repeat a correction: %s", why);
}
END_TEST

START_TEST(test_v4_truncated)
{
	struct rec r[] = {{occ(2015, 7, 25), 26}, {occ(2017, 1, 26), 27}};
	int off;

	ck_assert_msg(parse(build('4', r, 2)) == 0, "a v4 truncated table should parse: %s", why);
	ck_assert_int_eq(tab.n, 2);
	ck_assert_int_eq(tab.e[0].utc_s, 1435708800);
	ck_assert_int_eq(tab.e[0].tai_utc, 36);
	ck_assert_int_eq(tab.e[1].utc_s, 1483228800);
	ck_assert_int_eq(ntp_leaptab_tai_utc(&tab, 1435708799, &off), -1);
	ck_assert_int_eq(parse(build('3', r, 2)), -1);
	ck_assert_msg(strstr(why, "only version 4") != NULL, "v3 must start at +-1: %s", why);
}
END_TEST

START_TEST(test_hostile)
{
	struct rec ok[] = {{occ(1972, 7, 0), 1}, {occ(1973, 1, 1), 2}};
	struct rec back[] = {{occ(1973, 1, 1), 1}, {occ(1972, 7, 0), 2}};
	struct rec jump[] = {{occ(1972, 7, 0), 1}, {occ(1973, 1, 1), 3}};
	struct rec midmonth[] = {{occ(1972, 7, 0) + 5 * NTP_DAY_S, 1}};
	struct rec negative[] = {{-5, 1}};
	struct rec huge[] = {{INT64_MAX - 3, 1}};
	struct rec repeat[] = {{occ(1972, 7, 0), 1}, {occ(1973, 1, 1), 1}, {occ(1974, 1, 1), 2}};
	size_t n;

	ck_assert_int_eq(parse(build('2', back, 2)), -1);
	ck_assert_msg(strstr(why, "not after") != NULL, "%s", why);
	ck_assert_int_eq(parse(build('2', jump, 2)), -1);
	ck_assert_msg(strstr(why, "moves it by 1") != NULL, "%s", why);
	ck_assert_int_eq(parse(build('2', midmonth, 1)), -1);
	ck_assert_msg(strstr(why, "first of a month") != NULL, "%s", why);
	ck_assert_int_eq(parse(build('2', negative, 1)), -1);
	ck_assert_msg(strstr(why, "before 1970") != NULL, "%s", why);
	ck_assert_int_eq(parse(build('2', huge, 1)), -1);
	ck_assert_msg(strstr(why, "out of range") != NULL, "%s", why);
	ck_assert_int_eq(parse(build('4', repeat, 3)), -1);
	ck_assert_msg(strstr(why, "repeats") != NULL, "only the last may repeat: %s", why);
	ck_assert_int_eq(parse(build('2', ok, 0)), -1);
	ck_assert_msg(strstr(why, "no leap second records") != NULL, "%s", why);

	/* Byte-level damage to a good file. */
	n = build('2', ok, 2);
	ck_assert_int_eq(parse(n), 0);
	ck_assert_int_eq(parse(n - 12), -1); /* the last leap record cut off */
	ck_assert_msg(strstr(why, "truncated") != NULL, "%s", why);
	ck_assert_int_eq(parse(20), -1);
	ck_assert_msg(strstr(why, "shorter than") != NULL, "%s", why);
	buf[0] = 'X';
	ck_assert_int_eq(parse(n), -1);
	ck_assert_msg(strstr(why, "magic") != NULL, "%s", why);

	n = build('2', ok, 2);
	buf[4] = '9';
	ck_assert_int_eq(parse(n), -1);
	ck_assert_msg(strstr(why, "version") != NULL, "%s", why);

	n = build('2', ok, 2);
	put32(buf + 28, 0xffffffffu); /* leapcnt */
	ck_assert_int_eq(parse(n), -1);
	ck_assert_msg(strstr(why, "count above") != NULL, "%s", why);

	n = build('2', ok, 2);
	put32(buf + 36, 0); /* typecnt 0 */
	ck_assert_int_eq(parse(n), -1);
	ck_assert_msg(strstr(why, "inconsistent") != NULL, "%s", why);

	n = build('2', ok, 2);
	put32(buf + 20, 3); /* isutcnt neither 0 nor typecnt */
	ck_assert_int_eq(parse(n), -1);
	ck_assert_msg(strstr(why, "inconsistent") != NULL, "%s", why);

	n = build('3', ok, 2);
	buf[44 + 6 + 4 + 2 * 8 + 4] = '2'; /* the second header's version */
	ck_assert_int_eq(parse(n), -1);
	ck_assert_msg(strstr(why, "disagree") != NULL, "%s", why);

	ck_assert_int_eq(ntp_tzif_parse(buf, NTP_TZIF_MAX + 1, &tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "larger than") != NULL, "%s", why);
	ck_assert_int_eq(tab.n, 0);
}
END_TEST

Suite *tzif_suite(void)
{
	Suite *s = suite_create("tzif");
	TCase *tc = tcase_create("tzif");

	tcase_add_test(tc, test_right_utc_2025);
	tcase_add_test(tc, test_system_right_utc);
	tcase_add_test(tc, test_zic_deletion);
	tcase_add_test(tc, test_v1_only);
	tcase_add_test(tc, test_v4_expiry);
	tcase_add_test(tc, test_v4_truncated);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return s;
}
