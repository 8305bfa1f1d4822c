/*
 * guard-test unit, `guard stamp on`, continued (gt_egress.c has the
 * frame-by-frame cases): a seeded random property over mutations of a
 * valid reply against its own reading of the conditions, a rig
 * without `stamp`, and the kernel's own path: the program attached to
 * gt0's egress, replies sent from a UDP socket and captured on the veth's
 * peer with an AF_PACKET socket, with the UDP checksum offloaded
 * (CHECKSUM_PARTIAL) and computed in software (offload off: the program
 * must fix it), and another server's reply forwarded through the
 * namespace left alone.
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
#include "tests/bpf/gt_egress.h"

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
		eg_wr32(f + ntp + EG_OFF_DISP + 32 * ((v >> 8) & 1), (uint32_t)(v >> 32));
		break;
	}
}

/* Part 4: the random property over mutations of valid replies. */
void gt_egress_property(struct gt_rig *r)
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

		eg_reply_payload(&s, pay, 0);
		eg_reply_spec(&sp, v6 ? GT_LOCAL6 : GT_LOCAL4, (v >> 56) & 1 ? PORT_B : PORT_A, pay,
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
		if (eg_stamped(r, &p0, &b0) < 0 ||
		    eg_tc_run(r, frame, len, out, &outlen, &ret) < 0 ||
		    eg_stamped(r, &p1, &b1) < 0) {
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
				bad = eg_check_stamped(r, frame, len, out, outlen, v6, why,
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
void gt_egress_off(void)
{
	struct gt_rig_conf c = {.serve = 1};
	struct clk_snapshot s = gt_synced();
	uint8_t pay[48];
	struct fr_spec sp;
	struct gt_rig r;

	gt_rig_open(&r, &c);
	gt_publish(&r, &s, &pub_at);
	r.tai = PUB_TAI + 123456789;
	eg_reply_payload(&s, pay, 0);
	eg_reply_spec(&sp, GT_LOCAL4, PORT_A, pay, 48);
	eg_case_untouched(&r, "egress: a rig without `stamp` (no GUARD_F_STAMP): untouched", &sp);
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
	eg_reply_payload(&s, pay, 0);
	eg_stamped(r, &p0, &b0);
	n = send_capture(pay, v6, f, sizeof(f), &partial);
	eg_stamped(r, &p1, &b1);
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
		bad = eg_check_stamped(r, in, len, f, n, v6, why, sizeof(why));
		if (!bad && (p1 != p0 + 1 || b1 != b0 + len))
			bad = "not counted once as tx_stamped_egress";
		if (!bad && *r->h.reason != GUARD_C_STAMPED)
			bad = "the reason should be GUARD_C_STAMPED";
		gt_expect(bad == NULL, name, "%s", bad ? bad : "");
	}
	pay[47] &= (uint8_t)~NTP_XMT_REFINE;
	eg_stamped(r, &p0, &b0);
	n = send_capture(pay, v6, f, sizeof(f), &partial);
	eg_stamped(r, &p1, &b1);
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
	eg_reply_payload(&s, pay, 0);
	eg_reply_spec(&sp, other, PORT_A, pay, 48);
	memcpy(sp.dmac, ifr.ifr_hwaddr.sa_data, 6);
	sp.smac[5] = 0x09;
	len = fr_build(&sp, frame);
	ll.sll_ifindex = (int)if_nametoindex("gt1");
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	eg_stamped(r, &p0, &b0);
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
	eg_stamped(r, &p1, &b1);
	if (system("sysctl -qw net.ipv4.ip_forward=0") != 0)
		printf("guard-test: could not turn forwarding off again\n");
	if (!gt_expect(got == 90, "egress, kernel path: a routed reply is forwarded out of gt0",
		       "nothing captured on gt1 within %d ms", EG_WAIT_MS))
		return;
	gt_expect(memcmp(f + EG_NTP4, pay, 48) == 0 && p1 == p0,
		  "egress, kernel path: another server's marked reply, routed through this host, "
		  "arrives unchanged (not horod's to stamp)",
		  "its transmit field was rewritten 0x%016llx -> 0x%016llx, counted %llu",
		  (unsigned long long)eg_rd64(pay + EG_OFF_XMT),
		  (unsigned long long)eg_rd64(f + EG_NTP4 + EG_OFF_XMT),
		  (unsigned long long)(p1 - p0));
}

/*
 * Part 5. The rig keeps the test clock (GUARD_F_TEST): the transmit field
 * can then be checked to the bit, and what this part tests is the kernel's
 * skb path (tcx attachment, checksum offload states), not the clock, which
 * BPF_PROG_TEST_RUN cannot change anyway.
 */
void gt_egress_kernel(struct gt_rig *r)
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
