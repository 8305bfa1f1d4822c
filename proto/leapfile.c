/*
 * leap-seconds.list parser: one pass over the buffer, line by line, with
 * a ladder of early returns that names the line and what was wrong. The
 * SHA-1 is nettle's (the hash is a checksum against corruption and
 * truncation, not a signature: anyone who can edit the file can rehash
 * it). Numbers are digits only, bounded in length before conversion, so
 * no input overflows; the finished table must pass ntp_leaptab_check.
 */
#include <nettle/sha1.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/leapfile.h"
#include "proto/utcdate.h"

#define HASH_WORDS  5  /* 32-bit words in the #h line (SHA-1: 160 bits) */
#define HASH_DIGITS 8  /* hex digits at most per #h word */
#define NUM_DIGITS  12 /* decimal digits at most in a time (NTP seconds until year 33658) */
#define OFF_DIGITS  3  /* decimal digits at most in a TAI - UTC offset */

struct lf_state {
	struct sha1_ctx sha;
	struct ntp_leaptab *tab;
	int have_update, have_expiry, have_hash;
	uint32_t hash[HASH_WORDS];
	char *why;
	size_t whylen;
	int line;
};

static int lf_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int lf_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Record "line N: MSG" in WHY; returns -1. */
static int lf_fail(struct lf_state *s, const char *msg)
{
	snprintf(s->why, s->whylen, "line %d: %s", s->line, msg);
	return -1;
}

/* Parse an unsigned decimal of 1..MAXD digits at *P into *V, advance *P; 0 or -1. */
static int lf_number(const char **p, const char *end, int maxd, int64_t *v)
{
	int n = 0;

	*v = 0;
	while (*p < end && lf_digit(**p)) {
		if (++n > maxd)
			return -1;
		*v = *v * 10 + (**p - '0');
		(*p)++;
	}
	return n ? 0 : -1;
}

static void lf_skip_blanks(const char **p, const char *end)
{
	while (*p < end && lf_blank(**p))
		(*p)++;
}

/* Feed the digits of [P, END) before any '#' into the hash. */
static void lf_hash_digits(struct lf_state *s, const char *p, const char *end)
{
	for (; p < end && *p != '#'; p++)
		if (lf_digit(*p))
			sha1_update(&s->sha, 1, (const uint8_t *)p);
}

/* A "#$" or "#@" line: one NTP time in [P, END) into *OUT (Unix s). */
static int lf_stamp(struct lf_state *s, const char *p, const char *end, int *seen, int64_t *out,
		    const char *what)
{
	int64_t v;

	if (*seen)
		return lf_fail(s, what[0] == 'e' ? "a second expiry line (#@)"
						 : "a second update line (#$)");
	*seen = 1;
	lf_hash_digits(s, p, end);
	lf_skip_blanks(&p, end);
	if (lf_number(&p, end, NUM_DIGITS, &v) < 0)
		return lf_fail(s, what[0] == 'e'
					  ? "expiry (#@) is not a number of 1-12 digits"
					  : "update time (#$) is not a number of 1-12 digits");
	lf_skip_blanks(&p, end);
	if (p != end)
		return lf_fail(s, "garbage after the time");
	*out = v - NTP_UNIX_EPOCH_S;
	return 0;
}

/* The "#h" line: five hex words. */
static int lf_hashline(struct lf_state *s, const char *p, const char *end)
{
	int w;

	if (s->have_hash)
		return lf_fail(s, "a second hash line (#h)");
	s->have_hash = 1;
	for (w = 0; w < HASH_WORDS; w++) {
		uint32_t v = 0;
		int n = 0;

		lf_skip_blanks(&p, end);
		for (; p < end && !lf_blank(*p); p++) {
			char c = *p;
			int x;

			if (lf_digit(c))
				x = c - '0';
			else if (c >= 'a' && c <= 'f')
				x = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				x = c - 'A' + 10;
			else
				return lf_fail(s, "hash (#h) has a character that is not hex");
			if (++n > HASH_DIGITS)
				return lf_fail(s, "hash (#h) word longer than 8 hex digits");
			v = v << 4 | (uint32_t)x;
		}
		if (!n)
			return lf_fail(s, "hash (#h) has fewer than 5 words");
		s->hash[w] = v;
	}
	lf_skip_blanks(&p, end);
	if (p != end)
		return lf_fail(s, "hash (#h) has more than 5 words");
	return 0;
}

/* A data line: "NTPSECONDS OFFSET [# comment]". */
static int lf_data(struct lf_state *s, const char *p, const char *end)
{
	struct ntp_leaptab *t = s->tab;
	int64_t ntp, off;

	lf_hash_digits(s, p, end);
	if (lf_number(&p, end, NUM_DIGITS, &ntp) < 0)
		return lf_fail(s, "not a comment and no time (1-12 digits) at the start");
	if (p == end || !lf_blank(*p))
		return lf_fail(s, "no blank between the time and TAI-UTC");
	lf_skip_blanks(&p, end);
	if (lf_number(&p, end, OFF_DIGITS, &off) < 0)
		return lf_fail(s, "TAI-UTC is not a number of 1-3 digits");
	lf_skip_blanks(&p, end);
	if (p != end && *p != '#')
		return lf_fail(s, "garbage after TAI-UTC (only a # comment may follow)");
	if (t->n >= NTP_LEAPTAB_MAX)
		return lf_fail(s, "more entries than the 128 a table holds");
	t->e[t->n].utc_s = ntp - NTP_UNIX_EPOCH_S;
	t->e[t->n].tai_utc = (int)off;
	t->n++;
	return 0;
}

/* One line [P, END) (no newline). */
static int lf_line(struct lf_state *s, const char *p, const char *end)
{
	const char *q;

	if (end - p > NTP_LEAPFILE_LINE_MAX)
		return lf_fail(s, "longer than 512 bytes");
	for (q = p; q < end; q++)
		if (*q == '\0')
			return lf_fail(s, "a NUL byte (not a text file)");
	if (end - p >= 2 && p[0] == '#') {
		if (p[1] == '$')
			return lf_stamp(s, p + 2, end, &s->have_update, &s->tab->updated_s,
					"update");
		if (p[1] == '@')
			return lf_stamp(s, p + 2, end, &s->have_expiry, &s->tab->expires_s,
					"expiry");
		if (p[1] == 'h')
			return lf_hashline(s, p + 2, end);
	}
	if (p < end && p[0] == '#')
		return 0;
	q = p;
	lf_skip_blanks(&q, end);
	if (q == end)
		return 0;
	return lf_data(s, q, end);
}

int ntp_leapfile_parse(const char *buf, size_t len, struct ntp_leaptab *tab, char *why,
		       size_t whylen)
{
	struct lf_state s;
	uint8_t digest[SHA1_DIGEST_SIZE];
	const char *p = buf, *end = buf + len;
	char reason[160];
	int w;

	memset(tab, 0, sizeof(*tab));
	memset(&s, 0, sizeof(s));
	sha1_init(&s.sha);
	s.tab = tab;
	s.why = why;
	s.whylen = whylen;
	if (len > NTP_LEAPFILE_MAX) {
		snprintf(why, whylen, "larger than %d bytes", NTP_LEAPFILE_MAX);
		return -1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		s.line++;
		if (lf_line(&s, p, eol) < 0)
			goto bad;
		p = nl ? nl + 1 : end;
	}
	if (len && buf[len - 1] != '\n') {
		/* The list always ends with a newline: a missing one means a cut-off copy. */
		snprintf(why, whylen, "line %d: no newline at the end (truncated?)", s.line);
		goto bad;
	}
	if (tab->n == 0) {
		snprintf(why, whylen, "no leap second entries");
		goto bad;
	}
	if (!s.have_expiry) {
		snprintf(why, whylen, "no expiry line (#@)");
		goto bad;
	}
	if (!s.have_hash) {
		snprintf(why, whylen, "no hash line (#h): truncated, or not a leap-seconds.list");
		goto bad;
	}
	sha1_digest(&s.sha, sizeof(digest), digest);
	for (w = 0; w < HASH_WORDS; w++) {
		uint32_t d = (uint32_t)digest[4 * w] << 24 | (uint32_t)digest[4 * w + 1] << 16 |
			     (uint32_t)digest[4 * w + 2] << 8 | digest[4 * w + 3];

		if (d != s.hash[w]) {
			snprintf(why, whylen,
				 "SHA-1 hash (#h) does not match the data: corrupt or edited file");
			goto bad;
		}
	}
	tab->hashed = 1;
	tab->src = NTP_LEAPTAB_LIST;
	if (ntp_leaptab_check(tab, reason, sizeof(reason)) < 0) {
		snprintf(why, whylen, "%s", reason);
		goto bad;
	}
	return 0;
bad:
	memset(tab, 0, sizeof(*tab));
	return -1;
}
