/*
 * horod's log: one line per event, to stderr (with a UTC timestamp, the
 * program name, its PID and the level) or to syslog (facility daemon).
 * Each line is formatted into a local buffer and written with a single
 * call, so lines from a few threads do not interleave. The settings are
 * written once by log_init before any thread starts; until then messages
 * go to stderr and debug messages are dropped. Nothing here is meant for
 * the per-packet path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock/kclock.h"
#include "daemon/sys/log.h"
#include "proto/nstime.h"

#define LOG_LINE_MAX  1024 /* bytes of message per line: longer messages are cut, marked "..." */
#define LOG_IDENT_MAX 32   /* bytes of program name kept (syslog keeps the pointer, so we copy) */

static int log_to_syslog;
static int log_debug;
static char log_ident[LOG_IDENT_MAX] = "horod";

/* The level word printed on stderr for PRIO (the syslog names, short form). */
static const char *log_level_name(int prio)
{
	switch (LOG_PRI(prio)) {
	case LOG_EMERG:
		return "emerg";
	case LOG_ALERT:
		return "alert";
	case LOG_CRIT:
		return "crit";
	case LOG_ERR:
		return "err";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_init(int to_syslog, int debug, const char *ident)
{
	if (ident && ident[0])
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_debug = debug ? 1 : 0;
	log_to_syslog = to_syslog ? 1 : 0;
	if (log_to_syslog)
		openlog(log_ident, LOG_PID, LOG_DAEMON);
}

void log_msg(int prio, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX], stamp[32];
	int64_t now;
	time_t sec;
	struct tm tm;
	va_list ap;
	int n;

	if (LOG_PRI(prio) == LOG_DEBUG && !log_debug)
		return;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(unformattable message)");
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	/* One event, one line: a stray trailing newline would make it two. */
	n = (int)strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';

	if (log_to_syslog) {
		syslog(LOG_PRI(prio), "%s", msg);
		return;
	}

	now = clk_now_ns(CLOCK_REALTIME);
	sec = (time_t)(now / NS_PER_SEC);
	if (!gmtime_r(&sec, &tm) || !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(stamp, sizeof(stamp), "%lld", (long long)sec);
	fprintf(stderr, "%s.%03dZ %s[%ld]: %s: %s\n", stamp, (int)(now % NS_PER_SEC / NS_PER_MS),
		log_ident, (long)getpid(), log_level_name(prio), msg);
}

void log_fini(void)
{
	if (log_to_syslog)
		closelog();
	log_to_syslog = 0;
}
