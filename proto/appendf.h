/*
 * Appending printf for the text every module builds (configuration
 * dumps, Prometheus output, horoctl reports): write at a position that
 * may already be past the buffer's end, and keep counting like snprintf,
 * so the caller learns how much room the whole text needs. struct
 * ntp_text carries buffer, room and position for a writer that appends
 * many times; ntp_textf is its one printf. The spellings every text
 * shares live here too: a JSON string, the shortest decimal that reads
 * back as the same double, someone else's text quoted in a message, and
 * the message a failing function leaves its caller.
 */
#ifndef HOROD_PROTO_APPENDF_H
#define HOROD_PROTO_APPENDF_H

#include <stdarg.h>
#include <stddef.h>

#define NTP_JSON_ESC_MAX 7 /* bytes of one byte's JSON form: "\u00XX" and its NUL */

/* A text being appended to: BUF of CAP bytes (may be NULL/0); LEN is what the whole text needs. */
struct ntp_text {
	char *buf;
	size_t cap;
	size_t len;
};

/* Append printf output to BUF (CAP bytes, may be NULL/0) at POS; returns the new position. */
size_t ntp_appendf(char *buf, size_t cap, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ntp_appendf with a va_list. */
size_t ntp_vappendf(char *buf, size_t cap, size_t pos, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Start an empty text in BUF (CAP bytes, may be NULL/0), NUL-terminated. */
void ntp_text_init(struct ntp_text *t, char *buf, size_t cap);

/* Append printf output to T (cut, NUL-terminated, where it no longer fits). */
void ntp_textf(struct ntp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Nonzero when T did not fit its buffer (LEN is what it needs, NUL excluded). */
int ntp_text_cut(const struct ntp_text *t);

/* Byte C as it stands inside a JSON string: itself, or its escape written into OUT. */
const char *ntp_json_char(char c, char out[NTP_JSON_ESC_MAX]);

/* Append S to T as a JSON string, quotes included. */
void ntp_text_json(struct ntp_text *t, const char *s);

/* The shortest "%g" form of V that reads back as V, in OUT. */
const char *ntp_shortest(double v, char *out, size_t outlen);

/* TEXT for a message, in OUT: printable ASCII only (others '?'), cut with "..." to fit. */
const char *ntp_quote(const char *text, char *out, size_t outlen);

/* Write a printf message into ERR (ERRLEN bytes; none when NULL or 0) and return -1. */
int ntp_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
