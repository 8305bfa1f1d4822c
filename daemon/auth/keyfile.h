/*
 * The keyfile (chrony's format, proto/symkey.h) read into a sorted key
 * table: refused when everyone may read it, when a line is bad or an id
 * comes twice. Read at start, before privileges go, by the serve path's
 * keys (auth.c; again on SIGHUP) and by the upstream sources that use a
 * key (daemon/clockd/upstream_auth.c); the bytes read are wiped once parsed.
 */
#ifndef HOROD_DAEMON_AUTH_KEYFILE_H
#define HOROD_DAEMON_AUTH_KEYFILE_H

#include <stddef.h>

#include "proto/symkey.h"

/* Read the keyfile PATH into T (allocated); 0, or -1 with `PATH:LINE: what` in ERR. */
int kf_read(const char *path, struct sk_table *t, char *err, size_t errlen);

/* Wipe and free T's keys (T may be empty). */
void kf_free(struct sk_table *t);

#endif
