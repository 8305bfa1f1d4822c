/*
 * The configuration parser's shared helpers: the state of one parse and
 * the typed, range-checked readers every directive uses, each failing
 * with one message `NAME:LINE: what was wrong, allowed ...`. The
 * directive files (cfg_*.c) and the parser (config.c) use them; they use
 * nothing of either, so the include graph only points down: config.c ->
 * directives -> parse helpers -> settings.
 */
#ifndef HOROD_DAEMON_CONFIG_PARSE_H
#define HOROD_DAEMON_CONFIG_PARSE_H

#include <stddef.h>

#include "daemon/config/settings.h"
#include "proto/appendf.h"

#define CFG_QUOTE_MAX 48 /* bytes of a token quoted in a message (ntp_quote) */

/* The state of one parse: where we are, and where a single-use directive was first seen. */
struct cfg_parser {
	struct horod_config *c;
	const char *name;
	int line;
	char *err;
	size_t errlen;
	/* The line each single-use directive was given on, 0 = not yet. */
	int seen_local, seen_workers, seen_io, seen_pidfile, seen_log, seen_clientloglimit;
	int seen_driver, seen_discipline, seen_makestep, seen_maxdistance, seen_holdover,
		seen_minsources, seen_driftfile;
	int seen_ratelimit, seen_denykod, seen_guard_pin, seen_guard_serve, seen_guard_stamp;
	int seen_control_path, seen_metrics;
	int seen_user, seen_seccomp;
	int seen_nts[12];	    /* cfg_nts.c's single-use directives */
	int seen_leap, seen_leaptz; /* leapfile, leapsectz */
	int seen_leapsecmode, seen_leapsmear;
};

/* Write `NAME:LINE: message` into the caller's error buffer and return -1. */
int cfg_fail(struct cfg_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* TOK as a decimal integer in MIN..MAX: 0, -1 not an integer, -2 out of range. */
int cfg_int(const char *tok, long min, long max, long *out);

/* TOK as a finite decimal number in MIN..MAX: 0, -1 not a number, -2 out of range. */
int cfg_double(const char *tok, double min, double max, double *out);

/* The integer option NAME = TOK (NULL: missing) in MIN..MAX into *OUT; 0, or -1 with a message. */
int cfg_int_opt(struct cfg_parser *p, const char *name, const char *tok, long min, long max,
		long *out);

/* The decimal option NAME = TOK (NULL: missing) in MIN..MAX UNIT into *OUT; 0, or -1 likewise. */
int cfg_double_opt(struct cfg_parser *p, const char *name, const char *tok, double min, double max,
		   const char *unit, double *out);

/* Reject an argument past the directive's form FORM. */
int cfg_extra(struct cfg_parser *p, const char *tok, const char *form);

/* Reject a second use of a directive allowed once; *SEEN keeps the first line. */
int cfg_once(struct cfg_parser *p, int *seen, const char *what);

#endif
