/*
 * Transmit stamps (see txstamp.h): the per-socket rings of what each send
 * was, the stamps' way back into the interleaved table, and the lower
 * envelope of the measured send delays that basic-mode transmit
 * timestamps are corrected by.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include "daemon/serve/txstamp.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

#ifndef SCM_TS_OPT_ID
#define SCM_TS_OPT_ID 81 /* Linux 6.13 (asm-generic/socket.h); not in the 6.1 UAPI headers */
#endif
#define TXS_DELAY_MAX  50000  /* ns: a longer delay is a stall, not a send: not learnt from */
#define TXS_PROBE_PORT 9      /* discard: the probe datagram goes nowhere useful */
#define TXS_PROBE_KEY  0x4f49 /* any key: the probe only asks whether the kernel accepts one */
#define NTP_OFF_ORG    24     /* bytes: origin timestamp in the header */
#define NTP_OFF_REC    32     /* bytes: receive timestamp in the header */

int txs_kernel_own_keys(void)
{
	static int known = -1;
	const char *force = getenv("HOROD_TEST_TXSTAMP");
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(TXS_PROBE_PORT)};
	union {
		char c[TXS_CMSG];
		struct cmsghdr align;
	} cm;
	struct msghdr m = {0};
	struct cmsghdr *c;
	uint32_t v;
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	int fd, flags = SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
			SOF_TIMESTAMPING_OPT_TSONLY;

	if (known >= 0)
		return known;
	/* Tests force the kernels without SCM_TS_OPT_ID: HOROD_TEST_TXSTAMP=counted... */
	if (force && strstr(force, "counted")) {
		known = 0;
		return known;
	}
	known = 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return known;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) == 0) {
		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		memset(&cm, 0, sizeof(cm));
		m.msg_name = &to;
		m.msg_namelen = sizeof(to);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = cm.c;
		m.msg_controllen = sizeof(cm.c);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SO_TIMESTAMPING;
		c->cmsg_len = CMSG_LEN(sizeof(v));
		v = SOF_TIMESTAMPING_TX_SOFTWARE;
		memcpy(CMSG_DATA(c), &v, sizeof(v));
		c = CMSG_NXTHDR(&m, c);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_TS_OPT_ID;
		c->cmsg_len = CMSG_LEN(sizeof(v));
		v = TXS_PROBE_KEY;
		memcpy(CMSG_DATA(c), &v, sizeof(v));
		/*
		 * The control data is parsed before the route is looked up: an
		 * unknown type is EINVAL whether or not loopback is up.
		 */
		known = sendmsg(fd, &m, MSG_DONTWAIT) >= 0 || errno != EINVAL;
	}
	close(fd);
	return known;
}

int txs_want_cqe(void)
{
	const char *force = getenv("HOROD_TEST_TXSTAMP");

	return force && strstr(force, "cqe");
}

int txs_init(struct txs *t, int n, enum txs_mode mode, int hw, int own_keys, struct ctr_block *ctr,
	     struct xl_table *xl, const struct hwts_table *hwt)
{
	const char *force = getenv("HOROD_TEST_TXSTAMP");
	int i;

	/* Tests force the kernels without the io_uring command: ...errqueue... */
	if (mode == TXS_CQE && force && strstr(force, "errqueue"))
		mode = TXS_ERRQUEUE;
	if (force && strstr(force, "off"))
		mode = TXS_OFF;
	memset(t, 0, sizeof(*t));
	t->ctr = ctr;
	t->xl = xl;
	t->hw = hwt;
	if (n <= 0)
		return 0;
	t->s = mmap(NULL, sizeof(*t->s) * (size_t)n, PROT_READ | PROT_WRITE,
		    MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (t->s == MAP_FAILED) {
		t->s = NULL;
		return -ENOMEM;
	}
	t->n = n;
	for (i = 0; i < n; i++) {
		t->s[i].mode = mode;
		t->s[i].hw = hw;
		t->s[i].own_keys = own_keys;
	}
	return 0;
}

void txs_fini(struct txs *t)
{
	if (t->s)
		munmap(t->s, sizeof(*t->s) * (size_t)t->n);
	t->s = NULL;
	t->n = 0;
}

size_t txs_send(struct txs *t, int sock, int want, void *buf, size_t off, struct txs_rec **rec)
{
	struct txs_sock *s;
	struct cmsghdr *c;
	uint32_t v;

	*rec = NULL;
	if (sock < 0 || sock >= t->n || t->s[sock].mode == TXS_OFF)
		return off;
	s = &t->s[sock];
	/*
	 * Ask for this send's stamps, or explicitly for none: every reply
	 * carries the same control data to the same kernel path, so the sends
	 * that are stamped measure the delays of those that are not (without
	 * it the unstamped ones left a few hundred ns sooner than measured).
	 */
	c = (struct cmsghdr *)((char *)buf + off);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SO_TIMESTAMPING;
	c->cmsg_len = CMSG_LEN(sizeof(v));
	v = want ? SOF_TIMESTAMPING_TX_SOFTWARE | (s->hw ? SOF_TIMESTAMPING_TX_HARDWARE : 0) : 0;
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	off += CMSG_SPACE(sizeof(v));
	if (!want)
		return off;
	/* ...under our key, where the kernel takes one. */
	if (s->own_keys) {
		c = (struct cmsghdr *)((char *)buf + off);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_TS_OPT_ID;
		c->cmsg_len = CMSG_LEN(sizeof(v));
		v = s->next_key;
		memcpy(CMSG_DATA(c), &v, sizeof(v));
		off += CMSG_SPACE(sizeof(v));
	}
	*rec = &s->ring[s->next_key & (TXS_RING - 1)];
	memset(*rec, 0, sizeof(**rec));
	(*rec)->key = s->next_key++;
	(*rec)->xl = XL_NONE;
	s->unread++;
	return off;
}

int64_t txs_ahead(const struct txs *t, int pos, int64_t t0)
{
	const struct txs_env *e;
	int64_t m = INT64_MAX;
	uint32_t n = 0;
	int i;

	if (pos < 0)
		return 0;
	e = &t->env[pos < TXS_POS ? pos : TXS_POS - 1];
	/* Nothing measured for longer than the windows span: no correction. */
	if (!e->start || t0 - e->start > TXS_WINDOWS * TXS_WINDOW_NS)
		return 0;
	for (i = 0; i < TXS_WINDOWS; i++) {
		n += e->n[i];
		if (e->n[i] && e->min[i] < m)
			m = e->min[i];
	}
	return n >= TXS_MIN_SAMPLES ? m : 0;
}

/* Learn delay D (ns) of a send in position POS, stamped at raw time NOW. */
static void learn(struct txs *t, int pos, int64_t d, int64_t now)
{
	struct txs_env *e = &t->env[pos < TXS_POS ? pos : TXS_POS - 1];

	if (d < 0 || d >= TXS_DELAY_MAX)
		return;
	if (!e->start || now - e->start >= TXS_WINDOWS * TXS_WINDOW_NS) {
		/* First send, or none for all the windows: start over. */
		memset(e, 0, sizeof(*e));
		e->start = now;
	} else if (now - e->start >= TXS_WINDOW_NS) {
		/* The next window, forgetting the oldest. */
		e->cur = (e->cur + 1) % TXS_WINDOWS;
		e->n[e->cur] = 0;
		e->start = now;
	}
	if (!e->n[e->cur] || d < e->min[e->cur])
		e->min[e->cur] = d;
	e->n[e->cur]++;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* 1 when REC sent the reply PAYLOAD (LEN bytes, the NTP header at its end). */
static int carries(const struct txs_rec *rec, const uint8_t *payload, size_t len)
{
	const uint8_t *ntp;

	if (len < NTP_HEADER_LEN)
		return 0;
	ntp = payload + len - NTP_HEADER_LEN;
	return be64(ntp + NTP_OFF_REC) == rec->rx && be64(ntp + NTP_OFF_ORG) == rec->org;
}

/* The record of stamp KEY on socket S, or NULL (PAYLOAD: counted keys, see the top). */
static struct txs_rec *record_of(struct txs_sock *s, uint32_t key, const uint8_t *payload,
				 size_t len)
{
	struct txs_rec *rec;
	int d;

	if (s->own_keys) {
		rec = &s->ring[key & (TXS_RING - 1)];
		return rec->key == key ? rec : NULL;
	}
	/* Counted: the kernel's count, ours offset by key_off, checked by the bytes. */
	for (d = 0; d < 3; d++) {
		int32_t off = s->key_off + (d == 0 ? 0 : d == 1 ? 1 : -1);
		uint32_t ours = key - (uint32_t)off;

		rec = &s->ring[ours & (TXS_RING - 1)];
		if (rec->key == ours && payload && carries(rec, payload, len)) {
			s->key_off = off;
			return rec;
		}
	}
	return NULL;
}

void txs_on_stamp(struct txs *t, int sock, uint32_t key, const struct timespec *ts, int hw,
		  const uint8_t *payload, size_t len, const struct clk_snapshot *snap)
{
	struct txs_sock *s;
	struct txs_rec *rec;
	struct timespec sys = *ts;
	enum xl_src src = XL_SRC_KERNEL;
	int64_t raw;

	if (sock < 0 || sock >= t->n)
		return;
	s = &t->s[sock];
	ctr_inc(&t->ctr->txs[CTR_TXS_READ]);
	if (s->unread)
		s->unread--;
	rec = record_of(s, key, payload, len);
	if (!rec) {
		ctr_inc(&t->ctr->txs[CTR_TXS_UNMATCHED]);
		return;
	}
	if (hw) {
		/* The NIC's clock: system time through the offset measured each second. */
		if (!t->hw || hwts_to_system(t->hw, rec->ifindex, ts, &sys) < 0) {
			ctr_inc(&t->ctr->txs[CTR_TXS_UNMATCHED]);
			return;
		}
		src = XL_SRC_HARDWARE;
	}
	raw = ns_from_timespec(&sys);
	/* Basic mode: learn how long after the reading this position's send left. */
	if (rec->t0 && !hw)
		learn(t, rec->pos, raw - rec->t0, raw);
	/*
	 * Interleaved mode: the stamp as the client's time, unless a step of
	 * the clock (a leap's) was announced since the reply was built: SNAP
	 * would map a stamp from before it 1 s off; the time read before the
	 * send, under the reply's own snapshot, stays.
	 */
	if (rec->xl != XL_NONE && snap->steps == rec->steps)
		xl_stamp(t->xl, rec->xl, rec->addr, rec->rx,
			 ntp_ts_from_unix_ns(clk_snapshot_served(snap, raw)), src);
	/* A hardware stamp may follow the software one: keep the record for it. */
	if (!s->hw || hw)
		rec->key = ~rec->key;
}

int txs_read_errqueue(struct txs *t, int sock, int fd, const struct clk_pub *pub, int rounds)
{
	struct mmsghdr m[TXS_EQ_MAX];
	struct iovec iov[TXS_EQ_MAX];
	static _Thread_local uint8_t data[TXS_EQ_MAX][128]; /* the reply carried back (counted) */
	static _Thread_local union {
		char c[256]; /* SCM_TIMESTAMPING (48) + IP_RECVERR (16 + 16 + address) */
		struct cmsghdr align;
	} cm[TXS_EQ_MAX];
	struct clk_snapshot snap;
	int i, n, total = 0, have_snap = 0;

	if (sock < 0 || sock >= t->n || t->s[sock].mode != TXS_ERRQUEUE)
		return 0;
	while (rounds-- > 0) {
		for (i = 0; i < TXS_EQ_MAX; i++) {
			iov[i].iov_base = data[i];
			iov[i].iov_len = sizeof(data[i]);
			memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_control = cm[i].c;
			m[i].msg_hdr.msg_controllen = sizeof(cm[i].c);
		}
		n = recvmmsg(fd, m, TXS_EQ_MAX, MSG_ERRQUEUE | MSG_DONTWAIT, NULL);
		if (n <= 0) {
			t->s[sock].unread = 0; /* nothing waits: whatever did not come is lost */
			break;
		}
		if (!have_snap) {
			clk_snapshot_read(pub, &snap);
			have_snap = 1;
		}
		for (i = 0; i < n; i++) {
			struct timespec sw = {0, 0}, hwts = {0, 0};
			uint32_t key = 0;
			int have_key = 0;
			struct cmsghdr *c;

			for (c = CMSG_FIRSTHDR(&m[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SCM_TIMESTAMPING &&
				    c->cmsg_len == CMSG_LEN(sizeof(struct scm_timestamping))) {
					struct scm_timestamping st;

					memcpy(&st, CMSG_DATA(c), sizeof(st));
					sw = st.ts[0];
					hwts = st.ts[2];
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
			if (!have_key)
				continue;
			if (hwts.tv_sec || hwts.tv_nsec)
				txs_on_stamp(t, sock, key, &hwts, 1, data[i],
					     m[i].msg_len < sizeof(data[i]) ? m[i].msg_len : 0,
					     &snap);
			else if (sw.tv_sec || sw.tv_nsec)
				txs_on_stamp(t, sock, key, &sw, 0, data[i],
					     m[i].msg_len < sizeof(data[i]) ? m[i].msg_len : 0,
					     &snap);
		}
		total += n;
		if (n < TXS_EQ_MAX) {
			t->s[sock].unread = 0;
			break;
		}
	}
	return total;
}
