/*
 * Tests of leap-file loading (clock/leapload): the shipped files by path,
 * refusals that name the path (absent, a directory, a FIFO, too big, a
 * bad hash), zone names confined to the zone directory, the expiry
 * states around the warning threshold, and the status line for the 2025
 * list, which expired on 2026-06-28.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock/leapload.h"
#include "proto/leapfile.h"
#include "proto/utcdate.h"

Suite *leapload_suite(void);

#define DATA HOROD_TESTDATA "/leap/"

static struct ntp_leaptab tab;
static char why[512];

static int64_t day(int y, int m, int d)
{
	return ntp_utc_days(y, m, d) * NTP_DAY_S;
}

START_TEST(test_load_shipped)
{
	ck_assert_msg(clk_leap_load_list(DATA "ietf-2025.list", &tab, why, sizeof(why)) == 0, "%s",
		      why);
	ck_assert_int_eq(tab.n, 28);
	ck_assert_msg(clk_leap_load_tzif(DATA "right-utc-2025", &tab, why, sizeof(why)) == 0, "%s",
		      why);
	ck_assert_int_eq(tab.n, 28);
	ck_assert_int_eq(clk_leap_load_list(DATA "bad-hash.list", &tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, DATA "bad-hash.list: ") == why && strstr(why, "hash"),
		      "the reason should start with the path: %s", why);
	ck_assert_int_eq(tab.n, 0);
	ck_assert_int_eq(clk_leap_load_tzif(DATA "ietf-2025.list", &tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "magic") != NULL, "a list is not a TZif: %s", why);
}
END_TEST

START_TEST(test_load_refusals)
{
	char dir[] = "/tmp/horod-leapload.XXXXXX", path[64];
	FILE *f;
	int i;

	ck_assert(mkdtemp(dir) != NULL);
	ck_assert_int_eq(
		clk_leap_load_list("/nonexistent/leap-seconds.list", &tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "No such file") != NULL, "%s", why);
	ck_assert_int_eq(clk_leap_load_list(dir, &tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "not a regular file") != NULL, "%s", why);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_msg(clk_leap_load_list(path, &tab, why, sizeof(why)) == -1 &&
			      strstr(why, "not a regular file"),
		      "a FIFO should be refused without blocking: %s", why);
	unlink(path);
	snprintf(path, sizeof(path), "%s/big", dir);
	f = fopen(path, "w");
	ck_assert(f != NULL);
	for (i = 0; i <= NTP_LEAPFILE_MAX; i++)
		fputc('#', f);
	fclose(f);
	ck_assert_int_eq(clk_leap_load_list(path, &tab, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "larger than") != NULL, "%s", why);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_tz_path)
{
	char out[128];

	ck_assert_int_eq(clk_leap_tz_path(CLK_ZONEINFO_DIR, "right/UTC", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/usr/share/zoneinfo/right/UTC");
	ck_assert_int_eq(clk_leap_tz_path(CLK_ZONEINFO_DIR, "right/Etc/GMT+1", out, sizeof(out)),
			 0);
	ck_assert_int_eq(clk_leap_tz_path(CLK_ZONEINFO_DIR, "/etc/passwd", out, sizeof(out)), -1);
	ck_assert_int_eq(clk_leap_tz_path(CLK_ZONEINFO_DIR, "right/../../etc", out, sizeof(out)),
			 -1);
	ck_assert_int_eq(clk_leap_tz_path(CLK_ZONEINFO_DIR, "", out, sizeof(out)), -1);
	ck_assert_int_eq(clk_leap_tz_path(CLK_ZONEINFO_DIR, "right/UTC\n", out, sizeof(out)), -1);
	ck_assert_int_eq(clk_leap_tz_path(CLK_ZONEINFO_DIR, "right/UTC", out, 10), -1);
}
END_TEST

START_TEST(test_expiry_states)
{
	int64_t exp;

	ck_assert_int_eq(clk_leap_load_list(DATA "ietf-2025.list", &tab, why, sizeof(why)), 0);
	exp = tab.expires_s;
	ck_assert_int_eq(exp, day(2026, 6, 28));
	ck_assert_int_eq(clk_leap_expiry(&tab, exp - CLK_LEAP_EXPIRY_WARN_S - 1), CLK_LEAP_EXP_OK);
	ck_assert_int_eq(clk_leap_expiry(&tab, exp - CLK_LEAP_EXPIRY_WARN_S), CLK_LEAP_EXP_SOON);
	ck_assert_int_eq(clk_leap_expiry(&tab, exp - 1), CLK_LEAP_EXP_SOON);
	ck_assert_int_eq(clk_leap_expiry(&tab, exp), CLK_LEAP_EXP_EXPIRED);
	ck_assert_int_eq(clk_leap_expiry(&tab, day(2026, 12, 7)), CLK_LEAP_EXP_EXPIRED);
	ck_assert_int_eq(clk_leap_load_tzif(DATA "right-utc-2025", &tab, why, sizeof(why)), 0);
	ck_assert_int_eq(clk_leap_expiry(&tab, day(2026, 12, 7)), CLK_LEAP_EXP_UNKNOWN);
}
END_TEST

START_TEST(test_describe)
{
	char line[256];

	ck_assert_int_eq(clk_leap_load_list(DATA "ietf-2025.list", &tab, why, sizeof(why)), 0);
	clk_leap_describe(&tab, day(2026, 12, 7), line, sizeof(line));
	ck_assert_str_eq(line, "leap-seconds.list, 28 entries, TAI-UTC 37 s, EXPIRED 2026-06-28 "
			       "(162 days ago), no leap ahead");
	ck_assert_int_eq(clk_leap_load_list(DATA "future.list", &tab, why, sizeof(why)), 0);
	clk_leap_describe(&tab, day(2030, 12, 1), line, sizeof(line));
	ck_assert_str_eq(line, "leap-seconds.list, 30 entries, TAI-UTC 37 s, expires 2035-12-28 "
			       "(1853 days left), next leap: insert at the end of 2030-12-31");
	ck_assert_int_eq(clk_leap_load_tzif(DATA "right-utc-2025", &tab, why, sizeof(why)), 0);
	clk_leap_describe(&tab, day(1971, 1, 1), line, sizeof(line));
	ck_assert_str_eq(line, "tzif, 28 entries, TAI-UTC unknown, expiry unknown, next leap: "
			       "insert at the end of 1972-06-30");
	clk_leap_describe(&tab, day(2026, 12, 7), line, 20); /* truncated, not overrun */
	ck_assert_int_eq(strlen(line), 19);
}
END_TEST

Suite *leapload_suite(void)
{
	Suite *s = suite_create("leapload");
	TCase *tc = tcase_create("leapload");

	tcase_add_test(tc, test_load_shipped);
	tcase_add_test(tc, test_load_refusals);
	tcase_add_test(tc, test_tz_path);
	tcase_add_test(tc, test_expiry_states);
	tcase_add_test(tc, test_describe);
	suite_add_tcase(s, tc);
	return s;
}
