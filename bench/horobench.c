/*
 * horobench: an NTP load generator that checks every reply. It sends mode 3
 * requests from many UDP sockets (source ports, optionally several source
 * addresses) at a fixed rate (open loop, --rate) or with a fixed number in
 * flight (closed loop, --window), for a bounded time, optionally mixing in
 * a share of malformed requests of each kind. Each request carries a
 * unique cookie in its transmit timestamp; a reply is valid only if its
 * origin is a cookie we sent and had not seen answered, with the right
 * mode and version, a stratum of 1-15, no alarm leap and receive <=
 * transmit. The client sockets take kernel receive stamps on every reply
 * and kernel transmit stamps (error queue) on a sample of the requests,
 * so round-trip time and the offset each reply implies use kernel times:
 * on one host the true offset is 0, and the measured one is the server's
 * timestamping error. `horobench respond` is the floor responder
 * (responder.c). Traffic goes where it is told: use loopback or addresses
 * in namespaces you created.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include "bench/responder.h"
#include "bench/stats.h"
#include "proto/ntp.h"

#define HB_MAX_SECONDS 60	  /* s: hard bound on a run */
#define HB_MAX_SOCKETS 1024	  /* client sockets (source ports) */
#define HB_MAX_SOURCES 64	  /* source addresses */
#define HB_BATCH       64	  /* datagrams per sendmmsg / recvmmsg call */
#define HB_REQ_MAX     64	  /* bytes: longest request we send (bad extension) */
#define HB_REPLY_MAX   512	  /* bytes: longer replies are cut, still checked */
#define HB_CMSG_SPACE  256	  /* bytes: SCM_TIMESTAMPING + RECVERR with room */
#define HB_KEYRING     8192	  /* stamped sends remembered per socket (power of two) */
#define HB_RCVBUF      (4 << 20)  /* bytes: client socket buffer, rides out VM stalls */
#define HB_MAX_RATE    10000000.0 /* requests/s: upper bound of --rate */
#define HB_MAX_WINDOW  1000000	  /* requests in flight: upper bound of --window */
#define HB_SPIN_NS     50000	  /* ns: open loop waits below this spin instead of sleeping */
#define HB_IDLE_NS     1000000	  /* ns: longest sleep while waiting for replies */
#define HB_TAB_MIN     (1u << 16) /* entries: smallest request table */
#define HB_TAB_MAX     (1u << 23) /* entries: largest request table (192 MB) */
#define HB_COOKIE_MUL  0x9e3779b97f4a7c15ULL /* odd: seq * MUL is a bijection mod 2^64 */
#define NS	       1000000000LL	     /* ns per second */

/* Kinds of request; 0 is the well-formed one. */
enum hb_kind { K_GOOD, K_SHORT, K_BADVERSION, K_MODE7, K_MODE6, K_BADEXT, K_MAX };
static const char *const kind_name[K_MAX] = {"good",  "short", "badversion",
					     "mode7", "mode6", "badext"};

/* Why a reply was not valid. */
enum hb_bad {
	B_SHORT,     /* shorter than 48 bytes */
	B_UNKNOWN,   /* origin is no cookie we sent (or one forgotten long ago) */
	B_DUPLICATE, /* a second reply to the same request */
	B_MODE,	     /* not mode 4 */
	B_VERSION,   /* version not echoed */
	B_STRATUM,   /* stratum 0 (kiss-o'-death) or above 15 */
	B_LEAP,	     /* leap 3: the server says it is unsynchronized */
	B_ORDER,     /* receive or transmit 0, or receive > transmit */
	B_MAX
};
static const char *const bad_name[B_MAX] = {"short",   "unknown_origin", "duplicate", "mode",
					    "version", "stratum",	 "leap",      "order"};

/* Request table entry flags. */
#define F_KIND	0x07 /* enum hb_kind */
#define F_STAMP 0x08 /* a TX timestamp was asked for */
#define F_T1	0x10 /* t holds the kernel TX stamp (else the user-space send time) */
#define F_DONE	0x20 /* answered */
#define F_LOST	0x40 /* given up on (timeout) */

struct hb_req {
	uint64_t seq; /* which request this entry holds, plus 1 (0: none yet) */
	int64_t t;    /* send time, ns Unix (kernel TX stamp once F_T1) */
	uint32_t flags;
};

struct hb_sock {
	int fd;
	uint32_t next_key;	      /* TX stamp key of the next stamped send */
	uint64_t keyring[HB_KEYRING]; /* key -> seq of stamped sends */
};

struct hb_opts {
	struct sockaddr_storage dst;
	socklen_t dstlen;
	struct sockaddr_storage src[HB_MAX_SOURCES];
	int n_src;
	const char *host;
	int port;
	double rate;	 /* open loop: requests/s; 0 = closed loop */
	int window;	 /* closed loop: requests in flight */
	double duration; /* s */
	int sockets;
	double malformed; /* share of requests that are malformed, 0..1 */
	int kinds[K_MAX]; /* malformed kinds enabled */
	int cpu;
	int json;
	int ts_every;	/* ask a TX stamp on one request in N (0: none) */
	double timeout; /* s: a request unanswered this long is lost */
	int allow_unsync;
	int version; /* VN of our requests */
};

struct hb_run {
	struct hb_opts o;
	struct hb_sock *socks;
	int epfd;
	struct hb_req *tab;
	uint64_t mask;
	uint64_t key;	   /* cookie mask, random per run */
	uint64_t mul_inv;  /* inverse of HB_COOKIE_MUL mod 2^64 */
	uint64_t next_seq; /* next request number */
	uint64_t oldest;   /* every request below this is answered or lost */
	int next_sock;
	double mal_acc; /* malformed share accumulator */
	int next_kind;
	/* counts */
	uint64_t sent[K_MAX];
	uint64_t sent_total;
	uint64_t send_errors;
	uint64_t answered; /* replies to well-formed requests in time */
	uint64_t valid;
	uint64_t bad[B_MAX];
	uint64_t late; /* replies after the timeout */
	uint64_t malformed_answered;
	uint64_t control_answered; /* mode 6 responses: ntpq requests answered (allowed sources) */
	uint64_t lost;
	uint64_t inflight;	   /* well-formed requests neither answered nor lost */
	uint64_t tx_stamps;	   /* kernel TX stamps matched */
	uint64_t tx_stamp_missing; /* stamped requests answered before their TX stamp came */
	uint64_t rx_stamp_missing; /* replies without a kernel RX stamp */
	struct bs_samples rtt, res, off;
	int64_t t_start, t_stop, t_end;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t cookie_of(const struct hb_run *r, uint64_t seq)
{
	return (seq * HB_COOKIE_MUL) ^ r->key;
}

static uint64_t seq_of(const struct hb_run *r, uint64_t cookie)
{
	return (cookie ^ r->key) * r->mul_inv;
}

/* Write request SEQ of KIND into BUF; returns its length. */
static size_t build_request(const struct hb_run *r, enum hb_kind kind, uint64_t seq,
			    uint8_t buf[HB_REQ_MAX])
{
	uint64_t cookie = cookie_of(r, seq);

	memset(buf, 0, HB_REQ_MAX);
	buf[0] = (uint8_t)((r->o.version << 3) | NTP_MODE_CLIENT);
	buf[2] = 6; /* poll: 64 s, what a client would say */
	buf[3] = (uint8_t)-20;
	put_be64(buf + 40, cookie);
	switch (kind) {
	case K_GOOD:
		return NTP_HEADER_LEN;
	case K_SHORT:
		return 44; /* a header cut short, still a multiple of 4 */
	case K_BADVERSION:
		buf[0] = (uint8_t)((0 << 3) | NTP_MODE_CLIENT);
		return NTP_HEADER_LEN;
	case K_MODE7:
		/* An ntpdc MON_GETLIST_1 request: the classic amplification probe. */
		memset(buf, 0, 8);
		buf[0] = (uint8_t)((2 << 3) | NTP_MODE_PRIVATE);
		buf[2] = 3;
		buf[3] = 42;
		return 8;
	case K_MODE6:
		/* An ntpq READVAR request with no data: 12 bytes. */
		memset(buf, 0, 12);
		buf[0] = (uint8_t)((2 << 3) | NTP_MODE_CONTROL);
		buf[1] = 2;
		buf[3] = (uint8_t)seq;
		return 12;
	case K_BADEXT:
		/* One extension field whose length runs past the packet. */
		buf[48] = 0x01;
		buf[49] = 0x04;
		buf[50] = 0x01;
		buf[51] = 0x00;
		return HB_REQ_MAX;
	default:
		return NTP_HEADER_LEN;
	}
}

static enum hb_kind pick_kind(struct hb_run *r)
{
	int i;

	if (r->o.malformed <= 0)
		return K_GOOD;
	r->mal_acc += r->o.malformed;
	if (r->mal_acc < 1.0)
		return K_GOOD;
	r->mal_acc -= 1.0;
	for (i = 0; i < K_MAX; i++) {
		int k = 1 + (r->next_kind++ % (K_MAX - 1));

		if (r->o.kinds[k])
			return (enum hb_kind)k;
	}
	return K_GOOD;
}

static void expire(struct hb_run *r, int64_t now, int force, uint64_t room);

/* Send up to N requests on the next socket; returns the number sent. */
static int send_batch(struct hb_run *r, int n)
{
	static uint8_t buf[HB_BATCH][HB_REQ_MAX];
	static union {
		char c[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} tscm;
	struct mmsghdr m[HB_BATCH];
	struct iovec iov[HB_BATCH];
	uint32_t fl[HB_BATCH];
	struct hb_sock *s = &r->socks[r->next_sock];
	int64_t t;
	int i, k;

	r->next_sock = (r->next_sock + 1) % r->o.sockets;
	if (n > HB_BATCH)
		n = HB_BATCH;
	expire(r, 0, 0, (uint64_t)n); /* never overwrite a request still in flight */
	if (!tscm.align.cmsg_len) {
		struct cmsghdr *c = &tscm.align;
		uint32_t f = SOF_TIMESTAMPING_TX_SOFTWARE;

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SO_TIMESTAMPING;
		c->cmsg_len = CMSG_LEN(sizeof(f));
		memcpy(CMSG_DATA(c), &f, sizeof(f));
	}
	for (i = 0; i < n; i++) {
		uint64_t seq = r->next_seq + (uint64_t)i;
		enum hb_kind kind = pick_kind(r);

		fl[i] = kind;
		if (kind == K_GOOD && r->o.ts_every && seq % (uint64_t)r->o.ts_every == 0)
			fl[i] |= F_STAMP;
		iov[i].iov_base = buf[i];
		iov[i].iov_len = build_request(r, kind, seq, buf[i]);
		memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		if (fl[i] & F_STAMP) {
			m[i].msg_hdr.msg_control = tscm.c;
			m[i].msg_hdr.msg_controllen = sizeof(tscm.c);
		}
	}
	t = now_ns();
	k = sendmmsg(s->fd, m, (unsigned)n, MSG_DONTWAIT);
	if (k < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS)
			r->send_errors++;
		return 0;
	}
	for (i = 0; i < k; i++) {
		uint64_t seq = r->next_seq + (uint64_t)i;
		struct hb_req *e = &r->tab[seq & r->mask];
		enum hb_kind kind = (enum hb_kind)(fl[i] & F_KIND);

		e->seq = seq + 1;
		e->t = t;
		e->flags = fl[i];
		if (fl[i] & F_STAMP)
			s->keyring[s->next_key++ & (HB_KEYRING - 1)] = seq;
		r->sent[kind]++;
		if (kind == K_GOOD)
			r->inflight++;
	}
	r->sent_total += (uint64_t)k;
	r->next_seq += (uint64_t)k;
	return k;
}

/* Read S's error queue: kernel TX stamps of stamped requests. */
static void read_errqueue(struct hb_run *r, struct hb_sock *s)
{
	struct mmsghdr m[HB_BATCH];
	union {
		char c[HB_CMSG_SPACE];
		struct cmsghdr align;
	} cm[HB_BATCH];
	int i, n;

	for (;;) {
		for (i = 0; i < HB_BATCH; i++) {
			memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
			m[i].msg_hdr.msg_control = cm[i].c;
			m[i].msg_hdr.msg_controllen = sizeof(cm[i].c);
		}
		n = recvmmsg(s->fd, m, HB_BATCH, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			struct cmsghdr *c;
			struct timespec ts = {0, 0};
			uint32_t key = 0;
			int have_key = 0;

			for (c = CMSG_FIRSTHDR(&m[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SCM_TIMESTAMPING &&
				    c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
					struct scm_timestamping st;

					memcpy(&st, CMSG_DATA(c), sizeof(st));
					ts = st.ts[0];
				} else if (((c->cmsg_level == SOL_IP &&
					     c->cmsg_type == IP_RECVERR) ||
					    (c->cmsg_level == SOL_IPV6 &&
					     c->cmsg_type == IPV6_RECVERR)) &&
					   c->cmsg_len >=
						   CMSG_LEN(sizeof(struct sock_extended_err))) {
					struct sock_extended_err ee;

					memcpy(&ee, CMSG_DATA(c), sizeof(ee));
					if (ee.ee_errno == ENOMSG &&
					    ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING &&
					    ee.ee_info == SCM_TSTAMP_SND) {
						key = ee.ee_data;
						have_key = 1;
					}
				}
			}
			if (!have_key || !(ts.tv_sec || ts.tv_nsec))
				continue;
			/* Only keys of the last HB_KEYRING stamped sends are known. */
			if ((uint32_t)(s->next_key - key) - 1 >= HB_KEYRING)
				continue;
			{
				uint64_t seq = s->keyring[key & (HB_KEYRING - 1)];
				struct hb_req *e = &r->tab[seq & r->mask];
				int64_t t1 = (int64_t)ts.tv_sec * NS + ts.tv_nsec;

				if (e->seq != seq + 1 || (e->flags & (F_T1 | F_DONE)) ||
				    !(e->flags & F_STAMP))
					continue;
				e->t = t1;
				e->flags |= F_T1;
				r->tx_stamps++;
			}
		}
		if (n < HB_BATCH)
			return;
	}
}

/* Check one reply BUF (LEN bytes) received at T4 (kernel, 0 if none). */
static void on_reply(struct hb_run *r, const uint8_t *buf, size_t len, int64_t t4)
{
	struct ntp_packet p;
	struct hb_req *e;
	uint64_t seq;
	int64_t t1, t2, t3;

	if (len >= 1 && (buf[0] & 7) == NTP_MODE_CONTROL) {
		/* The mode6 kind from an address horod allows control (loopback): not time. */
		r->control_answered++;
		return;
	}
	if (ntp_decode(buf, len, &p) < 0) {
		r->bad[B_SHORT]++;
		return;
	}
	seq = seq_of(r, p.org);
	e = &r->tab[seq & r->mask];
	if (seq >= r->next_seq || r->next_seq - seq > r->mask + 1 || e->seq != seq + 1) {
		r->bad[B_UNKNOWN]++;
		return;
	}
	if (e->flags & F_DONE) {
		r->bad[B_DUPLICATE]++;
		return;
	}
	e->flags |= F_DONE;
	if ((e->flags & F_KIND) != K_GOOD) {
		r->malformed_answered++;
		return;
	}
	if (e->flags & F_LOST) {
		r->late++;
		return;
	}
	r->answered++;
	r->inflight--;
	if (p.mode != NTP_MODE_SERVER) {
		r->bad[B_MODE]++;
		return;
	}
	if (p.version != r->o.version) {
		r->bad[B_VERSION]++;
		return;
	}
	if (p.stratum < 1 || p.stratum > 15) {
		r->bad[B_STRATUM]++;
		return;
	}
	if (p.leap == NTP_LEAP_UNSYNC && !r->o.allow_unsync) {
		r->bad[B_LEAP]++;
		return;
	}
	if (!p.rec || !p.xmt || ntp_ts_diff(p.xmt, p.rec) < 0) {
		r->bad[B_ORDER]++;
		return;
	}
	r->valid++;
	t1 = e->t;
	t2 = ntp_ts_to_unix_ns(p.rec, t1);
	t3 = ntp_ts_to_unix_ns(p.xmt, t1);
	bs_add(&r->res, t3 - t2);
	if (!t4) {
		r->rx_stamp_missing++;
		t4 = now_ns();
	}
	if (e->flags & F_T1) {
		bs_add(&r->rtt, t4 - t1);
		/* offset = ((T2 - T1) + (T3 - T4)) / 2, in ns, without overflow worries at these
		 * sizes */
		bs_add(&r->off, ((t2 - t1) + (t3 - t4)) / 2);
	} else if (e->flags & F_STAMP) {
		r->tx_stamp_missing++;
	} else if (!r->o.ts_every) {
		bs_add(&r->rtt, t4 - t1); /* no kernel TX stamps at all: user-space send time */
	}
}

/* Receive what S holds. */
static int read_replies(struct hb_run *r, struct hb_sock *s)
{
	static uint8_t buf[HB_BATCH][HB_REPLY_MAX];
	static union {
		char c[HB_CMSG_SPACE];
		struct cmsghdr align;
	} cm[HB_BATCH];
	struct mmsghdr m[HB_BATCH];
	struct iovec iov[HB_BATCH];
	int i, n, total = 0;

	do {
		for (i = 0; i < HB_BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = sizeof(buf[i]);
			memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_control = cm[i].c;
			m[i].msg_hdr.msg_controllen = sizeof(cm[i].c);
		}
		n = recvmmsg(s->fd, m, HB_BATCH, MSG_DONTWAIT, NULL);
		for (i = 0; i < n; i++) {
			struct cmsghdr *c;
			int64_t t4 = 0;

			for (c = CMSG_FIRSTHDR(&m[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SCM_TIMESTAMPING &&
				    c->cmsg_len >= CMSG_LEN(sizeof(struct scm_timestamping))) {
					struct scm_timestamping st;

					memcpy(&st, CMSG_DATA(c), sizeof(st));
					t4 = (int64_t)st.ts[0].tv_sec * NS + st.ts[0].tv_nsec;
				}
			}
			on_reply(r, buf[i], m[i].msg_len, t4);
		}
		if (n > 0)
			total += n;
	} while (n == HB_BATCH);
	return total;
}

/*
 * Give up on requests older than the timeout; with FORCE, on every one in
 * flight; and on any, whatever its age, that ROOM more sends would
 * overwrite in the table.
 */
static void expire(struct hb_run *r, int64_t now, int force, uint64_t room)
{
	int64_t limit = now - (int64_t)(r->o.timeout * (double)NS);

	while (r->oldest < r->next_seq) {
		struct hb_req *e = &r->tab[r->oldest & r->mask];

		if (e->seq == r->oldest + 1 && !(e->flags & (F_DONE | F_LOST)) &&
		    (e->flags & F_KIND) == K_GOOD) {
			int wrap = r->next_seq + room - r->oldest > r->mask + 1;

			if (!force && !wrap && e->t > limit)
				break;
			e->flags |= F_LOST;
			r->lost++;
			r->inflight--;
		}
		r->oldest++;
	}
}

static int open_sockets(struct hb_run *r)
{
	const int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
			    SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
	int i, v;

	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		return -1;
	for (i = 0; i < r->o.sockets; i++) {
		struct hb_sock *s = &r->socks[i];
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		int fd = socket(r->o.dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		s->fd = fd;
		if (fd < 0) {
			perror("horobench: socket");
			return -1;
		}
		v = HB_RCVBUF;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
		if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &tsflags, sizeof(tsflags)) < 0) {
			perror("horobench: SO_TIMESTAMPING");
			return -1;
		}
		if (r->o.n_src) {
			const struct sockaddr_storage *a = &r->o.src[i % r->o.n_src];
			socklen_t al = a->ss_family == AF_INET ? sizeof(struct sockaddr_in)
							       : sizeof(struct sockaddr_in6);

			if (bind(fd, (const struct sockaddr *)a, al) < 0) {
				perror("horobench: bind source address");
				return -1;
			}
		}
		if (connect(fd, (struct sockaddr *)&r->o.dst, r->o.dstlen) < 0) {
			perror("horobench: connect");
			return -1;
		}
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -1;
	}
	return 0;
}

/* Receive from every socket epoll says is readable (waiting at most WAIT_NS). */
static int poll_replies(struct hb_run *r, int64_t wait_ns)
{
	struct epoll_event ev[HB_MAX_SOCKETS];
	struct timespec ts = {.tv_sec = wait_ns / NS, .tv_nsec = wait_ns % NS};
	int i, n, got = 0;

	n = epoll_pwait2(r->epfd, ev, r->o.sockets, &ts, NULL);
	for (i = 0; i < n; i++)
		got += read_replies(r, &r->socks[ev[i].data.u32]);
	return got;
}

static void run(struct hb_run *r)
{
	int64_t dur = (int64_t)(r->o.duration * (double)NS);
	int64_t tmo = (int64_t)(r->o.timeout * (double)NS);
	uint64_t due_sent = 0;

	r->t_start = now_ns();
	r->t_stop = r->t_start + dur;
	for (;;) {
		int64_t now = now_ns(), wait = 0;
		int progress = 0;

		if (now < r->t_stop) {
			uint64_t target;

			if (r->o.rate > 0) {
				/* Open loop: the schedule says how many by now, whatever came back.
				 */
				target = (uint64_t)((double)(now - r->t_start) * 1e-9 * r->o.rate) +
					 1;
				while (due_sent < target) {
					int want = (int)(target - due_sent > HB_BATCH
								 ? HB_BATCH
								 : target - due_sent);
					int k = send_batch(r, want);
					int si = (r->next_sock + r->o.sockets - 1) % r->o.sockets;

					if (k <= 0)
						break;
					due_sent += (uint64_t)k;
					progress = 1;
					if (r->o.ts_every)
						read_errqueue(r, &r->socks[si]);
				}
				if (due_sent >= target) {
					double next = (double)target / r->o.rate * 1e9;

					wait = r->t_start + (int64_t)next - now;
				}
			} else {
				while (r->inflight < (uint64_t)r->o.window) {
					uint64_t room = (uint64_t)r->o.window - r->inflight;
					int k = send_batch(r,
							   room > HB_BATCH ? HB_BATCH : (int)room);
					int si = (r->next_sock + r->o.sockets - 1) % r->o.sockets;

					if (k <= 0)
						break;
					progress = 1;
					if (r->o.ts_every)
						read_errqueue(r, &r->socks[si]);
				}
				wait = HB_IDLE_NS;
			}
		} else {
			if (r->inflight == 0 || now >= r->t_stop + tmo)
				break;
			wait = HB_IDLE_NS;
		}
		if (poll_replies(r, 0) > 0)
			progress = 1;
		expire(r, now, 0, 0);
		if (!progress && wait > HB_SPIN_NS)
			poll_replies(r, wait > HB_IDLE_NS ? HB_IDLE_NS : wait);
	}
	r->t_end = now_ns();
	expire(r, r->t_end, 1, 0);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: horobench [OPTIONS] ADDR [PORT]\n"
		"       horobench respond [--echo] [--cpu N] [--duration S] ADDR PORT\n"
		"\n"
		"Send NTP client requests to ADDR (IPv4 or IPv6 literal) port PORT (default 123)\n"
		"and check every reply. Send only to loopback or to namespaces you created.\n"
		"\n"
		"  -r, --rate R         open loop: R requests/s whatever comes back\n"
		"  -w, --window W       closed loop: keep W requests in flight (default 64)\n"
		"  -d, --duration S     seconds of sending, at most %d (default 5)\n"
		"  -n, --sockets N      client sockets, i.e. source ports (default 16, max %d)\n"
		"  -s, --source ADDR    bind sockets to ADDR; repeat for several source\n"
		"                       addresses (sockets take them in turn)\n"
		"  -m, --malformed F    share F (0-1) of requests malformed, in turn of each kind\n"
		"  -k, --kinds LIST     malformed kinds, comma separated (default all):\n"
		"                       short (44 bytes), badversion (VN 0), mode7 (ntpdc\n"
		"                       monlist), mode6 (ntpq readvar: from a control-allowed\n"
		"                       source horod answers it, counted as control_answered),\n"
		"                       badext (bad extension)\n"
		"  -c, --cpu N          pin to CPU N\n"
		"  -t, --ts-every N     ask a kernel TX timestamp on one request in N (default 1;\n"
		"                       0 = none: RTT from user-space send times, no offsets)\n"
		"      --timeout S      a request unanswered after S seconds is lost (default "
		"0.5)\n"
		"      --version N      NTP version of the requests, 1-4 (default 4)\n"
		"      --allow-unsync   accept replies with leap 3 (unsynchronized server)\n"
		"  -j, --json           print one JSON object instead of text\n"
		"\n"
		"A reply is valid when its origin is a cookie we sent and had not seen\n"
		"answered, its mode is 4, its version ours, its stratum 1-15, its leap not 3,\n"
		"and 0 < receive <= transmit. loss = share of well-formed requests without a\n"
		"valid reply within the timeout. rtt = T4 - T1 and offset =\n"
		"((T2 - T1) + (T3 - T4)) / 2 use kernel TX (T1) and RX (T4) stamps: on one\n"
		"host the true offset is 0, so the offset is the server's timestamp error.\n"
		"residence = T3 - T2 as the server wrote them. Exit status: 0 when at least\n"
		"one valid reply came and none was invalid, 1 otherwise, 2 on usage errors.\n",
		HB_MAX_SECONDS, HB_MAX_SOCKETS);
}

static int parse_addr(const char *s, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static int parse_kinds(struct hb_opts *o, const char *list)
{
	char buf[256], *save = NULL, *tok;
	int k;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	memset(o->kinds, 0, sizeof(o->kinds));
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (k = 1; k < K_MAX; k++)
			if (!strcmp(tok, kind_name[k]))
				break;
		if (k == K_MAX)
			return -1;
		o->kinds[k] = 1;
	}
	return 0;
}

/* Strict number parsing: the whole of S, within [LO, HI]. */
static int num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct hb_opts *o)
{
	static const struct option opts[] = {{"rate", required_argument, NULL, 'r'},
					     {"window", required_argument, NULL, 'w'},
					     {"duration", required_argument, NULL, 'd'},
					     {"sockets", required_argument, NULL, 'n'},
					     {"source", required_argument, NULL, 's'},
					     {"malformed", required_argument, NULL, 'm'},
					     {"kinds", required_argument, NULL, 'k'},
					     {"cpu", required_argument, NULL, 'c'},
					     {"ts-every", required_argument, NULL, 't'},
					     {"timeout", required_argument, NULL, 'T'},
					     {"version", required_argument, NULL, 'V'},
					     {"allow-unsync", no_argument, NULL, 'U'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	double v;
	int c, k, port = 123;

	memset(o, 0, sizeof(*o));
	o->window = 64;
	o->duration = 5;
	o->sockets = 16;
	o->cpu = -1;
	o->ts_every = 1;
	o->timeout = 0.5;
	o->version = 4;
	for (k = 1; k < K_MAX; k++)
		o->kinds[k] = 1;
	while ((c = getopt_long(argc, argv, "r:w:d:n:s:m:k:c:t:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (num(optarg, 1, HB_MAX_RATE, &o->rate) < 0)
				goto bad;
			break;
		case 'w':
			if (num(optarg, 1, HB_MAX_WINDOW, &v) < 0)
				goto bad;
			o->window = (int)v;
			break;
		case 'd':
			if (num(optarg, 0.01, HB_MAX_SECONDS, &o->duration) < 0)
				goto bad;
			break;
		case 'n':
			if (num(optarg, 1, HB_MAX_SOCKETS, &v) < 0)
				goto bad;
			o->sockets = (int)v;
			break;
		case 's':
			if (o->n_src >= HB_MAX_SOURCES)
				goto bad;
			{
				socklen_t l;

				if (parse_addr(optarg, 0, &o->src[o->n_src], &l) < 0)
					goto bad;
			}
			o->n_src++;
			break;
		case 'm':
			if (num(optarg, 0, 1, &o->malformed) < 0)
				goto bad;
			break;
		case 'k':
			if (parse_kinds(o, optarg) < 0)
				goto bad;
			break;
		case 'c':
			if (num(optarg, 0, CPU_SETSIZE - 1, &v) < 0)
				goto bad;
			o->cpu = (int)v;
			break;
		case 't':
			if (num(optarg, 0, 1000000, &v) < 0)
				goto bad;
			o->ts_every = (int)v;
			break;
		case 'T':
			if (num(optarg, 0.001, 10, &o->timeout) < 0)
				goto bad;
			break;
		case 'V':
			if (num(optarg, 1, 4, &v) < 0)
				goto bad;
			o->version = (int)v;
			break;
		case 'U':
			o->allow_unsync = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		continue;
	bad:
		fprintf(stderr, "horobench: bad value '%s' for -%c (see --help)\n", optarg, c);
		return -1;
	}
	if (argc - optind < 1 || argc - optind > 2) {
		usage(stderr);
		return -1;
	}
	if (argc - optind == 2) {
		if (num(argv[optind + 1], 1, 65535, &v) < 0) {
			fprintf(stderr, "horobench: bad port '%s'\n", argv[optind + 1]);
			return -1;
		}
		port = (int)v;
	}
	o->host = argv[optind];
	o->port = port;
	if (parse_addr(o->host, port, &o->dst, &o->dstlen) < 0) {
		fprintf(stderr, "horobench: %s: not an IPv4 or IPv6 address\n", o->host);
		return -1;
	}
	for (k = 0; k < o->n_src; k++) {
		if (o->src[k].ss_family != o->dst.ss_family) {
			fprintf(stderr, "horobench: source and destination families differ\n");
			return -1;
		}
	}
	return 0;
}

/* Request table entries for O: a power of two, within the table bounds. */
static uint64_t table_size(const struct hb_opts *o)
{
	/* Closed loop: room for 1M requests/s over the timeout and a second more. */
	double rate = o->rate > 0 ? o->rate : 1e6;
	double want = fmax(rate * (o->timeout + 1.0), 4.0 * o->window);
	uint64_t n = HB_TAB_MIN;

	while (n < HB_TAB_MAX && (double)n < want)
		n <<= 1;
	return n;
}

static double us(int64_t ns)
{
	return (double)ns / 1000.0;
}

static void report(struct hb_run *r)
{
	const struct hb_opts *o = &r->o;
	double secs = (double)(r->t_stop - r->t_start) * 1e-9;
	uint64_t wf = r->sent[K_GOOD], invalid = 0, mal = r->sent_total - wf;
	double loss = wf ? (double)(wf - r->valid) / (double)wf : 1.0;
	struct bs_samples *q[3] = {&r->rtt, &r->res, &r->off};
	const char *qn[3] = {"rtt_us", "residence_us", "offset_us"};
	int i, k;

	for (i = 0; i < B_MAX; i++)
		invalid += r->bad[i];
	for (i = 0; i < 3; i++)
		bs_finish(q[i]);
	if (o->json) {
		printf("{\"server\":\"%s\",\"port\":%d,\"family\":%d,\"loop\":\"%s\",", o->host,
		       o->port, o->dst.ss_family == AF_INET ? 4 : 6,
		       o->rate > 0 ? "open" : "closed");
		if (o->rate > 0)
			printf("\"rate\":%.0f,", o->rate);
		else
			printf("\"window\":%d,", o->window);
		printf("\"duration_s\":%.3f,\"sockets\":%d,\"sources\":%d,\"ts_every\":%d,", secs,
		       o->sockets, o->n_src, o->ts_every);
		printf("\"sent\":%llu,\"sent_wellformed\":%llu,\"sent_malformed\":%llu,"
		       "\"malformed\":{",
		       (unsigned long long)r->sent_total, (unsigned long long)wf,
		       (unsigned long long)mal);
		for (k = 1; k < K_MAX; k++)
			printf("%s\"%s\":%llu", k > 1 ? "," : "", kind_name[k],
			       (unsigned long long)r->sent[k]);
		printf("},\"malformed_answered\":%llu,\"control_answered\":%llu,\"answered\":%llu,"
		       "\"valid\":%llu,\"invalid\":%llu,\"invalid_reasons\":{",
		       (unsigned long long)r->malformed_answered,
		       (unsigned long long)r->control_answered, (unsigned long long)r->answered,
		       (unsigned long long)r->valid, (unsigned long long)invalid);
		for (i = 0; i < B_MAX; i++)
			printf("%s\"%s\":%llu", i ? "," : "", bad_name[i],
			       (unsigned long long)r->bad[i]);
		printf("},\"late\":%llu,\"lost\":%llu,\"loss\":%.6f,\"send_errors\":%llu,",
		       (unsigned long long)r->late, (unsigned long long)r->lost, loss,
		       (unsigned long long)r->send_errors);
		printf("\"offered_rate\":%.1f,\"answered_rate\":%.1f,\"valid_rate\":%.1f,",
		       (double)wf / secs, (double)r->answered / secs, (double)r->valid / secs);
		printf("\"tx_stamps\":%llu,\"tx_stamp_missing\":%llu,\"rx_stamp_missing\":%llu",
		       (unsigned long long)r->tx_stamps, (unsigned long long)r->tx_stamp_missing,
		       (unsigned long long)r->rx_stamp_missing);
		for (i = 0; i < 3; i++) {
			struct bs_samples *s = q[i];

			printf(",\"%s\":{\"samples\":%llu", qn[i], (unsigned long long)s->seen);
			if (s->n) {
				printf(",\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
				       "\"p99_9\":%.3f,\"max\":%.3f",
				       us(s->v[0]), us(bs_pct(s, 50)), us(bs_pct(s, 90)),
				       us(bs_pct(s, 99)), us(bs_pct(s, 99.9)), us(s->v[s->n - 1]));
				if (s == &r->off)
					printf(",\"p1\":%.3f,\"abs_p50\":%.3f,\"abs_p99\":%.3f,"
					       "\"abs_p99_9\":%.3f",
					       us(bs_pct(s, 1)), us(bs_abs_pct(s, 50)),
					       us(bs_abs_pct(s, 99)), us(bs_abs_pct(s, 99.9)));
			}
			printf("}");
		}
		printf("}\n");
		return;
	}
	printf("horobench: %s port %d, %s loop (%s%.0f), %.2f s, %d sockets\n", o->host, o->port,
	       o->rate > 0 ? "open" : "closed", o->rate > 0 ? "rate " : "window ",
	       o->rate > 0 ? o->rate : (double)o->window, secs, o->sockets);
	printf("  sent       %llu (well-formed %llu, malformed %llu",
	       (unsigned long long)r->sent_total, (unsigned long long)wf, (unsigned long long)mal);
	for (k = 1; k < K_MAX; k++)
		if (r->sent[k])
			printf(", %s %llu", kind_name[k], (unsigned long long)r->sent[k]);
	printf(")\n");
	printf("  answered   %llu  valid %llu  invalid %llu  late %llu  lost %llu  loss %.3f%%\n",
	       (unsigned long long)r->answered, (unsigned long long)r->valid,
	       (unsigned long long)invalid, (unsigned long long)r->late,
	       (unsigned long long)r->lost, loss * 100);
	if (invalid) {
		printf("  invalid:  ");
		for (i = 0; i < B_MAX; i++)
			if (r->bad[i])
				printf(" %s %llu", bad_name[i], (unsigned long long)r->bad[i]);
		printf("\n");
	}
	if (mal)
		printf("  malformed requests answered: %llu\n",
		       (unsigned long long)r->malformed_answered);
	if (r->control_answered)
		printf("  mode 6 responses (this source may use ntpq): %llu\n",
		       (unsigned long long)r->control_answered);
	printf("  rate       offered %.0f/s  answered %.0f/s  valid %.0f/s\n", (double)wf / secs,
	       (double)r->answered / secs, (double)r->valid / secs);
	for (i = 0; i < 3; i++) {
		struct bs_samples *s = q[i];

		if (!s->n)
			continue;
		printf("  %-12s p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  (us, %llu samples)\n",
		       qn[i], us(bs_pct(s, 50)), us(bs_pct(s, 90)), us(bs_pct(s, 99)),
		       us(bs_pct(s, 99.9)), (unsigned long long)s->seen);
	}
	if (r->off.n)
		printf("  |offset|     p50 %.2f  p99 %.2f  p99.9 %.2f (us)\n",
		       us(bs_abs_pct(&r->off, 50)), us(bs_abs_pct(&r->off, 99)),
		       us(bs_abs_pct(&r->off, 99.9)));
}

int main(int argc, char **argv)
{
	static struct hb_run run_state;
	struct hb_run *r = &run_state;
	uint64_t inv, n;
	int i, rc;

	if (argc > 1 && !strcmp(argv[1], "respond"))
		return rs_main(argc - 1, argv + 1);
	if (parse_opts(argc, argv, &r->o) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (r->o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(r->o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			fprintf(stderr, "horobench: cannot pin to CPU %d: %s\n", r->o.cpu,
				strerror(errno));
	}
	/* Newton's iteration for the inverse of an odd number mod 2^64. */
	inv = HB_COOKIE_MUL;
	for (i = 0; i < 5; i++)
		inv *= 2 - HB_COOKIE_MUL * inv;
	r->mul_inv = inv;
	if (getrandom(&r->key, sizeof(r->key), 0) != sizeof(r->key))
		r->key = (uint64_t)now_ns();
	n = table_size(&r->o);
	r->mask = n - 1;
	r->tab = calloc(n, sizeof(*r->tab));
	r->socks = calloc((size_t)r->o.sockets, sizeof(*r->socks));
	if (!r->tab || !r->socks || bs_init(&r->rtt, r->key) < 0 ||
	    bs_init(&r->res, r->key + 1) < 0 || bs_init(&r->off, r->key + 2) < 0) {
		fprintf(stderr, "horobench: out of memory\n");
		return 1;
	}
	if (open_sockets(r) < 0)
		return 1;
	run(r);
	report(r);
	rc = 0;
	for (i = 0; i < B_MAX; i++)
		if (r->bad[i])
			rc = 1;
	if (!r->valid)
		rc = 1;
	for (i = 0; i < r->o.sockets; i++)
		if (r->socks[i].fd > 0)
			close(r->socks[i].fd);
	close(r->epfd);
	bs_free(&r->rtt);
	bs_free(&r->res);
	bs_free(&r->off);
	free(r->tab);
	free(r->socks);
	return rc;
}
