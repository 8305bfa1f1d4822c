/*
 * The leap-second table of a TZif file (RFC 9636; RFC 8536 before it), as
 * a "right/" zone carries it: /usr/share/zoneinfo/right/UTC is what
 * chrony's `leapsectz right/UTC` reads through the C library; horod reads
 * the file itself, from a buffer, so that it can check it.
 *
 * A TZif leap record is (occurrence, correction): the occurrence counts
 * leap seconds (it is POSIX time plus the corrections before it) and the
 * correction is the total of leap seconds from then on, so TAI - UTC =
 * 10 s + correction. An insertion's 00:00 UTC is occurrence - previous
 * correction; a deletion's is one second later (the deleted 23:59:59 is
 * the occurrence). Version 4 files may start with any correction (a
 * table truncated at the start) and may end with a record repeating the
 * previous correction, which is the table's expiry; older versions have
 * neither (their expiry is unknown: tab->expires_s = 0). The result has
 * passed ntp_leaptab_check.
 */
#ifndef HOROD_PROTO_TZIF_H
#define HOROD_PROTO_TZIF_H

#include <stddef.h>

#include "proto/leaptab.h"

/* bytes: the largest TZif file parsed (right/UTC is under 1 KB; a big zone ~ 4 KB with leaps) */
#define NTP_TZIF_MAX (256 * 1024)
/* s: TAI - UTC before the first TZif leap (1972-01-01 to 1972-06-30) */
#define NTP_TZIF_TAI_BASE 10

/* Parse the leap records of the TZif data at BUF (LEN bytes) into *TAB; 0 or -1 with WHY. */
int ntp_tzif_parse(const unsigned char *buf, size_t len, struct ntp_leaptab *tab, char *why,
		   size_t whylen);

#endif
