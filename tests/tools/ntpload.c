/*
 * ntpload: a small closed-loop NTP load generator for first throughput
 * figures (horobench, with validation, percentiles and comparisons, is
 * the real tool). Keeps WINDOW requests in flight on one connected
 * socket for SECONDS and prints the answered rate. Loopback or
 * namespace addresses only; bounded by its duration (at most 60 s).
 *
 *   ntpload ADDR PORT [SECONDS [WINDOW]]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/nstime.h"
#include "proto/ntp.h"

#define BATCH	    64 /* datagrams per recvmmsg / sendmmsg */
#define MAX_SECONDS 60 /* s: hard bound on a run */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ns_sec(ns_from_timespec(&ts));
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {0};
	struct mmsghdr tx[BATCH], rx[BATCH];
	struct iovec txv[BATCH], rxv[BATCH];
	uint8_t req[BATCH][NTP_HEADER_LEN], rep[BATCH][64];
	unsigned long long sent = 0, answered = 0;
	double secs = 5, t0, end, last_rx;
	int window = 256, fd, i;
	socklen_t sl;

	if (argc < 3) {
		fprintf(stderr, "usage: ntpload ADDR PORT [SECONDS [WINDOW]]\n");
		return 2;
	}
	if (argc > 3)
		secs = atof(argv[3]);
	if (argc > 4)
		window = atoi(argv[4]);
	if (secs <= 0 || secs > MAX_SECONDS || window < 1 || window > 65536) {
		fprintf(stderr, "ntpload: SECONDS 0-%d, WINDOW 1-65536\n", MAX_SECONDS);
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
		fprintf(stderr, "ntpload: %s: not an IP address\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		perror("ntpload: socket");
		return 1;
	}
	for (i = 0; i < BATCH; i++) {
		struct ntp_packet p = {.version = 4, .mode = NTP_MODE_CLIENT, .poll = 6};

		p.xmt = ((uint64_t)rand() << 32) | (uint32_t)rand();
		ntp_encode(&p, req[i]);
		txv[i] = (struct iovec){.iov_base = req[i], .iov_len = NTP_HEADER_LEN};
		rxv[i] = (struct iovec){.iov_base = rep[i], .iov_len = sizeof(rep[i])};
		memset(&tx[i], 0, sizeof(tx[i]));
		memset(&rx[i], 0, sizeof(rx[i]));
		tx[i].msg_hdr.msg_iov = &txv[i];
		tx[i].msg_hdr.msg_iovlen = 1;
		rx[i].msg_hdr.msg_iov = &rxv[i];
		rx[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = last_rx = now_s();
	end = t0 + secs;
	/* Fill the window. */
	for (i = 0; i < window; i += BATCH) {
		int n = window - i < BATCH ? window - i : BATCH;
		int r = sendmmsg(fd, tx, (unsigned)n, 0);

		if (r > 0)
			sent += (unsigned)r;
	}
	while (now_s() < end) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n, r;

		if (poll(&pfd, 1, 20) <= 0) {
			/* Replies were lost: put the window back in flight. */
			if (now_s() - last_rx > 0.05) {
				r = sendmmsg(fd, tx, (unsigned)(window < BATCH ? window : BATCH),
					     0);
				if (r > 0)
					sent += (unsigned)r;
				last_rx = now_s();
			}
			continue;
		}
		n = recvmmsg(fd, rx, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		last_rx = now_s();
		answered += (unsigned)n;
		r = sendmmsg(fd, tx, (unsigned)n, 0);
		if (r > 0)
			sent += (unsigned)r;
	}
	secs = now_s() - t0;
	printf("sent %llu answered %llu in %.2f s: %.0f responses/s\n", sent, answered, secs,
	       (double)answered / secs);
	close(fd);
	return answered ? 0 : 1;
}
