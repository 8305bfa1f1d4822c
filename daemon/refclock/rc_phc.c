/*
 * PHC reader over the kernel's PTP character device UAPI
 * (linux/ptp_clock.h, present in the 6.1 headers). A device is accepted
 * only if it is a character device that answers PTP_CLOCK_GETCAPS. On
 * the first read the three ioctls are tried in order; "not supported"
 * (EOPNOTSUPP, ENOTTY, EINVAL: drivers answer each of them) moves to the
 * next, any other error is returned, and the first that works is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ptp_clock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/refclock/rc_phc.h"

struct phc_priv {
	const struct rc_sys *sys;
	enum rc_phc_mode mode;
	int fd; /* the device */
	char path[RC_NAME_MAX / 2];
};

const char *rc_phc_mode_name(enum rc_phc_mode mode)
{
	switch (mode) {
	case RC_PHC_PRECISE:
		return "PTP_SYS_OFFSET_PRECISE";
	case RC_PHC_EXTENDED:
		return "PTP_SYS_OFFSET_EXTENDED";
	case RC_PHC_PLAIN:
		return "PTP_SYS_OFFSET";
	default:
		return "none yet";
	}
}

int rc_phc_pick(const struct rc_phc_reading *r, int n, struct rc_sample *out)
{
	int64_t best = INT64_MAX;
	int i, k = -1;

	for (i = 0; i < n; i++) {
		int64_t w = r[i].after_ns - r[i].before_ns;

		if (w >= 0 && w < best) {
			best = w;
			k = i;
		}
	}
	if (k < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->local_ns = r[k].before_ns + best / 2;
	out->ref_ns = r[k].phc_ns;
	out->err = (double)best / 2 / NS_PER_SEC;
	return 0;
}

/* ptp_clock_time to ns; -1 when out of range. */
static int pct_ns(const struct ptp_clock_time *t, int64_t *ns)
{
	return rc_ts_ns(t->sec, t->nsec, ns);
}

/* 1 when ERR means "this ioctl is not supported by the device". */
static int unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOTTY || err == EINVAL;
}

/* One call of MODE into R (N readings at most); how many, or -errno. */
static int phc_call(struct phc_priv *p, int fd, enum rc_phc_mode mode, struct rc_phc_reading *r)
{
	int i;

	if (mode == RC_PHC_PRECISE) {
		struct ptp_sys_offset_precise o;

		memset(&o, 0, sizeof(o));
		if (p->sys->ioctl(fd, PTP_SYS_OFFSET_PRECISE, &o) < 0)
			return -errno;
		if (pct_ns(&o.sys_realtime, &r[0].before_ns) < 0 ||
		    pct_ns(&o.device, &r[0].phc_ns) < 0)
			return -ERANGE;
		r[0].after_ns = r[0].before_ns;
		return 1;
	}
	if (mode == RC_PHC_EXTENDED) {
		struct ptp_sys_offset_extended o;

		memset(&o, 0, sizeof(o));
		o.n_samples = RC_PHC_READINGS;
		if (p->sys->ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &o) < 0)
			return -errno;
		for (i = 0; i < RC_PHC_READINGS; i++)
			if (pct_ns(&o.ts[i][0], &r[i].before_ns) < 0 ||
			    pct_ns(&o.ts[i][1], &r[i].phc_ns) < 0 ||
			    pct_ns(&o.ts[i][2], &r[i].after_ns) < 0)
				return -ERANGE;
		return RC_PHC_READINGS;
	} else {
		struct ptp_sys_offset o;

		memset(&o, 0, sizeof(o));
		o.n_samples = RC_PHC_READINGS;
		if (p->sys->ioctl(fd, PTP_SYS_OFFSET, &o) < 0)
			return -errno;
		/* ts[] alternates system, PHC, system, ...: reading i is ts[2i..2i+2]. */
		for (i = 0; i < RC_PHC_READINGS; i++)
			if (pct_ns(&o.ts[2 * i], &r[i].before_ns) < 0 ||
			    pct_ns(&o.ts[2 * i + 1], &r[i].phc_ns) < 0 ||
			    pct_ns(&o.ts[2 * i + 2], &r[i].after_ns) < 0)
				return -ERANGE;
		return RC_PHC_READINGS;
	}
}

static int phc_read(struct rc_reader *r, int64_t now_ns, struct rc_sample *out, int max)
{
	struct phc_priv *p = r->priv;
	struct rc_phc_reading rd[RC_PHC_READINGS];
	enum rc_phc_mode m;
	int n = -EOPNOTSUPP;

	(void)now_ns;
	if (max < 1)
		return 0;
	if (p->mode != RC_PHC_UNKNOWN) {
		n = phc_call(p, p->fd, p->mode, rd);
	} else {
		for (m = RC_PHC_PRECISE; m <= RC_PHC_PLAIN; m++) {
			n = phc_call(p, p->fd, m, rd);
			if (n >= 0) {
				p->mode = m;
				snprintf(r->name, sizeof(r->name), "PHC %s (%s)", p->path,
					 rc_phc_mode_name(m));
				break;
			}
			if (!unsupported(-n))
				break;
		}
	}
	if (n == -ERANGE) {
		rc_drop(r, RC_DROP_FORMAT);
		return 0;
	}
	if (n < 0)
		return n;
	if (rc_phc_pick(rd, n, out) < 0) {
		rc_drop(r, RC_DROP_BADTIME);
		return 0;
	}
	r->samples++;
	return 1;
}

static void phc_close(struct rc_reader *r)
{
	struct phc_priv *p = r->priv;

	p->sys->close(p->fd);
	free(p);
}

static const struct rc_reader_ops phc_ops = {
	.kind = "PHC",
	.read = phc_read,
	.close = phc_close,
};

enum rc_phc_mode rc_phc_mode(const struct rc_reader *r)
{
	return ((const struct phc_priv *)r->priv)->mode;
}

struct rc_reader *rc_phc_open(const char *path, const struct rc_sys *sys, char *why, size_t whylen)
{
	struct ptp_clock_caps caps;
	struct phc_priv *p;
	struct rc_reader *r;
	struct stat st;
	char name[RC_NAME_MAX];
	int fd;

	if (!sys)
		sys = &rc_sys_real;
	if (strlen(path) >= sizeof(p->path)) {
		snprintf(why, whylen, "PHC %.40s...: path too long", path);
		return NULL;
	}
	fd = sys->open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(why, whylen, "PHC %s: cannot open: %s%s", path, strerror(e),
			 e == ENOENT ? " (no such PTP hardware clock on this machine: "
				       "see ls /dev/ptp* and ethtool -T IFACE)"
				     : "");
		return NULL;
	}
	if (sys->fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		snprintf(why, whylen, "PHC %s: not a character device", path);
		sys->close(fd);
		return NULL;
	}
	memset(&caps, 0, sizeof(caps));
	if (sys->ioctl(fd, PTP_CLOCK_GETCAPS, &caps) < 0) {
		snprintf(why, whylen, "PHC %s: not a PTP hardware clock (PTP_CLOCK_GETCAPS: %s)",
			 path, strerror(errno));
		sys->close(fd);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	snprintf(name, sizeof(name), "PHC %s", path);
	r = p ? rc_new(&phc_ops, p, name) : NULL;
	if (!r) {
		snprintf(why, whylen, "PHC %s: out of memory", path);
		free(p);
		sys->close(fd);
		return NULL;
	}
	p->sys = sys;
	memcpy(p->path, path, strlen(path) + 1);
	p->fd = fd; /* r->fd stays -1: a PHC is read on a timer, it has nothing to wait for */
	return r;
}
