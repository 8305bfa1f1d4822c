/*
 * guard-test unit, `guard serve on`: the guard answering plain client
 * requests itself. The serving state is published into the loaded
 * program by horod's own publisher (bpf/guard_pub.c) from clock
 * snapshots as the clock core makes them, the program's clocks are the
 * rig's (its receive and transmit readings 1.2 ms apart), and every
 * answer is compared field by field with what a worker builds from the
 * same snapshot at the same two instants (gt_worker_reply), around
 * headers checked like a kiss-o'-death's. Then what must reach a worker:
 * a stale publication, one from the future, a correction of horod's own
 * (`discipline off`, a sim clock), a leap second announced (LI 1 and 2),
 * a write in progress, mode 1, a MAC, NTS requests; the root dispersion
 * at absurd values and rates; and the order with the access list and
 * the limiter (which charges NTS requests too).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bpf/guard.h"
#include "proto/ntp.h"
#include "proto/nts.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

static const struct guard_clocks pub_at = {.tai_ns = PUB_TAI, .real_ns = PUB_REAL};

struct clk_snapshot gt_synced(void)
{
	struct clk_snapshot s;

	memset(&s, 0, sizeof(s));
	s.update_ns = PUB_REAL - 300000000; /* the core's update, 0.3 s before it is handed over */
	s.ref_ns = PUB_REAL - 10 * (int64_t)SEC;
	s.root_delay = 0.000512;
	s.root_disp = 0.001;
	s.disp_rate = CLK_PHI + 2e-6;
	s.refid = 0xc0000202;
	s.flags = CLK_F_SYNCED;
	s.leap = NTP_LEAP_NONE;
	s.stratum = 2;
	s.precision = -25;
	return s;
}

/*
 * An NTS request (RFC 8915: identifier, a 104-byte cookie, PH placeholders,
 * authenticator) into P, sealed with a made-up session key; its length.
 */
static size_t nts_req(uint8_t *p, size_t cap, int ph)
{
	const uint8_t key[NTS_KEY_LEN] = {1}, uid[NTS_UID_LEN] = {2}, cookie[NTS_COOKIE_LEN] = {3},
		      nonce[NTS_NONCE_LEN] = {4};
	struct cry_siv c2s;

	gt_ntp_req(p, NTP_HEADER_LEN, 0x23);
	cry_siv_init(&c2s, key);
	return nts_client_request(p, cap, uid, cookie, sizeof(cookie), ph, &c2s, nonce);
}

void gt_serve_case(struct gt_rig *r, const char *name, const struct fr_spec *spec,
		   const struct clk_snapshot *s, int want_action, uint32_t want_reason)
{
	gt_serve_case_at(r, name, spec, s, &pub_at, want_action, want_reason);
}

void gt_serve_case_at(struct gt_rig *r, const char *name, const struct fr_spec *spec,
		      const struct clk_snapshot *s, const struct guard_clocks *at, int want_action,
		      uint32_t want_reason)
{
	uint8_t frame[FR_MAX], out[FR_MAX + 256], want[NTP_HEADER_LEN];
	const uint8_t *ntp;
	char why[200];
	struct fr_parsed p;
	size_t len = fr_build(spec, frame), outlen;
	int action, ref_action;
	uint32_t ref_reason;
	int64_t rx_sys;
	const char *bad;

	gt_publish(r, s, at);
	r->tai_step = RX_TX;
	action = gt_run(r, frame, len, out, &outlen);
	if (action >= 0 && *r->h.reason < GUARD_NCOUNTERS) {
		r->tally_packets[*r->h.reason]++;
		r->tally_bytes[*r->h.reason] += len;
	}
	if (action != want_action || *r->h.reason != want_reason) {
		gt_expect(0, name, "should be %s %s, got %s %s", gt_action_name(want_action),
			  guard_counter_name(want_reason), gt_action_name(action),
			  guard_counter_name(*r->h.reason));
		return;
	}
	ref_reason = gt_reference(r, frame, len, &p, &ref_action);
	if (ref_action != want_action || ref_reason != want_reason) {
		gt_expect(0, name, "the reference should agree, says %s %s",
			  gt_action_name(ref_action), guard_counter_name(ref_reason));
		return;
	}
	if (want_action == XDP_PASS_) {
		gt_expect(outlen == len && memcmp(out, frame, len) == 0, name,
			  "the frame should reach the worker untouched");
		return;
	}
	if (want_action == XDP_TX_ &&
	    (want_reason == NTP_R_REPLY_KOD_RATE || want_reason == NTP_R_REPLY_KOD_DENY)) {
		bad = fr_check_kod(frame, &p, out, outlen,
				   want_reason == NTP_R_REPLY_KOD_RATE ? "RATE" : "DENY");
		gt_expect(bad == NULL, name, "%s", bad ? bad : "");
		return;
	}
	if (want_action != XDP_TX_ || want_reason != GUARD_C_SERVED) {
		gt_expect(1, name, "%s", ""); /* a drop: the action and reason are all there is */
		return;
	}
	bad = fr_check_reply(frame, &p, out, outlen, &ntp);
	if (!bad) {
		rx_sys = (int64_t)r->tai - TAI_OFFSET;
		gt_worker_reply(s, p.payload, rx_sys, rx_sys + RX_TX, want);
		bad = gt_compare_reply(ntp, want, why, sizeof(why));
	}
	gt_expect(bad == NULL, name, "%s", bad ? bad : "");
}

/* The root dispersion (s) of the answer to SPEC from S at the rig's clocks; -1 if not answered. */
static double served_disp(struct gt_rig *r, const struct fr_spec *spec,
			  const struct clk_snapshot *s)
{
	uint8_t frame[FR_MAX], out[FR_MAX + 256];
	size_t len = fr_build(spec, frame), outlen;
	struct fr_parsed p;
	const uint8_t *ntp;
	int ref_action;

	gt_publish(r, s, &pub_at);
	if (gt_run(r, frame, len, out, &outlen) != XDP_TX_)
		return -1;
	r->tally_packets[GUARD_C_SERVED]++;
	r->tally_bytes[GUARD_C_SERVED] += len;
	gt_reference(r, frame, len, &p, &ref_action);
	if (fr_check_reply(frame, &p, out, outlen, &ntp))
		return -1;
	return ntp_short_to_double((uint32_t)ntp[8] << 24 | (uint32_t)ntp[9] << 16 |
				   (uint32_t)ntp[10] << 8 | ntp[11]);
}

/* Root dispersion at absurd values and rates: saturated, never wrapped, never below a worker's. */
static void serve_dispersion(struct gt_rig *r, const struct fr_spec *spec)
{
	static const struct {
		const char *name;
		double disp, rate;
	} cases[] = {
		{"serve: a NaN root dispersion is the largest", NAN, CLK_PHI},
		{"serve: a NaN growth rate is the largest", 0.001, NAN},
		{"serve: an infinite growth rate is the largest", 0.001, INFINITY},
		{"serve: 70000 s of root dispersion is the largest", 70000.0, CLK_PHI},
		{"serve: 2000 s of root dispersion is 2000 s, not the largest", 2000.0, CLK_PHI},
		{"serve: a rate of 2 s/s grows by 2 s per s", 0.001, 2.0},
		{"serve: a rate of 1e12 s/s is the largest after 1.9 s", 0.001, 1e12},
		{"serve: a rate of 1.8e10 s/s (2^64 ns/s) is the largest", 0.001, 1.8446744e10},
		{"serve: a rate of 4e9 s/s (would wrap the old product) is the largest", 0.001,
		 4e9},
	};
	struct clk_snapshot s = gt_synced();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s.root_disp = cases[i].disp;
		s.disp_rate = cases[i].rate;
		r->tai = PUB_TAI + 1900000000; /* 1.9 s after the publication */
		gt_serve_case(r, cases[i].name, spec, &s, XDP_TX_, GUARD_C_SERVED);
	}
	/*
	 * A rate whose product with the time since the publication, as µs
	 * times ns/s, passes 2^64 by a little: 18447 s of growth, which
	 * arithmetic that wraps turns into almost none.
	 */
	s.root_disp = 0.001;
	s.disp_rate = ceil(0x1p64 / ((1900000000.0 + RX_TX) / 1000)) / 1e9;
	r->tai = PUB_TAI + 1900000000;
	gt_serve_case(r, "serve: 9703 s/s for 1.9 s is 18447 s (a wrapping product says ~0)", spec,
		      &s, XDP_TX_, GUARD_C_SERVED);
	/* A negative rate (a broken skew) counts as 0: XDP never advertises less than a worker. */
	s.root_disp = 0.5;
	s.disp_rate = -0.1;
	r->tai = PUB_TAI + 1000000000;
	{
		double d = served_disp(r, spec, &s);
		double at_pub = clk_snapshot_root_disp(&s, PUB_REAL);

		gt_expect(d >= at_pub && d <= at_pub + 2.0 / 65536, "serve: a negative rate is 0",
			  "root dispersion %.9f s, want the publication's %.9f s", d, at_pub);
	}
}

int gt_do_serve(void)
{
	struct gt_rig_conf c = {.deny = {"192.0.2.66"}, .serve = 1};
	struct clk_snapshot s = gt_synced();
	uint8_t pay[128];
	struct fr_spec spec;
	struct gt_rig r;
	int k, ok;

	gt_rig_open(&r, &c);
	r.tai = PUB_TAI + 123456789; /* 0.12 s after the publication */
	gt_ntp_req(pay, 48, 0x23);   /* VN 4, mode 3 */
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	gt_serve_case(&r, "serve: an IPv4 request answered from the publisher's state, rx != tx",
		      &spec, &s, XDP_TX_, GUARD_C_SERVED);
	r.tai = PUB_TAI + 1999000000;
	gt_serve_case(&r,
		      "serve: 1.999 s after the publication: the dispersion grown as a worker's",
		      &spec, &s, XDP_TX_, GUARD_C_SERVED);
	r.tai = PUB_TAI + 2000000001;
	gt_serve_case(&r, "serve: 2 s after the publication (stale): passed to a worker", &spec, &s,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	r.tai = PUB_TAI - 1000;
	gt_serve_case(&r, "serve: before the publication (clock stepped back): passed", &spec, &s,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	r.tai = PUB_TAI + 123456789;
	gt_spec_udp(&spec, "2001:db8::20", pay, 48);
	gt_serve_case(&r, "serve: an IPv6 client request (UDP checksum over IPv6)", &spec, &s,
		      XDP_TX_, GUARD_C_SERVED);
	pay[0] = 0x0b; /* VN 1 */
	pay[2] = 20;   /* poll beyond 17: echoed as 17 */
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	gt_serve_case(&r, "serve: VN 1 echoed, poll 20 clamped to 17", &spec, &s, XDP_TX_,
		      GUARD_C_SERVED);
	pay[0] = 0x23;
	pay[2] = 0xfd; /* poll -3: echoed as 0 */
	gt_serve_case(&r, "serve: a negative poll is echoed as 0", &spec, &s, XDP_TX_,
		      GUARD_C_SERVED);
	pay[2] = 6;

	/* What the clock core publishes when not synchronized: LI 3, never synchronized. */
	s.leap = NTP_LEAP_UNSYNC;
	s.stratum = 16;
	s.flags = 0;
	s.ref_ns = 0;
	gt_serve_case(&r, "serve: unsynchronized: LI 3, stratum 0, reference time 0 (not 1970)",
		      &spec, &s, XDP_TX_, GUARD_C_SERVED);
	s = gt_synced();
	serve_dispersion(&r, &spec);
	s = gt_synced();
	r.tai = PUB_TAI + 123456789;

	/* What a worker must answer. */
	s.leap = NTP_LEAP_INSERT;
	gt_serve_case(&r, "serve: a leap second to insert announced (LI 1): passed", &spec, &s,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	s.leap = NTP_LEAP_DELETE;
	gt_serve_case(&r, "serve: a leap second to delete announced (LI 2): passed", &spec, &s,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	s = gt_synced();
	/* `discipline off`: served = the system clock + horod's own estimate (clk_disc_mapping). */
	s.flags |= CLK_F_CORRECTED;
	s.corr_ns = -1234567;
	s.corr_freq = 2.5e-6;
	gt_serve_case(&r, "serve: discipline off (horod's own correction): passed", &spec, &s,
		      XDP_PASS_, NTP_R_REPLY_SERVER);
	s.flags &= ~CLK_F_CORRECTED;
	gt_serve_case(&r, "serve: a sim clock's mapping (a correction, disciplined): passed", &spec,
		      &s, XDP_PASS_, NTP_R_REPLY_SERVER);
	s = gt_synced();
	s.corr_freq = 1e-9;
	gt_serve_case(&r, "serve: a frequency correction alone: passed", &spec, &s, XDP_PASS_,
		      NTP_R_REPLY_SERVER);
	s = gt_synced();
	gt_publish(&r, &s, &pub_at);
	{
		struct guard_state_pub *p = guard_state_area(r.g);
		uint8_t frame[FR_MAX], out[FR_MAX + 256];
		size_t len = fr_build(&spec, frame), outlen;
		int a;

		atomic_fetch_add(&p->seq, 1); /* a write in progress */
		a = gt_run(&r, frame, len, out, &outlen);
		r.tally_packets[*r.h.reason]++;
		r.tally_bytes[*r.h.reason] += len;
		gt_expect(a == XDP_PASS_ && *r.h.reason == NTP_R_REPLY_SERVER,
			  "serve: the state being written (odd sequence): passed", "got %s %s",
			  gt_action_name(a), guard_counter_name(*r.h.reason));
		atomic_fetch_add(&p->seq, 1);
	}
	gt_serve_case(&r, "serve: the next sequence number, stable: answered", &spec, &s, XDP_TX_,
		      GUARD_C_SERVED);
	/* RFC 9769: an interleaved request (VN 4, origin named, receive != transmit) asks for
	 * the transmit stamp of the last reply, which only the workers have. */
	gt_ntp_req(pay, 48, 0x23);
	pay[24] = 0x11; /* origin: the server's receive time of the last reply */
	pay[32] = 0x22; /* receive: the client's own, not its transmit */
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	gt_serve_case(&r,
		      "serve: an interleaved request (VN 4, origin, receive != transmit) goes to a "
		      "worker",
		      &spec, &s, XDP_PASS_, NTP_R_REPLY_SERVER);
	memcpy(pay + 32, pay + 40, 8); /* receive == transmit: never interleaved */
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	gt_serve_case(&r, "serve: origin named, receive == transmit: answered", &spec, &s, XDP_TX_,
		      GUARD_C_SERVED);
	pay[0] = 0x1b; /* VN 3: never interleaved */
	pay[32] = 0x22;
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	gt_serve_case(&r, "serve: VN 3 with an origin: answered", &spec, &s, XDP_TX_,
		      GUARD_C_SERVED);
	gt_ntp_req(pay, 48, 0x21); /* mode 1 */
	gt_spec_udp(&spec, "192.0.2.20", pay, 48);
	gt_serve_case(&r, "serve: mode 1 (symmetric) goes to a worker", &spec, &s, XDP_PASS_,
		      NTP_R_REPLY_SYMMETRIC);
	gt_ntp_req(pay, 68, 0x23); /* a 20-byte MAC: key ID + MD5 */
	gt_spec_udp(&spec, "192.0.2.20", pay, 68);
	gt_serve_case(&r, "serve: a request with a MAC goes to a worker", &spec, &s, XDP_PASS_,
		      NTP_R_REPLY_SERVER);
	{
		static uint8_t nts[1100];
		size_t n = nts_req(nts, sizeof(nts), 7);

		gt_spec_udp(&spec, "192.0.2.20", nts, n);
		gt_serve_case(&r,
			      "serve: an NTS request (988 bytes, 7 placeholders) goes to a worker",
			      &spec, &s, XDP_PASS_, NTP_R_REPLY_SERVER);
		n = nts_req(nts, sizeof(nts), 0);
		gt_spec_udp(&spec, "2001:db8::20", nts, n);
		gt_serve_case(&r, "serve: an NTS request over IPv6 goes to a worker", &spec, &s,
			      XDP_PASS_, NTP_R_REPLY_SERVER);
	}
	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&spec, "192.0.2.66", pay, 48);
	gt_serve_case(&r, "serve: a denied source is still dropped", &spec, &s, XDP_DROP_,
		      NTP_R_DROP_DENIED);
	{
		struct guard_stats st;

		ok = gt_counters(&r, &st) == 0;
		for (k = 0; ok && k < GUARD_NCOUNTERS; k++)
			ok = st.packets[k] == r.tally_packets[k] && st.bytes[k] == r.tally_bytes[k];
		gt_expect(ok, "serve: counters, answers as reply_server_xdp", "counter %d differs",
			  k - 1);
	}
	gt_rig_close(&r);

	/* The limiter first: a burst of 1, then a RATE kiss-o'-death. */
	{
		struct gt_rig_conf cr = {
			.ratelimit = 1, .interval = 4, .burst = 1, .kod = 1, .serve = 1};

		gt_rig_open(&r, &cr);
		r.now = 1000 * SEC;
		r.tai = PUB_TAI + 5000000;
		gt_spec_udp(&spec, "192.0.2.21", pay, 48);
		gt_serve_case(&r, "serve + ratelimit: the first request is answered here", &spec,
			      &s, XDP_TX_, GUARD_C_SERVED);
		gt_serve_case(&r, "serve + ratelimit: the second gets a RATE kiss-o'-death", &spec,
			      &s, XDP_TX_, NTP_R_REPLY_KOD_RATE);
		{
			/* NTS requests are charged like the others: the limit applies to them. */
			static uint8_t nts[1100];
			size_t n = nts_req(nts, sizeof(nts), 3);

			gt_spec_udp(&spec, "192.0.2.22", nts, n);
			gt_serve_case(&r, "serve + ratelimit: a first NTS request goes to a worker",
				      &spec, &s, XDP_PASS_, NTP_R_REPLY_SERVER);
			gt_serve_case(&r,
				      "serve + ratelimit: a second NTS request gets the RATE KoD",
				      &spec, &s, XDP_TX_, NTP_R_REPLY_KOD_RATE);
			gt_serve_case(&r, "serve + ratelimit: a third NTS request is dropped",
				      &spec, &s, XDP_DROP_, NTP_R_DROP_RATE);
		}
		gt_rig_close(&r);
	}
	return gt_n_fail ? 1 : 0;
}
