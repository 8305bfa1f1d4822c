/*
 * The appending printf: nothing is written past CAP, the output is cut
 * (NUL-terminated) where it no longer fits, and the returned position
 * keeps growing so "pos >= cap" tells the caller it was cut. JSON
 * strings escape what RFC 8259 requires (the quote, the backslash and
 * the control characters below 0x20) and pass every other byte through,
 * so UTF-8 text stays UTF-8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void ntp_text_init(struct ntp_text *t, char *buf, size_t cap)
{
	t->buf = buf;
	t->cap = buf ? cap : 0;
	t->len = 0;
	if (t->cap)
		buf[0] = '\0';
}

void ntp_textf(struct ntp_text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t->len = ntp_vappendf(t->buf, t->cap, t->len, fmt, ap);
	va_end(ap);
}

int ntp_text_cut(const struct ntp_text *t)
{
	return t->len >= t->cap;
}

const char *ntp_json_char(char c, char out[NTP_JSON_ESC_MAX])
{
	unsigned char u = (unsigned char)c;

	if (u == '"' || u == '\\')
		snprintf(out, NTP_JSON_ESC_MAX, "\\%c", c);
	else if (u < 0x20)
		snprintf(out, NTP_JSON_ESC_MAX, "\\u%04x", u);
	else
		snprintf(out, NTP_JSON_ESC_MAX, "%c", c);
	return out;
}

void ntp_text_json(struct ntp_text *t, const char *s)
{
	char esc[NTP_JSON_ESC_MAX];

	ntp_textf(t, "\"");
	for (; *s; s++)
		ntp_textf(t, "%s", ntp_json_char(*s, esc));
	ntp_textf(t, "\"");
}

const char *ntp_shortest(double v, char *out, size_t outlen)
{
	int prec;

	for (prec = 6; prec < 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return out;
	}
	snprintf(out, outlen, "%.17g", v);
	return out;
}

const char *ntp_quote(const char *text, char *out, size_t outlen)
{
	size_t i, n = 0;

	for (i = 0; text[i] && n + 4 < outlen; i++)
		out[n++] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
	if (text[i]) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

int ntp_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
