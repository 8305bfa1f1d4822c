/*
 * PPS reader over linux/pps.h. Opened read-write, because setting the
 * capture mode (PPS_SETPARAMS) needs write access; when only read access
 * is granted, the device must already capture the wanted edge (set by
 * whoever has the right, e.g. ppstest or udev). A fetch returns both
 * edges' last stamps and sequence numbers; only the configured one is
 * used.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/pps.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/refclock/rc_pps.h"

struct pps_priv {
	const struct rc_sys *sys;
	int fd;
	int clear;
	int have_seq;
	uint32_t last_seq;
};

static int pps_read(struct rc_reader *r, int64_t now_ns, struct rc_sample *out, int max)
{
	struct pps_priv *p = r->priv;
	struct pps_fdata fd;
	struct pps_ktime *t;
	uint32_t seq;
	int64_t ns;

	(void)now_ns;
	if (max < 1)
		return 0;
	memset(&fd, 0, sizeof(fd));
	fd.timeout.sec = 0; /* a valid zero timeout (no PPS_TIME_INVALID): do not wait */
	fd.timeout.nsec = 0;
	fd.timeout.flags = 0;
	if (p->sys->ioctl(p->fd, PPS_FETCH, &fd) < 0)
		return -errno;
	seq = p->clear ? fd.info.clear_sequence : fd.info.assert_sequence;
	t = p->clear ? &fd.info.clear_tu : &fd.info.assert_tu;
	if ((t->sec == 0 && t->nsec == 0) || (p->have_seq && seq == p->last_seq))
		return 0; /* no edge yet, or the same edge again */
	if (p->have_seq && seq - p->last_seq > 1)
		r->drops[RC_DROP_MISSED] += seq - p->last_seq - 1;
	p->have_seq = 1;
	p->last_seq = seq;
	if (rc_ts_ns(t->sec, t->nsec, &ns) < 0) {
		rc_drop(r, RC_DROP_FORMAT);
		return 0;
	}
	memset(out, 0, sizeof(*out));
	out->local_ns = ns;
	out->ref_ns = ns;
	out->flags = RC_PULSE;
	out->seq = seq;
	r->samples++;
	return 1;
}

static void pps_close(struct rc_reader *r)
{
	struct pps_priv *p = r->priv;

	p->sys->close(p->fd);
	free(p);
}

static const struct rc_reader_ops pps_ops = {
	.kind = "PPS",
	.read = pps_read,
	.close = pps_close,
};

struct rc_reader *rc_pps_open(const char *path, int clear, const struct rc_sys *sys, char *why,
			      size_t whylen)
{
	int edge = clear ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT;
	const char *ename = clear ? "clear" : "assert";
	struct pps_kparams params;
	struct pps_priv *p;
	struct rc_reader *r;
	struct stat st;
	char name[RC_NAME_MAX];
	int fd, caps = 0, rdonly = 0;

	if (!sys)
		sys = &rc_sys_real;
	fd = sys->open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		rdonly = 1;
		fd = sys->open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		int e = errno;

		snprintf(why, whylen, "PPS %s: cannot open: %s%s", path, strerror(e),
			 e == ENOENT ? " (no such PPS device on this machine: see ls /dev/pps*)"
				     : "");
		return NULL;
	}
	if (sys->fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		snprintf(why, whylen, "PPS %s: not a character device", path);
		goto bad;
	}
	if (sys->ioctl(fd, PPS_GETCAP, &caps) < 0) {
		snprintf(why, whylen, "PPS %s: not an RFC 2783 PPS device (PPS_GETCAP: %s)", path,
			 strerror(errno));
		goto bad;
	}
	if (!(caps & edge) || !(caps & PPS_TSFMT_TSPEC)) {
		snprintf(why, whylen,
			 "PPS %s: cannot capture the %s edge with timespec stamps "
			 "(capabilities 0x%x)",
			 path, ename, caps);
		goto bad;
	}
	memset(&params, 0, sizeof(params));
	if (sys->ioctl(fd, PPS_GETPARAMS, &params) < 0) {
		snprintf(why, whylen, "PPS %s: PPS_GETPARAMS: %s", path, strerror(errno));
		goto bad;
	}
	if (!(params.mode & edge) || !(params.mode & PPS_TSFMT_TSPEC)) {
		if (rdonly) {
			snprintf(why, whylen,
				 "PPS %s: read-only, and it does not capture the %s edge yet", path,
				 ename);
			goto bad;
		}
		params.api_version = PPS_API_VERS;
		params.mode |= edge | PPS_TSFMT_TSPEC;
		if (sys->ioctl(fd, PPS_SETPARAMS, &params) < 0) {
			snprintf(why, whylen, "PPS %s: PPS_SETPARAMS (capture %s): %s", path, ename,
				 strerror(errno));
			goto bad;
		}
	}
	p = calloc(1, sizeof(*p));
	snprintf(name, sizeof(name), "PPS %s (%s)", path, ename);
	r = p ? rc_new(&pps_ops, p, name) : NULL;
	if (!r) {
		snprintf(why, whylen, "PPS %s: out of memory", path);
		free(p);
		goto bad;
	}
	p->sys = sys;
	p->fd = fd;
	p->clear = clear;
	return r;
bad:
	sys->close(fd);
	return NULL;
}
