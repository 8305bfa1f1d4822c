/*
 * The Prometheus text format writer (see prom.h). Values print with
 * enough digits to read back exactly; NaN and infinities use the
 * format's spellings.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/appendf.h"
#include "proto/prom.h"

void prom_init(struct prom_out *o, char *buf, size_t cap)
{
	o->buf = buf;
	o->cap = cap;
	o->len = 0;
	if (buf && cap)
		buf[0] = '\0';
}

int prom_truncated(const struct prom_out *o)
{
	return o->len >= o->cap;
}

static void put(struct prom_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct prom_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o->len = ntp_vappendf(o->buf, o->cap, o->len, fmt, ap);
	va_end(ap);
}

/* Append S escaped: backslash and newline always, the double quote in label values. */
static void put_escaped(struct prom_out *o, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(o, "\\\\");
		else if (*s == '\n')
			put(o, "\\n");
		else if (*s == '"' && quote)
			put(o, "\\\"");
		else
			put(o, "%c", *s);
	}
}

int prom_name_valid(const char *name, int is_label)
{
	const char *p;

	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return 0;
	for (p = name; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (c == ':' && !is_label)))
			return 0;
	}
	return 1;
}

void prom_family(struct prom_out *o, const char *name, const char *type, const char *help)
{
	if (!prom_name_valid(name, 0))
		return;
	put(o, "# HELP %s ", name);
	put_escaped(o, help, 0);
	put(o, "\n# TYPE %s %s\n", name, type);
}

static void sample_head(struct prom_out *o, const char *name, const char *label, const char *lval)
{
	put(o, "%s", name);
	if (label && prom_name_valid(label, 1)) {
		put(o, "{%s=\"", label);
		put_escaped(o, lval ? lval : "", 1);
		put(o, "\"}");
	}
}

/* The shortest "%g" form of V that reads back as V. */
static const char *shortest(double v, char *out, size_t outlen)
{
	int prec;

	for (prec = 6; prec < 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return out;
	}
	snprintf(out, outlen, "%.17g", v);
	return out;
}

void prom_sample(struct prom_out *o, const char *name, const char *label, const char *lval,
		 double v)
{
	char num[32];

	if (!prom_name_valid(name, 0))
		return;
	sample_head(o, name, label, lval);
	if (isnan(v))
		put(o, " NaN\n");
	else if (isinf(v))
		put(o, " %sInf\n", v > 0 ? "+" : "-");
	else
		put(o, " %s\n", shortest(v, num, sizeof(num)));
}

void prom_sample_u64(struct prom_out *o, const char *name, const char *label, const char *lval,
		     uint64_t v)
{
	if (!prom_name_valid(name, 0))
		return;
	sample_head(o, name, label, lval);
	put(o, " %llu\n", (unsigned long long)v);
}
