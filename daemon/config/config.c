/*
 * The configuration parser. The text is read line by line; each line is
 * cut into tokens at spaces and tabs, comments are dropped, and the first
 * token selects a directive from one table: the serving directives here
 * (listen, local, allow/deny, control allow, workers, io, pidfile, log,
 * hwtimestamp), the others in their files (cfg_clock.c, cfg_refclock.c,
 * cfg_guard.c, cfg_control.c, cfg_security.c); what needs the whole file
 * (the refclocks' refids and locks) is checked after the last line. Every directive checks its
 * argument count and range-checks every value with the typed helpers of parse.c, and every failure
 * is one message, `NAME:LINE: what was wrong, allowed
 * ...`, so that an administrator can fix the file without reading the
 * manual. A failed parse leaves the configuration as it was before the
 * call (the access lists may keep memory they grew; cfg_free releases
 * it). cfg_format writes the effective configuration back as directives
 * that this parser reads to the same result.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config/cfg_clock.h"
#include "daemon/config/cfg_control.h"
#include "daemon/config/cfg_guard.h"
#include "daemon/config/cfg_leap.h"
#include "daemon/config/cfg_nts.h"
#include "daemon/config/cfg_refclock.h"
#include "daemon/config/cfg_security.h"
#include "daemon/config/config.h"
#include "daemon/config/parse.h"
#include "proto/appendf.h"
#include "proto/ctlproto.h"

#define CFG_LINE_MAX	       1024 /* bytes per line, newline excluded: ample for any directive */
#define CFG_FILE_MAX	       (1 << 20) /* bytes per file (1 MiB): a config is a few KiB */
#define CFG_MAX_TOKENS	       24    /* tokens kept per line: the longest form (refclock) has 21 */
#define CFG_DEFAULT_STRATUM    10    /* stratum preset for `local`: far below real sources */
#define CFG_DEFAULT_DISPERSION 0.001 /* seconds: error of a local clock at its reference time */
#define CFG_MAX_STRATUM	       15    /* highest valid stratum (16 = unsynchronized) */
#define CFG_MAX_DISPERSION     16.0  /* seconds: RFC 5905 MAXDISP, beyond it a source is unusable */
#define CFG_MAX_PORT	       65535 /* highest UDP port */

const char cfg_embedded_default[] =
	"# horod's built-in configuration, used when it is started without -f.\n"
	"#\n"
	"# Serve NTP on the loopback addresses only: a server reachable from the\n"
	"# network is a deliberate choice, made in a configuration file.\n"
	"listen 127.0.0.1\n"
	"listen ::1\n"
	"#\n"
	"# Serve the local clock as a stratum 10 reference. Its dispersion (the\n"
	"# error of the clock at the reference time, in seconds) is 0.001 unless\n"
	"# given as `local stratum 10 dispersion SECONDS`.\n"
	"local stratum 10\n";

#define CFG_FORM_LISTEN "listen ADDR [port N]"

static int cfg_do_listen(struct cfg_parser *p, char **tok, int ntok)
{
	struct horod_config *c = p->c;
	struct cfg_listen l;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	char q[CFG_QUOTE_MAX];
	long port = 0;
	int i;

	if (ntok < 2)
		return cfg_fail(p, "'listen' needs an address, allowed: " CFG_FORM_LISTEN);
	memset(&l, 0, sizeof(l));
	sin = (struct sockaddr_in *)&l.addr;
	sin6 = (struct sockaddr_in6 *)&l.addr;
	if (inet_pton(AF_INET, tok[1], &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		l.addrlen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, tok[1], &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		l.addrlen = sizeof(*sin6);
	} else {
		return cfg_fail(p,
				"bad listen address '%s', allowed: an IPv4 or IPv6 literal "
				"(no host names) in " CFG_FORM_LISTEN,
				ntp_quote(tok[1], q, sizeof(q)));
	}

	if (ntok >= 3) {
		if (strcmp(tok[2], "port") != 0)
			return cfg_fail(p, "unknown listen option '%s', allowed: " CFG_FORM_LISTEN,
					ntp_quote(tok[2], q, sizeof(q)));
		if (cfg_int_opt(p, "port", ntok > 3 ? tok[3] : NULL, 1, CFG_MAX_PORT, &port) < 0)
			return -1;
		if (ntok > 4)
			return cfg_extra(p, tok[4], CFG_FORM_LISTEN);
	}
	l.port = (int)port;

	for (i = 0; i < c->n_listen; i++) {
		if (c->listen[i].addrlen == l.addrlen && c->listen[i].port == l.port &&
		    memcmp(&c->listen[i].addr, &l.addr, l.addrlen) == 0)
			return cfg_fail(
				p, "duplicate listen '%s%s%s', allowed once per address and port",
				ntp_quote(tok[1], q, sizeof(q)), ntok > 2 ? " port " : "",
				ntok > 2 ? tok[3] : "");
	}
	if (c->n_listen >= CFG_MAX_LISTEN)
		return cfg_fail(p, "too many listen lines, allowed at most %d", CFG_MAX_LISTEN);
	c->listen[c->n_listen++] = l;
	return 0;
}

#define CFG_FORM_LOCAL "local stratum N [dispersion SECONDS]"

static int cfg_do_local(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	double disp = CFG_DEFAULT_DISPERSION;
	long stratum;
	int r;

	if (ntok < 2)
		return cfg_fail(p, "'local' needs a stratum, allowed: " CFG_FORM_LOCAL);
	if (strcmp(tok[1], "stratum") != 0)
		return cfg_fail(p, "unknown local option '%s', allowed: " CFG_FORM_LOCAL,
				ntp_quote(tok[1], q, sizeof(q)));
	if (cfg_int_opt(p, "stratum", ntok > 2 ? tok[2] : NULL, 1, CFG_MAX_STRATUM, &stratum) < 0)
		return -1;
	if (ntok >= 4) {
		if (strcmp(tok[3], "dispersion") != 0)
			return cfg_fail(p, "unknown local option '%s', allowed: " CFG_FORM_LOCAL,
					ntp_quote(tok[3], q, sizeof(q)));
		if (ntok < 5)
			return cfg_fail(p, "'dispersion' needs a number of seconds, allowed 0-16");
		r = cfg_double(tok[4], 0.0, CFG_MAX_DISPERSION, &disp);
		if (r == -1)
			return cfg_fail(p,
					"bad dispersion '%s', allowed 0-16 seconds as a decimal "
					"number (e.g. 0.001 or 1e-3)",
					ntp_quote(tok[4], q, sizeof(q)));
		if (r == -2)
			return cfg_fail(p, "dispersion %s out of range, allowed 0-16 seconds",
					ntp_quote(tok[4], q, sizeof(q)));
		if (ntok > 5)
			return cfg_extra(p, tok[5], CFG_FORM_LOCAL);
	}
	if (cfg_once(p, &p->seen_local, "local") < 0)
		return -1;
	p->c->local.enabled = 1;
	p->c->local.stratum = (int)stratum;
	p->c->local.dispersion = disp;
	return 0;
}

/* Add TOK to ACL; an access-list message gets the `NAME:LINE: ` prefix. */
static int cfg_acl_add(struct cfg_parser *p, struct acl *acl, const char *tok, int allow)
{
	char msg[256];

	if (acl_add(acl, tok, allow, msg, sizeof(msg)) < 0)
		return cfg_fail(p, "%s", msg);
	return 0;
}

static int cfg_do_allow_deny(struct cfg_parser *p, char **tok, int ntok)
{
	int allow = strcmp(tok[0], "allow") == 0;
	const char *form = allow ? "allow ADDR[/PLEN]|all" : "deny ADDR[/PLEN]|all";

	if (ntok < 2)
		return cfg_fail(p, "'%s' needs an address, allowed: %s", tok[0], form);
	if (ntok > 2)
		return cfg_extra(p, tok[2], form);
	return cfg_acl_add(p, &p->c->acl, tok[1], allow);
}

#define CFG_FORM_CONTROL "control allow ADDR[/PLEN]|all | control /PATH|off"

static int cfg_do_control(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];

	if (ntok < 2)
		return cfg_fail(p, "'control' needs 'allow' and an address, allowed: %s",
				CFG_FORM_CONTROL);
	if (strcmp(tok[1], "allow") != 0 && (tok[1][0] == '/' || strcmp(tok[1], "off") == 0))
		return cfg_do_control_path(p, tok, ntok);
	if (strcmp(tok[1], "allow") != 0)
		return cfg_fail(p, "unknown control option '%s', allowed: " CFG_FORM_CONTROL,
				ntp_quote(tok[1], q, sizeof(q)));
	if (ntok < 3)
		return cfg_fail(p, "'control allow' needs an address, allowed: " CFG_FORM_CONTROL);
	if (ntok > 3)
		return cfg_extra(p, tok[3], CFG_FORM_CONTROL);
	return cfg_acl_add(p, &p->c->control_acl, tok[2], 1);
}

static int cfg_do_workers(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	long n = 0;
	int r;

	if (ntok < 2)
		return cfg_fail(p, "'workers' needs a number, allowed 1-%d or auto",
				CFG_MAX_WORKERS);
	if (ntok > 2)
		return cfg_extra(p, tok[2], "workers N|auto");
	if (strcmp(tok[1], "auto") != 0) {
		r = cfg_int(tok[1], 1, CFG_MAX_WORKERS, &n);
		if (r == -1)
			return cfg_fail(p, "bad workers '%s', allowed 1-%d or auto",
					ntp_quote(tok[1], q, sizeof(q)), CFG_MAX_WORKERS);
		if (r == -2)
			return cfg_fail(p, "workers %s out of range, allowed 1-%d or auto",
					ntp_quote(tok[1], q, sizeof(q)), CFG_MAX_WORKERS);
	}
	if (cfg_once(p, &p->seen_workers, "workers") < 0)
		return -1;
	p->c->workers = (int)n;
	return 0;
}

static int cfg_do_clientloglimit(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	long n = 0;
	int r;

	if (ntok < 2)
		return cfg_fail(p, "'clientloglimit' needs a number of bytes, allowed 0-%ld",
				CFG_MAX_CLIENTLOGLIMIT);
	if (ntok > 2)
		return cfg_extra(p, tok[2], "clientloglimit BYTES");
	r = cfg_int(tok[1], 0, CFG_MAX_CLIENTLOGLIMIT, &n);
	if (r == -1)
		return cfg_fail(p, "bad clientloglimit '%s', allowed 0-%ld",
				ntp_quote(tok[1], q, sizeof(q)), CFG_MAX_CLIENTLOGLIMIT);
	if (r == -2)
		return cfg_fail(p, "clientloglimit %s out of range, allowed 0-%ld",
				ntp_quote(tok[1], q, sizeof(q)), CFG_MAX_CLIENTLOGLIMIT);
	if (cfg_once(p, &p->seen_clientloglimit, "clientloglimit") < 0)
		return -1;
	p->c->clientloglimit = n;
	return 0;
}

static int cfg_do_io(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	enum cfg_io io;

	if (ntok < 2)
		return cfg_fail(p, "'io' needs a mode, allowed: uring mmsg auto");
	if (ntok > 2)
		return cfg_extra(p, tok[2], "io uring|mmsg|auto");
	if (strcmp(tok[1], "uring") == 0)
		io = CFG_IO_URING;
	else if (strcmp(tok[1], "mmsg") == 0)
		io = CFG_IO_MMSG;
	else if (strcmp(tok[1], "auto") == 0)
		io = CFG_IO_AUTO;
	else
		return cfg_fail(p, "unknown io mode '%s', allowed: uring mmsg auto",
				ntp_quote(tok[1], q, sizeof(q)));
	if (cfg_once(p, &p->seen_io, "io") < 0)
		return -1;
	p->c->io = io;
	return 0;
}

static int cfg_do_pidfile(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	size_t len;

	if (ntok < 2)
		return cfg_fail(p, "'pidfile' needs a path, allowed: pidfile /ABSOLUTE/PATH");
	if (ntok > 2)
		return cfg_extra(p, tok[2], "pidfile /ABSOLUTE/PATH");
	len = strlen(tok[1]);
	if (tok[1][0] != '/')
		return cfg_fail(p, "pidfile '%s' is not an absolute path, allowed: /ABSOLUTE/PATH",
				ntp_quote(tok[1], q, sizeof(q)));
	if (len >= CFG_PATH_MAX)
		return cfg_fail(p, "pidfile path of %zu bytes too long, allowed at most %d bytes",
				len, CFG_PATH_MAX - 1);
	if (cfg_once(p, &p->seen_pidfile, "pidfile") < 0)
		return -1;
	memcpy(p->c->pidfile, tok[1], len + 1);
	return 0;
}

static int cfg_do_log(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	int to_syslog;

	if (ntok < 2)
		return cfg_fail(p, "'log' needs a destination, allowed: log stderr|syslog [debug]");
	if (strcmp(tok[1], "stderr") == 0)
		to_syslog = 0;
	else if (strcmp(tok[1], "syslog") == 0)
		to_syslog = 1;
	else
		return cfg_fail(p,
				"unknown log destination '%s', allowed: log stderr|syslog [debug]",
				ntp_quote(tok[1], q, sizeof(q)));
	if (ntok >= 3 && strcmp(tok[2], "debug") != 0)
		return cfg_fail(p, "unknown log option '%s', allowed: log stderr|syslog [debug]",
				ntp_quote(tok[2], q, sizeof(q)));
	if (ntok > 3)
		return cfg_extra(p, tok[3], "log stderr|syslog [debug]");
	if (cfg_once(p, &p->seen_log, "log") < 0)
		return -1;
	p->c->log_syslog = to_syslog;
	p->c->log_debug = ntok == 3;
	return 0;
}

static int cfg_do_hwtimestamp(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	size_t len;
	int i;

	if (ntok < 2)
		return cfg_fail(p, "'hwtimestamp' needs an interface, allowed: hwtimestamp IFACE");
	if (ntok > 2)
		return cfg_extra(p, tok[2], "hwtimestamp IFACE");
	len = strlen(tok[1]);
	if (len >= CFG_IFNAME_MAX || strchr(tok[1], '/'))
		return cfg_fail(p, "bad interface name '%s', allowed: 1-%d characters, no '/'",
				ntp_quote(tok[1], q, sizeof(q)), CFG_IFNAME_MAX - 1);
	for (i = 0; i < p->c->n_hwts; i++)
		if (strcmp(p->c->hwts[i], tok[1]) == 0)
			return cfg_fail(p,
					"duplicate hwtimestamp '%s', allowed: each interface once",
					ntp_quote(tok[1], q, sizeof(q)));
	if (p->c->n_hwts >= CFG_MAX_HWTS)
		return cfg_fail(p, "too many hwtimestamp lines, allowed at most %d", CFG_MAX_HWTS);
	memcpy(p->c->hwts[p->c->n_hwts++], tok[1], len + 1);
	return 0;
}

/* Every directive, in the order the unknown-directive message lists them. */
static const struct {
	const char *name;
	int (*parse)(struct cfg_parser *p, char **tok, int ntok);
} cfg_directives[] = {
	{"listen", cfg_do_listen},
	{"local", cfg_do_local},
	{"allow", cfg_do_allow_deny},
	{"deny", cfg_do_allow_deny},
	{"control", cfg_do_control},
	{"workers", cfg_do_workers},
	{"io", cfg_do_io},
	{"pidfile", cfg_do_pidfile},
	{"log", cfg_do_log},
	{"hwtimestamp", cfg_do_hwtimestamp},
	{"server", cfg_do_server},
	{"pool", cfg_do_server},
	{"refclock", cfg_do_refclock},
	{"driver", cfg_do_driver},
	{"discipline", cfg_do_discipline},
	{"makestep", cfg_do_makestep},
	{"maxdistance", cfg_do_maxdistance},
	{"holdover", cfg_do_holdover},
	{"minsources", cfg_do_minsources},
	{"driftfile", cfg_do_driftfile},
	{"leapfile", cfg_do_leapfile},
	{"leapsectz", cfg_do_leapsectz},
	{"leapsecmode", cfg_do_leapsecmode},
	{"leapsmear", cfg_do_leapsmear},
	{"ratelimit", cfg_do_ratelimit},
	{"denykod", cfg_do_denykod},
	{"guard", cfg_do_guard},
	{"metrics", cfg_do_metrics},
	{"user", cfg_do_user},
	{"seccomp", cfg_do_seccomp},
	{"ntsservercert", cfg_do_nts},
	{"ntsserverkey", cfg_do_nts},
	{"ntsport", cfg_do_nts},
	{"ntsdumpdir", cfg_do_nts},
	{"ntsrotate", cfg_do_nts},
	{"ntsntpserver", cfg_do_nts},
	{"maxntsconnections", cfg_do_nts},
	{"ntsthreads", cfg_do_nts},
	{"keyfile", cfg_do_nts},
	{"ntstrustedcerts", cfg_do_nts},
	{"nosystemcert", cfg_do_nts},
	{"nocerttimecheck", cfg_do_nts},
	{"clientloglimit", cfg_do_clientloglimit},
};

#define CFG_N_DIRECTIVES ((int)(sizeof(cfg_directives) / sizeof(cfg_directives[0])))

/* Parse one line of LEN bytes (no newline); comments and blank lines are fine. */
static int cfg_parse_line(struct cfg_parser *p, const char *text, size_t len)
{
	char line[CFG_LINE_MAX + 1], q[CFG_QUOTE_MAX], names[CFG_NAMES_MAX];
	char *tok[CFG_MAX_TOKENS], *s;
	int ntok = 0, i;
	size_t n = 0, k;

	if (len > CFG_LINE_MAX)
		return cfg_fail(p, "line of %zu bytes too long, allowed at most %d bytes", len,
				CFG_LINE_MAX);
	memcpy(line, text, len);
	line[len] = '\0';
	if (len && line[len - 1] == '\r') /* a file written on Windows */
		line[--len] = '\0';
	/*
	 * Control characters (but tab) are refused: a name or path holding
	 * one would be written back by `horoctl config` as something else.
	 */
	for (k = 0; k < len; k++)
		if (((unsigned char)line[k] < 0x20 && line[k] != '\t') || line[k] == 0x7f)
			return cfg_fail(p,
					"control character 0x%02x at column %zu, allowed: "
					"printable text, spaces and tabs",
					(unsigned char)line[k], k + 1);

	s = line + strspn(line, " \t");
	if (*s == '!' || *s == ';')
		return 0;
	for (;;) {
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			break;
		if (ntok < CFG_MAX_TOKENS)
			tok[ntok] = s;
		ntok++;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = '\0';
	}
	if (ntok == 0)
		return 0;
	/* Directives take at most 21 tokens, so the ones not kept are always extra. */
	if (ntok > CFG_MAX_TOKENS)
		ntok = CFG_MAX_TOKENS;

	for (i = 0; i < CFG_N_DIRECTIVES; i++)
		if (strcmp(tok[0], cfg_directives[i].name) == 0)
			return cfg_directives[i].parse(p, tok, ntok);

	for (i = 0; i < CFG_N_DIRECTIVES; i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, " %s", cfg_directives[i].name);
	return cfg_fail(p, "unknown directive '%s', allowed:%s", ntp_quote(tok[0], q, sizeof(q)),
			names);
}

int cfg_parse_string(struct horod_config *c, const char *name, const char *text, char *err,
		     size_t errlen)
{
	struct cfg_parser p = {
		.c = c, .name = name ? name : "(config)", .err = err, .errlen = errlen};
	struct horod_config saved;
	struct acl acl, control_acl;
	const char *s = text ? text : "", *nl;
	size_t len;

	if (err && errlen)
		err[0] = '\0';
	saved = *c;
	while (*s) {
		p.line++;
		nl = strchr(s, '\n');
		len = nl ? (size_t)(nl - s) : strlen(s);
		if (cfg_parse_line(&p, s, len) < 0)
			goto fail;
		s += len + (nl ? 1 : 0);
	}
	if (cfg_refclock_check(&p) < 0)
		goto fail;
	return 0;

fail:
	/* Back to the state before the call; the ACL arrays may have moved, so keep them. */
	acl = c->acl;
	control_acl = c->control_acl;
	*c = saved;
	c->acl.rules = acl.rules;
	c->acl.cap = acl.cap;
	c->control_acl.rules = control_acl.rules;
	c->control_acl.cap = control_acl.cap;
	return -1;
}

int cfg_parse_file(struct horod_config *c, const char *path, char *err, size_t errlen)
{
	struct cfg_parser p = {.c = c, .name = path, .err = err, .errlen = errlen};
	char *buf, *nul;
	size_t len = 0;
	ssize_t r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto cannot_read;
	buf = malloc(CFG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		goto cannot_read;
	}
	/* Read one byte past the limit to tell a full-size file from a larger one. */
	while (len <= CFG_FILE_MAX) {
		r = read(fd, buf + len, CFG_FILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			close(fd);
			goto cannot_read;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > CFG_FILE_MAX) {
		free(buf);
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: file larger than %d bytes, allowed at most %d bytes", path,
				 CFG_FILE_MAX, CFG_FILE_MAX);
		return -1;
	}
	buf[len] = '\0';
	/* The parser sees a C string: a NUL byte would end the file early, unseen. */
	nul = memchr(buf, '\0', len);
	if (nul) {
		for (p.line = 1, len = 0; buf + len < nul; len++)
			p.line += buf[len] == '\n';
		free(buf);
		return cfg_fail(&p, "NUL byte in the line, allowed: text only");
	}
	ret = cfg_parse_string(c, path, buf, err, errlen);
	free(buf);
	return ret;

cannot_read:
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	return -1;
}

void cfg_defaults(struct horod_config *c)
{
	memset(c, 0, sizeof(*c));
	c->local.enabled = 0;
	c->local.stratum = CFG_DEFAULT_STRATUM;
	c->local.dispersion = CFG_DEFAULT_DISPERSION;
	acl_init(&c->acl);
	acl_init(&c->control_acl);
	c->workers = 0;
	c->clientloglimit = CFG_DEFAULT_CLIENTLOGLIMIT;
	c->io = CFG_IO_AUTO;
	c->pidfile[0] = '\0';
	c->log_syslog = 0;
	c->log_debug = 0;
	c->default_port = CFG_DEFAULT_PORT;
	cfg_clock_defaults(&c->clk);
	cfg_leap_defaults(&c->leap);
	cfg_guard_defaults(&c->rl, &c->guard);
	cfg_control_defaults(&c->control);
	cfg_security_defaults(&c->sec);
	cfg_nts_defaults(&c->nts);
}

void cfg_free(struct horod_config *c)
{
	acl_free(&c->acl);
	acl_free(&c->control_acl);
}

int cfg_listen_port(const struct horod_config *c, const struct cfg_listen *l)
{
	return l->port ? l->port : c->default_port;
}

void cfg_control_resolve(struct horod_config *c, uid_t euid, const char *xdg,
			 const struct stat *xdg_st)
{
	char path[CTL_SOCK_PATH_MAX];

	if (!c->control.path_default || euid == 0)
		return;
	if (ctl_sock_default(path, sizeof(path), euid, xdg, xdg_st) < 0)
		return; /* cannot happen: the /tmp fallback always fits */
	snprintf(c->control.path, sizeof(c->control.path), "%s", path);
	c->control.path_private = 1;
}

/* RULE as ADDR/PLEN into OUT (at least INET6_ADDRSTRLEN + 4 bytes). */
static const char *cfg_cidr(const struct acl_rule *r, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(r->family == AF_INET ? AF_INET : AF_INET6, r->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(out, outlen, "%s/%u", a, r->plen);
	return out;
}

size_t cfg_format(const struct horod_config *c, char *buf, size_t len)
{
	static const char *const io_names[] = {"auto", "uring", "mmsg"};
	struct ntp_text o;
	const struct sockaddr_in6 *sin6;
	const struct sockaddr_in *sin;
	char a[INET6_ADDRSTRLEN + 8];
	int i;

	ntp_text_init(&o, buf, len);
	ntp_textf(&o, "# horod effective configuration\n");

	if (c->n_listen == 0)
		ntp_textf(&o, "# listen: none\n");
	for (i = 0; i < c->n_listen; i++) {
		const struct cfg_listen *l = &c->listen[i];

		sin = (const struct sockaddr_in *)&l->addr;
		sin6 = (const struct sockaddr_in6 *)&l->addr;
		if (l->addr.ss_family == AF_INET)
			inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		else if (l->addr.ss_family != AF_INET6 ||
			 !inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
		if (l->port)
			ntp_textf(&o, "listen %s port %d\n", a, l->port);
		else
			ntp_textf(&o, "listen %s\n", a);
	}
	ntp_textf(&o, "# port of listen lines without one: %d\n", c->default_port);

	if (c->local.enabled)
		ntp_textf(&o, "local stratum %d dispersion %s\n", c->local.stratum,
			  ntp_shortest(c->local.dispersion, a, sizeof(a)));
	else
		ntp_textf(&o, "# local: not configured\n");

	if (c->acl.n == 0)
		ntp_textf(&o, "# allow/deny: no rules, every source is allowed\n");
	for (i = 0; i < c->acl.n; i++)
		ntp_textf(&o, "%s %s\n", c->acl.rules[i].allow ? "allow" : "deny",
			  cfg_cidr(&c->acl.rules[i], a, sizeof(a)));

	ntp_textf(&o, "# control: loopback is always allowed\n");
	for (i = 0; i < c->control_acl.n; i++) {
		/* The file can only allow; a deny rule set by a program is shown, commented. */
		ntp_textf(&o, "%s %s\n",
			  c->control_acl.rules[i].allow ? "control allow" : "# control deny",
			  cfg_cidr(&c->control_acl.rules[i], a, sizeof(a)));
	}

	if (c->workers > 0)
		ntp_textf(&o, "workers %d\n", c->workers);
	else
		ntp_textf(&o, "workers auto\n");
	ntp_textf(&o, "io %s\n",
		  (unsigned int)c->io < sizeof(io_names) / sizeof(io_names[0]) ? io_names[c->io]
									       : "auto");
	if (c->pidfile[0])
		ntp_textf(&o, "pidfile %s\n", c->pidfile);
	else
		ntp_textf(&o, "# pidfile: none\n");
	ntp_textf(&o, "log %s%s\n", c->log_syslog ? "syslog" : "stderr",
		  c->log_debug ? " debug" : "");
	cfg_clock_format(&c->clk, &o);
	cfg_refclock_format(&c->clk, &o);
	cfg_leap_format(&c->leap, &o);
	if (c->n_hwts == 0)
		ntp_textf(&o, "# hwtimestamp: none (kernel software receive timestamps)\n");
	for (i = 0; i < c->n_hwts; i++)
		ntp_textf(&o, "hwtimestamp %s\n", c->hwts[i]);
	cfg_guard_format(&c->rl, &c->guard, &o);
	cfg_control_format(&c->control, &o);
	cfg_security_format(&c->sec, &o);
	cfg_nts_format(&c->nts, &o);
	ntp_textf(&o, "clientloglimit %ld\n", c->clientloglimit);
	return o.len;
}
