/*
 * ntpjunk: replays COUNT malformed NTP requests (seeded, so a run can be
 * repeated) against one server and checks what comes back. Every kind of
 * bad input in turn: random bytes of 0..1100 bytes, runts, lengths that
 * are not a multiple of 4, versions 0 and 5-7, every mode with every
 * version, extension fields and MACs that do not fit, mode 6 and mode 7
 * headers, and valid requests with random bits flipped where they
 * matter (the first byte, the extension field's header). Some of these
 * happen to be valid requests and may be answered.
 *
 * Each request of 48 bytes or more carries its index in its transmit
 * timestamp, so each reply is matched to its request: a reply must answer
 * a request that the classifier (proto/ntp.c, the one horod uses) calls a
 * reply and that carries no MAC or NTS field (horod without keys drops
 * those, as chrony does), be 48 bytes and never longer than its request, have mode 4 (2
 * for mode 1) and the request's version, and come once. The load paces
 * itself: every BATCH requests on a socket carry one valid probe, and a
 * socket sends again only when the probe of its batch before last came
 * back, so the server's queue stays short and nothing is lost to a full
 * socket buffer, whatever the server's speed (the sanitizer build is
 * slower). Requests go out of several sockets (several source ports) so
 * that SO_REUSEPORT spreads them over the server's workers.
 *
 * Prints two lines: `expect NAME=N ...`, how many requests horod should
 * count under each reason (the probes included, zeros left out, and
 * `received=`), and `result key=value ...`: sent, bytes, replies, the
 * bytes ratio and the count of every kind of wrong reply. Exit 0 when
 * every reply was right and every probe came back, 1 otherwise, 2 on a
 * usage error. Loopback or namespace addresses only; bounded by
 * MAX_SECONDS, and it gives up (timed_out=1) once MAX_LOST probes are
 * lost: a server that stopped answering is not waited for.
 *
 *   ntpjunk ADDR PORT COUNT [SEED]
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
#include "proto/nts.h"
#include "proto/reason.h"

#define SOCKS	      8			    /* source sockets: ports spread over the workers */
#define BATCH	      32		    /* requests per batch, the last one the probe */
#define WINDOW	      2			    /* batches in flight per socket */
#define MAX_LEN	      1100		    /* bytes: the largest request sent */
#define MAX_COUNT     5000000UL		    /* requests per run at most */
#define MAX_SECONDS   60		    /* s: hard bound on a run */
#define MAX_LOST      32		    /* probes lost before giving up: the server is gone */
#define PROBE_WAIT_NS NS_PER_SEC	    /* ns: a probe not back by then is lost */
#define DRAIN_NS      300000000LL	    /* ns: quiet time that ends the final drain */
#define RCVBUF	      (4 << 20)		    /* bytes: replies wait here between reads */
#define TAG_JUNK      0x4a554e4b00000000ULL /* "JUNK" in the transmit's seconds: a request */
#define TAG_PROBE     0x50524f4200000000ULL /* "PROB": a probe */
#define TAG_MASK      0xffffffff00000000ULL /* the tag's bits */

struct sock {
	int fd;
	unsigned long long probe[WINDOW]; /* probe numbers in flight, 0 = free */
	long long probe_ns[WINDOW];	  /* when each went out */
};

static unsigned long long rng_state;
static uint16_t *req_len;   /* by request index: its length */
static uint8_t *req_first;  /* its first byte (LI, VN, mode) */
static uint8_t *req_reason; /* what the classifier says */
static uint8_t *req_seen;   /* 1 once answered */
static unsigned long long reason_n[NTP_REASON_MAX];
static unsigned long long sent, probes_sent, probes_back, probes_lost, tx_bytes, rx_bytes;
static unsigned long long replies, bad_len, longer, bad_mode, bad_vn, unexpected, dups, stray;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ns_from_timespec(&ts);
}

/* xorshift64*: a small seeded generator, so that a seed replays a run. */
static unsigned long long rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put64(uint8_t *p, unsigned long long v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static unsigned long long get64(const uint8_t *p)
{
	unsigned long long v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A valid-looking header: LI 0, VN, MODE, poll 6, the rest random. */
static void header(uint8_t *b, unsigned vn, unsigned mode)
{
	int i;

	for (i = 0; i < NTP_HEADER_LEN; i++)
		b[i] = (uint8_t)rnd();
	b[0] = (uint8_t)((vn & 7) << 3 | (mode & 7));
}

/* Extension fields after the header of B, up to LEN bytes, most of them wrong. */
static void ext_fields(uint8_t *b, size_t len)
{
	size_t off = NTP_HEADER_LEN, i;

	for (i = off; i < len; i++)
		b[i] = (uint8_t)rnd();
	while (off + 4 <= len) {
		size_t left = len - off, fl;

		switch (rnd_below(7)) {
		case 0: /* exactly what is left */
			fl = left;
			break;
		case 1: /* past the end */
			fl = left + 4 * (1 + rnd_below(64));
			break;
		case 2: /* under the 16-byte minimum */
			fl = 4 * rnd_below(4);
			break;
		case 3: /* not a multiple of 4 */
			fl = 16 + rnd_below(64) * 4 + 1 + rnd_below(3);
			break;
		case 4: /* the largest length the field holds */
			fl = 0xfffc;
			break;
		default: /* a plausible field, maybe followed by more */
			fl = 16 + 4 * rnd_below(16);
			break;
		}
		put16(b + off + 2, (unsigned)(fl & 0xffff));
		if (fl < 4 || fl > left || fl % 4)
			break;
		off += fl;
	}
}

/* Request I (never a probe) into B; returns its length. */
static size_t make_junk(uint8_t *b, unsigned long long i)
{
	size_t len, k;
	unsigned kind = rnd_below(10);

	switch (kind) {
	case 0: /* random bytes, random length */
		len = rnd_below(MAX_LEN + 1);
		for (k = 0; k < len; k++)
			b[k] = (uint8_t)rnd();
		break;
	case 1: /* runt: 0..47 bytes of an otherwise good header */
		len = rnd_below(NTP_HEADER_LEN);
		header(b, 4, 3);
		break;
	case 2: /* length not a multiple of 4 */
		do
			len = NTP_HEADER_LEN + 1 + rnd_below(MAX_LEN - NTP_HEADER_LEN);
		while (len % 4 == 0);
		header(b, 1 + rnd_below(4), 3);
		for (k = NTP_HEADER_LEN; k < len; k++)
			b[k] = (uint8_t)rnd();
		break;
	case 3: { /* version 0 or 5..7 */
		static const unsigned vn_bad[] = {0, 5, 6, 7};

		len = NTP_HEADER_LEN + 4 * rnd_below(8);
		header(b, vn_bad[rnd_below(4)], rnd_below(8));
		for (k = NTP_HEADER_LEN; k < len; k++)
			b[k] = (uint8_t)rnd();
		break;
	}
	case 4: /* every mode with every version, 48 bytes */
		len = NTP_HEADER_LEN;
		header(b, (unsigned)(i % 8), (unsigned)(i / 8 % 8));
		break;
	case 5: /* extension fields that do not fit (some do) */
		len = NTP_HEADER_LEN + 4 + 4 * rnd_below((MAX_LEN - NTP_HEADER_LEN) / 4);
		header(b, 4, rnd_below(2) ? 3 : 1);
		ext_fields(b, len);
		break;
	case 6: { /* MAC-sized and near-MAC remainders */
		static const size_t rem[] = {4, 8, 12, 16, 20, 24, 28};

		len = NTP_HEADER_LEN + rem[rnd_below(7)];
		header(b, 3 + rnd_below(2), 3);
		for (k = NTP_HEADER_LEN; k < len; k++)
			b[k] = (uint8_t)rnd();
		break;
	}
	case 7: /* mode 6 and mode 7 headers of any length (1..64) */
		len = 1 + rnd_below(64);
		header(b, 1 + rnd_below(4), rnd_below(2) ? 6 : 7);
		for (k = NTP_HEADER_LEN; k < len; k++)
			b[k] = (uint8_t)rnd();
		break;
	default: /* a valid request (maybe with a field) with 1..8 bits flipped */
		len = rnd_below(2) ? NTP_HEADER_LEN : NTP_HEADER_LEN + 16 + 4 * rnd_below(8);
		header(b, 4, 3);
		if (len > NTP_HEADER_LEN) {
			memset(b + NTP_HEADER_LEN, 0, len - NTP_HEADER_LEN);
			put16(b + NTP_HEADER_LEN, 0xf0f0);
			put16(b + NTP_HEADER_LEN + 2, (unsigned)(len - NTP_HEADER_LEN));
		}
		/* In the bytes that decide: LI/VN/mode, and the field's header. */
		for (k = 1 + rnd_below(8); k > 0; k--) {
			size_t bit = rnd_below(len > NTP_HEADER_LEN ? 40 : 8);

			if (bit >= 8)
				bit += 8 * (NTP_HEADER_LEN - 1);
			b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		break;
	}
	if (len >= NTP_HEADER_LEN)
		put64(b + 40, TAG_JUNK | i);
	return len;
}

/*
 * The reason horod counts for request B (LEN bytes) from a non-control
 * address with neither a keyfile nor an NTS server: the classifier's,
 * except that a request with a MAC or NTS fields cannot be verified and
 * is dropped (drop_auth, as chrony drops them).
 */
static enum ntp_reason expected_reason(const uint8_t *b, size_t len)
{
	enum ntp_reason r = ntp_classify(b, len, 0);
	struct nts_req nr;
	size_t mac = len;

	if ((r == NTP_R_REPLY_SERVER || r == NTP_R_REPLY_SYMMETRIC) && len > NTP_HEADER_LEN &&
	    ntp_ext_mac(b, len, &mac) == 0 &&
	    (mac < len || nts_parse_request(b, len, &nr) != NTS_PARSE_NONE))
		r = NTP_R_DROP_AUTH;
	return r;
}

/* Check one datagram received on a socket; notes a returned probe in S. */
static void on_reply(struct sock *s, const uint8_t *b, size_t len)
{
	unsigned long long org, idx;
	unsigned mode, vn, rmode;
	int w;

	replies++;
	rx_bytes += len;
	if (len < NTP_HEADER_LEN) {
		stray++;
		return;
	}
	org = get64(b + 24);
	idx = org & ~TAG_MASK;
	if ((org & TAG_MASK) == TAG_PROBE) {
		for (w = 0; w < WINDOW; w++)
			if (s->probe[w] == idx + 1) {
				s->probe[w] = 0;
				probes_back++;
				break;
			}
		if (w == WINDOW)
			dups++; /* late (already given up on) or twice */
		if (len != NTP_HEADER_LEN)
			bad_len++;
		return;
	}
	if ((org & TAG_MASK) != TAG_JUNK || idx >= sent || req_len[idx] < NTP_HEADER_LEN) {
		stray++;
		return;
	}
	if (req_seen[idx]++)
		dups++;
	if (!ntp_reason_is_reply((enum ntp_reason)req_reason[idx]))
		unexpected++;
	if (len != NTP_HEADER_LEN)
		bad_len++;
	if (len > req_len[idx])
		longer++;
	rmode = b[0] & 7;
	mode = req_first[idx] & 7;
	vn = req_first[idx] >> 3 & 7;
	if ((b[0] >> 3 & 7) != vn)
		bad_vn++;
	if (!((mode == NTP_MODE_CLIENT && rmode == NTP_MODE_SERVER) ||
	      (mode == NTP_MODE_ACTIVE && rmode == NTP_MODE_PASSIVE)))
		bad_mode++;
}

/* Read what is queued on S. */
static void drain(struct sock *s)
{
	enum { RX_BATCH = 64 };
	static uint8_t buf[RX_BATCH][2048];
	struct mmsghdr m[RX_BATCH];
	struct iovec v[RX_BATCH];
	int i, n, rounds;

	for (rounds = 0; rounds < 1000; rounds++) {
		for (i = 0; i < RX_BATCH; i++) {
			v[i] = (struct iovec){.iov_base = buf[i], .iov_len = sizeof(buf[i])};
			memset(&m[i], 0, sizeof(m[i]));
			m[i].msg_hdr.msg_iov = &v[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(s->fd, m, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			on_reply(s, buf[i], m[i].msg_len);
	}
}

/* Give up on probes of S older than PROBE_WAIT_NS at NOW. */
static void expire(struct sock *s, long long now)
{
	int w;

	for (w = 0; w < WINDOW; w++)
		if (s->probe[w] && now - s->probe_ns[w] > PROBE_WAIT_NS) {
			s->probe[w] = 0;
			probes_lost++;
		}
}

/* Send one batch on S (up to BATCH - 1 requests from NEXT on, then a probe). */
static int send_batch(struct sock *s, int w, unsigned long long *next, unsigned long long count)
{
	static uint8_t pkt[BATCH][MAX_LEN + 8];
	struct mmsghdr m[BATCH];
	struct iovec v[BATCH];
	struct ntp_packet p = {.version = 4, .mode = NTP_MODE_CLIENT, .poll = 6};
	int n = 0, done = 0, r;

	while (n < BATCH - 1 && *next < count) {
		unsigned long long i = (*next)++;
		size_t len = make_junk(pkt[n], i);

		req_len[i] = (uint16_t)len;
		req_first[i] = len ? pkt[n][0] : 0;
		req_reason[i] = (uint8_t)expected_reason(pkt[n], len);
		reason_n[req_reason[i]]++;
		v[n] = (struct iovec){.iov_base = pkt[n], .iov_len = len};
		tx_bytes += len;
		n++;
	}
	sent = *next;
	p.xmt = TAG_PROBE | probes_sent;
	ntp_encode(&p, pkt[n]);
	v[n] = (struct iovec){.iov_base = pkt[n], .iov_len = NTP_HEADER_LEN};
	tx_bytes += NTP_HEADER_LEN;
	reason_n[NTP_R_REPLY_SERVER]++;
	n++;
	s->probe[w] = ++probes_sent;
	s->probe_ns[w] = now_ns();
	memset(m, 0, sizeof(m));
	for (r = 0; r < n; r++) {
		m[r].msg_hdr.msg_iov = &v[r];
		m[r].msg_hdr.msg_iovlen = 1;
	}
	while (done < n) {
		r = sendmmsg(s->fd, m + done, (unsigned)(n - done), 0);
		if (r < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) {
			struct timespec ts = {0, 100000};

			nanosleep(&ts, NULL);
			continue;
		}
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

static int open_sock(const struct sockaddr_storage *ss, socklen_t sl)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM, 0), rcv = RCVBUF;

	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, sl) < 0) {
		perror("ntpjunk: socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss = {0};
	struct sock sk[SOCKS];
	struct pollfd pfd[SOCKS];
	unsigned long long count, next = 0, seed = 1;
	long long t0, deadline, quiet;
	socklen_t sl;
	int i, w, r, busy, timed_out = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: ntpjunk ADDR PORT COUNT [SEED]\n");
		return 2;
	}
	count = strtoull(argv[3], NULL, 10);
	if (argc > 4)
		seed = strtoull(argv[4], NULL, 10);
	if (count < 1 || count > MAX_COUNT) {
		fprintf(stderr, "ntpjunk: COUNT 1-%lu\n", MAX_COUNT);
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
		fprintf(stderr, "ntpjunk: %s: not an IP address\n", argv[1]);
		return 2;
	}
	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	req_len = calloc(count, sizeof(*req_len));
	req_first = calloc(count, 1);
	req_reason = calloc(count, 1);
	req_seen = calloc(count, 1);
	if (!req_len || !req_first || !req_reason || !req_seen) {
		fprintf(stderr, "ntpjunk: out of memory\n");
		return 1;
	}
	for (i = 0; i < SOCKS; i++) {
		memset(&sk[i], 0, sizeof(sk[i]));
		sk[i].fd = open_sock(&ss, sl);
		pfd[i] = (struct pollfd){.fd = sk[i].fd, .events = POLLIN};
	}

	t0 = now_ns();
	deadline = t0 + MAX_SECONDS * NS_PER_SEC;
	while (next < count) {
		long long now = now_ns();

		if (now > deadline || probes_lost >= MAX_LOST) {
			timed_out = 1;
			break;
		}
		busy = 1;
		for (i = 0; i < SOCKS && next < count; i++) {
			expire(&sk[i], now);
			for (w = 0; w < WINDOW && next < count; w++) {
				if (sk[i].probe[w])
					continue;
				if (send_batch(&sk[i], w, &next, count) < 0) {
					perror("ntpjunk: sendmmsg");
					return 1;
				}
				busy = 0;
			}
		}
		/* Every window full: wait for replies (bounded). */
		r = poll(pfd, SOCKS, busy ? 10 : 0);
		for (i = 0; r > 0 && i < SOCKS; i++)
			if (pfd[i].revents & POLLIN)
				drain(&sk[i]);
	}
	/* Last replies: until every probe is back or lost, and the line is quiet. */
	quiet = now_ns();
	while (now_ns() - quiet < DRAIN_NS && now_ns() < deadline + PROBE_WAIT_NS) {
		r = poll(pfd, SOCKS, 20);
		if (r > 0)
			quiet = now_ns();
		for (i = 0; r > 0 && i < SOCKS; i++)
			if (pfd[i].revents & POLLIN)
				drain(&sk[i]);
		for (i = 0; i < SOCKS; i++)
			expire(&sk[i], now_ns());
	}
	for (i = 0; i < SOCKS; i++) {
		for (w = 0; w < WINDOW; w++)
			if (sk[i].probe[w]) {
				sk[i].probe[w] = 0;
				probes_lost++;
			}
		close(sk[i].fd);
	}

	printf("expect received=%llu", sent + probes_sent);
	for (i = 0; i < NTP_REASON_MAX; i++)
		if (reason_n[i])
			printf(" %s=%llu", ntp_reason_name((enum ntp_reason)i), reason_n[i]);
	printf("\nresult sent=%llu probes=%llu probes_back=%llu probes_lost=%llu tx_bytes=%llu "
	       "rx_bytes=%llu replies=%llu ratio=%.6f bad_len=%llu longer=%llu bad_mode=%llu "
	       "bad_vn=%llu unexpected=%llu dups=%llu stray=%llu seconds=%.2f timed_out=%d\n",
	       sent, probes_sent, probes_back, probes_lost, tx_bytes, rx_bytes, replies,
	       tx_bytes ? (double)rx_bytes / (double)tx_bytes : 0.0, bad_len, longer, bad_mode,
	       bad_vn, unexpected, dups, stray, (double)(now_ns() - t0) / 1e9, timed_out);
	return (probes_lost || bad_len || longer || bad_mode || bad_vn || unexpected || dups ||
		stray || timed_out)
		       ? 1
		       : 0;
}
