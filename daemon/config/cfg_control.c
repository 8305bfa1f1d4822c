/*
 * The control-plane directives of the configuration: `control /PATH`
 * (the Unix socket horoctl talks to; `control off` for none) and
 * `metrics listen ADDR:PORT [public]` (the HTTP endpoint that serves
 * GET /metrics). The endpoint must be a loopback address unless `public`
 * says the operator means otherwise: metrics describe the server and its
 * clients, and are not for the whole network by accident. Same rules as
 * the other directives: every value checked, every error
 * `NAME:LINE: what, allowed ...`; cfg_control_format writes them back.
 * Without a `control` line the socket is root's /run/horod/horod.sock, or
 * for anyone else one in a directory of their own (cfg_control_resolve
 * of config.c sets it once the user is known), the same path horoctl
 * looks at without -s.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "daemon/config/cfg_control.h"
#include "proto/ctlproto.h" /* CTL_SOCK_ROOT */

#define CFG_FORM_CONTROL_PATH "control /PATH | control off"
#define CFG_FORM_METRICS      "metrics listen ADDR:PORT [public] (IPv6: [ADDR]:PORT)"
/* bytes of a socket path: sun_path holds 108 including the NUL */
#define CFG_SUN_PATH_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path))

void cfg_control_defaults(struct cfg_control *c)
{
	snprintf(c->path, sizeof(c->path), "%s", CTL_SOCK_ROOT);
	c->path_default = 1;
	c->path_private = 0;
	c->metrics_enabled = 0;
	memset(&c->metrics_addr, 0, sizeof(c->metrics_addr));
	c->metrics_addrlen = 0;
	c->metrics_public = 0;
}

int cfg_do_control_path(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	size_t n = strlen(tok[1]);

	if (cfg_once(p, &p->seen_control_path, "control PATH") < 0)
		return -1;
	if (ntok > 2)
		return cfg_extra(p, tok[2], CFG_FORM_CONTROL_PATH);
	p->c->control.path_default = 0;
	if (strcmp(tok[1], "off") == 0) {
		p->c->control.path[0] = '\0';
		return 0;
	}
	if (n >= (size_t)CFG_SUN_PATH_MAX || n < 2 || tok[1][n - 1] == '/')
		return cfg_fail(p,
				"bad control socket path '%s', allowed: an absolute file path of "
				"at most %d bytes",
				ntp_quote(tok[1], q, sizeof(q)), CFG_SUN_PATH_MAX - 1);
	snprintf(p->c->control.path, sizeof(p->c->control.path), "%s", tok[1]);
	return 0;
}

/* 1 when SS is a loopback address (127/8 or ::1, or ::ffff:127.x). */
static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	{
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
}

int cfg_do_metrics(struct cfg_parser *p, char **tok, int ntok)
{
	struct cfg_control *c = &p->c->control;
	struct sockaddr_storage ss;
	char q[CFG_QUOTE_MAX], host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = tok[1];
	size_t hl;
	long port;

	if (cfg_once(p, &p->seen_metrics, "metrics") < 0)
		return -1;
	if (ntok < 3 || strcmp(tok[1], "listen") != 0)
		return cfg_fail(p, "'metrics' needs 'listen ADDR:PORT', allowed: %s",
				CFG_FORM_METRICS);
	if (ntok > 4 || (ntok == 4 && strcmp(tok[3], "public") != 0))
		return cfg_extra(p, tok[ntok == 4 ? 3 : 4], CFG_FORM_METRICS);
	h = tok[2];
	colon = strrchr(h, ':');
	if (!colon)
		return cfg_fail(p, "'%s' has no port, allowed: %s", ntp_quote(h, q, sizeof(q)),
				CFG_FORM_METRICS);
	hl = (size_t)(colon - h);
	if (h[0] == '[') {
		if (hl < 3 || h[hl - 1] != ']')
			return cfg_fail(p, "bad metrics address '%s', allowed: %s",
					ntp_quote(h, q, sizeof(q)), CFG_FORM_METRICS);
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return cfg_fail(p, "bad metrics address '%s', allowed: %s",
				ntp_quote(tok[2], q, sizeof(q)), CFG_FORM_METRICS);
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (cfg_int(colon + 1, 1, 65535, &port) < 0)
		return cfg_fail(p, "bad metrics port '%s', allowed 1-65535",
				ntp_quote(colon + 1, q, sizeof(q)));
	memset(&ss, 0, sizeof(ss));
	if (tok[2][0] != '[' &&
	    inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		c->metrics_addrlen = sizeof(struct sockaddr_in);
	} else if (tok[2][0] == '[' &&
		   inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		c->metrics_addrlen = sizeof(struct sockaddr_in6);
	} else {
		return cfg_fail(p, "bad metrics address '%s', allowed: %s",
				ntp_quote(tok[2], q, sizeof(q)), CFG_FORM_METRICS);
	}
	c->metrics_public = ntok == 4;
	if (!is_loopback(&ss) && !c->metrics_public)
		return cfg_fail(p,
				"metrics address '%s' is not loopback, allowed: a loopback "
				"address, or add 'public' to serve metrics beyond this host",
				ntp_quote(host, q, sizeof(q)));
	c->metrics_addr = ss;
	c->metrics_enabled = 1;
	return 0;
}

void cfg_control_format(const struct cfg_control *c, struct ntp_text *out)
{
	char a[INET6_ADDRSTRLEN] = "?";

	ntp_textf(out, "control %s\n", c->path[0] ? c->path : "off");
	if (!c->metrics_enabled) {
		ntp_textf(out, "# metrics: off\n");
		return;
	}
	if (c->metrics_addr.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&c->metrics_addr;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		ntp_textf(out, "metrics listen %s:%u", a, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&c->metrics_addr;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		ntp_textf(out, "metrics listen [%s]:%u", a, ntohs(s->sin6_port));
	}
	ntp_textf(out, "%s\n", c->metrics_public ? " public" : "");
}
