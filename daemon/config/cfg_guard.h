/*
 * The rate-limit and XDP guard directives of the configuration
 * (cfg_guard.c): `ratelimit`, `denykod` and `guard`; their defaults and
 * their form in the effective configuration.
 */
#ifndef HOROD_DAEMON_CONFIG_CFG_GUARD_H
#define HOROD_DAEMON_CONFIG_CFG_GUARD_H

#include "daemon/config/parse.h"
#include "daemon/config/settings.h"
#include "proto/appendf.h"

/* `ratelimit [interval I] [burst B] [leak L] [kod]`. */
int cfg_do_ratelimit(struct cfg_parser *p, char **tok, int ntok);

/* `denykod on|off`. */
int cfg_do_denykod(struct cfg_parser *p, char **tok, int ntok);

/* `guard interface IFACE [mode M] | guard pin /DIR | guard serve on|off`. */
int cfg_do_guard(struct cfg_parser *p, char **tok, int ntok);

/* Rate-limit and guard defaults into RL and G. */
void cfg_guard_defaults(struct cfg_ratelimit *rl, struct cfg_guard *g);

/* Append the rate-limit and guard directives of RL and G to OUT. */
void cfg_guard_format(const struct cfg_ratelimit *rl, const struct cfg_guard *g,
		      struct ntp_text *out);

#endif
