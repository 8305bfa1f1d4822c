/*
 * guard-test unit, `guard stamp on`: the egress program (guard_egress, a
 * SCHED_CLS program on a tcx link) that writes the kernel's time into the
 * transmit field of a worker's basic reply as it leaves. First through
 * BPF_PROG_TEST_RUN with the rig's test clock: a marked IPv4 and IPv6
 * reply rewritten to the exact bytes computed here (the NTP timestamp of
 * rig tai + the published tai_to_real, the mark kept, the root dispersion
 * grown or kept, the UDP checksum recomputed here over the pseudo-header
 * and checked), every frame the program must leave alone left byte for
 * byte and not counted, then a seeded random property over mutations of
 * a valid reply against this file's own reading of the conditions. Last,
 * the kernel's own path: the program attached to gt0's egress, replies
 * sent from a UDP socket, captured on the veth's peer with an AF_PACKET
 * socket, with the UDP checksum offloaded (CHECKSUM_PARTIAL) and computed
 * in software (offload off: the program must fix it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/guard.h"
#include "proto/ntp.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

#define EG_ETH	     14 /* bytes: an untagged Ethernet header */
#define EG_NTP4	     42 /* offset of the NTP header in a plain IPv4 reply (14 + 20 + 8) */
#define EG_NTP6	     62 /* ... in a plain IPv6 reply (14 + 40 + 8) */
#define EG_OFF_DISP  8	/* NTP header: the root dispersion (short format) */
#define EG_OFF_XMT   40 /* NTP header: the transmit timestamp */
#define EG_EPOCH     2208988800ULL /* s from 1900 (NTP) to 1970 (Unix) */
#define EG_MAX_AGE   (2 * SEC)	   /* ns: the freshest publication's age limit (2 s) */
#define EG_TCX_NEXT  0xffffffffu   /* the program's retval: -1 (TCX_NEXT) */
#define EG_CLIENT4   "192.0.2.20"  /* the reply's destination */
#define EG_CLIENT6   "2001:db8::20"
#define EG_CPORT     40000 /* the client's port */
#define EG_OTHERPORT 4123  /* a port horod does not serve */
#define EG_MUTATIONS 2000  /* frames in the random property */
#define EG_WAIT_MS   2000  /* ms: the longest wait for a captured frame */

static const struct guard_clocks pub_at = {.tai_ns = PUB_TAI, .real_ns = PUB_REAL};

/* The one's-complement sum of N bytes at B added to SUM (RFC 1071), not folded. */
static uint32_t eg_sum(const uint8_t *b, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

/* SUM folded to 16 bits. */
static uint16_t eg_fold(uint32_t sum)
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

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* 1 when the UDP checksum of plain frame F (IPv6 when V6) sums right over pseudo-header + UDP. */
static int eg_udp_ok(const uint8_t *f, int v6)
{
	size_t udp = EG_ETH + (v6 ? 40 : 20), ulen = (size_t)f[udp + 4] << 8 | f[udp + 5];
	uint32_t sum = v6 ? eg_sum(f + EG_ETH + 8, 32, 0) : eg_sum(f + EG_ETH + 12, 8, 0);

	sum += 17 + (uint32_t)ulen;
	return eg_fold(eg_sum(f + udp, ulen, sum)) == 0xffff;
}

/* Recompute the UDP checksum of plain frame F (as a sender without offload). */
static void eg_udp_set(uint8_t *f, int v6)
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
static int tc_run(struct gt_rig *r, const uint8_t *frame, size_t len, uint8_t *out, size_t *outlen,
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
static int stamped(struct gt_rig *r, uint64_t *packets, uint64_t *bytes)
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
static void reply_payload(const struct clk_snapshot *s, uint8_t out[48], uint32_t disp)
{
	uint8_t req[48];

	gt_ntp_req(req, 48, 0x23);
	gt_worker_reply(s, req, PUB_REAL + 100000000, PUB_REAL + 100050000, out);
	out[47] |= NTP_XMT_REFINE;
	if (disp)
		wr32(out + EG_OFF_DISP, disp);
}

/* A spec for a reply of PLEN bytes from SRC:SPORT to the client, IPv4 or IPv6 by the literal. */
static void reply_spec(struct fr_spec *sp, const char *src, uint16_t sport, const uint8_t *pay,
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
static const char *check_stamped(struct gt_rig *r, const uint8_t *in, size_t len,
				 const uint8_t *out, size_t outlen, int v6, char *buf, size_t blen)
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
	if (rd64(out + ntp + EG_OFF_XMT) != xmt)
		return snprintf(buf, blen, "transmit 0x%016llx, want 0x%016llx",
				(unsigned long long)rd64(out + ntp + EG_OFF_XMT),
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

	if (stamped(r, &p0, &b0) < 0 || tc_run(r, frame, len, out, &outlen, &ret) < 0 ||
	    stamped(r, &p1, &b1) < 0) {
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
		bad = check_stamped(r, frame, len, out, outlen, sp->v6, why, sizeof(why));
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

	if (stamped(r, &p0, &b0) < 0 || tc_run(r, frame, len, out, &outlen, &ret) < 0 ||
	    stamped(r, &p1, &b1) < 0) {
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
static void case_untouched(struct gt_rig *r, const char *name, const struct fr_spec *sp)
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
	reply_payload(&s, pay, 0);
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv4 marked reply from GT_LOCAL4:123: stamped, dispersion grown",
		     &sp);
	gt_expect(rd32(pay + EG_OFF_DISP) < want_disp(&r->serve, 123456789),
		  "egress: (the case above: the worker's dispersion was the smaller)", "0x%08x",
		  rd32(pay + EG_OFF_DISP));
	reply_payload(&s, pay, 0x00010000); /* 1 s: more than the state's */
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv4, the worker's larger dispersion (1 s) kept", &sp);
	reply_payload(&s, pay, 0);
	reply_spec(&sp, GT_LOCAL4, PORT_B, pay, 48);
	case_stamped(r, "egress: IPv4 from GT_LOCAL4:11123 (an address's own listen line)", &sp);
	reply_spec(&sp, GT_LOCAL4B, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv4 from GT_LOCAL4B:123 (the wildcard)", &sp);
	reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv6 marked reply from GT_LOCAL6:123: stamped", &sp);
	reply_spec(&sp, GT_LOCAL6, PORT_B, pay, 48);
	case_stamped(r, "egress: IPv6 from GT_LOCAL6:11123", &sp);
	reply_payload(&s, pay, 0xffffffffu);
	reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 48);
	case_stamped(r, "egress: IPv6, the largest dispersion kept", &sp);
	reply_payload(&s, pay, 0);
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
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
		if (tc_run(r, frame, len, out, &outlen, &ret) == 0)
			bad = ret != EG_TCX_NEXT ? "retval"
						 : check_stamped(r, frame, len, out, outlen, 0, why,
								 sizeof(why));
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
	reply_payload(&s, pay, 0);
	pay[47] &= (uint8_t)~NTP_XMT_REFINE;
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	case_untouched(r, "egress: the mark clear (an interleaved reply): untouched", &sp);
	reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 48);
	case_untouched(r, "egress: IPv6, the mark clear: untouched", &sp);
	reply_payload(&s, pay, 0);
	pay[1] = 0;
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	case_untouched(r, "egress: stratum 0 (a kiss-o'-death): untouched", &sp);
	pay[1] = 16;
	case_untouched(r, "egress: stratum 16: untouched", &sp);
	reply_payload(&s, pay, 0);
	pay[0] = 0xe4; /* LI 3, VN 4, mode 4 */
	case_untouched(r, "egress: LI 3: untouched", &sp);
	pay[0] = 0x64; /* LI 1 (a leap second announced by the reply), VN 4, mode 4 */
	case_untouched(r, "egress: LI 1 in the reply: untouched", &sp);
	pay[0] = 0xa4; /* LI 2 */
	case_untouched(r, "egress: LI 2 in the reply: untouched", &sp);
	pay[0] = 0x23; /* mode 3 */
	case_untouched(r, "egress: mode 3: untouched", &sp);
	pay[0] = 0x25; /* mode 5 */
	case_untouched(r, "egress: mode 5: untouched", &sp);
	reply_payload(&s, pay, 0);
	memset(pay + 48, 0x5a, sizeof(pay) - 48);
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 49);
	case_untouched(r, "egress: a 49-byte payload: untouched", &sp);
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 68);
	case_untouched(r, "egress: a 68-byte payload (a MAC): untouched", &sp);
	reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 68);
	case_untouched(r, "egress: IPv6, a 68-byte payload: untouched", &sp);
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 47);
	case_untouched(r, "egress: a 47-byte payload: untouched", &sp);
	reply_spec(&sp, GT_LOCAL4, EG_OTHERPORT, pay, 48);
	case_untouched(r, "egress: from a port not served (4123): untouched", &sp);
	reply_spec(&sp, GT_LOCAL6, EG_OTHERPORT, pay, 48);
	case_untouched(r, "egress: IPv6 from a port not served: untouched", &sp);
	reply_spec(&sp, GT_LOCAL4B, PORT_B, pay, 48);
	case_untouched(r, "egress: GT_LOCAL4B:11123 (not listened on that port): untouched", &sp);
	reply_spec(&sp, "2001:db8::2", PORT_B, pay, 48);
	case_untouched(r, "egress: IPv6 2001:db8::2:11123 (not listened): untouched", &sp);
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	sp.optlen = 4;
	case_untouched(r, "egress: IPv4 with a 4-byte option: untouched", &sp);
	sp.optlen = 0;
	sp.frag = 1;
	case_untouched(r, "egress: IPv4 first fragment (MF): untouched", &sp);
	sp.frag = 2;
	case_untouched(r, "egress: IPv4 later fragment: untouched", &sp);
	sp.frag = 0;
	len = fr_build(&sp, frame);
	frame[EG_ETH + 7] = 1; /* offset 8 bytes, MF clear: the last fragment, 48 bytes in */
	case_frame_untouched(r, "egress: IPv4 with a fragment offset, same length: untouched",
			     frame, len);
	sp.nvlan = 1;
	sp.tpid[0] = 0x8100;
	sp.tci[0] = 5;
	case_untouched(r, "egress: a VLAN-tagged frame: untouched", &sp);
	sp.nvlan = 0;
	reply_spec(&sp, GT_LOCAL6, PORT_A, pay, 48);
	sp.n_ext = 1;
	sp.ext_type[0] = 60;
	sp.ext_len[0] = 8;
	case_untouched(r, "egress: IPv6 with a destination-options header: untouched", &sp);
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
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
	case_untouched(r, "egress: 2 s + 1 ns after the publication (stale): untouched", &sp);
	r->tai = PUB_TAI + 10 * SEC;
	case_untouched(r, "egress: 10 s after the publication: untouched", &sp);
	r->tai = PUB_TAI - 1;
	case_untouched(r, "egress: 1 ns before the publication (future): untouched", &sp);
	r->tai = PUB_TAI - 3 * SEC;
	case_untouched(r, "egress: 3 s before the publication: untouched", &sp);
	r->tai = PUB_TAI + 123456789;
	s.leap = NTP_LEAP_INSERT;
	gt_publish(r, &s, &pub_at);
	case_untouched(r, "egress: a leap second announced (leap 1): untouched", &sp);
	s.leap = NTP_LEAP_DELETE;
	gt_publish(r, &s, &pub_at);
	case_untouched(r, "egress: leap 2 announced: untouched", &sp);
	s = gt_synced();
	s.leap = NTP_LEAP_UNSYNC;
	s.stratum = 16;
	s.flags = 0;
	gt_publish(r, &s, &pub_at);
	case_untouched(r, "egress: the state unsynchronized (leap 3): untouched", &sp);
	s = gt_synced();
	gt_publish_host(r);
	case_untouched(r, "egress: the serving state off: untouched", &sp);
	gt_publish(r, &s, &pub_at);
	atomic_fetch_add(&guard_state_area(r->g)->seq, 1); /* a write in progress */
	case_untouched(r, "egress: the state being written (odd sequence): untouched", &sp);
	atomic_fetch_add(&guard_state_area(r->g)->seq, 1);
	case_stamped(r, "egress: the next sequence, stable: stamped again", &sp);
}

/* xorshift64*: the property's generator. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1DULL;
}

/* The state a mutation runs under. */
struct eg_state {
	int odd; /* the sequence odd */
	int on;
	int leap;
	int64_t age; /* ns: rig tai - publication */
};

/*
 * This file's own reading of every condition (guard_egress.h's top
 * comment and the brief): 1 when the frame F of LEN bytes must be stamped
 * under ST.
 */
static int should_stamp(const uint8_t *f, size_t len, const struct eg_state *st)
{
	static const uint8_t local4[4] = {192, 0, 2, 1};
	static const uint8_t local6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	int v6, port;
	size_t udp;
	const uint8_t *ntp;

	if (st->odd || !st->on || st->leap != NTP_LEAP_NONE || st->age < 0 ||
	    st->age > (int64_t)EG_MAX_AGE)
		return 0;
	if (len == 90 && f[12] == 0x08 && f[13] == 0x00) {
		if (f[14] != 0x45 || f[23] != 17 || (f[16] << 8 | f[17]) != 76 ||
		    ((f[20] << 8 | f[21]) & 0x3fff))
			return 0;
		v6 = 0;
	} else if (len == 110 && f[12] == 0x86 && f[13] == 0xdd) {
		if ((f[14] >> 4) != 6 || f[20] != 17 || (f[18] << 8 | f[19]) != 56)
			return 0;
		v6 = 1;
	} else {
		return 0;
	}
	udp = EG_ETH + (v6 ? 40 : 20);
	if ((f[udp + 4] << 8 | f[udp + 5]) != 56)
		return 0;
	port = f[udp] << 8 | f[udp + 1];
	if (port == PORT_B) {
		if (v6 ? memcmp(f + EG_ETH + 8, local6, 16) : memcmp(f + EG_ETH + 12, local4, 4))
			return 0;
	} else if (port != PORT_A) {
		return 0;
	}
	ntp = f + udp + 8;
	return (ntp[0] & 7) == 4 && ntp[1] >= 1 && ntp[1] <= 15 && (ntp[0] >> 6) == 0 &&
	       (ntp[47] & 1);
}

/* One random mutation of the reply frame F (LEN bytes, up to CAP) from X. */
static void mutate(uint8_t *f, size_t *len, size_t cap, uint64_t *x)
{
	static const uint16_t ports[] = {PORT_A, PORT_B, EG_OTHERPORT, 0};
	size_t ntp = f[12] == 0x86 ? EG_NTP6 : EG_NTP4, udp = ntp - 8;
	uint64_t v = rnd(x);

	switch (v % 12) {
	case 0: /* any byte, any value */
		f[(v >> 8) % *len] = (uint8_t)(v >> 32);
		break;
	case 1: /* the mark */
		f[ntp + 47] ^= 1;
		break;
	case 2: /* LI, VN, mode */
		f[ntp] = (uint8_t)(v >> 8);
		break;
	case 3: /* stratum: the edges */
		f[ntp + 1] = (uint8_t[]){0, 1, 2, 15, 16, 255}[(v >> 8) % 6];
		break;
	case 4: /* the source port */
		f[udp] = (uint8_t)(ports[(v >> 8) % 4] >> 8);
		f[udp + 1] = (uint8_t)ports[(v >> 8) % 4];
		break;
	case 5: /* the source address: the last byte 1 (local), 2, or anything */
		f[udp - (f[12] == 0x86 ? 40 : 20) + (f[12] == 0x86 ? 23 : 15)] =
			(uint8_t)((v >> 8) % 3 == 2 ? v >> 16 : 1 + (v >> 8) % 3);
		break;
	case 6: /* the length: longer or shorter, the headers as they were */
		if ((v >> 8) & 1) {
			size_t add = 1 + (v >> 16) % 24;

			if (*len + add <= cap) {
				memset(f + *len, (int)(v >> 24), add);
				*len += add;
			}
		} else {
			*len -= 1 + (v >> 16) % 20;
		}
		break;
	case 7: /* the UDP length */
		f[udp + 5] = (uint8_t)(f[udp + 5] + (int)((v >> 8) % 5) - 2);
		break;
	case 8: /* the IP header: version/IHL, protocol, fragment field, length */
		if (f[12] == 0x86) {
			f[14 + ((v >> 8) % 2 ? 6 : 0)] ^= (uint8_t)(1 << ((v >> 16) % 8));
		} else {
			static const size_t at[] = {14, 23, 20, 21, 17};

			f[at[(v >> 8) % 5]] ^= (uint8_t)(1 << ((v >> 16) % 8));
		}
		break;
	case 9: /* the ethertype */
		f[12] = (uint8_t[]){0x08, 0x86, 0x81, 0x88}[(v >> 8) % 4];
		f[13] = (uint8_t[]){0x00, 0xdd, 0x00, 0xa8}[(v >> 16) % 4];
		break;
	default: /* the transmit field and the dispersion: anything */
		wr32(f + ntp + EG_OFF_DISP + 32 * ((v >> 8) & 1), (uint32_t)(v >> 32));
		break;
	}
}

/* Part 4: the random property over mutations of valid replies. */
static void egress_property(struct gt_rig *r)
{
	struct clk_snapshot s = gt_synced();
	uint64_t seed, x, p0, b0, p1, b1;
	unsigned long i, n_stamped = 0, bad_n = 0;
	char first[300] = "", why[200];
	const char *env = getenv("GT_EGRESS_SEED");

	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	printf("guard-test: egress property: seed %llu (GT_EGRESS_SEED=%llu to repeat)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	x = seed ? seed : 1;
	for (i = 0; i < EG_MUTATIONS; i++) {
		uint8_t pay[48], frame[FR_MAX], out[FR_MAX + 256];
		struct eg_state st = {.on = 1, .leap = NTP_LEAP_NONE};
		struct fr_spec sp;
		size_t len, outlen, ntp, csum, k;
		int v6 = rnd(&x) & 1, m, want, same, only;
		uint32_t ret;
		uint64_t v = rnd(&x);
		const char *bad = NULL;

		/* The state: mostly fresh and on. */
		st.age = (int64_t)(v % (3 * SEC)) - (int64_t)(SEC / 2);
		if ((v >> 40) % 16 == 0)
			st.odd = 1;
		if ((v >> 44) % 16 == 0)
			st.on = 0;
		if ((v >> 48) % 16 == 0)
			st.leap = 1 + (int)((v >> 52) % 3);
		s = gt_synced();
		s.leap = st.leap;
		if (st.leap == NTP_LEAP_UNSYNC) {
			s.stratum = 16;
			s.flags = 0;
		}
		if (st.on)
			gt_publish(r, &s, &pub_at);
		else
			gt_publish_host(r);
		if (st.odd)
			atomic_fetch_add(&guard_state_area(r->g)->seq, 1);
		r->tai = (uint64_t)((int64_t)PUB_TAI + st.age);

		reply_payload(&s, pay, 0);
		reply_spec(&sp, v6 ? GT_LOCAL6 : GT_LOCAL4, (v >> 56) & 1 ? PORT_B : PORT_A, pay,
			   48);
		if (!v6 && (v >> 57) % 8 == 0)
			sp.udp_csum = FR_CSUM_ZERO;
		len = fr_build(&sp, frame);
		for (m = 1 + (int)(rnd(&x) % 3); m > 0; m--)
			mutate(frame, &len, sizeof(frame), &x);
		/* A sender's checksum over what it sends, at the layout it built. */
		if (sp.udp_csum != FR_CSUM_ZERO && len >= (v6 ? 110u : 90u) &&
		    (size_t)(frame[(v6 ? 54 : 34) + 4] << 8 | frame[(v6 ? 54 : 34) + 5]) <=
			    len - (v6 ? 54 : 34))
			eg_udp_set(frame, v6);
		else if (sp.udp_csum == FR_CSUM_ZERO && len >= 42)
			frame[40] = frame[41] = 0; /* a sender's "none" stays none */
		want = should_stamp(frame, len, &st);
		if (stamped(r, &p0, &b0) < 0 || tc_run(r, frame, len, out, &outlen, &ret) < 0 ||
		    stamped(r, &p1, &b1) < 0) {
			bad = "the test run or the counters failed";
		} else {
			same = outlen == len && memcmp(out, frame, len) == 0;
			ntp = v6 ? EG_NTP6 : EG_NTP4;
			csum = ntp - 2;
			only = outlen == len;
			for (k = 0; only && k < len; k++)
				if (out[k] != frame[k] && !(k >= ntp + 8 && k < ntp + 12) &&
				    !(k >= ntp + 40 && k < ntp + 48) && k != csum && k != csum + 1)
					only = 0;
			if (ret != EG_TCX_NEXT)
				bad = "retval not -1";
			else if (same && want)
				bad = "left alone, but every condition was met";
			else if (same && (p1 != p0 || *r->h.reason != 0xffffffffu))
				bad = "left alone but counted";
			else if (!same && !only)
				bad = "changed outside the transmit, dispersion and checksum "
				      "fields";
			else if (!same && !want)
				bad = "stamped, but a condition was not met";
			else if (!same && (p1 != p0 + 1 || b1 != b0 + len))
				bad = "stamped but not counted once";
			else if (!same)
				bad = check_stamped(r, frame, len, out, outlen, v6, why,
						    sizeof(why));
		}
		if (st.odd)
			atomic_fetch_add(&guard_state_area(r->g)->seq, 1);
		n_stamped += want;
		if (bad && bad_n++ == 0) {
			snprintf(first, sizeof(first), "mutation %lu (%s, %zu bytes): %s", i,
				 v6 ? "IPv6" : "IPv4", len, bad);
			for (k = 0; k < len && k < 110; k++)
				printf("%02x%s", frame[k], k % 32 == 31 ? "\n" : "");
			printf("\n");
		}
	}
	gt_expect(bad_n == 0, "egress: 2000 random mutations: identical, or stamped as required",
		  "%lu bad, the first: %s (seed %llu)", bad_n, first, (unsigned long long)seed);
	/* The property must have seen both outcomes in numbers. */
	gt_expect(n_stamped >= EG_MUTATIONS / 20 && n_stamped <= EG_MUTATIONS - EG_MUTATIONS / 20,
		  "egress: the mutations stamped some and left some", "%lu of %d stamped",
		  n_stamped, EG_MUTATIONS);
	r->tai = PUB_TAI + 123456789;
}

/* Part 3's last case: a rig without `stamp` leaves a stampable reply alone. */
static void egress_off(void)
{
	struct gt_rig_conf c = {.serve = 1};
	struct clk_snapshot s = gt_synced();
	uint8_t pay[48];
	struct fr_spec sp;
	struct gt_rig r;

	gt_rig_open(&r, &c);
	gt_publish(&r, &s, &pub_at);
	r.tai = PUB_TAI + 123456789;
	reply_payload(&s, pay, 0);
	reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	case_untouched(&r, "egress: a rig without `stamp` (no GUARD_F_STAMP): untouched", &sp);
	gt_rig_close(&r);
}

/* ---- Part 5: the kernel's own path on gt0 ---- */

/*
 * Send a 48-byte reply PAY from GT_LOCAL4 (GT_LOCAL6 when V6):PORT_A to
 * the client through gt0, and capture it on gt1 into F (its length, 0 if
 * none came within EG_WAIT_MS); PARTIAL set when the kernel left its
 * checksum to the NIC.
 */
static size_t send_capture(const uint8_t *pay, int v6, uint8_t *f, size_t cap, int *partial)
{
	struct sockaddr_in6 src6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT_A)};
	struct sockaddr_in6 dst6 = {.sin6_family = AF_INET6, .sin6_port = htons(EG_CPORT)};
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(PORT_A)};
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(EG_CPORT)};
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct sockaddr *sa = v6 ? (struct sockaddr *)&src6 : (struct sockaddr *)&src;
	struct sockaddr *da = v6 ? (struct sockaddr *)&dst6 : (struct sockaddr *)&dst;
	socklen_t sl = v6 ? sizeof(src6) : sizeof(src);
	size_t want = v6 ? 110 : 90, udp = v6 ? 54 : 34, got = 0;
	struct timespec t0, t;
	int us = -1, cap_fd = -1, one = 1, ms;

	*partial = 0;
	inet_pton(AF_INET, GT_LOCAL4, &src.sin_addr);
	inet_pton(AF_INET, EG_CLIENT4, &dst.sin_addr);
	inet_pton(AF_INET6, GT_LOCAL6, &src6.sin6_addr);
	inet_pton(AF_INET6, EG_CLIENT6, &dst6.sin6_addr);
	ll.sll_ifindex = (int)if_nametoindex("gt1");
	cap_fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	us = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (cap_fd < 0 || us < 0 || !ll.sll_ifindex ||
	    bind(cap_fd, (struct sockaddr *)&ll, sizeof(ll)) < 0 ||
	    setsockopt(cap_fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    setsockopt(us, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(us, sa, sl) < 0 || sendto(us, pay, 48, 0, da, sl) != 48) {
		fprintf(stderr, "guard-test: egress send/capture: %s\n", strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		uint8_t ctl[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		struct iovec iov = {.iov_base = f, .iov_len = cap};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl)};
		struct pollfd pfd = {.fd = cap_fd, .events = POLLIN};
		struct cmsghdr *cm;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = EG_WAIT_MS -
		     (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (ms <= 0 || poll(&pfd, 1, ms) <= 0)
			break;
		n = recvmsg(cap_fd, &mh, MSG_DONTWAIT);
		/* Ours: UDP from PORT_A to the client's port (gt0 sends other things too). */
		if (n != (ssize_t)want || f[12] != (v6 ? 0x86 : 0x08) ||
		    f[13] != (v6 ? 0xdd : 0x00) || f[v6 ? 20 : 23] != 17 ||
		    (f[udp] << 8 | f[udp + 1]) != PORT_A ||
		    (f[udp + 2] << 8 | f[udp + 3]) != EG_CPORT)
			continue;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA) {
				struct tpacket_auxdata a;

				memcpy(&a, CMSG_DATA(cm), sizeof(a));
				*partial = !!(a.tp_status & TP_STATUS_CSUMNOTREADY);
			}
		got = (size_t)n;
		break;
	}
out:
	if (us >= 0)
		close(us);
	if (cap_fd >= 0)
		close(cap_fd);
	return got;
}

/*
 * Complete a checksum the kernel left to the NIC (CHECKSUM_PARTIAL) in
 * plain frame F, as the NIC would: the sum from the UDP header on, the
 * field holding the pseudo-header's.
 */
static void complete_partial(uint8_t *f, int v6)
{
	size_t udp = v6 ? 54 : 34;
	uint16_t c = (uint16_t)~eg_fold(eg_sum(f + udp, 56, 0));

	f[udp + 6] = (uint8_t)(c >> 8);
	f[udp + 7] = (uint8_t)c;
}

/* One marked and one unmarked reply through gt0 (IPv6 when V6), the offload as WHAT says. */
static void egress_kernel_case(struct gt_rig *r, const char *what, int v6, int want_partial)
{
	struct clk_snapshot s = gt_synced();
	uint8_t pay[48], f[2048];
	uint64_t p0 = 0, b0 = 0, p1 = 0, b1 = 0;
	size_t n, len = v6 ? 110 : 90, ntp = v6 ? EG_NTP6 : EG_NTP4;
	const char *fam = v6 ? "IPv6" : "IPv4";
	char name[200], why[200];
	int partial;

	gt_publish(r, &s, &pub_at);
	r->tai = PUB_TAI + 234567891;
	*r->h.tai_ns = r->tai;
	*r->h.tai_step_ns = 0;
	*r->h.reason = 0xffffffffu;
	reply_payload(&s, pay, 0);
	stamped(r, &p0, &b0);
	n = send_capture(pay, v6, f, sizeof(f), &partial);
	stamped(r, &p1, &b1);
	snprintf(name, sizeof(name), "egress, kernel path (%s, %s): a marked reply arrives", fam,
		 what);
	if (!gt_expect(n == len, name, "nothing captured on gt1 within %d ms", EG_WAIT_MS))
		return;
	snprintf(name, sizeof(name), "egress, kernel path (%s, %s): the checksum %s", fam, what,
		 want_partial ? "left to the NIC (CHECKSUM_PARTIAL)" : "computed by the kernel");
	gt_expect(partial == want_partial, name, "partial %d", partial);
	if (partial)
		complete_partial(f, v6);
	{
		/* What the worker sent, as the frame the kernel built around it. */
		uint8_t in[110];
		const char *bad;

		memcpy(in, f, len);
		memcpy(in + ntp, pay, 48);
		snprintf(name, sizeof(name),
			 "egress, kernel path (%s, %s): transmit exact, dispersion grown, "
			 "checksum valid at the peer, counted",
			 fam, what);
		bad = check_stamped(r, in, len, f, n, v6, why, sizeof(why));
		if (!bad && (p1 != p0 + 1 || b1 != b0 + len))
			bad = "not counted once as tx_stamped_egress";
		if (!bad && *r->h.reason != GUARD_C_STAMPED)
			bad = "the reason should be GUARD_C_STAMPED";
		gt_expect(bad == NULL, name, "%s", bad ? bad : "");
	}
	pay[47] &= (uint8_t)~NTP_XMT_REFINE;
	stamped(r, &p0, &b0);
	n = send_capture(pay, v6, f, sizeof(f), &partial);
	stamped(r, &p1, &b1);
	if (partial)
		complete_partial(f, v6);
	snprintf(name, sizeof(name), "egress, kernel path (%s, %s): an unmarked reply unchanged",
		 fam, what);
	gt_expect(n == len && memcmp(f + ntp, pay, 48) == 0 && eg_udp_ok(f, v6) && p1 == p0, name,
		  "%zu bytes captured, payload %s, checksum %s, counted %llu", n,
		  n == len && !memcmp(f + ntp, pay, 48) ? "same" : "changed",
		  n == len && eg_udp_ok(f, v6) ? "valid" : "bad", (unsigned long long)(p1 - p0));
}

/*
 * Another server's marked reply (198.51.100.7:123, the lowest bit of its
 * transmit fraction set, as half of all replies have it) routed through
 * this host and out of gt0: injected on gt1 to gt0's MAC, forwarded, and
 * captured back on gt1. Not horod's reply: it must arrive as it was sent.
 */
static void egress_forwarded(struct gt_rig *r)
{
	static const char other[] = "198.51.100.7";
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct clk_snapshot s = gt_synced();
	uint8_t pay[48], frame[FR_MAX], f[2048];
	struct ifreq ifr;
	struct timespec t0, t;
	uint64_t p0 = 0, b0 = 0, p1 = 0, b1 = 0;
	struct fr_spec sp;
	size_t len, got = 0;
	int fd, ms;

	if (system("sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 "
		   "net.ipv4.conf.gt0.rp_filter=0 net.ipv4.conf.all.send_redirects=0 "
		   "net.ipv4.conf.gt0.send_redirects=0") != 0) {
		gt_expect(0, "egress, kernel path: forwarding on in the test's namespace",
			  "sysctl");
		return;
	}
	/* gt0's MAC (another test may have changed it; sysfs shows the first namespace's). */
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "gt0");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		gt_expect(0, "egress, kernel path: gt0's MAC", "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	gt_publish(r, &s, &pub_at);
	r->tai = PUB_TAI + 234567891;
	*r->h.tai_ns = r->tai;
	*r->h.tai_step_ns = 0;
	reply_payload(&s, pay, 0);
	reply_spec(&sp, other, PORT_A, pay, 48);
	memcpy(sp.dmac, ifr.ifr_hwaddr.sa_data, 6);
	sp.smac[5] = 0x09;
	len = fr_build(&sp, frame);
	ll.sll_ifindex = (int)if_nametoindex("gt1");
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	stamped(r, &p0, &b0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0 ||
	    sendto(fd, frame, len, 0, (struct sockaddr *)&ll, sizeof(ll)) != (ssize_t)len) {
		gt_expect(0, "egress, kernel path: a routed reply injected on gt1", "%s",
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = EG_WAIT_MS -
		     (int)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (ms <= 0 || poll(&pfd, 1, ms) <= 0)
			break;
		n = recvfrom(fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		/* The forwarded copy: received on gt1, from the other server, its TTL one less. */
		if (n != 90 || from.sll_pkttype == PACKET_OUTGOING || f[23] != 17 ||
		    memcmp(f + 26, frame + 26, 4) != 0 || f[22] != frame[22] - 1)
			continue;
		got = (size_t)n;
		break;
	}
	close(fd);
	stamped(r, &p1, &b1);
	if (system("sysctl -qw net.ipv4.ip_forward=0") != 0)
		printf("guard-test: could not turn forwarding off again\n");
	if (!gt_expect(got == 90, "egress, kernel path: a routed reply is forwarded out of gt0",
		       "nothing captured on gt1 within %d ms", EG_WAIT_MS))
		return;
	gt_expect(memcmp(f + EG_NTP4, pay, 48) == 0 && p1 == p0,
		  "egress, kernel path: another server's marked reply, routed through this host, "
		  "arrives unchanged (not horod's to stamp)",
		  "its transmit field was rewritten 0x%016llx -> 0x%016llx, counted %llu",
		  (unsigned long long)rd64(pay + EG_OFF_XMT),
		  (unsigned long long)rd64(f + EG_NTP4 + EG_OFF_XMT),
		  (unsigned long long)(p1 - p0));
}

/*
 * Part 5. The rig keeps the test clock (GUARD_F_TEST): the transmit field
 * can then be checked to the bit, and what this part tests is the kernel's
 * skb path (tcx attachment, checksum offload states), not the clock, which
 * BPF_PROG_TEST_RUN cannot change anyway.
 */
static void egress_kernel(struct gt_rig *r)
{
	char err[256];
	int ret;

	if (system("ip addr add " GT_LOCAL4 "/24 dev gt0 && ip link set gt1 up && "
		   "ip neigh replace " EG_CLIENT4 " lladdr 02:00:00:00:00:02 dev gt0 nud "
		   "permanent && ip addr add " GT_LOCAL6
		   "/64 dev gt0 nodad && ip neigh replace " EG_CLIENT6
		   " lladdr 02:00:00:00:00:02 dev gt0 nud permanent") != 0) {
		gt_expect(0, "egress, kernel path: set up gt0's address and neighbour",
			  "ip failed");
		return;
	}
	ret = guard_attach_egress(r->g, "gt0", err, sizeof(err));
	if (ret == -EINVAL || ret == -EOPNOTSUPP)
		gt_skip("the kernel has no tcx egress links (EINVAL/EOPNOTSUPP)");
	if (!gt_expect(ret == 0 && guard_n_egress(r->g) == 1,
		       "egress, kernel path: attached to gt0's egress (tcx)", "%s", err))
		return;
	if (system("ethtool -K gt0 tx on >/dev/null 2>&1") != 0)
		printf("guard-test: ethtool -K gt0 tx on failed\n");
	egress_kernel_case(r, "offload on", 0, 1);
	egress_kernel_case(r, "offload on", 1, 1);
	if (system("ethtool -K gt0 tx off >/dev/null 2>&1") != 0) {
		gt_expect(0, "egress, kernel path: turn gt0's checksum offload off", "ethtool");
	} else {
		egress_kernel_case(r, "offload off", 0, 0);
		egress_kernel_case(r, "offload off", 1, 0);
		if (system("ethtool -K gt0 tx on >/dev/null 2>&1") != 0)
			printf("guard-test: ethtool -K gt0 tx on failed\n");
	}
	egress_forwarded(r);
	if (system("ip neigh del " EG_CLIENT4 " dev gt0; ip neigh del " EG_CLIENT6
		   " dev gt0; ip addr del " GT_LOCAL6 "/64 dev gt0; ip addr del " GT_LOCAL4
		   "/24 dev gt0") != 0)
		printf("guard-test: could not remove gt0's test address\n");
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
	egress_property(&r);
	egress_kernel(&r);
	gt_rig_close(&r);
	egress_off();
}
