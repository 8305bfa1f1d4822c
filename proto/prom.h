/*
 * A writer for the Prometheus text exposition format (version 0.0.4):
 * metric families with their # HELP and # TYPE lines, samples with at
 * most one label, label values and help text escaped as the format
 * requires (\\, \" and \n). Pure: it appends to a caller's text
 * (struct ntp_text of proto/appendf.h), which keeps the length it wanted,
 * so truncation is detectable (ntp_text_cut).
 */
#ifndef HOROD_PROTO_PROM_H
#define HOROD_PROTO_PROM_H

#include <stdint.h>

#include "proto/appendf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4" /* the HTTP Content-Type of the format */

/* 1 when NAME is a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*; no ':' for labels). */
int prom_name_valid(const char *name, int is_label);

/* Begin family NAME of TYPE ("counter", "gauge") with HELP text; invalid names are skipped. */
void prom_family(struct ntp_text *o, const char *name, const char *type, const char *help);

/* One sample of NAME (with label LABEL=LVAL when LABEL is not NULL) of value V. */
void prom_sample(struct ntp_text *o, const char *name, const char *label, const char *lval,
		 double v);

/* As prom_sample for an exact 64-bit counter value. */
void prom_sample_u64(struct ntp_text *o, const char *name, const char *label, const char *lval,
		     uint64_t v);

#endif
