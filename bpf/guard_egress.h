/*
 * `guard stamp on`: the transmit time of the workers' basic replies,
 * written as each leaves (tc egress, a tcx link on every guard
 * interface; bpf/guard.c guard_attach_egress). A worker reads its clock
 * for a basic reply before the send system call; the UDP and IP layers,
 * the routing and the neighbour lookup, and with them every cache miss
 * and interrupt, come between that reading and the frame leaving. Here
 * the time is read where the frame is handed to the queueing discipline
 * and the driver: later than the worker's reading, before the frame
 * leaves (never late), with only the qdisc and the driver after it.
 *
 * Rewritten: a frame a local socket sent (never one this host forwards:
 * another server's reply routed through it has no socket), of exactly
 * Ethernet + IPv4 (no option, not a
 * fragment) or IPv6 (no extension header) + UDP + a 48-byte NTP header,
 * from a listen address and port of horod's (struct guard_listen), mode
 * 4, stratum 1-15, LI 0 (no leap second announced by the reply either),
 * whose transmit timestamp carries the worker's mark
 * (NTP_XMT_REFINE: the lowest bit of its fraction; proto/ntp_wire.h) —
 * never an interleaved reply, whose transmit time is the previous
 * reply's stamp, nor a kiss-o'-death, nor an authenticated (longer)
 * reply, nor anything of another program's. Only while the serving state
 * horod publishes is on and fresh (the same rules as an XDP answer's:
 * bpf/guard_answer.h serve_read), so with the system clock as it is and
 * no leap second announced. Its transmit timestamp becomes the kernel's
 * time now (the mark kept), the root dispersion grows to it when that is
 * more than the worker wrote, the UDP checksum follows (nothing to do
 * for one the kernel completes later: CHECKSUM_PARTIAL; an IPv4 zero
 * stays zero), and the frame is counted as GUARD_C_STAMPED. Every frame
 * then goes on to the next program on the interface (TCX_NEXT).
 *
 * Part of bpf/guard.bpf.c, included once there after guard_reply.h (its
 * ntp_ts and root_disp are this program's arithmetic too).
 */
#ifndef HOROD_BPF_GUARD_EGRESS_H
#define HOROD_BPF_GUARD_EGRESS_H

#define TCX_NEXT_ (-1) /* tcx: on to the next program (TC_ACT_UNSPEC) */
#define EG_V4_LEN (ETH_HLEN + IPV4_HLEN + UDP_HLEN + NTP_HEADER_LEN)
#define EG_V6_LEN (ETH_HLEN + IPV6_HLEN + UDP_HLEN + NTP_HEADER_LEN)
#define EG_NTP_V4 (ETH_HLEN + IPV4_HLEN + UDP_HLEN)
#define EG_NTP_V6 (ETH_HLEN + IPV6_HLEN + UDP_HLEN)

#ifdef __TARGET_ARCH_x86
/*
 * A consistent copy of the serving state into S when it is stable and on
 * with no leap second announced, and NOW (CLOCK_TAI ns) read after it is
 * at most GUARD_SERVE_MAX_AGE_NS past its publication; 0, or -1 (the
 * worker's reading stays). A global function, as serve_read.
 */
__noinline int egress_serve(struct guard_serve *s, __u64 *now)
{
	volatile struct guard_state *g = &guard_state;
	__u32 seq = g->seq;

	if (!s || !now || (seq & 1) || !g->serve.on)
		return -1;
	/* x86_64: loads are not reordered with loads; the compiler must not either. */
	asm volatile("" ::: "memory");
	s->tai_to_real_ns = g->serve.tai_to_real_ns;
	s->pub_tai_ns = g->serve.pub_tai_ns;
	s->disp_ns = g->serve.disp_ns;
	s->disp_rate_s = g->serve.disp_rate_s;
	s->disp_rate_ns = g->serve.disp_rate_ns;
	s->on = g->serve.on;
	s->leap = g->serve.leap;
	asm volatile("" ::: "memory");
	if (g->seq != seq || !s->on || s->leap != NTP_LEAP_NONE)
		return -1;
	/* The time, read last: a publication from its future wraps to a huge age. */
	*now = serve_clock();
	if (*now - s->pub_tai_ns > GUARD_SERVE_MAX_AGE_NS)
		return -1;
	return 0;
}
#else
/* Elsewhere: the seqcount read above is written for x86_64's ordering only. */
__noinline int egress_serve(struct guard_serve *s, __u64 *now)
{
	return -1;
}
#endif

/* The UDP checksum at CSUM for the 4 bytes FROM becoming TO (as on the wire); 0 or -1. */
static __always_inline int eg_csum(struct __sk_buff *skb, __u32 csum, __u32 from, __u32 to,
				   __u64 mangled0)
{
	return bpf_l4_csum_replace(skb, csum, from, to, mangled0 | 4) < 0 ? -1 : 0;
}

/* The program on each guard interface's egress (see the top of the file). */
static __always_inline int egress_run(struct __sk_buff *skb)
{
	__u8 h[ETH_HLEN + IPV6_HLEN], u[UDP_HLEN + NTP_HEADER_LEN], *n = u + UDP_HLEN;
	__u32 len = skb->len, l4, key = GUARD_C_STAMPED;
	__u32 old_disp, new_disp, want, x_hi, x_lo;
	__u64 mangled0 = 0, now, xmt;
	struct guard_serve s = {};
	struct pkt p = {};
	struct guard_count *c;

	/* Forwarded frames (no local socket sent them) and, most, not the length of a reply. */
	if (!skb->sk)
		return TCX_NEXT_;
	if (len == EG_V4_LEN) {
		if (bpf_skb_load_bytes(skb, 0, h, ETH_HLEN + IPV4_HLEN) < 0)
			return TCX_NEXT_;
		if (skb->protocol != bpf_htons(ETHTYPE_IPV4) || be16(h + 12) != ETHTYPE_IPV4 ||
		    h[ETH_HLEN] != 0x45 || h[ETH_HLEN + 9] != IPPROTO_UDP_ ||
		    be16(h + ETH_HLEN + 2) != IPV4_HLEN + UDP_HLEN + NTP_HEADER_LEN ||
		    (be16(h + ETH_HLEN + 6) & (IP4_MF | IP4_OFFSET)))
			return TCX_NEXT_;
		__builtin_memcpy(p.ip_dst, h + ETH_HLEN + 12, 4);
		l4 = ETH_HLEN + IPV4_HLEN;
		mangled0 = BPF_F_MARK_MANGLED_0;
	} else if (len == EG_V6_LEN) {
		if (bpf_skb_load_bytes(skb, 0, h, ETH_HLEN + IPV6_HLEN) < 0)
			return TCX_NEXT_;
		if (skb->protocol != bpf_htons(ETHTYPE_IPV6) || be16(h + 12) != ETHTYPE_IPV6 ||
		    (h[ETH_HLEN] >> 4) != 6 || h[ETH_HLEN + 6] != IPPROTO_UDP_ ||
		    be16(h + ETH_HLEN + 4) != UDP_HLEN + NTP_HEADER_LEN)
			return TCX_NEXT_;
		__builtin_memcpy(p.ip_dst, h + ETH_HLEN + 8, 16);
		p.v6 = 1;
		l4 = ETH_HLEN + IPV6_HLEN;
	} else {
		return TCX_NEXT_;
	}
	if (bpf_skb_load_bytes(skb, l4, u, sizeof(u)) < 0)
		return TCX_NEXT_;
	/* UDP: from a listen address and port, the length of a bare header. */
	if (be16(u + 4) != UDP_HLEN + NTP_HEADER_LEN)
		return TCX_NEXT_;
	__builtin_memcpy(&p.dport, u, 2);
	if (!served_port(p.dport) || !listened(&p))
		return TCX_NEXT_;
	/* NTP: a synchronised server's reply with the worker's mark. */
	if ((n[NTP_OFF_LVM] & 7) != NTP_MODE_SERVER || n[NTP_OFF_STRATUM] == 0 ||
	    n[NTP_OFF_STRATUM] > 15 || (n[NTP_OFF_LVM] >> 6) != NTP_LEAP_NONE ||
	    !(n[NTP_OFF_XMT + 7] & NTP_XMT_REFINE))
		return TCX_NEXT_;
	if (egress_serve(&s, &now) < 0)
		return TCX_NEXT_;

	/* From here on only arithmetic and the stores. */
	want = root_disp(&s, now - s.pub_tai_ns);
	__builtin_memcpy(&old_disp, n + NTP_OFF_ROOT_DISP, 4);
	new_disp = bpf_ntohl(old_disp) < bpf_ntohl(want) ? want : old_disp;
	/* The mark stays (network byte order: the fraction's last byte is the highest here). */
	xmt = ntp_ts(now + (__u64)s.tai_to_real_ns) | (__u64)NTP_XMT_REFINE << 56;
	__builtin_memcpy(&x_hi, n + NTP_OFF_XMT, 4);
	__builtin_memcpy(&x_lo, n + NTP_OFF_XMT + 4, 4);
	/*
	 * Each store, then its checksum change: a failed store leaves the
	 * reply as the worker wrote it, or with only its dispersion grown;
	 * the transmit time goes in one store, never half of it. A failed
	 * checksum change (it cannot fail at these fixed offsets of a frame
	 * the store just made writable) would leave a bad checksum: a reply
	 * the client drops, never a wrong time.
	 */
	if (new_disp != old_disp) {
		if (bpf_skb_store_bytes(skb, l4 + UDP_HLEN + NTP_OFF_ROOT_DISP, &new_disp, 4, 0) <
		    0)
			return TCX_NEXT_;
		eg_csum(skb, l4 + 6, old_disp, new_disp, mangled0);
	}
	if (bpf_skb_store_bytes(skb, l4 + UDP_HLEN + NTP_OFF_XMT, &xmt, 8, 0) < 0)
		return TCX_NEXT_;
	eg_csum(skb, l4 + 6, x_hi, (__u32)xmt, mangled0);
	eg_csum(skb, l4 + 6, x_lo, (__u32)(xmt >> 32), mangled0);
	c = bpf_map_lookup_elem(&counters, &key);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
	if (guard_cfg.flags & GUARD_F_TEST)
		guard_test_reason = GUARD_C_STAMPED;
	return TCX_NEXT_;
}

#endif /* HOROD_BPF_GUARD_EGRESS_H */
