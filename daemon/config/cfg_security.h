/*
 * The security directives of the configuration (cfg_security.c): `user
 * NAME` and `seccomp 0|1|2`; their defaults and their form in the
 * effective configuration.
 */
#ifndef HOROD_DAEMON_CONFIG_CFG_SECURITY_H
#define HOROD_DAEMON_CONFIG_CFG_SECURITY_H

#include "daemon/config/parse.h"
#include "daemon/config/settings.h"
#include "proto/appendf.h"

/* `user NAME`: looked up now, so an unknown account is an error on its line. */
int cfg_do_user(struct cfg_parser *p, char **tok, int ntok);

/* `seccomp 0|1|2`. */
int cfg_do_seccomp(struct cfg_parser *p, char **tok, int ntok);

/* Security defaults into S: no user (stay root), seccomp 0. */
void cfg_security_defaults(struct cfg_security *s);

/* Append the user and seccomp directives of S to OUT. */
void cfg_security_format(const struct cfg_security *s, struct ntp_text *out);

#endif
