/*
 * The guard tests' frames: builder, reference parser and kiss-o'-death
 * checks (frames.h). The parser is the specification of what the XDP
 * program does below NTP, written independently of it in offset style:
 * every length is checked against what the frame holds before it is
 * used, exactly where the guard checks it, so any frame — random bytes
 * included — gets one answer.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "proto/ntp.h"
#include "tests/bpf/frames.h"

#define ETH_LEN	    14	 /* bytes: Ethernet header */
#define VLAN_LEN    4	 /* bytes: one VLAN tag */
#define V4_LEN	    20	 /* bytes: IPv4 header without options */
#define V6_LEN	    40	 /* bytes: IPv6 fixed header */
#define UDP_LEN	    8	 /* bytes: UDP header */
#define MAX_VLANS   2	 /* tags the guard walks (GUARD_MAX_VLANS) */
#define MAX_V6_EXT  4	 /* extension headers the guard walks (GUARD_MAX_V6_EXT) */
#define MAX_EXT_OFF 2048 /* bytes: IPv6 headers the guard reads past */
#define KOD_TTL	    64	 /* hops: the TTL / hop limit the guard puts on a kiss-o'-death */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 sum of N bytes at P (N even) added to SUM, not folded. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += rd16(p + i);
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t fr_build(const struct fr_spec *s, uint8_t *out)
{
	size_t off = 0, l3, l4, iplen, i;
	int e;

	memcpy(out, s->dmac, 6);
	memcpy(out + 6, s->smac, 6);
	off = 12;
	for (e = 0; e < s->nvlan; e++) {
		wr16(out + off, s->tpid[e]);
		wr16(out + off + 2, s->tci[e]);
		off += VLAN_LEN;
	}
	wr16(out + off, s->ethertype);
	off += 2;
	l3 = off;
	if (!s->v6) {
		iplen = V4_LEN + (size_t)s->optlen;
		if (l3 + iplen + UDP_LEN + s->plen > FR_MAX)
			return 0;
		memset(out + l3, 0, iplen);
		out[l3] = (uint8_t)(0x40 | iplen / 4);
		wr16(out + l3 + 2, (uint16_t)(iplen + UDP_LEN + s->plen));
		wr16(out + l3 + 4, 0x1234);
		wr16(out + l3 + 6, s->frag == 1 ? 0x2000 : s->frag == 2 ? 0x0010 : 0);
		out[l3 + 8] = 64;
		out[l3 + 9] = s->proto;
		memcpy(out + l3 + 12, s->src, 4);
		memcpy(out + l3 + 16, s->dst, 4);
		for (i = V4_LEN; i < iplen; i++)
			out[l3 + i] = 1; /* NOP options */
		wr16(out + l3 + 10, fold(sum16(out + l3, iplen, 0)));
	} else {
		size_t x = V6_LEN;
		uint8_t *nh = out + l3 + 6;

		iplen = V6_LEN;
		for (e = 0; e < s->n_ext; e++)
			iplen += s->ext_type[e] == 44 ? 8 : (size_t)s->ext_len[e];
		if (l3 + iplen + UDP_LEN + s->plen > FR_MAX)
			return 0;
		memset(out + l3, 0, iplen);
		out[l3] = 0x60;
		wr16(out + l3 + 4, (uint16_t)(iplen - V6_LEN + UDP_LEN + s->plen));
		out[l3 + 7] = 64;
		memcpy(out + l3 + 8, s->src, 16);
		memcpy(out + l3 + 24, s->dst, 16);
		for (e = 0; e < s->n_ext; e++) {
			*nh = s->ext_type[e];
			nh = out + l3 + x;
			if (s->ext_type[e] == 44) {
				wr16(out + l3 + x + 2, s->frag == 2   ? 0x0100
						       : s->frag == 1 ? 1
								      : 0);
				x += 8;
			} else {
				out[l3 + x + 1] = (uint8_t)(s->ext_len[e] / 8 - 1);
				x += (size_t)s->ext_len[e];
			}
		}
		*nh = s->proto;
	}
	l4 = l3 + iplen;
	wr16(out + l4, s->sport);
	wr16(out + l4 + 2, s->dport);
	wr16(out + l4 + 4, (uint16_t)(UDP_LEN + s->plen));
	wr16(out + l4 + 6, 0);
	if (s->plen)
		memcpy(out + l4 + UDP_LEN, s->payload, s->plen);
	if (!s->v6 && s->bad_ipsum)
		wr16(out + l3 + 10, (uint16_t)(rd16(out + l3 + 10) + 1));
	if (!s->frag && s->proto == 17) {
		struct fr_parsed p = {.l2 = l3, .udp = l4, .v6 = s->v6};

		if (s->udp_csum == FR_CSUM_PARTIAL)
			fr_set_udp_csum_partial(out, &p);
		else if (s->udp_csum != FR_CSUM_ZERO)
			fr_set_udp_csum(out, &p);
		if (s->udp_csum == FR_CSUM_BAD) {
			uint16_t c = (uint16_t)(rd16(out + l4 + 6) + 1);

			wr16(out + l4 + 6, c ? c : 2); /* never 0, which IPv4 takes as none */
		}
	}
	return l4 + UDP_LEN + s->plen;
}

static int served(uint16_t port, const uint16_t *ports, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ports[i] == port)
			return 1;
	return 0;
}

/* Fill OUT->src from the wire source address A (IPv4 or IPv6, as sent). */
static void set_src(struct fr_parsed *out, const uint8_t *a, int v6)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->src;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->src;

	memset(&out->src, 0, sizeof(out->src));
	if (v6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
	} else {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
	}
}

/* The UDP part once IP is done: UDP at U, IP payload ending at END (frame offsets). */
static void parse_udp(const uint8_t *f, size_t u, size_t end, int first_frag, const uint16_t *ports,
		      int n, struct fr_parsed *out)
{
	size_t ulen;

	if (u + UDP_LEN > end) {
		out->kind = FR_INVALID;
		return;
	}
	if (!served(rd16(f + u + 2), ports, n)) {
		out->kind = FR_OTHER;
		return;
	}
	out->udp = u;
	if (first_frag) {
		out->kind = FR_FIRST_FRAG;
		return;
	}
	ulen = rd16(f + u + 4);
	if (ulen < UDP_LEN || ulen > end - u) {
		out->kind = FR_INVALID;
		return;
	}
	out->kind = FR_NTP;
	out->payload = f + u + UDP_LEN;
	out->plen = ulen - UDP_LEN;
}

void fr_parse(const uint8_t *f, size_t len, const uint16_t *ports, int n, struct fr_parsed *out)
{
	size_t off = 12, l3, ihl, tot, paylen, ext, hl;
	uint16_t type;
	int i, frag = 0;
	uint8_t nh;

	memset(out, 0, sizeof(*out));
	out->kind = FR_INVALID;
	if (len < ETH_LEN)
		return;
	type = rd16(f + off);
	off += 2;
	for (i = 0; i < MAX_VLANS && (type == 0x8100 || type == 0x88A8); i++) {
		if (off + VLAN_LEN > len)
			return;
		type = rd16(f + off + 2);
		off += VLAN_LEN;
	}
	out->l2 = l3 = off;
	if (type == 0x0800) {
		if (l3 + V4_LEN > len || f[l3] >> 4 != 4)
			return;
		ihl = (size_t)(f[l3] & 15) * 4;
		tot = rd16(f + l3 + 2);
		if (ihl < V4_LEN || tot < ihl || l3 + tot > len)
			return;
		if (f[l3 + 9] != 17) {
			out->kind = FR_OTHER;
			return;
		}
		if (rd16(f + l3 + 6) & 0x1fff) {
			out->kind = FR_FRAGMENT;
			return;
		}
		if (tot < ihl + UDP_LEN)
			return;
		out->l3len = ihl;
		set_src(out, f + l3 + 12, 0);
		parse_udp(f, l3 + ihl, l3 + tot, (rd16(f + l3 + 6) & 0x2000) != 0, ports, n, out);
		return;
	}
	if (type != 0x86DD) {
		out->kind = FR_OTHER;
		return;
	}
	if (l3 + V6_LEN > len || f[l3] >> 4 != 6)
		return;
	paylen = rd16(f + l3 + 4);
	if (paylen == 0 || l3 + V6_LEN + paylen > len)
		return;
	nh = f[l3 + 6];
	ext = V6_LEN;
	for (i = 0; i < MAX_V6_EXT && nh != 17; i++) {
		if (ext > MAX_EXT_OFF)
			return;
		if (nh == 44) {
			if (l3 + ext + 8 > len || ext + 8 > V6_LEN + paylen)
				return;
			if (rd16(f + l3 + ext + 2) & 0xfff8) {
				out->kind = f[l3 + ext] == 17 ? FR_FRAGMENT : FR_OTHER;
				return;
			}
			frag |= rd16(f + l3 + ext + 2) & 1;
			nh = f[l3 + ext];
			ext += 8;
			continue;
		}
		if (nh != 0 && nh != 43 && nh != 60) {
			out->kind = FR_OTHER;
			return;
		}
		if (l3 + ext + 2 > len)
			return;
		hl = ((size_t)f[l3 + ext + 1] + 1) * 8;
		nh = f[l3 + ext];
		ext += hl;
		if (ext > V6_LEN + paylen)
			return;
	}
	if (nh != 17) {
		out->kind = FR_OTHER;
		return;
	}
	if (ext > MAX_EXT_OFF || ext + UDP_LEN > V6_LEN + paylen)
		return;
	out->v6 = 1;
	out->l3len = ext;
	set_src(out, f + l3 + 8, 1);
	parse_udp(f, l3 + ext, l3 + V6_LEN + paylen, frag, ports, n, out);
}

/* The UDP checksum's sum over FRAME's pseudo-header and UDP header and payload, not folded. */
static uint32_t udp_sum(const uint8_t *f, const struct fr_parsed *p)
{
	size_t l3 = p->l2, ulen = rd16(f + p->udp + 4);
	uint32_t sum;

	if (p->v6)
		sum = sum16(f + l3 + 8, 32, 0);
	else
		sum = sum16(f + l3 + 12, 8, 0);
	sum += 17 + (uint32_t)ulen;
	/* An odd length ends with a byte padded by a zero one (RFC 768). */
	sum = sum16(f + p->udp, ulen & ~(size_t)1, sum);
	if (ulen & 1)
		sum += (uint32_t)f[p->udp + ulen - 1] << 8;
	return sum;
}

void fr_set_udp_csum(uint8_t *f, const struct fr_parsed *p)
{
	uint16_t c;

	wr16(f + p->udp + 6, 0);
	c = fold(udp_sum(f, p));
	wr16(f + p->udp + 6, c ? c : 0xffff);
}

void fr_set_udp_csum_partial(uint8_t *f, const struct fr_parsed *p)
{
	size_t l3 = p->l2;
	uint32_t sum;

	/* ~csum_tcpudp_magic(): the pseudo-header's sum, folded, not complemented. */
	sum = p->v6 ? sum16(f + l3 + 8, 32, 0) : sum16(f + l3 + 12, 8, 0);
	sum += 17 + (uint32_t)rd16(f + p->udp + 4);
	wr16(f + p->udp + 6, (uint16_t)~fold(sum));
}

int fr_intact(const uint8_t *f, const struct fr_parsed *p)
{
	size_t l3 = p->l2;

	if (p->kind != FR_NTP || p->l2 != ETH_LEN || p->plen != NTP_HEADER_LEN)
		return 0;
	if (p->v6) {
		if (p->l3len != V6_LEN || rd16(f + p->udp + 6) == 0)
			return 0;
	} else {
		if (p->l3len != V4_LEN || fold(sum16(f + l3, V4_LEN, 0)) != 0)
			return 0;
		if (rd16(f + p->udp + 6) == 0)
			return 1; /* IPv4: no checksum */
	}
	return fold(udp_sum(f, p)) == 0;
}

/* 1 when the LEN bytes at A are all 0. */
static int all_zero(const uint8_t *a, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i])
			return 0;
	return 1;
}

/* 1 when A (FAMILY's length) is in HOST's table; IPv6 link-local only on IFINDEX. */
static int host_has(const struct guard_host *h, int v6, const uint8_t *a, uint32_t ifindex)
{
	uint32_t i;

	if (!v6) {
		for (i = 0; i < h->n4 && i < GUARD_HOST_ADDRS; i++)
			if (memcmp(&h->v4[i], a, 4) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < h->n6 && i < GUARD_HOST_ADDRS; i++)
		if (memcmp(h->v6[i], a, 16) == 0 &&
		    (!(a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || h->v6_ifindex[i] == ifindex))
			return 1;
	return 0;
}

/* 1 when the IPv4 address A is martian as a destination (DST) or a source, off loopback if !LO. */
static int martian4(const uint8_t *a, int lo)
{
	static const uint8_t bcast[4] = {255, 255, 255, 255};

	return a[0] == 0 || (a[0] >= 224 && a[0] <= 239) || memcmp(a, bcast, 4) == 0 ||
	       (a[0] == 127 && !lo);
}

/* 1 when the IPv6 address A is multicast, loopback off loopback, unspecified or IPv4-mapped. */
static int martian6(const uint8_t *a, int lo)
{
	static const uint8_t one[16] = {[15] = 1};
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	return a[0] == 0xff || (memcmp(a, one, 16) == 0 && !lo) || all_zero(a, 16) ||
	       memcmp(a, mapped, 12) == 0;
}

int fr_for_us(const uint8_t *f, const struct fr_parsed *p, const struct guard_host *h,
	      const struct guard_listen *listen, int n, uint32_t ifindex)
{
	const uint8_t *src, *dst;
	uint16_t dport;
	uint32_t i;
	int lo = ifindex == 1, k, alen = p->v6 ? 16 : 4, listened = 0;

	if (p->kind != FR_NTP)
		return 0;
	/* The frame's destination MAC: the arrival interface's own. */
	for (i = 0; i < h->n_if && i < GUARD_MAX_IFACES; i++)
		if (h->ifindex[i] == ifindex)
			break;
	if (i == h->n_if || i == GUARD_MAX_IFACES || memcmp(f, h->mac[i], 6) != 0)
		return 0;
	src = f + p->l2 + (p->v6 ? 8 : 12);
	dst = f + p->l2 + (p->v6 ? 24 : 16);
	dport = rd16(f + p->udp + 2);
	for (k = 0; k < n; k++) {
		if (listen[k].family != (p->v6 ? GUARD_FAMILY_V6 : GUARD_FAMILY_V4) ||
		    ntohs(listen[k].port) != dport)
			continue;
		if (listen[k].wildcard || memcmp(listen[k].addr, dst, (size_t)alen) == 0)
			listened = 1;
	}
	if (!listened)
		return 0;
	if (p->v6)
		return !martian6(src, lo) && !martian6(dst, lo) && host_has(h, 1, dst, ifindex);
	/* An IPv4 source of our own, from outside: martian (accept_local off). */
	if (martian4(src, lo) || martian4(dst, lo) || (!lo && host_has(h, 0, src, ifindex)))
		return 0;
	return host_has(h, 0, dst, ifindex);
}

size_t fr_expected_kod(const uint8_t *f, const struct fr_parsed *p, const char *code, uint8_t *out)
{
	size_t l3 = p->l2, u, n;
	uint32_t sum;

	memcpy(out, f, p->l2);
	memcpy(out, f + 6, 6);
	memcpy(out + 6, f, 6);
	if (p->v6) {
		memset(out + l3, 0, V6_LEN);
		out[l3] = 0x60;
		wr16(out + l3 + 4, UDP_LEN + NTP_HEADER_LEN);
		out[l3 + 6] = 17;
		out[l3 + 7] = KOD_TTL;
		memcpy(out + l3 + 8, f + l3 + 24, 16);
		memcpy(out + l3 + 24, f + l3 + 8, 16);
		u = l3 + V6_LEN;
		sum = sum16(out + l3 + 8, 32, 0) + UDP_LEN + NTP_HEADER_LEN + 17;
	} else {
		memset(out + l3, 0, V4_LEN);
		out[l3] = 0x45;
		wr16(out + l3 + 2, V4_LEN + UDP_LEN + NTP_HEADER_LEN);
		wr16(out + l3 + 6, 0x4000);
		out[l3 + 8] = KOD_TTL;
		out[l3 + 9] = 17;
		memcpy(out + l3 + 12, f + l3 + 16, 4);
		memcpy(out + l3 + 16, f + l3 + 12, 4);
		wr16(out + l3 + 10, fold(sum16(out + l3, V4_LEN, 0)));
		u = l3 + V4_LEN;
		sum = sum16(out + l3 + 12, 8, 0) + UDP_LEN + NTP_HEADER_LEN + 17;
	}
	memcpy(out + u, f + p->udp + 2, 2);
	memcpy(out + u + 2, f + p->udp, 2);
	wr16(out + u + 4, UDP_LEN + NTP_HEADER_LEN);
	wr16(out + u + 6, 0);
	ntp_build_kod(p->payload, code, out + u + UDP_LEN);
	n = u + UDP_LEN + NTP_HEADER_LEN;
	sum = sum16(out + u, UDP_LEN + NTP_HEADER_LEN, sum);
	wr16(out + u + 6, fold(sum) ? fold(sum) : 0xffff);
	return n;
}

/* The Ethernet, IP and UDP checks of a 48-byte reply R to REQ; NULL or why; *NTP = payload offset.
 */
static const char *check_reply_headers(const uint8_t *req, const struct fr_parsed *p,
				       const uint8_t *r, size_t rlen, size_t *ntp)
{
	size_t l3 = p->l2, u;
	uint32_t sum;

	if (rlen != l3 + (p->v6 ? V6_LEN : V4_LEN) + UDP_LEN + NTP_HEADER_LEN)
		return "the frame should be headers + 48 bytes";
	if (memcmp(r, req + 6, 6) != 0 || memcmp(r + 6, req, 6) != 0)
		return "the MAC addresses should be swapped";
	if (memcmp(r + 12, req + 12, l3 - 12) != 0)
		return "the VLAN tags and ethertype should be kept";
	if (p->v6) {
		if (r[l3] >> 4 != 6 || rd16(r + l3 + 4) != UDP_LEN + NTP_HEADER_LEN ||
		    r[l3 + 6] != 17)
			return "the IPv6 header should say UDP, 56 bytes";
		if (memcmp(r + l3 + 8, req + l3 + 24, 16) || memcmp(r + l3 + 24, req + l3 + 8, 16))
			return "the IPv6 addresses should be swapped";
		u = l3 + V6_LEN;
		sum = sum16(r + l3 + 8, 32, 0) + UDP_LEN + NTP_HEADER_LEN + 17;
	} else {
		if (r[l3] != 0x45 || rd16(r + l3 + 2) != V4_LEN + UDP_LEN + NTP_HEADER_LEN ||
		    r[l3 + 9] != 17 || r[l3 + 8] == 0)
			return "the IPv4 header should be 20 bytes, UDP, 76 bytes, TTL > 0";
		if (fold(sum16(r + l3, V4_LEN, 0)) != 0)
			return "the IPv4 header checksum should be valid";
		if (memcmp(r + l3 + 12, req + l3 + 16, 4) || memcmp(r + l3 + 16, req + l3 + 12, 4))
			return "the IPv4 addresses should be swapped";
		u = l3 + V4_LEN;
		sum = sum16(r + l3 + 12, 8, 0) + UDP_LEN + NTP_HEADER_LEN + 17;
	}
	if (memcmp(r + u, req + p->udp + 2, 2) || memcmp(r + u + 2, req + p->udp, 2))
		return "the UDP ports should be swapped";
	if (rd16(r + u + 4) != UDP_LEN + NTP_HEADER_LEN)
		return "the UDP length should be 56";
	if (rd16(r + u + 6) == 0 || fold(sum16(r + u, UDP_LEN + NTP_HEADER_LEN, sum)) != 0)
		return "the UDP checksum should be valid";
	*ntp = u + UDP_LEN;
	return NULL;
}

const char *fr_check_reply(const uint8_t *req, const struct fr_parsed *p, const uint8_t *r,
			   size_t rlen, const uint8_t **ntp)
{
	const char *why;
	size_t off;

	why = check_reply_headers(req, p, r, rlen, &off);
	*ntp = why ? NULL : r + off;
	return why;
}

const char *fr_check_kod(const uint8_t *req, const struct fr_parsed *p, const uint8_t *r,
			 size_t rlen, const char *code)
{
	const char *why;
	size_t ntp, u;
	int mode;

	why = check_reply_headers(req, p, r, rlen, &ntp);
	if (why)
		return why;
	mode = (p->payload[0] & 7) == 1 ? 2 : 4;
	if (r[ntp] >> 6 != 3 || ((r[ntp] >> 3) & 7) != ((p->payload[0] >> 3) & 7) ||
	    (r[ntp] & 7) != mode)
		return "LI should be 3, VN echoed, mode 4 (2 for mode 1)";
	if (r[ntp + 1] != 0)
		return "the stratum should be 0";
	if (memcmp(r + ntp + 12, code, 4) != 0)
		return "the refid should be the KoD code";
	if (memcmp(r + ntp + 24, p->payload + 40, 8) != 0)
		return "the origin should be the request's transmit timestamp";
	for (u = 2; u < NTP_HEADER_LEN; u++)
		if ((u < 12 || u >= 16) && (u < 24 || u >= 32) && r[ntp + u] != 0)
			return "every other field should be 0";
	return NULL;
}
