/*
 * The leap-second directives of the configuration (cfg_leap.c): `leapfile
 * PATH` (an IETF leap-seconds.list, its #h hash checked) and `leapsectz
 * NAME` (a TZif right/ zone under the zone directory), `leapsecmode` and
 * `leapsmear interval`. The table is read
 * when the line is parsed, so a missing, malformed or tampered file is an
 * error on its line; an expired one is accepted (it gives no authority,
 * and horod says so). Their defaults and their form in the effective
 * configuration.
 */
#ifndef HOROD_DAEMON_CONFIG_CFG_LEAP_H
#define HOROD_DAEMON_CONFIG_CFG_LEAP_H

#include "daemon/config/parse.h"
#include "daemon/config/settings.h"
#include "proto/appendf.h"

/* `leapfile /ABSOLUTE/PATH`. */
int cfg_do_leapfile(struct cfg_parser *p, char **tok, int ntok);

/* `leapsectz NAME` (e.g. right/UTC). */
int cfg_do_leapsectz(struct cfg_parser *p, char **tok, int ntok);

/* `leapsecmode system|step|slew|smear`. */
int cfg_do_leapsecmode(struct cfg_parser *p, char **tok, int ntok);

/* `leapsmear interval SECONDS`. */
int cfg_do_leapsmear(struct cfg_parser *p, char **tok, int ntok);

/* Leap defaults into L: no table, leapsecmode system, a 86400 s smear. */
void cfg_leap_defaults(struct cfg_leap *l);

/* Append the leap directives of L to OUT. */
void cfg_leap_format(const struct cfg_leap *l, struct ntp_text *out);

#endif
