/*
 * guard-test diff: the differential test. Seeded random and mutated
 * frames (NTP-ish payloads, VLAN tags, IPv4 options, IPv6 extension
 * headers, fragments, other protocols, flipped bytes, cuts, padding,
 * floods from one source so the limiter's paths are taken, destinations
 * of every kind — local, another host's, broadcast, multicast, loopback —
 * behind every kind of MAC, arriving on the wire or on loopback, with
 * right, wrong, partial or no UDP checksums) go through the program and
 * through the userspace reference under five configurations, the last
 * with `guard serve on`: there the clock thread's publications come and
 * go as the test's time runs (snapshots synchronized or not, leap seconds
 * announced, corrections, absurd dispersions and rates, publications
 * late past the age limit, the clock stepped back). Every frame must get
 * the same verdict and reason, every kiss-o'-death the same bytes, every
 * answer the worker's reply for the program's receive and transmit
 * instants field by field (root dispersion growth included), and the
 * counters must match at the end.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bpf/guard.h"
#include "proto/ntp.h"
#include "tests/bpf/frames.h"
#include "tests/bpf/guard_test.h"

#define MAX_REPORTS 10 /* mismatches printed in full */

/* splitmix64: small, seedable, good enough to pick frames. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in 0..N-1. */
static uint32_t pick(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* Destinations: mostly for us; and every kind that is not (loopback, others, broadcast, multicast).
 */
static const char *const dst4[] = {
	GT_LOCAL4,	GT_LOCAL4,     GT_LOCAL4,	  GT_LOCAL4B,  GT_LOCAL4B, "127.0.0.1",
	"198.51.100.7", "192.0.2.255", "255.255.255.255", "224.0.1.1", "0.0.0.0",
};
static const char *const dst6[] = {
	GT_LOCAL6, GT_LOCAL6,	   GT_LOCAL6,	GT_LL6,
	"::1",	   "2001:db8::99", "ff02::101", "::ffff:192.0.2.1",
};

/* The source pool: few enough that the limiter bites, varied enough to hit every rule. */
static const char *const pool4[] = {
	"192.0.2.1",	"192.0.2.2",  "192.0.2.3",   "192.0.2.4",     "192.0.2.5",
	"192.0.2.66",	"192.0.2.67", "203.0.113.1", "203.0.113.200", "198.51.100.5",
	"198.51.100.6", "127.0.0.1",  "127.0.0.9",   "10.1.2.3",      "0.0.0.0",
};
static const char *const pool6[] = {
	"2001:db8:1::1",     "2001:db8:1::2", "2001:db8:2::1",	   "2001:db8:66::1",
	"2001:db8:66:ff::2", "::1",	      "::ffff:192.0.2.66", "::ffff:192.0.2.3",
	"fe80::1",	     "2001:db8:c::9", "2001:db8:a::5",	   "::ffff:127.0.0.1",
};

/* A random NTP-ish payload into P (room for 2048 bytes); its length. */
static size_t gen_payload(uint8_t *p)
{
	static const uint8_t vns[] = {4, 4, 4, 4, 3, 2, 1, 0, 5, 6, 7};
	static const uint8_t modes[] = {3, 3, 3, 3, 3, 1, 1, 0, 2, 4, 5, 6, 7};
	static const size_t macs[] = {0, 0, 0, 4, 20, 24};
	size_t len, i, n;
	uint32_t k = pick(100);

	if (k < 55) {
		/* A well-formed request: header, 0-3 extension fields, maybe a MAC. */
		len = 48;
		memset(p, 0, 48);
		n = pick(4) == 0 ? pick(4) : 0;
		for (i = 0; i < n && len < 1600; i++) {
			size_t f = 16 + 4 * pick(pick(10) == 0 ? 60 : 8);

			memset(p + len, 0, f);
			p[len] = (uint8_t)pick(256);
			p[len + 2] = (uint8_t)(f >> 8);
			p[len + 3] = (uint8_t)f;
			len += f;
		}
		n = macs[pick(6)];
		for (i = 0; i < n; i++)
			p[len + i] = (uint8_t)pick(256);
		len += n;
	} else if (k < 75) {
		/* Any length, mostly around the header size. */
		len = pick(10) == 0 ? pick(1800) : pick(80);
		for (i = 0; i < len; i++)
			p[i] = (uint8_t)(pick(4) ? 0 : pick(256));
	} else if (k < 90) {
		/* A header with broken extension fields. */
		len = 48 + 4 * pick(40);
		memset(p, 0, len);
		for (i = 48; i + 4 <= len; i += 4) {
			p[i + 2] = (uint8_t)(pick(8) == 0 ? pick(256) : 0);
			p[i + 3] = (uint8_t)(pick(3) == 0 ? 4 * pick(20) : pick(256));
		}
	} else {
		/* Large: near and past the classifier's limit. */
		len = GUARD_MAX_PAYLOAD - 48 + 4 * pick(40);
		memset(p, 0, len);
		if (pick(2)) {
			p[50] = (uint8_t)((len - 48) >> 8);
			p[51] = (uint8_t)(len - 48);
		}
	}
	if (len > 0 && k < 55 && pick(10))
		p[0] = (uint8_t)(pick(4) << 6 | (1 + pick(4)) << 3 | (pick(5) ? 3 : 1));
	else if (len > 0)
		p[0] = (uint8_t)(pick(4) << 6 | vns[pick(sizeof(vns))] << 3 |
				 modes[pick(sizeof(modes))]);
	for (i = 40; i < 48 && i < len; i++)
		p[i] = (uint8_t)pick(256);
	return len;
}

/*
 * Floods: now and then one source sends a run of requests in quick
 * succession, so the limiter's burst, leak and kiss-o'-death paths are
 * taken as often as the rest.
 */
static int flood_left;		/* frames left in the current flood */
static int flood_v6, flood_src; /* its source: pool and index */
static uint32_t gen_ifindex;	/* the interface the frame arrives on */

/* Destination address, MAC and checksums of S (family set), and the arrival interface. */
static void gen_addressing(struct fr_spec *s)
{
	static const uint8_t macs[3][6] = {
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0x01, 0x00, 0x5e, 0x00, 0x01, 0x01},
		{0x02, 0, 0, 0, 0, 0x99},
	};
	uint32_t k = pick(100);

	memset(s->dst, 0, sizeof(s->dst));
	if (s->v6)
		inet_pton(AF_INET6, dst6[pick(sizeof(dst6) / sizeof(dst6[0]))], s->dst);
	else
		inet_pton(AF_INET, dst4[pick(sizeof(dst4) / sizeof(dst4[0]))], s->dst);
	memcpy(s->dmac, gt_mac_srv, 6);
	if (pick(10) == 0)
		memcpy(s->dmac, macs[pick(3)], 6);
	s->udp_csum = k < 80   ? FR_CSUM_OK
		      : k < 87 ? FR_CSUM_PARTIAL
		      : k < 94 ? FR_CSUM_BAD
			       : FR_CSUM_ZERO;
	s->bad_ipsum = pick(50) == 0;
	gen_ifindex = pick(10) ? gt_wire : gt_lo;
}

/* A random frame into F; its length (>= 14). */
static size_t gen_frame(uint8_t *f)
{
	static uint8_t pay[2048];
	struct fr_spec s;
	uint32_t k = pick(100), i;
	size_t len;

	memset(&s, 0, sizeof(s));
	memcpy(s.dmac, gt_mac_srv, 6);
	memcpy(s.smac, gt_mac_cli, 6);
	if (!flood_left && pick(300) == 0) {
		flood_left = 20 + (int)pick(300);
		flood_v6 = pick(3) == 0;
		flood_src = (int)pick(flood_v6 ? sizeof(pool6) / sizeof(pool6[0])
					       : sizeof(pool4) / sizeof(pool4[0]));
	}
	s.v6 = flood_left ? flood_v6 : pick(3) == 0;
	if (flood_left) {
		flood_left--;
		if (s.v6)
			inet_pton(AF_INET6, pool6[flood_src], s.src);
		else
			inet_pton(AF_INET, pool4[flood_src], s.src);
		gen_addressing(&s);
		s.ethertype = s.v6 ? 0x86DD : 0x0800;
		s.proto = 17;
		s.sport = (uint16_t)(1024 + pick(60000));
		s.dport = PORT_A;
		s.payload = pay;
		s.plen = gt_ntp_req(pay, 48, (uint8_t)(0x20 | (pick(6) ? 3 : 1)));
		for (i = 40; i < 48; i++)
			pay[i] = (uint8_t)pick(256);
		len = fr_build(&s, f);
		if (k < 5)
			f[pick((uint32_t)len)] ^= (uint8_t)(1 + pick(255));
		return len;
	}
	if (s.v6) {
		inet_pton(AF_INET6, pool6[pick(sizeof(pool6) / sizeof(pool6[0]))], s.src);
		s.ethertype = 0x86DD;
	} else {
		inet_pton(AF_INET, pool4[pick(sizeof(pool4) / sizeof(pool4[0]))], s.src);
		s.ethertype = 0x0800;
	}
	gen_addressing(&s);
	s.proto = 17;
	s.sport = (uint16_t)(pick(5) == 0 ? 123 : 1024 + pick(60000));
	s.dport = pick(10) ? (pick(3) ? PORT_A : PORT_B) : (uint16_t)pick(65536);
	if (pick(12) == 0) {
		s.nvlan = 1 + (int)pick(3);
		for (i = 0; i < 3; i++) {
			s.tpid[i] = pick(2) ? 0x8100 : 0x88A8;
			s.tci[i] = (uint16_t)pick(4096);
		}
	}
	if (!s.v6 && pick(8) == 0)
		s.optlen = 4 * (int)pick(11);
	if (s.v6 && pick(6) == 0) {
		static const uint8_t types[] = {0, 43, 60, 44, 44, 6, 59};

		s.n_ext = 1 + (int)pick(5);
		for (i = 0; i < (uint32_t)s.n_ext; i++) {
			s.ext_type[i] = types[pick(sizeof(types))];
			s.ext_len[i] = 8 * (1 + (int)pick(pick(20) ? 4 : 200));
		}
	}
	if (pick(15) == 0)
		s.frag = 1 + (int)pick(2);
	if (pick(25) == 0)
		s.proto = (uint8_t)(pick(2) ? 6 : pick(256));
	if (pick(40) == 0)
		s.ethertype = (uint16_t)pick(65536);
	s.payload = pay;
	s.plen = gen_payload(pay);
	len = fr_build(&s, f);
	if (!len) {
		/* Too large for a test run: a plain 48-byte request instead. */
		s.plen = 48;
		s.n_ext = 0;
		len = fr_build(&s, f);
	}
	/* Mutations: flipped bytes, a cut, trailing padding. */
	if (k < 12) {
		for (i = 0; i < 1 + pick(3); i++)
			f[pick((uint32_t)len)] ^= (uint8_t)(1 + pick(255));
	} else if (k < 17) {
		len = 14 + pick((uint32_t)(len - 13));
	} else if (k < 22 && len + 64 < FR_MAX) {
		for (i = 0; i < 1 + pick(60); i++)
			f[len++] = (uint8_t)pick(256);
	} else if (k < 24) {
		len = 14 + pick(200);
		for (i = 12; i < len; i++)
			f[i] = (uint8_t)pick(256);
	}
	return len;
}

/* Print one mismatch in full. */
static void report(unsigned long idx, const uint8_t *f, size_t len, int a, uint32_t ra, int ea,
		   uint32_t er, const char *what)
{
	size_t i;

	printf("FAIL: %s: frame %lu: guard %s %s, reference %s %s\n    ", what, idx,
	       gt_action_name(a), guard_counter_name(ra), gt_action_name(ea),
	       guard_counter_name(er));
	for (i = 0; i < len && i < 160; i++)
		printf("%02x%s", f[i], (i % 32 == 31) ? "\n    " : "");
	printf("%s\n", len > 160 ? " ..." : "");
}

/*
 * A clock snapshot as the clock thread may hand over, at served time
 * REAL: mostly synchronized with an ordinary dispersion, at times
 * unsynchronized (and never synchronized), with a leap second announced,
 * a correction of horod's own, or an absurd dispersion or growth rate.
 */
static struct clk_snapshot gen_snapshot(int64_t real)
{
	static const double rates[] = {CLK_PHI, CLK_PHI + 3e-6, 0.2, 2.0, 1e12, NAN, -1e-6};
	struct clk_snapshot s = gt_synced();
	uint32_t k = pick(100);

	s.update_ns = real - (int64_t)(rnd() % SEC);
	s.ref_ns = real - 10 * (int64_t)SEC;
	s.root_disp = (double)(rnd() % 1000000) / 1e6;
	s.root_delay = (double)(rnd() % 100000) / 1e6;
	s.disp_rate = rates[pick(10) < 7 ? 0 : pick(sizeof(rates) / sizeof(rates[0]))];
	if (k < 8) {
		s.leap = NTP_LEAP_UNSYNC;
		s.stratum = 16;
		s.flags = 0;
		s.ref_ns = pick(2) ? 0 : s.ref_ns;
	} else if (k < 12) {
		s.leap = (uint8_t)(NTP_LEAP_INSERT + pick(2));
	} else if (k < 16) {
		s.flags |= CLK_F_CORRECTED;
		s.corr_ns = (int64_t)(rnd() % 2000000) - 1000000;
		s.corr_freq = 1e-6;
	} else if (k < 20) {
		s.root_disp = pick(2) ? NAN : 2000.0 + (double)pick(70000);
	}
	return s;
}

/*
 * `guard serve on`: before the frame, the clock thread may publish (about
 * every second of the rig's time, late at times past the age limit) and
 * the clock may be stepped back; the program's receive and transmit
 * readings are a random span apart.
 */
static void serve_time(struct gt_rig *r, uint64_t *next_pub)
{
	struct clk_snapshot snap;
	struct guard_clocks at;

	if (pick(20000) == 0)
		r->tai -= rnd() % (3 * SEC); /* a step back: the publication is from the future */
	if (r->tai >= *next_pub) {
		at.tai_ns = (int64_t)r->tai - (int64_t)(rnd() % (SEC / 100));
		at.real_ns = at.tai_ns - TAI_OFFSET;
		snap = gen_snapshot(at.real_ns);
		gt_publish(r, &snap, &at);
		r->diff_snap = snap;
		/* Next one within a second, or late now and then (stale past 2 s). */
		*next_pub = r->tai + (pick(30) ? rnd() % SEC : 2 * SEC + rnd() % SEC);
	}
	r->tai_step = 1 + rnd() % 100000;
}

/* Check the served answer OUT to FRAME (parsed as P) against a worker's; NULL or why. */
static const char *check_served(struct gt_rig *r, const uint8_t *frame, const struct fr_parsed *p,
				const uint8_t *out, size_t outlen, char *buf, size_t len)
{
	uint8_t want[NTP_HEADER_LEN];
	const uint8_t *ntp;
	const char *why = fr_check_reply(frame, p, out, outlen, &ntp);
	int64_t rx = (int64_t)r->tai - TAI_OFFSET;

	if (why)
		return why;
	gt_worker_reply(&r->diff_snap, p->payload, rx, rx + (int64_t)r->tai_step, want);
	return gt_compare_reply(ntp, want, buf, len);
}

/* Run COUNT frames through configuration C; returns mismatches. */
static unsigned long diff_run(const struct gt_rig_conf *c, const char *name, unsigned long count,
			      unsigned long *reported)
{
	uint8_t frame[FR_MAX + 64], out[FR_MAX + 256], kod[FR_MAX];
	unsigned long i, bad = 0, tx = 0, served = 0;
	struct guard_stats st;
	struct fr_parsed p;
	struct gt_rig r;
	size_t len, outlen, klen;
	uint64_t step, next_pub = 0;
	char why[200];
	const char *w;
	int a, ea, k;
	uint32_t ra, er;

	gt_rig_open(&r, c);
	r.tai = PUB_TAI;
	flood_left = 0;
	for (i = 0; i < count; i++) {
		/* Time moves by up to 2 ms in a flood; otherwise mostly by up to 1 ms, at times
		 * more. */
		k = (int)pick(100);
		step = flood_left ? rnd() % (2 * SEC / 1000)
		       : k < 80	  ? rnd() % (SEC / 1000)
		       : k < 99	  ? rnd() % (SEC / 10)
				  : rnd() % (10 * SEC);
		r.now += step;
		r.tai += step;
		if (c->serve)
			serve_time(&r, &next_pub);
		len = gen_frame(frame);
		r.ifindex = gen_ifindex;
		a = gt_run(&r, frame, len, out, &outlen);
		ra = *r.h.reason;
		er = gt_reference(&r, frame, len, &p, &ea);
		if (er < GUARD_NCOUNTERS) {
			r.tally_packets[er]++;
			r.tally_bytes[er] += len;
		}
		if (a != ea || ra != er) {
			if (bad++ < MAX_REPORTS - *reported)
				report(i, frame, len, a, ra, ea, er, name);
			continue;
		}
		if (a == XDP_TX_ && er == GUARD_C_SERVED) {
			served++;
			w = check_served(&r, frame, &p, out, outlen, why, sizeof(why));
			if (w && bad++ < MAX_REPORTS - *reported) {
				report(i, frame, len, a, ra, ea, er, "the answer differs");
				printf("    %s\n", w);
			}
		} else if (a == XDP_TX_) {
			tx++;
			klen = fr_expected_kod(frame, &p,
					       er == NTP_R_REPLY_KOD_RATE ? "RATE" : "DENY", kod);
			if (klen != outlen || memcmp(kod, out, klen) != 0) {
				if (bad++ < MAX_REPORTS - *reported)
					report(i, frame, len, a, ra, ea, er,
					       "kiss-o'-death bytes differ");
			}
		} else if (outlen != len || memcmp(out, frame, len) != 0) {
			if (bad++ < MAX_REPORTS - *reported)
				report(i, frame, len, a, ra, ea, er, "frame changed");
		}
	}
	*reported += bad < MAX_REPORTS ? bad : MAX_REPORTS;
	gt_expect(bad == 0, name, "%lu of %lu frames differ", bad, count);
	if (gt_counters(&r, &st) == 0) {
		for (k = 0; k < GUARD_NCOUNTERS; k++)
			if (st.packets[k] != r.tally_packets[k] || st.bytes[k] != r.tally_bytes[k])
				break;
		gt_expect(k == GUARD_NCOUNTERS, name, "counter %s: %llu/%llu, reference %llu/%llu",
			  k < GUARD_NCOUNTERS ? guard_counter_name((unsigned int)k) : "",
			  k < GUARD_NCOUNTERS ? (unsigned long long)st.packets[k] : 0ULL,
			  k < GUARD_NCOUNTERS ? (unsigned long long)st.bytes[k] : 0ULL,
			  k < GUARD_NCOUNTERS ? (unsigned long long)r.tally_packets[k] : 0ULL,
			  k < GUARD_NCOUNTERS ? (unsigned long long)r.tally_bytes[k] : 0ULL);
		printf("    %s: %lu frames, %lu kiss-o'-death, %lu answered;", name, count, tx,
		       served);
		for (k = 0; k < GUARD_NCOUNTERS; k++)
			if (st.packets[k])
				printf(" %s=%llu", guard_counter_name((unsigned int)k),
				       (unsigned long long)st.packets[k]);
		printf("\n");
	} else {
		gt_expect(0, name, "the counters should be readable");
	}
	gt_rig_close(&r);
	return bad;
}

int gt_do_diff(uint64_t seed, unsigned long count)
{
	static const struct gt_rig_conf confs[] = {
		{.deny = {"192.0.2.66/31", "2001:db8:66::/48", "203.0.113.0/24"},
		 .control = {"198.51.100.5", "2001:db8:c::/64"},
		 .ratelimit = 1,
		 .interval = -2,
		 .burst = 4,
		 .leak = 2,
		 .kod = 1,
		 .deny_kod = 1},
		{.allow = {"192.0.2.0/29", "2001:db8:1::/64", "127.0.0.0/8", "::1", "10.0.0.0/8",
			   "2001:db8:a::/48"},
		 .deny = {"192.0.2.3"},
		 .control = {"10.1.2.3"},
		 .ratelimit = 1,
		 .interval = 0,
		 .burst = 1,
		 .leak = 0,
		 .kod = 0},
		{.deny = {"0.0.0.0/0"}, .allow = {"all"}, .deny_kod = 1, .interval = 1},
		{.deny = {"2001:db8:2::/64"},
		 .ratelimit = 1,
		 .interval = -1,
		 .burst = 20,
		 .leak = 1,
		 .kod = 1},
		{.deny = {"192.0.2.66/31", "2001:db8:66::/48"},
		 .ratelimit = 1,
		 .interval = -3,
		 .burst = 8,
		 .leak = 1,
		 .kod = 1,
		 .deny_kod = 1,
		 .serve = 1},
	};
	static const char *const names[] = {
		"diff: deny list, ratelimit 250 ms burst 4 leak 2 kod, denykod",
		"diff: allow list, ratelimit 1 s burst 1, no leak, no kod",
		"diff: deny all IPv4, denykod without ratelimit",
		"diff: ratelimit 500 ms burst 20 leak 1 kod",
		"diff: guard serve on, ratelimit 125 ms burst 8 leak 1 kod, denykod",
	};
	unsigned long per = count / 5, bad = 0, reported = 0;
	int i;

	rng_state = seed;
	printf("diff: seed %llu, %lu frames\n", (unsigned long long)seed, count);
	for (i = 0; i < 5; i++)
		bad += diff_run(&confs[i], names[i], i == 4 ? count - 4 * per : per, &reported);
	return bad || gt_n_fail ? 1 : 0;
}
