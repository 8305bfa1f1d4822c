/*
 * What the XDP guard may answer itself, with time or a kiss-o'-death:
 * only a request that a socket of horod's would have received, so that
 * everything else meets, unchanged, the fate it would meet without the
 * guard. Part of bpf/guard.bpf.c (included once there, after struct pkt),
 * split for length.
 *
 *   for_us: the frame came to this host's own MAC address on the
 *     interface it arrived on; its destination is a local unicast address
 *     of the host (not a broadcast, a multicast group or another host's
 *     address: struct guard_host), and with the destination port one
 *     horod listens on (the address itself, or a wildcard: struct
 *     guard_listen); neither address is martian (zero network, loopback
 *     off the loopback interface, multicast, broadcast, an IPv4 source
 *     that is one of our own addresses, an unspecified or IPv4-mapped
 *     IPv6 source). Both answers need it; a kiss-o'-death that may not go
 *     out is a drop.
 *   intact: no VLAN tag, no IPv4 option, no IPv6 extension header (the
 *     kernel's handling of those is not repeated here), a valid IPv4
 *     header checksum and a valid UDP checksum (IPv4: 0 means none; IPv6:
 *     0 is invalid). Answering with time needs it too: a frame whose
 *     checksum the kernel completes itself (CHECKSUM_PARTIAL: sent from
 *     this host, over loopback or a veth with checksum offload) does not
 *     verify here and goes to the workers, which the kernel hands it to.
 *
 * The host table and the serving state are read under the seqcount of
 * struct guard_state (writer: bpf/guard_pub.c). The reads are ordered by
 * compiler barriers only, which is enough on x86_64 (loads are not
 * reordered with other loads) and only there: the loader sets no flag
 * that needs this state elsewhere, and on another target these
 * functions refuse.
 */
#ifndef HOROD_BPF_GUARD_ANSWER_H
#define HOROD_BPF_GUARD_ANSWER_H

#define LOOPBACK_IFINDEX 1 /* the loopback device's ifindex, in every network namespace */

/*
 * IPv6 address classes from the address's two 64-bit halves as loaded
 * from memory (little-endian: the first byte in the low bits).
 */
#define V6_LO_ONE     0x0100000000000000ULL /* bytes 8..15 of ::1 */
#define V6_LO_MAPPED  0xffff0000ULL	    /* bytes 8..11 of ::ffff:0:0/96 */
#define V6_HI_LL_MASK 0xc0ffULL		    /* bytes 0..1: fe80::/10 */
#define V6_HI_LL      0x80feULL

/*
 * Add the N bytes at P (N a multiple of 4, in the packet or on the stack)
 * to the one's complement sum SUM, 32 bits at a time into 64: 2^16 is 1
 * modulo 2^16 - 1, so csum_fold's folding gives the same 16-bit sum as
 * adding 16-bit words, in half the loads (unaligned loads are fine on the
 * architectures this runs on).
 */
static __always_inline __u64 csum_words(const void *p, int n, __u64 sum)
{
	const __u32 *w = p;
	int i;

	for (i = 0; i < n / 4; i++)
		sum += w[i];
	return sum;
}

/* The one's complement of SUM folded to 16 bits: a checksum, or 0 over valid data. */
static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The interface the frame arrived on (xdp_md.ingress_ifindex; see ctx_data). */
static __always_inline __u32 ctx_ifindex(struct xdp_md *ctx)
{
	__u64 v;

	asm volatile("%0 = *(u32 *)(%1 + 12)" : "=r"(v) : "r"(ctx));
	return (__u32)v;
}

/* 1 when the frame at P is intact as the kernel checks it, plain, with valid checksums. */
static __always_inline int intact(struct xdp_md *ctx, const struct pkt *p)
{
	void *data = ctx_data(ctx);
	void *end = ctx_end(ctx);
	const __u8 *ip = data + ETH_HLEN, *udp;
	__u64 sum;

	if (p->l2 != ETH_HLEN || p->l3len != (p->v6 ? IPV6_HLEN : IPV4_HLEN))
		return 0;
	if (p->plen != NTP_HEADER_LEN)
		return 0;
	udp = ip + p->l3len;
	if ((void *)(udp + UDP_HLEN + NTP_HEADER_LEN) > end)
		return 0;
	if (p->v6) {
		if (*(__u16 *)(udp + 6) == 0)
			return 0;
		/* Pseudo-header: addresses, upper-layer length, next header. */
		sum = csum_words(ip + 8, 32, 0);
	} else {
		if (csum_fold(csum_words(ip, IPV4_HLEN, 0)) != 0)
			return 0;
		if (*(__u16 *)(udp + 6) == 0)
			return 1;
		sum = csum_words(ip + 12, 8, 0);
	}
	sum += bpf_htons(UDP_HLEN + NTP_HEADER_LEN) + bpf_htons(IPPROTO_UDP_);
	return csum_fold(csum_words(udp, UDP_HLEN + NTP_HEADER_LEN, sum)) == 0;
}

/* 1 when the IPv4 address A (network byte order, as read) is local in H. */
static __always_inline int local4(volatile struct guard_host *h, __u32 a)
{
	__u32 i, n = h->n4;

	for (i = 0; i < GUARD_HOST_ADDRS; i++) {
		if (i >= n)
			break;
		if (h->v4[i] == a)
			return 1;
	}
	return 0;
}

/* 1 when the IPv6 address A is local in H for a frame from IFINDEX (link-local: its own). */
static __always_inline int local6(volatile struct guard_host *h, const __u8 *a, __u32 ifindex)
{
	__u64 hi, lo;
	__u32 i, n = h->n6;
	int ll;

	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&lo, a + 8, 8);
	ll = (hi & V6_HI_LL_MASK) == V6_HI_LL;
	for (i = 0; i < GUARD_HOST_ADDRS; i++) {
		if (i >= n)
			break;
		if (*(volatile __u64 *)&h->v6[i][0] == hi &&
		    *(volatile __u64 *)&h->v6[i][8] == lo && (!ll || h->v6_ifindex[i] == ifindex))
			return 1;
	}
	return 0;
}

/* 1 when a listen line takes P's destination address and port. */
static __always_inline int listened(const struct pkt *p)
{
	__u32 i, fam = p->v6 ? GUARD_FAMILY_V6 : GUARD_FAMILY_V4;
	__u64 hi, lo;

	__builtin_memcpy(&hi, p->ip_dst, 8);
	__builtin_memcpy(&lo, p->ip_dst + 8, 8);
	if (!p->v6)
		hi &= 0xffffffffULL; /* IPv4: the first 4 bytes (little-endian: the low half) */
	for (i = 0; i < GUARD_MAX_LISTEN; i++) {
		if (i >= guard_cfg.n_listen)
			break;
		if (guard_cfg.listen[i].family != fam || guard_cfg.listen[i].port != p->dport)
			continue;
		if (guard_cfg.listen[i].wildcard)
			return 1;
		/* The configuration's address: IPv4 in its first 4 bytes, the rest 0. */
		if (*(const volatile __u64 *)&guard_cfg.listen[i].addr[0] == hi &&
		    *(const volatile __u64 *)&guard_cfg.listen[i].addr[8] == (p->v6 ? lo : 0))
			return 1;
	}
	return 0;
}

/* 1 when A (16 bytes) is ::1. */
static __always_inline int v6_is_loopback(const __u8 *a)
{
	__u64 hi, lo;

	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&lo, a + 8, 8);
	return hi == 0 && lo == V6_LO_ONE;
}

/* 1 when A is :: or an IPv4-mapped address (::ffff:a.b.c.d). */
static __always_inline int v6_unspec_or_mapped(const __u8 *a)
{
	__u64 hi, lo;

	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&lo, a + 8, 8);
	return hi == 0 && (lo == 0 || (lo & 0xffffffffULL) == V6_LO_MAPPED);
}

/*
 * The checks of for_us that read the host table, in a read section of
 * the seqcount (the caller re-reads the sequence): the ingress
 * interface's MAC, the martian addresses, the local table.
 */
static __always_inline int host_says_for_us(struct xdp_md *ctx, const struct pkt *p)
{
	volatile struct guard_host *h = &guard_state.host;
	__u32 ifindex = ctx_ifindex(ctx), i, n = h->n_if, d4, s4;
	int lo = ifindex == LOOPBACK_IFINDEX, mac = 0;

	for (i = 0; i < GUARD_MAX_IFACES; i++) {
		if (i >= n)
			break;
		if (h->ifindex[i] == ifindex) {
			mac = *(volatile __u64 *)h->mac[i] == p->dmac;
			break;
		}
	}
	if (!mac)
		return 0;
	if (!p->v6) {
		__builtin_memcpy(&d4, p->ip_dst, 4);
		__builtin_memcpy(&s4, p->ip_src, 4);
		/* First bytes: 0 zero network, 127 loopback, 224-239 multicast; 255.255.255.255. */
		if (p->ip_dst[0] == 0 || (p->ip_dst[0] & 0xf0) == 0xe0 || d4 == 0xffffffff ||
		    (p->ip_dst[0] == 127 && !lo))
			return 0;
		if (p->ip_src[0] == 0 || (p->ip_src[0] & 0xf0) == 0xe0 || s4 == 0xffffffff ||
		    (p->ip_src[0] == 127 && !lo))
			return 0;
		/* A source of our own from outside is martian (accept_local is off by default). */
		if (!lo && local4(h, s4))
			return 0;
		return local4(h, d4);
	}
	if (p->ip_dst[0] == 0xff || p->ip_src[0] == 0xff)
		return 0; /* multicast */
	if (!lo && (v6_is_loopback(p->ip_dst) || v6_is_loopback(p->ip_src)))
		return 0;
	if (v6_unspec_or_mapped(p->ip_src) || v6_unspec_or_mapped(p->ip_dst))
		return 0;
	return local6(h, p->ip_dst, ifindex);
}

#ifdef __TARGET_ARCH_x86
/*
 * 1 when a kiss-o'-death may answer P: it is for a socket of horod's (see
 * above). A global function: the verifier checks it once, on its own,
 * instead of along every path of the parser that leads to it.
 */
__noinline int kod_for_us(struct xdp_md *ctx, const struct pkt *p)
{
	volatile struct guard_state *g = &guard_state;
	__u32 seq = g->seq;
	int ok;

	if (!p || (seq & 1) || !listened(p))
		return 0;
	/* x86_64: loads are not reordered with loads; the compiler must not either. */
	asm volatile("" ::: "memory");
	ok = host_says_for_us(ctx, p);
	asm volatile("" ::: "memory");
	return ok && g->seq == seq;
}
#else
/* Elsewhere: the seqcount read above is written for x86_64's ordering only. */
__noinline int kod_for_us(struct xdp_md *ctx, const struct pkt *p)
{
	return 0;
}
#endif

/* A consistent copy of the serving state and the request's receive time. */
struct serve_now {
	struct guard_serve s;
	__u64 rx_tai_ns;  /* CLOCK_TAI ns when the program started on the frame */
	__u64 hw_ns;	  /* the NIC's receive stamp, PHC ns (nic_rx_stamp), or 0 */
	__u64 rx_real_ns; /* the receive time served: CLOCK_REALTIME ns (serve_read) */
	__u32 rx_hw;	  /* 1: rx_real_ns is the NIC's stamp, 0: the kernel's clock */
	__u32 pad;
};

/*
 * The receive time from the NIC's stamp: HW + OFF (system - PHC), only
 * for a known offset measured at most GUARD_PHC_MAX_AGE_NS before RX_TAI
 * (unsigned: one from the future wraps to a huge age), and only when the
 * result lies within GUARD_HW_RX_WINDOW_NS before RX_REAL, the kernel's
 * time at the program's start, which comes after the NIC stamped the
 * frame. 0 with *OUT set, or -1. guard_pub.c's guard_hw_rx_real is the
 * same arithmetic in user space (the tests compare both).
 */
static __always_inline int hw_rx_real(__u64 hw, __s64 off, __u64 at_tai, __u64 rx_tai,
				      __u64 rx_real, __u64 *out)
{
	__u64 real;

	if (hw == 0 || off == GUARD_PHC_NO_OFFSET || rx_tai - at_tai > GUARD_PHC_MAX_AGE_NS)
		return -1;
	real = hw + (__u64)off;
	if (real > rx_real || rx_real - real > GUARD_HW_RX_WINDOW_NS)
		return -1;
	*out = real;
	return 0;
}

/*
 * In a read section of the seqcount: the PHC offset of interface IFINDEX
 * and when it was measured, into *OFF and *AT; 0, or -1 when the table
 * has none for it.
 */
static __always_inline int phc_of(__u32 ifindex, __s64 *off, __u64 *at)
{
	volatile struct guard_phc *ph = &guard_state.phc;
	__u32 i, n = ph->n;

	for (i = 0; i < GUARD_MAX_IFACES; i++) {
		if (i >= n)
			break;
		if (ph->ifindex[i] == ifindex) {
			*off = ph->off_ns[i];
			*at = ph->at_tai_ns[i];
			return 0;
		}
	}
	return -1;
}

#ifdef __TARGET_ARCH_x86
/*
 * Copy the serving state into SV when it is stable, on, fresh at SV's
 * receive time, and P is intact and for us (above); 0, or -1 (the
 * request goes to a worker). A global function, as kod_for_us.
 */
__noinline int serve_read(struct serve_now *sv, struct xdp_md *ctx, const struct pkt *p)
{
	volatile struct guard_state *g = &guard_state;
	__u32 seq = g->seq;
	__u64 at = 0, rx_real;
	__s64 off;
	int ok;

	/* Off (most often for good: a correction of horod's own): no more to read. */
	if (!sv || !p || (seq & 1) || !g->serve.on)
		return -1;
	/* x86_64: loads are not reordered with loads; the compiler must not either. */
	asm volatile("" ::: "memory");
	sv->s.tai_to_real_ns = g->serve.tai_to_real_ns;
	sv->s.pub_tai_ns = g->serve.pub_tai_ns;
	sv->s.disp_ns = g->serve.disp_ns;
	sv->s.disp_rate_s = g->serve.disp_rate_s;
	sv->s.disp_rate_ns = g->serve.disp_rate_ns;
	sv->s.ref_ts = g->serve.ref_ts;
	sv->s.root_delay = g->serve.root_delay;
	sv->s.refid = g->serve.refid;
	sv->s.on = g->serve.on;
	sv->s.leap = g->serve.leap;
	sv->s.stratum = g->serve.stratum;
	sv->s.precision = g->serve.precision;
	/*
	 * A "no" needs no stable read (a worker answers instead): off, a leap
	 * second announced (no time that needs leap handling here), or stale —
	 * published more than GUARD_SERVE_MAX_AGE_NS before the receive time,
	 * or after it (unsigned: a publication from the future wraps to a huge
	 * age).
	 */
	if (!sv->s.on || (sv->s.leap != NTP_LEAP_NONE && sv->s.leap != NTP_LEAP_UNSYNC) ||
	    sv->rx_tai_ns - sv->s.pub_tai_ns > GUARD_SERVE_MAX_AGE_NS)
		return -1;
	ok = listened(p) && host_says_for_us(ctx, p);
	/* The NIC's stamp: its PHC offset is read in this same section. */
	if (!sv->hw_ns || phc_of(ctx_ifindex(ctx), &off, &at) < 0)
		off = GUARD_PHC_NO_OFFSET;
	/* x86_64: every load above is done before seq is read again; the compiler must agree. */
	asm volatile("" ::: "memory");
	if (!ok || g->seq != seq)
		return -1;
	/* Last, the frame's own checks: its checksums. */
	if (!intact(ctx, p))
		return -1;
	rx_real = sv->rx_tai_ns + (__u64)sv->s.tai_to_real_ns;
	sv->rx_hw = hw_rx_real(sv->hw_ns, off, at, sv->rx_tai_ns, rx_real, &sv->rx_real_ns) == 0;
	if (!sv->rx_hw)
		sv->rx_real_ns = rx_real;
	return 0;
}
#else
/* Elsewhere: the seqcount read above is written for x86_64's ordering only. */
__noinline int serve_read(struct serve_now *sv, struct xdp_md *ctx, const struct pkt *p)
{
	return -1;
}
#endif

#endif /* HOROD_BPF_GUARD_ANSWER_H */
