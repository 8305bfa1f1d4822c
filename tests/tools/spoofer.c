/*
 * spoofer: sends valid mode 3 requests from COUNT distinct forged IPv4
 * source addresses, one request each, to see how a server's per-source
 * state (rate-limit table, client log) behaves when every request comes
 * from a stranger. The packets are built whole (IPv4 and UDP headers)
 * and sent on a raw socket (IPPROTO_RAW, which implies IP_HDRINCL). The
 * sources are BASE + FIRST .. BASE + FIRST + COUNT - 1, from a range the
 * test owns inside its namespaces (198.18.0.0/15, RFC 2544's benchmark
 * range); replies come back when the test routes that range back to the
 * sending namespace and makes it local there (`ip route add local
 * 198.18.0.0/15 dev lo`): they are then read on a UDP socket bound to
 * the source port on every address, and matched by the transmit
 * timestamp, which carries the source's index.
 *
 * Paced at RATE requests per second (in batches every millisecond), so
 * the server's socket buffer never overflows during the VM's short
 * stalls. Prints one line `sent=N answered=N kod=N bad=N seconds=S`
 * (answered: mode 4 replies with our origin; kod: kiss-o'-death among
 * them; bad: replies that match nothing we sent). Exit 0, 1 on a socket
 * error, 2 on a usage error. Bounded: at most MAX_COUNT requests and
 * MAX_SECONDS.
 *
 *   spoofer DST_ADDR DST_PORT SRC_BASE FIRST COUNT [RATE [SRC_PORT]]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/ip.h>
#include <netinet/udp.h>

#include "proto/nstime.h"
#include "proto/ntp.h"

#define BATCH	     64			   /* datagrams per sendmmsg / recvmmsg */
#define MAX_COUNT    1000000UL		   /* sources per run at most */
#define MAX_SECONDS  60			   /* s: hard bound on a run */
#define TICK_NS	     1000000LL		   /* ns: pacing step */
#define DRAIN_NS     300000000LL	   /* ns: replies still read after the last send */
#define DEF_RATE     50000.0		   /* requests/s unless told */
#define DEF_SRC_PORT 40123		   /* the forged requests' source port */
#define RCVBUF	     (8 << 20)		   /* bytes: replies wait here between reads */
#define TAG	     0x53504f4f00000000ULL /* "SPOO" in the transmit's seconds */
#define TAG_MASK     0xffffffff00000000ULL
#define PKT_LEN	     (20 + 8 + NTP_HEADER_LEN) /* bytes: IPv4 + UDP + NTP */

static unsigned long long answered, kods, bad;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ns_from_timespec(&ts);
}

/* Read every reply queued on FD; FIRST and COUNT bound the indexes we sent. */
static void drain(int fd, unsigned long long first, unsigned long long count)
{
	static uint8_t buf[BATCH][256];
	struct mmsghdr m[BATCH];
	struct iovec v[BATCH];
	int i, n, rounds;

	for (rounds = 0; rounds < 10000; rounds++) {
		for (i = 0; i < BATCH; i++) {
			v[i] = (struct iovec){.iov_base = buf[i], .iov_len = sizeof(buf[i])};
			memset(&m[i], 0, sizeof(m[i]));
			m[i].msg_hdr.msg_iov = &v[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			struct ntp_packet p;
			unsigned long long idx;

			if (ntp_decode(buf[i], m[i].msg_len, &p) < 0 || (p.org & TAG_MASK) != TAG) {
				bad++;
				continue;
			}
			idx = p.org & ~TAG_MASK;
			if (idx < first || idx >= first + count || p.mode != NTP_MODE_SERVER) {
				bad++;
				continue;
			}
			answered++;
			if (p.stratum == 0)
				kods++;
		}
	}
}

int main(int argc, char **argv)
{
	static uint8_t pkt[BATCH][PKT_LEN];
	struct mmsghdr m[BATCH];
	struct iovec v[BATCH];
	struct sockaddr_in dst = {.sin_family = AF_INET}, me = {.sin_family = AF_INET};
	struct in_addr base;
	unsigned long long first, count, sent = 0, due;
	double rate = DEF_RATE, secs;
	long long t0, t, end;
	int raw, rx, i, n, rcv = RCVBUF;
	unsigned sport = DEF_SRC_PORT;

	if (argc < 6) {
		fprintf(stderr, "usage: spoofer DST_ADDR DST_PORT SRC_BASE FIRST COUNT [RATE "
				"[SRC_PORT]]\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[3], &base) != 1) {
		fprintf(stderr, "spoofer: DST_ADDR and SRC_BASE must be IPv4 addresses\n");
		return 2;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	first = strtoull(argv[4], NULL, 10);
	count = strtoull(argv[5], NULL, 10);
	if (argc > 6)
		rate = atof(argv[6]);
	if (argc > 7)
		sport = (unsigned)atoi(argv[7]);
	if (count < 1 || count > MAX_COUNT || first > 0xffffffULL || rate < 1 || rate > 1e7 ||
	    sport < 1 || sport > 65535) {
		fprintf(stderr,
			"spoofer: COUNT 1-%lu, FIRST < 2^24, RATE 1-1e7, SRC_PORT 1-65535\n",
			MAX_COUNT);
		return 2;
	}

	raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	me.sin_port = htons((uint16_t)sport);
	if (raw < 0 || rx < 0 || bind(rx, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("spoofer: socket");
		return 1;
	}
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));

	t0 = now_ns();
	end = t0 + MAX_SECONDS * NS_PER_SEC;
	for (t = t0; sent < count && t < end; t = now_ns()) {
		due = (unsigned long long)((double)(t - t0) * rate / 1e9) + 1;
		if (due > count)
			due = count;
		while (sent < due) {
			for (n = 0; n < BATCH && sent + (unsigned long long)n < due; n++) {
				unsigned long long idx = first + sent + (unsigned long long)n;
				struct iphdr *ip = (struct iphdr *)pkt[n];
				struct udphdr *udp = (struct udphdr *)(pkt[n] + sizeof(*ip));
				struct ntp_packet p = {
					.version = 4, .mode = NTP_MODE_CLIENT, .poll = 6};

				memset(pkt[n], 0, PKT_LEN);
				ip->version = 4;
				ip->ihl = 5;
				ip->tot_len = htons(PKT_LEN);
				ip->ttl = 64;
				ip->protocol = IPPROTO_UDP;
				/* The kernel fills the id and the header checksum. */
				ip->saddr = htonl(ntohl(base.s_addr) + (uint32_t)idx);
				ip->daddr = dst.sin_addr.s_addr;
				udp->source = htons((uint16_t)sport);
				udp->dest = dst.sin_port;
				udp->len = htons(8 + NTP_HEADER_LEN);
				udp->check = 0; /* no checksum: allowed over IPv4 */
				p.xmt = TAG | idx;
				ntp_encode(&p, pkt[n] + sizeof(*ip) + sizeof(*udp));
				v[n] = (struct iovec){.iov_base = pkt[n], .iov_len = PKT_LEN};
				memset(&m[n], 0, sizeof(m[n]));
				m[n].msg_hdr.msg_name = &dst;
				m[n].msg_hdr.msg_namelen = sizeof(dst);
				m[n].msg_hdr.msg_iov = &v[n];
				m[n].msg_hdr.msg_iovlen = 1;
			}
			for (i = 0; i < n;) {
				int r = sendmmsg(raw, m + i, (unsigned)(n - i), 0);

				if (r < 0 &&
				    (errno == EINTR || errno == ENOBUFS || errno == EAGAIN))
					continue;
				if (r <= 0) {
					perror("spoofer: sendmmsg");
					return 1;
				}
				i += r;
			}
			sent += (unsigned long long)n;
		}
		drain(rx, first, count);
		if (now_ns() - t < TICK_NS / 2) {
			struct timespec ts = {0, TICK_NS / 2};

			nanosleep(&ts, NULL);
		}
	}
	t = now_ns();
	while (now_ns() - t < DRAIN_NS) {
		struct pollfd pfd = {.fd = rx, .events = POLLIN};

		if (poll(&pfd, 1, 20) > 0)
			drain(rx, first, count);
	}
	secs = (double)(now_ns() - t0) / 1e9;
	printf("sent=%llu answered=%llu kod=%llu bad=%llu seconds=%.2f\n", sent, answered, kods,
	       bad, secs);
	close(raw);
	close(rx);
	return 0;
}
