/*
 * SIGHUP (see reload.h). The two configurations are compared through
 * their canonical text (cfg_format, as `horoctl config` prints it): the
 * lines of the reloadable directives are set aside, and any other line
 * that differs is what a reload cannot apply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/serve/reload.h"
#include "daemon/serve/xguard.h"
#include "daemon/sys/log.h"

#define RL_TEXT_MAX                                                                                \
	65536		 /* bytes of a configuration's canonical text: 16 listen, 32 servers...    \
			  */
#define RL_NAMES_MAX 512 /* bytes of the list of directives not applied, in the log line */
#define RL_WHY_MAX   256 /* bytes of the reason a step failed */

/* 1 when canonical line LINE is one of a directive a reload applies. */
static int reloadable(const char *line)
{
	static const char *const pre[] = {
		"allow ",     "deny ",	     "# allow/deny", "control allow ",
		"ratelimit ", "# ratelimit", "denykod ",     "# control: loopback"};
	size_t i;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (strncmp(line, pre[i], strlen(pre[i])) == 0)
			return 1;
	return 0;
}

/* 1 when TEXT (canonical lines) has the line LINE (LEN bytes). */
static int has_line(const char *text, const char *line, size_t len)
{
	const char *p = text, *nl;

	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if ((size_t)(nl - p) == len && memcmp(p, line, len) == 0)
			return 1;
		if (!*nl)
			break;
	}
	return 0;
}

/*
 * The first word of every non-reloadable line of A that B lacks, then of
 * B that A lacks, into OUT (no repeats); 1 when anything differs.
 */
static int differences(const char *a, const char *b, char *out, size_t outlen)
{
	const char *texts[2] = {a, b}, *p, *nl;
	char word[64];
	size_t wl, n = 0;
	int t, any = 0;

	out[0] = '\0';
	for (t = 0; t < 2; t++) {
		for (p = texts[t]; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl)
				nl = p + strlen(p);
			if (nl > p && !reloadable(p) && !has_line(texts[!t], p, (size_t)(nl - p))) {
				any = 1;
				p += *p == '#' ? 2
					       : 0; /* "# server/pool: none" names server/pool */
				wl = strcspn(p, " :\n");
				if (wl >= sizeof(word))
					wl = sizeof(word) - 1;
				memcpy(word, p, wl);
				word[wl] = '\0';
				if (wl && !strstr(out, word) && n + wl + 3 < outlen)
					n += (size_t)snprintf(out + n, outlen - n, "%s%s",
							      n ? ", " : "", word);
			}
			if (!*nl)
				break;
		}
	}
	return any;
}

/* Every socket of the N workers W gets BYTES of receive buffer. */
static void rcvbuf_all(struct worker *w, int n, int bytes)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < w[i].n_socks; j++)
			rx_socket_rcvbuf(w[i].socks[j].fd, bytes);
}

/* Move NEXT's reloadable settings into LIVE (what `horoctl config` shows from now on). */
static void take_reloadable(struct horod_config *live, struct horod_config *next)
{
	struct acl t;

	t = live->acl;
	live->acl = next->acl;
	next->acl = t;
	t = live->control_acl;
	live->control_acl = next->control_acl;
	next->control_acl = t;
	live->rl.enabled = next->rl.enabled;
	live->rl.interval = next->rl.interval;
	live->rl.burst = next->rl.burst;
	live->rl.leak = next->rl.leak;
	live->rl.kod = next->rl.kod;
	live->rl.deny_kod = next->rl.deny_kod;
}

int srv_reload(struct horod_config *live, const char *path, struct srv_shared *sh, struct worker *w,
	       int n)
{
	char err[CFG_ERR_MAX], why[RL_WHY_MAX], names[RL_NAMES_MAX];
	char *ta = NULL, *tb = NULL, *tc = NULL;
	struct horod_config *next = calloc(1, sizeof(*next));
	int ret = -1, r, loads;

	if (!next) {
		log_msg(LOG_ERR, "SIGHUP: out of memory: nothing reloaded");
		return -1;
	}
	cfg_defaults(next);
	if (path ? cfg_parse_file(next, path, err, sizeof(err)) < 0
		 : cfg_parse_string(next, "(embedded)", cfg_embedded_default, err, sizeof(err)) <
			    0) {
		log_msg(LOG_ERR, "SIGHUP: %s: nothing reloaded", err);
		goto out;
	}
	/* What the command line and the start-up decided stays as it was. */
	next->default_port = live->default_port;
	if (next->control.path_default && live->control.path_default) {
		memcpy(next->control.path, live->control.path, sizeof(next->control.path));
		next->control.path_private = live->control.path_private;
	}
	ta = malloc(RL_TEXT_MAX);
	tb = malloc(RL_TEXT_MAX);
	tc = malloc(RL_TEXT_MAX);
	if (!ta || !tb || !tc) {
		log_msg(LOG_ERR, "SIGHUP: out of memory: nothing reloaded");
		goto out;
	}
	cfg_format(live, ta, RL_TEXT_MAX);
	cfg_format(next, tb, RL_TEXT_MAX);
	if (strcmp(ta, tb) == 0) {
		log_msg(LOG_NOTICE, "SIGHUP: %s unchanged: nothing to reload",
			path ? path : "(embedded)");
		ret = 0;
		goto out;
	}
	differences(ta, tb, names, sizeof(names));
	/* The sandbox in force is the one horod started with (`user`, `seccomp` take a restart). */
	next->sec = live->sec;
	/* A new guard's load may stall a CPU: room in the sockets meanwhile (root's force only). */
	loads = next->guard.n_ifs > 0 && !live->sec.user[0] && !live->sec.seccomp;
	if (loads)
		rcvbuf_all(w, n, RX_RCVBUF_LOAD_BYTES);
	r = xg_reload(next, sh, w, n, why, sizeof(why));
	if (loads)
		rcvbuf_all(w, n, RX_RCVBUF_BYTES);
	if (r < 0) {
		log_msg(LOG_ERR, "SIGHUP: %s: nothing reloaded", why);
		goto out;
	}
	take_reloadable(live, next);
	cfg_format(live, tc, RL_TEXT_MAX);
	log_msg(LOG_NOTICE,
		"SIGHUP: %s reloaded: access lists, rate limit and denykod applied%s%s%s",
		path ? path : "(embedded)", names[0] ? "; not applied (they take a restart): " : "",
		names, strcmp(ta, tc) == 0 ? " (they had not changed)" : "");
	ret = 1;
out:
	free(ta);
	free(tb);
	free(tc);
	cfg_free(next);
	free(next);
	return ret;
}
