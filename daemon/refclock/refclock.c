/*
 * What every reference-clock reader shares: the real kernel calls behind
 * struct rc_sys, the reader object, the drop reasons' names and the
 * checked conversion of (s, ns) to ns.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "daemon/refclock/refclock.h"

const char *const rc_drop_names[RC_DROP_N] = {
	[RC_DROP_TORN] = "torn",     [RC_DROP_STALE] = "stale",	    [RC_DROP_FUTURE] = "future",
	[RC_DROP_FORMAT] = "format", [RC_DROP_BADTIME] = "badtime", [RC_DROP_MISSED] = "missed",
};

static int sys_open(const char *path, int flags)
{
	return open(path, flags);
}

static int sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

const struct rc_sys rc_sys_real = {
	.open = sys_open,
	.ioctl = sys_ioctl,
	.fstat = fstat,
	.close = close,
};

struct rc_reader *rc_new(const struct rc_reader_ops *ops, void *priv, const char *name)
{
	struct rc_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ops = ops;
	r->priv = priv;
	r->fd = -1;
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

void rc_close(struct rc_reader *r)
{
	if (!r)
		return;
	r->ops->close(r);
	free(r);
}

int rc_ts_ns(int64_t sec, int64_t nsec, int64_t *ns)
{
	int64_t s;

	if (nsec < 0 || nsec >= NS_PER_SEC)
		return -1;
	if (__builtin_mul_overflow(sec, NS_PER_SEC, &s) || __builtin_add_overflow(s, nsec, ns))
		return -1;
	return 0;
}
