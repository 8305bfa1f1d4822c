/*
 * Reference-clock device readers: one small module per kind of device
 * (PHC, PPS, SHM, SOCK) behind one interface, which the refclock source
 * driver of the clock thread uses: "give me the samples since the last
 * call". A sample pairs a local stamp (CLOCK_REALTIME, ns) with the
 * reference's time for that instant (ns), with the leap indicator and
 * the uncertainty the device itself gives. Readers neither filter nor
 * judge time scales: the PHC's time (TAI when ptp4l keeps it) and the
 * missing second of a pulse are the caller's business. Every sample a
 * reader refuses is counted under a reason (rc_drop_names).
 *
 * Kernel interfaces (PHC ioctls, PPS ioctls) go through struct rc_sys, so
 * unit tests substitute a fake kernel; this machine has no PHC and no
 * PPS device, so those two readers are tested only that way and against
 * /dev/null (which must be refused with a message naming the device).
 */
#ifndef HOROD_DAEMON_REFCLOCK_H
#define HOROD_DAEMON_REFCLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "proto/nstime.h"

#define RC_NAME_MAX 128 /* bytes: a reader's description ("SHM 2 key 0x4e545032") */
#define RC_PULSE    0x1 /* sample flag: only the edge is known, not its second */

/* Why a reader refused a sample (each counted). */
enum rc_drop {
	RC_DROP_TORN = 0, /* SHM: the writer changed it while we read (count moved) */
	RC_DROP_STALE,	  /* older than the reader's max age, or not newer than the last one */
	RC_DROP_FUTURE,	  /* local stamp ahead of our clock by more than RC_FUTURE_NS */
	RC_DROP_FORMAT,	  /* malformed: bad mode, magic, size, field out of range */
	RC_DROP_BADTIME,  /* PHC: a reading whose sandwich ran backwards (clock stepped) */
	RC_DROP_MISSED,	  /* PPS: edges the sequence number says we never saw */
	RC_DROP_N
};

/* ns: a local stamp this far ahead of now is not ours (a writer on another clock) */
#define RC_FUTURE_NS (1 * NS_PER_SEC)

/* Names of enum rc_drop, for logs and the test tool. */
extern const char *const rc_drop_names[RC_DROP_N];

/* One sample from a reference clock. */
struct rc_sample {
	int64_t local_ns; /* CLOCK_REALTIME ns: when it was taken, on our clock */
	int64_t ref_ns; /* the reference's time at local_ns, ns (RC_PULSE: local_ns's edge only) */
	double err;	/* s: the device's own uncertainty (PHC: half the read window), >= 0 */
	int leap;	/* NTP LI from the device: 0, 1 insert, 2 delete, 3 not synchronized */
	int precision;	/* log2 s the device claims (SHM), 0 when it says nothing */
	unsigned flags; /* RC_PULSE */
	uint32_t seq;	/* PPS sequence, SHM count: for logs */
};

/* The kernel as the PHC and PPS readers see it (tests substitute a fake). */
struct rc_sys {
	int (*open)(const char *path, int flags);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	int (*fstat)(int fd, struct stat *st);
	int (*close)(int fd);
};

/* The real kernel. */
extern const struct rc_sys rc_sys_real;

struct rc_reader;

struct rc_reader_ops {
	const char *kind; /* "PHC", "PPS", "SHM", "SOCK" */
	/* Samples since the last call into OUT (at most MAX); how many, or -errno. NOW_NS is
	 * CLOCK_REALTIME now, for the age checks. */
	int (*read)(struct rc_reader *r, int64_t now_ns, struct rc_sample *out, int max);
	/* Release everything the reader holds. */
	void (*close)(struct rc_reader *r);
};

struct rc_reader {
	const struct rc_reader_ops *ops;
	void *priv;
	int fd;			   /* fd to poll for input (SOCK), else -1: read it on a timer */
	char name[RC_NAME_MAX];	   /* what and where, for logs: "PHC /dev/ptp0 (extended)" */
	uint64_t samples;	   /* samples handed out */
	uint64_t drops[RC_DROP_N]; /* samples refused, by reason */
};

/* Samples since the last call (see struct rc_reader_ops). */
static inline int rc_read(struct rc_reader *r, int64_t now_ns, struct rc_sample *out, int max)
{
	return r->ops->read(r, now_ns, out, max);
}

/* Close R and free it (NULL is fine). */
void rc_close(struct rc_reader *r);

/* A reader of kind KIND with private state PRIV; NULL when out of memory. */
struct rc_reader *rc_new(const struct rc_reader_ops *ops, void *priv, const char *name);

/* Count one refusal of R for REASON. */
static inline void rc_drop(struct rc_reader *r, enum rc_drop reason)
{
	r->drops[reason]++;
}

/* Seconds SEC and nanoseconds NSEC to ns into *NS; 0, or -1 when out of range. */
int rc_ts_ns(int64_t sec, int64_t nsec, int64_t *ns);

#endif
