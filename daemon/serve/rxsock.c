/*
 * Socket set-up and control-message parsing for the receive path. Every
 * option that can fail is reported with its name; a timestamping option
 * the kernel refuses is not fatal (the next method is tried), anything
 * needed to serve correctly is. Also the overload filter, a classic BPF
 * program a worker attaches to its sockets while it is behind.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <linux/net_tstamp.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>

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
 * SO_TIMESTAMPING flags of a serving socket: software RX stamps (the
 * kernel sets them for every datagram), raw NIC stamps with HW. Transmit
 * stamps are asked for per reply (txstamp.h): here only how they come
 * back: with a key (OPT_ID), without the packet when the key is ours
 * (OPT_TSONLY), software and hardware both with HW (OPT_TX_SWHW).
 */
static int ts_flags(int hw)
{
	return SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
	       (txs_kernel_own_keys() ? SOF_TIMESTAMPING_OPT_TSONLY : 0) |
	       (hw ? SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE |
				SOF_TIMESTAMPING_OPT_TX_SWHW
		   : 0);
}

/*
 * The options a serving socket FD for ADDR needs besides SO_REUSEPORT and
 * IPV6_V6ONLY (which only count before bind): the receive buffer,
 * timestamps, PKTINFO; OUT filled. NULL, or the option that failed.
 */
static const char *rx_setup(int fd, const struct sockaddr *addr, int hw, struct rx_sock *out)
{
	const int tsflags = ts_flags(hw);

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->tx_fd = -1;
	out->family = addr->sa_family;
	memcpy(&out->local, addr,
	       addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					   : sizeof(struct sockaddr_in));
	out->wildcard = is_wildcard(addr);
	out->pktinfo = out->wildcard || hw;
	/* A predecessor's overload filter (rx_overload_filter) is not inherited. */
	if (rx_overload_filter(fd, 0) < 0)
		return "SO_DETACH_FILTER";
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
	out->tx_fd = -1;
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
	out->tx_fd = -1;
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

	/* A wildcard's reply leaves from the request's address; a send socket's from ours. */
	if (s->wildcard ? !meta->have_pktinfo : s->tx_fd < 0)
		return 0;
	memset(buf, 0, RX_REPLY_CMSG_SPACE);
	c = CMSG_FIRSTHDR(&m);
	if (s->family == AF_INET) {
		struct in_pktinfo pi = {0};

		/* Source address = where the request came to; let routing pick the interface. */
		pi.ipi_spec_dst = s->wildcard ? meta->dst4.ipi_addr
					      : ((const struct sockaddr_in *)&s->local)->sin_addr;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	{
		struct in6_pktinfo pi = meta->dst6;

		/* Keep the interface: link-local destinations need it (a bound one: its scope). */
		if (!s->wildcard) {
			const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&s->local;

			pi.ipi6_addr = a->sin6_addr;
			pi.ipi6_ifindex = a->sin6_scope_id;
		}
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
}

int rx_send_open(struct rx_sock *s, int hw, char *err, size_t errlen)
{
	/* Nothing may ever be queued here but transmit stamps: every datagram is dropped. */
	static struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
	struct sock_fprog fp = {.len = 1, .filter = drop_all};
	struct sockaddr_storage ss;
	socklen_t len;
	const char *what;
	int fd;

	/* The port (and address) the receive socket really has. */
	len = sizeof(s->local);
	if (getsockname(s->fd, (struct sockaddr *)&s->local, &len) < 0) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (s->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = ((const struct sockaddr_in *)&s->local)->sin_port;
		a->sin_addr.s_addr = htonl(RX_SEND_ADDR4);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = ((const struct sockaddr_in6 *)&s->local)->sin6_port;
		if (inet_pton(AF_INET6, RX_SEND_ADDR6, &a->sin6_addr) != 1) {
			snprintf(err, errlen, "bad RX_SEND_ADDR6");
			return -1;
		}
		len = sizeof(*a);
	}
	fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		what = "socket";
		goto fail;
	}
	/* Other send sockets (other workers, a successor's) share the address. */
	what = "SO_REUSEPORT";
	if (set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
		goto fail;
	what = "IPV6_V6ONLY";
	if (s->family == AF_INET6 && set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
		goto fail;
	what = "IP_FREEBIND";
	if (set_int(fd, IPPROTO_IP, IP_FREEBIND, 1) < 0)
		goto fail;
	what = "SO_ATTACH_FILTER";
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0)
		goto fail;
	/* Room for the error queue: as much as the requests get. */
	if (set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, RX_RCVBUF_BYTES) < 0)
		(void)set_int(fd, SOL_SOCKET, SO_RCVBUF, RX_RCVBUF_BYTES);
	what = "SO_TIMESTAMPING";
	if (s->ts == RX_TS_TIMESTAMPING &&
	    set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, ts_flags(hw)) < 0)
		goto fail;
	what = "bind";
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	s->tx_fd = fd;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

void rx_socket_close(struct rx_sock *s)
{
	if (s->tx_fd >= 0)
		close(s->tx_fd);
	s->tx_fd = -1;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/*
 * The overload filter (see rxsock.h). A UDP socket filter sees the
 * datagram from its UDP header on: offset 8 is the first payload byte
 * (leap, version, mode), the length includes the 8 header bytes. A load
 * past the end (a datagram with no payload) ends the program with 0:
 * dropped, as the ladder drops it (drop_short).
 */
#define RX_F_UDPHDR    8		  /* bytes: the UDP header before the payload */
#define RX_F_MINLEN    (RX_F_UDPHDR + 48) /* bytes: an NTP header (NTP_HEADER_LEN) after it */
#define RX_F_VN_MASK   0x38		  /* version bits of the first byte */
#define RX_F_VN_MAX    (4 << 3)		  /* version 4 (NTP_VERSION_MAX) in those bits */
#define RX_F_MODE_MASK 0x07		  /* mode bits of the first byte */
#define RX_F_KEEP      0xffff		  /* bytes kept of a datagram that passes: all */

static struct sock_filter rx_filter_code[] = {
	/* 0: version 0 or above 4: dropped whatever the mode and length */
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, RX_F_UDPHDR),
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, RX_F_VN_MASK),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 9, 0),
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, RX_F_VN_MAX, 8, 0),
	/* 4: mode 6 passes at any length (its own header); 1 and 3 from 48 bytes on */
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, RX_F_UDPHDR),
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, RX_F_MODE_MASK),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 4, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 3, 1, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3),
	/* 9: mode 1 or 3: long enough? */
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, RX_F_MINLEN, 0, 1),
	/* 11: pass, 12: drop */
	BPF_STMT(BPF_RET | BPF_K, RX_F_KEEP),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

int rx_overload_filter(int fd, int on)
{
	struct sock_fprog prog = {
		.len = sizeof(rx_filter_code) / sizeof(rx_filter_code[0]),
		.filter = rx_filter_code,
	};
	int zero = 0;

	if (on)
		return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	/* Detaching a socket without a filter is ENOENT: nothing to do, not a failure. */
	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero)) < 0 &&
	    errno != ENOENT)
		return -1;
	return 0;
}

int rx_socket_drops(int fd, uint32_t *drops)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	memset(mem, 0, sizeof(mem));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
		return -1;
	if (len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
		errno = EPROTO;
		return -1;
	}
	*drops = mem[SK_MEMINFO_DROPS];
	return 0;
}

void rx_overload_start(struct rx_overload *o, const struct rx_sock *socks, int n)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < n && i < CFG_MAX_LISTEN; i++)
		if (rx_socket_drops(socks[i].fd, &o->drops[i]) < 0)
			o->drops[i] = 0;
}

uint64_t rx_overload_window(struct rx_overload *o, const struct rx_sock *socks, int n, int behind)
{
	uint64_t got = 0;
	int i, on;

	/* A 32-bit count that wraps: the difference is right. */
	for (i = 0; i < n && i < CFG_MAX_LISTEN; i++) {
		uint32_t d;

		if (rx_socket_drops(socks[i].fd, &d) == 0) {
			got += (uint32_t)(d - o->drops[i]);
			o->drops[i] = d;
		}
	}
	if (behind)
		o->calm = 0;
	else if (o->calm < RX_FILTER_CALM)
		o->calm++;
	on = o->filtered ? o->calm < RX_FILTER_CALM : behind && got > 0;
	if (on != o->filtered) {
		for (i = 0; i < n; i++)
			(void)rx_overload_filter(socks[i].fd, on);
		o->filtered = on;
	}
	return got;
}

void rx_overload_stop(struct rx_overload *o, const struct rx_sock *socks, int n)
{
	int i;

	for (i = 0; o->filtered && i < n; i++)
		(void)rx_overload_filter(socks[i].fd, 0);
	o->filtered = 0;
}
