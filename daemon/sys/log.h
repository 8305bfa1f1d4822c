/*
 * Logging to stderr or syslog. Never called per packet: the hot path
 * counts, it does not log. Messages are one line, without a trailing
 * newline in the format.
 */
#ifndef HOROD_DAEMON_LOG_H
#define HOROD_DAEMON_LOG_H

#include <syslog.h>

/* Start logging: to syslog when TO_SYSLOG, else stderr; debug messages only when DEBUG. */
void log_init(int to_syslog, int debug, const char *ident);

/* Log one line at PRIO (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG). */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close syslog if it was opened. */
void log_fini(void);

#endif
