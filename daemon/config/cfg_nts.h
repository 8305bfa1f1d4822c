/*
 * The NTS and symmetric-key directives of the configuration (cfg_nts.c):
 * `ntsservercert`, `ntsserverkey`, `ntsport`, `ntsdumpdir`, `ntsrotate`,
 * `ntsntpserver`, `maxntsconnections`, `keyfile`, and the NTS client's
 * `ntstrustedcerts`, `nosystemcert`, `nocerttimecheck`; their defaults
 * and their form in the effective configuration.
 */
#ifndef HOROD_DAEMON_CONFIG_CFG_NTS_H
#define HOROD_DAEMON_CONFIG_CFG_NTS_H

#include "daemon/config/parse.h"
#include "daemon/config/settings.h"
#include "proto/appendf.h"

/* Any of the NTS directives (TOK[0] says which) or `keyfile`. */
int cfg_do_nts(struct cfg_parser *p, char **tok, int ntok);

/* NTS defaults into N: no server, port 4460, rotation weekly, 100 connections. */
void cfg_nts_defaults(struct cfg_nts *n);

/* Append the NTS and keyfile directives of N to OUT. */
void cfg_nts_format(const struct cfg_nts *n, struct ntp_text *out);

#endif
