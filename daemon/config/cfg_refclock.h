/*
 * The `refclock` directive (cfg_refclock.c): reference clocks in
 * chrony's shape, `refclock PHC|PPS|SHM|SOCK PARAM [options]`, their
 * checks once the whole file is read (every refid unique, every lock
 * naming another refclock), and their form in the effective
 * configuration.
 */
#ifndef HOROD_DAEMON_CONFIG_CFG_REFCLOCK_H
#define HOROD_DAEMON_CONFIG_CFG_REFCLOCK_H

#include "daemon/config/parse.h"
#include "daemon/config/settings.h"
#include "proto/appendf.h"

#define CFG_RC_DEF_POLL	 4    /* log2 s: 16 s of samples per filtered sample, as chrony */
#define CFG_RC_DEF_DPOLL 0    /* log2 s: one device read a second, as chrony */
#define CFG_RC_DEF_DELAY 1e-9 /* s: chrony's default: a reference clock has no path */
#define CFG_RC_DEF_PERM	 0600 /* SHM: root only, as chrony and ntpd create unit 0 */
#define CFG_RC_MIN_DPOLL (-6) /* log2 s: 64 reads a second, far more than any device needs */

/* `refclock DRIVER PARAM [options]`. */
int cfg_do_refclock(struct cfg_parser *p, char **tok, int ntok);

/* After the last line: every refid unique, every `lock` naming another, non-PPS refclock;
 * 0, or -1 with the message on the offending refclock's line. */
int cfg_refclock_check(struct cfg_parser *p);

/* The driver's name as configured ("PHC", "PPS", "SHM", "SOCK"). */
const char *cfg_rc_driver_name(enum cfg_rc_driver d);

/* Append the refclock directives of K to OUT, as the parser reads them back. */
void cfg_refclock_format(const struct cfg_clock *k, struct ntp_text *out);

#endif
