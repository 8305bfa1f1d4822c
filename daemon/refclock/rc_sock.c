/*
 * SOCK reader: the socket is non-blocking and read until empty (at most
 * RC_SOCK_BATCH datagrams per call); each datagram is judged by
 * rc_sock_judge (pure). recv with MSG_TRUNC returns a datagram's true
 * length, so an oversized one is refused instead of being read cut short.
 * The socket file is removed at close.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/refclock/rc_sock.h"

_Static_assert(sizeof(struct rc_sock_sample) == 40 || sizeof(time_t) != 8,
	       "struct rc_sock_sample must match chrony's 40-byte layout on LP64");

struct sock_priv {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int64_t max_age_ns;
	int64_t last_ns;
};

int rc_sock_judge(const void *buf, size_t len, int64_t now_ns, int64_t max_age_ns, int64_t last_ns,
		  struct rc_sample *out)
{
	struct rc_sock_sample s;
	int64_t local, off;

	if (len != sizeof(s))
		return -1 - RC_DROP_FORMAT;
	memcpy(&s, buf, sizeof(s));
	if (s.magic != RC_SOCK_MAGIC)
		return -1 - RC_DROP_FORMAT;
	if (rc_ts_ns(s.tv.tv_sec, (int64_t)s.tv.tv_usec * 1000, &local) < 0)
		return -1 - RC_DROP_FORMAT;
	if (!isfinite(s.offset) || fabs(s.offset) > RC_SOCK_OFFSET_MAX || s.leap < 0 || s.leap > 3)
		return -1 - RC_DROP_FORMAT;
	if (local > now_ns + RC_FUTURE_NS)
		return -1 - RC_DROP_FUTURE;
	if (local < now_ns - max_age_ns || local <= last_ns)
		return -1 - RC_DROP_STALE;
	off = llround(s.offset * NS_PER_SEC);
	memset(out, 0, sizeof(*out));
	out->local_ns = local;
	out->ref_ns = local + off;
	out->leap = s.leap;
	out->flags = s.pulse ? RC_PULSE : 0;
	return 1;
}

static int sock_read(struct rc_reader *r, int64_t now_ns, struct rc_sample *out, int max)
{
	struct sock_priv *p = r->priv;
	int n = 0, i;

	for (i = 0; i < RC_SOCK_BATCH && n < max; i++) {
		char buf[sizeof(struct rc_sock_sample) + 16];
		ssize_t len = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		int rc;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return n ? n : -errno;
		}
		rc = rc_sock_judge(buf, (size_t)len > sizeof(buf) ? sizeof(buf) + 1 : (size_t)len,
				   now_ns, p->max_age_ns, p->last_ns, &out[n]);
		if (rc < 0) {
			rc_drop(r, (enum rc_drop)(-rc - 1));
			continue;
		}
		p->last_ns = out[n].local_ns;
		r->samples++;
		n++;
	}
	return n;
}

static void sock_close(struct rc_reader *r)
{
	struct sock_priv *p = r->priv;

	close(r->fd);
	unlink(p->path);
	free(p);
}

static const struct rc_reader_ops sock_ops = {
	.kind = "SOCK",
	.read = sock_read,
	.close = sock_close,
};

/* 1 when something answers on the Unix datagram socket at ADDR (a live owner). */
static int sock_alive(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), alive;

	if (fd < 0)
		return 0;
	alive = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return alive;
}

struct rc_reader *rc_sock_open(const char *path, int perm, int64_t max_age_ns, char *why,
			       size_t whylen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct sock_priv *p = NULL;
	struct rc_reader *r = NULL;
	struct stat st;
	char name[RC_NAME_MAX];
	int fd;

	if (path[0] != '/' || strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(why, whylen, "SOCK %s: not an absolute path of at most %zu bytes", path,
			 sizeof(addr.sun_path) - 1);
		return NULL;
	}
	if (perm < 0 || perm > 0777) {
		snprintf(why, whylen, "SOCK %s: perm %o, allowed 0-0777", path, perm);
		return NULL;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(why, whylen, "SOCK %s: exists and is not a socket", path);
			return NULL;
		}
		if (sock_alive(&addr)) {
			snprintf(why, whylen, "SOCK %s: another process is bound to it", path);
			return NULL;
		}
		unlink(path); /* a stale socket left by a crash */
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		snprintf(why, whylen, "SOCK %s: %s: %s", path, fd < 0 ? "socket" : "bind",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (chmod(path, (mode_t)perm) < 0) {
		snprintf(why, whylen, "SOCK %s: chmod: %s", path, strerror(errno));
		goto bad;
	}
	p = calloc(1, sizeof(*p));
	snprintf(name, sizeof(name), "SOCK %s", path);
	r = p ? rc_new(&sock_ops, p, name) : NULL;
	if (!r) {
		snprintf(why, whylen, "SOCK %s: out of memory", path);
		goto bad;
	}
	memcpy(p->path, path, strlen(path) + 1);
	p->max_age_ns = max_age_ns;
	p->last_ns = INT64_MIN;
	r->fd = fd;
	return r;
bad:
	free(p);
	close(fd);
	unlink(path);
	return NULL;
}
