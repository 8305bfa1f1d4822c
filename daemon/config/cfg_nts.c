/*
 * The authentication directives of the configuration, chrony's names and
 * meanings: the NTS server (`ntsservercert`, `ntsserverkey`, `ntsport`,
 * `ntsdumpdir`, `ntsrotate`, `ntsntpserver`, `maxntsconnections`,
 * `ntsthreads`) and
 * the symmetric keys (`keyfile`), and the NTS client's trust
 * (`ntstrustedcerts`, `nosystemcert`, `nocerttimecheck`; `server HOST
 * nts` and `key ID` are options of the server line, cfg_clock.c). Files
 * are only named here; they are read, and their permissions checked,
 * when horod starts (daemon/auth/), not by `--check-config`, which checks
 * the text alone. Same rules as the other
 * directives: every value checked, every error `NAME:LINE: what,
 * allowed ...`; cfg_nts_format writes them back.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/config/cfg_nts.h"
#include "daemon/config/config.h"
#include "proto/ntske.h"

#define CFG_NTS_ROTATE	    604800L	/* s: a week, chrony's default key rotation */
#define CFG_NTS_ROTATE_MAX  2147483647L /* s: 2^31-1 (68 years), chrony's limit */
#define CFG_NTS_MAXCONN	    100		/* NTS-KE connections at once (chrony's default) */
#define CFG_NTS_MAXCONN_MAX 1000	/* connections: each holds a TLS session (~30 KiB) */
#define CFG_NTS_THREADS_MAX 16 /* NTS-KE threads: KES_THREADS_MAX, past any CPU count we run on */
#define CFG_MAX_PORT	    65535	/* highest TCP port */
#define CFG_NTS_NOCERT_MAX  2147483647L /* clock updates: chrony's limit (an int) */

void cfg_nts_defaults(struct cfg_nts *n)
{
	memset(n, 0, sizeof(*n));
	n->port = NKE_PORT;
	n->rotate = CFG_NTS_ROTATE;
	n->max_conn = CFG_NTS_MAXCONN;
}

/* TOK as an absolute path of fewer than CFG_PATH_MAX - 16 bytes (room for a temporary suffix). */
static int cfg_path(struct cfg_parser *p, const char *what, char **tok, int ntok, char *out)
{
	char q[CFG_QUOTE_MAX];
	size_t len;

	if (ntok < 2)
		return cfg_fail(p, "'%s' needs a path, allowed: %s /ABSOLUTE/PATH", what, what);
	if (ntok > 2)
		return cfg_fail(p, "extra argument '%s', allowed: %s /ABSOLUTE/PATH",
				ntp_quote(tok[2], q, sizeof(q)), what);
	len = strlen(tok[1]);
	if (tok[1][0] != '/')
		return cfg_fail(p, "%s '%s' is not an absolute path, allowed: /ABSOLUTE/PATH", what,
				ntp_quote(tok[1], q, sizeof(q)));
	if (len + 16 >= CFG_PATH_MAX)
		return cfg_fail(p, "%s path of %zu bytes too long, allowed at most %d bytes", what,
				len, CFG_PATH_MAX - 17);
	memcpy(out, tok[1], len + 1);
	return 0;
}

/* TOK[1] as an integer in MIN..MAX for directive WHAT (one value, no more). */
static int cfg_nts_int(struct cfg_parser *p, const char *what, char **tok, int ntok, long min,
		       long max, long *out)
{
	char q[CFG_QUOTE_MAX];
	int r;

	if (ntok < 2)
		return cfg_fail(p, "'%s' needs a number, allowed %ld-%ld", what, min, max);
	if (ntok > 2)
		return cfg_fail(p, "extra argument '%s', allowed: %s N (%ld-%ld)",
				ntp_quote(tok[2], q, sizeof(q)), what, min, max);
	r = cfg_int(tok[1], min, max, out);
	if (r == -1)
		return cfg_fail(p, "bad %s '%s', allowed %ld-%ld", what,
				ntp_quote(tok[1], q, sizeof(q)), min, max);
	if (r == -2)
		return cfg_fail(p, "%s %s out of range, allowed %ld-%ld", what,
				ntp_quote(tok[1], q, sizeof(q)), min, max);
	return 0;
}

int cfg_do_nts(struct cfg_parser *p, char **tok, int ntok)
{
	struct cfg_nts *n = &p->c->nts;
	char q[CFG_QUOTE_MAX];
	long v;

	if (strcmp(tok[0], "ntsservercert") == 0) {
		if (cfg_path(p, tok[0], tok, ntok, n->cert) < 0 ||
		    cfg_once(p, &p->seen_nts[0], tok[0]) < 0)
			return -1;
	} else if (strcmp(tok[0], "ntsserverkey") == 0) {
		if (cfg_path(p, tok[0], tok, ntok, n->key) < 0 ||
		    cfg_once(p, &p->seen_nts[1], tok[0]) < 0)
			return -1;
	} else if (strcmp(tok[0], "ntsdumpdir") == 0) {
		if (cfg_path(p, tok[0], tok, ntok, n->dumpdir) < 0 ||
		    cfg_once(p, &p->seen_nts[2], tok[0]) < 0)
			return -1;
	} else if (strcmp(tok[0], "keyfile") == 0) {
		if (cfg_path(p, tok[0], tok, ntok, n->keyfile) < 0 ||
		    cfg_once(p, &p->seen_nts[3], tok[0]) < 0)
			return -1;
	} else if (strcmp(tok[0], "ntstrustedcerts") == 0) {
		if (cfg_path(p, tok[0], tok, ntok, n->trusted_certs) < 0 ||
		    cfg_once(p, &p->seen_nts[8], tok[0]) < 0)
			return -1;
	} else if (strcmp(tok[0], "nosystemcert") == 0) {
		if (ntok > 1)
			return cfg_extra(p, tok[1], "nosystemcert");
		if (cfg_once(p, &p->seen_nts[9], tok[0]) < 0)
			return -1;
		n->no_system_cert = 1;
	} else if (strcmp(tok[0], "nocerttimecheck") == 0) {
		if (cfg_nts_int(p, tok[0], tok, ntok, 0, CFG_NTS_NOCERT_MAX, &v) < 0 ||
		    cfg_once(p, &p->seen_nts[10], tok[0]) < 0)
			return -1;
		n->no_cert_time_check = v;
	} else if (strcmp(tok[0], "ntsport") == 0) {
		if (cfg_nts_int(p, tok[0], tok, ntok, 1, CFG_MAX_PORT, &v) < 0 ||
		    cfg_once(p, &p->seen_nts[4], tok[0]) < 0)
			return -1;
		n->port = (int)v;
	} else if (strcmp(tok[0], "ntsrotate") == 0) {
		if (cfg_nts_int(p, tok[0], tok, ntok, 0, CFG_NTS_ROTATE_MAX, &v) < 0 ||
		    cfg_once(p, &p->seen_nts[5], tok[0]) < 0)
			return -1;
		n->rotate = v;
	} else if (strcmp(tok[0], "maxntsconnections") == 0) {
		if (cfg_nts_int(p, tok[0], tok, ntok, 1, CFG_NTS_MAXCONN_MAX, &v) < 0 ||
		    cfg_once(p, &p->seen_nts[6], tok[0]) < 0)
			return -1;
		n->max_conn = (int)v;
	} else if (strcmp(tok[0], "ntsthreads") == 0) {
		if (cfg_nts_int(p, tok[0], tok, ntok, 0, CFG_NTS_THREADS_MAX, &v) < 0 ||
		    cfg_once(p, &p->seen_nts[11], tok[0]) < 0)
			return -1;
		n->threads = (int)v;
	} else {
		/* ntsntpserver NAME: handed to clients as it is, so it must be one plain name. */
		size_t len;

		if (ntok < 2)
			return cfg_fail(p, "'ntsntpserver' needs a host, allowed: ntsntpserver "
					   "NAME|ADDRESS");
		if (ntok > 2)
			return cfg_extra(p, tok[2], "ntsntpserver NAME|ADDRESS");
		len = strlen(tok[1]);
		if (len > NKE_SERVER_MAX || len >= CFG_HOST_MAX ||
		    strspn(tok[1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789.-:") != len)
			return cfg_fail(p,
					"bad ntsntpserver '%s', allowed: a host name or address of "
					"1-%d letters, digits, '.', '-', ':'",
					ntp_quote(tok[1], q, sizeof(q)), NKE_SERVER_MAX);
		if (cfg_once(p, &p->seen_nts[7], tok[0]) < 0)
			return -1;
		memcpy(n->ntp_server, tok[1], len + 1);
	}
	return 0;
}

void cfg_nts_format(const struct cfg_nts *n, struct ntp_text *out)
{
	if (n->cert[0] || n->key[0]) {
		/* Each only when given: an empty one would not parse back (the pair's
		 * check, cfg_nts_check, comes after the parse). */
		if (n->cert[0])
			ntp_textf(out, "ntsservercert %s\n", n->cert);
		if (n->key[0])
			ntp_textf(out, "ntsserverkey %s\n", n->key);
		ntp_textf(out, "ntsport %d\n", n->port);
		if (n->dumpdir[0])
			ntp_textf(out, "ntsdumpdir %s\n", n->dumpdir);
		else
			ntp_textf(out, "# ntsdumpdir: none (server keys are not kept across "
				       "restarts)\n");
		ntp_textf(out, "ntsrotate %ld\n", n->rotate);
		if (n->ntp_server[0])
			ntp_textf(out, "ntsntpserver %s\n", n->ntp_server);
		ntp_textf(out, "maxntsconnections %d\n", n->max_conn);
		ntp_textf(out, "ntsthreads %d\n", n->threads);
	} else {
		ntp_textf(out, "# NTS server: off (no ntsservercert)\n");
	}
	if (n->keyfile[0])
		ntp_textf(out, "keyfile %s\n", n->keyfile);
	else
		ntp_textf(out, "# keyfile: none\n");
	if (n->trusted_certs[0])
		ntp_textf(out, "ntstrustedcerts %s\n", n->trusted_certs);
	if (n->no_system_cert)
		ntp_textf(out, "nosystemcert\n");
	if (n->no_cert_time_check)
		ntp_textf(out, "nocerttimecheck %ld\n", n->no_cert_time_check);
}

int cfg_nts_check(const struct horod_config *c, char *err, size_t errlen)
{
	const struct cfg_nts *n = &c->nts;
	int i, nts_client = 0;

	for (i = 0; i < c->clk.n_servers; i++) {
		const struct cfg_server *s = &c->clk.servers[i];

		nts_client |= s->nts;
		if (s->key && !n->keyfile[0]) {
			snprintf(err, errlen,
				 "server %s key %u without a keyfile, allowed: key ID with "
				 "keyfile PATH holding that key",
				 s->host, (unsigned)s->key);
			return -1;
		}
	}
	if (!nts_client && (n->trusted_certs[0] || n->no_system_cert || n->no_cert_time_check)) {
		snprintf(err, errlen,
			 "%s given without a server line with nts: it serves no purpose, allowed "
			 "only with an NTS client (server HOST nts)",
			 n->trusted_certs[0] ? "ntstrustedcerts"
			 : n->no_system_cert ? "nosystemcert"
					     : "nocerttimecheck");
		return -1;
	}
	if (n->no_system_cert && !n->trusted_certs[0]) {
		snprintf(err, errlen,
			 "nosystemcert without ntstrustedcerts: no certificate would be trusted, "
			 "allowed: nosystemcert with ntstrustedcerts FILE");
		return -1;
	}

	if (!n->cert[0] != !n->key[0]) {
		snprintf(err, errlen,
			 "%s without %s: an NTS server needs both a certificate and its key",
			 n->cert[0] ? "ntsservercert" : "ntsserverkey",
			 n->cert[0] ? "ntsserverkey" : "ntsservercert");
		return -1;
	}
	if (!n->cert[0] && (n->dumpdir[0] || n->ntp_server[0])) {
		snprintf(err, errlen,
			 "%s given without ntsservercert and ntsserverkey: it serves no purpose, "
			 "allowed only with an NTS server",
			 n->dumpdir[0] ? "ntsdumpdir" : "ntsntpserver");
		return -1;
	}
	if (n->cert[0] && n->rotate == 0 && !n->dumpdir[0]) {
		snprintf(err, errlen,
			 "ntsrotate 0 (keys managed outside horod) needs ntsdumpdir, where the "
			 "key file is read from");
		return -1;
	}
	return 0;
}
