/*
 * Leap-second files: opened without following into a FIFO or a device
 * (O_NONBLOCK, then fstat must say a regular file), read whole up to the
 * parser's limit (one byte more tells a file that is too big), parsed by
 * proto/. A zone name is confined to the zone directory: no absolute
 * path, no "..", nothing but the characters zone names use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock/leapload.h"
#include "proto/leapfile.h"
#include "proto/tzif.h"
#include "proto/utcdate.h"

/* Read PATH (a regular file of at most MAX bytes) into a new buffer; its length, or -1 + WHY. */
static long leap_read(const char *path, size_t max, char **out, char *why, size_t whylen)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	buf = malloc(max + 1);
	if (!buf) {
		snprintf(why, whylen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	while (got <= max) {
		ssize_t n = read(fd, buf + got, max + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			goto bad;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		snprintf(why, whylen, "%s: larger than %zu bytes", path, max);
		goto bad;
	}
	close(fd);
	*out = buf;
	return (long)got;
bad:
	free(buf);
	close(fd);
	return -1;
}

int clk_leap_load_list(const char *path, struct ntp_leaptab *tab, char *why, size_t whylen)
{
	char reason[192], *buf;
	long n = leap_read(path, NTP_LEAPFILE_MAX, &buf, why, whylen);
	int rc;

	memset(tab, 0, sizeof(*tab));
	if (n < 0)
		return -1;
	rc = ntp_leapfile_parse(buf, (size_t)n, tab, reason, sizeof(reason));
	free(buf);
	if (rc < 0)
		snprintf(why, whylen, "%s: %s", path, reason);
	return rc;
}

int clk_leap_load_tzif(const char *path, struct ntp_leaptab *tab, char *why, size_t whylen)
{
	char reason[192], *buf;
	long n = leap_read(path, NTP_TZIF_MAX, &buf, why, whylen);
	int rc;

	memset(tab, 0, sizeof(*tab));
	if (n < 0)
		return -1;
	rc = ntp_tzif_parse((const unsigned char *)buf, (size_t)n, tab, reason, sizeof(reason));
	free(buf);
	if (rc < 0)
		snprintf(why, whylen, "%s: %s", path, reason);
	return rc;
}

int clk_leap_tz_path(const char *dir, const char *name, char *out, size_t len)
{
	const char *p;
	int n;

	if (!name[0] || name[0] == '/' || strstr(name, ".."))
		return -1;
	for (p = name; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '-' || c == '+' || c == '.'))
			return -1;
	}
	n = snprintf(out, len, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

enum clk_leap_expiry clk_leap_expiry(const struct ntp_leaptab *tab, int64_t now)
{
	int64_t left = ntp_leaptab_expires_in(tab, now);

	if (!tab->expires_s)
		return CLK_LEAP_EXP_UNKNOWN;
	if (left <= 0)
		return CLK_LEAP_EXP_EXPIRED;
	return left <= CLK_LEAP_EXPIRY_WARN_S ? CLK_LEAP_EXP_SOON : CLK_LEAP_EXP_OK;
}

/* "YYYY-MM-DD" of Unix second T into BUF. */
static void leap_date(int64_t t, char *buf, size_t len)
{
	int64_t y;
	int m, d;

	ntp_utc_date(ntp_utc_day_of(t), &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02d", (long long)y, m, d);
}

void clk_leap_describe(const struct ntp_leaptab *tab, int64_t now, char *buf, size_t len)
{
	char exp[16], next[16];
	struct ntp_leap l;
	int off = 0, have_off = ntp_leaptab_tai_utc(tab, now, &off) == 0;
	int64_t days = 0;
	size_t pos;
	const char *state;

	switch (clk_leap_expiry(tab, now)) {
	case CLK_LEAP_EXP_OK:
		state = "expires";
		break;
	case CLK_LEAP_EXP_SOON:
		state = "expires SOON";
		break;
	case CLK_LEAP_EXP_EXPIRED:
		state = "EXPIRED";
		break;
	default:
		state = "expiry unknown";
		break;
	}
	if (tab->expires_s) {
		leap_date(tab->expires_s, exp, sizeof(exp));
		days = ntp_leaptab_expires_in(tab, now) / NTP_DAY_S;
	}
	pos = (size_t)snprintf(buf, len, "%s, %d entries, ",
			       tab->src == NTP_LEAPTAB_TZIF ? "tzif" : "leap-seconds.list", tab->n);
	if (pos < len && have_off)
		pos += (size_t)snprintf(buf + pos, len - pos, "TAI-UTC %d s, %s", off, state);
	else if (pos < len)
		pos += (size_t)snprintf(buf + pos, len - pos, "TAI-UTC unknown, %s", state);
	if (pos < len && tab->expires_s)
		pos += (size_t)snprintf(buf + pos, len - pos, " %s (%lld days %s)", exp,
					(long long)(days < 0 ? -days : days),
					days < 0 ? "ago" : "left");
	if (pos < len && ntp_leaptab_next(tab, now, &l)) {
		leap_date(l.utc_s - NTP_DAY_S, next, sizeof(next));
		snprintf(buf + pos, len - pos, ", next leap: %s at the end of %s",
			 l.dir > 0 ? "insert" : "delete", next);
	} else if (pos < len) {
		snprintf(buf + pos, len - pos, ", no leap ahead");
	}
}
