/*
 * `refclock DRIVER PARAM [options]`: chrony's directive, with chrony's
 * drivers' names and options and their meanings (chrony.conf(5)):
 *
 *     refclock PHC /dev/ptpN
 *     refclock PPS /dev/ppsN [lock REFID] [clear]
 *     refclock SHM N [perm MODE]
 *     refclock SOCK /PATH [lock REFID]
 *
 * each followed by any of poll N, dpoll N, offset S, delay S, precision
 * S, refid ID, prefer, noselect, trust, tai (not PPS: a pulse carries no
 * second; `tai` needs a leap table, checked once the file is read). chrony's own spelling of driver
 * options after the parameter (`/dev/pps0:clear`, `1:perm=0644`) is
 * read too. A line gets a name (`SHM0`, `PHC0`: the device's number, or
 * the line's rank among those of its driver) and, without `refid`,
 * chrony's default refid: the driver's first three letters and the
 * refclock's rank in the file (`SHM0`, `PPS1`). What needs the whole
 * file (unique refids, `lock` naming another refclock) is checked once
 * it is read, on the line at fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config/cfg_refclock.h"

#define CFG_FORM_REFCLOCK                                                                          \
	"refclock PHC /dev/ptpN | PPS /dev/ppsN [lock REFID] [clear] | SHM N [perm MODE] | "       \
	"SOCK /PATH [lock REFID], then [poll N] [dpoll N] [offset S] [delay S] [precision S] "     \
	"[refid ID] [prefer] [noselect] [trust] [tai]"

#define CFG_RC_MAX_POLL	     17	  /* log2 s: 36 h, as a server's maxpoll */
#define CFG_RC_MAX_OFFSET    1e6  /* s: ~11 days, as `driver sim offset` */
#define CFG_RC_MAX_DELAY     16.0 /* s: RFC 5905 MAXDISP; beyond it nothing is selectable */
#define CFG_RC_MIN_PRECISION 1e-9 /* s: one nanosecond, what a timestamp resolves */
#define CFG_RC_MAX_PRECISION 1.0  /* s: a reference worse than a second is no reference */
#define CFG_RC_SHM_UNIT_MAX  255  /* SHM units: key 0x4e545030 + unit (daemon/refclock) */
#define CFG_RC_SUN_PATH_MAX  107  /* bytes of a Unix socket path (sun_path less its NUL) */
#define CFG_RC_NUM_MAX	     999  /* a device number kept in a name ("PHC999") */
#define CFG_RC_PERM_MAX	     0777 /* SHM: permission bits only */

static const char *const driver_names[] = {
	[CFG_RC_PHC] = "PHC",
	[CFG_RC_PPS] = "PPS",
	[CFG_RC_SHM] = "SHM",
	[CFG_RC_SOCK] = "SOCK",
};

const char *cfg_rc_driver_name(enum cfg_rc_driver d)
{
	return (unsigned)d < sizeof(driver_names) / sizeof(driver_names[0]) ? driver_names[d] : "?";
}

/* 1 when S is a refid: 1 to 4 printable ASCII characters. */
static int refid_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n >= CFG_REFID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

/* The number at the end of PATH (/dev/ptp3: 3), or -1 when none fits a name. */
static int trailing_number(const char *path)
{
	size_t n = strlen(path), i = n;

	while (i > 0 && path[i - 1] >= '0' && path[i - 1] <= '9')
		i--;
	if (i == n || n - i > 3)
		return -1;
	return atoi(path + i);
}

/* 1 when one of the first N refclocks of K has the name NAME. */
static int name_taken(const struct cfg_clock *k, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(k->refclocks[i].name, name) == 0)
			return 1;
	return 0;
}

/* Name R (the N-th refclock of K): its driver and the device's number, else the first free
 * rank among those of its driver. */
static void set_name(const struct cfg_clock *k, int n, struct cfg_refclock *r)
{
	int num = r->driver == CFG_RC_SOCK ? -1 : r->unit;

	if (num >= 0) {
		snprintf(r->name, sizeof(r->name), "%s%d", cfg_rc_driver_name(r->driver), num);
		if (!name_taken(k, n, r->name))
			return;
	}
	for (num = 0; num <= CFG_RC_NUM_MAX; num++) {
		snprintf(r->name, sizeof(r->name), "%s%d", cfg_rc_driver_name(r->driver), num);
		if (!name_taken(k, n, r->name))
			return;
	}
}

/* MODE as octal permission bits (0600) into *OUT; 0, or -1. */
static int perm_parse(const char *tok, int *out)
{
	char *end;
	long v;

	if (!tok[0] || strspn(tok, "01234567") != strlen(tok) || strlen(tok) > 4)
		return -1;
	v = strtol(tok, &end, 8);
	if (*end || v < 0 || v > CFG_RC_PERM_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* `perm MODE` (or chrony's `:perm=MODE`). */
static int opt_perm(struct cfg_parser *p, const char *tok, struct cfg_refclock *r)
{
	char q[CFG_QUOTE_MAX];

	if (!tok)
		return cfg_fail(p, "'perm' needs an octal mode, allowed 0-0777 (e.g. 0644)");
	if (perm_parse(tok, &r->perm) < 0)
		return cfg_fail(p, "bad perm '%s', allowed an octal mode 0-0777 (e.g. 0644)",
				ntp_quote(tok, q, sizeof(q)));
	return 0;
}

/* The driver's parameter TOK into R: the device, unit or socket, and chrony's `:option`s. */
static int parse_param(struct cfg_parser *p, char *tok, struct cfg_refclock *r)
{
	const char *drv = cfg_rc_driver_name(r->driver);
	char q[CFG_QUOTE_MAX], *opt = NULL;
	long v;

	/* chrony appends driver options to the parameter: /dev/pps0:clear, 1:perm=0644. */
	if (r->driver == CFG_RC_PPS || r->driver == CFG_RC_SHM || r->driver == CFG_RC_PHC) {
		opt = strchr(tok, ':');
		if (opt)
			*opt++ = '\0';
	}
	if (r->driver == CFG_RC_SHM) {
		if (cfg_int_opt(p, "SHM unit", tok, 0, CFG_RC_SHM_UNIT_MAX, &v) < 0)
			return -1;
		r->unit = (int)v;
	} else if (r->driver == CFG_RC_SOCK) {
		if (tok[0] != '/' || strlen(tok) > CFG_RC_SUN_PATH_MAX)
			return cfg_fail(p,
					"bad SOCK path '%s', allowed: an absolute path of at most "
					"%d bytes",
					ntp_quote(tok, q, sizeof(q)), CFG_RC_SUN_PATH_MAX);
		snprintf(r->path, sizeof(r->path), "%s", tok);
	} else {
		if (strncmp(tok, "/dev/", 5) != 0 || strlen(tok) >= sizeof(r->path))
			return cfg_fail(p, "bad %s device '%s', allowed: a /dev/ path (%s)", drv,
					ntp_quote(tok, q, sizeof(q)),
					r->driver == CFG_RC_PHC ? "/dev/ptpN" : "/dev/ppsN");
		snprintf(r->path, sizeof(r->path), "%s", tok);
		r->unit = trailing_number(tok);
	}
	while (opt && *opt) {
		char *next = strchr(opt, ':');

		if (next)
			*next++ = '\0';
		if (r->driver == CFG_RC_PPS && strcmp(opt, "clear") == 0) {
			r->clear = 1;
		} else if (r->driver == CFG_RC_SHM && strncmp(opt, "perm=", 5) == 0) {
			if (opt_perm(p, opt + 5, r) < 0)
				return -1;
		} else {
			return cfg_fail(p, "unknown %s option ':%s', allowed: %s", drv,
					ntp_quote(opt, q, sizeof(q)),
					r->driver == CFG_RC_PPS	  ? ":clear"
					: r->driver == CFG_RC_SHM ? ":perm=MODE"
								  : "none (chrony's PHC options "
								    "are not supported)");
		}
		opt = next;
	}
	return 0;
}

/* The option TOK[I] (its argument TOK[I+1], if any) into R; returns the tokens it took, or
 * -1 after the message. */
static int parse_option(struct cfg_parser *p, char **tok, int i, int ntok, struct cfg_refclock *r)
{
	const char *arg = i + 1 < ntok ? tok[i + 1] : NULL, *o = tok[i];
	char q[CFG_QUOTE_MAX];
	long v;

	if (strcmp(o, "prefer") == 0) {
		r->prefer = 1;
		return 1;
	}
	if (strcmp(o, "noselect") == 0) {
		r->noselect = 1;
		return 1;
	}
	if (strcmp(o, "trust") == 0) {
		r->trust = 1;
		return 1;
	}
	if (strcmp(o, "tai") == 0 && r->driver != CFG_RC_PPS) {
		r->tai = 1;
		return 1;
	}
	if (strcmp(o, "clear") == 0 && r->driver == CFG_RC_PPS) {
		r->clear = 1;
		return 1;
	}
	if (strcmp(o, "poll") == 0 || strcmp(o, "dpoll") == 0) {
		int dp = o[0] == 'd';

		if (cfg_int_opt(p, o, arg, dp ? CFG_RC_MIN_DPOLL : 0, CFG_RC_MAX_POLL, &v) < 0)
			return -1;
		*(dp ? &r->dpoll : &r->poll) = (int)v;
		return 2;
	}
	if (strcmp(o, "offset") == 0)
		return cfg_double_opt(p, o, arg, -CFG_RC_MAX_OFFSET, CFG_RC_MAX_OFFSET, "seconds",
				      &r->offset) < 0
			       ? -1
			       : 2;
	if (strcmp(o, "delay") == 0)
		return cfg_double_opt(p, o, arg, 0, CFG_RC_MAX_DELAY, "seconds", &r->delay) < 0 ? -1
												: 2;
	if (strcmp(o, "precision") == 0)
		return cfg_double_opt(p, o, arg, CFG_RC_MIN_PRECISION, CFG_RC_MAX_PRECISION,
				      "seconds", &r->precision) < 0
			       ? -1
			       : 2;
	if (strcmp(o, "perm") == 0 && r->driver == CFG_RC_SHM)
		return opt_perm(p, arg, r) < 0 ? -1 : 2;
	if (strcmp(o, "refid") == 0 ||
	    (strcmp(o, "lock") == 0 && (r->driver == CFG_RC_PPS || r->driver == CFG_RC_SOCK))) {
		if (!arg || !refid_ok(arg))
			return cfg_fail(p, "bad %s '%s', allowed: 1 to 4 printable characters", o,
					arg ? ntp_quote(arg, q, sizeof(q)) : "");
		snprintf(o[0] == 'r' ? r->refid : r->lock, CFG_REFID_MAX, "%s", arg);
		return 2;
	}
	return cfg_fail(p, "unknown refclock %s option '%s', allowed: " CFG_FORM_REFCLOCK,
			cfg_rc_driver_name(r->driver), ntp_quote(o, q, sizeof(q)));
}

int cfg_do_refclock(struct cfg_parser *p, char **tok, int ntok)
{
	struct cfg_clock *k = &p->c->clk;
	struct cfg_refclock r;
	char q[CFG_QUOTE_MAX];
	int i, d, took;

	if (ntok < 3)
		return cfg_fail(p, "'refclock' needs a driver and its parameter, allowed: %s",
				CFG_FORM_REFCLOCK);
	memset(&r, 0, sizeof(r));
	for (d = 0; d < (int)(sizeof(driver_names) / sizeof(driver_names[0])); d++)
		if (strcmp(tok[1], driver_names[d]) == 0)
			break;
	if (d == (int)(sizeof(driver_names) / sizeof(driver_names[0])))
		return cfg_fail(p, "unknown refclock driver '%s', allowed: PHC PPS SHM SOCK",
				ntp_quote(tok[1], q, sizeof(q)));
	r.driver = (enum cfg_rc_driver)d;
	r.unit = -1;
	r.perm = CFG_RC_DEF_PERM;
	r.poll = CFG_RC_DEF_POLL;
	r.dpoll = CFG_RC_DEF_DPOLL;
	r.delay = CFG_RC_DEF_DELAY;
	r.line = p->line;
	if (parse_param(p, tok[2], &r) < 0)
		return -1;
	for (i = 3; i < ntok; i += took) {
		took = parse_option(p, tok, i, ntok, &r);
		if (took < 0)
			return -1;
	}
	if (r.dpoll > r.poll)
		return cfg_fail(p, "dpoll %d above poll %d, allowed dpoll <= poll", r.dpoll,
				r.poll);
	for (i = 0; i < k->n_refclocks; i++) {
		const struct cfg_refclock *o = &k->refclocks[i];

		if (o->driver == r.driver && o->unit == r.unit && strcmp(o->path, r.path) == 0)
			return cfg_fail(p, "refclock %s %s already given on line %d, allowed once",
					cfg_rc_driver_name(r.driver),
					ntp_quote(tok[2], q, sizeof(q)), o->line);
	}
	if (k->n_refclocks >= CFG_MAX_REFCLOCKS)
		return cfg_fail(p, "too many refclock lines, allowed at most %d",
				CFG_MAX_REFCLOCKS);
	set_name(k, k->n_refclocks, &r);
	if (!r.refid[0])
		snprintf(r.refid, sizeof(r.refid), "%.3s%d", cfg_rc_driver_name(r.driver),
			 k->n_refclocks);
	k->refclocks[k->n_refclocks++] = r;
	return 0;
}

int cfg_refclock_check(struct cfg_parser *p)
{
	const struct cfg_clock *k = &p->c->clk;
	int i, j;

	for (i = 0; i < k->n_refclocks; i++) {
		const struct cfg_refclock *r = &k->refclocks[i];

		p->line = r->line;
		if (r->tai && p->c->leap.src == CFG_LEAP_NONE)
			return cfg_fail(p,
					"refclock %s: 'tai' needs a leap table to take TAI - UTC "
					"from, allowed with leapfile or leapsectz",
					r->name);
		for (j = 0; j < i; j++)
			if (strcmp(k->refclocks[j].refid, r->refid) == 0)
				return cfg_fail(p,
						"refid '%s' already used by the refclock on line "
						"%d, allowed: a refid of its own",
						r->refid, k->refclocks[j].line);
		if (!r->lock[0])
			continue;
		for (j = 0; j < k->n_refclocks; j++)
			if (j != i && strcmp(k->refclocks[j].refid, r->lock) == 0)
				break;
		if (j == k->n_refclocks)
			return cfg_fail(p,
					"lock '%s' names no other refclock, allowed: the refid of "
					"a refclock that gives whole seconds (SHM, SOCK, PHC)",
					r->lock);
		if (k->refclocks[j].driver == CFG_RC_PPS)
			return cfg_fail(p,
					"lock '%s' names a PPS refclock, which knows no seconds, "
					"allowed: a SHM, SOCK or PHC refclock's refid",
					r->lock);
	}
	return 0;
}

void cfg_refclock_format(const struct cfg_clock *k, struct ntp_text *out)
{
	char a[48], b[48], c[48];
	int i;

	for (i = 0; i < k->n_refclocks; i++) {
		const struct cfg_refclock *r = &k->refclocks[i];

		ntp_textf(out, "refclock %s ", cfg_rc_driver_name(r->driver));
		if (r->driver == CFG_RC_SHM)
			ntp_textf(out, "%d perm %04o", r->unit, r->perm);
		else
			ntp_textf(out, "%s", r->path);
		if (r->lock[0])
			ntp_textf(out, " lock %s", r->lock);
		if (r->clear)
			ntp_textf(out, " clear");
		ntp_textf(out, " refid %s poll %d dpoll %d offset %s delay %s", r->refid, r->poll,
			  r->dpoll, ntp_shortest(r->offset, a, sizeof(a)),
			  ntp_shortest(r->delay, b, sizeof(b)));
		if (r->precision > 0)
			ntp_textf(out, " precision %s", ntp_shortest(r->precision, c, sizeof(c)));
		ntp_textf(out, "%s%s%s%s\n", r->prefer ? " prefer" : "",
			  r->noselect ? " noselect" : "", r->trust ? " trust" : "",
			  r->tai ? " tai" : "");
	}
	if (k->n_refclocks == 0)
		ntp_textf(out, "# refclock: none\n");
}
