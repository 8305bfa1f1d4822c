/*
 * The clock directives of the configuration: upstream sources (`server`,
 * `pool`), the clock driver, discipline, makestep, maxdistance, holdover,
 * minsources and the driftfile. Same rules as the serving directives:
 * every value range-checked, every error `NAME:LINE: what, allowed ...`.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/config/cfg_clock.h"
#include "proto/utcdate.h"

#define CFG_FORM_SERVER                                                                            \
	"server HOST [port N] [iburst] [prefer] [xleave] [minpoll N] [maxpoll N] "                 \
	"[key ID | nts [ntsport N]]"
#define CFG_FORM_POOL                                                                              \
	"pool NAME [port N] [iburst] [prefer] [xleave] [minpoll N] [maxpoll N] [maxsources N]"
#define CFG_FORM_DRIVER                                                                            \
	"driver kernel [device /dev/ptpN] | driver sim [offset S] [freq PPM] [wander W] [seed N] " \
	"[date YYYY-MM-DDTHH:MM:SSZ]"

#define CFG_MAX_POLL	       17      /* log2 s: 36 h, RFC 5905's largest poll */
#define CFG_DEF_MINPOLL	       6       /* log2 s: 64 s, as ntpd and chrony */
#define CFG_DEF_MAXPOLL	       10      /* log2 s: 1024 s, as ntpd and chrony */
#define CFG_DEF_MAXSOURCES     4       /* pool addresses used, as chrony */
#define CFG_MAX_MAXSOURCES     16      /* pool addresses at most */
#define CFG_MAX_SIM_OFFSET     1e6     /* s: a sim clock can start up to ~11 days off */
#define CFG_MAX_FREQ	       500.0   /* ppm: the kernel's frequency limit */
#define CFG_MAX_WANDER	       10.0    /* ppm/sqrt(s): far beyond any real oscillator */
#define CFG_MAX_STEP_THRESHOLD 1e6     /* s */
#define CFG_MAX_STEP_LIMIT     1000000 /* clock updates */
#define CFG_MAX_MAXDISTANCE    16.0    /* s: RFC 5905 MAXDISP */
#define CFG_MAX_HOLDOVER       1e7     /* s: ~4 months */

#define CFG_NTS_KE_PORT 4460	    /* TCP port of NTS-KE (IANA, RFC 8915) */
#define CFG_MAX_KEY_ID	4294967295L /* keyfile ids: 1..2^32-1, as chrony */

void cfg_clock_defaults(struct cfg_clock *k)
{
	memset(k, 0, sizeof(*k));
	k->driver = CFG_DRIVER_KERNEL;
	k->discipline = -1;
	k->makestep_threshold = 1.0;
	k->makestep_limit = 3;
	k->maxdistance = 1.5;
	k->holdover = -1;
	k->minsources = 1;
}

/* 1 when S is a plausible host name or address literal (letters, digits, . - : _ %). */
static int host_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < CFG_HOST_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_%") ==
		       n &&
	       s[0] != '-' && s[0] != '.';
}

int cfg_do_server(struct cfg_parser *p, char **tok, int ntok)
{
	struct cfg_clock *k = &p->c->clk;
	const int pool = strcmp(tok[0], "pool") == 0;
	const char *form = pool ? CFG_FORM_POOL : CFG_FORM_SERVER;
	struct cfg_server sv;
	char q[CFG_QUOTE_MAX];
	long v;
	int i;

	if (ntok < 2)
		return cfg_fail(p, "'%s' needs a %s, allowed: %s", tok[0], pool ? "name" : "host",
				form);
	if (!host_ok(tok[1]))
		return cfg_fail(p, "bad %s '%s', allowed: a host name or an IP address literal",
				pool ? "pool name" : "host", ntp_quote(tok[1], q, sizeof(q)));
	memset(&sv, 0, sizeof(sv));
	snprintf(sv.host, sizeof(sv.host), "%s", tok[1]);
	sv.port = CFG_DEFAULT_PORT;
	sv.pool = pool;
	sv.maxsources = pool ? CFG_DEF_MAXSOURCES : 1;
	sv.minpoll = CFG_DEF_MINPOLL;
	sv.maxpoll = CFG_DEF_MAXPOLL;
	sv.ntsport = CFG_NTS_KE_PORT;
	for (i = 2; i < ntok; i++) {
		const char *arg = i + 1 < ntok ? tok[i + 1] : NULL;

		if (strcmp(tok[i], "iburst") == 0) {
			sv.iburst = 1;
		} else if (strcmp(tok[i], "prefer") == 0) {
			sv.prefer = 1;
		} else if (strcmp(tok[i], "xleave") == 0) {
			sv.xleave = 1;
		} else if (strcmp(tok[i], "port") == 0) {
			if (cfg_int_opt(p, "port", arg, 1, 65535, &v) < 0)
				return -1;
			sv.port = (int)v;
			i++;
		} else if (strcmp(tok[i], "minpoll") == 0) {
			if (cfg_int_opt(p, "minpoll", arg, 0, CFG_MAX_POLL, &v) < 0)
				return -1;
			sv.minpoll = (int)v;
			i++;
		} else if (strcmp(tok[i], "maxpoll") == 0) {
			if (cfg_int_opt(p, "maxpoll", arg, 0, CFG_MAX_POLL, &v) < 0)
				return -1;
			sv.maxpoll = (int)v;
			i++;
		} else if (!pool && strcmp(tok[i], "key") == 0) {
			if (cfg_int_opt(p, "key", arg, 1, CFG_MAX_KEY_ID, &v) < 0)
				return -1;
			sv.key = (uint32_t)v;
			i++;
		} else if (!pool && strcmp(tok[i], "nts") == 0) {
			sv.nts = 1;
		} else if (!pool && strcmp(tok[i], "ntsport") == 0) {
			if (cfg_int_opt(p, "ntsport", arg, 1, 65535, &v) < 0)
				return -1;
			sv.ntsport = (int)v;
			i++;
		} else if (pool && (strcmp(tok[i], "key") == 0 || strcmp(tok[i], "nts") == 0 ||
				    strcmp(tok[i], "ntsport") == 0)) {
			return cfg_fail(p,
					"'%s' on a pool line is not supported, allowed: on a "
					"server line (" CFG_FORM_SERVER ")",
					tok[i]);
		} else if (pool && strcmp(tok[i], "maxsources") == 0) {
			if (cfg_int_opt(p, "maxsources", arg, 1, CFG_MAX_MAXSOURCES, &v) < 0)
				return -1;
			sv.maxsources = (int)v;
			i++;
		} else {
			return cfg_fail(p, "unknown %s option '%s', allowed: %s", tok[0],
					ntp_quote(tok[i], q, sizeof(q)), form);
		}
	}
	if (sv.key && sv.nts)
		return cfg_fail(p, "key and nts on one server, allowed: one of them (%s)", form);
	if (sv.xleave && (sv.key || sv.nts))
		return cfg_fail(
			p,
			"xleave with %s, allowed: xleave on a server without key or nts (an "
			"authenticated source is polled in basic mode)",
			sv.nts ? "nts" : "key");
	if (!sv.nts && sv.ntsport != CFG_NTS_KE_PORT)
		return cfg_fail(p, "ntsport without nts, allowed: server HOST nts ntsport N");
	if (sv.minpoll > sv.maxpoll) {
		/* Only the side given explicitly moves the default of the other. */
		if (sv.maxpoll == CFG_DEF_MAXPOLL)
			sv.maxpoll = sv.minpoll;
		else if (sv.minpoll == CFG_DEF_MINPOLL)
			sv.minpoll = sv.maxpoll;
		else
			return cfg_fail(p,
					"minpoll %d above maxpoll %d, allowed minpoll <= maxpoll",
					sv.minpoll, sv.maxpoll);
	}
	if (k->n_servers >= CFG_MAX_SERVERS)
		return cfg_fail(p, "too many server and pool lines, allowed at most %d",
				CFG_MAX_SERVERS);
	k->servers[k->n_servers++] = sv;
	return 0;
}

/* `date YYYY-MM-DDTHH:MM:SSZ` (UTC, 1972..2499) into *OUT (Unix s); 0, or -1 with a message. */
static int sim_date(struct cfg_parser *p, const char *arg, long long *out)
{
	char q[CFG_QUOTE_MAX], z = 0, extra;
	int y, mo, d, h, mi, s;
	long long t;

	if (!arg)
		return cfg_fail(p, "'date' needs a UTC date, allowed: YYYY-MM-DDTHH:MM:SSZ "
				   "(1972-2499)");
	if (sscanf(arg, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &y, &mo, &d, &h, &mi, &s, &z, &extra) != 7 ||
	    z != 'Z' || strlen(arg) != 20 || y < 1972 || y > 2499 || mo < 1 || mo > 12 || d < 1 ||
	    d > 31 || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0)
		return cfg_fail(p, "bad date '%s', allowed: YYYY-MM-DDTHH:MM:SSZ (1972-2499)",
				ntp_quote(arg, q, sizeof(q)));
	t = ntp_utc_days(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + s;
	{
		int64_t yy;
		int m2, d2;

		ntp_utc_date(ntp_utc_day_of(t), &yy, &m2, &d2);
		if (m2 != mo || d2 != d)
			return cfg_fail(p,
					"bad date '%s' (no such day), allowed: "
					"YYYY-MM-DDTHH:MM:SSZ (1972-2499)",
					ntp_quote(arg, q, sizeof(q)));
	}
	*out = t;
	return 0;
}

int cfg_do_driver(struct cfg_parser *p, char **tok, int ntok)
{
	struct cfg_clock *k = &p->c->clk, n = *k;
	char q[CFG_QUOTE_MAX];
	int i;

	if (ntok < 2)
		return cfg_fail(p, "'driver' needs a kind, allowed: " CFG_FORM_DRIVER);
	if (strcmp(tok[1], "kernel") == 0) {
		n.driver = CFG_DRIVER_KERNEL;
		if (ntok >= 3) {
			if (strcmp(tok[2], "device") != 0)
				return cfg_fail(p,
						"unknown driver kernel option '%s', "
						"allowed: " CFG_FORM_DRIVER,
						ntp_quote(tok[2], q, sizeof(q)));
			if (ntok < 4 || strncmp(tok[3], "/dev/", 5) != 0 ||
			    strlen(tok[3]) >= sizeof(n.device))
				return cfg_fail(
					p, "'device' needs a /dev/ path, allowed: driver kernel "
					   "device /dev/ptpN");
			snprintf(n.device, sizeof(n.device), "%s", tok[3]);
			if (ntok > 4)
				return cfg_extra(p, tok[4], CFG_FORM_DRIVER);
		}
	} else if (strcmp(tok[1], "sim") == 0) {
		n.driver = CFG_DRIVER_SIM;
		for (i = 2; i < ntok; i += 2) {
			const char *arg = i + 1 < ntok ? tok[i + 1] : NULL;
			long v;

			if (strcmp(tok[i], "offset") == 0) {
				if (cfg_double_opt(p, "offset", arg, -CFG_MAX_SIM_OFFSET,
						   CFG_MAX_SIM_OFFSET, "seconds",
						   &n.sim_offset) < 0)
					return -1;
			} else if (strcmp(tok[i], "freq") == 0) {
				if (cfg_double_opt(p, "freq", arg, -CFG_MAX_FREQ, CFG_MAX_FREQ,
						   "ppm", &n.sim_freq) < 0)
					return -1;
			} else if (strcmp(tok[i], "wander") == 0) {
				if (cfg_double_opt(p, "wander", arg, 0, CFG_MAX_WANDER,
						   "ppm/sqrt(s)", &n.sim_wander) < 0)
					return -1;
			} else if (strcmp(tok[i], "date") == 0) {
				if (sim_date(p, arg, &n.sim_date) < 0)
					return -1;
			} else if (strcmp(tok[i], "seed") == 0) {
				if (cfg_int_opt(p, "seed", arg, 0, 2147483647L, &v) < 0)
					return -1;
				n.sim_seed = (unsigned long long)v;
			} else {
				return cfg_fail(
					p,
					"unknown driver sim option '%s', allowed: " CFG_FORM_DRIVER,
					ntp_quote(tok[i], q, sizeof(q)));
			}
		}
	} else {
		return cfg_fail(p, "unknown driver '%s', allowed: kernel sim",
				ntp_quote(tok[1], q, sizeof(q)));
	}
	if (cfg_once(p, &p->seen_driver, "driver") < 0)
		return -1;
	*k = n;
	return 0;
}

int cfg_do_discipline(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	int on;

	if (ntok < 2)
		return cfg_fail(p, "'discipline' needs on or off, allowed: discipline on|off");
	if (ntok > 2)
		return cfg_extra(p, tok[2], "discipline on|off");
	if (strcmp(tok[1], "on") == 0)
		on = 1;
	else if (strcmp(tok[1], "off") == 0)
		on = 0;
	else
		return cfg_fail(p, "bad discipline '%s', allowed: on off",
				ntp_quote(tok[1], q, sizeof(q)));
	if (cfg_once(p, &p->seen_discipline, "discipline") < 0)
		return -1;
	p->c->clk.discipline = on;
	return 0;
}

int cfg_do_makestep(struct cfg_parser *p, char **tok, int ntok)
{
	double thr;
	long lim;

	if (ntok < 3)
		return cfg_fail(p, "'makestep' needs a threshold and a limit, allowed: makestep "
				   "SECONDS UPDATES (UPDATES -1 = always)");
	if (ntok > 3)
		return cfg_extra(p, tok[3], "makestep SECONDS UPDATES");
	if (cfg_double_opt(p, "threshold", tok[1], 0, CFG_MAX_STEP_THRESHOLD, "seconds", &thr) <
		    0 ||
	    cfg_int_opt(p, "limit", tok[2], -1, CFG_MAX_STEP_LIMIT, &lim) < 0)
		return -1;
	if (cfg_once(p, &p->seen_makestep, "makestep") < 0)
		return -1;
	p->c->clk.makestep_threshold = thr;
	p->c->clk.makestep_limit = (int)lim;
	return 0;
}

int cfg_do_maxdistance(struct cfg_parser *p, char **tok, int ntok)
{
	double v;

	if (ntok > 2)
		return cfg_extra(p, tok[2], "maxdistance SECONDS");
	if (cfg_double_opt(p, "maxdistance", ntok > 1 ? tok[1] : NULL, 0.001, CFG_MAX_MAXDISTANCE,
			   "seconds", &v) < 0)
		return -1;
	if (cfg_once(p, &p->seen_maxdistance, "maxdistance") < 0)
		return -1;
	p->c->clk.maxdistance = v;
	return 0;
}

int cfg_do_holdover(struct cfg_parser *p, char **tok, int ntok)
{
	double v = -1;

	if (ntok > 2)
		return cfg_extra(p, tok[2], "holdover SECONDS|auto");
	if (ntok < 2 || strcmp(tok[1], "auto") != 0) {
		if (cfg_double_opt(p, "holdover", ntok > 1 ? tok[1] : NULL, 0, CFG_MAX_HOLDOVER,
				   "seconds (or auto)", &v) < 0)
			return -1;
	}
	if (cfg_once(p, &p->seen_holdover, "holdover") < 0)
		return -1;
	p->c->clk.holdover = v;
	return 0;
}

int cfg_do_minsources(struct cfg_parser *p, char **tok, int ntok)
{
	long v;

	if (ntok > 2)
		return cfg_extra(p, tok[2], "minsources N");
	if (cfg_int_opt(p, "minsources", ntok > 1 ? tok[1] : NULL, 1, CFG_MAX_SERVERS, &v) < 0)
		return -1;
	if (cfg_once(p, &p->seen_minsources, "minsources") < 0)
		return -1;
	p->c->clk.minsources = (int)v;
	return 0;
}

int cfg_do_driftfile(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	size_t len;

	if (ntok < 2)
		return cfg_fail(p, "'driftfile' needs a path, allowed: driftfile /ABSOLUTE/PATH");
	if (ntok > 2)
		return cfg_extra(p, tok[2], "driftfile /ABSOLUTE/PATH");
	len = strlen(tok[1]);
	if (tok[1][0] != '/')
		return cfg_fail(p,
				"driftfile '%s' is not an absolute path, allowed: /ABSOLUTE/PATH",
				ntp_quote(tok[1], q, sizeof(q)));
	if (len + 8 >= CFG_PATH_MAX) /* room for the temporary file's suffix */
		return cfg_fail(p, "driftfile path of %zu bytes too long, allowed at most %d bytes",
				len, CFG_PATH_MAX - 9);
	if (cfg_once(p, &p->seen_driftfile, "driftfile") < 0)
		return -1;
	memcpy(p->c->clk.driftfile, tok[1], len + 1);
	return 0;
}

void cfg_clock_format(const struct cfg_clock *k, struct ntp_text *out)
{
	char a[48], b[48], c[48];
	int i;

	for (i = 0; i < k->n_servers; i++) {
		const struct cfg_server *s = &k->servers[i];

		ntp_textf(out, "%s %s port %d minpoll %d maxpoll %d%s%s%s",
			  s->pool ? "pool" : "server", s->host, s->port, s->minpoll, s->maxpoll,
			  s->iburst ? " iburst" : "", s->prefer ? " prefer" : "",
			  s->xleave ? " xleave" : "");
		if (s->pool)
			ntp_textf(out, " maxsources %d", s->maxsources);
		if (s->key)
			ntp_textf(out, " key %u", (unsigned)s->key);
		if (s->nts)
			ntp_textf(out, " nts ntsport %d", s->ntsport);
		ntp_textf(out, "\n");
	}
	if (k->n_servers == 0)
		ntp_textf(out, "# server/pool: none (no upstream sources)\n");
	if (k->driver == CFG_DRIVER_SIM) {
		ntp_shortest(k->sim_offset, a, sizeof(a));
		ntp_shortest(k->sim_freq, b, sizeof(b));
		ntp_shortest(k->sim_wander, c, sizeof(c));
		ntp_textf(out, "driver sim offset %s freq %s wander %s seed %llu", a, b, c,
			  k->sim_seed);
		if (k->sim_date) {
			int64_t y;
			int mo, d;
			long long sec = k->sim_date % 86400;

			ntp_utc_date(ntp_utc_day_of(k->sim_date), &y, &mo, &d);
			ntp_textf(out, " date %04lld-%02d-%02dT%02lld:%02lld:%02lldZ", (long long)y,
				  mo, d, sec / 3600, sec / 60 % 60, sec % 60);
		}
		ntp_textf(out, "\n");
	} else if (k->device[0])
		ntp_textf(out, "driver kernel device %s\n", k->device);
	else
		ntp_textf(out, "driver kernel\n");
	if (k->discipline < 0)
		ntp_textf(out, "# discipline: on when upstream sources are configured\n");
	else
		ntp_textf(out, "discipline %s\n", k->discipline ? "on" : "off");
	ntp_textf(out, "makestep %s %d\n", ntp_shortest(k->makestep_threshold, a, sizeof(a)),
		  k->makestep_limit);
	ntp_textf(out, "maxdistance %s\n", ntp_shortest(k->maxdistance, a, sizeof(a)));
	if (k->holdover < 0)
		ntp_textf(out, "holdover auto\n");
	else
		ntp_textf(out, "holdover %s\n", ntp_shortest(k->holdover, a, sizeof(a)));
	ntp_textf(out, "minsources %d\n", k->minsources);
	if (k->driftfile[0])
		ntp_textf(out, "driftfile %s\n", k->driftfile);
	else
		ntp_textf(out, "# driftfile: none\n");
}
