/*
 * What horoctl's commands share beyond proto/: the time now from any
 * clock (horoctl does not link clock/, so it reads clock_gettime and
 * converts with proto/nstime.h) and JSON strings on stdout, escaped by
 * proto/appendf.h's one rule.
 */
#ifndef HOROD_CTL_COMMON_H
#define HOROD_CTL_COMMON_H

#include <stdint.h>
#include <time.h>

/* Clock ID now, in ns since its epoch; 0 when it cannot be read. */
int64_t ctl_now_ns(clockid_t id);

/* Print S to stdout as a JSON string, quotes included. */
void ctl_json_str(const char *s);

#endif
