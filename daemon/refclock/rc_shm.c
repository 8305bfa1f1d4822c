/*
 * SHM reader. The copy out of the segment is field by field through the
 * volatile pointer between two reads of count, with acquire fences so
 * the copy cannot move outside them (the writer, gpsd, puts a barrier
 * between its count bumps and the fields). All judging is in
 * rc_shm_judge, a pure function the unit tests drive directly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "daemon/refclock/rc_shm.h"

#define SHM_PREC_MIN (-30) /* log2 s: 1 ns; a finer claim is nonsense */
#define SHM_PREC_MAX 5	   /* log2 s: 32 s; a coarser one is not a clock */

_Static_assert(sizeof(struct rc_shm_time) == 96 || sizeof(time_t) != 8,
	       "struct rc_shm_time must match ntpd's 96-byte layout on LP64");

struct shm_priv {
	volatile struct rc_shm_time *seg;
	void *base; /* the same address, for shmdt */
	int id;
	int created;
	int64_t max_age_ns;
	int64_t last_ns; /* local stamp of the last sample handed out */
};

int rc_shm_judge(const struct rc_shm_time *t, int c1, int c2, int64_t now_ns, int64_t max_age_ns,
		 int64_t last_ns, struct rc_sample *out, int *clear)
{
	int64_t cns, rns, cnsec, rnsec;

	*clear = 0;
	if (!t->valid)
		return 0;
	if (t->mode != 0 && t->mode != 1) {
		*clear = 1;
		return -1 - RC_DROP_FORMAT;
	}
	/* A count that moved, or (mode 1) an odd count, is a write under way: gpsd and ntpd's
	 * writers bump count before and after the fields, so it is odd only mid-write. A
	 * writer that clears valid first shows up as !valid above; one that does not (the
	 * protocol does not ask it to) is caught only here, even if it stalls mid-write. */
	if (c1 != c2 || (t->mode == 1 && (c1 & 1)))
		return -1 - RC_DROP_TORN; /* left valid: the finished write is read next time */
	*clear = 1;
	if (t->clock_usec < 0 || t->clock_usec >= 1000000 || t->receive_usec < 0 ||
	    t->receive_usec >= 1000000)
		return -1 - RC_DROP_FORMAT;
	if (t->clock_nsec / 1000 == (unsigned)t->clock_usec &&
	    t->receive_nsec / 1000 == (unsigned)t->receive_usec) {
		cnsec = t->clock_nsec;
		rnsec = t->receive_nsec;
	} else {
		cnsec = (int64_t)t->clock_usec * 1000;
		rnsec = (int64_t)t->receive_usec * 1000;
	}
	if (rc_ts_ns(t->clock_sec, cnsec, &cns) < 0 || rc_ts_ns(t->receive_sec, rnsec, &rns) < 0)
		return -1 - RC_DROP_FORMAT;
	if (t->leap < 0 || t->leap > 3 || t->precision < SHM_PREC_MIN ||
	    t->precision > SHM_PREC_MAX)
		return -1 - RC_DROP_FORMAT;
	if (rns > now_ns + RC_FUTURE_NS)
		return -1 - RC_DROP_FUTURE;
	if (rns < now_ns - max_age_ns || rns <= last_ns)
		return -1 - RC_DROP_STALE;
	memset(out, 0, sizeof(*out));
	out->local_ns = rns;
	out->ref_ns = cns;
	out->leap = t->leap;
	out->precision = t->precision;
	out->err = 0;
	out->seq = (uint32_t)c2;
	return 1;
}

static int shm_read(struct rc_reader *r, int64_t now_ns, struct rc_sample *out, int max)
{
	struct shm_priv *p = r->priv;
	volatile struct rc_shm_time *s = p->seg;
	struct rc_shm_time t;
	int c1, c2, clear, rc;

	if (max < 1)
		return 0;
	c1 = s->count;
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* the fields are read after count */
	t.valid = s->valid;
	t.mode = s->mode;
	t.clock_sec = s->clock_sec;
	t.clock_usec = s->clock_usec;
	t.clock_nsec = s->clock_nsec;
	t.receive_sec = s->receive_sec;
	t.receive_usec = s->receive_usec;
	t.receive_nsec = s->receive_nsec;
	t.leap = s->leap;
	t.precision = s->precision;
	t.nsamples = s->nsamples;
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* ... and before count is read again */
	c2 = s->count;
	rc = rc_shm_judge(&t, c1, c2, now_ns, p->max_age_ns, p->last_ns, out, &clear);
	if (clear)
		s->valid = 0;
	if (rc < 0) {
		rc_drop(r, (enum rc_drop)(-rc - 1));
		return 0;
	}
	if (rc == 1) {
		p->last_ns = out->local_ns;
		r->samples++;
	}
	return rc;
}

static void shm_close(struct rc_reader *r)
{
	struct shm_priv *p = r->priv;

	shmdt(p->base);
	free(p);
}

static const struct rc_reader_ops shm_ops = {
	.kind = "SHM",
	.read = shm_read,
	.close = shm_close,
};

struct rc_reader *rc_shm_open(int key, int perm, int64_t max_age_ns, char *why, size_t whylen)
{
	struct shm_priv *p;
	struct rc_reader *r;
	char name[RC_NAME_MAX];
	void *seg;
	int id, created = 1;

	if (perm < 0 || perm > 0777) {
		snprintf(why, whylen, "SHM key 0x%x: perm %o, allowed 0-0777", key, perm);
		return NULL;
	}
	id = shmget(key, sizeof(struct rc_shm_time), IPC_CREAT | IPC_EXCL | perm);
	if (id < 0 && errno == EEXIST) {
		created = 0;
		id = shmget(key, sizeof(struct rc_shm_time), 0);
	}
	if (id < 0) {
		snprintf(why, whylen, "SHM key 0x%x: shmget: %s%s", key, strerror(errno),
			 errno == EINVAL ? " (an existing segment smaller than 96 bytes)" : "");
		return NULL;
	}
	seg = shmat(id, NULL, 0);
	if (seg == (void *)-1) {
		snprintf(why, whylen, "SHM key 0x%x: shmat: %s", key, strerror(errno));
		if (created)
			shmctl(id, IPC_RMID, NULL);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	snprintf(name, sizeof(name), "SHM key 0x%x", key);
	r = p ? rc_new(&shm_ops, p, name) : NULL;
	if (!r) {
		snprintf(why, whylen, "SHM key 0x%x: out of memory", key);
		free(p);
		shmdt(seg);
		if (created)
			shmctl(id, IPC_RMID, NULL);
		return NULL;
	}
	p->seg = seg;
	p->base = seg;
	p->id = id;
	p->created = created;
	p->max_age_ns = max_age_ns;
	p->last_ns = INT64_MIN;
	return r;
}

int rc_shm_remove_created(struct rc_reader *r)
{
	struct shm_priv *p = r->priv;

	if (!p->created)
		return 0;
	return shmctl(p->id, IPC_RMID, NULL) < 0 ? -errno : 0;
}
