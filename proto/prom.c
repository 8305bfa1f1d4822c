/*
 * The Prometheus text format writer (see prom.h). Values print with
 * enough digits to read back exactly; NaN and infinities use the
 * format's spellings.
 */
#include <math.h>

#include "proto/appendf.h"
#include "proto/prom.h"

/* Append S escaped: backslash and newline always, the double quote in label values. */
static void put_escaped(struct ntp_text *o, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			ntp_textf(o, "\\\\");
		else if (*s == '\n')
			ntp_textf(o, "\\n");
		else if (*s == '"' && quote)
			ntp_textf(o, "\\\"");
		else
			ntp_textf(o, "%c", *s);
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

void prom_family(struct ntp_text *o, const char *name, const char *type, const char *help)
{
	if (!prom_name_valid(name, 0))
		return;
	ntp_textf(o, "# HELP %s ", name);
	put_escaped(o, help, 0);
	ntp_textf(o, "\n# TYPE %s %s\n", name, type);
}

static void sample_head(struct ntp_text *o, const char *name, const char *label, const char *lval)
{
	ntp_textf(o, "%s", name);
	if (label && prom_name_valid(label, 1)) {
		ntp_textf(o, "{%s=\"", label);
		put_escaped(o, lval ? lval : "", 1);
		ntp_textf(o, "\"}");
	}
}

void prom_sample(struct ntp_text *o, const char *name, const char *label, const char *lval,
		 double v)
{
	char num[32];

	if (!prom_name_valid(name, 0))
		return;
	sample_head(o, name, label, lval);
	if (isnan(v))
		ntp_textf(o, " NaN\n");
	else if (isinf(v))
		ntp_textf(o, " %sInf\n", v > 0 ? "+" : "-");
	else
		ntp_textf(o, " %s\n", ntp_shortest(v, num, sizeof(num)));
}

void prom_sample_u64(struct ntp_text *o, const char *name, const char *label, const char *lval,
		     uint64_t v)
{
	if (!prom_name_valid(name, 0))
		return;
	sample_head(o, name, label, lval);
	ntp_textf(o, " %llu\n", (unsigned long long)v);
}
