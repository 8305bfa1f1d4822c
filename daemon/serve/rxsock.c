/*
 * Socket set-up and control-message parsing for the receive path. Every
 * option that can fail is reported with its name; a timestamping option
 * the kernel refuses is not fatal (the next method is tried), anything
 * needed to serve correctly is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <linux/net_tstamp.h>
#include <linux/errqueue.h>

#include "daemon/serve/rxsock.h"
#include "daemon/serve/txstamp.h"
#include "proto/nstime.h"

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

/* 1 when ADDR is the IPv4 or IPv6 wildcard. */
static int is_wildcard(const struct sockaddr *addr)
{
	if (addr->sa_family == AF_INET)
		return ((const struct sockaddr_in *)addr)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (addr->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)addr)->sin6_addr);
	return 0;
}

/*
 * The options a serving socket FD for ADDR needs besides SO_REUSEPORT and
 * IPV6_V6ONLY (which only count before bind): the receive buffer,
 * timestamps, PKTINFO; OUT filled. NULL, or the option that failed.
 */
static const char *rx_setup(int fd, const struct sockaddr *addr, int hw, struct rx_sock *out)
{
	/*
	 * Software RX stamps (the kernel sets them for every datagram), raw NIC
	 * stamps with HW. Transmit stamps are asked for per reply (txstamp.h):
	 * here only how they come back: with a key (OPT_ID), without the
	 * packet when the key is ours (OPT_TSONLY), software and hardware both
	 * with HW (OPT_TX_SWHW).
	 */
	const int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
			    SOF_TIMESTAMPING_OPT_ID |
			    (txs_kernel_own_keys() ? SOF_TIMESTAMPING_OPT_TSONLY : 0) |
			    (hw ? SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE |
					     SOF_TIMESTAMPING_OPT_TX_SWHW
				: 0);

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->family = addr->sa_family;
	out->wildcard = is_wildcard(addr);
	out->pktinfo = out->wildcard || hw;
	/* As root, go past rmem_max; otherwise take what the limit allows. */
	if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, RX_RCVBUF_BYTES) < 0)
		(void)set_int(fd, SOL_SOCKET, SO_RCVBUF, RX_RCVBUF_BYTES);

	if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, tsflags) == 0)
		out->ts = RX_TS_TIMESTAMPING;
	else if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) == 0)
		out->ts = RX_TS_TIMESTAMPNS;
	else
		out->ts = RX_TS_NONE;

	if (out->pktinfo &&
	    (addr->sa_family == AF_INET ? set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0
					: set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0))
		return addr->sa_family == AF_INET ? "IP_PKTINFO" : "IPV6_RECVPKTINFO";
	return NULL;
}

int rx_socket_open(const struct sockaddr *addr, socklen_t addrlen, int hw, struct rx_sock *out,
		   char *err, size_t errlen)
{
	const char *what;
	int fd;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		what = "socket";
		goto fail;
	}
	what = "SO_REUSEPORT";
	if (set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
		goto fail;
	if (addr->sa_family == AF_INET6) {
		what = "IPV6_V6ONLY";
		if (set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
			goto fail;
	}
	what = rx_setup(fd, addr, hw, out);
	if (what)
		goto fail;
	what = "bind";
	if (bind(fd, addr, addrlen) < 0)
		goto fail;
	out->fd = fd;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int rx_socket_rcvbuf(int fd, int bytes)
{
	if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes) == 0)
		return 0;
	return set_int(fd, SOL_SOCKET, SO_RCVBUF, bytes);
}

/* 1 when A and B are the same address and port (family, address, port; scope ignored). */
static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

int rx_socket_adopt(int fd, const struct sockaddr *addr, int hw, struct rx_sock *out, char *err,
		    size_t errlen)
{
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	int type = 0, fl;
	socklen_t tl = sizeof(type);
	const char *what;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	/* The descriptor came from another process: a UDP socket bound where we listen, or nothing.
	 */
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_DGRAM) {
		snprintf(err, errlen, "not a datagram socket");
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&got, &len) < 0 ||
	    !same_addr((const struct sockaddr *)&got, addr)) {
		snprintf(err, errlen, "bound elsewhere than the listen address");
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		return -1;
	}
	what = rx_setup(fd, addr, hw, out);
	if (what) {
		snprintf(err, errlen, "%s: %s", what, strerror(errno));
		return -1;
	}
	out->fd = fd;
	return 0;
}

int rx_parse_cmsgs(struct msghdr *msg, struct rx_meta *meta, const struct hwts_table *hw)
{
	struct timespec hwts = {0, 0};
	struct cmsghdr *c;

	meta->src = CTR_TS_DAEMON;
	meta->have_pktinfo = 0;
	meta->ifindex = 0;
	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct scm_timestamping))) {
			struct scm_timestamping st;

			memcpy(&st, CMSG_DATA(c), sizeof(st));
			/* ts[2] is the raw hardware stamp (PHC time), ts[0] the software one. */
			hwts = st.ts[2];
			if (ns_from_timespec(&st.ts[0]) != 0) {
				meta->rx = st.ts[0];
				meta->src = CTR_TS_KERNEL;
			}
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
			   c->cmsg_len == CMSG_LEN(sizeof(struct timespec))) {
			memcpy(&meta->rx, CMSG_DATA(c), sizeof(meta->rx));
			meta->src = CTR_TS_KERNEL;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   c->cmsg_len == CMSG_LEN(sizeof(struct in_pktinfo))) {
			memcpy(&meta->dst4, CMSG_DATA(c), sizeof(meta->dst4));
			meta->have_pktinfo = 1;
			meta->ifindex = meta->dst4.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len == CMSG_LEN(sizeof(struct in6_pktinfo))) {
			memcpy(&meta->dst6, CMSG_DATA(c), sizeof(meta->dst6));
			meta->have_pktinfo = 1;
			meta->ifindex = (int)meta->dst6.ipi6_ifindex;
		}
	}
	/* A hardware stamp counts only once converted to system time. */
	if (ns_from_timespec(&hwts) != 0 && hw && hw->n &&
	    hwts_to_system(hw, meta->ifindex, &hwts, &meta->rx) == 0)
		meta->src = CTR_TS_HARDWARE;
	return (msg->msg_flags & MSG_CTRUNC) ? -1 : 0;
}

size_t rx_reply_cmsg(const struct rx_sock *s, const struct rx_meta *meta, void *buf)
{
	struct msghdr m = {.msg_control = buf, .msg_controllen = RX_REPLY_CMSG_SPACE};
	struct cmsghdr *c;

	if (!s->wildcard || !meta->have_pktinfo)
		return 0;
	memset(buf, 0, RX_REPLY_CMSG_SPACE);
	c = CMSG_FIRSTHDR(&m);
	if (s->family == AF_INET) {
		struct in_pktinfo pi = {0};

		/* Source address = where the request came to; let routing pick the interface. */
		pi.ipi_spec_dst = meta->dst4.ipi_addr;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	{
		struct in6_pktinfo pi = meta->dst6;

		/* Keep the interface: link-local destinations need it. */
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
}
