/*
 * guard-test unit, `guard stamp on`: the egress program (guard_egress, a
 * SCHED_CLS program on a tcx link) that writes the kernel's time into the
 * transmit field of a worker's basic reply as it leaves. First through
 * BPF_PROG_TEST_RUN with the rig's test clock: a marked IPv4 and IPv6
 * reply rewritten to the exact bytes computed here (the NTP timestamp of
 * rig tai + the published tai_to_real, the mark kept, the root dispersion
 * grown or kept, the UDP checksum recomputed here over the pseudo-header
 * and checked), every frame the program must leave alone left byte for
 * byte and not counted. Then (gt_egress_wire.c) a seeded random property
 * over mutations of a valid reply, a rig without `stamp`, and the
 * kernel's own path on gt0's egress.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

#include "bpf/guard.h"
#include "proto/ntp.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"
#include "tests/bpf/gt_egress.h"

/* The one's-complement sum of N bytes at B added to SUM (RFC 1071), not folded. */
uint32_t eg_sum(const uint8_t *b, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

/* SUM folded to 16 bits. */
uint16_t eg_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Big-endian reads and writes. */
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t eg_rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

void eg_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* 1 when the UDP checksum of plain frame F (IPv6 when V6) sums right over pseudo-header + UDP. */
int eg_udp_ok(const uint8_t *f, int v6)
{
	size_t udp = EG_ETH + (v6 ? 40 : 20), ulen = (size_t)f[udp + 4] << 8 | f[udp + 5];
	uint32_t sum = v6 ? eg_sum(f + EG_ETH + 8, 32, 0) : eg_sum(f + EG_ETH + 12, 8, 0);

	sum += 17 + (uint32_t)ulen;
	return eg_fold(eg_sum(f + udp, ulen, sum)) == 0xffff;
}

/* Recompute the UDP checksum of plain frame F (as a sender without offload). */
void eg_udp_set(uint8_t *f, int v6)
{
	size_t udp = EG_ETH + (v6 ? 40 : 20), ulen = (size_t)f[udp + 4] << 8 | f[udp + 5];
	uint32_t sum = v6 ? eg_sum(f + EG_ETH + 8, 32, 0) : eg_sum(f + EG_ETH + 12, 8, 0);
	uint16_t c;

	f[udp + 6] = f[udp + 7] = 0;
	sum += 17 + (uint32_t)ulen;
	c = (uint16_t)~eg_fold(eg_sum(f + udp, ulen, sum));
	if (!c)
		c = 0xffff;
	f[udp + 6] = (uint8_t)(c >> 8);
	f[udp + 7] = (uint8_t)c;
}

/* The transmit field (host order) for the test clock at TAI: NTP of TAI - the TAI offset, marked.
 */
static uint64_t want_xmt(uint64_t tai)
{
	uint64_t real = tai - (uint64_t)TAI_OFFSET, sec = real / SEC, ns = real % SEC;
	uint64_t frac = ((ns << 32) + SEC / 2) / SEC; /* rounded to nearest, as guard_reply.h */

	return (uint64_t)(uint32_t)(sec + EG_EPOCH) << 32 | frac | 1;
}

/*
 * The root dispersion (short format, host order) SINCE ns after the
 * publication V: its ns plus the growth, rounded up, then to 1/65536 s
 * rounded up, saturated; in 128-bit arithmetic, nothing to wrap.
 */
static uint32_t want_disp(const struct guard_serve *v, uint64_t since)
{
	unsigned __int128 d = v->disp_ns;

	d += (unsigned __int128)since * v->disp_rate_s;
	d += ((unsigned __int128)since * v->disp_rate_ns + SEC - 1) / SEC;
	d = ((d << 16) + SEC - 1) / SEC;
	return d > 0xffffffffu ? 0xffffffffu : (uint32_t)d;
}

/* Run FRAME through the egress program at the rig's tai; 0 or -1; RET its retval. */
int eg_tc_run(struct gt_rig *r, const uint8_t *frame, size_t len, uint8_t *out, size_t *outlen,
	      uint32_t *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = FR_MAX + 256, .repeat = 1);

	*r->h.tai_ns = r->tai;
	*r->h.tai_step_ns = 0;
	*r->h.reason = 0xffffffffu;
	if (bpf_prog_test_run_opts(guard_egress_prog_fd(r->g), &o) < 0) {
		fprintf(stderr, "guard-test: BPF_PROG_TEST_RUN (tc): %s\n", strerror(errno));
		return -1;
	}
	*outlen = o.data_size_out;
	*ret = o.retval;
	return 0;
}

/* The stamped counter's packets and bytes; 0 or -1. */
int eg_stamped(struct gt_rig *r, uint64_t *packets, uint64_t *bytes)
{
	struct guard_stats st;

	if (gt_counters(r, &st) < 0)
		return -1;
	*packets = st.packets[GUARD_C_STAMPED];
	*bytes = st.bytes[GUARD_C_STAMPED];
	return 0;
}

/* A worker's reply to a client request from S, marked, its root dispersion DISP (0: the worker's).
 */
void eg_reply_payload(const struct clk_snapshot *s, uint8_t out[48], uint32_t disp)
{
	uint8_t req[48];

	gt_ntp_req(req, 48, 0x23);
	gt_worker_reply(s, req, PUB_REAL + 100000000, PUB_REAL + 100050000, out);
	out[47] |= NTP_XMT_REFINE;
	if (disp)
		eg_wr32(out + EG_OFF_DISP, disp);
}

/* A spec for a reply of PLEN bytes from SRC:SPORT to the client, IPv4 or IPv6 by the literal. */
void eg_reply_spec(struct fr_spec *sp, const char *src, uint16_t sport, const uint8_t *pay,
		   size_t plen)
{
	memset(sp, 0, sizeof(*sp));
	memcpy(sp->dmac, gt_mac_cli, 6);
	memcpy(sp->smac, gt_mac_srv, 6);
	if (inet_pton(AF_INET, src, sp->src) == 1) {
		sp->ethertype = 0x0800;
		inet_pton(AF_INET, EG_CLIENT4, sp->dst);
	} else {
		inet_pton(AF_INET6, src, sp->src);
		inet_pton(AF_INET6, EG_CLIENT6, sp->dst);
		sp->ethertype = 0x86DD;
		sp->v6 = 1;
	}
	sp->proto = 17;
	sp->sport = sport;
	sp->dport = EG_CPORT;
	sp->payload = pay;
	sp->plen = plen;
}

/*
 * What must come out for the plain reply IN (LEN bytes, IPv6 when V6)
 * stamped at the rig's tai: NULL when OUT is it byte for byte, else what
 * differs (in BUF).
 */
const char *eg_check_stamped(struct gt_rig *r, const uint8_t *in, size_t len, const uint8_t *out,
			     size_t outlen, int v6, char *buf, size_t blen)
{
	size_t ntp = v6 ? EG_NTP6 : EG_NTP4, csum = ntp - 2, i;
	uint32_t old = rd32(in + ntp + EG_OFF_DISP), grown, want_d;
	uint64_t xmt = want_xmt(r->tai);

	if (outlen != len)
		return snprintf(buf, blen, "%zu bytes out, want %zu", outlen, len), buf;
	for (i = 0; i < len; i++) {
		if (i >= ntp + EG_OFF_DISP && i < ntp + EG_OFF_DISP + 4)
			continue;
		if (i >= ntp + EG_OFF_XMT && i < ntp + EG_OFF_XMT + 8)
			continue;
		if (i == csum || i == csum + 1)
			continue;
		if (in[i] != out[i])
			return snprintf(buf, blen, "byte %zu changed: 0x%02x -> 0x%02x", i, in[i],
					out[i]),
			       buf;
	}
	if (eg_rd64(out + ntp + EG_OFF_XMT) != xmt)
		return snprintf(buf, blen, "transmit 0x%016llx, want 0x%016llx",
				(unsigned long long)eg_rd64(out + ntp + EG_OFF_XMT),
				(unsigned long long)xmt),
		       buf;
	grown = want_disp(&r->serve, r->tai - r->serve.pub_tai_ns);
	want_d = old < grown ? grown : old;
	if (rd32(out + ntp + EG_OFF_DISP) != want_d)
		return snprintf(buf, blen, "root dispersion 0x%08x, want 0x%08x (worker 0x%08x)",
				rd32(out + ntp + EG_OFF_DISP), want_d, old),
		       buf;
	if (!v6 && in[csum] == 0 && in[csum + 1] == 0) {
		if (out[csum] || out[csum + 1])
			return snprintf(buf, blen, "a zero UDP checksum became 0x%02x%02x",
					out[csum], out[csum + 1]),
			       buf;
	} else if (!eg_udp_ok(out, v6)) {
		return snprintf(buf, blen, "UDP checksum 0x%02x%02x is not valid", out[csum],
				out[csum + 1]),
		       buf;
	}
	return NULL;
}

/* Run the plain reply of SP; it must be stamped exactly and counted once. */
static void case_stamped(struct gt_rig *r, const char *name, const struct fr_spec *sp)
{
	uint8_t frame[FR_MAX], out[FR_MAX + 256];
	size_t len = fr_build(sp, frame), outlen;
	uint64_t p0, b0, p1, b1;
	const char *bad = NULL;
	uint32_t ret;
	char why[200];

	if (eg_stamped(r, &p0, &b0) < 0 || eg_tc_run(r, frame, len, out, &outlen, &ret) < 0 ||
	    eg_stamped(r, &p1, &b1) < 0) {
		gt_expect(0, name, "the test run or the counters failed");
		return;
	}
	if (ret != EG_TCX_NEXT)
		bad = "retval should be -1 (TCX_NEXT)";
	else if (*r->h.reason != GUARD_C_STAMPED)
		bad = "the reason should be GUARD_C_STAMPED";
	else if (p1 != p0 + 1 || b1 != b0 + len)
		bad = "counted once as tx_stamped_egress, with its bytes";
	else
		bad = eg_check_stamped(r, frame, len, out, outlen, sp->v6, why, sizeof(why));
	gt_expect(bad == NULL, name, "%s", bad ? bad : "");
}

/* Run FRAME (LEN bytes); it must come out byte for byte as it went in, not counted. */
static void case_frame_untouched(struct gt_rig *r, const char *name, const uint8_t *frame,
				 size_t len)
{
	uint8_t out[FR_MAX + 256];
	uint64_t p0, b0, p1, b1;
	size_t outlen;
	uint32_t ret;

	if (eg_stamped(r, &p0, &b0) < 0 || eg_tc_run(r, frame, len, out, &outlen, &ret) < 0 ||
	    eg_stamped(r, &p1, &b1) < 0) {
		gt_expect(0, name, "the test run or the counters failed");
		return;
	}
	gt_expect(ret == EG_TCX_NEXT && outlen == len && memcmp(out, frame, len) == 0 && p1 == p0 &&
			  b1 == b0 && *r->h.reason == 0xffffffffu,
		  name, "retval %d, %zu bytes (want %zu), %s, counted %llu, reason %u", (int)ret,
		  outlen, len, outlen == len && !memcmp(out, frame, len) ? "same" : "changed",
		  (unsigned long long)(p1 - p0), *r->h.reason);
}

/* case_frame_untouched for the frame of SP. */
void eg_case_untouched(struct gt_rig *r, const char *name, const struct fr_spec *sp)
{
	uint8_t frame[FR_MAX];
	size_t len = fr_build(sp, frame);

	case_frame_untouched(r, name, frame, len);
}

/* Parts 1 and 2: what is rewritten, exactly. */
static void egress_stamps(struct gt_rig *r)
{
	struct clk_snapshot s = gt_synced();
	uint8_t pay[48];
	struct fr_spec sp;

	gt_publish(r, &s, &pub_at);
	r->tai = PUB_TAI + 123456789;
	eg_reply_payload(&s, pay, 0);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv4 marked reply from GT_LOCAL4:123: stamped, dispersion grown",
		     &sp);
	gt_expect(rd32(pay + EG_OFF_DISP) < want_disp(&r->serve, 123456789),
		  "egress: (the case above: the worker's dispersion was the smaller)", "0x%08x",
		  rd32(pay + EG_OFF_DISP));
	eg_reply_payload(&s, pay, 0x00010000); /* 1 s: more than the state's */
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv4, the worker's larger dispersion (1 s) kept", &sp);
	eg_reply_payload(&s, pay, 0);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_B, pay, 48);
	case_stamped(r, "egress: IPv4 from GT_LOCAL4:11123 (an address's own listen line)", &sp);
	eg_reply_spec(&sp, GT_LOCAL4B, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv4 from GT_LOCAL4B:123 (the wildcard)", &sp);
	eg_reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv6 marked reply from GT_LOCAL6:123: stamped", &sp);
	eg_reply_spec(&sp, GT_LOCAL6, PORT_B, pay, 48);
	case_stamped(r, "egress: IPv6 from GT_LOCAL6:11123", &sp);
	eg_reply_payload(&s, pay, 0xffffffffu);
	eg_reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv6, the largest dispersion kept", &sp);
	eg_reply_payload(&s, pay, 0);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	sp.udp_csum = FR_CSUM_ZERO;
	case_stamped(r, "egress: IPv4 with UDP checksum 0: stamped, the checksum stays 0", &sp);
	sp.udp_csum = FR_CSUM_OK;
	/* The age limits and the rounding of the fraction. */
	r->tai = PUB_TAI;
	case_stamped(r, "egress: at the publication's instant (age 0)", &sp);
	r->tai = PUB_TAI + EG_MAX_AGE;
	case_stamped(r, "egress: exactly 2 s after the publication", &sp);
	r->tai = PUB_TAI + 999999999; /* a fraction that rounds to 2^32 - 4, not past the second */
	case_stamped(r, "egress: 999999999 ns into a second (the fraction's top)", &sp);
	r->tai = PUB_TAI + 1000000001;
	case_stamped(r, "egress: 1 ns into a second (the fraction rounds to 4)", &sp);
	{
		/* Linux sends UDP with DF set: not a fragment. */
		uint8_t frame[FR_MAX], out[FR_MAX + 256];
		size_t len = fr_build(&sp, frame), outlen;
		const char *bad = "the test run failed";
		uint32_t ret;
		char why[200];

		frame[EG_ETH + 6] |= 0x40;
		if (eg_tc_run(r, frame, len, out, &outlen, &ret) == 0)
			bad = ret != EG_TCX_NEXT ? "retval"
						 : eg_check_stamped(r, frame, len, out, outlen, 0,
								    why, sizeof(why));
		gt_expect(bad == NULL, "egress: IPv4 with DF set: stamped", "%s", bad ? bad : "");
	}
	r->tai = PUB_TAI + 123456789;
}

/* Part 3: what is left alone. */
static void egress_untouched(struct gt_rig *r)
{
	struct clk_snapshot s = gt_synced();
	uint8_t pay[80], frame[FR_MAX];
	struct fr_spec sp;
	size_t len;

	gt_publish(r, &s, &pub_at);
	r->tai = PUB_TAI + 123456789;
	eg_reply_payload(&s, pay, 0);
	pay[47] &= (uint8_t)~NTP_XMT_REFINE;
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	eg_case_untouched(r, "egress: the mark clear (an interleaved reply): untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 48);
	eg_case_untouched(r, "egress: IPv6, the mark clear: untouched", &sp);
	eg_reply_payload(&s, pay, 0);
	pay[1] = 0;
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	eg_case_untouched(r, "egress: stratum 0 (a kiss-o'-death): untouched", &sp);
	pay[1] = 16;
	eg_case_untouched(r, "egress: stratum 16: untouched", &sp);
	eg_reply_payload(&s, pay, 0);
	pay[0] = 0xe4; /* LI 3, VN 4, mode 4 */
	eg_case_untouched(r, "egress: LI 3: untouched", &sp);
	pay[0] = 0x64; /* LI 1 (a leap second announced by the reply), VN 4, mode 4 */
	eg_case_untouched(r, "egress: LI 1 in the reply: untouched", &sp);
	pay[0] = 0xa4; /* LI 2 */
	eg_case_untouched(r, "egress: LI 2 in the reply: untouched", &sp);
	pay[0] = 0x23; /* mode 3 */
	eg_case_untouched(r, "egress: mode 3: untouched", &sp);
	pay[0] = 0x25; /* mode 5 */
	eg_case_untouched(r, "egress: mode 5: untouched", &sp);
	eg_reply_payload(&s, pay, 0);
	memset(pay + 48, 0x5a, sizeof(pay) - 48);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 49);
	eg_case_untouched(r, "egress: a 49-byte payload: untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 68);
	eg_case_untouched(r, "egress: a 68-byte payload (a MAC): untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 68);
	eg_case_untouched(r, "egress: IPv6, a 68-byte payload: untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 47);
	eg_case_untouched(r, "egress: a 47-byte payload: untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL4, EG_OTHERPORT, pay, 48);
	eg_case_untouched(r, "egress: from a port not served (4123): untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL6, EG_OTHERPORT, pay, 48);
	eg_case_untouched(r, "egress: IPv6 from a port not served: untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL4B, PORT_B, pay, 48);
	eg_case_untouched(r, "egress: GT_LOCAL4B:11123 (not listened on that port): untouched",
			  &sp);
	eg_reply_spec(&sp, "2001:db8::2", PORT_B, pay, 48);
	eg_case_untouched(r, "egress: IPv6 2001:db8::2:11123 (not listened): untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	sp.optlen = 4;
	eg_case_untouched(r, "egress: IPv4 with a 4-byte option: untouched", &sp);
	sp.optlen = 0;
	sp.frag = 1;
	eg_case_untouched(r, "egress: IPv4 first fragment (MF): untouched", &sp);
	sp.frag = 2;
	eg_case_untouched(r, "egress: IPv4 later fragment: untouched", &sp);
	sp.frag = 0;
	len = fr_build(&sp, frame);
	frame[EG_ETH + 7] = 1; /* offset 8 bytes, MF clear: the last fragment, 48 bytes in */
	case_frame_untouched(r, "egress: IPv4 with a fragment offset, same length: untouched",
			     frame, len);
	sp.nvlan = 1;
	sp.tpid[0] = 0x8100;
	sp.tci[0] = 5;
	eg_case_untouched(r, "egress: a VLAN-tagged frame: untouched", &sp);
	sp.nvlan = 0;
	eg_reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 48);
	sp.n_ext = 1;
	sp.ext_type[0] = 60;
	sp.ext_len[0] = 8;
	eg_case_untouched(r, "egress: IPv6 with a destination-options header: untouched", &sp);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	len = fr_build(&sp, frame);
	frame[12] = 0x86; /* an IPv4 frame labelled IPv6 */
	frame[13] = 0xdd;
	case_frame_untouched(r, "egress: IPv4 bytes with the IPv6 ethertype: untouched", frame,
			     len);
	len = fr_build(&sp, frame);
	frame[EG_ETH + 9] = 6; /* TCP */
	case_frame_untouched(r, "egress: IPv4 protocol 6: untouched", frame, len);

	/* The serving state. */
	r->tai = PUB_TAI + EG_MAX_AGE + 1;
	eg_case_untouched(r, "egress: 2 s + 1 ns after the publication (stale): untouched", &sp);
	r->tai = PUB_TAI + 10 * SEC;
	eg_case_untouched(r, "egress: 10 s after the publication: untouched", &sp);
	r->tai = PUB_TAI - 1;
	eg_case_untouched(r, "egress: 1 ns before the publication (future): untouched", &sp);
	r->tai = PUB_TAI - 3 * SEC;
	eg_case_untouched(r, "egress: 3 s before the publication: untouched", &sp);
	r->tai = PUB_TAI + 123456789;
	s.leap = NTP_LEAP_INSERT;
	gt_publish(r, &s, &pub_at);
	eg_case_untouched(r, "egress: a leap second announced (leap 1): untouched", &sp);
	s.leap = NTP_LEAP_DELETE;
	gt_publish(r, &s, &pub_at);
	eg_case_untouched(r, "egress: leap 2 announced: untouched", &sp);
	s = gt_synced();
	s.leap = NTP_LEAP_UNSYNC;
	s.stratum = 16;
	s.flags = 0;
	gt_publish(r, &s, &pub_at);
	eg_case_untouched(r, "egress: the state unsynchronized (leap 3): untouched", &sp);
	s = gt_synced();
	gt_publish_host(r);
	eg_case_untouched(r, "egress: the serving state off: untouched", &sp);
	gt_publish(r, &s, &pub_at);
	atomic_fetch_add(&guard_state_area(r->g)->seq, 1); /* a write in progress */
	eg_case_untouched(r, "egress: the state being written (odd sequence): untouched", &sp);
	atomic_fetch_add(&guard_state_area(r->g)->seq, 1);
	case_stamped(r, "egress: the next sequence, stable: stamped again", &sp);
}

void gt_do_egress(void)
{
	struct gt_rig_conf c = {.stamp = 1};
	struct gt_rig r;

	gt_expect(strcmp(guard_counter_name(GUARD_C_STAMPED), "tx_stamped_egress") == 0,
		  "egress: the counter is named tx_stamped_egress", "named %s",
		  guard_counter_name(GUARD_C_STAMPED));
	gt_rig_open(&r, &c);
	egress_stamps(&r);
	egress_untouched(&r);
	gt_egress_property(&r);
	gt_egress_kernel(&r);
	gt_rig_close(&r);
	gt_egress_off();
}
