/*
 * SCM_RIGHTS in batches (see fdpass.h). On the wire, each batch:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       magic "HOFD"                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |    version    |     last      |       count (0-FDP_BATCH)     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       reserved (0)                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       reserved (0)                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   FDP_BATCH names of FDP_NAME_MAX bytes, NUL-terminated,      |
 *   |   the first COUNT used, the rest zero                         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * with COUNT descriptors in an SCM_RIGHTS message on the first byte.
 * Numbers in host order: both ends are horod on one machine.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "daemon/sys/fdpass.h"

struct fdp_msg {
	uint32_t magic;
	uint8_t version;
	uint8_t last;
	uint16_t count;
	uint32_t reserved[2];
	char names[FDP_BATCH][FDP_NAME_MAX];
};

_Static_assert(sizeof(struct fdp_msg) == 16 + FDP_BATCH * FDP_NAME_MAX, "no padding on the wire");

static int64_t fdp_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send one batch of COUNT items (ITEMS may be NULL when COUNT is 0). */
static int fdp_send_batch(int sock, const struct fdp_item *items, int count, int last)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FDP_BATCH)];
		struct cmsghdr align;
	} ctl;
	struct fdp_msg m;
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	size_t off = 0;
	ssize_t n;
	int i;

	memset(&m, 0, sizeof(m));
	m.magic = FDP_MAGIC;
	m.version = FDP_VERSION;
	m.last = (uint8_t)last;
	m.count = (uint16_t)count;
	for (i = 0; i < count; i++)
		memcpy(m.names[i], items[i].name, strnlen(items[i].name, FDP_NAME_MAX - 1));
	if (count > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
		for (i = 0; i < count; i++)
			memcpy(CMSG_DATA(c) + sizeof(int) * (size_t)i, &items[i].fd, sizeof(int));
	}
	/* The descriptors travel with the first byte; the rest may take more calls. */
	while (off < sizeof(m)) {
		iov.iov_base = (char *)&m + off;
		iov.iov_len = sizeof(m) - off;
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

int fdp_send(int sock, const struct fdp_item *items, int n)
{
	int done = 0, k, ret;

	if (n < 0 || n > FDP_MAX)
		return -EINVAL;
	do {
		k = n - done < FDP_BATCH ? n - done : FDP_BATCH;
		ret = fdp_send_batch(sock, items + done, k, done + k == n);
		if (ret < 0)
			return ret;
		done += k;
	} while (done < n);
	return 0;
}

/* Close the COUNT descriptors of an SCM_RIGHTS message C. */
static void fdp_close_cmsg(struct cmsghdr *c, size_t count)
{
	size_t i;
	int fd;

	for (i = 0; i < count; i++) {
		memcpy(&fd, CMSG_DATA(c) + sizeof(int) * i, sizeof(int));
		close(fd);
	}
}

/*
 * Receive one whole batch into M with its descriptors in FDS (*NFDS of
 * them), waiting until DEADLINE (CLOCK_MONOTONIC ms). 0 or -errno; on
 * failure no descriptor of this batch stays open.
 */
static int fdp_recv_batch(int sock, struct fdp_msg *m, int *fds, int *nfds, int64_t deadline)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FDP_BATCH)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;
	size_t off = 0, count;
	ssize_t n;
	int ret = 0;

	*nfds = 0;
	while (off < sizeof(*m)) {
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		int64_t left = deadline - fdp_mono_ms();

		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n == 0 ? -ETIMEDOUT : -errno;
			break;
		}
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = (char *)m + off;
		iov.iov_len = sizeof(*m) - off;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n == 0 ? -EPIPE : -errno;
			break;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
			    c->cmsg_len < CMSG_LEN(0))
				continue;
			count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			/* Descriptors only on the first byte, at most a batch: else hostile. */
			if (off != 0 || *nfds + count > FDP_BATCH) {
				fdp_close_cmsg(c, count);
				ret = -EPROTO;
				continue;
			}
			memcpy(fds + *nfds, CMSG_DATA(c), sizeof(int) * count);
			*nfds += (int)count;
		}
		if (mh.msg_flags & MSG_CTRUNC)
			ret = -EPROTO; /* some descriptors were dropped by the kernel */
		if (ret < 0)
			break;
		off += (size_t)n;
	}
	if (ret == 0 && (m->magic != FDP_MAGIC || m->version != FDP_VERSION ||
			 m->count > FDP_BATCH || m->count != *nfds || m->last > 1))
		ret = -EPROTO;
	if (ret < 0) {
		while (*nfds > 0)
			close(fds[--*nfds]);
	}
	return ret;
}

int fdp_recv(int sock, struct fdp_item *items, int max, int timeout_ms)
{
	struct fdp_msg m;
	int fds[FDP_BATCH], nfds, got = 0, i, ret;

	for (;;) {
		ret = fdp_recv_batch(sock, &m, fds, &nfds, fdp_mono_ms() + timeout_ms);
		if (ret < 0)
			break;
		if (got + nfds > max) {
			while (nfds > 0)
				close(fds[--nfds]);
			ret = -EMSGSIZE;
			break;
		}
		for (i = 0; i < nfds; i++) {
			memcpy(items[got].name, m.names[i], FDP_NAME_MAX);
			items[got].name[FDP_NAME_MAX - 1] = '\0';
			items[got].fd = fds[i];
			got++;
		}
		if (m.last)
			return got;
	}
	fdp_close_all(items, got);
	return ret;
}

void fdp_close_all(struct fdp_item *items, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (items[i].fd >= 0)
			close(items[i].fd);
		items[i].fd = -1;
	}
}
