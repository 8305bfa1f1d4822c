/*
 * Unit tests for daemon/policy/policy.c, the request ladder the workers and the
 * XDP guard share: packet checks come before the access list, the access
 * list before the rate limit; mode 6 from loopback or `control allow` is
 * control and is not limited; denied sources get a DENY kiss-o'-death
 * only with `denykod on` and spaced by the limiter; over-rate sources
 * get RATE only with `kod`; without a limiter nothing is rate-limited.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "daemon/policy/policy.h"
#include "proto/ntp.h"

Suite *policy_suite(void);

#define SEC 1000000000ULL /* ns */
#define T0  (50 * SEC)	  /* an arbitrary start time */

static struct acl acl, control_acl;
static struct pol_rules rules;

static void setup(void)
{
	char err[128];

	acl_init(&acl);
	acl_init(&control_acl);
	ck_assert(acl_add(&acl, "192.0.2.66", 0, err, sizeof(err)) == 0);
	ck_assert(acl_add(&acl, "2001:db8:66::/48", 0, err, sizeof(err)) == 0);
	ck_assert(acl_add(&control_acl, "198.51.100.0/24", 1, err, sizeof(err)) == 0);
	memset(&rules, 0, sizeof(rules));
	rules.acl = &acl;
	rules.control_acl = &control_acl;
}

static void teardown(void)
{
	rl_destroy(rules.rl);
	acl_free(&acl);
	acl_free(&control_acl);
}

/* Use a limiter for `ratelimit interval 4 burst BURST leak LEAK [kod]`. */
static void limit(int burst, int leak, int kod)
{
	struct rl_limits l;

	rl_limits_set(&l, 1, 4, burst, leak, kod);
	rules.rl = rl_create(&l, 1024);
	ck_assert_msg(rules.rl != NULL, "the limiter should be created");
}

/* pol_decide on a LEN-byte request with first byte LVM from ADDR at NOW. */
static enum ntp_reason decide(const char *addr, uint8_t lvm, size_t len, uint64_t now)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	uint8_t req[64] = {0};

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
	} else {
		ck_assert(inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1);
		sin6->sin6_family = AF_INET6;
	}
	req[0] = lvm;
	return pol_decide(&rules, req, len, (struct sockaddr *)&ss, now);
}

#define M3 0x23 /* VN 4, mode 3 */
#define M1 0x21 /* VN 4, mode 1 */
#define M6 0x16 /* VN 2, mode 6 */
#define M7 0x17 /* VN 2, mode 7 */

START_TEST(test_order)
{
	ck_assert_msg(decide("192.0.2.1", M3, 48, 0) == NTP_R_REPLY_SERVER,
		      "an allowed mode 3 should be answered");
	ck_assert_msg(decide("192.0.2.1", M1, 48, 0) == NTP_R_REPLY_SYMMETRIC,
		      "an allowed mode 1 should be answered with mode 2");
	ck_assert_msg(decide("192.0.2.66", M3, 48, 0) == NTP_R_DROP_DENIED,
		      "a denied source should be dropped");
	ck_assert_msg(decide("2001:db8:66:1::5", M3, 48, 0) == NTP_R_DROP_DENIED,
		      "a denied IPv6 prefix should be dropped");
	ck_assert_msg(decide("192.0.2.66", M3, 20, 0) == NTP_R_DROP_SHORT,
		      "a short request from a denied source should count as short");
	ck_assert_msg(decide("192.0.2.66", M7, 48, 0) == NTP_R_DROP_MODE_PRIVATE,
		      "mode 7 from a denied source should count as mode 7");
	ck_assert_msg(decide("192.0.2.1", M6, 12, 0) == NTP_R_DROP_MODE_CONTROL,
		      "mode 6 from an ordinary source should be dropped");
	ck_assert_msg(decide("198.51.100.9", M6, 12, 0) == NTP_R_CONTROL,
		      "mode 6 from `control allow` should be control");
	ck_assert_msg(decide("127.0.0.5", M6, 12, 0) == NTP_R_CONTROL &&
			      decide("::1", M6, 12, 0) == NTP_R_CONTROL,
		      "mode 6 from loopback should be control");
}
END_TEST

START_TEST(test_rate)
{
	int i, served = 0, rate = 0;

	for (i = 0; i < 20; i++)
		served += decide("192.0.2.1", M3, 48, T0) == NTP_R_REPLY_SERVER;
	ck_assert_msg(served == 20, "without a limiter nothing should be rate-limited");

	limit(3, 2, 0);
	served = 0;
	for (i = 0; i < 11; i++) {
		enum ntp_reason r = decide("192.0.2.1", M3, 48, T0);

		served += r == NTP_R_REPLY_SERVER;
		rate += r == NTP_R_DROP_RATE;
	}
	ck_assert_msg(served == 3 + 2 && rate == 6,
		      "a burst of 3 then 1 in 4 of 8 over-rate answered, got %d served", served);
	ck_assert_msg(decide("192.0.2.1", 0x10, 48, T0) == NTP_R_DROP_MODE_RESERVED,
		      "a malformed request should not be charged or limited");
	for (i = 0; i < 10; i++)
		ck_assert_msg(decide("127.0.0.1", M6, 12, T0) == NTP_R_CONTROL,
			      "control requests should not be rate-limited");
	ck_assert_msg(decide("192.0.2.66", M3, 48, T0) == NTP_R_DROP_DENIED,
		      "a denied source should stay denied, not charged");
}
END_TEST

START_TEST(test_kods)
{
	int i, kod = 0, drop = 0;

	rules.deny_kod = 1;
	ck_assert_msg(decide("192.0.2.66", M3, 48, T0) == NTP_R_REPLY_KOD_DENY &&
			      decide("192.0.2.66", M3, 48, T0) == NTP_R_REPLY_KOD_DENY,
		      "without a limiter every denied request should get a DENY KoD");
	limit(1, 0, 1);
	ck_assert_msg(decide("192.0.2.66", M3, 48, T0) == NTP_R_REPLY_KOD_DENY,
		      "the first denied request should get a DENY KoD");
	ck_assert_msg(decide("192.0.2.66", M1, 48, T0 + SEC) == NTP_R_DROP_DENIED,
		      "the next within the interval should be dropped");
	ck_assert_msg(decide("192.0.2.66", M3, 48, T0 + 16 * SEC) == NTP_R_REPLY_KOD_DENY,
		      "one interval (16 s) later a DENY KoD again");
	ck_assert_msg(decide("192.0.2.9", M3, 48, T0) == NTP_R_REPLY_SERVER,
		      "an allowed source should be served");
	for (i = 0; i < 10; i++) {
		enum ntp_reason r = decide("192.0.2.9", M3, 48, T0);

		kod += r == NTP_R_REPLY_KOD_RATE;
		drop += r == NTP_R_DROP_RATE;
	}
	ck_assert_msg(kod == 1 && drop == 9, "over the rate: one RATE KoD, then drops");
}
END_TEST

Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("ladder");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_kods);
	suite_add_tcase(s, tc);
	return s;
}
