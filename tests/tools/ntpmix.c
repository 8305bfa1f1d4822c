/*
 * ntpmix: an open-loop mixed NTP load for the XDP guard benchmark. Sends
 * valid mode 3 requests at RATE per second for SECONDS, each followed by
 * MIX malformed ones (mode 7 monlist headers, version 0, 20-byte runts,
 * in turn), paced every millisecond in sendmmsg batches, and counts the
 * replies to the valid ones (matched by their origin timestamp). Prints
 * one line: legit sent, answered, their share, malformed sent, the rate
 * reached. Loopback or namespace addresses only; bounded by its duration
 * (at most 60 s) plus a 200 ms drain.
 *
 * Replies are read after every batch sent, into a receive buffer forced
 * to RCVBUF (as root, past rmem_max): a sender that cannot keep up (one
 * CPU sends about 200k datagrams/s through a veth) once sent for seconds
 * without reading, and the replies it lost in its own full socket counted
 * as requests the server had not answered. Past what it can send it
 * falls behind by at most MAX_LAG_NS of requests and gives up the rest
 * (the rate printed is what it sent), never a burst of seconds.
 *
 *   ntpmix ADDR PORT SECONDS RATE [MIX]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/nstime.h"
#include "proto/ntp.h"

#define BATCH	    64			  /* datagrams per sendmmsg / recvmmsg */
#define MAX_SECONDS 60			  /* s: hard bound on a run */
#define MAX_MIX	    8			  /* malformed per valid request at most */
#define DRAIN_NS    200000000LL		  /* ns: replies still counted after the last send */
#define TICK_NS	    1000000LL		  /* ns: pacing step */
#define TAG	    0x4d49580000000000ULL /* "MIX" in the transmit timestamp's top bytes */
#define RCVBUF	    (8 << 20)		  /* bytes: replies wait here between reads */
#define MAX_LAG_NS  5000000LL		  /* ns: requests due longer ago are given up */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ns_from_timespec(&ts);
}

/* Read every reply queued; returns those that answer one of our valid requests. */
static unsigned long long drain(int fd)
{
	static uint8_t buf[BATCH][64];
	struct mmsghdr m[BATCH];
	struct iovec v[BATCH];
	unsigned long long got = 0;
	int i, n, rounds;

	for (rounds = 0; rounds < 1000; rounds++) {
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

			if (ntp_decode(buf[i], m[i].msg_len, &p) == 0 &&
			    (p.org & 0xffffff0000000000ULL) == TAG)
				got++;
		}
	}
	return got;
}

int main(int argc, char **argv)
{
	static uint8_t pkt[BATCH][NTP_HEADER_LEN];
	struct sockaddr_storage ss = {0};
	struct mmsghdr tx[BATCH];
	struct iovec txv[BATCH];
	unsigned long long legit = 0, bad = 0, answered = 0, seq = 0, skipped = 0, due, sent, lag;
	long long t0, end, t;
	double secs, rate;
	int mix = 1, fd, i, n, rcv = RCVBUF;
	socklen_t sl;

	if (argc < 5) {
		fprintf(stderr, "usage: ntpmix ADDR PORT SECONDS RATE [MIX]\n");
		return 2;
	}
	secs = atof(argv[3]);
	rate = atof(argv[4]);
	if (argc > 5)
		mix = atoi(argv[5]);
	if (secs <= 0 || secs > MAX_SECONDS || rate < 1 || rate > 1e7 || mix < 0 || mix > MAX_MIX) {
		fprintf(stderr, "ntpmix: SECONDS 0-%d, RATE 1-1e7, MIX 0-%d\n", MAX_SECONDS,
			MAX_MIX);
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)atoi(argv[2]));
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[1], &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)atoi(argv[2]));
		sl = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "ntpmix: %s: not an IP address\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		perror("ntpmix: socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));

	t0 = now_ns();
	end = t0 + (long long)(secs * 1e9);
	for (t = t0; t < end; t = now_ns()) {
		/* Valid requests due by now; each brings MIX malformed ones. */
		due = (unsigned long long)((double)(t - t0) * rate / 1e9);
		/* Behind by more than MAX_LAG_NS: those requests are not sent at all. */
		lag = (unsigned long long)((double)MAX_LAG_NS * rate / 1e9);
		if (due > legit + skipped + lag)
			skipped = due - legit - lag;
		while (legit + skipped < due) {
			n = 0;
			while (n < BATCH) {
				struct ntp_packet p = {
					.version = 4, .mode = NTP_MODE_CLIENT, .poll = 6};

				if (n + 1 + mix > BATCH || legit + skipped >= due)
					break;
				p.xmt = TAG | ++seq;
				ntp_encode(&p, pkt[n]);
				txv[n] = (struct iovec){.iov_base = pkt[n],
							.iov_len = NTP_HEADER_LEN};
				n++;
				legit++;
				for (i = 0; i < mix; i++, n++) {
					memset(pkt[n], 0, NTP_HEADER_LEN);
					switch ((bad + (unsigned long long)i) % 3) {
					case 0: /* mode 7, MON_GETLIST_1: monlist */
						pkt[n][0] = 0x17;
						pkt[n][2] = 3;
						pkt[n][3] = 42;
						txv[n] = (struct iovec){pkt[n], NTP_HEADER_LEN};
						break;
					case 1: /* version 0 */
						pkt[n][0] = 0x03;
						txv[n] = (struct iovec){pkt[n], NTP_HEADER_LEN};
						break;
					default: /* a 20-byte runt */
						pkt[n][0] = 0x23;
						txv[n] = (struct iovec){pkt[n], 20};
						break;
					}
				}
				bad += (unsigned long long)mix;
			}
			for (i = 0; i < n; i++) {
				memset(&tx[i], 0, sizeof(tx[i]));
				tx[i].msg_hdr.msg_iov = &txv[i];
				tx[i].msg_hdr.msg_iovlen = 1;
			}
			for (sent = 0; sent < (unsigned long long)n;) {
				int r = sendmmsg(fd, tx + sent, (unsigned int)(n - (int)sent), 0);

				if (r <= 0) {
					if (r < 0 && errno != EINTR && errno != ENOBUFS &&
					    errno != EAGAIN && errno != ECONNREFUSED)
						break;
					continue;
				}
				sent += (unsigned long long)r;
			}
			answered += drain(fd);
		}
		answered += drain(fd);
		/* Sleep to the next tick unless we are behind. */
		if (now_ns() - t < TICK_NS / 2) {
			struct timespec ts = {0, TICK_NS / 2};

			nanosleep(&ts, NULL);
		}
	}
	t = now_ns();
	while (now_ns() - t < DRAIN_NS) {
		struct timespec ts = {0, 5000000};

		answered += drain(fd);
		nanosleep(&ts, NULL);
	}
	secs = (double)(t - t0) / 1e9;
	printf("legit_sent=%llu legit_answered=%llu share=%.4f malformed_sent=%llu "
	       "legit_rate=%.0f/s total_rate=%.0f/s answered_rate=%.0f/s not_sent=%llu\n",
	       legit, answered, legit ? (double)answered / (double)legit : 0.0, bad,
	       (double)legit / secs, (double)(legit + bad) / secs, (double)answered / secs,
	       skipped);
	close(fd);
	return 0;
}
