/*
 * The floor responder (see responder.h). Deliberately minimal: the
 * per-reply work is what every NTP server must do at least (receive,
 * write 48 bytes, send), so its CPU cost per reply is the kernel's floor
 * against which the real servers are compared. It does not timestamp
 * per packet: receive and transmit are one clock read per batch, so its
 * timestamp error is not a server property worth comparing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/src/responder.h"
#include "proto/byteorder.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

#define RS_BATCH	   64	       /* datagrams per recvmmsg/sendmmsg: amortises the syscall */
#define RS_PAYLOAD	   1024	       /* bytes per receive buffer; longer requests are cut */
#define RS_RCVBUF	   (512 << 10) /* bytes: what horod asks for (RX_RCVBUF_BYTES) */
#define RS_DEFAULT_SECONDS 600	       /* s: lifetime when --duration is not given */
#define RS_MAX_SECONDS	   3600	       /* s: hard bound on a run */
#define RS_POLL_MS	   100	       /* ms: longest wait before looking at the stop flag */
#define RS_STRATUM	   10	       /* advertised stratum, as `local stratum 10` */
#define RS_PRECISION	   (-20)       /* log2 s: about 1 us */
#define RS_OFF_XMT	   40	       /* byte offset of the transmit timestamp */

static volatile sig_atomic_t rs_stop;

static void on_signal(int sig)
{
	(void)sig;
	rs_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: horobench respond [--echo] [--cpu N] [--duration S] ADDR PORT\n"
		"  Answer NTP requests on ADDR PORT with the least possible work\n"
		"  (recvmmsg/sendmmsg, one clock read per batch) until SIGTERM/SIGINT\n"
		"  or S seconds (default %d, at most %d).\n"
		"  --echo   send every datagram back unchanged (a broken server)\n"
		"  --cpu N  pin to CPU N\n",
		RS_DEFAULT_SECONDS, RS_MAX_SECONDS);
}

/* Turn the request in BUF (LEN >= 48 bytes) into a 48-byte reply stamped NOW. */
static void make_reply(uint8_t *buf, uint32_t refid, uint64_t now)
{
	uint8_t vn = (buf[0] >> 3) & 7;
	uint8_t mode = (buf[0] & 7) == NTP_MODE_ACTIVE ? NTP_MODE_PASSIVE : NTP_MODE_SERVER;

	buf[0] = (uint8_t)((vn << 3) | mode);
	buf[1] = RS_STRATUM;
	buf[3] = (uint8_t)RS_PRECISION;
	be_put32(buf + 4, 0);
	be_put32(buf + 8, 0x00000010); /* root dispersion: 1/4096 s */
	be_put32(buf + 12, refid);
	memcpy(buf + 24, buf + RS_OFF_XMT, 8); /* origin = request transmit */
	be_put64(buf + 16, now);
	be_put64(buf + 32, now);
	be_put64(buf + RS_OFF_XMT, now);
}

int rs_main(int argc, char **argv)
{
	static const struct option opts[] = {{"echo", no_argument, NULL, 'e'},
					     {"cpu", required_argument, NULL, 'c'},
					     {"duration", required_argument, NULL, 'd'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	static uint8_t buf[RS_BATCH][RS_PAYLOAD];
	static struct sockaddr_storage from[RS_BATCH];
	struct mmsghdr msg[RS_BATCH];
	struct iovec iov[RS_BATCH];
	struct sockaddr_storage ss;
	struct timespec t0, now;
	socklen_t sl;
	double secs = RS_DEFAULT_SECONDS;
	int echo = 0, cpu = -1, fd, c, v, i;
	uint32_t refid = ntp_refid_ascii("LOCL");

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			echo = 1;
			break;
		case 'c':
			cpu = atoi(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2 || !(secs > 0 && secs <= RS_MAX_SECONDS)) {
		usage(stderr);
		return 2;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[optind], &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)atoi(argv[optind + 1]));
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[optind], &((struct sockaddr_in6 *)&ss)->sin6_addr) ==
		   1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)atoi(argv[optind + 1]));
		sl = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "horobench respond: %s: not an IP address\n", argv[optind]);
		return 2;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			fprintf(stderr, "horobench respond: cannot pin to CPU %d: %s\n", cpu,
				strerror(errno));
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("horobench respond: socket");
		return 1;
	}
	v = RS_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	v = 1;
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		fprintf(stderr, "horobench respond: bind %s port %s: %s\n", argv[optind],
			argv[optind + 1], strerror(errno));
		close(fd);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready: responding on %s port %s%s\n", argv[optind], argv[optind + 1],
	       echo ? " (echo)" : "");
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!rs_stop) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n, sent;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ns_dsec(ns_from_timespec(&now), ns_from_timespec(&t0)) > secs)
			break;
		for (i = 0; i < RS_BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = RS_PAYLOAD;
			memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
			msg[i].msg_hdr.msg_name = &from[i];
			msg[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, msg, RS_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				perror("horobench respond: recvmmsg");
				break;
			}
			(void)poll(&pfd, 1, RS_POLL_MS);
			continue;
		}
		if (!echo) {
			struct timespec rt;

			clock_gettime(CLOCK_REALTIME, &rt);
			for (i = 0; i < n; i++) {
				if (msg[i].msg_len < NTP_HEADER_LEN) {
					iov[i].iov_len = 0; /* too short to answer: skipped below */
					continue;
				}
				make_reply(buf[i], refid, ntp_ts_from_timespec(&rt));
				iov[i].iov_len = NTP_HEADER_LEN;
			}
		} else {
			for (i = 0; i < n; i++)
				iov[i].iov_len = msg[i].msg_len;
		}
		/* Compact away what is not answered, then send the batch. */
		{
			int k = 0;

			for (i = 0; i < n; i++) {
				if (!iov[i].iov_len)
					continue;
				if (k != i) {
					iov[k].iov_base = iov[i].iov_base;
					iov[k].iov_len = iov[i].iov_len;
					msg[k].msg_hdr.msg_name = msg[i].msg_hdr.msg_name;
				}
				msg[k].msg_hdr.msg_namelen = msg[i].msg_hdr.msg_namelen;
				msg[k].msg_hdr.msg_iov = &iov[k];
				k++;
			}
			for (sent = 0; sent < k;) {
				int r = sendmmsg(fd, msg + sent, (unsigned)(k - sent), 0);

				if (r > 0)
					sent += r;
				else if (r < 0 && errno == EINTR)
					continue;
				else
					sent++; /* skip a reply the kernel refuses */
			}
		}
	}
	close(fd);
	return 0;
}
