/*
 * PTP hardware clock reader (`refclock PHC /dev/ptpN`): the PHC against
 * CLOCK_REALTIME through the best ioctl the device supports, tried in
 * order and then kept: PTP_SYS_OFFSET_PRECISE (a cross-timestamp the
 * hardware takes at one instant: no read window at all), then
 * PTP_SYS_OFFSET_EXTENDED (system time read right before and after each
 * PHC read, in the driver), then PTP_SYS_OFFSET (the same sandwich taken
 * by the PTP core around the driver's gettime: wider). Of the readings
 * of one call the narrowest sandwich wins; the sample's local stamp is
 * its midpoint and its uncertainty half its width. The PHC's own time
 * scale (ptp4l keeps PHCs in TAI) is returned raw: converting it is the
 * caller's business. This machine has no PHC: the reader is tested with
 * a fake kernel (struct rc_sys) and against /dev/null.
 */
#ifndef HOROD_DAEMON_RC_PHC_H
#define HOROD_DAEMON_RC_PHC_H

#include "daemon/refclock/refclock.h"

#define RC_PHC_READINGS 10 /* sandwiches per extended/plain call: chrony's default count */

/* Which ioctl a PHC reader uses. */
enum rc_phc_mode {
	RC_PHC_UNKNOWN = 0, /* not found yet: the next read tries them in order */
	RC_PHC_PRECISE,	    /* PTP_SYS_OFFSET_PRECISE */
	RC_PHC_EXTENDED,    /* PTP_SYS_OFFSET_EXTENDED */
	RC_PHC_PLAIN,	    /* PTP_SYS_OFFSET */
};

/* One PHC reading: system time before and after, PHC time between (ns). */
struct rc_phc_reading {
	int64_t before_ns, phc_ns, after_ns;
};

/* Open the PHC at PATH through SYS (NULL: the real kernel); NULL with WHY naming the device. */
struct rc_reader *rc_phc_open(const char *path, const struct rc_sys *sys, char *why, size_t whylen);

/* The mode R settled on (RC_PHC_UNKNOWN before its first successful read). */
enum rc_phc_mode rc_phc_mode(const struct rc_reader *r);

/* The ioctl name of MODE ("PTP_SYS_OFFSET_PRECISE", ...). */
const char *rc_phc_mode_name(enum rc_phc_mode mode);

/* The narrowest of the N readings R into *OUT; 0, or -1 when every one ran backwards. */
int rc_phc_pick(const struct rc_phc_reading *r, int n, struct rc_sample *out);

#endif
