/*
 * chrony's SOCK refclock: a Unix datagram socket horod binds, to which a
 * writer (gpsd, for its PPS edges) sends one struct rc_sock_sample per
 * datagram: the local time of the measurement, the offset of true time
 * from it in seconds, whether it is a bare pulse, the leap indicator and
 * the magic 0x534f434b ("SOCK"). The layout is chrony's refclock_sock.c
 * (40 bytes on LP64); datagrams of any other size or magic are refused.
 * gpsd 3.22 connects to /run/chrony.DEVICE.sock (root) or
 * /tmp/chrony.DEVICE.sock only when that socket exists as it activates the
 * device, and sends only PPS edges there (not NMEA time).
 */
#ifndef HOROD_DAEMON_RC_SOCK_H
#define HOROD_DAEMON_RC_SOCK_H

#include <sys/time.h>

#include "daemon/refclock/refclock.h"

#define RC_SOCK_MAGIC 0x534f434b /* "SOCK" */
#define RC_SOCK_BATCH 64	 /* datagrams read per call at most: a 1 Hz writer sends 1 */
/* s: |offset| limit; beyond it the sample is not a clock's (chrony's sanity limit is similar) */
#define RC_SOCK_OFFSET_MAX 1e9

/* One sample, as chrony's refclock_sock.c defines it. */
struct rc_sock_sample {
	struct timeval tv; /* local (system) time of the measurement */
	double offset;	   /* s: true time - local time */
	int pulse;	   /* nonzero: a PPS edge, the second is unknown */
	int leap;	   /* 0 normal, 1 insert, 2 delete (gpsd may send 3: not in sync) */
	int _pad;
	int magic; /* RC_SOCK_MAGIC */
};

/*
 * Bind PATH (absolute; a stale socket file nobody listens on is replaced,
 * one somebody does is refused) with file mode PERM; samples older than
 * MAX_AGE_NS when read are stale. NULL with WHY on failure.
 */
struct rc_reader *rc_sock_open(const char *path, int perm, int64_t max_age_ns, char *why,
			       size_t whylen);

/* Judge datagram BUF of LEN bytes at NOW_NS after LAST_NS: 1 with *OUT, or -1 - enum rc_drop. */
int rc_sock_judge(const void *buf, size_t len, int64_t now_ns, int64_t max_age_ns, int64_t last_ns,
		  struct rc_sample *out);

#endif
