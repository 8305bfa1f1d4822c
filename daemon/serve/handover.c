/*
 * The takeover's exchange (see handover.h). The request and the answer
 * are control-protocol messages (proto/ctlproto.h), so a predecessor
 * that does not know the command answers as it would any unknown one;
 * the descriptors follow in fdpass batches. Everything from the peer is
 * checked: the answer's header, its status, its keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon/serve/handover.h"
#include "proto/ctlproto.h"

#define HO_ANSWER_MAX 512 /* bytes of the predecessor's answer payload: three short lines */

static int64_t ho_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly LEN bytes from FD into BUF by DEADLINE (ms); 0, or -errno. */
static int ho_read_full(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - ho_mono_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -ETIMEDOUT : -errno;
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -EPIPE : -errno;
		got += (size_t)n;
	}
	return 0;
}

int ho_request(const char *path, struct ho_peer *peer, struct fdp_item *items, int max, int *n,
	       int *conn, char *why, size_t len)
{
	uint8_t req[CTL_HDR_LEN], buf[CTL_HDR_LEN + HO_ANSWER_MAX];
	struct sockaddr_un sa;
	struct ctl_msg m;
	char val[CTL_VAL_MAX];
	int fd, r;

	*n = 0;
	*conn = -1;
	memset(peer, 0, sizeof(*peer));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, len, "control socket path too long");
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, len, "no horod to take over from at %s: %s", path, strerror(errno));
		goto fail;
	}
	ctl_request_encode(CTL_CMD_TAKEOVER, req);
	if (send(fd, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
		snprintf(why, len, "%s: send: %s", path, strerror(errno));
		goto fail;
	}
	/* The answer: its header, then its (bounded) payload. */
	r = ho_read_full(fd, buf, CTL_HDR_LEN, ho_mono_ms() + HO_TIMEOUT_MS);
	if (r == 0) {
		/* 0: a payload follows (the header is decoded), > 0: none, < 0: not ours. */
		r = ctl_decode(buf, CTL_HDR_LEN, CTL_T_RESPONSE, &m);
		if (r < 0)
			r = -EPROTO;
		else if (r == 0 && m.h.length > HO_ANSWER_MAX)
			r = -EMSGSIZE;
		else if (r == 0 && (r = ho_read_full(fd, buf + CTL_HDR_LEN, m.h.length,
						     ho_mono_ms() + HO_TIMEOUT_MS)) == 0)
			r = ctl_decode(buf, CTL_HDR_LEN + m.h.length, CTL_T_RESPONSE, &m) > 0
				    ? 0
				    : -EPROTO;
		else if (r > 0)
			r = 0;
	}
	if (r < 0) {
		snprintf(why, len, "%s: no takeover answer: %s", path, strerror(-r));
		goto fail;
	}
	if (m.h.command != CTL_CMD_TAKEOVER || m.h.status != CTL_S_OK) {
		snprintf(why, len, "the horod at %s refuses the takeover (status %u%s)", path,
			 m.h.status,
			 m.h.status == CTL_S_UNKNOWN_CMD ? ": it is too old to hand over" : "");
		goto fail;
	}
	if (ctl_kv_get((const char *)m.payload, m.h.length, "pid", val, sizeof(val)) < 0 ||
	    (peer->pid = atoi(val)) <= 1) {
		snprintf(why, len, "%s: the takeover answer names no process", path);
		goto fail;
	}
	if (ctl_kv_get((const char *)m.payload, m.h.length, "synced", val, sizeof(val)) == 0)
		peer->synced = atoi(val) == 1;
	if (ctl_kv_get((const char *)m.payload, m.h.length, "watchdog_ns", val, sizeof(val)) == 0)
		peer->watchdog_ns = strtoll(val, NULL, 10) > 0 ? strtoll(val, NULL, 10) : 0;
	if (ctl_kv_get((const char *)m.payload, m.h.length, "version", val, sizeof(val)) == 0) {
		val[sizeof(peer->version) - 1] = '\0';
		memcpy(peer->version, val, strlen(val) + 1);
	}
	r = fdp_recv(fd, items, max, HO_TIMEOUT_MS);
	if (r < 0) {
		snprintf(why, len, "%s: its descriptors: %s", path, strerror(-r));
		goto fail;
	}
	*n = r;
	*conn = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

int ho_release(int conn, int timeout_ms)
{
	const char d = HO_DRAIN;
	int64_t end = ho_mono_ms() + timeout_ms;
	uint8_t junk;
	int r = 0;

	if (send(conn, &d, 1, MSG_NOSIGNAL) != 1) {
		r = -errno;
		close(conn);
		return r;
	}
	/* Its exit closes the connection; nothing else is expected on it. */
	r = ho_read_full(conn, &junk, 1, end);
	close(conn);
	return r == -EPIPE ? 0 : r < 0 ? r : -EPROTO;
}

int ho_offer(int conn, int synced, int64_t watchdog_ns, const struct fdp_item *items, int n)
{
	struct timeval tv = {.tv_sec = HO_TIMEOUT_MS / 1000, .tv_usec = 0};
	uint8_t buf[CTL_HDR_LEN + HO_ANSWER_MAX];
	struct ctl_header h;
	size_t p = 0;
	int fl;

	/* Blocking, bounded: the successor reads at once, or it is gone. */
	fl = fcntl(conn, F_GETFL);
	if (fl < 0 || fcntl(conn, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	p = ctl_kv_put((char *)buf + CTL_HDR_LEN, HO_ANSWER_MAX, p, "pid", "%d", (int)getpid());
	p = ctl_kv_put((char *)buf + CTL_HDR_LEN, HO_ANSWER_MAX, p, "synced", "%d", synced ? 1 : 0);
	p = ctl_kv_put((char *)buf + CTL_HDR_LEN, HO_ANSWER_MAX, p, "version", "%s", HOROD_VERSION);
	p = ctl_kv_put((char *)buf + CTL_HDR_LEN, HO_ANSWER_MAX, p, "watchdog_ns", "%lld",
		       (long long)watchdog_ns);
	memset(&h, 0, sizeof(h));
	h.version = CTL_VERSION;
	h.type = CTL_T_RESPONSE;
	h.command = CTL_CMD_TAKEOVER;
	h.status = CTL_S_OK;
	h.length = (uint32_t)p;
	ctl_header_encode(&h, buf);
	if (send(conn, buf, CTL_HDR_LEN + p, MSG_NOSIGNAL) != (ssize_t)(CTL_HDR_LEN + p))
		return -EPIPE;
	return fdp_send(conn, items, n);
}

int ho_read_drain(int conn)
{
	char c;
	ssize_t n = recv(conn, &c, 1, MSG_DONTWAIT);

	if (n == 1)
		return c == HO_DRAIN ? 1 : -1;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}
