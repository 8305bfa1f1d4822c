/*
 * What every clock driver shares: the linear map from sys time to driver
 * time (the arithmetic of clk_driver_from_sys, over the driver's own
 * mapping()), and where the drivers' log lines go. clock/ does not know
 * the daemon's log: the daemon hands its logger in with clk_set_log, as
 * it does the XDP guard's with guard_set_log; until then (unit tests,
 * tools) a line goes to stderr as it is.
 */
#include <stdarg.h>
#include <stdio.h>

#include "clock/driver.h"
#include "proto/nstime.h"

static clk_log_fn clk_log_to;

void clk_set_log(clk_log_fn fn)
{
	clk_log_to = fn;
}

void clk_log(int prio, const char *fmt, ...)
{
	char line[CLK_LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (clk_log_to)
		clk_log_to(prio, "%s", line);
	else
		fprintf(stderr, "%s\n", line);
}

int64_t clk_driver_from_sys(struct clk_driver *d, int64_t sys_ns)
{
	int64_t off, base, r;
	double freq;

	d->ops->mapping(d, &off, &freq, &base);
	if (__builtin_add_overflow(sys_ns, off, &r) ||
	    __builtin_add_overflow(r, ns_round_sat(ns_diff(sys_ns, base) * freq), &r))
		return sys_ns; /* far outside any real mapping: leave the reading alone */
	return r;
}
