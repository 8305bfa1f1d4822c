/*
 * Internals of the configuration parser shared by its directive files
 * (config.c: serving directives; cfg_clock.c: clock directives): the
 * parse state and the typed, range-checked helpers every directive uses.
 * Not for use outside the parser.
 */
#ifndef HOROD_DAEMON_CONFIG_INT_H
#define HOROD_DAEMON_CONFIG_INT_H

#include <stddef.h>

#include "daemon/config/config.h"

#define CFG_QUOTE_MAX 48 /* bytes of a token quoted in a message */

/* The state of one parse: where we are, and where a single-use directive was first seen. */
struct cfg_parser {
	struct horod_config *c;
	const char *name;
	int line;
	char *err;
	size_t errlen;
	/* The line each single-use directive was given on, 0 = not yet. */
	int seen_local, seen_workers, seen_io, seen_pidfile, seen_log;
	int seen_driver, seen_discipline, seen_makestep, seen_maxdistance, seen_holdover,
		seen_minsources, seen_driftfile;
	int seen_ratelimit, seen_denykod, seen_guard_pin, seen_guard_serve;
	int seen_control_path, seen_metrics;
	int seen_user, seen_seccomp;
	int seen_nts[8]; /* cfg_nts.c's single-use directives */
};

/* Copy TOK into OUT for a message: printable ASCII only, truncated with "...". */
const char *cfg_quote(const char *tok, char *out, size_t outlen);

/* Write `NAME:LINE: message` into the caller's error buffer and return -1. */
int cfg_fail(struct cfg_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* TOK as a decimal integer in MIN..MAX: 0, -1 not an integer, -2 out of range. */
int cfg_int(const char *tok, long min, long max, long *out);

/* TOK as a finite decimal number in MIN..MAX: 0, -1 not a number, -2 out of range. */
int cfg_double(const char *tok, double min, double max, double *out);

/* Reject an argument past the directive's form FORM. */
int cfg_extra(struct cfg_parser *p, const char *tok, const char *form);

/* Reject a second use of a directive allowed once; *SEEN keeps the first line. */
int cfg_once(struct cfg_parser *p, int *seen, const char *what);

/* Clock directives (cfg_clock.c): server, pool, driver, discipline, makestep, ... */
int cfg_do_server(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_driver(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_discipline(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_makestep(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_maxdistance(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_holdover(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_minsources(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_driftfile(struct cfg_parser *p, char **tok, int ntok);

/* Rate-limit and guard directives (cfg_guard.c): ratelimit, denykod, guard. */
int cfg_do_ratelimit(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_denykod(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_guard(struct cfg_parser *p, char **tok, int ntok);

/* Control socket and metrics directives (cfg_control.c): `control PATH|off`, `metrics`. */
int cfg_do_control_path(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_metrics(struct cfg_parser *p, char **tok, int ntok);

/* Security directives (cfg_security.c): `user NAME`, `seccomp 0|1|2`. */
int cfg_do_user(struct cfg_parser *p, char **tok, int ntok);
int cfg_do_seccomp(struct cfg_parser *p, char **tok, int ntok);

/* NTS and keyfile directives (cfg_nts.c): ntsservercert, ntsserverkey, ntsport, ... */
int cfg_do_nts(struct cfg_parser *p, char **tok, int ntok);

/* NTS defaults into C: no server, port 4460, rotation weekly, 100 connections. */
void cfg_nts_defaults(struct horod_config *c);

/* Append the NTS and keyfile directives of C to OUT; returns bytes wanted. */
size_t cfg_nts_format(const struct horod_config *c, char *out, size_t len);

/* Security defaults into C: no user (stay root), seccomp 0. */
void cfg_security_defaults(struct horod_config *c);

/* Append the user and seccomp directives of C to OUT; returns bytes wanted. */
size_t cfg_security_format(const struct horod_config *c, char *out, size_t len);

/* Control socket and metrics defaults into C. */
void cfg_control_defaults(struct horod_config *c);

/* Append the control socket and metrics directives of C to OUT; returns bytes wanted. */
size_t cfg_control_format(const struct horod_config *c, char *out, size_t len);

/* Rate-limit and guard defaults into C. */
void cfg_guard_defaults(struct horod_config *c);

/* Append the rate-limit and guard directives of C to OUT; returns bytes wanted. */
size_t cfg_guard_format(const struct horod_config *c, char *out, size_t len);

/* The shortest "%g" form of V that reads back as V, in OUT. */
const char *cfg_shortest(double v, char *out, size_t outlen);

/* Clock defaults into K. */
void cfg_clock_defaults(struct cfg_clock *k);

/* Append the clock directives of K to OUT (as cfg_format does); returns bytes wanted. */
size_t cfg_clock_format(const struct cfg_clock *k, char *out, size_t len);

#endif
