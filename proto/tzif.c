/*
 * TZif leap-record reader. Only the header counts and the leap records
 * are interpreted; the rest of the data block (transitions, local time
 * types, designations, indicators) is sized, checked against RFC 9636's
 * count rules and skipped. For version 2 and later the 64-bit block is
 * used and the version 1 block only skipped, as RFC 9636 asks of readers.
 * Every count is bounded before any size is computed (64-bit arithmetic
 * throughout), so a hostile header cannot make a size wrap.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/byteorder.h"
#include "proto/tzif.h"
#include "proto/utcdate.h"

#define TZIF_HDR       44	 /* bytes: magic, version, 15 unused, six 32-bit counts */
#define TZIF_COUNT_MAX (1 << 20) /* any count above this is not a real zone (largest ~ 2000) */
#define TZIF_TTINFO    6	 /* bytes per local time type: utoff (4), isdst, desigidx */

struct tzif_counts {
	uint64_t isut, isstd, leap, time, type, chars;
};

/* Read and check the header at P (LEFT bytes); its version byte into *VER; 0 or -1 with WHY. */
static int tzif_header(const unsigned char *p, size_t left, struct tzif_counts *c, char *ver,
		       char *why, size_t whylen)
{
	if (left < TZIF_HDR) {
		snprintf(why, whylen, "shorter than a TZif header (%zu of 44 bytes)", left);
		return -1;
	}
	if (memcmp(p, "TZif", 4) != 0) {
		snprintf(why, whylen, "not a TZif file (no TZif magic)");
		return -1;
	}
	*ver = (char)p[4];
	if (*ver != 0 && *ver != '2' && *ver != '3' && *ver != '4') {
		snprintf(why, whylen, "unknown TZif version byte 0x%02x", p[4]);
		return -1;
	}
	c->isut = be_get32(p + 20);
	c->isstd = be_get32(p + 24);
	c->leap = be_get32(p + 28);
	c->time = be_get32(p + 32);
	c->type = be_get32(p + 36);
	c->chars = be_get32(p + 40);
	if (c->isut > TZIF_COUNT_MAX || c->isstd > TZIF_COUNT_MAX || c->leap > TZIF_COUNT_MAX ||
	    c->time > TZIF_COUNT_MAX || c->type > TZIF_COUNT_MAX || c->chars > TZIF_COUNT_MAX) {
		snprintf(why, whylen, "a header count above %d", TZIF_COUNT_MAX);
		return -1;
	}
	/* RFC 9636 section 3.1: the counts a valid file has. */
	if (c->type == 0 || c->chars == 0 || (c->isut && c->isut != c->type) ||
	    (c->isstd && c->isstd != c->type)) {
		snprintf(why, whylen,
			 "inconsistent header counts (typecnt %llu, charcnt %llu, isutcnt %llu, "
			 "isstdcnt %llu)",
			 (unsigned long long)c->type, (unsigned long long)c->chars,
			 (unsigned long long)c->isut, (unsigned long long)c->isstd);
		return -1;
	}
	return 0;
}

/* Bytes of a data block with TSIZE-byte times (4: version 1, 8: later). */
static uint64_t tzif_block(const struct tzif_counts *c, uint64_t tsize)
{
	return c->time * tsize + c->time + c->type * TZIF_TTINFO + c->chars +
	       c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* Append {UTC_S, TAI_UTC} to TAB; 0 or -1 when full. */
static int tzif_add(struct ntp_leaptab *tab, int64_t utc_s, int tai_utc)
{
	if (tab->n >= NTP_LEAPTAB_MAX)
		return -1;
	tab->e[tab->n].utc_s = utc_s;
	tab->e[tab->n].tai_utc = tai_utc;
	tab->n++;
	return 0;
}

/* Turn the leap records at P (C->leap of them, TSIZE-byte times) into TAB; 0 or -1. */
static int tzif_leaps(const unsigned char *p, const struct tzif_counts *c, uint64_t tsize, char ver,
		      struct ntp_leaptab *tab, char *why, size_t whylen)
{
	int64_t prev_t = -1;
	int32_t prev_c = 0;
	uint64_t i;

	for (i = 0; i < c->leap; i++, p += tsize + 4) {
		int64_t t = tsize == 4 ? (int64_t)(int32_t)be_get32(p) : (int64_t)be_get64(p);
		int32_t corr = (int32_t)be_get32(p + tsize);
		int64_t midnight;

		if (t <= prev_t) {
			snprintf(why, whylen, "leap record %llu: occurrence %lld %s",
				 (unsigned long long)i + 1, (long long)t,
				 i ? "not after the previous one" : "before 1970");
			return -1;
		}
		if (t > NTP_LEAPTAB_T_MAX + NTP_LEAPTAB_OFF_MAX ||
		    corr < NTP_LEAPTAB_OFF_MIN - NTP_TZIF_TAI_BASE ||
		    corr > NTP_LEAPTAB_OFF_MAX - NTP_TZIF_TAI_BASE) {
			snprintf(why, whylen,
				 "leap record %llu: occurrence %lld or correction %d out of range",
				 (unsigned long long)i + 1, (long long)t, corr);
			return -1;
		}
		if (i == 0) {
			if (corr == 1 || corr == -1) {
				/* A whole table: TAI - UTC was 10 s from 1972-01-01 on. */
				if (tzif_add(tab, NTP_LEAPTAB_T_MIN, NTP_TZIF_TAI_BASE) < 0)
					goto full;
				prev_c = 0;
			} else if (ver >= '4') {
				/* Truncated at the start: what came before this leap is unknown. */
				prev_c = corr > 0 ? corr - 1 : corr + 1;
			} else {
				snprintf(why, whylen,
					 "leap record 1: correction %d (only version 4 may start "
					 "other than +1 or -1)",
					 corr);
				return -1;
			}
		} else if (corr == prev_c) {
			if (i + 1 != c->leap || ver < '4') {
				snprintf(why, whylen,
					 "leap record %llu: correction %d repeats the previous one "
					 "(only a version 4 file's last record, its expiry, may)",
					 (unsigned long long)i + 1, corr);
				return -1;
			}
			tab->expires_s = t - prev_c;
			break;
		}
		if (corr != prev_c + 1 && corr != prev_c - 1) {
			snprintf(why, whylen,
				 "leap record %llu: correction goes from %d to %d (a leap moves it "
				 "by 1)",
				 (unsigned long long)i + 1, prev_c, corr);
			return -1;
		}
		/* The insertion's 23:59:60 ends at occurrence - previous; a deleted 23:59:59 is
		 * the occurrence itself, one second before its midnight. */
		midnight = t - prev_c + (corr < prev_c ? 1 : 0);
		if (tzif_add(tab, midnight, NTP_TZIF_TAI_BASE + corr) < 0)
			goto full;
		prev_c = corr;
		prev_t = t;
	}
	return 0;
full:
	snprintf(why, whylen, "more leap records than the %d a table holds", NTP_LEAPTAB_MAX);
	return -1;
}

int ntp_tzif_parse(const unsigned char *buf, size_t len, struct ntp_leaptab *tab, char *why,
		   size_t whylen)
{
	struct tzif_counts c1, c2;
	const unsigned char *p = buf;
	uint64_t v1, v2;
	char ver, ver2;
	char reason[160];

	memset(tab, 0, sizeof(*tab));
	if (len > NTP_TZIF_MAX) {
		snprintf(why, whylen, "larger than %d bytes", NTP_TZIF_MAX);
		return -1;
	}
	if (tzif_header(p, len, &c1, &ver, why, whylen) < 0)
		goto bad;
	v1 = tzif_block(&c1, 4);
	if (v1 > len - TZIF_HDR) {
		snprintf(why, whylen,
			 "truncated: the version 1 data block needs %llu bytes, %zu left",
			 (unsigned long long)v1, len - TZIF_HDR);
		goto bad;
	}
	if (ver == 0) {
		if (tzif_leaps(p + TZIF_HDR + c1.time * 5 + c1.type * TZIF_TTINFO + c1.chars, &c1,
			       4, ver, tab, why, whylen) < 0)
			goto bad;
	} else {
		size_t off = TZIF_HDR + (size_t)v1;

		p = buf + off;
		if (tzif_header(p, len - off, &c2, &ver2, why, whylen) < 0)
			goto bad;
		if (ver2 != ver) {
			snprintf(why, whylen, "the two headers disagree on the version");
			goto bad;
		}
		v2 = tzif_block(&c2, 8);
		if (v2 > len - off - TZIF_HDR) {
			snprintf(why, whylen,
				 "truncated: the 64-bit data block needs %llu bytes, %zu left",
				 (unsigned long long)v2, len - off - TZIF_HDR);
			goto bad;
		}
		if (tzif_leaps(p + TZIF_HDR + c2.time * 9 + c2.type * TZIF_TTINFO + c2.chars, &c2,
			       8, ver, tab, why, whylen) < 0)
			goto bad;
	}
	if (tab->n == 0) {
		snprintf(why, whylen, "no leap second records (not a right/ zone?)");
		goto bad;
	}
	tab->src = NTP_LEAPTAB_TZIF;
	if (ntp_leaptab_check(tab, reason, sizeof(reason)) < 0) {
		snprintf(why, whylen, "%s", reason);
		goto bad;
	}
	return 0;
bad:
	memset(tab, 0, sizeof(*tab));
	return -1;
}
