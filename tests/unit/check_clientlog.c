/*
 * The client log (daemon/serve/clientlog.c): counts per source, drops, last
 * seen and interval; merging one address across workers; a bounded table
 * that keeps busy clients when one-off sources flood it; readers that
 * never see an entry half-written while its owner updates it.
 */
#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/serve/clientlog.h"

Suite *clientlog_suite(void);

#define SEC 1000000000LL

static struct sockaddr_in v4(uint32_t host)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(host);
	return a;
}

static struct sockaddr_in6 v6(const char *text)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	inet_pton(AF_INET6, text, &a.sin6_addr);
	return a;
}

START_TEST(test_counts_and_interval)
{
	struct clog *l = clog_create();
	struct sockaddr_in a = v4(0xC0000201), b = v4(0xC0000202);
	struct sockaddr_in6 c = v6("2001:db8::1");
	struct clog_client top[4];
	int i, n, total;

	ck_assert_ptr_nonnull(l);
	for (i = 0; i < 10; i++)
		clog_note(l, (struct sockaddr *)&a, 1000 * SEC + i * 2 * SEC, i % 5 != 0);
	clog_note(l, (struct sockaddr *)&b, 1000 * SEC, 1);
	clog_note(l, (struct sockaddr *)&c, 1000 * SEC, 0);
	clog_note(l, (struct sockaddr *)&c, 1001 * SEC, 1);
	n = clog_top(&l, 1, top, 4, &total);
	ck_assert_msg(n == 3 && total == 3, "should list 3 clients, got %d (total %d)", n, total);
	ck_assert_msg(top[0].family == AF_INET && !memcmp(top[0].addr, &a.sin_addr, 4),
		      "the busiest should be 192.0.2.1");
	ck_assert_msg(top[0].requests == 10 && top[0].drops == 2,
		      "192.0.2.1 should have 10 requests, 2 dropped (got %llu, %llu)",
		      (unsigned long long)top[0].requests, (unsigned long long)top[0].drops);
	ck_assert_msg(top[0].last_ns == 1018 * SEC, "last seen should be the last request");
	ck_assert_msg(top[0].ival_ns == 2 * SEC, "a steady 2 s stream should average 2 s, got %lld",
		      (long long)top[0].ival_ns);
	ck_assert_msg(top[1].family == AF_INET6 && top[1].requests == 2 && top[1].drops == 1,
		      "second should be 2001:db8::1 with 2 requests, 1 dropped");
	ck_assert_msg(top[2].requests == 1 && top[2].ival_ns == 0,
		      "a single request has no interval");
	clog_destroy(l);
}
END_TEST

START_TEST(test_merge_across_workers)
{
	struct clog *l[2] = {clog_create(), clog_create()};
	struct sockaddr_in a = v4(0x0A000001), b = v4(0x0A000002);
	struct clog_client top[4];
	int i, n, total;

	for (i = 0; i < 4; i++) {
		clog_note(l[0], (struct sockaddr *)&a, 100 * SEC + i * 4 * SEC, 1);
		clog_note(l[1], (struct sockaddr *)&a, 102 * SEC + i * 4 * SEC, 1);
	}
	clog_note(l[1], (struct sockaddr *)&b, 50 * SEC, 0);
	n = clog_top(l, 2, top, 4, &total);
	ck_assert_msg(n == 2 && total == 2, "one address in two logs should be one client");
	ck_assert_msg(top[0].requests == 8, "its requests should add up to 8, got %llu",
		      (unsigned long long)top[0].requests);
	ck_assert_msg(top[0].last_ns == 114 * SEC, "last seen should be the later of the two");
	ck_assert_msg(top[0].ival_ns == 2 * SEC,
		      "two interleaved 4 s streams should give 2 s, got %lld",
		      (long long)top[0].ival_ns);
	ck_assert_msg(clog_top(l, 2, top, 1, NULL) == 1, "MAX should bound the answer");
	ck_assert_msg(clog_top(l, 2, top, 0, &total) == 0 && total == 2,
		      "MAX 0 lists nothing but still counts");
	clog_destroy(l[0]);
	clog_destroy(l[1]);
}
END_TEST

START_TEST(test_bounded_keeps_busy)
{
	struct clog *l = clog_create();
	struct clog_client *top = calloc(CLOG_SLOTS, sizeof(*top));
	int i, j, n, total, busy_found = 0;

	/* 16 busy clients, then 100,000 one-off sources, the busy ones still talking. */
	for (i = 0; i < 100000; i++) {
		struct sockaddr_in spoof = v4(0x64000000u + (uint32_t)i);

		clog_note(l, (struct sockaddr *)&spoof, (int64_t)i * 1000, 0);
		if (i % 64 == 0)
			for (j = 0; j < 16; j++) {
				struct sockaddr_in busy = v4(0xC6336400u + (uint32_t)j);

				clog_note(l, (struct sockaddr *)&busy, (int64_t)i * 1000 + 1, 1);
			}
	}
	n = clog_top(&l, 1, top, CLOG_SLOTS, &total);
	ck_assert_msg(total <= CLOG_SLOTS, "the table should stay bounded (%d entries)", total);
	for (i = 0; i < 16 && i < n; i++)
		if (top[i].requests >= 1500 && top[i].drops == 0)
			busy_found++;
	ck_assert_msg(busy_found == 16,
		      "all 16 busy clients should survive the flood at the top, found %d",
		      busy_found);
	free(top);
	clog_destroy(l);
}
END_TEST

struct race {
	struct clog *l;
	_Atomic int stop;
};

static void *writer(void *arg)
{
	struct race *r = arg;
	struct sockaddr_in a = v4(0x7F000001);
	int64_t t = 0;
	long k;

	/* Bounded: the reader stops us, or 5 million updates. */
	for (k = 0; k < 5000000 && !r->stop; k++) {
		/* requests and last_ns move together: requests == last_ns / SEC */
		t += SEC;
		clog_note(r->l, (struct sockaddr *)&a, t, 1);
	}
	return NULL;
}

START_TEST(test_reader_never_torn)
{
	struct race r = {.l = clog_create(), .stop = 0};
	struct clog_client c[2];
	pthread_t th;
	int i, torn = 0, seen = 0;

	pthread_create(&th, NULL, writer, &r);
	for (i = 0; i < 2000; i++) {
		if (clog_top(&r.l, 1, c, 1, NULL) != 1)
			continue;
		seen++;
		if ((int64_t)c[0].requests != c[0].last_ns / SEC)
			torn++;
	}
	r.stop = 1;
	pthread_join(th, NULL);
	ck_assert_msg(torn == 0,
		      "a reader should never see requests and last seen disagree (%d of %d)", torn,
		      seen);
	clog_destroy(r.l);
}
END_TEST

Suite *clientlog_suite(void)
{
	Suite *s = suite_create("clientlog");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_counts_and_interval);
	tcase_add_test(tc, test_merge_across_workers);
	tcase_add_test(tc, test_bounded_keeps_busy);
	tcase_add_test(tc, test_reader_never_torn);
	suite_add_tcase(s, tc);
	return s;
}
