/*
 * The leap-second directives. The table is loaded here, at parse time,
 * through clock/leapload (bounded read of a regular file, proto/'s
 * parsers): what is wrong with the file is reported as `NAME:LINE:
 * leapfile PATH: what`, and the daemon never starts on a table it could
 * not read. Only one table: `leapfile` and `leapsectz` exclude each
 * other.
 */
#include <stdio.h>
#include <string.h>

#include "clock/leapload.h"
#include "daemon/config/cfg_leap.h"

#define CFG_FORM_LEAPFILE  "leapfile /ABSOLUTE/PATH"
#define CFG_FORM_LEAPSECTZ "leapsectz NAME (a zone with leap seconds, e.g. right/UTC)"

void cfg_leap_defaults(struct cfg_leap *l)
{
	memset(l, 0, sizeof(*l));
}

/* Load the table at PATH (SRC) into the parser's settings; 0, or -1 with the reason. */
static int leap_load(struct cfg_parser *p, const char *what, enum cfg_leap_src src,
		     const char *path)
{
	struct cfg_leap *l = &p->c->leap;
	char why[256];
	int r;

	if (cfg_once(p, &p->seen_leap, "leapfile or leapsectz") < 0)
		return -1;
	if (src == CFG_LEAP_FILE)
		r = clk_leap_load_list(path, &l->tab, why, sizeof(why));
	else
		r = clk_leap_load_tzif(path, &l->tab, why, sizeof(why));
	if (r < 0)
		return cfg_fail(p, "%s: %s, allowed: a readable %s", what, why,
				src == CFG_LEAP_FILE ? "leap-seconds.list with a matching #h hash"
						     : "TZif zone with leap seconds");
	if (l->tab.n == 0)
		return cfg_fail(p, "%s: %s lists no leap second, allowed: a table with leap seconds",
				what, path);
	l->src = src;
	snprintf(l->path, sizeof(l->path), "%s", path);
	return 0;
}

int cfg_do_leapfile(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];

	if (ntok < 2)
		return cfg_fail(p, "'leapfile' needs a path, allowed: " CFG_FORM_LEAPFILE);
	if (ntok > 2)
		return cfg_extra(p, tok[2], CFG_FORM_LEAPFILE);
	if (tok[1][0] != '/')
		return cfg_fail(p, "leapfile '%s' is not an absolute path, allowed: /ABSOLUTE/PATH",
				ntp_quote(tok[1], q, sizeof(q)));
	if (strlen(tok[1]) >= CFG_PATH_MAX)
		return cfg_fail(p, "leapfile path of %zu bytes too long, allowed at most %d bytes",
				strlen(tok[1]), CFG_PATH_MAX - 1);
	return leap_load(p, "leapfile", CFG_LEAP_FILE, tok[1]);
}

int cfg_do_leapsectz(struct cfg_parser *p, char **tok, int ntok)
{
	char path[CFG_PATH_MAX], q[CFG_QUOTE_MAX];

	if (ntok < 2)
		return cfg_fail(p, "'leapsectz' needs a zone name, allowed: " CFG_FORM_LEAPSECTZ);
	if (ntok > 2)
		return cfg_extra(p, tok[2], CFG_FORM_LEAPSECTZ);
	if (strlen(tok[1]) >= sizeof(p->c->leap.tz) ||
	    clk_leap_tz_path(CLK_ZONEINFO_DIR, tok[1], path, sizeof(path)) < 0)
		return cfg_fail(p,
				"bad leapsectz zone name '%s', allowed: a relative zone name of "
				"letters, digits, '/', '_', '-', '+' (no '..'), e.g. right/UTC",
				ntp_quote(tok[1], q, sizeof(q)));
	if (leap_load(p, "leapsectz", CFG_LEAP_TZ, path) < 0)
		return -1;
	snprintf(p->c->leap.tz, sizeof(p->c->leap.tz), "%s", tok[1]);
	return 0;
}

void cfg_leap_format(const struct cfg_leap *l, struct ntp_text *out)
{
	if (l->src == CFG_LEAP_FILE)
		ntp_textf(out, "leapfile %s\n", l->path);
	else if (l->src == CFG_LEAP_TZ)
		ntp_textf(out, "leapsectz %s\n", l->tz);
	else
		ntp_textf(out, "# leapfile: none (leap seconds from the sources' bits)\n");
}
