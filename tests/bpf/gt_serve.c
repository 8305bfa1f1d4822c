/*
 * guard-test unit, `guard serve on`: the guard answering plain client
 * requests itself. The serving state is written into the loaded
 * program's .bss the way horod's clock thread writes it, the program's
 * clock is the rig's, and every answer is compared byte for byte with
 * what a worker builds from the same state at the same instant (proto's
 * ntp_build_reply), around headers checked like a kiss-o'-death's (MACs,
 * addresses and ports swapped, VLAN tags kept, IP options and extension
 * headers removed, both checksums). Then what must still reach a worker:
 * serving off, a write in progress, a leap second announced, mode 1,
 * extension fields, MACs, NTS requests; and the order with the access
 * list and the limiter (which charges NTS requests too).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bpf/guard.h"
#include "proto/ntp.h"
#include "proto/nts.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

/* The served clock: CLOCK_MONOTONIC (the rig's now) + this = 2026-11-26 16:00 UTC. */
#define REAL_AT_ZERO 1795708800000000000LL

/* Serving state as horod's clock thread publishes it. */
struct serve_in {
	int on;
	uint32_t seq;
	uint8_t leap, stratum;
	int8_t precision;
	double root_delay, root_disp, disp_rate;
	int64_t update_ns, ref_ns;
	uint32_t refid;
};

static void publish(struct gt_rig *r, const struct serve_in *in)
{
	struct guard_serve *g = guard_serve_area(r->g);

	g->seq = in->seq;
	g->on = (uint32_t)in->on;
	g->mono_to_real_ns = REAL_AT_ZERO;
	g->update_ns = in->update_ns;
	g->disp_ns = (uint64_t)ceil(in->root_disp * 1e9);
	g->disp_rate_ppb = (uint64_t)ceil(in->disp_rate * 1e9);
	g->ref_ts = htobe64(ntp_ts_from_unix_ns(in->ref_ns));
	g->root_delay = htonl(ntp_short_from_double(in->root_delay));
	g->refid = htonl(in->refid);
	g->leap = in->leap;
	g->stratum = in->stratum;
	g->precision = in->precision;
}

/* What a worker answers to the request PAY with IN at served time NOW_NS (receive = transmit). */
static void worker_reply(const struct serve_in *in, const uint8_t *pay, int64_t now_ns,
			 uint8_t out[NTP_HEADER_LEN])
{
	struct ntp_reply_info info;
	double disp = in->root_disp;

	if (now_ns > in->update_ns)
		disp += (double)(now_ns - in->update_ns) / 1e9 * in->disp_rate;
	info.leap = in->leap;
	info.stratum = in->stratum;
	info.precision = in->precision;
	info.root_delay = ntp_short_from_double(in->root_delay);
	info.root_disp = ntp_short_from_double(disp);
	info.refid = in->refid;
	info.ref = ntp_ts_from_unix_ns(in->ref_ns);
	ntp_build_reply(pay, &info, ntp_ts_from_unix_ns(now_ns), ntp_ts_from_unix_ns(now_ns), out);
}

/* Run S: answered here (TX, reply_server_xdp, the worker's bytes), or WANT_ACTION/WANT_REASON. */
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

static void serve_case(struct gt_rig *r, const char *name, const struct fr_spec *s,
		       const struct serve_in *in, int want_action, uint32_t want_reason)
{
	uint8_t frame[FR_MAX], out[FR_MAX + 256], want[NTP_HEADER_LEN];
	struct fr_parsed p;
	size_t len = fr_build(s, frame), outlen;
	int action, ref_action;
	const char *why;

	publish(r, in);
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
	gt_reference(r, frame, len, &p, &ref_action);
	if (want_action == XDP_PASS_) {
		gt_expect(outlen == len && memcmp(out, frame, len) == 0, name,
			  "the frame should reach the worker untouched");
		return;
	}
	if (want_action == XDP_TX_ && want_reason == NTP_R_REPLY_KOD_RATE) {
		why = fr_check_kod(frame, &p, out, outlen, "RATE");
		gt_expect(why == NULL, name, "%s", why ? why : "");
		return;
	}
	if (want_action != XDP_TX_ || want_reason != GUARD_C_SERVED) {
		gt_expect(1, name, "%s", ""); /* a drop: the action and reason are all there is */
		return;
	}
	worker_reply(in, p.payload, REAL_AT_ZERO + (int64_t)r->now, want);
	why = fr_check_reply(frame, &p, out, outlen, want);
	gt_expect(why == NULL, name, "%s", why ? why : "");
}

int gt_do_serve(void)
{
	struct gt_rig_conf c = {.deny = {"192.0.2.66"}, .serve = 1};
	struct serve_in in = {.on = 1,
			      .stratum = 2,
			      .precision = -25,
			      .root_delay = 0.000512,
			      .root_disp = 0.001,
			      .disp_rate = 15e-6,
			      .refid = 0x7f000002,
			      .update_ns = REAL_AT_ZERO + 1000 * (int64_t)SEC,
			      .ref_ns = REAL_AT_ZERO + 990 * (int64_t)SEC};
	uint8_t pay[128];
	struct fr_spec s;
	struct gt_rig r;
	int k, ok;

	gt_rig_open(&r, &c);
	r.now = 1000 * SEC + 123456789; /* 0.12 s after the update */
	gt_ntp_req(pay, 48, 0x23);	/* VN 4, mode 3 */
	gt_spec_udp(&s, "192.0.2.20", pay, 48);
	serve_case(&r, "serve: an IPv4 client request is answered here", &s, &in, XDP_TX_,
		   GUARD_C_SERVED);
	r.now += 100 * SEC; /* root dispersion grown by 100 s * 15 ppm */
	serve_case(&r, "serve: the root dispersion grows as the worker's", &s, &in, XDP_TX_,
		   GUARD_C_SERVED);
	gt_spec_udp(&s, "2001:db8::20", pay, 48);
	serve_case(&r, "serve: an IPv6 client request (UDP checksum over IPv6)", &s, &in, XDP_TX_,
		   GUARD_C_SERVED);
	gt_spec_udp(&s, "192.0.2.20", pay, 48);
	s.nvlan = 2;
	s.tpid[0] = 0x88A8;
	s.tpid[1] = 0x8100;
	s.tci[1] = 7;
	serve_case(&r, "serve: VLAN tags are kept", &s, &in, XDP_TX_, GUARD_C_SERVED);
	gt_spec_udp(&s, "192.0.2.20", pay, 48);
	s.optlen = 12;
	serve_case(&r, "serve: IPv4 options are removed", &s, &in, XDP_TX_, GUARD_C_SERVED);
	gt_spec_udp(&s, "2001:db8::20", pay, 48);
	s.n_ext = 1;
	s.ext_type[0] = 60;
	s.ext_len[0] = 16;
	serve_case(&r, "serve: IPv6 extension headers are removed", &s, &in, XDP_TX_,
		   GUARD_C_SERVED);
	pay[0] = 0x0b; /* VN 1 */
	pay[2] = 20;   /* poll beyond 17: echoed as 17 */
	gt_spec_udp(&s, "192.0.2.20", pay, 48);
	serve_case(&r, "serve: VN 1 echoed, poll 20 clamped to 17", &s, &in, XDP_TX_,
		   GUARD_C_SERVED);
	pay[0] = 0x23;
	pay[2] = 0xfd; /* poll -3: echoed as 0 */
	serve_case(&r, "serve: a negative poll is echoed as 0", &s, &in, XDP_TX_, GUARD_C_SERVED);
	pay[2] = 6;
	in.leap = 3;
	in.stratum = 16;
	serve_case(&r, "serve: unsynchronized: LI 3, stratum 0, as a worker answers", &s, &in,
		   XDP_TX_, GUARD_C_SERVED);
	in.leap = 0;
	in.stratum = 2;
	in.root_disp = NAN;
	serve_case(&r, "serve: an unknown root dispersion is the largest one", &s, &in, XDP_TX_,
		   GUARD_C_SERVED);
	in.root_disp = 0.001;

	/* What a worker must answer. */
	in.leap = 1;
	serve_case(&r, "serve: a leap second announced: passed to a worker", &s, &in, XDP_PASS_,
		   NTP_R_REPLY_SERVER);
	in.leap = 0;
	in.on = 0;
	serve_case(&r, "serve: state off (a correction of horod's own): passed", &s, &in, XDP_PASS_,
		   NTP_R_REPLY_SERVER);
	in.on = 1;
	in.seq = 7;
	serve_case(&r, "serve: the state being written (odd sequence): passed", &s, &in, XDP_PASS_,
		   NTP_R_REPLY_SERVER);
	in.seq = 8;
	serve_case(&r, "serve: the next sequence number, stable: answered", &s, &in, XDP_TX_,
		   GUARD_C_SERVED);
	gt_ntp_req(pay, 48, 0x21); /* mode 1 */
	gt_spec_udp(&s, "192.0.2.20", pay, 48);
	serve_case(&r, "serve: mode 1 (symmetric) goes to a worker", &s, &in, XDP_PASS_,
		   NTP_R_REPLY_SYMMETRIC);
	gt_ntp_req(pay, 68, 0x23); /* a 20-byte MAC: key ID + MD5 */
	gt_spec_udp(&s, "192.0.2.20", pay, 68);
	serve_case(&r, "serve: a request with a MAC goes to a worker", &s, &in, XDP_PASS_,
		   NTP_R_REPLY_SERVER);
	{
		static uint8_t nts[1100];
		size_t n = nts_req(nts, sizeof(nts), 7);

		gt_spec_udp(&s, "192.0.2.20", nts, n);
		serve_case(&r, "serve: an NTS request (988 bytes, 7 placeholders) goes to a worker",
			   &s, &in, XDP_PASS_, NTP_R_REPLY_SERVER);
		n = nts_req(nts, sizeof(nts), 0);
		gt_spec_udp(&s, "2001:db8::20", nts, n);
		serve_case(&r, "serve: an NTS request over IPv6 goes to a worker", &s, &in,
			   XDP_PASS_, NTP_R_REPLY_SERVER);
	}
	gt_ntp_req(pay, 48, 0x23);
	gt_spec_udp(&s, "192.0.2.66", pay, 48);
	serve_case(&r, "serve: a denied source is still dropped", &s, &in, XDP_DROP_,
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
		gt_spec_udp(&s, "192.0.2.21", pay, 48);
		serve_case(&r, "serve + ratelimit: the first request is answered here", &s, &in,
			   XDP_TX_, GUARD_C_SERVED);
		serve_case(&r, "serve + ratelimit: the second gets a RATE kiss-o'-death", &s, &in,
			   XDP_TX_, NTP_R_REPLY_KOD_RATE);
		{
			/* NTS requests are charged like the others: the limit applies to them. */
			static uint8_t nts[1100];
			size_t n = nts_req(nts, sizeof(nts), 3);

			gt_spec_udp(&s, "192.0.2.22", nts, n);
			serve_case(&r, "serve + ratelimit: a first NTS request goes to a worker",
				   &s, &in, XDP_PASS_, NTP_R_REPLY_SERVER);
			serve_case(&r, "serve + ratelimit: a second NTS request gets the RATE KoD",
				   &s, &in, XDP_TX_, NTP_R_REPLY_KOD_RATE);
			serve_case(&r, "serve + ratelimit: a third NTS request is dropped", &s, &in,
				   XDP_DROP_, NTP_R_DROP_RATE);
		}
		gt_rig_close(&r);
	}
	return gt_n_fail ? 1 : 0;
}
