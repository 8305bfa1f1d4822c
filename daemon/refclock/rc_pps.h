/*
 * PPS reader (`refclock PPS /dev/ppsN [clear]`): RFC 2783 through the
 * Linux PPS character device (linux/pps.h): PPS_GETCAP for what the
 * device can capture, PPS_SETPARAMS to capture the assert (default) or
 * clear edge with timespec stamps, and PPS_FETCH with a zero timeout to
 * get the last edge without waiting. A sample is that edge's local time
 * (RC_PULSE: which second it marks comes from another source); the
 * sequence number tells a new edge from the same one read again, and
 * edges skipped between two reads are counted (RC_DROP_MISSED). This
 * machine has no PPS device and no pps_ktimer: the reader is tested with
 * a fake kernel (struct rc_sys) and against /dev/null.
 */
#ifndef HOROD_DAEMON_RC_PPS_H
#define HOROD_DAEMON_RC_PPS_H

#include "daemon/refclock/refclock.h"

/* Open the PPS device at PATH through SYS (NULL: the real kernel), capturing the clear edge if
 * CLEAR, else assert; NULL with WHY naming the device. */
struct rc_reader *rc_pps_open(const char *path, int clear, const struct rc_sys *sys, char *why,
			      size_t whylen);

#endif
