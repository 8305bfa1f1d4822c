/*
 * The configuration parser's shared helpers (see parse.h): messages that
 * name the file and line, integers and decimals read strictly (no hex,
 * no "nan", no trailing junk) and range-checked, and the checks every
 * directive makes on its form (an argument too many, a second use of a
 * directive allowed once).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config/parse.h"

/* Write `NAME:LINE: message` into the caller's error buffer and return -1. */
int cfg_fail(struct cfg_parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->name, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * TOK as a decimal integer in MIN..MAX: 0, or -1 when it is not a decimal
 * integer ("", "12abc", "0x10", "+1") and -2 when it is one out of range.
 */
int cfg_int(const char *tok, long min, long max, long *out)
{
	const char *s = tok[0] == '-' ? tok + 1 : tok;
	char *end;
	long v;

	if (!s[0] || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtol(tok, &end, 10);
	if (*end)
		return -1;
	if (errno == ERANGE || v < min || v > max)
		return -2;
	*out = v;
	return 0;
}

/*
 * TOK as a finite decimal number in MIN..MAX ("0.001", "1e-3", "2"): 0, or
 * -1 when it is not one ("", "nan", "inf", "0x1p-3", "1s") and -2 when it
 * is one out of range.
 */
int cfg_double(const char *tok, double min, double max, double *out)
{
	char *end;
	double v;

	if (!tok[0] || strspn(tok, "0123456789.eE+-") != strlen(tok) || !strpbrk(tok, "0123456789"))
		return -1;
	errno = 0;
	v = strtod(tok, &end);
	if (*end || end == tok || !isfinite(v))
		return errno == ERANGE ? -2 : -1;
	/* Underflow (1e-400) is a number close enough to 0; overflow was caught above. */
	if (v < min || v > max)
		return -2;
	*out = v == 0 ? 0.0 : v;
	return 0;
}

/* Reject an argument past the directive's form. */
int cfg_extra(struct cfg_parser *p, const char *tok, const char *form)
{
	char q[CFG_QUOTE_MAX];

	return cfg_fail(p, "extra argument '%s', allowed: %s", ntp_quote(tok, q, sizeof(q)), form);
}

/* Reject a second use of a directive that is allowed once. */
int cfg_once(struct cfg_parser *p, int *seen, const char *what)
{
	if (*seen)
		return cfg_fail(p, "'%s' already given on line %d, allowed once", what, *seen);
	*seen = p->line;
	return 0;
}

int cfg_int_opt(struct cfg_parser *p, const char *name, const char *tok, long min, long max,
		long *out)
{
	char q[CFG_QUOTE_MAX], range[48];
	int r;

	/* "1-65535", but "-1 to 1000000" where a dash would read as a minus. */
	snprintf(range, sizeof(range), min < 0 ? "%ld to %ld" : "%ld-%ld", min, max);
	if (!tok)
		return cfg_fail(p, "'%s' needs a number, allowed %s", name, range);
	r = cfg_int(tok, min, max, out);
	if (r == -1)
		return cfg_fail(p, "bad %s '%s', allowed %s", name, ntp_quote(tok, q, sizeof(q)),
				range);
	if (r == -2)
		return cfg_fail(p, "%s %s out of range, allowed %s", name,
				ntp_quote(tok, q, sizeof(q)), range);
	return 0;
}

int cfg_double_opt(struct cfg_parser *p, const char *name, const char *tok, double min, double max,
		   const char *unit, double *out)
{
	char q[CFG_QUOTE_MAX];
	int r;

	if (!tok)
		return cfg_fail(p, "'%s' needs a number, allowed %g to %g %s", name, min, max,
				unit);
	r = cfg_double(tok, min, max, out);
	if (r == -1)
		return cfg_fail(p, "bad %s '%s', allowed %g to %g %s", name,
				ntp_quote(tok, q, sizeof(q)), min, max, unit);
	if (r == -2)
		return cfg_fail(p, "%s %s out of range, allowed %g to %g %s", name,
				ntp_quote(tok, q, sizeof(q)), min, max, unit);
	return 0;
}
