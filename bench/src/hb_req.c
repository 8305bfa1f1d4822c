/*
 * The request table of horobench: what each request is, how it is put on
 * the wire, and how its reply is judged. Request number SEQ carries the
 * cookie (SEQ * HB_COOKIE_MUL) ^ key in its transmit timestamp, so the
 * origin of a reply leads straight back to its table entry; an entry is
 * answered once, or given up on after the timeout, or when the table
 * must make room. Kernel TX stamps from the error queue replace the
 * user-space send time of the requests that asked for one; kernel RX
 * stamps give each reply's arrival time.
 */
#include <errno.h>
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

static uint64_t cookie_of(const struct hb_run *r, uint64_t seq)
{
	return (seq * HB_COOKIE_MUL) ^ r->key;
}

static uint64_t seq_of(const struct hb_run *r, uint64_t cookie)
{
	return (cookie ^ r->key) * r->mul_inv;
}

void hb_request_header(const struct hb_run *r, uint64_t seq, uint8_t *buf)
{
	memset(buf, 0, NTP_HEADER_LEN);
	buf[0] = (uint8_t)((r->o.version << 3) | NTP_MODE_CLIENT);
	buf[2] = 6; /* poll: 64 s, what a client would say */
	buf[3] = (uint8_t)-20;
	be_put64(buf + 40, cookie_of(r, seq));
}

/* Write request SEQ of KIND into BUF; returns its length. */
static size_t build_request(const struct hb_run *r, enum hb_kind kind, uint64_t seq,
			    uint8_t buf[HB_REQ_MAX])
{
	memset(buf, 0, HB_REQ_MAX);
	hb_request_header(r, seq, buf);
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

/* Send up to N requests on the next socket; returns the number sent. */
int hb_send_batch(struct hb_run *r, int n)
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
	hb_expire(r, 0, 0, (uint64_t)n); /* never overwrite a request still in flight */
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
		if (kind == K_GOOD && r->nts) {
			const uint8_t *pkt;

			/* NTS: the request sealed for this slot before the run (hb_nts.c). */
			iov[i].iov_len = hb_nts_request(r, seq, &pkt);
			iov[i].iov_base = (void *)(uintptr_t)pkt;
		} else {
			iov[i].iov_len = build_request(r, kind, seq, buf[i]);
		}
		memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		if (fl[i] & F_STAMP) {
			m[i].msg_hdr.msg_control = tscm.c;
			m[i].msg_hdr.msg_controllen = sizeof(tscm.c);
		}
	}
	t = hb_now_ns();
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
	if (r->nts)
		seq = hb_nts_seq(r, seq); /* NTS: the origin names a table slot */
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
	if (r->nts && hb_nts_check(r, seq, buf, len) < 0) {
		r->bad[B_NTS]++;
		return;
	}
	r->valid++;
	t1 = e->t;
	t2 = ntp_ts_to_unix_ns(p.rec, t1);
	t3 = ntp_ts_to_unix_ns(p.xmt, t1);
	bs_add(&r->res, t3 - t2);
	if (!t4) {
		r->rx_stamp_missing++;
		t4 = hb_now_ns();
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
			r->lost++;
			r->inflight--;
		}
		r->oldest++;
	}
}
