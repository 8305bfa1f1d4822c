/*
 * The IETF/NIST leap-second list (leap-seconds.list, as IANA's tz
 * distribution, IERS and NIST publish it and Debian's tzdata installs it
 * at /usr/share/zoneinfo/leap-seconds.list), parsed from a buffer:
 *
 *     #$	 3960835200             last update, NTP seconds
 *     #@	3991593600              expiry, NTP seconds
 *     2272060800	10	# 1 Jan 1972    NTP seconds, TAI - UTC from then on
 *     ...
 *     #h	49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e
 *
 * Any other line starting with '#' is a comment. The #h line is the SHA-1
 * of the digits of the #$ and #@ values and of every data line before its
 * comment, in file order, as five 32-bit words in hex (some published
 * files drop a word's leading zeros: 1 to 8 hex digits are accepted). The
 * hash and the expiry (#@) are both required: a hash that does not
 * match, or is missing, refuses the whole file (the #h line is the last:
 * a copy cut short loses it, and nothing else would tell that entries
 * are missing; ntpd only warns), and a list that cannot say when it stops
 * being true cannot be enforced. The result has passed ntp_leaptab_check.
 */
#ifndef HOROD_PROTO_LEAPFILE_H
#define HOROD_PROTO_LEAPFILE_H

#include <stddef.h>

#include "proto/leaptab.h"

/* bytes: the largest list parsed (the 2025 list is 5 KB; comments may grow, data will not) */
#define NTP_LEAPFILE_MAX (64 * 1024)
/* bytes: the longest line accepted (the list's lines are under 80) */
#define NTP_LEAPFILE_LINE_MAX 512

/* Parse LEN bytes at BUF into *TAB; 0, or -1 with "line N: what" in WHY (TAB then empty). */
int ntp_leapfile_parse(const char *buf, size_t len, struct ntp_leaptab *tab, char *why,
		       size_t whylen);

#endif
