/*
 * The request table of horobench: what each request is, how it is put on
 * the wire, and how its reply is judged. Request number SEQ carries the
 * cookie (SEQ * HB_COOKIE_MUL) ^ key in its transmit timestamp, so the
 * origin of a reply leads straight back to its table entry; an entry is
 * answered once, or given up on after the timeout, or when the table
 * must make room. Kernel TX stamps from the error queue replace the
 * user-space send time of the requests that asked for one; kernel RX
 * stamps give each reply's arrival time.
 *
 * Interleaved mode (--xleave, RFC 9769): a client that had a valid reply
 * puts that reply's receive timestamp in the origin of its next request
 * and a second cookie, (SEQ * HB_COOKIE_MUL2) ^ ~key, in its receive
 * field. A server answering in interleaved mode echoes that second
 * cookie as the origin and sends, as transmit, the transmit time of the
 * previous reply (ideally its kernel TX stamp); the offset then comes
 * from the previous exchange's T1, T2, T4 and this reply's T3 (the RFC's
 * first set, the one for clients that filter by delay). A basic reply
 * echoes the transmit cookie as before.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include "bench/src/horobench.h"
#include "bench/src/stats.h"
#include "proto/byteorder.h"
#include "proto/ntp.h"

#define HB_REQ_MAX    64   /* bytes: longest request we send (bad extension) */
#define HB_REPLY_MAX  2048 /* bytes: longer replies are cut (NTS replies run to ~1 KiB) */
#define HB_CMSG_SPACE 256  /* bytes: SCM_TIMESTAMPING + RECVERR with room */

const char *const hb_kind_name[K_MAX] = {"good", "short", "badversion", "mode7", "mode6", "badext"};

/* 1 when SEQ is a request of the table that is still there. */
static int known_seq(const struct hb_run *r, uint64_t seq)
{
	return seq < r->next_seq && r->next_seq - seq <= r->mask + 1 &&
	       r->tab[seq & r->mask].seq == seq + 1;
}

struct hb_req *hb_lookup(struct hb_run *r, uint64_t org, enum hb_mode *mode, uint64_t *seq)
{
	uint64_t s = (org ^ r->key) * r->mul_inv;

	if (r->nts)
		s = hb_nts_seq(r, s); /* NTS: the origin names a table slot */
	if (known_seq(r, s)) {
		*mode = M_BASIC;
		*seq = s;
		return &r->tab[s & r->mask];
	}
	if (!r->o.xleave)
		return NULL;
	s = (org ^ ~r->key) * r->mul_inv2;
	if (!known_seq(r, s))
		return NULL;
	*mode = M_INTERLEAVED;
	*seq = s;
	return &r->tab[s & r->mask];
}

void hb_request_header(const struct hb_run *r, uint64_t seq, uint8_t *buf)
{
	memset(buf, 0, NTP_HEADER_LEN);
	buf[0] = (uint8_t)((r->o.version << 3) | NTP_MODE_CLIENT);
	buf[2] = 6; /* poll: 64 s, what a client would say */
	buf[3] = (uint8_t)-20;
	be_put64(buf + 40, hb_cookie(r, seq));
}

void hb_mom_add(struct hb_moments *m, int64_t x)
{
	double d = (double)x - m->mean;

	if (!m->n || x < m->min)
		m->min = x;
	if (!m->n || x > m->max)
		m->max = x;
	m->n++;
	m->mean += d / (double)m->n;
	m->m2 += d * ((double)x - m->mean);
}

double hb_mom_sd(const struct hb_moments *m)
{
	return m->n > 1 ? sqrt(m->m2 / (double)(m->n - 1)) : 0.0;
}

/* Write request SEQ of KIND from client C into BUF; returns its length. */
static size_t build_request(const struct hb_run *r, enum hb_kind kind, uint64_t seq,
			    const struct hb_client *c, uint8_t buf[HB_REQ_MAX])
{
	memset(buf, 0, HB_REQ_MAX);
	hb_request_header(r, seq, buf);
	switch (kind) {
	case K_GOOD:
		/* Interleaved: the last reply's receive, and our second cookie (RFC 9769). */
		if (r->o.xleave && c->prev_rx) {
			be_put64(buf + 24, c->prev_rx);
			be_put64(buf + 32, hb_cookie2(r, seq));
		}
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

/*
 * Control data of one request: its source address (--clients) and the
 * request for a kernel TX stamp, each when needed.
 */
union hb_cmsg {
	char c[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
	struct cmsghdr align;
};

/* Fill CM for client C (PKTINFO when --clients) and STAMP; returns the control length. */
static size_t request_cmsg(const struct hb_run *r, const struct hb_client *c, int stamp,
			   union hb_cmsg *cm)
{
	struct msghdr m = {.msg_control = cm->c, .msg_controllen = sizeof(cm->c)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	size_t len = 0;

	memset(cm, 0, sizeof(*cm));
	if (r->o.n_clients) {
		if (r->o.dst.ss_family == AF_INET) {
			struct in_pktinfo pi = {0};

			memcpy(&pi.ipi_spec_dst, c->addr, 4);
			h->cmsg_level = IPPROTO_IP;
			h->cmsg_type = IP_PKTINFO;
			h->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(h), &pi, sizeof(pi));
			len += CMSG_SPACE(sizeof(pi));
		} else {
			struct in6_pktinfo pi = {0};

			memcpy(&pi.ipi6_addr, c->addr, 16);
			h->cmsg_level = IPPROTO_IPV6;
			h->cmsg_type = IPV6_PKTINFO;
			h->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(h), &pi, sizeof(pi));
			len += CMSG_SPACE(sizeof(pi));
		}
		h = (struct cmsghdr *)(cm->c + len);
	}
	if (stamp) {
		uint32_t f = SOF_TIMESTAMPING_TX_SOFTWARE;

		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SO_TIMESTAMPING;
		h->cmsg_len = CMSG_LEN(sizeof(f));
		memcpy(CMSG_DATA(h), &f, sizeof(f));
		len += CMSG_SPACE(sizeof(f));
	}
	return len;
}

/* Send up to N requests on the next socket; returns the number sent. */
int hb_send_batch(struct hb_run *r, int n)
{
	static uint8_t buf[HB_BATCH][HB_REQ_MAX];
	static union hb_cmsg cm[HB_BATCH];
	struct mmsghdr m[HB_BATCH];
	struct iovec iov[HB_BATCH];
	uint32_t fl[HB_BATCH], cl[HB_BATCH];
	int si = r->next_sock;
	struct hb_sock *s = &r->socks[si];
	int64_t t;
	int i, k;

	r->next_sock = (r->next_sock + 1) % r->o.sockets;
	if (n > HB_BATCH)
		n = HB_BATCH;
	if (r->send_limit && r->c.sent_total + (uint64_t)n > r->send_limit)
		n = (int)(r->send_limit - r->c.sent_total);
	if (n <= 0)
		return 0;
	hb_expire(r, 0, 0, (uint64_t)n); /* never overwrite a request still in flight */
	for (i = 0; i < n; i++) {
		uint64_t seq = r->next_seq + (uint64_t)i;
		enum hb_kind kind = pick_kind(r);
		struct hb_client *c;
		size_t clen;

		/* Client: the socket itself, or the socket's next client in turn. */
		if (r->o.n_clients) {
			uint32_t per =
				(uint32_t)((r->n_clients - si + r->o.sockets - 1) / r->o.sockets);

			cl[i] = (uint32_t)si + (s->next_client++ % per) * (uint32_t)r->o.sockets;
		} else {
			cl[i] = (uint32_t)si;
		}
		c = &r->clients[cl[i]];
		fl[i] = kind;
		if (kind == K_GOOD && r->o.ts_every && seq % (uint64_t)r->o.ts_every == 0)
			fl[i] |= F_STAMP;
		iov[i].iov_base = buf[i];
		if (kind == K_GOOD && r->nts) {
			const uint8_t *pkt;

			/* NTS: the request sealed for this slot before the run (hb_nts.c). */
			iov[i].iov_len = hb_nts_request(r, seq, &pkt);
			iov[i].iov_base = (void *)(uintptr_t)pkt;
		} else {
			iov[i].iov_len = build_request(r, kind, seq, c, buf[i]);
		}
		memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		if (r->o.n_clients) {
			m[i].msg_hdr.msg_name = &r->o.dst;
			m[i].msg_hdr.msg_namelen = r->o.dstlen;
		}
		clen = request_cmsg(r, c, !!(fl[i] & F_STAMP), &cm[i]);
		if (clen) {
			m[i].msg_hdr.msg_control = cm[i].c;
			m[i].msg_hdr.msg_controllen = clen;
		}
	}
	t = hb_now_ns();
	k = sendmmsg(s->fd, m, (unsigned)n, MSG_DONTWAIT);
	if (k < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS)
			r->c.send_errors++;
		return 0;
	}
	for (i = 0; i < k; i++) {
		uint64_t seq = r->next_seq + (uint64_t)i;
		struct hb_req *e = &r->tab[seq & r->mask];
		enum hb_kind kind = (enum hb_kind)(fl[i] & F_KIND);
		const struct hb_client *c = &r->clients[cl[i]];

		e->seq = seq + 1;
		e->t = t;
		e->flags = fl[i];
		e->client = cl[i];
		e->gen = c->gen;
		e->org = r->o.xleave && kind == K_GOOD ? c->prev_rx : 0;
		if (fl[i] & F_STAMP)
			s->keyring[s->next_key++ & (HB_KEYRING - 1)] = seq;
		r->c.sent[kind]++;
		if (kind == K_GOOD)
			r->inflight++;
	}
	r->c.sent_total += (uint64_t)k;
	r->next_seq += (uint64_t)k;
	return k;
}

/* Read S's error queue: kernel TX stamps of stamped requests. */
void hb_read_errqueue(struct hb_run *r, struct hb_sock *s)
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
			if (!have_key || ns_from_timespec(&ts) == 0)
				continue;
			/* Only keys of the last HB_KEYRING stamped sends are known. */
			if ((uint32_t)(s->next_key - key) - 1 >= HB_KEYRING)
				continue;
			{
				uint64_t seq = s->keyring[key & (HB_KEYRING - 1)];
				struct hb_req *e = &r->tab[seq & r->mask];
				int64_t t1 = ns_from_timespec(&ts);

				if (e->seq != seq + 1 || (e->flags & (F_T1 | F_DONE)) ||
				    !(e->flags & F_STAMP))
					continue;
				e->t = t1;
				e->flags |= F_T1;
				r->c.tx_stamps++;
			}
		}
		if (n < HB_BATCH)
			return;
	}
}

/*
 * An interleaved reply P to request E (T1 = its send time, T2 its
 * receive, T4 our kernel stamp of it): the offset from the previous
 * exchange of the client, and the client's state moved to this exchange.
 */
static void on_interleaved(struct hb_run *r, const struct hb_req *e, const struct ntp_packet *p,
			   int64_t t1, int64_t t2, int64_t t3, int64_t t4)
{
	struct hb_client *c = &r->clients[e->client];

	/* The previous exchange must be the one this request named, complete. */
	if (e->gen == c->gen && e->org == c->prev_rx && c->prev_t1 && c->prev_t4)
		bs_add(&r->off_x, ((c->prev_t2 - c->prev_t1) + (t3 - c->prev_t4)) / 2);
	else
		r->c.xleave_stale++;
	c->prev_rx = p->rec;
	c->prev_t1 = (e->flags & F_T1) ? t1 : 0;
	c->prev_t2 = t2;
	c->prev_t4 = t4;
	c->gen++;
}

/* Check one reply BUF (LEN bytes) received at T4 (kernel, 0 if none). */
static void on_reply(struct hb_run *r, const uint8_t *buf, size_t len, int64_t t4)
{
	struct ntp_packet p;
	struct hb_req *e;
	enum hb_mode mode;
	uint64_t seq;
	int64_t t1, t2, t3;
	int kernel_t4 = t4 != 0;

	if (len >= 1 && (buf[0] & 7) == NTP_MODE_CONTROL) {
		/* The mode6 kind from an address horod allows control (loopback): not time. */
		r->c.control_answered++;
		return;
	}
	if (ntp_decode(buf, len, &p) < 0) {
		r->c.bad[B_SHORT]++;
		return;
	}
	e = hb_lookup(r, p.org, &mode, &seq);
	if (!e) {
		r->c.bad[B_UNKNOWN]++;
		return;
	}
	if (e->flags & F_DONE) {
		r->c.bad[B_DUPLICATE]++;
		return;
	}
	e->flags |= F_DONE;
	if ((e->flags & F_KIND) != K_GOOD) {
		r->c.malformed_answered++;
		return;
	}
	if (e->flags & F_LOST) {
		r->c.late++;
		return;
	}
	r->c.answered++;
	r->inflight--;
	if (p.mode != NTP_MODE_SERVER) {
		r->c.bad[B_MODE]++;
		return;
	}
	if (p.version != r->o.version) {
		r->c.bad[B_VERSION]++;
		return;
	}
	if (p.stratum < 1 || p.stratum > 15) {
		r->c.bad[B_STRATUM]++;
		return;
	}
	if (p.leap == NTP_LEAP_UNSYNC && !r->o.allow_unsync) {
		r->c.bad[B_LEAP]++;
		return;
	}
	/*
	 * Basic: receive <= transmit (both of this exchange). Interleaved: the
	 * transmit is the previous reply's, so it precedes this receive.
	 */
	if (!p.rec || !p.xmt ||
	    (mode == M_BASIC ? ntp_ts_diff(p.xmt, p.rec) < 0 : ntp_ts_diff(p.rec, p.xmt) < 0)) {
		r->c.bad[B_ORDER]++;
		return;
	}
	if (r->nts && hb_nts_check(r, seq, buf, len) < 0) {
		r->c.bad[B_NTS]++;
		return;
	}
	r->c.valid++;
	r->c.mode[mode]++;
	t1 = e->t;
	t2 = ntp_ts_to_unix_ns(p.rec, t1);
	t3 = ntp_ts_to_unix_ns(p.xmt, t1);
	if (!t4) {
		r->c.rx_stamp_missing++;
		t4 = hb_now_ns();
	}
	if (mode == M_INTERLEAVED) {
		on_interleaved(r, e, &p, t1, t2, t3, kernel_t4 ? t4 : 0);
		return;
	}
	bs_add(&r->res, t3 - t2);
	if (r->o.xleave) {
		/* This exchange is the one the client's next request will name. */
		struct hb_client *c = &r->clients[e->client];

		c->prev_rx = p.rec;
		c->prev_t1 = (e->flags & F_T1) ? t1 : 0;
		c->prev_t2 = t2;
		c->prev_t4 = kernel_t4 ? t4 : 0;
		c->gen++;
	}
	if (e->flags & F_T1) {
		bs_add(&r->rtt, t4 - t1);
		/* offset = ((T2 - T1) + (T3 - T4)) / 2, in ns, without overflow worries at these
		 * sizes */
		bs_add(&r->off, ((t2 - t1) + (t3 - t4)) / 2);
	} else if (e->flags & F_STAMP) {
		r->c.tx_stamp_missing++;
	} else if (!r->o.ts_every) {
		bs_add(&r->rtt, t4 - t1); /* no kernel TX stamps at all: user-space send time */
	}
}

/* Receive what S holds. */
int hb_read_replies(struct hb_run *r, struct hb_sock *s)
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
					t4 = ns_from_timespec(&st.ts[0]);
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
void hb_expire(struct hb_run *r, int64_t now, int force, uint64_t room)
{
	int64_t limit = now - (int64_t)(r->o.timeout * (double)NS_PER_SEC);

	while (r->oldest < r->next_seq) {
		struct hb_req *e = &r->tab[r->oldest & r->mask];

		if (e->seq == r->oldest + 1 && !(e->flags & (F_DONE | F_LOST)) &&
		    (e->flags & F_KIND) == K_GOOD) {
			int wrap = r->next_seq + room - r->oldest > r->mask + 1;

			if (!force && !wrap && e->t > limit)
				break;
			e->flags |= F_LOST;
			r->c.lost++;
			r->inflight--;
		}
		r->oldest++;
	}
}
