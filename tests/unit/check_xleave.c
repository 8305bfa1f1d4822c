/*
 * Interleaved mode (daemon/serve/xleave.c, serve.c, txstamp.c): the
 * client state table on its own — claims, eviction under the limit, a
 * million clients in the configured bytes — and the serving path end to
 * end without sockets: srv_handle answering as RFC 9769 says (the first
 * exchange basic, then interleaved with the previous reply's transmit
 * stamp; lost and reordered replies and requests, a repeated request, a
 * client restart), transmit stamps going back through the records of
 * txstamp.c into the right client only, the basic-mode delay envelope,
 * no allocation per request, and an authenticated (MAC) client answered
 * in basic mode only, its sealed reply marked for neither restamp nor
 * transmit stamp; a transmit stamp asked for only when the client asks
 * in interleaved mode (not for every origin a basic client sends).
 */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <stdatomic.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock/snapshot.h"
#include "daemon/auth/auth.h"
#include "daemon/policy/acl.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/hwts.h"
#include "daemon/serve/serve.h"
#include "daemon/serve/txstamp.h"
#include "daemon/serve/xleave.h"
#include "proto/nstime.h"
#include "proto/ntp.h"
#include "proto/symkey.h"

Suite *xleave_suite(void);

#define MIB	   (1024 * 1024)
#define MILLION	   1000000
#define T3_DELAY   2000	     /* ns: a kernel stamp this long after the reply was built */
#define ENV_TRIES  12000     /* sends of the delay-minimum test, ENV_STEP apart */
#define ENV_STEP   1000000LL /* ns: one send a millisecond */
#define ENV_SECOND 1000	     /* sends in a second */
#define ENV_FAST   4000	     /* the send that is faster than all others */

static struct sockaddr_in v4(uint32_t host)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(host);
	return a;
}

static struct sockaddr_in6 v6(uint32_t low)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::", &a.sin6_addr);
	low = htonl(low);
	memcpy(&a.sin6_addr.s6_addr[12], &low, 4);
	return a;
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* A server with no access list, a synchronized stratum 2 snapshot, one worker's state. */
struct srv {
	struct acl acl, ctl;
	struct pol_rules rules;
	struct clk_pub pub;
	struct hwts_table hw;
	struct srv_shared sh;
	struct ctr_block ctr;
	struct srv_local lc;
	struct txs txs;
};

static struct srv *srv_new(size_t xl_bytes)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct clk_snapshot snap;

	ck_assert_ptr_nonnull(s);
	acl_init(&s->acl);
	acl_init(&s->ctl);
	clk_pub_init(&s->pub);
	memset(&snap, 0, sizeof(snap));
	snap.leap = NTP_LEAP_NONE;
	snap.stratum = 2;
	snap.precision = -20;
	snap.flags = CLK_F_SYNCED;
	snap.disp_rate = CLK_PHI;
	clk_snapshot_publish(&s->pub, &snap);
	s->rules.acl = &s->acl;
	s->rules.control_acl = &s->ctl;
	atomic_init(&s->sh.rules, &s->rules);
	s->sh.pub = &s->pub;
	s->sh.clock = CLOCK_REALTIME;
	s->sh.hw = &s->hw;
	s->lc.ctr = &s->ctr;
	s->lc.xl = xl_bytes ? xl_create(xl_bytes) : NULL;
	ck_assert_int_eq(txs_init(&s->txs, 1, TXS_CQE, 0, 1, &s->ctr, s->lc.xl, &s->hw), 0);
	return s;
}

static void srv_free(struct srv *s)
{
	txs_fini(&s->txs);
	xl_destroy(s->lc.xl);
	acl_free(&s->acl);
	acl_free(&s->ctl);
	free(s);
}

/* One answered exchange as the test sees it. */
struct xch {
	struct ntp_packet rep; /* the reply */
	struct srv_reply out;
	struct txs_rec *rec; /* its transmit stamp's record */
	uint64_t req_rec, req_xmt;
};

/*
 * Client FROM asks with origin ORG and receive REC (its transmit is a
 * fresh cookie), as a VN 4 client; the reply is decoded into X.
 */
static void ask(struct srv *s, const struct sockaddr *from, uint64_t org, uint64_t rec,
		struct xch *x)
{
	static uint64_t cookie = 0x1234567800000000ull;
	uint8_t req[NTP_HEADER_LEN] = {0}, reply[SRV_REPLY_MAX];
	union {
		char c[TXS_CMSG];
		struct cmsghdr align;
	} cm;
	struct timespec rx;

	req[0] = (4 << 3) | NTP_MODE_CLIENT;
	put64(req + 24, org);
	put64(req + 32, rec);
	x->req_rec = rec;
	x->req_xmt = ++cookie;
	put64(req + 40, x->req_xmt);
	clock_gettime(CLOCK_REALTIME, &rx);
	srv_handle(&s->sh, &s->lc, req, sizeof(req), from, -1, &rx, CTR_TS_KERNEL, reply, &x->out);
	ck_assert_msg(x->out.len == NTP_HEADER_LEN, "every client request should be answered");
	ck_assert_int_eq(ntp_decode(reply, x->out.len, &x->rep), 0);
	txs_send(&s->txs, 0, 1, cm.c, 0, &x->rec);
	ck_assert_ptr_nonnull(x->rec);
	srv_note_send(&x->out, from, 0, reply, x->rec);
}

/* The kernel's stamp of X's reply: DELAY ns after its transmit timestamp (served = raw). */
static void stamp(struct srv *s, const struct xch *x, int64_t delay, int64_t *ns)
{
	struct clk_snapshot snap;
	struct timespec ts;
	int64_t t = ntp_ts_to_unix_ns(x->rep.xmt, (int64_t)time(NULL) * NS_PER_SEC) + delay;

	ns_to_timespec(t, &ts);
	clk_snapshot_read(&s->pub, &snap);
	txs_on_stamp(&s->txs, 0, x->rec->key, &ts, 0, NULL, 0, &snap);
	if (ns)
		*ns = t;
}

static int basic(const struct xch *x)
{
	return x->rep.org == x->req_xmt && !x->out.interleaved;
}

static int interleaved(const struct xch *x)
{
	return x->rep.org == x->req_rec && x->out.interleaved;
}

/* |A - B| in ns for NTP timestamps, within a nanosecond is "equal". */
static int near_ns(uint64_t ts, int64_t ns)
{
	int64_t d = ntp_ts_to_unix_ns(ts, ns) - ns;

	return d >= -1 && d <= 1;
}

START_TEST(test_first_exchange_then_interleaved)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct sockaddr_in a = v4(0xC0000201);
	struct xch x1, x2, x3;
	int64_t t1;

	/* First exchange: origin 0, a basic reply (origin = our transmit cookie). */
	ask(s, (struct sockaddr *)&a, 0, 0, &x1);
	ck_assert_msg(basic(&x1), "the first exchange should be basic");
	ck_assert_msg(x1.rep.rec != x1.rep.xmt, "receive and transmit should never be equal");
	stamp(s, &x1, T3_DELAY, &t1);
	/* Second: it names the first reply: interleaved, with that reply's kernel stamp. */
	ask(s, (struct sockaddr *)&a, x1.rep.rec, 0xAAAA, &x2);
	ck_assert_msg(interleaved(&x2), "a request naming the last reply should be interleaved");
	ck_assert_msg(near_ns(x2.rep.xmt, t1), "its transmit should be the first reply's stamp");
	ck_assert_msg(x2.rep.rec != x1.rep.rec, "each exchange should get its own receive");
	ck_assert_uint_eq(atomic_load(&s->ctr.xtx[CTR_TS_KERNEL]), 1);
	/* Third, no stamp yet for the second reply: the time read before it left. */
	ask(s, (struct sockaddr *)&a, x2.rep.rec, 0xBBBB, &x3);
	ck_assert_msg(interleaved(&x3), "the third exchange should be interleaved too");
	ck_assert_uint_eq(atomic_load(&s->ctr.xtx[CTR_TS_DAEMON]), 1);
	ck_assert_msg(ntp_ts_diff(x3.rep.xmt, x2.rep.rec) > 0 &&
			      ntp_ts_diff(x3.rep.rec, x3.rep.xmt) > 0,
		      "the daemon's transmit time should lie between the receive times");
	ck_assert_uint_eq(atomic_load(&s->ctr.mode[CTR_MODE_BASIC]), 1);
	ck_assert_uint_eq(atomic_load(&s->ctr.mode[CTR_MODE_INTERLEAVED]), 2);
	/* The egress program's mark (`guard stamp`): on the reading, never on a stamp. */
	ck_assert_msg(x1.rep.xmt & NTP_XMT_REFINE,
		      "a basic reply's transmit should carry the mark");
	ck_assert_msg(!(x2.rep.xmt & NTP_XMT_REFINE) && !(x3.rep.xmt & NTP_XMT_REFINE),
		      "an interleaved reply's transmit should never carry the mark");
	srv_free(s);
}
END_TEST

/*
 * An interleaved reply's transmit time, kernel stamps whatever their
 * lowest bits: never the mark (xl_tx_wire's flag bits end in 0), the
 * stamp itself to the ns, never equal to the receive time.
 */
START_TEST(test_interleaved_transmit_unmarked)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct sockaddr_in a = v4(0xC0000202);
	struct xch x1, x2;
	uint64_t wire;
	int64_t t;
	int k, odd = 0;

	ask(s, (struct sockaddr *)&a, 0, 0, &x1);
	for (k = 0; k < 64; k++) {
		/* Stamps a varying number of ns after: their NTP forms end in both bit values. */
		stamp(s, &x1, T3_DELAY + k, &t);
		wire = ntp_ts_from_unix_ns(t);
		odd += (int)(wire & NTP_XMT_REFINE);
		ask(s, (struct sockaddr *)&a, x1.rep.rec, 0xCC00 + (uint64_t)k, &x2);
		ck_assert_msg(interleaved(&x2), "exchange %d should be interleaved", k);
		ck_assert_msg(!(x2.rep.xmt & NTP_XMT_REFINE),
			      "exchange %d: the stamp's lowest bit should be clear", k);
		ck_assert_msg(x2.rep.xmt != x2.rep.rec && x2.rep.xmt != 0,
			      "exchange %d: transmit should differ from receive", k);
		ck_assert_msg(near_ns(x2.rep.xmt, t),
			      "exchange %d: transmit %016llx should be the stamp %016llx", k,
			      (unsigned long long)x2.rep.xmt, (unsigned long long)wire);
		x1 = x2;
	}
	ck_assert_msg(odd > 0 && odd < 64, "the stamps should end in both bit values (%d odd)",
		      odd);
	srv_free(s);
}
END_TEST

/*
 * A step of the clock (a leap's) announced between a reply and the
 * conversion of its kernel stamp: the next interleaved reply carries the
 * time read before the send, under the reply's own snapshot, not the
 * stamp mapped by a snapshot from the other side of the step.
 */
START_TEST(test_stamp_across_a_step)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct sockaddr_in a = v4(0xC0000207);
	struct clk_snapshot snap;
	struct xch x1, x2;

	ask(s, (struct sockaddr *)&a, 0, 0, &x1);
	clk_pub_fence(&s->pub, &snap);
	stamp(s, &x1, T3_DELAY, NULL);
	snap.leap = NTP_LEAP_NONE;
	snap.stratum = 2;
	snap.flags = CLK_F_SYNCED;
	clk_snapshot_publish(&s->pub, &snap);
	ask(s, (struct sockaddr *)&a, x1.rep.rec, 0xAAAA, &x2);
	ck_assert_msg(interleaved(&x2), "the second exchange should be interleaved");
	ck_assert_uint_eq(atomic_load(&s->ctr.xtx[CTR_TS_KERNEL]), 0);
	ck_assert_uint_eq(atomic_load(&s->ctr.xtx[CTR_TS_DAEMON]), 1);
	ck_assert_msg(fabs(ntp_ts_diff(x2.rep.xmt, x1.rep.xmt)) < 1e-6,
		      "its transmit should be the first reply's own, read before it left (%.9f s "
		      "from it)",
		      ntp_ts_diff(x2.rep.xmt, x1.rep.xmt));
	srv_free(s);
}
END_TEST

START_TEST(test_lost_reordered_repeated)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct sockaddr_in6 a = v6(7);
	struct xch x1, x2, x3, x4, x5, x6, x7;

	ask(s, (struct sockaddr *)&a, 0, 0, &x1);
	/* Reply 2 is lost: the client names reply 1 again, which is no longer the last. */
	ask(s, (struct sockaddr *)&a, x1.rep.rec, 1, &x2);
	ck_assert(interleaved(&x2));
	ask(s, (struct sockaddr *)&a, x1.rep.rec, 2, &x3);
	ck_assert_msg(basic(&x3), "a reply whose receive was used once should not name again");
	/* The same request twice (a duplicate, or a replay): the second is basic. */
	ask(s, (struct sockaddr *)&a, x3.rep.rec, 3, &x4);
	ck_assert(interleaved(&x4));
	ask(s, (struct sockaddr *)&a, x3.rep.rec, 3, &x5);
	ck_assert_msg(basic(&x5), "a repeated request should get a basic reply");
	/* A lost request: the server never saw it, the next one names the same reply. */
	ask(s, (struct sockaddr *)&a, x5.rep.rec, 4, &x6);
	ck_assert_msg(interleaved(&x6), "after a lost request the naming still holds");
	/* Two in flight, answered in turn: the second names the reply before the first's. */
	ask(s, (struct sockaddr *)&a, x5.rep.rec, 5, &x7);
	ck_assert_msg(basic(&x7), "of two requests naming one reply only the first interleaves");
	/* receive == transmit in the request: a basic client by RFC 9769. */
	{
		struct xch x8, x9;

		ask(s, (struct sockaddr *)&a, 0, 0, &x8);
		ask(s, (struct sockaddr *)&a, x8.rep.rec, 0, &x9);
		ck_assert_msg(interleaved(&x9), "receive 0, transmit a cookie: interleaved");
	}
	srv_free(s);
}
END_TEST

START_TEST(test_client_restart)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct sockaddr_in a = v4(0x0A000001);
	struct xch x1, x2, x3, x4;

	ask(s, (struct sockaddr *)&a, 0, 0, &x1);
	ask(s, (struct sockaddr *)&a, x1.rep.rec, 9, &x2);
	ck_assert(interleaved(&x2));
	/* Restarted: origin 0 (or anything it never got) means a new association. */
	ask(s, (struct sockaddr *)&a, 0, 0, &x3);
	ck_assert_msg(basic(&x3), "a restarted client should be answered in basic mode");
	ask(s, (struct sockaddr *)&a, 0x1122334455667788ull, 9, &x4);
	ck_assert(basic(&x4));
	ask(s, (struct sockaddr *)&a, x4.rep.rec, 10, &x1);
	ck_assert_msg(interleaved(&x1), "and interleaved again from its next exchange");
	srv_free(s);
}
END_TEST

START_TEST(test_no_cross_client_stamps)
{
	/* The smallest table: two sets of four, so clients share and evict ways. */
	struct srv *s = srv_new(XL_MIN_BYTES);
	struct sockaddr_in a = v4(0xC0000201), b = v4(0xC0000202);
	struct sockaddr_in6 a6 = v6(0xC0000201);
	struct xch xa, xb, xa2, xb2, xc;
	int64_t tb;
	uint32_t i;

	ask(s, (struct sockaddr *)&a, 0, 0, &xa);
	ask(s, (struct sockaddr *)&b, 0, 0, &xb);
	/* B names A's reply: B's state does not hold it, so basic, and no A stamp. */
	stamp(s, &xa, T3_DELAY, NULL);
	ask(s, (struct sockaddr *)&b, xa.rep.rec, 1, &xb2);
	ck_assert_msg(basic(&xb2), "a client naming another's reply should get basic");
	/* The IPv6 address with A's last 32 bits is another client. */
	ask(s, (struct sockaddr *)&a6, xa.rep.rec, 1, &xc);
	ck_assert(basic(&xc));
	/* A's entry taken by others, then A's late stamp comes: it goes nowhere. */
	for (i = 0; i < 64; i++) {
		struct sockaddr_in o = v4(0x0A000000 + i);
		struct xch xo;

		ask(s, (struct sockaddr *)&o, 0, 0, &xo);
	}
	ck_assert_uint_eq(xl_find(s->lc.xl, (struct sockaddr *)&a), XL_NONE);
	ask(s, (struct sockaddr *)&b, 0, 0, &xb);
	stamp(s, &xb, 5 * T3_DELAY, &tb);
	{
		/* B's record, re-aimed at the entry A had: must not take B's stamp. */
		struct txs_rec fake = *xb.rec;
		uint32_t ib = xl_find(s->lc.xl, (struct sockaddr *)&b);

		ck_assert_uint_ne(ib, XL_NONE);
		xl_key((struct sockaddr *)&a, fake.addr);
		ck_assert_msg(!xl_stamp(s->lc.xl, ib, fake.addr, fake.rx, 1234, XL_SRC_KERNEL),
			      "a stamp for one address should never land in another's entry");
		fake = *xb.rec;
		ck_assert_msg(!xl_stamp(s->lc.xl, ib, fake.addr, fake.rx + 1, 1234, XL_SRC_KERNEL),
			      "nor in an exchange it does not belong to");
	}
	ask(s, (struct sockaddr *)&b, xb.rep.rec, 2, &xb2);
	ck_assert(interleaved(&xb2));
	ck_assert_msg(near_ns(xb2.rep.xmt, tb), "B should get its own reply's stamp");
	/* A comes back naming its old reply: its state is gone, basic. */
	ask(s, (struct sockaddr *)&a, xa.rep.rec, 3, &xa2);
	ck_assert_msg(basic(&xa2), "an evicted client should get basic, not someone's stamp");
	ck_assert_uint_gt(atomic_load(&s->ctr.xl_evicted), 0);
	srv_free(s);
}
END_TEST

START_TEST(test_eviction_keeps_interleaved_clients)
{
	struct xl_table *t = xl_create(4 * 1024); /* 128 clients */
	uint32_t i, kept = 0, n_x = 16, idx;

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(xl_capacity(t), 128);
	/* 16 interleaved clients, then a flood of 10,000 one-off sources. */
	for (i = 0; i < n_x; i++) {
		struct sockaddr_in a = v4(0xC0000200 + i);

		ck_assert_int_ne(xl_claim(t, (struct sockaddr *)&a, &idx), XL_FOUND);
		xl_record(&t->e[idx], 1000 + i, 2000 + i, 1);
	}
	for (i = 0; i < 10000; i++) {
		struct sockaddr_in o = v4(0x0A000000 + i);

		xl_claim(t, (struct sockaddr *)&o, &idx);
		xl_record(&t->e[idx], 100000 + i, 200000 + i, 0);
	}
	for (i = 0; i < n_x; i++) {
		struct sockaddr_in a = v4(0xC0000200 + i);

		kept += xl_find(t, (struct sockaddr *)&a) != XL_NONE;
	}
	ck_assert_msg(kept == n_x,
		      "a flood of basic sources should evict no interleaved client (%u kept)",
		      kept);
	/* Among basic clients the oldest exchange goes first: the survivors are recent. */
	{
		struct xl_table *u = xl_create(XL_MIN_BYTES);
		struct sockaddr_in o;
		uint32_t old = 0;

		for (i = 0; i < 100; i++) {
			o = v4(0x0B000000 + i);
			xl_claim(u, (struct sockaddr *)&o, &idx);
			xl_record(&u->e[idx], 500 + i, 600 + i, 0);
		}
		for (i = 0; i < 84; i++) {
			o = v4(0x0B000000 + i);
			old += xl_find(u, (struct sockaddr *)&o) != XL_NONE;
		}
		o = v4(0x0B000000 + 99);
		ck_assert_msg(xl_find(u, (struct sockaddr *)&o) != XL_NONE,
			      "the newest client should be there");
		ck_assert_msg(old == 0, "no client older than the last 16 should survive (%u did)",
			      old);
		xl_destroy(u);
	}
	xl_destroy(t);
}
END_TEST

START_TEST(test_million_clients_in_limit)
{
	const size_t limit = 64 * (size_t)MIB;
	struct xl_table *t = xl_create(limit);
	uint32_t i, idx, found = 0;

	ck_assert_ptr_nonnull(t);
	ck_assert_msg(sizeof(struct xl_entry) <= 64, "a client's state should be <= 64 bytes");
	ck_assert_msg(t->bytes <= limit, "the table should fit the configured limit");
	ck_assert_msg(xl_capacity(t) >= MILLION, "64 MiB should hold 1M clients (has %zu)",
		      xl_capacity(t));
	for (i = 0; i < MILLION; i++) {
		struct sockaddr_in a = v4(0x0A000000 + i * 7);

		ck_assert_int_ne(xl_claim(t, (struct sockaddr *)&a, &idx), XL_FOUND);
		xl_record(&t->e[idx], 1000 + (uint64_t)i, 5, 1);
	}
	for (i = 0; i < MILLION; i++) {
		struct sockaddr_in a = v4(0x0A000000 + i * 7);

		idx = xl_find(t, (struct sockaddr *)&a);
		found += idx != XL_NONE && t->e[idx].rx == 1000 + (uint64_t)i;
	}
	ck_assert_msg(found == MILLION, "every one of 1M clients should keep its state (%u did)",
		      found);
	xl_destroy(t);
}
END_TEST

START_TEST(test_basic_delay_minimum)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct clk_snapshot snap;
	static int64_t seen[ENV_TRIES];
	uint32_t i, rng = 1, j;
	int64_t t0 = (int64_t)time(NULL) * NS_PER_SEC, end = t0 + ENV_TRIES * ENV_STEP;

	clk_snapshot_read(&s->pub, &snap);
	ck_assert_msg(txs_ahead(&s->txs, 1, t0) == 0, "with nothing measured the correction is 0");
	/* One send a ms, 2-5 us after its reading; one of them 1.5 us. */
	for (i = 0; i < ENV_TRIES; i++) {
		union {
			char c[TXS_CMSG];
			struct cmsghdr align;
		} cm;
		struct txs_rec *rec;
		struct timespec ts;
		int64_t d, low = INT64_MAX, now = t0 + (int64_t)i * ENV_STEP;

		rng = rng * 1103515245 + 12345;
		d = i == ENV_FAST ? 1500 : 2000 + (int64_t)(rng % 3000);
		seen[i] = d;
		txs_send(&s->txs, 0, 1, cm.c, 0, &rec);
		txs_submitted(rec, now, 1);
		ns_to_timespec(now + d, &ts);
		txs_on_stamp(&s->txs, 0, rec->key, &ts, 0, NULL, 0, &snap);
		/* Never more than the fastest send of the last second. */
		for (j = i + 1 > ENV_SECOND ? i + 1 - ENV_SECOND : 0; j <= i; j++)
			low = seen[j] < low ? seen[j] : low;
		if (txs_ahead(&s->txs, 1, now) > low)
			ck_abort_msg(
				"after send %u the correction %lld is above the fastest of the "
				"last second %lld",
				i, (long long)txs_ahead(&s->txs, 1, now), (long long)low);
		if (i > TXS_MIN_SAMPLES && i < ENV_FAST && txs_ahead(&s->txs, 1, now) < 1900)
			ck_abort_msg("the correction should have learnt the 2 us floor");
		if (i > ENV_FAST && i < ENV_FAST + 3 * ENV_SECOND &&
		    txs_ahead(&s->txs, 1, now) > 1500)
			ck_abort_msg(
				"a faster send should lower the correction at once, for seconds");
	}
	ck_assert_msg(txs_ahead(&s->txs, 1, end) >= 1900,
		      "one fast send should be forgotten after the windows (%lld)",
		      (long long)txs_ahead(&s->txs, 1, end));
	ck_assert_msg(txs_ahead(&s->txs, 0, end) == 0, "a position never measured stays at 0");
	ck_assert_msg(txs_ahead(&s->txs, 1, end + (TXS_WINDOWS + 1) * TXS_WINDOW_NS) == 0,
		      "an old minimum should not be used");
	srv_free(s);
}
END_TEST

START_TEST(test_no_allocation_per_request)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct mallinfo2 before, after;
	struct xch x;
	uint32_t i;

	ask(s, (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET}, 0, 0, &x);
	before = mallinfo2();
	for (i = 0; i < 100000; i++) {
		struct sockaddr_in a = v4(0x0A000000 + i);

		ask(s, (struct sockaddr *)&a, 0, 0, &x);
		ask(s, (struct sockaddr *)&a, x.rep.rec, 1, &x);
	}
	after = mallinfo2();
	ck_assert_msg(after.uordblks == before.uordblks && after.hblkhd == before.hblkhd,
		      "serving 200,000 requests should allocate nothing");
	srv_free(s);
}
END_TEST

/*
 * A client whose requests carry a MAC of a keyfile key names its last
 * reply as an interleaved client does: it is answered in basic mode, with
 * a sealed reply that the worker must neither restamp nor stamp, and its
 * exchanges leave the interleaved state alone (a plain client at the same
 * address still starts basic, then interleaves).
 */
START_TEST(test_authenticated_basic_only)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct sockaddr_in a = v4(0xC0000209);
	struct auth_shared as;
	struct auth_worker aw;
	struct sk_key key;
	struct sk_table tab;
	const struct sk_key *found;
	struct xch p1, p2;
	uint64_t last_rec = 0;
	char err[80];
	int i;

	memset(&as, 0, sizeof(as));
	ck_assert_int_eq(sk_parse_line("7 SHA1 HEX:00112233445566778899aabbccddeeff00112233", &key,
				       err, sizeof(err)),
			 1);
	tab.keys = &key;
	tab.n = 1;
	atomic_store(&as.keys, &tab);
	ck_assert_int_eq(auth_worker_init(&as, &aw), 0);
	s->sh.auth = &as;
	s->ctr.auth_wk = &aw;
	for (i = 0; i < 4; i++) {
		uint8_t req[SRV_REPLY_MAX] = {0}, reply[SRV_REPLY_MAX];
		struct ntp_packet rep;
		struct srv_reply out;
		struct timespec rx;
		size_t len;

		req[0] = (4 << 3) | NTP_MODE_CLIENT;
		put64(req + 24, last_rec); /* names the last reply, as an xleave client */
		put64(req + 32, 0xCCCC0000u + (unsigned)i);
		put64(req + 40, 0xABCD0000u + (unsigned)i);
		len = sk_append(&key, req, NTP_HEADER_LEN);
		clock_gettime(CLOCK_REALTIME, &rx);
		srv_handle(&s->sh, &s->lc, req, len, (struct sockaddr *)&a, -1, &rx, CTR_TS_KERNEL,
			   reply, &out);
		ck_assert_msg(out.len == len, "a MAC request should get a MAC reply of its length");
		ck_assert_msg(
			!out.interleaved && !out.basic && !out.stamp && out.xl == XL_NONE,
			"a sealed reply should be neither interleaved, restamped nor stamped");
		ck_assert_int_eq(sk_verify(&tab, reply, out.len, NTP_HEADER_LEN, &found), SK_OK);
		ck_assert_int_eq(ntp_decode(reply, out.len, &rep), 0);
		ck_assert_msg(rep.org == 0xABCD0000u + (unsigned)i,
			      "the reply should be basic (origin = the request's transmit)");
		ck_assert_msg(ntp_restamp_xmt(reply, out.len, rep.xmt + (1ull << 32)) == 0,
			      "a sealed reply should never be restamped");
		last_rec = rep.rec;
	}
	ck_assert_uint_eq(atomic_load(&s->ctr.auth[AUTH_MAC_OK]), 4);
	ck_assert_uint_eq(atomic_load(&s->ctr.mode[CTR_MODE_BASIC]), 4);
	ck_assert_uint_eq(atomic_load(&s->ctr.mode[CTR_MODE_INTERLEAVED]), 0);
	/* The interleaved state never saw it: a plain client there starts from nothing. */
	ask(s, (struct sockaddr *)&a, last_rec, 0xDDDD, &p1);
	ck_assert_msg(basic(&p1), "an authenticated exchange should not be nameable");
	ask(s, (struct sockaddr *)&a, p1.rep.rec, 0xEEEE, &p2);
	ck_assert_msg(interleaved(&p2), "plain requests should still interleave");
	srv_free(s);
}
END_TEST

/*
 * The stamp request follows interleaved mode, not the origin: a basic
 * client sends an origin too (chrony, ntpdig: the last reply's transmit),
 * and stamping each of its replies cost a stamp per reply for a time
 * nobody reads. Its first interleaved request names an unstamped reply:
 * answered with the time read before that reply left (never after it);
 * from then on every reply of that client asks for its stamp.
 */
START_TEST(test_stamp_only_for_interleaved_clients)
{
	struct srv *s = srv_new(XL_DEFAULT_BYTES);
	struct sockaddr_in a = v4(0xC0000301), b = v4(0xC0000302);
	struct xch x1, x2, x3, x4, y1, y2;

	/* A basic client: origin 0 first, then its last reply's transmit (never our receive). */
	ask(s, (struct sockaddr *)&b, 0, 0, &y1);
	ck_assert_msg(basic(&y1) && !y1.out.stamp, "a first request should ask for no stamp");
	ask(s, (struct sockaddr *)&b, y1.rep.xmt, y1.rep.xmt + 1, &y2);
	ck_assert_msg(basic(&y2), "an origin that is not our receive should be answered basic");
	ck_assert_msg(!y2.out.stamp,
		      "a basic client with a nonzero origin should get no stamp request");
	/* An interleaved client: its first exchange basic and unstamped too. */
	ask(s, (struct sockaddr *)&a, 0, 0, &x1);
	ck_assert_msg(basic(&x1) && !x1.out.stamp, "its first reply should ask for no stamp");
	/* It names that reply: interleaved, with the time read before it left. */
	ask(s, (struct sockaddr *)&a, x1.rep.rec, 0xCCCC, &x2);
	ck_assert_msg(interleaved(&x2), "a request naming the last reply should be interleaved");
	ck_assert_msg(x2.out.stamp, "a reply to an interleaved request should ask for its stamp");
	ck_assert_uint_eq(atomic_load(&s->ctr.xtx[CTR_TS_DAEMON]), 1);
	ck_assert_msg(ntp_ts_diff(x2.rep.xmt, x1.rep.xmt) > -2e-9 &&
			      ntp_ts_diff(x2.rep.xmt, x1.rep.xmt) < 2e-9,
		      "the unstamped reply's transmit should be the one read before it left");
	/* Once interleaved, always stamped: a basic request of that client too. */
	ask(s, (struct sockaddr *)&a, 0, 0, &x3);
	ck_assert_msg(basic(&x3) && x3.out.stamp,
		      "a client that interleaved should have every reply stamped");
	stamp(s, &x3, T3_DELAY, NULL);
	ask(s, (struct sockaddr *)&a, x3.rep.rec, 0xDDDD, &x4);
	ck_assert_msg(interleaved(&x4) && x4.out.stamp, "its next request should interleave");
	ck_assert_uint_eq(atomic_load(&s->ctr.xtx[CTR_TS_KERNEL]), 1);
	srv_free(s);
}
END_TEST

Suite *xleave_suite(void)
{
	Suite *s = suite_create("xleave");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_first_exchange_then_interleaved);
	tcase_add_test(tc, test_interleaved_transmit_unmarked);
	tcase_add_test(tc, test_lost_reordered_repeated);
	tcase_add_test(tc, test_client_restart);
	tcase_add_test(tc, test_no_cross_client_stamps);
	tcase_add_test(tc, test_eviction_keeps_interleaved_clients);
	tcase_add_test(tc, test_million_clients_in_limit);
	tcase_add_test(tc, test_basic_delay_minimum);
	tcase_add_test(tc, test_no_allocation_per_request);
	tcase_add_test(tc, test_authenticated_basic_only);
	tcase_add_test(tc, test_stamp_only_for_interleaved_clients);
	tcase_add_test(tc, test_stamp_across_a_step);
	suite_add_tcase(s, tc);
	return s;
}
