/*
 * The host table's rtnetlink listener (guard_host.h). Links: the attached
 * interfaces' MAC addresses (IFLA_ADDRESS), updated or removed with them.
 * Addresses: every local one (IFA_LOCAL, else IFA_ADDRESS), added with
 * RTM_NEWADDR and removed with RTM_DELADDR; an IPv6 address still in
 * duplicate address detection (tentative) or that failed it is not local
 * yet, as the kernel sees it. Dumps (at start, and after an overflow) are
 * read on the same socket as the notifications, and handled the same way;
 * one that the kernel marks interrupted (NLM_F_DUMP_INTR) is redone. Every
 * loop is bounded: a poll reads at most NL_MAX_READS datagrams, the rest
 * waits for the next one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "bpf/guard_host.h"
#include "bpf/guard_pub.h"

#define NL_BUF	      32768 /* bytes per datagram read: a dump's part fits (libnl uses 32 KiB) */
#define NL_RCVBUF     (1 << 20) /* bytes of socket buffer: changes queue here between polls */
#define NL_MAX_READS  64	/* datagrams one poll reads at most */
#define NL_OPEN_WAIT  2000	/* ms: how long the start-up dumps may take */
#define NL_OPEN_READS 4096	/* datagrams the start-up dumps may take */

/* Which dump is in flight. */
enum nl_dump { NL_IDLE, NL_LINKS, NL_ADDRS };

struct guard_host_nl {
	int fd;
	uint32_t ifindex[GUARD_MAX_IFACES]; /* the attached interfaces */
	int n;
	uint32_t seq;	   /* of the last request */
	enum nl_dump dump; /* in flight, if any */
	int redo;	   /* the dump in flight was interrupted: do it again */
	uint8_t buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

/* Ask the kernel for a dump of TYPE (RTM_GETLINK or RTM_GETADDR); 0 or -errno. */
static int nl_request(struct guard_host_nl *nl, uint16_t type)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.g));
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = ++nl->seq;
	req.g.rtgen_family = AF_UNSPEC;
	if (sendto(nl->fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) <
	    0)
		return -errno;
	nl->dump = type == RTM_GETLINK ? NL_LINKS : NL_ADDRS;
	nl->redo = 0;
	return 0;
}

/* 1 when IFINDEX is an attached interface. */
static int nl_attached(const struct guard_host_nl *nl, uint32_t ifindex)
{
	int i;

	for (i = 0; i < nl->n; i++)
		if (nl->ifindex[i] == ifindex)
			return 1;
	return 0;
}

/* A link message M: the MAC address of an attached interface; 1 if H changed. */
static int nl_link(struct guard_host_nl *nl, const struct nlmsghdr *m, struct guard_host *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(m);
	const struct rtattr *a;
	int len = (int)IFLA_PAYLOAD(m);

	if (m->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || !nl_attached(nl, (uint32_t)ifi->ifi_index))
		return 0;
	if (m->nlmsg_type == RTM_DELLINK) {
		guard_host_del_if(h, (uint32_t)ifi->ifi_index);
		return 1;
	}
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6)
			return guard_host_set_if(h, (uint32_t)ifi->ifi_index, RTA_DATA(a)) == 0;
	return 0;
}

/* An address message M: a local address added or removed; 1 if H changed. */
static int nl_addr(const struct nlmsghdr *m, struct guard_host *h)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(m);
	const struct rtattr *a;
	const uint8_t *local = NULL, *address = NULL, *addr;
	int len = (int)IFA_PAYLOAD(m), family, alen;
	uint32_t flags;

	if (m->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return 0;
	if (ifa->ifa_family == AF_INET) {
		family = GUARD_FAMILY_V4;
		alen = 4;
	} else if (ifa->ifa_family == AF_INET6) {
		family = GUARD_FAMILY_V6;
		alen = 16;
	} else {
		return 0;
	}
	flags = ifa->ifa_flags;
	for (a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFA_LOCAL && (int)RTA_PAYLOAD(a) == alen)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS && (int)RTA_PAYLOAD(a) == alen)
			address = RTA_DATA(a);
		else if (a->rta_type == IFA_FLAGS && RTA_PAYLOAD(a) == sizeof(uint32_t))
			memcpy(&flags, RTA_DATA(a), sizeof(flags));
	}
	/* On a point-to-point link IFA_ADDRESS is the peer's, IFA_LOCAL ours. */
	addr = local ? local : address;
	if (!addr)
		return 0;
	if (m->nlmsg_type == RTM_DELADDR || (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
		return guard_host_del(h, family, addr, ifa->ifa_index);
	return guard_host_add(h, family, addr, ifa->ifa_index) == 0;
}

/* Handle the N bytes of datagram BUF; 1 if H changed, 0, or -errno. */
static int nl_datagram(struct guard_host_nl *nl, size_t n, struct guard_host *h)
{
	const struct nlmsghdr *m;
	int len = (int)n, changed = 0, ret;

	for (m = (const struct nlmsghdr *)nl->buf; NLMSG_OK(m, len); m = NLMSG_NEXT(m, len)) {
		if (m->nlmsg_flags & NLM_F_DUMP_INTR)
			nl->redo = 1;
		switch (m->nlmsg_type) {
		case NLMSG_DONE:
		case NLMSG_ERROR:
			if (m->nlmsg_seq != nl->seq || nl->dump == NL_IDLE)
				break;
			/* The links first, then the addresses; an interrupted dump again. */
			if (nl->redo)
				ret = nl_request(nl,
						 nl->dump == NL_LINKS ? RTM_GETLINK : RTM_GETADDR);
			else if (nl->dump == NL_LINKS)
				ret = nl_request(nl, RTM_GETADDR);
			else
				ret = (nl->dump = NL_IDLE, 0);
			if (ret < 0)
				return ret;
			break;
		case RTM_NEWLINK:
		case RTM_DELLINK:
			changed |= nl_link(nl, m, h);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			changed |= nl_addr(m, h);
			break;
		default:
			break;
		}
	}
	return changed;
}

/*
 * The kernel dropped notifications: what H says may be stale. Forget the
 * addresses (nothing is answered that is not dumped again) and dump the
 * links and addresses anew.
 */
static int nl_resync(struct guard_host_nl *nl, struct guard_host *h)
{
	h->n4 = 0;
	h->n6 = 0;
	memset(h->v4, 0, sizeof(h->v4));
	memset(h->v4_ifindex, 0, sizeof(h->v4_ifindex));
	memset(h->v6, 0, sizeof(h->v6));
	memset(h->v6_ifindex, 0, sizeof(h->v6_ifindex));
	return nl_request(nl, RTM_GETLINK);
}

int guard_host_poll(struct guard_host_nl *nl, struct guard_host *h)
{
	int i, changed = 0, ret;
	ssize_t n;

	if (!nl)
		return 0;
	for (i = 0; i < NL_MAX_READS; i++) {
		n = recv(nl->fd, nl->buf, sizeof(nl->buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			ret = nl_resync(nl, h);
			if (ret < 0)
				return ret;
			changed = 1;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? changed : -errno;
		ret = nl_datagram(nl, (size_t)n, h);
		if (ret < 0)
			return ret;
		changed |= ret;
	}
	return changed;
}

int guard_host_open(struct guard_host_nl **out, const uint32_t *ifindex, int n,
		    struct guard_host *h, char *why, size_t whylen)
{
	struct sockaddr_nl local = {.nl_family = AF_NETLINK,
				    .nl_groups =
					    RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
	struct guard_host_nl *nl;
	struct pollfd pfd;
	int rcvbuf = NL_RCVBUF, i, ret;
	const char *what;

	*out = NULL;
	guard_host_init(h);
	nl = calloc(1, sizeof(*nl));
	if (!nl) {
		snprintf(why, whylen, "host table: out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n && i < GUARD_MAX_IFACES; i++)
		nl->ifindex[nl->n++] = ifindex[i];
	what = "socket";
	nl->fd = -1;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		goto fail;
	/* As root, past rmem_max: changes wait here up to a second. */
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	what = "bind";
	if (bind(nl->fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		goto fail;
	what = "dump";
	ret = nl_request(nl, RTM_GETLINK);
	if (ret < 0) {
		errno = -ret;
		goto fail;
	}
	/* Both dumps, bounded in reads and in time. */
	for (i = 0; i < NL_OPEN_READS && nl->dump != NL_IDLE; i++) {
		pfd.fd = nl->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, NL_OPEN_WAIT) <= 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		ret = guard_host_poll(nl, h);
		if (ret < 0) {
			errno = -ret;
			goto fail;
		}
	}
	if (nl->dump != NL_IDLE) {
		errno = ETIMEDOUT;
		goto fail;
	}
	*out = nl;
	return 0;
fail:
	ret = -errno;
	snprintf(why, whylen, "host table: rtnetlink %s: %s", what, strerror(errno));
	guard_host_close(nl);
	return ret;
}

void guard_host_close(struct guard_host_nl *nl)
{
	if (!nl)
		return;
	if (nl->fd >= 0)
		close(nl->fd);
	free(nl);
}
