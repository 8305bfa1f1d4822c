/*
 * Unit tests for daemon/policy/acl.c: prefix parsing for IPv4 and IPv6 (host bits
 * zeroed, every error path with a message naming the allowed forms), the
 * matching rules (deny wins in either order, no allow rules = allow all,
 * an allow list admits only what it lists), IPv4-mapped IPv6 sources and
 * rules treated as IPv4, the rule limit, and loopback detection.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "daemon/policy/acl.h"

Suite *acl_suite(void);

/* ADDR (an IPv4 or IPv6 literal) as a socket address in SS. */
static const struct sockaddr *mkaddr(struct sockaddr_storage *ss, const char *addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(123);
	} else {
		ck_assert_msg(inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1,
			      "test address %s should be a literal", addr);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(123);
	}
	return (const struct sockaddr *)ss;
}

/* acl_check of the source ADDR. */
static int check(const struct acl *a, const char *addr)
{
	struct sockaddr_storage ss;

	return acl_check(a, mkaddr(&ss, addr));
}

/* acl_is_loopback of ADDR. */
static int loopback(const char *addr)
{
	struct sockaddr_storage ss;

	return acl_is_loopback(mkaddr(&ss, addr));
}

/* Add TEXT to A and fail the test if it is refused. */
static void add(struct acl *a, const char *text, int allow)
{
	char err[256] = "";

	ck_assert_msg(acl_add(a, text, allow, err, sizeof(err)) == 0, "%s should be accepted: %s",
		      text, err);
}

/* Parse TEXT as one rule and check its family, prefix length and network. */
static void expect_rule(const char *text, int family, int plen, const char *net)
{
	struct acl_rule r[2];
	uint8_t want[16] = {0};
	char err[256] = "";

	ck_assert_msg(acl_parse(text, 1, r, err, sizeof(err)) == 1,
		      "%s should parse as one rule: %s", text, err);
	ck_assert_msg(r[0].family == family, "%s should have family %d, not %d", text, family,
		      r[0].family);
	ck_assert_msg(r[0].plen == plen, "%s should have prefix length %d, not %d", text, plen,
		      r[0].plen);
	ck_assert_msg(r[0].allow == 1, "%s should be an allow rule", text);
	ck_assert(inet_pton(family, net, want) == 1);
	ck_assert_msg(memcmp(r[0].addr, want, 16) == 0,
		      "%s should have network %s with host bits zeroed", text, net);
}

START_TEST(test_parse_ipv4)
{
	expect_rule("192.0.2.77", AF_INET, 32, "192.0.2.77");
	expect_rule("192.0.2.77/32", AF_INET, 32, "192.0.2.77");
	expect_rule("192.0.2.77/24", AF_INET, 24, "192.0.2.0");
	expect_rule("10.200.3.4/8", AF_INET, 8, "10.0.0.0");
	expect_rule("10.15.255.255/13", AF_INET, 13, "10.8.0.0");
	expect_rule("203.0.113.255/0", AF_INET, 0, "0.0.0.0");
	expect_rule("0.0.0.0/0", AF_INET, 0, "0.0.0.0");
	expect_rule("198.51.100.7/31", AF_INET, 31, "198.51.100.6");
}
END_TEST

START_TEST(test_parse_ipv6)
{
	expect_rule("2001:db8::1", AF_INET6, 128, "2001:db8::1");
	expect_rule("2001:db8::1/128", AF_INET6, 128, "2001:db8::1");
	expect_rule("2001:db8:1:2:3:4:5:6/64", AF_INET6, 64, "2001:db8:1:2::");
	expect_rule("2001:db8::ff/121", AF_INET6, 121, "2001:db8::80");
	expect_rule("2001:db8::7f/121", AF_INET6, 121, "2001:db8::");
	expect_rule("2001:db8:ffff::/13", AF_INET6, 13, "2000::");
	expect_rule("::/0", AF_INET6, 0, "::");
	expect_rule("2001:db8::1/0", AF_INET6, 0, "::");
	expect_rule("::1", AF_INET6, 128, "::1");
}
END_TEST

START_TEST(test_parse_mapped_rule_is_ipv4)
{
	expect_rule("::ffff:10.1.2.3/104", AF_INET, 8, "10.0.0.0");
	expect_rule("::ffff:192.0.2.1", AF_INET, 32, "192.0.2.1");
	expect_rule("::ffff:0:0/96", AF_INET, 0, "0.0.0.0");
	/* Shorter than /96 it is not a set of IPv4 addresses: it stays IPv6. */
	expect_rule("::ffff:0:0/95", AF_INET6, 95, "::fffe:0:0");
}
END_TEST

START_TEST(test_parse_all)
{
	struct acl_rule r[2];
	char err[256] = "";
	int allow;

	for (allow = 0; allow <= 1; allow++) {
		ck_assert_msg(acl_parse("all", allow, r, err, sizeof(err)) == 2,
			      "all should give two rules: %s", err);
		ck_assert_msg(r[0].family == AF_INET && r[0].plen == 0,
			      "all should give 0.0.0.0/0 first");
		ck_assert_msg(r[1].family == AF_INET6 && r[1].plen == 0,
			      "all should give ::/0 second");
		ck_assert_msg(r[0].allow == allow && r[1].allow == allow,
			      "all should carry the allow flag %d", allow);
	}
}
END_TEST

static const struct {
	const char *text;
	const char *want; /* expected part of the message */
} parse_errors[] = {
	{"", "empty address"},
	{"garbage", "bad address 'garbage'"},
	{"ALL", "bad address"},
	{"all/0", "bad address"},
	{"10/8", "bad address"},
	{"1.2.3", "bad address"},
	{"10.0.0.256", "bad address"},
	{"10.0.0.0 ", "bad address"},
	{" 10.0.0.0", "bad address"},
	{"/8", "bad address"},
	{"fe80::1%eth0", "bad address"},
	{"2001:db8:::1", "bad address"},
	{"10.0.0.0/33", "prefix length 33 out of range, allowed 0-32 for IPv4"},
	{"10.0.0.0/999", "prefix length 999 out of range, allowed 0-32 for IPv4"},
	{"::/129", "prefix length 129 out of range, allowed 0-128 for IPv6"},
	{"::ffff:10.0.0.0/129", "allowed 0-128 for IPv6"},
	{"10.0.0.0/8x", "bad prefix length '8x', allowed 0-32 for IPv4"},
	{"10.0.0.0/", "missing prefix length"},
	{"10.0.0.0/-1", "bad prefix length"},
	{"10.0.0.0/+8", "bad prefix length"},
	{"10.0.0.0/ 8", "bad prefix length"},
	{"10.0.0.0/0008", "bad prefix length"},
	{"10.0.0.0/8/8", "bad prefix length"},
	{"2001:db8::/64x", "allowed 0-128 for IPv6"},
	{"10.0.0.\001", "bad address '10.0.0.?'"},
};

START_TEST(test_parse_errors)
{
	const char *text = parse_errors[_i].text;
	struct acl_rule r[2];
	char err[256] = "";
	size_t k;

	ck_assert_msg(acl_parse(text, 1, r, err, sizeof(err)) == -1, "'%s' should be refused",
		      text);
	ck_assert_msg(strstr(err, parse_errors[_i].want) != NULL,
		      "the message for '%s' should contain \"%s\", got \"%s\"", text,
		      parse_errors[_i].want, err);
	ck_assert_msg(strstr(err, "allowed") != NULL,
		      "the message for '%s' should say what is allowed, got \"%s\"", text, err);
	for (k = 0; err[k]; k++)
		ck_assert_msg(err[k] >= 0x20 && err[k] < 0x7f,
			      "the message for '%s' should be printable ASCII", text);
}
END_TEST

START_TEST(test_parse_error_edges)
{
	struct acl_rule r[2];
	char err[256] = "", longtext[400];

	ck_assert_msg(acl_parse(NULL, 1, r, err, sizeof(err)) == -1, "NULL should be refused");
	ck_assert_msg(strstr(err, "allowed") != NULL,
		      "the NULL message should say what is allowed");

	memset(longtext, '1', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	ck_assert_msg(acl_parse(longtext, 1, r, err, sizeof(err)) == -1,
		      "a 399-byte address should be refused");
	ck_assert_msg(strstr(err, "...") != NULL && strlen(err) < 200,
		      "a long address should be quoted cut short, got %zu bytes", strlen(err));

	/* No room for a message must not write one. */
	ck_assert_msg(acl_parse("x", 1, r, NULL, 0) == -1, "x should be refused with no ERR");
	err[0] = 'Z';
	ck_assert_msg(acl_parse("x", 1, r, err, 1) == -1 && err[0] == '\0',
		      "a 1-byte ERR should get an empty string");
}
END_TEST

START_TEST(test_default_allows_all)
{
	struct acl a;

	acl_init(&a);
	ck_assert_msg(check(&a, "192.0.2.1"), "an empty list should allow IPv4");
	ck_assert_msg(check(&a, "2001:db8::1"), "an empty list should allow IPv6");
	ck_assert_msg(check(&a, "::ffff:192.0.2.1"), "an empty list should allow mapped IPv4");
	ck_assert_msg(check(&a, "0.0.0.0"), "an empty list should allow 0.0.0.0");
	acl_free(&a);
}
END_TEST

START_TEST(test_ipv4_boundaries)
{
	struct acl a;

	acl_init(&a);
	add(&a, "10.8.0.0/13", 1);
	ck_assert_msg(check(&a, "10.8.0.0"), "10.8.0.0 should be in 10.8.0.0/13");
	ck_assert_msg(check(&a, "10.15.255.255"), "10.15.255.255 should be in 10.8.0.0/13");
	ck_assert_msg(!check(&a, "10.16.0.0"), "10.16.0.0 should not be in 10.8.0.0/13");
	ck_assert_msg(!check(&a, "10.7.255.255"), "10.7.255.255 should not be in 10.8.0.0/13");
	acl_free(&a);

	acl_init(&a);
	add(&a, "192.0.2.0/24", 1);
	add(&a, "198.51.100.9/32", 1);
	add(&a, "172.0.0.0/8", 1);
	ck_assert_msg(check(&a, "192.0.2.255"), "192.0.2.255 should be in /24");
	ck_assert_msg(!check(&a, "192.0.3.0"), "192.0.3.0 should not be in 192.0.2.0/24");
	ck_assert_msg(check(&a, "198.51.100.9"), "the /32 address itself should match");
	ck_assert_msg(!check(&a, "198.51.100.8"), "the /32 neighbour should not match");
	ck_assert_msg(check(&a, "172.255.0.1"), "172.255.0.1 should be in 172.0.0.0/8");
	ck_assert_msg(!check(&a, "173.0.0.0"), "173.0.0.0 should not be in 172.0.0.0/8");
	acl_free(&a);

	acl_init(&a);
	add(&a, "0.0.0.0/0", 1);
	ck_assert_msg(check(&a, "255.255.255.255"), "/0 should match every IPv4 address");
	ck_assert_msg(!check(&a, "2001:db8::1"), "an IPv4 /0 allow list should refuse IPv6");
	acl_free(&a);
}
END_TEST

START_TEST(test_ipv6_boundaries)
{
	struct acl a;

	acl_init(&a);
	add(&a, "2001:db8:1:2::/64", 1);
	add(&a, "2001:db8:ff::80/121", 1);
	add(&a, "2001:db8:aa::5/128", 1);
	ck_assert_msg(check(&a, "2001:db8:1:2:ffff:ffff:ffff:ffff"), "end of /64 should match");
	ck_assert_msg(!check(&a, "2001:db8:1:3::"), "next /64 should not match");
	ck_assert_msg(check(&a, "2001:db8:ff::80"), "start of /121 should match");
	ck_assert_msg(check(&a, "2001:db8:ff::ff"), "end of /121 should match");
	ck_assert_msg(!check(&a, "2001:db8:ff::7f"), "below the /121 should not match");
	ck_assert_msg(!check(&a, "2001:db8:ff::100"), "above the /121 should not match");
	ck_assert_msg(check(&a, "2001:db8:aa::5"), "the /128 address should match");
	ck_assert_msg(!check(&a, "2001:db8:aa::4"), "the /128 neighbour should not match");
	ck_assert_msg(!check(&a, "192.0.2.1"), "an IPv6 allow list should refuse IPv4");
	acl_free(&a);

	acl_init(&a);
	add(&a, "::/0", 1);
	ck_assert_msg(check(&a, "ffff::1"), "::/0 should match every IPv6 address");
	acl_free(&a);
}
END_TEST

START_TEST(test_deny_wins_either_order)
{
	struct acl a;
	int order;

	for (order = 0; order < 2; order++) {
		acl_init(&a);
		if (order == 0) {
			add(&a, "10.0.0.0/8", 1);
			add(&a, "10.1.0.0/16", 0);
		} else {
			add(&a, "10.1.0.0/16", 0);
			add(&a, "10.0.0.0/8", 1);
		}
		ck_assert_msg(!check(&a, "10.1.2.3"), "deny should win over allow (order %d)",
			      order);
		ck_assert_msg(check(&a, "10.2.2.3"), "the rest of the allow should pass (order %d)",
			      order);
		ck_assert_msg(!check(&a, "11.0.0.1"), "outside the allow list should be refused");
		ck_assert_msg(a.n == 2 && a.n_allow == 1, "should count 2 rules, 1 allow");
		acl_free(&a);
	}

	/* The same prefix allowed and denied: denied. */
	acl_init(&a);
	add(&a, "2001:db8::/32", 0);
	add(&a, "2001:db8::/32", 1);
	ck_assert_msg(!check(&a, "2001:db8::1"), "an equal deny should win");
	acl_free(&a);

	/* allow all with a deny. */
	acl_init(&a);
	add(&a, "all", 1);
	add(&a, "192.0.2.0/24", 0);
	ck_assert_msg(!check(&a, "192.0.2.1"), "deny should win over allow all");
	ck_assert_msg(check(&a, "192.0.3.1"), "allow all should pass the rest");
	ck_assert_msg(check(&a, "2001:db8::1"), "allow all should pass IPv6");
	acl_free(&a);
}
END_TEST

START_TEST(test_deny_only)
{
	struct acl a;

	acl_init(&a);
	add(&a, "192.0.2.0/24", 0);
	add(&a, "2001:db8::/48", 0);
	ck_assert_msg(!check(&a, "192.0.2.9"), "a denied IPv4 source should be refused");
	ck_assert_msg(!check(&a, "2001:db8:0:1::1"), "a denied IPv6 source should be refused");
	ck_assert_msg(check(&a, "198.51.100.1"), "with only denies, others should be allowed");
	ck_assert_msg(check(&a, "2001:db8:1::1"), "with only denies, other IPv6 should pass");
	ck_assert_msg(a.n_allow == 0, "should count no allow rule");
	acl_free(&a);

	acl_init(&a);
	add(&a, "all", 0);
	ck_assert_msg(!check(&a, "192.0.2.1") && !check(&a, "::1"), "deny all should refuse all");
	acl_free(&a);
}
END_TEST

START_TEST(test_overlapping_allows)
{
	struct acl a;

	acl_init(&a);
	add(&a, "10.1.0.0/16", 1);
	add(&a, "10.0.0.0/8", 1);
	add(&a, "10.1.2.0/24", 0);
	add(&a, "10.1.2.3/32", 1);
	ck_assert_msg(check(&a, "10.1.9.9"), "inside two allows should pass");
	ck_assert_msg(check(&a, "10.9.9.9"), "inside the wider allow should pass");
	ck_assert_msg(!check(&a, "10.1.2.3"), "a deny should win over a narrower allow");
	ck_assert_msg(!check(&a, "10.1.2.4"), "inside the deny should be refused");
	acl_free(&a);
}
END_TEST

START_TEST(test_mapped_sources)
{
	struct acl a;

	acl_init(&a);
	add(&a, "10.0.0.0/8", 1);
	add(&a, "10.1.0.0/16", 0);
	ck_assert_msg(check(&a, "::ffff:10.2.3.4"), "a mapped source should match IPv4 allows");
	ck_assert_msg(!check(&a, "::ffff:10.1.3.4"), "a mapped source should match IPv4 denies");
	ck_assert_msg(!check(&a, "::ffff:11.0.0.1"), "a mapped source outside should be refused");
	ck_assert_msg(!check(&a, "::a02:304"), "an IPv4-compatible address is not mapped");
	acl_free(&a);

	/* A rule written in mapped form behaves as its IPv4 prefix. */
	acl_init(&a);
	add(&a, "::ffff:192.0.2.0/120", 1);
	ck_assert_msg(check(&a, "192.0.2.5"), "a mapped rule should match a plain IPv4 source");
	ck_assert_msg(check(&a, "::ffff:192.0.2.5"), "a mapped rule should match a mapped source");
	ck_assert_msg(!check(&a, "192.0.3.5"), "a mapped /120 should be an IPv4 /24");
	acl_free(&a);

	/* IPv6 rules do not match mapped sources: they are IPv4. */
	acl_init(&a);
	add(&a, "::/0", 1);
	ck_assert_msg(!check(&a, "::ffff:192.0.2.1"), "an IPv6 allow should not admit IPv4");
	acl_free(&a);
}
END_TEST

START_TEST(test_other_families_refused)
{
	struct sockaddr_un sun;
	struct acl a;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	acl_init(&a);
	ck_assert_msg(!acl_check(&a, (const struct sockaddr *)&sun),
		      "an AF_UNIX source should be refused");
	ck_assert_msg(!acl_check(&a, NULL), "a NULL source should be refused");
	acl_free(&a);
}
END_TEST

START_TEST(test_rule_limit)
{
	char text[32], err[256] = "";
	struct acl a;
	int i;

	acl_init(&a);
	for (i = 0; i < ACL_MAX_RULES; i++) {
		snprintf(text, sizeof(text), "10.%d.%d.0/24", i / 256, i % 256);
		add(&a, text, i % 2);
	}
	ck_assert_msg(a.n == ACL_MAX_RULES && a.n_allow == ACL_MAX_RULES / 2,
		      "should hold %d rules, %d allows", ACL_MAX_RULES, ACL_MAX_RULES / 2);
	ck_assert_msg(acl_add(&a, "192.0.2.1", 1, err, sizeof(err)) == -1,
		      "rule %d should be refused", ACL_MAX_RULES + 1);
	ck_assert_msg(strstr(err, "allowed at most 4096") != NULL,
		      "the message should give the limit, got \"%s\"", err);
	ck_assert_msg(a.n == ACL_MAX_RULES, "a refused rule should not be added");
	ck_assert_msg(check(&a, "10.15.255.1"), "the last allow rule should work");
	ck_assert_msg(!check(&a, "10.15.254.1"), "the last deny rule should work");
	acl_free(&a);

	/* "all" needs two slots. */
	acl_init(&a);
	for (i = 0; i < ACL_MAX_RULES - 1; i++) {
		snprintf(text, sizeof(text), "10.%d.%d.0/24", i / 256, i % 256);
		add(&a, text, 1);
	}
	ck_assert_msg(acl_add(&a, "all", 0, err, sizeof(err)) == -1,
		      "all should not fit in one free slot");
	ck_assert_msg(a.n == ACL_MAX_RULES - 1 && a.n_allow == ACL_MAX_RULES - 1,
		      "a refused all should add nothing");
	add(&a, "192.0.2.1", 0);
	ck_assert_msg(a.n == ACL_MAX_RULES, "the last slot should take one rule");
	acl_free(&a);
}
END_TEST

START_TEST(test_add_error_adds_nothing)
{
	char err[256] = "";
	struct acl a;

	acl_init(&a);
	add(&a, "10.0.0.0/8", 0);
	ck_assert_msg(acl_add(&a, "10.0.0.0/40", 1, err, sizeof(err)) == -1,
		      "a bad prefix should be refused");
	ck_assert_msg(strstr(err, "allowed 0-32") != NULL, "the message should give the range");
	ck_assert_msg(a.n == 1 && a.n_allow == 0, "a refused rule should not be added");
	ck_assert_msg(check(&a, "11.0.0.1"), "the list should still allow all but the deny");
	acl_free(&a);
	ck_assert_msg(a.n == 0 && a.rules == NULL && a.cap == 0, "acl_free should empty the list");
	acl_free(&a);
	ck_assert_msg(a.rules == NULL, "acl_free twice should be harmless");
}
END_TEST

START_TEST(test_loopback)
{
	struct sockaddr_un sun;

	ck_assert_msg(loopback("127.0.0.1"), "127.0.0.1 should be loopback");
	ck_assert_msg(loopback("127.255.255.254"), "127.255.255.254 should be loopback");
	ck_assert_msg(loopback("127.0.0.0"), "127.0.0.0 should be loopback");
	ck_assert_msg(loopback("::1"), "::1 should be loopback");
	ck_assert_msg(loopback("::ffff:127.0.0.1"), "::ffff:127.0.0.1 should be loopback");
	ck_assert_msg(loopback("::ffff:127.9.8.7"), "::ffff:127.9.8.7 should be loopback");
	ck_assert_msg(!loopback("128.0.0.1"), "128.0.0.1 should not be loopback");
	ck_assert_msg(!loopback("126.255.255.255"), "126.255.255.255 should not be loopback");
	ck_assert_msg(!loopback("0.0.0.0"), "0.0.0.0 should not be loopback");
	ck_assert_msg(!loopback("::"), ":: should not be loopback");
	ck_assert_msg(!loopback("::2"), "::2 should not be loopback");
	ck_assert_msg(!loopback("1::1"), "1::1 should not be loopback");
	ck_assert_msg(!loopback("::127.0.0.1"), "IPv4-compatible ::127.0.0.1 should not be");
	ck_assert_msg(!loopback("::ffff:128.0.0.1"), "::ffff:128.0.0.1 should not be loopback");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_msg(!acl_is_loopback((const struct sockaddr *)&sun), "AF_UNIX should not be");
	ck_assert_msg(!acl_is_loopback(NULL), "NULL should not be loopback");
}
END_TEST

Suite *acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_ipv4);
	tcase_add_test(tc, test_parse_ipv6);
	tcase_add_test(tc, test_parse_mapped_rule_is_ipv4);
	tcase_add_test(tc, test_parse_all);
	tcase_add_loop_test(tc, test_parse_errors, 0,
			    (int)(sizeof(parse_errors) / sizeof(parse_errors[0])));
	tcase_add_test(tc, test_parse_error_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_test(tc, test_default_allows_all);
	tcase_add_test(tc, test_ipv4_boundaries);
	tcase_add_test(tc, test_ipv6_boundaries);
	tcase_add_test(tc, test_deny_wins_either_order);
	tcase_add_test(tc, test_deny_only);
	tcase_add_test(tc, test_overlapping_allows);
	tcase_add_test(tc, test_mapped_sources);
	tcase_add_test(tc, test_other_families_refused);
	tcase_add_test(tc, test_rule_limit);
	tcase_add_test(tc, test_add_error_adds_nothing);
	tcase_add_test(tc, test_loopback);
	suite_add_tcase(s, tc);
	return s;
}
