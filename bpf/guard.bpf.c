/*
 * The XDP guard: classify every NTP request at the driver and drop what
 * horod would refuse anyway, before it costs an skb, a socket wake-up and
 * two syscalls. It parses Ethernet (up to two VLAN tags), IPv4 (options,
 * fragments) and IPv6 (extension headers, fragments) down to UDP to one
 * of the served ports, and decides the way horod's workers do
 * (daemon/policy/policy.c, the reference the differential test compares with):
 *
 *   1. malformed (proto's ntp_classify: length, version, mode, mode 6
 *      from a non-control source, extension fields) → drop;
 *   2. denied by the access list (deny wins; no allow rule = allow all)
 *      → drop, or a DENY kiss-o'-death when configured;
 *   3. over its rate (one entry per IPv4 address or IPv6 /64: a burst,
 *      then one per interval, 1 in 2^leak let through anyway) → drop, or
 *      a RATE kiss-o'-death (at most one per source per interval);
 *   4. otherwise → answered here with time (`guard serve on`) when it is
 *      a plain client request a socket of horod's would receive, not
 *      one that may be interleaved (RFC 9769: only the workers hold the
 *      transmit stamps it asks for), and the state horod published is
 *      fresh (guard_answer.h), else passed to the socket.
 *
 * A first fragment is only checked by its source (2 and 3, no
 * kiss-o'-death); later fragments, and everything that is not UDP to a
 * served port, pass untouched. Every verdict leaves through guard_exit(),
 * which counts it per CPU (packets and bytes, by reason) and records
 * denied and over-rate sources in the top-talkers table. A kiss-o'-death
 * or an answer is the request rewritten in place (bpf/guard_reply.h) and
 * sent back with XDP_TX, only to a request for horod (guard_answer.h); a
 * kiss-o'-death that may not go out is the drop it stands for.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/guard_layout.h"
#include "proto/ntp_wire.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Ethernet, IP and UDP constants (vmlinux.h has the kernel's types but
 * not its macros); NTP's are proto/ntp_wire.h's, the same as horod's.
 * Lengths in bytes; the rest are protocol numbers, named by their RFC.
 */
#define ETH_ALEN	6      /* bytes in a MAC address */
#define ETH_HLEN	14     /* bytes: destination, source, ethertype */
#define VLAN_HLEN	4      /* bytes: TCI + inner ethertype */
#define ETHTYPE_IPV4	0x0800 /* ethertype of IPv4 */
#define ETHTYPE_IPV6	0x86DD /* ethertype of IPv6 */
#define ETHTYPE_8021Q	0x8100 /* ethertype of a customer VLAN tag */
#define ETHTYPE_8021AD	0x88A8 /* ethertype of a service (outer) VLAN tag */
#define IPV4_HLEN	20     /* bytes: header without options */
#define IPV6_HLEN	40     /* bytes: fixed header */
#define UDP_HLEN	8      /* bytes: ports, length, checksum */
#define IPPROTO_UDP_	17     /* IP protocol / next header of UDP */
#define IP6_HOPOPTS	0      /* next header: hop-by-hop options */
#define IP6_ROUTING	43     /* next header: routing header */
#define IP6_FRAGMENT	44     /* next header: fragment header */
#define IP6_DSTOPTS	60     /* next header: destination options */
#define IP6_FRAG_HLEN	8      /* bytes in a fragment header */
#define IP4_MF		0x2000 /* more-fragments flag */
#define IP4_OFFSET	0x1fff /* fragment offset, 8-byte units */
#define IP4_DF		0x4000 /* don't-fragment flag, set on a kiss-o'-death */
#define IP6_FRAG_OFFSET 0xfff8 /* fragment offset bits of the fragment header */
#define IP6_FRAG_MF	0x0001 /* more-fragments bit of the fragment header */
#define REPLY_TTL	64     /* hops: TTL / hop limit of a kiss-o'-death (Linux's default) */

#define NS_PER_SEC 1000000000ULL /* ns in one second */
/*
 * Largest offset into a frame the parser reads at: the verifier wants
 * packet offsets well below 64 KiB, and a classified payload ends before
 * 22 (L2) + 40 + 2048 (IPv6 and extension headers) + 8 + 1744 bytes.
 */
#define PKT_OFF_MAX 0x3fff
/* Extension walk steps: each field takes 16 bytes or more of the payload. */
#define EXT_STEPS ((GUARD_MAX_PAYLOAD - NTP_HEADER_LEN) / NTP_MIN_EXT_LEN + 1)

const volatile struct guard_config guard_cfg = {};

/* What answering needs, written by horod (bpf/guard_pub.c): see struct guard_state. */
struct guard_state guard_state = {};

/* Test hooks (GUARD_F_TEST only; the verifier removes their uses otherwise). */
uint64_t guard_test_now_ns = 0;	     /* the limiter's clock (CLOCK_MONOTONIC) */
uint64_t guard_test_tai_ns = 0;	     /* the served clock's next reading (CLOCK_TAI) */
uint64_t guard_test_tai_step_ns = 0; /* ns it advances at each reading */
uint32_t guard_test_reason = 0;
uint32_t guard_test_action = 0;
uint64_t guard_test_hw_ns = 0; /* the NIC's receive stamp the kfunc would give (PHC ns) */
int32_t guard_test_hw_ret = 0; /* what the kfunc would return (0, or -errno: no stamp) */

/*
 * The NIC's receive stamp of the frame (XDP RX metadata, Linux 6.3+), in
 * PHC time, the driver's implementation (veth's gives the skb's hardware
 * stamp: 0 without one). The verifier refuses a program that holds the
 * call and is not device-bound ("metadata kfuncs require device-bound
 * program"), even where the call is dead code: only guard_xdp_hw has it.
 */
extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GUARD_NCOUNTERS);
	__type(key, __u32);
	__type(value, struct guard_count);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GUARD_TALKERS);
	__type(key, struct guard_addr);
	__type(value, struct guard_talker);
} talkers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GUARD_RL_ENTRIES);
	__type(key, struct guard_rl_key);
	__type(value, struct guard_rl_entry);
} ratelimit SEC(".maps");

#define LPM_MAP(name, keytype)                                                                     \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                                               \
		__uint(max_entries, GUARD_ACL_MAX);                                                \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__type(key, struct keytype);                                                       \
		__type(value, __u8);                                                               \
	} name SEC(".maps")

LPM_MAP(allow4, guard_lpm4);
LPM_MAP(allow6, guard_lpm6);
LPM_MAP(deny4, guard_lpm4);
LPM_MAP(deny6, guard_lpm6);
LPM_MAP(control4, guard_lpm4);
LPM_MAP(control6, guard_lpm6);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct guard_info);
} info SEC(".maps");

/*
 * The frame's bounds, loaded from the context at their fixed offsets.
 * Plain `ctx->data_end` lets clang form the field's address from a
 * register that happens to hold 4, which the verifier refuses ("modified
 * ctx ptr"); a load in assembly cannot be rewritten that way.
 */
static __always_inline void *ctx_data(struct xdp_md *ctx)
{
	__u64 v;

	asm volatile("%0 = *(u32 *)(%1 + 0)" : "=r"(v) : "r"(ctx));
	return (void *)(long)v;
}

static __always_inline void *ctx_end(struct xdp_md *ctx)
{
	__u64 v;

	asm volatile("%0 = *(u32 *)(%1 + 4)" : "=r"(v) : "r"(ctx));
	return (void *)(long)v;
}

/* What the parser learnt about one frame. */
struct pkt {
	__u64 dmac;	       /* destination MAC address in the low 6 bytes (memory order) */
	__u32 l2;	       /* bytes of Ethernet + VLAN headers */
	__u32 l3len;	       /* bytes of the IP header, options / extension headers included */
	__u32 udp;	       /* offset of the UDP header */
	__u32 plen;	       /* UDP payload bytes */
	__u32 v6;	       /* the IP header is IPv6 */
	struct guard_addr src; /* source for the access list and the limiter (mapped → IPv4) */
	__u8 ip_src[16];       /* the addresses as on the wire (IPv4: first 4 bytes) */
	__u8 ip_dst[16];
	__u16 dport; /* UDP destination port, network byte order */
};

/* The limiter's and the talkers' clock: CLOCK_MONOTONIC ns. */
static __always_inline __u64 now_ns(void)
{
	if (guard_cfg.flags & GUARD_F_TEST)
		return guard_test_now_ns;
	return bpf_ktime_get_ns();
}

/*
 * The served clock: CLOCK_TAI ns, which no time namespace shifts (see
 * struct guard_serve). In tests it advances by a step at each reading, so
 * that a receive and a transmit time taken by the same run differ.
 */
static __always_inline __u64 serve_clock(void)
{
	__u64 t;

	if (guard_cfg.flags & GUARD_F_TEST) {
		t = guard_test_tai_ns;
		guard_test_tai_ns = t + guard_test_tai_step_ns;
		return t;
	}
	return bpf_ktime_get_tai_ns();
}

/*
 * The NIC's receive stamp of the frame (PHC ns), or 0: only the program
 * loaded for a device with `hwtimestamp` asks (GUARD_F_HWRX, BOUND: it
 * is guard_xdp_hw), and 0 also when the driver has none for this frame
 * (an error, or a zero stamp). In tests the unbound program with
 * GUARD_F_HWRX takes the stamp and the kfunc's return from the hooks.
 */
static __always_inline __u64 nic_rx_stamp(struct xdp_md *ctx, int bound)
{
	__u64 ts = 0;

	if (!(guard_cfg.flags & GUARD_F_HWRX))
		return 0;
	if (!bound)
		return (guard_cfg.flags & GUARD_F_TEST) && guard_test_hw_ret == 0 ? guard_test_hw_ns
										  : 0;
	if (bpf_xdp_metadata_rx_timestamp(ctx, &ts) != 0)
		return 0;
	return ts;
}

static __always_inline __u16 be16(const __u8 *p)
{
	return (__u16)p[0] << 8 | p[1];
}

/* Count the verdict ACTION for REASON; denied and over-rate sources go to the talkers. */
static __always_inline int guard_exit(int action, __u32 reason, __u64 bytes, struct pkt *p)
{
	struct guard_count *c;
	struct guard_talker *t, fresh = {};
	__u32 key = reason;

	c = bpf_map_lookup_elem(&counters, &key);
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
	if (reason == NTP_R_DROP_DENIED || reason == NTP_R_DROP_RATE ||
	    reason == NTP_R_REPLY_KOD_RATE || reason == NTP_R_REPLY_KOD_DENY) {
		__u64 now = now_ns();

		t = bpf_map_lookup_elem(&talkers, &p->src);
		if (t) {
			__sync_fetch_and_add(&t->packets, 1);
			__sync_fetch_and_add(&t->bytes, bytes);
			t->last_ns = now;
			t->last_reason = reason;
		} else {
			fresh.packets = 1;
			fresh.bytes = bytes;
			fresh.last_ns = now;
			fresh.last_reason = reason;
			bpf_map_update_elem(&talkers, &p->src, &fresh, BPF_NOEXIST);
		}
	}
	if (guard_cfg.flags & GUARD_F_TEST) {
		guard_test_reason = reason;
		guard_test_action = action;
	}
	return action;
}

/* 1 when DPORT (network order) is a served port. */
static __always_inline int served_port(__u16 dport)
{
	int i;

	for (i = 0; i < GUARD_MAX_PORTS; i++) {
		if (i >= guard_cfg.n_ports)
			break;
		if (guard_cfg.ports[i] == dport)
			return 1;
	}
	return 0;
}

/* Fill P's source from the wire addresses; an IPv4-mapped IPv6 source becomes IPv4. */
static __always_inline void set_source(struct pkt *p)
{
	const __u8 *a = p->ip_src;

	__builtin_memset(&p->src, 0, sizeof(p->src));
	if (!p->v6) {
		p->src.family = GUARD_FAMILY_V4;
		__builtin_memcpy(p->src.addr, a, 4);
		return;
	}
	if ((a[0] | a[1] | a[2] | a[3] | a[4] | a[5] | a[6] | a[7] | a[8] | a[9]) == 0 &&
	    a[10] == 0xff && a[11] == 0xff) {
		p->src.family = GUARD_FAMILY_V4;
		__builtin_memcpy(p->src.addr, a + 12, 4);
		return;
	}
	p->src.family = GUARD_FAMILY_V6;
	__builtin_memcpy(p->src.addr, a, 16);
}

/* 1 when A is ::1. */
static __always_inline int is_v6_loopback(const __u8 *a)
{
	__u8 z = 0;
	int i;

	for (i = 0; i < 15; i++)
		z |= a[i];
	return z == 0 && a[15] == 1;
}

/* 1 when a mode 6 request from P's source may be answered: loopback or `control allow`. */
static __always_inline int control_allowed(const struct pkt *p)
{
	struct guard_lpm4 k4 = {.prefixlen = 32};
	struct guard_lpm6 k6 = {.prefixlen = 128};

	if (p->src.family == GUARD_FAMILY_V4) {
		if (p->src.addr[0] == 127)
			return 1;
		__builtin_memcpy(k4.addr, p->src.addr, 4);
		return bpf_map_lookup_elem(&control4, &k4) != NULL;
	}
	if (is_v6_loopback(p->src.addr))
		return 1;
	__builtin_memcpy(k6.addr, p->src.addr, 16);
	return bpf_map_lookup_elem(&control6, &k6) != NULL;
}

/* 1 when the access list refuses P's source: any deny match, or allow rules and none match. */
static __always_inline int denied(const struct pkt *p)
{
	struct guard_lpm4 k4 = {.prefixlen = 32};
	struct guard_lpm6 k6 = {.prefixlen = 128};

	if (p->src.family == GUARD_FAMILY_V4) {
		__builtin_memcpy(k4.addr, p->src.addr, 4);
		if (bpf_map_lookup_elem(&deny4, &k4))
			return 1;
		return (guard_cfg.flags & GUARD_F_HAVE_ALLOW) && !bpf_map_lookup_elem(&allow4, &k4);
	}
	__builtin_memcpy(k6.addr, p->src.addr, 16);
	if (bpf_map_lookup_elem(&deny6, &k6))
		return 1;
	return (guard_cfg.flags & GUARD_F_HAVE_ALLOW) && !bpf_map_lookup_elem(&allow6, &k6);
}

/* The rate-limit entry of P's source, created when new; NULL if the table refuses. */
static __always_inline struct guard_rl_entry *rl_entry(const struct pkt *p, __u64 now)
{
	struct guard_rl_key key = {.family = p->src.family};
	struct guard_rl_entry fresh = {.tat_ns = now}, *e;

	__builtin_memcpy(key.prefix, p->src.addr, 8);
	if (p->src.family == GUARD_FAMILY_V4)
		__builtin_memset(key.prefix + 4, 0, 4);
	e = bpf_map_lookup_elem(&ratelimit, &key);
	if (e)
		return e;
	bpf_map_update_elem(&ratelimit, &key, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ratelimit, &key);
}

/* Verdicts of the rate limiter. */
enum rl_verdict { RL_PASS, RL_KOD, RL_DROP };

#define RL_CAS_TRIES                                                                               \
	4 /* compare-and-swap rounds lost to other CPUs before a request counts as over */

/*
 * Claim E's kiss-o'-death slot at NOW: 1 when one may be sent (and the
 * next is then due one KoD interval later), 0 when one was sent recently.
 */
static __always_inline int kod_claim(struct guard_rl_entry *e, __u64 now)
{
	__u64 next = e->kod_next_ns;

	if (now < next)
		return 0;
	return __sync_val_compare_and_swap(&e->kod_next_ns, next,
					   now + guard_cfg.kod_interval_ns) == next;
}

/*
 * Charge one request from P's source: RL_PASS (within the rate, or
 * leaked), RL_KOD (over, and a kiss-o'-death is due: only when KOD_OK) or
 * RL_DROP. Lock-free: the theoretical arrival time moves by
 * compare-and-swap; a request that loses RL_CAS_TRIES rounds to other
 * CPUs passing the same source counts as over. A source the table
 * cannot hold is passed.
 */
static __always_inline int rl_charge(const struct pkt *p, int kod_ok)
{
	__u64 now = now_ns(), old, tat, over;
	struct guard_rl_entry *e;
	int i;

	if (!(guard_cfg.flags & GUARD_F_RATELIMIT))
		return RL_PASS;
	e = rl_entry(p, now);
	if (!e)
		return RL_PASS;
	for (i = 0; i < RL_CAS_TRIES; i++) {
		old = e->tat_ns;
		tat = old > now ? old : now;
		if (tat - now > guard_cfg.tau_ns)
			break;
		if (__sync_val_compare_and_swap(&e->tat_ns, old, tat + guard_cfg.interval_ns) ==
		    old)
			return RL_PASS;
	}
	over = __sync_fetch_and_add(&e->over, 1) + 1;
	if (guard_cfg.leak_mask && (over & guard_cfg.leak_mask) == 0)
		return RL_PASS;
	if (kod_ok && kod_claim(e, now))
		return RL_KOD;
	return RL_DROP;
}

/* 1 when a DENY kiss-o'-death may go to P's source now (one per source per interval). */
static __always_inline int deny_kod_due(const struct pkt *p)
{
	__u64 now = now_ns();
	struct guard_rl_entry *e = rl_entry(p, now);

	return e ? kod_claim(e, now) : 0;
}

/*
 * 1 when the PLEN bytes after the 48-byte header at OFF are well-formed
 * extension fields and/or a MAC (proto's ntp_ext_check): whenever what is
 * left has the size of a MAC (0, 4, 20 or 24 bytes) it is accepted as one.
 */
static __always_inline int ext_ok(struct xdp_md *ctx, __u32 off, __u32 rem)
{
	void *data = ctx_data(ctx);
	void *end = ctx_end(ctx);
	int i;

	for (i = 0; i < EXT_STEPS; i++) {
		const __u8 *f;
		__u32 flen;

		if (rem == NTP_MAC_NONE || rem == NTP_MAC_CRYPTO_NAK || rem == NTP_MAC_MD5 ||
		    rem == NTP_MAC_SHA1)
			return 1;
		if (rem < NTP_MIN_EXT_LEN)
			return 0;
		if (off > PKT_OFF_MAX)
			return 0;
		f = data + off;
		if ((void *)(f + 4) > end)
			return 0;
		flen = be16(f + 2);
		if (flen < NTP_MIN_EXT_LEN || (flen & 3) || flen > rem)
			return 0;
		off += flen;
		rem -= flen;
	}
	return 0;
}

/* The drop reason of a request with mode MODE that is not answered with time. */
static __always_inline __u32 mode_reason(__u32 mode, const struct pkt *p)
{
	switch (mode) {
	case NTP_MODE_RESERVED:
		return NTP_R_DROP_MODE_RESERVED;
	case NTP_MODE_PASSIVE:
		return NTP_R_DROP_MODE_PASSIVE;
	case NTP_MODE_SERVER:
		return NTP_R_DROP_MODE_SERVER;
	case NTP_MODE_BROADCAST:
		return NTP_R_DROP_MODE_BROADCAST;
	case NTP_MODE_CONTROL:
		return control_allowed(p) ? NTP_R_CONTROL : NTP_R_DROP_MODE_CONTROL;
	default:
		return NTP_R_DROP_MODE_PRIVATE;
	}
}

/* proto's ntp_classify on the UDP payload of P (PLEN <= GUARD_MAX_PAYLOAD, in the frame). */
static __always_inline __u32 classify(struct xdp_md *ctx, const struct pkt *p)
{
	void *data = ctx_data(ctx);
	void *end = ctx_end(ctx);
	__u32 off = p->udp + UDP_HLEN, plen = p->plen, version, mode;
	const __u8 *pay;

	if (plen == 0)
		return NTP_R_DROP_SHORT;
	if (off > PKT_OFF_MAX)
		return NTP_R_DROP_SHORT;
	pay = data + off;
	if ((void *)(pay + 1) > end)
		return NTP_R_DROP_SHORT;
	version = (pay[0] >> 3) & 7;
	mode = pay[0] & 7;
	if ((mode == NTP_MODE_CONTROL || mode == NTP_MODE_PRIVATE) && version >= NTP_VERSION_MIN &&
	    version <= NTP_VERSION_MAX)
		return mode_reason(mode, p);
	if (plen < NTP_HEADER_LEN)
		return NTP_R_DROP_SHORT;
	if (plen & 3)
		return NTP_R_DROP_LENGTH;
	if (version < NTP_VERSION_MIN || version > NTP_VERSION_MAX)
		return NTP_R_DROP_VERSION;
	if (mode != NTP_MODE_ACTIVE && mode != NTP_MODE_CLIENT)
		return mode_reason(mode, p);
	if (!ext_ok(ctx, off + NTP_HEADER_LEN, plen - NTP_HEADER_LEN))
		return NTP_R_DROP_EXTENSION;
	return mode == NTP_MODE_CLIENT ? NTP_R_REPLY_SERVER : NTP_R_REPLY_SYMMETRIC;
}

#include "bpf/guard_answer.h"
#include "bpf/guard_reply.h"
#include "bpf/guard_egress.h"

/* Send a kiss-o'-death with CODE, counted as KOD_REASON; dropped as DROP_REASON if it cannot. */
static __always_inline int send_kod(struct xdp_md *ctx, struct pkt *p, __u32 code, __u32 kod_reason,
				    __u32 drop_reason, __u64 bytes)
{
	/* Only to a request a socket of horod's would have received (guard_answer.h). */
	if (!kod_for_us(ctx, p))
		return guard_exit(XDP_DROP, drop_reason, bytes, p);
	if (make_reply(ctx, p, code, 0) < 0)
		return guard_exit(XDP_DROP, drop_reason, bytes, p);
	return guard_exit(XDP_TX, kod_reason, bytes, p);
}

/* Parse the IPv4 header at OFF; sets P and returns 0, or a counter index to pass with. */
static __always_inline int parse_ipv4(struct xdp_md *ctx, struct pkt *p, __u32 off, int *first_frag)
{
	void *data = ctx_data(ctx);
	void *end = ctx_end(ctx);
	const __u8 *ip = data + off, *udp;
	__u32 ihl, tot, frag, ulen;

	if ((void *)(ip + IPV4_HLEN) > end)
		return GUARD_C_PASS_INVALID;
	if ((ip[0] >> 4) != 4)
		return GUARD_C_PASS_INVALID;
	ihl = (__u32)(ip[0] & 0xf) * 4;
	tot = be16(ip + 2);
	if (ihl < IPV4_HLEN || tot < ihl || (void *)(ip + tot) > end)
		return GUARD_C_PASS_INVALID;
	if (ip[9] != IPPROTO_UDP_)
		return GUARD_C_PASS_OTHER;
	frag = be16(ip + 6);
	if (frag & IP4_OFFSET)
		return GUARD_C_PASS_FRAGMENT;
	if (tot < ihl + UDP_HLEN)
		return GUARD_C_PASS_INVALID;
	udp = ip + ihl;
	if ((void *)(udp + UDP_HLEN) > end)
		return GUARD_C_PASS_INVALID;
	if (!served_port(*(__u16 *)(udp + 2)))
		return GUARD_C_PASS_OTHER;
	p->dport = *(__u16 *)(udp + 2);
	__builtin_memcpy(p->ip_src, ip + 12, 4);
	__builtin_memcpy(p->ip_dst, ip + 16, 4);
	p->l3len = ihl;
	p->udp = off + ihl;
	if (frag & IP4_MF) {
		*first_frag = 1;
		return 0;
	}
	ulen = be16(udp + 4);
	if (ulen < UDP_HLEN || ulen > tot - ihl)
		return GUARD_C_PASS_INVALID;
	p->plen = ulen - UDP_HLEN;
	return 0;
}

/* Parse the IPv6 header at OFF and its extension headers; as parse_ipv4. */
static __always_inline int parse_ipv6(struct xdp_md *ctx, struct pkt *p, __u32 off, int *first_frag)
{
	void *data = ctx_data(ctx);
	void *end = ctx_end(ctx);
	const __u8 *ip = data + off, *h, *udp;
	__u32 paylen, ext = IPV6_HLEN, ulen, nh;
	int i, frag = 0;

	if ((void *)(ip + IPV6_HLEN) > end)
		return GUARD_C_PASS_INVALID;
	if ((ip[0] >> 4) != 6)
		return GUARD_C_PASS_INVALID;
	paylen = be16(ip + 4);
	if (paylen == 0 || (void *)(ip + IPV6_HLEN + paylen) > end)
		return GUARD_C_PASS_INVALID;
	nh = ip[6];
	for (i = 0; i < GUARD_MAX_V6_EXT; i++) {
		if (nh == IPPROTO_UDP_)
			break;
		if (ext > 2048)
			return GUARD_C_PASS_INVALID;
		h = ip + ext;
		if (nh == IP6_FRAGMENT) {
			if ((void *)(h + IP6_FRAG_HLEN) > end ||
			    ext + IP6_FRAG_HLEN > IPV6_HLEN + paylen)
				return GUARD_C_PASS_INVALID;
			if (be16(h + 2) & IP6_FRAG_OFFSET)
				return h[0] == IPPROTO_UDP_ ? GUARD_C_PASS_FRAGMENT
							    : GUARD_C_PASS_OTHER;
			frag |= be16(h + 2) & IP6_FRAG_MF;
			nh = h[0];
			ext += IP6_FRAG_HLEN;
			continue;
		}
		if (nh != IP6_HOPOPTS && nh != IP6_ROUTING && nh != IP6_DSTOPTS)
			return GUARD_C_PASS_OTHER;
		if ((void *)(h + 2) > end)
			return GUARD_C_PASS_INVALID;
		nh = h[0];
		ext += ((__u32)h[1] + 1) * 8;
		if (ext > IPV6_HLEN + paylen)
			return GUARD_C_PASS_INVALID;
	}
	if (nh != IPPROTO_UDP_)
		return GUARD_C_PASS_OTHER;
	if (ext > 2048 || ext + UDP_HLEN > IPV6_HLEN + paylen)
		return GUARD_C_PASS_INVALID;
	udp = ip + ext;
	if ((void *)(udp + UDP_HLEN) > end)
		return GUARD_C_PASS_INVALID;
	if (!served_port(*(__u16 *)(udp + 2)))
		return GUARD_C_PASS_OTHER;
	p->dport = *(__u16 *)(udp + 2);
	__builtin_memcpy(p->ip_src, ip + 8, 16);
	__builtin_memcpy(p->ip_dst, ip + 24, 16);
	p->v6 = 1;
	p->l3len = ext;
	p->udp = off + ext;
	if (frag) {
		*first_frag = 1;
		return 0;
	}
	ulen = be16(udp + 4);
	if (ulen < UDP_HLEN || ulen > IPV6_HLEN + paylen - ext)
		return GUARD_C_PASS_INVALID;
	p->plen = ulen - UDP_HLEN;
	return 0;
}

/*
 * 1 when the client request at P may be an RFC 9769 interleaved one:
 * version 4, an origin named, its receive field not its transmit field
 * (what the workers test before they look up the client's state,
 * daemon/serve/xleave.c). Only the workers hold the transmit stamps such
 * a request asks for, so it goes to them; a request too short to tell
 * goes too.
 */
static __always_inline int maybe_interleaved(struct xdp_md *ctx, const struct pkt *p)
{
	void *data = ctx_data(ctx);
	void *end = ctx_end(ctx);
	__u32 off = p->udp + UDP_HLEN;
	const __u8 *pay;
	__u64 org, rec, xmt;

	if (off > PKT_OFF_MAX)
		return 1;
	pay = data + off;
	if ((void *)(pay + NTP_HEADER_LEN) > end)
		return 1;
	if (((pay[0] >> 3) & 7) != 4)
		return 0;
	__builtin_memcpy(&org, pay + NTP_OFF_ORG, NTP_TS_LEN);
	__builtin_memcpy(&rec, pay + NTP_OFF_REC, NTP_TS_LEN);
	__builtin_memcpy(&xmt, pay + NTP_OFF_XMT, NTP_TS_LEN);
	return org != 0 && rec != xmt;
}

/* The guard on one frame; BOUND: the device-bound copy, which may ask for the NIC's stamp. */
static __always_inline int guard_run(struct xdp_md *ctx, int bound)
{
	void *data = ctx_data(ctx);
	void *end = ctx_end(ctx);
	__u64 bytes = (__u64)(end - data);
	struct pkt p = {};
	struct serve_now sv;
	__u32 off = ETH_HLEN, reason;
	__u16 type;
	int i, first_frag = 0, r, rl;

	/* The receive time of a request this program may answer: first of all. */
	sv.rx_tai_ns = (guard_cfg.flags & GUARD_F_SERVE) ? serve_clock() : 0;
	if (data + ETH_HLEN > end)
		return guard_exit(XDP_PASS, GUARD_C_PASS_INVALID, bytes, &p);
	__builtin_memcpy(&p.dmac, data, ETH_ALEN);
	type = be16((const __u8 *)data + 12);
	for (i = 0; i < GUARD_MAX_VLANS; i++) {
		if (type != ETHTYPE_8021Q && type != ETHTYPE_8021AD)
			break;
		if (data + off + VLAN_HLEN > end)
			return guard_exit(XDP_PASS, GUARD_C_PASS_INVALID, bytes, &p);
		type = be16((const __u8 *)data + off + 2);
		off += VLAN_HLEN;
	}
	p.l2 = off;
	if (type == ETHTYPE_IPV4)
		r = parse_ipv4(ctx, &p, off, &first_frag);
	else if (type == ETHTYPE_IPV6)
		r = parse_ipv6(ctx, &p, off, &first_frag);
	else
		r = GUARD_C_PASS_OTHER;
	if (r)
		return guard_exit(XDP_PASS, r, bytes, &p);
	set_source(&p);

	/* A first fragment: its source only, no kiss-o'-death. */
	if (first_frag) {
		if (denied(&p))
			return guard_exit(XDP_DROP, NTP_R_DROP_DENIED, bytes, &p);
		if (rl_charge(&p, 0) != RL_PASS)
			return guard_exit(XDP_DROP, NTP_R_DROP_RATE, bytes, &p);
		return guard_exit(XDP_PASS, GUARD_C_PASS_FRAGMENT, bytes, &p);
	}

	if (p.plen > GUARD_MAX_PAYLOAD)
		return guard_exit(XDP_DROP, NTP_R_DROP_TRUNCATED, bytes, &p);
	reason = classify(ctx, &p);
	if (reason == NTP_R_CONTROL)
		return guard_exit(XDP_PASS, reason, bytes, &p);
	if (reason != NTP_R_REPLY_SERVER && reason != NTP_R_REPLY_SYMMETRIC)
		return guard_exit(XDP_DROP, reason, bytes, &p);
	if (denied(&p)) {
		if ((guard_cfg.flags & GUARD_F_DENY_KOD) && deny_kod_due(&p))
			return send_kod(ctx, &p, NTP_KOD_DENY_ID, NTP_R_REPLY_KOD_DENY,
					NTP_R_DROP_DENIED, bytes);
		return guard_exit(XDP_DROP, NTP_R_DROP_DENIED, bytes, &p);
	}
	rl = rl_charge(&p, guard_cfg.flags & GUARD_F_RATE_KOD);
	if (rl == RL_KOD)
		return send_kod(ctx, &p, NTP_KOD_RATE_ID, NTP_R_REPLY_KOD_RATE, NTP_R_DROP_RATE,
				bytes);
	if (rl == RL_DROP)
		return guard_exit(XDP_DROP, NTP_R_DROP_RATE, bytes, &p);
	/* `guard serve on`: a plain client request (no extension, not interleaved) is answered
	 * here. */
	if ((guard_cfg.flags & GUARD_F_SERVE) && reason == NTP_R_REPLY_SERVER &&
	    p.plen == NTP_HEADER_LEN && !maybe_interleaved(ctx, &p)) {
		sv.hw_ns = nic_rx_stamp(ctx, bound);
		if (serve_read(&sv, ctx, &p) == 0) {
			/* The frame may be half rewritten when this fails: it cannot pass. */
			if (make_reply(ctx, &p, 0, &sv) < 0)
				return guard_exit(XDP_DROP, NTP_R_DROP_SEND_ERROR, bytes, &p);
			return guard_exit(XDP_TX, sv.rx_hw ? GUARD_C_SERVED_HW : GUARD_C_SERVED,
					  bytes, &p);
		}
	}
	return guard_exit(XDP_PASS, reason, bytes, &p);
}

/* The guard: every interface without `hwtimestamp`, and the tests' BPF_PROG_TEST_RUN. */
SEC("xdp")
int guard_xdp(struct xdp_md *ctx)
{
	return guard_run(ctx, 0);
}

/*
 * The guard loaded bound to one device (bpf/guard.c guard_attach_bound):
 * the same, and each answer's receive time from the NIC's stamp.
 */
SEC("xdp")
int guard_xdp_hw(struct xdp_md *ctx)
{
	return guard_run(ctx, 1);
}

/* A program that passes everything: for the peer of a veth that receives XDP_TX frames. */
SEC("xdp")
int guard_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* `guard stamp on`: each guard interface's egress (bpf/guard_egress.h). */
SEC("tc")
int guard_egress(struct __sk_buff *skb)
{
	if (!(guard_cfg.flags & GUARD_F_STAMP))
		return TCX_NEXT_;
	return egress_run(skb);
}
