/*
 * Access lists for NTP and control sources. The configuration parser fills
 * a list once at start-up (acl_parse, acl_add); the workers then call
 * acl_check for every request that reaches user space, so the check is a
 * plain scan over a flat array that never allocates, locks or logs. A deny
 * match ends the scan at once (deny wins whatever the order); an allow
 * match only records that the source is allowed. IPv4-mapped IPv6 sources
 * and rules (::ffff:a.b.c.d) are handled as IPv4, so a dual-stack socket
 * and an IPv4 socket see the same answer for the same client.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/policy/acl.h"
#include "proto/appendf.h"

#define ACL_INITIAL_CAP 16 /* rules: first allocation, doubled as needed */
#define ACL_QUOTE_MAX	48 /* bytes of user text quoted in a message: one address and a margin */
#define ACL_ADDR_BUF	64 /* bytes: longest IPv6 literal (45) + NUL, with room to spare */

/* The forms acl_parse accepts, quoted after "allowed" in every message. */
#define ACL_FORMS "allowed: all, ADDR or ADDR/PLEN (IPv4 or IPv6 literal)"

/* The first 12 bytes of an IPv4-mapped IPv6 address (::ffff:0:0/96). */
static const uint8_t acl_v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Zero every bit of ADDR past the first PLEN. */
static void acl_mask(uint8_t addr[16], unsigned int plen)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8) {
			plen -= 8;
			continue;
		}
		addr[i] &= (uint8_t)(0xff00u >> plen);
		plen = 0;
	}
}

/* 1 when the first PLEN bits of ADDR equal those of NET (whose host bits are zero). */
static int acl_match(const uint8_t *net, const uint8_t *addr, unsigned int plen)
{
	unsigned int full = plen / 8, rem = plen % 8;

	if (memcmp(net, addr, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	return (addr[full] & (uint8_t)(0xff00u >> rem)) == net[full];
}

/*
 * Parse the prefix length after the '/' of TEXT: decimal digits only, at
 * most 3 of them, no sign and nothing after them.
 */
static int acl_parse_plen(const char *s, unsigned int max, const char *fam, char *err,
			  size_t errlen)
{
	char q[ACL_QUOTE_MAX];
	unsigned int v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return ntp_fail(err, errlen, "bad prefix length '%s', allowed 0-%u for %s",
					ntp_quote(s, q, sizeof(q)), max, fam);
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (i == 0)
		return ntp_fail(err, errlen, "missing prefix length after '/', allowed 0-%u for %s",
				max, fam);
	if (v > max)
		return ntp_fail(err, errlen, "prefix length %u out of range, allowed 0-%u for %s",
				v, max, fam);
	return (int)v;
}

int acl_parse(const char *text, int allow, struct acl_rule out[2], char *err, size_t errlen)
{
	char q[ACL_QUOTE_MAX], addr[ACL_ADDR_BUF];
	const char *slash;
	size_t alen;
	int plen, v6;

	if (!text || !text[0])
		return ntp_fail(err, errlen, "empty address, " ACL_FORMS);
	memset(out, 0, 2 * sizeof(out[0]));
	if (strcmp(text, "all") == 0) {
		out[0].family = AF_INET;
		out[1].family = AF_INET6;
		out[0].allow = out[1].allow = allow ? 1 : 0;
		return 2;
	}

	slash = strchr(text, '/');
	alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(addr))
		return ntp_fail(err, errlen, "bad address '%s', " ACL_FORMS,
				ntp_quote(text, q, sizeof(q)));
	memcpy(addr, text, alen);
	addr[alen] = '\0';

	if (inet_pton(AF_INET, addr, out[0].addr) == 1)
		v6 = 0;
	else if (inet_pton(AF_INET6, addr, out[0].addr) == 1)
		v6 = 1;
	else
		return ntp_fail(err, errlen, "bad address '%s', " ACL_FORMS,
				ntp_quote(text, q, sizeof(q)));

	if (!slash)
		plen = v6 ? 128 : 32;
	else
		plen = acl_parse_plen(slash + 1, v6 ? 128 : 32, v6 ? "IPv6" : "IPv4", err, errlen);
	if (plen < 0)
		return -1;

	/* ::ffff:a.b.c.d/96+N is the IPv4 prefix a.b.c.d/N: sources are matched that way. */
	if (v6 && plen >= 96 && memcmp(out[0].addr, acl_v4mapped_prefix, 12) == 0) {
		memmove(out[0].addr, out[0].addr + 12, 4);
		memset(out[0].addr + 4, 0, 12);
		plen -= 96;
		v6 = 0;
	}

	out[0].family = v6 ? AF_INET6 : AF_INET;
	out[0].plen = (uint8_t)plen;
	out[0].allow = allow ? 1 : 0;
	acl_mask(out[0].addr, (unsigned int)plen);
	return 1;
}

void acl_init(struct acl *a)
{
	memset(a, 0, sizeof(*a));
}

void acl_free(struct acl *a)
{
	free(a->rules);
	memset(a, 0, sizeof(*a));
}

int acl_add(struct acl *a, const char *text, int allow, char *err, size_t errlen)
{
	struct acl_rule r[2];
	struct acl_rule *grown;
	int n, i, cap;

	n = acl_parse(text, allow, r, err, errlen);
	if (n < 0)
		return -1;
	if (a->n + n > ACL_MAX_RULES)
		return ntp_fail(err, errlen,
				"access list full (%d rules), allowed at most %d rules", a->n,
				ACL_MAX_RULES);
	if (a->n + n > a->cap) {
		cap = a->cap ? a->cap : ACL_INITIAL_CAP;
		while (cap < a->n + n)
			cap *= 2;
		if (cap > ACL_MAX_RULES)
			cap = ACL_MAX_RULES;
		grown = realloc(a->rules, (size_t)cap * sizeof(*grown));
		if (!grown)
			return ntp_fail(err, errlen,
					"out of memory for %d rules, allowed at most %d", cap,
					ACL_MAX_RULES);
		a->rules = grown;
		a->cap = cap;
	}
	for (i = 0; i < n; i++) {
		a->rules[a->n++] = r[i];
		if (r[i].allow)
			a->n_allow++;
	}
	return 0;
}

/*
 * The family and address of SA in rule form (IPv4 in the first 4 bytes,
 * IPv4-mapped IPv6 turned into IPv4); 0 for any other family.
 */
static int acl_source(const struct sockaddr *sa, uint8_t addr[16])
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		memcpy(addr, &sin->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	sin6 = (const struct sockaddr_in6 *)sa;
	if (memcmp(sin6->sin6_addr.s6_addr, acl_v4mapped_prefix, 12) == 0) {
		memcpy(addr, sin6->sin6_addr.s6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(addr, sin6->sin6_addr.s6_addr, 16);
	return AF_INET6;
}

int acl_check(const struct acl *a, const struct sockaddr *sa)
{
	const struct acl_rule *r;
	uint8_t addr[16];
	int family, i, allowed = 0;

	family = acl_source(sa, addr);
	if (!family)
		return 0;
	for (i = 0; i < a->n; i++) {
		r = &a->rules[i];
		if (r->family != family || !acl_match(r->addr, addr, r->plen))
			continue;
		if (!r->allow)
			return 0;
		allowed = 1;
	}
	return a->n_allow == 0 || allowed;
}

int acl_is_loopback(const struct sockaddr *sa)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};
	uint8_t addr[16];

	switch (acl_source(sa, addr)) {
	case AF_INET:
		return addr[0] == 127;
	case AF_INET6:
		return memcmp(addr, v6_loopback, 16) == 0;
	default:
		return 0;
	}
}
