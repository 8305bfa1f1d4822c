/*
 * Unit tests of the workers' side of a leap step (issue 16): srv_handle
 * asks clk_snapshot_maps, once per reply after its transmit reading,
 * whether the snapshot it read maps the request's receive stamp and that
 * reading, and answers unsynchronized (LI 3, stratum 0) when it does not:
 * a receive stamp later than the transmit reading (taken before a step
 * back of the clock, an insertion) or before the step_sys the snapshot
 * carries (a step forward, a deletion); an ordinary request is answered
 * synchronized. Whether the helper sees a step announced between a
 * worker's snapshot read and its clock read is the core's test
 * (test_leap_fence) and the snapshot's (test_maps_steps). And the
 * restamp right before a basic reply leaves (srv_restamp): a reply built
 * before a step was announced is marked unsynchronized instead of given
 * a transmit time from after it.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock/kclock.h"
#include "clock/snapshot.h"
#include "daemon/policy/acl.h"
#include "daemon/serve/counters.h"
#include "daemon/serve/serve.h"
#include "proto/nstime.h"
#include "proto/ntp.h"

Suite *leapstep_suite(void);

#define LS_BEHIND_NS (500 * NS_PER_MS) /* ns: a stamp this far after the transmit reading */

/* A server with no access list, no interleaved state, publishing synchronized stratum 2. */
struct ls_srv {
	struct acl acl, ctl;
	struct pol_rules rules;
	struct clk_pub pub;
	struct srv_shared sh;
	struct ctr_block ctr;
	struct srv_local lc;
};

static struct ls_srv *ls_new(void)
{
	struct ls_srv *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	acl_init(&s->acl);
	acl_init(&s->ctl);
	clk_pub_init(&s->pub);
	s->rules.acl = &s->acl;
	s->rules.control_acl = &s->ctl;
	atomic_init(&s->sh.rules, &s->rules);
	s->sh.pub = &s->pub;
	s->sh.clock = CLOCK_REALTIME;
	s->lc.ctr = &s->ctr;
	return s;
}

/* Publish a synchronized snapshot, the clock as it is, carrying STEP_SYS. */
static void ls_publish(struct ls_srv *s, int64_t step_sys)
{
	struct clk_snapshot snap;

	memset(&snap, 0, sizeof(snap));
	snap.leap = NTP_LEAP_NONE;
	snap.stratum = 2;
	snap.precision = -20;
	snap.flags = CLK_F_SYNCED;
	snap.disp_rate = CLK_PHI;
	snap.step_sys = step_sys;
	clk_snapshot_publish(&s->pub, &snap);
}

/* A client request received at RX (CLOCK_REALTIME ns); the reply decoded into P. */
static void ls_ask(struct ls_srv *s, int64_t rx_ns, struct ntp_packet *p)
{
	uint8_t req[NTP_HEADER_LEN] = {0}, reply[SRV_REPLY_MAX];
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
	struct srv_reply out;
	struct timespec rx;

	a.sin_addr.s_addr = htonl(0xC0000201);
	req[0] = (4 << 3) | NTP_MODE_CLIENT;
	req[47] = 1; /* a transmit timestamp */
	ns_to_timespec(rx_ns, &rx);
	srv_handle(&s->sh, &s->lc, req, sizeof(req), (struct sockaddr *)&a, -1, &rx, CTR_TS_KERNEL,
		   reply, &out);
	ck_assert_msg(out.len == NTP_HEADER_LEN, "the request should be answered");
	ck_assert_int_eq(ntp_decode(reply, out.len, p), 0);
}

START_TEST(test_stamp_across_a_step)
{
	struct ls_srv *s = ls_new();
	struct ntp_packet p;
	int64_t now;

	ls_publish(s, 0);
	ls_ask(s, clk_now_ns(CLOCK_REALTIME), &p);
	ck_assert_msg(p.leap == NTP_LEAP_NONE && p.stratum == 2,
		      "an ordinary request: synchronized, stratum 2 (LI %u, stratum %u)", p.leap,
		      p.stratum);
	/* Stamped before the clock went back a second (an insertion's step). */
	ls_ask(s, clk_now_ns(CLOCK_REALTIME) + LS_BEHIND_NS, &p);
	ck_assert_msg(p.leap == NTP_LEAP_UNSYNC && p.stratum == 0,
		      "a receive stamp later than the transmit reading: unsynchronized (LI %u, "
		      "stratum %u)",
		      p.leap, p.stratum);
	/* Stamped before the clock went forward (a deletion's step), mapped by the snapshot
	 * published after it. */
	now = clk_now_ns(CLOCK_REALTIME);
	ls_publish(s, now);
	ls_ask(s, now - NS_PER_MS, &p);
	ck_assert_msg(p.leap == NTP_LEAP_UNSYNC && p.stratum == 0,
		      "a receive stamp before step_sys: unsynchronized (LI %u, stratum %u)", p.leap,
		      p.stratum);
	ls_ask(s, clk_now_ns(CLOCK_REALTIME), &p);
	ck_assert_msg(p.leap == NTP_LEAP_NONE && p.stratum == 2,
		      "a request after the step: synchronized again (LI %u, stratum %u)", p.leap,
		      p.stratum);
	ck_assert_msg(s->ctr.reason[NTP_R_REPLY_SERVER] == 4,
		      "every one counted as reply_server (%llu)",
		      (unsigned long long)s->ctr.reason[NTP_R_REPLY_SERVER]);
	acl_free(&s->acl);
	acl_free(&s->ctl);
	free(s);
}
END_TEST

/* A client request received now, answered into REPLY (48 bytes); its srv_reply in OUT. */
static void ls_build(struct ls_srv *s, uint8_t *reply, struct srv_reply *out)
{
	uint8_t req[NTP_HEADER_LEN] = {0};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
	struct timespec rx;

	a.sin_addr.s_addr = htonl(0xC0000201);
	req[0] = (4 << 3) | NTP_MODE_CLIENT;
	req[47] = 1;
	ns_to_timespec(clk_now_ns(CLOCK_REALTIME), &rx);
	srv_handle(&s->sh, &s->lc, req, sizeof(req), (struct sockaddr *)&a, -1, &rx, CTR_TS_KERNEL,
		   reply, out);
	ck_assert_msg(out->len == NTP_HEADER_LEN && out->basic, "a basic reply");
}

START_TEST(test_restamp_across_a_step)
{
	struct ls_srv *s = ls_new();
	uint8_t reply[SRV_REPLY_MAX];
	struct clk_snapshot now;
	struct srv_reply out;
	struct ntp_packet p, q;

	/* No step since the reply was built: restamped forward, still synchronized. */
	ls_publish(s, 0);
	ls_build(s, reply, &out);
	ck_assert_int_eq(ntp_decode(reply, out.len, &p), 0);
	clk_snapshot_read(&s->pub, &now);
	ck_assert_int_eq(srv_restamp(reply, out.len, out.steps, &now, 1,
				     clk_now_ns(CLOCK_REALTIME) + NS_PER_MS),
			 1);
	ck_assert_int_eq(ntp_decode(reply, out.len, &q), 0);
	ck_assert_msg(q.leap == NTP_LEAP_NONE && q.stratum == 2 && ntp_ts_diff(q.xmt, p.xmt) > 0,
		      "restamped: synchronized, transmit later (LI %u, stratum %u)", q.leap,
		      q.stratum);

	/* Built, then a step announced (the leap fence) before it leaves. */
	ls_build(s, reply, &out);
	ck_assert_int_eq(ntp_decode(reply, out.len, &p), 0);
	clk_pub_fence(&s->pub, &now);
	clk_snapshot_read(&s->pub, &now);
	ck_assert_int_eq(srv_restamp(reply, out.len, out.steps, &now, 1,
				     clk_now_ns(CLOCK_REALTIME) + NS_PER_MS),
			 0);
	ck_assert_int_eq(ntp_decode(reply, out.len, &q), 0);
	ck_assert_msg(q.leap == NTP_LEAP_UNSYNC && q.stratum == 0,
		      "built before the step: unsynchronized (LI %u, stratum %u)", q.leap,
		      q.stratum);
	ck_assert_msg(q.xmt == p.xmt && q.rec == p.rec, "... its timestamps left as they were");

	/* A step announced between the restamp's snapshot and its clock reading. */
	ls_build(s, reply, &out);
	clk_snapshot_read(&s->pub, &now);
	ck_assert_int_eq(srv_restamp(reply, out.len, out.steps, &now, 0,
				     clk_now_ns(CLOCK_REALTIME) + NS_PER_MS),
			 0);
	ck_assert_int_eq(ntp_decode(reply, out.len, &q), 0);
	ck_assert_msg(q.leap == NTP_LEAP_UNSYNC && q.stratum == 0,
		      "a step between the snapshot and the reading: unsynchronized (LI %u, "
		      "stratum %u)",
		      q.leap, q.stratum);

	/* Built after the fence, under the new count: restamped as before. */
	ls_publish(s, clk_now_ns(CLOCK_REALTIME));
	ls_build(s, reply, &out);
	clk_snapshot_read(&s->pub, &now);
	ck_assert_int_eq(srv_restamp(reply, out.len, out.steps, &now, 1,
				     clk_now_ns(CLOCK_REALTIME) + NS_PER_MS),
			 1);
	ck_assert_int_eq(ntp_decode(reply, out.len, &q), 0);
	ck_assert_msg(q.leap == NTP_LEAP_NONE && q.stratum == 2,
		      "built after the step: synchronized (LI %u, stratum %u)", q.leap, q.stratum);
	acl_free(&s->acl);
	acl_free(&s->ctl);
	free(s);
}
END_TEST

Suite *leapstep_suite(void)
{
	Suite *s = suite_create("leapstep");
	TCase *tc = tcase_create("serve");

	tcase_add_test(tc, test_stamp_across_a_step);
	tcase_add_test(tc, test_restamp_across_a_step);
	suite_add_tcase(s, tc);
	return s;
}
