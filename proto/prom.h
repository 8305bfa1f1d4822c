/*
 * A writer for the Prometheus text exposition format (version 0.0.4):
 * metric families with their # HELP and # TYPE lines, samples with at
 * most one label, label values and help text escaped as the format
 * requires (\\, \" and \n). Pure: it appends to a caller's buffer and
 * keeps the length it wanted, so truncation is detectable.
 */
#ifndef HOROD_PROTO_PROM_H
#define HOROD_PROTO_PROM_H

#include <stddef.h>
#include <stdint.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4" /* the HTTP Content-Type of the format */

/* Output: BUF of CAP bytes; LEN is what was wanted (may pass CAP: truncated). */
struct prom_out {
	char *buf;
	size_t cap;
	size_t len;
};

/* Start an output in BUF (CAP bytes). */
void prom_init(struct prom_out *o, char *buf, size_t cap);

/* Nonzero when the output was truncated. */
int prom_truncated(const struct prom_out *o);

/* 1 when NAME is a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*; no ':' for labels). */
int prom_name_valid(const char *name, int is_label);

/* Begin family NAME of TYPE ("counter", "gauge") with HELP text; invalid names are skipped. */
void prom_family(struct prom_out *o, const char *name, const char *type, const char *help);

/* One sample of NAME (with label LABEL=LVAL when LABEL is not NULL) of value V. */
void prom_sample(struct prom_out *o, const char *name, const char *label, const char *lval,
		 double v);

/* As prom_sample for an exact 64-bit counter value. */
void prom_sample_u64(struct prom_out *o, const char *name, const char *label, const char *lval,
		     uint64_t v);

#endif
