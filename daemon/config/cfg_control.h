/*
 * The control-plane directives of the configuration (cfg_control.c):
 * `control /PATH|off` (the socket horoctl talks to) and `metrics listen
 * ADDR:PORT [public]`; their defaults and their form in the effective
 * configuration. (`control allow`, an access list, is the parser's.)
 */
#ifndef HOROD_DAEMON_CONFIG_CFG_CONTROL_H
#define HOROD_DAEMON_CONFIG_CFG_CONTROL_H

#include "daemon/config/parse.h"
#include "daemon/config/settings.h"
#include "proto/appendf.h"

/* `control /PATH | control off` (TOK[1] is the path or "off"). */
int cfg_do_control_path(struct cfg_parser *p, char **tok, int ntok);

/* `metrics listen ADDR:PORT [public]`. */
int cfg_do_metrics(struct cfg_parser *p, char **tok, int ntok);

/* Control socket and metrics defaults into C. */
void cfg_control_defaults(struct cfg_control *c);

/* Append the control socket and metrics directives of C to OUT. */
void cfg_control_format(const struct cfg_control *c, struct ntp_text *out);

#endif
