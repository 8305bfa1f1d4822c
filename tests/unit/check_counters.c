/*
 * Unit tests of the worker counters: summing blocks, adding what the XDP
 * guard consumed (only the reasons it ends there, never what it passes on
 * to a worker, which would count twice), and the counters line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/serve/counters.h"

Suite *counters_suite(void);

/* Value of NAME in the formatted line LINE, or -1. */
static long long line_value(const char *line, const char *name)
{
	char key[64];
	const char *p;
	size_t n;

	n = (size_t)snprintf(key, sizeof(key), "%s=", name);
	for (p = line; (p = strstr(p, key)) != NULL; p += n)
		if (p == line || p[-1] == ' ')
			return strtoll(p + n, NULL, 10);
	return -1;
}

START_TEST(sum_blocks)
{
	static struct ctr_block b[3];
	struct ctr_totals t;
	int i;

	memset(b, 0, sizeof(b));
	for (i = 0; i < 3; i++) {
		ctr_inc(&b[i].received);
		ctr_inc(&b[i].reason[NTP_R_REPLY_SERVER]);
		ctr_inc(&b[i].tsrc[CTR_TS_KERNEL]);
	}
	ctr_inc(&b[2].received);
	ctr_inc(&b[2].reason[NTP_R_DROP_SHORT]);
	ctr_sum(b, 3, &t);
	ck_assert_uint_eq(t.received, 4);
	ck_assert_uint_eq(t.reason[NTP_R_REPLY_SERVER], 3);
	ck_assert_uint_eq(t.reason[NTP_R_DROP_SHORT], 1);
	ck_assert_uint_eq(t.tsrc[CTR_TS_KERNEL], 3);
	ck_assert_uint_eq(t.xdp, 0);
	ctr_sum(b, 1, &t);
	ck_assert_uint_eq(t.received, 1);
}
END_TEST

START_TEST(xdp_consumed_only)
{
	uint64_t g[NTP_REASON_MAX];
	struct ctr_totals t;
	uint64_t sum = 0, consumed = 0;
	int r;

	memset(&t, 0, sizeof(t));
	t.received = 10;
	t.reason[NTP_R_REPLY_SERVER] = 10;
	/* The guard counted something under every reason: r + 1 packets. */
	for (r = 0; r < NTP_REASON_MAX; r++)
		g[r] = (uint64_t)r + 1;
	ctr_add_xdp(&t, g, 0);
	/* Passed on to the workers: not added again. */
	ck_assert_uint_eq(t.reason[NTP_R_REPLY_SERVER], 10);
	ck_assert_uint_eq(t.reason[NTP_R_REPLY_SYMMETRIC], 0);
	ck_assert_uint_eq(t.reason[NTP_R_CONTROL], 0);
	ck_assert(!ctr_xdp_consumes(NTP_R_REPLY_SERVER));
	ck_assert(!ctr_xdp_consumes(NTP_R_REPLY_SYMMETRIC));
	ck_assert(!ctr_xdp_consumes(NTP_R_CONTROL));
	ck_assert(!ctr_xdp_consumes(NTP_REASON_MAX));
	/* Drops and the guard's own kiss-o'-death: added. */
	ck_assert(ctr_xdp_consumes(NTP_R_REPLY_KOD_RATE));
	ck_assert(ctr_xdp_consumes(NTP_R_DROP_DENIED));
	ck_assert_uint_eq(t.reason[NTP_R_REPLY_KOD_RATE], NTP_R_REPLY_KOD_RATE + 1);
	ck_assert_uint_eq(t.reason[NTP_R_DROP_MODE_PRIVATE], NTP_R_DROP_MODE_PRIVATE + 1);
	for (r = 0; r < NTP_REASON_MAX; r++) {
		sum += t.reason[r];
		if (ctr_xdp_consumes((enum ntp_reason)r))
			consumed += g[r];
	}
	ck_assert_uint_eq(t.xdp, consumed);
	/* received stays the sum of the reasons. */
	ck_assert_uint_eq(t.received, sum);
	ck_assert_uint_eq(t.received, 10 + consumed);
}
END_TEST

START_TEST(format_line)
{
	uint64_t g[NTP_REASON_MAX] = {0};
	struct ctr_totals t;
	char line[2048], small[24];
	size_t n;

	memset(&t, 0, sizeof(t));
	t.received = 5;
	t.reason[NTP_R_REPLY_SERVER] = 5;
	t.tsrc[CTR_TS_HARDWARE] = 2;
	g[NTP_R_DROP_RATE] = 7;
	ctr_add_xdp(&t, g, 0);
	n = ctr_format(&t, line, sizeof(line));
	ck_assert_uint_eq(n, strlen(line));
	ck_assert_int_eq(line_value(line, "received"), 12);
	ck_assert_int_eq(line_value(line, "reply_server"), 5);
	ck_assert_int_eq(line_value(line, "drop_rate"), 7);
	ck_assert_int_eq(line_value(line, "ts_hardware"), 2);
	ck_assert_int_eq(line_value(line, "xdp"), 7);
	ck_assert_msg(strncmp(line, "received=12 ", 12) == 0, "the line starts with received");
	/* A short buffer: cut, terminated, never overflowed. */
	memset(small, 'X', sizeof(small));
	n = ctr_format(&t, small, sizeof(small));
	ck_assert_uint_eq(strlen(small), n);
	ck_assert_uint_lt(n, sizeof(small));
	ck_assert_uint_eq(ctr_format(&t, small, 0), 0);
}
END_TEST

/* Requests the guard answered itself: reply_server, received and xdp. */
START_TEST(xdp_served)
{
	uint64_t g[NTP_REASON_MAX] = {0};
	struct ctr_totals t;

	memset(&t, 0, sizeof(t));
	t.received = 2;
	t.reason[NTP_R_REPLY_SERVER] = 2;
	g[NTP_R_REPLY_SERVER] = 2; /* what the guard passed to the workers */
	g[NTP_R_DROP_SHORT] = 1;
	ctr_add_xdp(&t, g, 40);
	ck_assert_uint_eq(t.reason[NTP_R_REPLY_SERVER], 42);
	ck_assert_uint_eq(t.reason[NTP_R_DROP_SHORT], 1);
	ck_assert_uint_eq(t.received, 43);
	ck_assert_uint_eq(t.xdp, 41);
}
END_TEST

Suite *counters_suite(void)
{
	Suite *s = suite_create("counters");
	TCase *t = tcase_create("core");

	tcase_add_test(t, sum_blocks);
	tcase_add_test(t, xdp_consumed_only);
	tcase_add_test(t, format_line);
	tcase_add_test(t, xdp_served);
	suite_add_tcase(s, t);
	return s;
}
