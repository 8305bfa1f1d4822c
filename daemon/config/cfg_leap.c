/*
 * The leap-second directives. The table is loaded here, at parse time,
 * through clock/leapload (bounded read of a regular file, proto/'s
 * parsers): what is wrong with the file is reported as `NAME:LINE:
 * leapfile PATH: what`, and the daemon never starts on a table it could
 * not read. Given both, `leapfile` is the table used (a list has an
 * expiry, a zone before TZif 4 has none); the zone is still checked.
 */
#include <stdio.h>
#include <string.h>

#include "clock/leapload.h"
#include "clock/leapsec.h"
#include "daemon/config/cfg_leap.h"

#define CFG_FORM_LEAPFILE  "leapfile /ABSOLUTE/PATH"
#define CFG_FORM_LEAPSECTZ "leapsectz NAME (a zone with leap seconds, e.g. right/UTC)"
#define CFG_FORM_LEAPMODE  "leapsecmode system|step|slew|smear"
#define CFG_FORM_LEAPSMEAR "leapsmear interval SECONDS"

/* The modes by name, in enum clk_leapmode's order. */
static const char *const cfg_leapmodes[] = {
	[CLK_LEAPMODE_SYSTEM] = "system",
	[CLK_LEAPMODE_STEP] = "step",
	[CLK_LEAPMODE_SLEW] = "slew",
	[CLK_LEAPMODE_SMEAR] = "smear",
};

void cfg_leap_defaults(struct cfg_leap *l)
{
	memset(l, 0, sizeof(*l));
	l->mode = CLK_LEAPMODE_SYSTEM;
	l->smear_s = CLK_SMEAR_DEFAULT_S;
}

int cfg_do_leapsecmode(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	int i;

	if (ntok < 2)
		return cfg_fail(p, "'leapsecmode' needs a mode, allowed: " CFG_FORM_LEAPMODE);
	if (ntok > 2)
		return cfg_extra(p, tok[2], CFG_FORM_LEAPMODE);
	for (i = 0; i < (int)(sizeof(cfg_leapmodes) / sizeof(cfg_leapmodes[0])); i++)
		if (cfg_leapmodes[i] && strcmp(tok[1], cfg_leapmodes[i]) == 0)
			break;
	if (i == (int)(sizeof(cfg_leapmodes) / sizeof(cfg_leapmodes[0])))
		return cfg_fail(p, "unknown leapsecmode '%s', allowed: system step slew smear",
				ntp_quote(tok[1], q, sizeof(q)));
	if (cfg_once(p, &p->seen_leapsecmode, "leapsecmode") < 0)
		return -1;
	p->c->leap.mode = i;
	return 0;
}

int cfg_do_leapsmear(struct cfg_parser *p, char **tok, int ntok)
{
	long v;

	if (ntok < 2 || strcmp(tok[1], "interval") != 0)
		return cfg_fail(p,
				"'leapsmear' needs interval SECONDS, allowed: " CFG_FORM_LEAPSMEAR
				" (%d-%d)",
				CLK_SMEAR_MIN_S, CLK_SMEAR_MAX_S);
	if (ntok > 3)
		return cfg_extra(p, tok[3], CFG_FORM_LEAPSMEAR);
	if (cfg_int_opt(p, "interval", ntok > 2 ? tok[2] : NULL, CLK_SMEAR_MIN_S, CLK_SMEAR_MAX_S,
			&v) < 0)
		return -1;
	if (cfg_once(p, &p->seen_leapsmear, "leapsmear") < 0)
		return -1;
	p->c->leap.smear_s = v;
	return 0;
}

/* Load the table at PATH (SRC) into *TAB; 0, or -1 with the reason. */
static int leap_load(struct cfg_parser *p, const char *what, enum cfg_leap_src src,
		     const char *path, struct ntp_leaptab *tab)
{
	char why[256], safe[256], q[CFG_QUOTE_MAX];
	int r;

	if (src == CFG_LEAP_FILE)
		r = clk_leap_load_list(path, tab, why, sizeof(why));
	else
		r = clk_leap_load_tzif(path, tab, why, sizeof(why));
	/* (The reason names the path as given: printable only, as every message.) */
	if (r < 0)
		return cfg_fail(p, "%s: %s, allowed: a readable %s", what,
				ntp_quote(why, safe, sizeof(safe)),
				src == CFG_LEAP_FILE ? "leap-seconds.list with a matching #h hash"
						     : "TZif zone with leap seconds");
	if (tab->n == 0)
		return cfg_fail(p,
				"%s: %s lists no leap second, allowed: a table with leap seconds",
				what, ntp_quote(path, q, sizeof(q)));
	return 0;
}

int cfg_do_leapfile(struct cfg_parser *p, char **tok, int ntok)
{
	struct cfg_leap *l = &p->c->leap;
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
	if (cfg_once(p, &p->seen_leap, "leapfile") < 0 ||
	    leap_load(p, "leapfile", CFG_LEAP_FILE, tok[1], &l->tab) < 0)
		return -1;
	/* The list wins over a zone (it has an expiry; a zone before TZif 4 has none). */
	l->src = CFG_LEAP_FILE;
	snprintf(l->path, sizeof(l->path), "%s", tok[1]);
	return 0;
}

int cfg_do_leapsectz(struct cfg_parser *p, char **tok, int ntok)
{
	static struct ntp_leaptab tab; /* a parse is single-threaded; 2 KB off the stack */
	struct cfg_leap *l = &p->c->leap;
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
	if (cfg_once(p, &p->seen_leaptz, "leapsectz") < 0 ||
	    leap_load(p, "leapsectz", CFG_LEAP_TZ, path, &tab) < 0)
		return -1;
	snprintf(l->tz, sizeof(l->tz), "%s", tok[1]);
	if (l->src != CFG_LEAP_FILE) {
		l->src = CFG_LEAP_TZ;
		l->tab = tab;
		snprintf(l->path, sizeof(l->path), "%s", path);
	}
	return 0;
}

void cfg_leap_format(const struct cfg_leap *l, struct ntp_text *out)
{
	if (l->src == CFG_LEAP_FILE)
		ntp_textf(out, "leapfile %s\n", l->path);
	if (l->tz[0])
		ntp_textf(out, "leapsectz %s\n", l->tz);
	if (l->src == CFG_LEAP_NONE)
		ntp_textf(out, "# leapfile: none (leap seconds from the sources' bits)\n");
	ntp_textf(out, "leapsecmode %s\n",
		  l->mode >= 0 && l->mode <= CLK_LEAPMODE_SMEAR && cfg_leapmodes[l->mode]
			  ? cfg_leapmodes[l->mode]
			  : "system");
	ntp_textf(out, "leapsmear interval %ld\n", l->smear_s);
}
