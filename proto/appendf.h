/*
 * Appending printf for the text every module builds (configuration
 * dumps, Prometheus output, horoctl reports): write at a position that
 * may already be past the buffer's end, and keep counting like snprintf,
 * so the caller learns how much room the whole text needs.
 */
#ifndef HOROD_PROTO_APPENDF_H
#define HOROD_PROTO_APPENDF_H

#include <stdarg.h>
#include <stddef.h>

/* Append printf output to BUF (CAP bytes, may be NULL/0) at POS; returns the new position. */
size_t ntp_appendf(char *buf, size_t cap, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ntp_appendf with a va_list. */
size_t ntp_vappendf(char *buf, size_t cap, size_t pos, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

#endif
