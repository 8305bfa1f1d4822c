/*
 * The replies as the client's interface sees them (--capture IFACE): a
 * packet socket on IFACE with kernel receive stamps, the stamp a capture
 * takes where the reply is delivered, independent of horobench's own UDP
 * sockets (a reply the socket layer drops is still seen here). For every
 * captured reply from the server, arrival - T3: for a basic reply T3 is
 * its own transmit timestamp; for an interleaved one (--xleave) it is the
 * transmit time of the client's previous reply, so the pair is that
 * previous reply's arrival and this reply's transmit field, checked to be
 * the reply the request named (its receive field equals the origin the
 * request carried). A server whose T3 is later than the moment the reply
 * leaves shows a negative difference: the capture counts those as late.
 *
 * Keep the capture where the reply is delivered: on a veth the client
 * end's receive work runs in the softirq of the sender, on its CPU; moving
 * it to a thread on another CPU adds a wake-up to every stamp.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>

#include "bench/src/horobench.h"
#include "proto/byteorder.h"
#include "proto/ntp.h"

#define CAP_RCVBUF  (16 << 20) /* bytes: frames wait here between reads (VM stalls) */
#define CAP_BATCH   64	       /* frames per recvmmsg */
#define CAP_SNAP    128	       /* bytes of each frame read: IPv6 + UDP + the NTP header fit */
#define CAP_CMSG    128	       /* bytes of control data: SCM_TIMESTAMPNS with room */
#define IP4_HDR_MIN 20	       /* bytes: IPv4 header without options */
#define IP6_HDR	    40	       /* bytes: IPv6 fixed header */
#define UDP_HDR	    8	       /* bytes */
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23 /* Linux 4.20+: not in every set of headers */
#endif

int hb_cap_open(struct hb_run *r)
{
	struct hb_cap *k = &r->cap;
	struct sockaddr_ll sll;
	int v, ifindex = (int)if_nametoindex(r->o.capture);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};

	if (!ifindex) {
		fprintf(stderr, "horobench: --capture %s: no such interface\n", r->o.capture);
		return -1;
	}
	k->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (k->fd < 0) {
		perror("horobench: --capture: packet socket (needs CAP_NET_RAW)");
		return -1;
	}
	v = CAP_RCVBUF;
	if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	v = 1;
	/* Only what arrives on the interface: our own requests are not replies. */
	(void)setsockopt(k->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v));
	if (setsockopt(k->fd, SOL_SOCKET, SO_TIMESTAMPNS, &v, sizeof(v)) < 0) {
		perror("horobench: --capture: SO_TIMESTAMPNS");
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(k->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("horobench: --capture: bind");
		return -1;
	}
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, k->fd, &ev) < 0)
		return -1;
	return 0;
}

/*
 * The NTP payload of frame F (LEN bytes from the network header, protocol
 * PROTO) when it is a UDP datagram from the server; NULL otherwise.
 */
static const uint8_t *ntp_payload(const struct hb_run *r, const uint8_t *f, size_t len,
				  uint16_t proto)
{
	const struct sockaddr_in *d4 = (const struct sockaddr_in *)&r->o.dst;
	const struct sockaddr_in6 *d6 = (const struct sockaddr_in6 *)&r->o.dst;
	size_t off;

	if (proto == ETH_P_IP && r->o.dst.ss_family == AF_INET) {
		if (len < IP4_HDR_MIN || f[0] >> 4 != 4 || f[9] != IPPROTO_UDP)
			return NULL;
		if (memcmp(f + 12, &d4->sin_addr, 4) != 0)
			return NULL;
		off = (size_t)(f[0] & 15) * 4;
		if (off < IP4_HDR_MIN || (f[6] & 0x3f) || f[7]) /* no fragments */
			return NULL;
		if (memcmp(f + off, &d4->sin_port, 2) != 0)
			return NULL;
	} else if (proto == ETH_P_IPV6 && r->o.dst.ss_family == AF_INET6) {
		if (len < IP6_HDR || f[0] >> 4 != 6 || f[6] != IPPROTO_UDP)
			return NULL;
		if (memcmp(f + 8, &d6->sin6_addr, 16) != 0)
			return NULL;
		off = IP6_HDR;
		if (len < off + 2 || memcmp(f + off, &d6->sin6_port, 2) != 0)
			return NULL;
	} else {
		return NULL;
	}
	if (len < off + UDP_HDR + NTP_HEADER_LEN)
		return NULL;
	return f + off + UDP_HDR;
}

/* One captured reply NTP (48 bytes at least) that arrived at AT (ns). */
static void on_frame(struct hb_run *r, const uint8_t *ntp, int64_t at)
{
	struct hb_cap *k = &r->cap;
	uint64_t org = be_get64(ntp + 24), rec = be_get64(ntp + 32), xmt = be_get64(ntp + 40);
	struct hb_client *c;
	enum hb_mode mode;
	struct hb_req *e;
	uint64_t seq;
	int64_t d;

	k->replies++;
	e = hb_lookup(r, org, &mode, &seq);
	if (!e || (e->flags & F_KIND) != K_GOOD || !xmt) {
		k->unmatched++; /* not ours, malformed kinds answered, kiss-o'-death */
		return;
	}
	c = &r->clients[e->client];
	if (mode == M_BASIC) {
		d = at - ntp_ts_to_unix_ns(xmt, at);
	} else if (c->cap_rx && c->cap_rx == e->org) {
		/* Its transmit is the one of the reply the request named: that one's arrival. */
		d = c->cap_arrival - ntp_ts_to_unix_ns(xmt, at);
	} else {
		k->xleave_unpaired++;
		d = INT64_MIN;
	}
	if (d != INT64_MIN) {
		hb_mom_add(&k->mom[mode], d);
		bs_add(&k->smp[mode], d);
		if (d < 0)
			k->late[mode]++;
	}
	c->cap_rx = rec;
	c->cap_arrival = at;
}

int hb_cap_read(struct hb_run *r)
{
	static uint8_t buf[CAP_BATCH][CAP_SNAP];
	static union {
		char c[CAP_CMSG];
		struct cmsghdr align;
	} cm[CAP_BATCH];
	struct sockaddr_ll from[CAP_BATCH];
	struct mmsghdr m[CAP_BATCH];
	struct iovec iov[CAP_BATCH];
	int i, n, total = 0, rounds;

	if (r->cap.fd < 0)
		return 0;
	for (rounds = 0; rounds < 64; rounds++) {
		for (i = 0; i < CAP_BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = sizeof(buf[i]);
			memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
			m[i].msg_hdr.msg_name = &from[i];
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_control = cm[i].c;
			m[i].msg_hdr.msg_controllen = sizeof(cm[i].c);
		}
		n = recvmmsg(r->cap.fd, m, CAP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			struct cmsghdr *c;
			const uint8_t *ntp;
			int64_t at = 0;
			size_t len = m[i].msg_len < sizeof(buf[i]) ? m[i].msg_len : sizeof(buf[i]);

			r->cap.frames++;
			for (c = CMSG_FIRSTHDR(&m[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SCM_TIMESTAMPNS &&
				    c->cmsg_len == CMSG_LEN(sizeof(struct timespec))) {
					struct timespec ts;

					memcpy(&ts, CMSG_DATA(c), sizeof(ts));
					at = ns_from_timespec(&ts);
				}
			}
			ntp = ntp_payload(r, buf[i], len, ntohs(from[i].sll_protocol));
			if (!ntp)
				continue;
			if (!at) {
				r->cap.no_stamp++;
				continue;
			}
			on_frame(r, ntp, at);
		}
		total += n;
		if (n < CAP_BATCH)
			break;
	}
	return total;
}

void hb_cap_drops(struct hb_run *r)
{
	struct tpacket_stats st;
	socklen_t l = sizeof(st);

	/* The kernel's counts restart at every read. */
	if (r->cap.fd >= 0 && getsockopt(r->cap.fd, SOL_PACKET, PACKET_STATISTICS, &st, &l) == 0)
		r->cap.kernel_drops += st.tp_drops;
}

void hb_cap_close(struct hb_run *r)
{
	if (r->cap.fd < 0)
		return;
	close(r->cap.fd);
	r->cap.fd = -1;
}
