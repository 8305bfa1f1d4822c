/*
 * The security directives of the configuration: `user NAME` (the account
 * horod switches to once everything that needs root is done; see
 * daemon/sys/sandbox.h) and `seccomp 0|1|2` (no system call filter, a filter
 * that kills the process on a call outside its list, or one that fails
 * such a call with EPERM). The user is looked up when the file is parsed,
 * so an unknown account is a configuration error on its line and nothing
 * starts. Same rules as the other directives: every value checked, every
 * error `NAME:LINE: what, allowed ...`; cfg_security_format writes them
 * back in a form the parser reads to the same result.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config/cfg_security.h"

#define CFG_FORM_USER	 "user NAME (an account in the password database)"
#define CFG_FORM_SECCOMP "seccomp 0|1|2 (off, kill on a call outside the list, fail it with EPERM)"
#define CFG_PWBUF_MAX	 65536 /* bytes: getpwnam_r's string buffer, far above any real entry */
/* The characters of an account name: POSIX's portable set (useradd is stricter still). */
#define CFG_USER_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-$"

void cfg_security_defaults(struct cfg_security *s)
{
	s->user[0] = '\0';
	s->uid = 0;
	s->gid = 0;
	s->seccomp = 0;
}

/* Look NAME up in the password database: 0 with its uid and gid, or -1 with errno (0: none). */
static int cfg_lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t len = hint > 0 && hint < CFG_PWBUF_MAX ? (size_t)hint : 1024;
	char *buf;
	int r;

	for (;;) {
		buf = malloc(len);
		if (!buf)
			return -1;
		r = getpwnam_r(name, &pw, buf, len, &res);
		if (r != ERANGE || len >= CFG_PWBUF_MAX)
			break;
		free(buf);
		len *= 2;
	}
	if (r == 0 && res) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(buf);
	if (r == 0 && res)
		return 0;
	/* Not found is 0 with no entry, or one of these from some NSS modules (getpwnam(3)). */
	errno = r == ENOENT || r == ESRCH || r == EBADF || r == EPERM ? 0 : r;
	return -1;
}

int cfg_do_user(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	size_t n;
	uid_t uid;
	gid_t gid;

	if (ntok < 2)
		return cfg_fail(p, "'user' needs an account name, allowed: " CFG_FORM_USER);
	if (ntok > 2)
		return cfg_extra(p, tok[2], CFG_FORM_USER);
	n = strlen(tok[1]);
	if (n >= CFG_USER_MAX || strspn(tok[1], CFG_USER_CHARS) != n || tok[1][0] == '-')
		return cfg_fail(p,
				"bad user name '%s', allowed: 1-%d letters, digits, '.', '_', '-' "
				"(not first) or '$'",
				ntp_quote(tok[1], q, sizeof(q)), CFG_USER_MAX - 1);
	if (cfg_once(p, &p->seen_user, "user") < 0)
		return -1;
	if (cfg_lookup_user(tok[1], &uid, &gid) < 0) {
		if (errno)
			return cfg_fail(p, "cannot look up user '%s': %s, allowed: " CFG_FORM_USER,
					ntp_quote(tok[1], q, sizeof(q)), strerror(errno));
		return cfg_fail(p, "unknown user '%s', allowed: " CFG_FORM_USER,
				ntp_quote(tok[1], q, sizeof(q)));
	}
	memcpy(p->c->sec.user, tok[1], n + 1);
	p->c->sec.uid = uid;
	p->c->sec.gid = gid;
	return 0;
}

int cfg_do_seccomp(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	long level;

	if (ntok < 2)
		return cfg_fail(p, "'seccomp' needs a level, allowed: " CFG_FORM_SECCOMP);
	if (ntok > 2)
		return cfg_extra(p, tok[2], CFG_FORM_SECCOMP);
	if (cfg_int(tok[1], 0, 2, &level) < 0)
		return cfg_fail(p, "bad seccomp level '%s', allowed: " CFG_FORM_SECCOMP,
				ntp_quote(tok[1], q, sizeof(q)));
	if (cfg_once(p, &p->seen_seccomp, "seccomp") < 0)
		return -1;
	p->c->sec.seccomp = (int)level;
	return 0;
}

void cfg_security_format(const struct cfg_security *s, struct ntp_text *out)
{
	if (s->user[0])
		ntp_textf(out, "user %s\n", s->user);
	else
		ntp_textf(out, "# user: none (horod keeps running as root)\n");
	ntp_textf(out, "seccomp %d\n", s->seccomp);
}
