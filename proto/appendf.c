/*
 * The appending printf: nothing is written past CAP, the output is cut
 * (NUL-terminated) where it no longer fits, and the returned position
 * keeps growing so "pos >= cap" tells the caller it was cut.
 */
#include <stdio.h>

#include "proto/appendf.h"

size_t ntp_vappendf(char *buf, size_t cap, size_t pos, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf && pos < cap ? buf + pos : NULL, buf && pos < cap ? cap - pos : 0,
			  fmt, ap);

	return n > 0 ? pos + (size_t)n : pos;
}

size_t ntp_appendf(char *buf, size_t cap, size_t pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pos = ntp_vappendf(buf, cap, pos, fmt, ap);
	va_end(ap);
	return pos;
}
