/*
 * The clock directives of the configuration (cfg_clock.c): upstream
 * sources (`server`, `pool`), the clock driver, discipline, makestep,
 * maxdistance, holdover, minsources and the driftfile; their defaults
 * and their form in the effective configuration.
 */
#ifndef HOROD_DAEMON_CONFIG_CFG_CLOCK_H
#define HOROD_DAEMON_CONFIG_CFG_CLOCK_H

#include "daemon/config/parse.h"
#include "daemon/config/settings.h"
#include "proto/appendf.h"

/* `server HOST ...` and `pool NAME ...` (TOK[0] says which). */
int cfg_do_server(struct cfg_parser *p, char **tok, int ntok);

/* `driver kernel [device /dev/ptpN] | driver sim ...`. */
int cfg_do_driver(struct cfg_parser *p, char **tok, int ntok);

/* `discipline on|off`. */
int cfg_do_discipline(struct cfg_parser *p, char **tok, int ntok);

/* `makestep SECONDS UPDATES`. */
int cfg_do_makestep(struct cfg_parser *p, char **tok, int ntok);

/* `maxdistance SECONDS`. */
int cfg_do_maxdistance(struct cfg_parser *p, char **tok, int ntok);

/* `holdover SECONDS|auto`. */
int cfg_do_holdover(struct cfg_parser *p, char **tok, int ntok);

/* `minsources N`. */
int cfg_do_minsources(struct cfg_parser *p, char **tok, int ntok);

/* `driftfile /ABSOLUTE/PATH`. */
int cfg_do_driftfile(struct cfg_parser *p, char **tok, int ntok);

/* Clock defaults into K. */
void cfg_clock_defaults(struct cfg_clock *k);

/* Append the clock directives of K to OUT, as the parser reads them back. */
void cfg_clock_format(const struct cfg_clock *k, struct ntp_text *out);

#endif
