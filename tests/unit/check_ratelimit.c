/*
 * Unit tests for daemon/policy/ratelimit.c: the limits arithmetic for positive
 * and negative intervals, a burst of B then one per interval, the exact
 * leak ratio, kiss-o'-death spacing, sources grouped by IPv4 address and
 * IPv6 /64 (IPv4-mapped IPv6 = IPv4), the bounded table recycling its
 * least recent entries, exact counts when threads share one source, and
 * new limits swapped in with every source's state kept (a reload).
 * Time is passed in, so nothing here sleeps.
 */
#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/policy/ratelimit.h"

Suite *ratelimit_suite(void);

#define SEC 1000000000ULL /* ns */
#define T0  (1000 * SEC)  /* an arbitrary start time, far from 0 */

/* ADDR (an IPv4 or IPv6 literal) as a socket address in SS. */
static const struct sockaddr *mkaddr(struct sockaddr_storage *ss, const char *addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
	} else {
		ck_assert_msg(inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1,
			      "test address %s should be a literal", addr);
		sin6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)ss;
}

/* A table for `ratelimit interval I burst B leak L [kod]`. */
static struct rl_table *mk(int interval, int burst, int leak, int kod, unsigned int entries)
{
	struct rl_limits l;
	struct rl_table *t;

	rl_limits_set(&l, 1, interval, burst, leak, kod);
	t = rl_create(&l, entries);
	ck_assert_msg(t != NULL, "a table of %u entries should be created", entries);
	return t;
}

/* Charge N requests from ADDR at NOW; count the verdicts into V[4]. */
static void charge(struct rl_table *t, const char *addr, uint64_t now, int n, int v[4], int kod)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = mkaddr(&ss, addr);
	int i;

	for (i = 0; i < n; i++)
		v[rl_charge(t, sa, now, kod)]++;
}

START_TEST(test_limits)
{
	struct rl_limits l;

	rl_limits_set(&l, 1, 3, 8, 2, 1);
	ck_assert_msg(l.interval_ns == 8 * SEC, "interval 3 should be 8 s");
	ck_assert_msg(l.tau_ns == 7 * 8 * SEC, "burst 8 should tolerate 7 intervals");
	ck_assert_msg(l.kod_interval_ns == 8 * SEC, "KoDs should be spaced by the interval");
	ck_assert_msg(l.leak_mask == 3 && l.kod && l.enabled, "leak 2 should be mask 3");
	rl_limits_set(&l, 1, -19, 1, 0, 0);
	ck_assert_msg(l.interval_ns == SEC >> 19 && l.tau_ns == 0 && l.leak_mask == 0,
		      "interval -19 should be 1907 ns, burst 1 no tolerance, leak 0 no mask");
	rl_limits_set(&l, 0, 99, 999, 99, 0);
	ck_assert_msg(l.interval_ns == SEC << 12 && l.tau_ns == 254 * (SEC << 12) &&
			      l.leak_mask == 0xffff && !l.enabled,
		      "out-of-range values should be clamped to 12, 255, 16");
}
END_TEST

START_TEST(test_burst_then_interval)
{
	struct rl_table *t = mk(1, 4, 0, 0, 1024);
	int v[4] = {0};

	charge(t, "192.0.2.1", T0, 10, v, 0);
	ck_assert_msg(v[RL_PASS] == 4 && v[RL_DROP] == 6, "a burst of 4 should pass, 6 drop");
	memset(v, 0, sizeof(v));
	charge(t, "192.0.2.1", T0 + 2 * SEC - 1, 1, v, 0);
	ck_assert_msg(v[RL_DROP] == 1, "1 ns before the first interval ends should still drop");
	charge(t, "192.0.2.1", T0 + 2 * SEC, 2, v, 0);
	ck_assert_msg(v[RL_PASS] == 1 && v[RL_DROP] == 2, "one more should pass after 2 s");
	memset(v, 0, sizeof(v));
	/* 10 intervals of silence refill the whole burst, not more. */
	charge(t, "192.0.2.1", T0 + 40 * SEC, 6, v, 0);
	ck_assert_msg(v[RL_PASS] == 4 && v[RL_DROP] == 2, "a rested source should get B again");
	memset(v, 0, sizeof(v));
	charge(t, "192.0.2.2", T0 + 40 * SEC, 5, v, 0);
	ck_assert_msg(v[RL_PASS] == 4, "another address should have its own burst");
	rl_destroy(t);
}
END_TEST

START_TEST(test_leak_ratio)
{
	struct rl_table *t = mk(6, 2, 3, 0, 1024);
	int v[4] = {0};

	charge(t, "198.51.100.7", T0, 2 + 800, v, 0);
	ck_assert_msg(v[RL_PASS] == 2, "the burst of 2 should pass");
	ck_assert_msg(v[RL_LEAK] == 100 && v[RL_DROP] == 700,
		      "1 in 8 of 800 over-rate requests should leak (100), got %d", v[RL_LEAK]);
	rl_destroy(t);
}
END_TEST

START_TEST(test_kod_spacing)
{
	struct rl_table *t = mk(2, 1, 0, 1, 1024);
	struct sockaddr_storage ss;
	int v[4] = {0};

	charge(t, "203.0.113.9", T0, 5, v, 1);
	ck_assert_msg(v[RL_PASS] == 1 && v[RL_KOD] == 1 && v[RL_DROP] == 3,
		      "one pass, one KoD, then drops within the interval");
	memset(v, 0, sizeof(v));
	charge(t, "203.0.113.9", T0 + 1 * SEC, 3, v, 0);
	ck_assert_msg(v[RL_DROP] == 3, "without KOD_OK nothing but drops");
	charge(t, "203.0.113.9", T0 + 4 * SEC, 3, v, 1);
	ck_assert_msg(v[RL_PASS] == 1 && v[RL_KOD] == 1, "after 4 s one pass and one KoD again");
	ck_assert_msg(!rl_kod_claim(t, mkaddr(&ss, "203.0.113.9"), T0 + 5 * SEC),
		      "a deny KoD should wait for the spacing too");
	ck_assert_msg(rl_kod_claim(t, mkaddr(&ss, "203.0.113.9"), T0 + 8 * SEC) &&
			      !rl_kod_claim(t, mkaddr(&ss, "203.0.113.9"), T0 + 8 * SEC),
		      "one KoD claim per interval");
	rl_destroy(t);

	t = mk(2, 1, 0, 0, 1024);
	memset(v, 0, sizeof(v));
	charge(t, "203.0.113.9", T0, 5, v, 1);
	ck_assert_msg(v[RL_KOD] == 0 && v[RL_DROP] == 4, "without `kod` no RATE KoD");
	rl_destroy(t);
}
END_TEST

START_TEST(test_keys)
{
	struct rl_table *t = mk(6, 3, 0, 0, 1024);
	int v[4] = {0};

	charge(t, "2001:db8:1:2::1", T0, 2, v, 0);
	charge(t, "2001:db8:1:2:ffff::9", T0, 2, v, 0);
	ck_assert_msg(v[RL_PASS] == 3 && v[RL_DROP] == 1, "one /64 should share a limit");
	memset(v, 0, sizeof(v));
	charge(t, "2001:db8:1:3::1", T0, 3, v, 0);
	ck_assert_msg(v[RL_PASS] == 3, "the next /64 should have its own");
	memset(v, 0, sizeof(v));
	charge(t, "192.0.2.44", T0, 2, v, 0);
	charge(t, "::ffff:192.0.2.44", T0, 2, v, 0);
	ck_assert_msg(v[RL_PASS] == 3 && v[RL_DROP] == 1,
		      "an IPv4-mapped source should count as its IPv4 address");
	rl_destroy(t);
}
END_TEST

START_TEST(test_disabled_and_bounded)
{
	struct rl_limits l;
	struct rl_table *t;
	char a[32];
	int v[4] = {0}, i;

	rl_limits_set(&l, 0, 0, 1, 0, 1);
	t = rl_create(&l, 16);
	charge(t, "192.0.2.1", T0, 50, v, 1);
	ck_assert_msg(v[RL_PASS] == 50, "a table without `ratelimit` should pass everything");
	rl_destroy(t);

	/* 16 entries, 1000 sources: old entries are recycled, new ones start fresh. */
	t = mk(8, 1, 0, 0, 16);
	memset(v, 0, sizeof(v));
	for (i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), "10.0.%d.%d", i / 250, i % 250 + 1);
		charge(t, a, T0 + (uint64_t)i, 1, v, 0);
	}
	ck_assert_msg(v[RL_PASS] == 1000, "each new source should get its burst");
	memset(v, 0, sizeof(v));
	charge(t, "10.0.3.250", T0 + 2000, 1, v, 0);
	ck_assert_msg(v[RL_DROP] == 1, "the most recent source should still be tracked");
	rl_destroy(t);
}
END_TEST

struct hammer {
	struct rl_table *t;
	int counts[4];
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;

	charge(h->t, "192.0.2.77", T0, 5000, h->counts, 1);
	return NULL;
}

START_TEST(test_threads_exact)
{
	struct hammer h[4];
	pthread_t th[4];
	int i, pass = 0, leak = 0, kod = 0;

	memset(h, 0, sizeof(h));
	h[0].t = mk(6, 50, 4, 1, 1024);
	for (i = 0; i < 4; i++) {
		h[i].t = h[0].t;
		ck_assert_msg(pthread_create(&th[i], NULL, hammer_main, &h[i]) == 0,
			      "thread %d should start", i);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		pass += h[i].counts[RL_PASS];
		leak += h[i].counts[RL_LEAK];
		kod += h[i].counts[RL_KOD];
	}
	ck_assert_msg(pass == 50 && leak == (20000 - 50) / 16 && kod == 1,
		      "4 threads at one instant should see exactly 50 pass, %d leak, 1 KoD; got "
		      "%d %d %d",
		      (20000 - 50) / 16, pass, leak, kod);
	rl_destroy(h[0].t);
}
END_TEST

START_TEST(test_swap_limits)
{
	struct rl_table *t = mk(6, 2, 0, 0, 1024);
	const struct rl_limits *old;
	struct rl_limits l;
	int v[4] = {0};

	charge(t, "192.0.2.1", 1000 * SEC, 3, v, 0);
	ck_assert_msg(v[RL_PASS] == 2 && v[RL_DROP] == 1, "burst 2 should pass 2 of 3");
	rl_limits_set(&l, 1, 6, 8, 0, 0);
	old = rl_swap_limits(t, &l);
	ck_assert_msg(old == RL_LIMITS_KEPT, "the table's first limits are not the caller's");
	ck_assert_msg(rl_limits_of(t)->tau_ns == l.tau_ns, "the new limits should apply");
	memset(v, 0, sizeof(v));
	charge(t, "192.0.2.1", 1000 * SEC, 7, v, 0);
	ck_assert_msg(v[RL_PASS] == 6 && v[RL_DROP] == 1,
		      "a source's state should stay: 2 of burst 8 used before, 6 left (got %d)",
		      v[RL_PASS]);
	rl_limits_set(&l, 0, 6, 2, 0, 0);
	old = rl_swap_limits(t, &l);
	ck_assert_msg(old != NULL && old != RL_LIMITS_KEPT && old->tau_ns == 7 * 64 * SEC,
		      "the second swap should hand back the first swap's copy to free");
	free((void *)(uintptr_t)old);
	memset(v, 0, sizeof(v));
	charge(t, "192.0.2.1", 1000 * SEC, 5, v, 0);
	ck_assert_msg(v[RL_PASS] == 5, "disabled limits should pass everything");
	rl_destroy(t); /* frees the last copy: LeakSanitizer would say otherwise */
}
END_TEST

Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("limit");

	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_burst_then_interval);
	tcase_add_test(tc, test_leak_ratio);
	tcase_add_test(tc, test_kod_spacing);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_disabled_and_bounded);
	tcase_add_test(tc, test_threads_exact);
	tcase_add_test(tc, test_swap_limits);
	suite_add_tcase(s, tc);
	return s;
}
