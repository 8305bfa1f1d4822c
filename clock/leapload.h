/*
 * Loading a leap-second table from a file (`leapfile PATH`, the IETF
 * leap-seconds.list; `leapsectz NAME`, a TZif right/ zone under the zone
 * directory), and judging its expiry for the log and `horoctl status`.
 * The parsing is proto/'s (pure); this module only reads the file,
 * bounded, and names what went wrong with the path in front.
 */
#ifndef HOROD_CLOCK_LEAPLOAD_H
#define HOROD_CLOCK_LEAPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "proto/leaptab.h"

/* Where `leapsectz NAME` looks (what the C library uses without TZDIR). */
#define CLK_ZONEINFO_DIR "/usr/share/zoneinfo"
/* s: a table expiring within this is "soon" (28 days, ntpd's warning; a list lasts ~6 months) */
#define CLK_LEAP_EXPIRY_WARN_S (28 * 86400)

/* How a table's expiry stands at a moment. */
enum clk_leap_expiry {
	CLK_LEAP_EXP_OK = 0,  /* valid for more than CLK_LEAP_EXPIRY_WARN_S */
	CLK_LEAP_EXP_SOON,    /* valid, but expires within CLK_LEAP_EXPIRY_WARN_S */
	CLK_LEAP_EXP_EXPIRED, /* past its expiry: it cannot tell about leaps from then on */
	CLK_LEAP_EXP_UNKNOWN, /* the source gives no expiry (a TZif before version 4) */
};

/* Read the leap-seconds.list at PATH into *TAB; 0, or -1 with "PATH: what" in WHY. */
int clk_leap_load_list(const char *path, struct ntp_leaptab *tab, char *why, size_t whylen);

/* Read the TZif zone at PATH into *TAB; 0, or -1 with "PATH: what" in WHY. */
int clk_leap_load_tzif(const char *path, struct ntp_leaptab *tab, char *why, size_t whylen);

/* The file of zone NAME ("right/UTC") under DIR into OUT (LEN); 0, or -1 if NAME is unsafe. */
int clk_leap_tz_path(const char *dir, const char *name, char *out, size_t len);

/* The expiry state of TAB at Unix second NOW. */
enum clk_leap_expiry clk_leap_expiry(const struct ntp_leaptab *tab, int64_t now);

/* One line on TAB at NOW for the log and status: source, entries, TAI-UTC, expiry, next leap. */
void clk_leap_describe(const struct ntp_leaptab *tab, int64_t now, char *buf, size_t len);

#endif
