/*
 * The XDP guard's reply builder: a request rewritten in place into a
 * kiss-o'-death or (`guard serve on`) into the answer a worker would
 * send. Part of bpf/guard.bpf.c, included once there after the
 * definitions it uses (struct pkt, ctx_data/ctx_end, the header and NTP
 * constants, and guard_answer.h's checksums and struct serve_now): one BPF
 * object, split for length.
 */
#ifndef HOROD_BPF_GUARD_REPLY_H
#define HOROD_BPF_GUARD_REPLY_H

/* NTP timestamp (network byte order) of REAL_NS ns since the Unix epoch (not negative). */
static __always_inline __u64 ntp_ts(__u64 real_ns)
{
	__u64 sec = real_ns / NS_PER_SEC, ns = real_ns - sec * NS_PER_SEC;
	__u64 frac = ((ns << NTP_NS_FRAC_SHIFT) + NTP_NS_FRAC_DIV / 2) / NTP_NS_FRAC_DIV;

	return bpf_cpu_to_be64((__u64)(__u32)(sec + NTP_UNIX_EPOCH) << 32 | frac);
}

/*
 * Root dispersion (short format, network byte order) SINCE ns after the
 * publication: disp_ns + SINCE * rate / 10^9, rounded up, and the largest
 * value as soon as it would pass 65536 s, whatever the rate (no product
 * can wrap). The publisher splits the rate into whole seconds per second
 * (R1, 0 for any real clock) and the rest (R0 < 10^9): SINCE < 2^32 keeps
 * SINCE * R0 below 2^62, and SINCE * R1 is only formed when it stays
 * below GUARD_DISP_MAX_NS.
 */
static __always_inline __u32 root_disp(const struct guard_serve *s, __u64 since)
{
	__u64 d = s->disp_ns, r1 = s->disp_rate_s, r0 = s->disp_rate_ns;

	if (d >= GUARD_DISP_MAX_NS || since >= (1ULL << 32))
		return bpf_htonl(NTP_SHORT_MAX);
	if (r1 && since > (GUARD_DISP_MAX_NS - d) / r1)
		return bpf_htonl(NTP_SHORT_MAX);
	d += since * r1;
	d += (since * r0 + NS_PER_SEC - 1) / NS_PER_SEC;
	if (d >= GUARD_DISP_MAX_NS)
		return bpf_htonl(NTP_SHORT_MAX);
	/* d < 2^46: d << 16 does not wrap; ns to 1/65536 s, rounded up. */
	d = ((d << 16) + NS_PER_SEC - 1) / NS_PER_SEC;
	return bpf_htonl(d > NTP_SHORT_MAX ? NTP_SHORT_MAX : (__u32)d);
}

/*
 * Turn the request P into a reply, in place: MAC addresses, IP addresses
 * and UDP ports swapped, VLAN tags kept, IP options or IPv6 extension
 * headers removed, payload cut to 48 bytes, fresh IPv4 and UDP
 * checksums. With SV NULL, a kiss-o'-death: LI 3, the request's version,
 * mode 4 (2 for mode 1), stratum 0, refid CODE, origin = the request's
 * transmit timestamp, the rest 0. With SV, the answer to a mode 3 request
 * as a worker builds it (proto's ntp_build_reply) from the published
 * state: receive = SV's receive time (the NIC's or the kernel's), transmit read after everything
 * but the root dispersion (grown to it) and the UDP checksum. 0 on success; -1 when the frame could
 * not be rewritten.
 */
static __always_inline int make_reply(struct xdp_md *ctx, const struct pkt *p, __u32 code,
				      const struct serve_now *sv)
{
	void *data = ctx_data(ctx);
	void *end = ctx_end(ctx);
	__u8 l2[ETH_HLEN + GUARD_MAX_VLANS * VLAN_HLEN];
	__u32 l2len = p->l2, base = p->v6 ? IPV6_HLEN : IPV4_HLEN;
	__u32 strip = p->l3len - base, newlen, curlen, off;
	__u8 lvm, vn, mode, *ip, *udp, *ntp;
	__u16 sport, dport;
	__s8 poll;
	__u64 xmt, tx;
	__u64 sum = 0;
	int i;

	/* Everything kept is read before the frame moves. */
	if (data + sizeof(l2) > end)
		return -1;
	__builtin_memcpy(l2, data, sizeof(l2));
	off = p->udp;
	if (off > PKT_OFF_MAX)
		return -1;
	udp = data + off;
	if ((void *)(udp + UDP_HLEN + NTP_HEADER_LEN) > end)
		return -1;
	sport = *(__u16 *)udp;
	dport = *(__u16 *)(udp + 2);
	ntp = udp + UDP_HLEN;
	vn = (ntp[NTP_OFF_LVM] >> 3) & 7;
	mode = (ntp[NTP_OFF_LVM] & 7) == NTP_MODE_ACTIVE ? NTP_MODE_PASSIVE : NTP_MODE_SERVER;
	__builtin_memcpy(&xmt, ntp + NTP_OFF_XMT, NTP_TS_LEN);
	poll = (__s8)ntp[NTP_OFF_POLL];
	lvm = (__u8)((sv ? sv->s.leap & 3 : NTP_LEAP_UNSYNC) << 6 | vn << 3 | mode);

	curlen = (__u32)(end - data);
	newlen = l2len + base + UDP_HLEN + NTP_HEADER_LEN;
	if (strip > 2048 || l2len > sizeof(l2) || curlen < newlen + strip)
		return -1;
	if (strip && bpf_xdp_adjust_head(ctx, (int)strip))
		return -1;
	if (bpf_xdp_adjust_tail(ctx, -(int)(curlen - strip - newlen)))
		return -1;

	data = ctx_data(ctx);
	end = ctx_end(ctx);
	if (data + sizeof(l2) > end)
		return -1;
	/* Ethernet (and VLAN tags): the request's, with the MAC addresses swapped. */
	__builtin_memcpy(data, l2, sizeof(l2));
	__builtin_memcpy(data, l2 + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(data + ETH_ALEN, l2, ETH_ALEN);

	ip = data + l2len;
	if (p->v6) {
		if ((void *)(ip + IPV6_HLEN + UDP_HLEN + NTP_HEADER_LEN) > end)
			return -1;
		*(__u32 *)ip = bpf_htonl(0x60000000); /* version 6, traffic class 0, flow 0 */
		*(__u16 *)(ip + 4) = bpf_htons(UDP_HLEN + NTP_HEADER_LEN);
		ip[6] = IPPROTO_UDP_;
		ip[7] = REPLY_TTL;
		__builtin_memcpy(ip + 8, p->ip_dst, 16);
		__builtin_memcpy(ip + 24, p->ip_src, 16);
		udp = ip + IPV6_HLEN;
		/* Pseudo-header: addresses, upper-layer length, next header. */
		sum = csum_words(ip + 8, 32, 0);
		sum += bpf_htons(UDP_HLEN + NTP_HEADER_LEN);
		sum += bpf_htons(IPPROTO_UDP_);
	} else {
		if ((void *)(ip + IPV4_HLEN + UDP_HLEN + NTP_HEADER_LEN) > end)
			return -1;
		ip[0] = 0x45; /* version 4, 5 words */
		ip[1] = 0;
		*(__u16 *)(ip + 2) = bpf_htons(IPV4_HLEN + UDP_HLEN + NTP_HEADER_LEN);
		*(__u16 *)(ip + 4) = 0;
		*(__u16 *)(ip + 6) = bpf_htons(IP4_DF);
		ip[8] = REPLY_TTL;
		ip[9] = IPPROTO_UDP_;
		*(__u16 *)(ip + 10) = 0;
		__builtin_memcpy(ip + 12, p->ip_dst, 4);
		__builtin_memcpy(ip + 16, p->ip_src, 4);
		*(__u16 *)(ip + 10) = csum_fold(csum_words(ip, IPV4_HLEN, 0));
		udp = ip + IPV4_HLEN;
		sum = csum_words(ip + 12, 8, 0);
		sum += bpf_htons(UDP_HLEN + NTP_HEADER_LEN);
		sum += bpf_htons(IPPROTO_UDP_);
	}
	if ((void *)(udp + UDP_HLEN + NTP_HEADER_LEN) > end)
		return -1;
	*(__u16 *)udp = dport;
	*(__u16 *)(udp + 2) = sport;
	*(__u16 *)(udp + 4) = bpf_htons(UDP_HLEN + NTP_HEADER_LEN);
	*(__u16 *)(udp + 6) = 0;
	ntp = udp + UDP_HLEN;
	for (i = 0; i < NTP_HEADER_LEN / 4; i++)
		((__u32 *)ntp)[i] = 0;
	ntp[NTP_OFF_LVM] = lvm;
	__builtin_memcpy(ntp + NTP_OFF_ORG, &xmt, NTP_TS_LEN);
	if (!sv) {
		*(__u32 *)(ntp + NTP_OFF_REFID) = bpf_htonl(code);
	} else {
		ntp[NTP_OFF_STRATUM] = (sv->s.leap & 3) == NTP_LEAP_UNSYNC ? 0 : sv->s.stratum;
		ntp[NTP_OFF_POLL] = poll < 0 ? 0 : poll > NTP_MAX_POLL ? NTP_MAX_POLL : (__u8)poll;
		ntp[NTP_OFF_PRECISION] = (__u8)sv->s.precision;
		*(__u32 *)(ntp + NTP_OFF_ROOT_DELAY) = sv->s.root_delay;
		*(__u32 *)(ntp + NTP_OFF_REFID) = sv->s.refid;
		__builtin_memcpy(ntp + NTP_OFF_REF, &sv->s.ref_ts, NTP_TS_LEN);
		xmt = ntp_ts(sv->rx_real_ns);
		__builtin_memcpy(ntp + NTP_OFF_REC, &xmt, NTP_TS_LEN);
		/* The transmit time: read last, only arithmetic and the checksum follow. */
		tx = serve_clock();
		*(__u32 *)(ntp + NTP_OFF_ROOT_DISP) =
			root_disp(&sv->s, tx > sv->s.pub_tai_ns ? tx - sv->s.pub_tai_ns : 0);
		xmt = ntp_ts(tx + (__u64)sv->s.tai_to_real_ns);
		__builtin_memcpy(ntp + NTP_OFF_XMT, &xmt, NTP_TS_LEN);
	}
	sum = csum_words(udp, UDP_HLEN + NTP_HEADER_LEN, sum);
	*(__u16 *)(udp + 6) = csum_fold(sum) ?: 0xffff;
	return 0;
}

#endif /* HOROD_BPF_GUARD_REPLY_H */
