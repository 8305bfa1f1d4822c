/*
 * The XDP guard's layout, shared by the BPF program (guard.bpf.c) and
 * user space (the loader guard.c, the map readers guard_read.c, horod,
 * horoctl and the tests): the configuration the loader writes into the
 * program's read-only data, what horod writes into its .bss, the key and
 * value of every map, the counter indices, and the file names the maps
 * are pinned under. Fixed-width types only, no libc, libbpf or kernel
 * header: the BPF side gets the types from vmlinux.h, user space from
 * <stdint.h>, and both compilers must lay every structure out the same
 * way. No structure has implicit padding (64-bit fields come first or on
 * 8-byte offsets, explicit `pad` fields fill the rest), and the sizes are
 * asserted at the end, so each compiler checks them.
 *
 * Counter indices are proto's reason codes (proto/reason.h, the same
 * numbers horod's workers count by), followed by indices of the guard's
 * own for packets it passes without classifying them and for answers.
 */
#ifndef HOROD_BPF_GUARD_LAYOUT_H
#define HOROD_BPF_GUARD_LAYOUT_H

#ifndef __bpf__
#include <stdint.h>
#endif

#include "proto/reason.h"

/* Counter indices past proto's reasons: packets passed unclassified. */
enum guard_counter {
	GUARD_C_PASS_OTHER = NTP_REASON_MAX, /* not UDP to a served port (ARP, TCP, other ports) */
	GUARD_C_PASS_FRAGMENT,		     /* IP fragments left to reassembly */
	GUARD_C_PASS_INVALID,		     /* IP/UDP headers the kernel will reject */
	GUARD_C_SERVED,	   /* mode 3 answered here, receive time the kernel's clock */
	GUARD_C_SERVED_HW, /* mode 3 answered here, receive time the NIC's stamp */
	GUARD_C_STAMPED,   /* egress: a worker's basic reply, transmit time written as it left */
	GUARD_NCOUNTERS
};

#define GUARD_LAYOUT	 5  /* version of this layout, stored in the info map */
#define GUARD_MAX_PORTS	 16 /* served UDP ports: one per listen line (CFG_MAX_LISTEN) */
#define GUARD_MAX_LISTEN 16 /* listen lines (CFG_MAX_LISTEN): address and port pairs */
#define GUARD_HOST_ADDRS                                                                           \
	64		      /* local addresses per family the program knows (more: not answered) \
			       */
#define GUARD_MAX_IFACES 16   /* interfaces one horod attaches to */
#define GUARD_IFNAME_MAX 16   /* bytes in an interface name, NUL included (IFNAMSIZ) */
#define GUARD_ACL_MAX	 4096 /* prefixes per access-list trie (ACL_MAX_RULES) */
#define GUARD_RL_ENTRIES 65536 /* rate-limited sources tracked (LRU): ~64 B each, 4 MiB */
#define GUARD_TALKERS	 1024  /* top-talker entries (LRU): denied and over-rate sources */
/*
 * Bytes of UDP payload the guard classifies: what one io_uring receive
 * buffer of a horod worker holds. A larger datagram is dropped and counted
 * drop_truncated, as the worker would do; it also bounds the extension
 * field walk to (1744 - 48) / 16 + 1 = 107 steps.
 */
#define GUARD_MAX_PAYLOAD 1744
#define GUARD_MAX_VLANS	  2 /* VLAN tags parsed (802.1Q / 802.1ad); more: passed as other */
#define GUARD_MAX_V6_EXT  4 /* IPv6 extension headers walked before UDP; more: other */

/* Address families in keys (not the libc AF_* values, which BPF does not have). */
#define GUARD_FAMILY_V4 4
#define GUARD_FAMILY_V6 6

/* guard_config.flags */
#define GUARD_F_RATELIMIT  0x1	/* `ratelimit` configured: limit every source */
#define GUARD_F_RATE_KOD   0x2	/* answer over-rate requests with a RATE kiss-o'-death */
#define GUARD_F_DENY_KOD   0x4	/* answer denied requests with a DENY kiss-o'-death */
#define GUARD_F_HAVE_ALLOW 0x8	/* the access list has allow rules: unmatched sources are denied */
#define GUARD_F_TEST	   0x10 /* tests only: clock from .bss, last verdict to .bss */
#define GUARD_F_SERVE	   0x20 /* `guard serve on`: answer plain client requests here */
#define GUARD_F_HWRX	   0x40 /* device-bound: the NIC's receive stamp (XDP RX metadata) */
#define GUARD_F_STAMP	   0x80 /* `guard stamp on`: basic replies' transmit time at egress */

/*
 * The program's configuration, in its read-only data (set before load,
 * constant afterwards: the verifier prunes what a flag turns off).
 */
/*
 * A listen line: an address and port pair horod's sockets receive on.
 * The guard answers (with time or a kiss-o'-death) only requests to one
 * of them: to the address itself, or for a wildcard to any local address
 * of the family (struct guard_host).
 */
struct guard_listen {
	uint8_t addr[16]; /* network byte order, IPv4 in the first 4 bytes; 0 for a wildcard */
	uint16_t port;	  /* network byte order */
	uint8_t family;	  /* GUARD_FAMILY_V4 or _V6 */
	uint8_t wildcard; /* 1: 0.0.0.0 or :: */
};

struct guard_config {
	uint16_t ports[GUARD_MAX_PORTS]; /* served UDP ports, network byte order */
	uint32_t n_ports;		 /* entries used in ports */
	uint32_t flags;			 /* GUARD_F_* */
	uint64_t interval_ns;		 /* ns between requests on average: 2^interval s */
	uint64_t tau_ns;		 /* ns of burst tolerance: (burst - 1) * interval_ns */
	uint64_t kod_interval_ns;	 /* ns: at most one kiss-o'-death per source per this */
	uint32_t leak_mask;		 /* 2^leak - 1: 1 in 2^leak over-rate passes; 0 = none */
	uint32_t n_listen;		 /* entries used in listen */
	struct guard_listen listen[GUARD_MAX_LISTEN];
};

/*
 * What the guard needs to answer a client request itself (`guard serve
 * on`), written by horod's clock thread at every snapshot it publishes
 * (at least once a second; bpf/guard_pub.c) and read by the program on
 * every CPU. Served time is CLOCK_TAI (bpf_ktime_get_tai_ns) +
 * tai_to_real_ns: CLOCK_REALTIME, read through a clock that no time
 * namespace shifts and that every step of CLOCK_REALTIME moves with it
 * (only the kernel's TAI offset, set by adjtimex, stands between them).
 * `on` is 0 whenever the served time is not the system clock as it is (a
 * correction of horod's own, a leap second announced). A publication
 * older than GUARD_SERVE_MAX_AGE_NS, or from the program's future (the
 * clock was stepped back), is not used. The root dispersion is the one at
 * the publication, grown from there at its rate (split so that the
 * program divides less). A whole number of
 * 64-bit words: the writer stores it word by word.
 */
struct guard_serve {
	int64_t tai_to_real_ns; /* CLOCK_REALTIME - CLOCK_TAI, ns: minus the TAI offset */
	uint64_t pub_tai_ns;	/* CLOCK_TAI ns of the publication: disp_ns held then */
	uint64_t disp_ns;	/* root dispersion, ns rounded up; GUARD_DISP_MAX_NS: the largest */
	uint32_t disp_rate_s;	/* its growth after pub_tai_ns: whole s per s (saturated) ... */
	uint32_t disp_rate_ns;	/* ... and ns per s below one s (< 10^9), rounded up */
	uint64_t ref_ts;	/* reference timestamp, NTP format, network byte order; 0: none */
	uint32_t root_delay;	/* NTP short format, network byte order */
	uint32_t refid;		/* network byte order, as on the wire */
	uint32_t on;		/* 1: the program may answer */
	uint8_t leap;		/* NTP_LEAP_*: 0 or 3 when on */
	uint8_t stratum;	/* as the snapshot has it (the reply says 0 when leap is 3) */
	int8_t precision;	/* log2 s */
	uint8_t pad;
};

/*
 * ns: the oldest publication the program answers from. The clock thread
 * publishes at least once a second; past two seconds without one it is
 * stalled (or the state is not kept current), and the workers answer.
 */
#define GUARD_SERVE_MAX_AGE_NS 2000000000ULL
/* ns: 65536 s, past the largest short-format value: a root dispersion this large or more */
#define GUARD_DISP_MAX_NS 65536000000000ULL

/*
 * What the program knows of the host, to answer only what a socket of
 * horod's would receive: the interfaces it is attached to with their MAC
 * addresses (a frame to another MAC is not for this host), and the local
 * unicast addresses (a destination that is not one is for another host,
 * a broadcast, or gone). Written by horod from rtnetlink (bpf/guard_host.c)
 * with the serving state; at most GUARD_HOST_ADDRS per family are kept,
 * and a destination the table does not hold is left to the kernel.
 */
struct guard_host {
	uint32_t n_if; /* entries used in ifindex and mac */
	uint32_t n4;   /* entries used in v4 and v4_ifindex */
	uint32_t n6;   /* entries used in v6 and v6_ifindex */
	uint32_t pad;
	uint32_t ifindex[GUARD_MAX_IFACES];    /* the interfaces attached */
	uint8_t mac[GUARD_MAX_IFACES][8];      /* their MAC addresses: 6 bytes, then 2 zero */
	uint32_t v4[GUARD_HOST_ADDRS];	       /* local IPv4 addresses, network byte order */
	uint32_t v4_ifindex[GUARD_HOST_ADDRS]; /* the interface of each (any is local: weak host) */
	uint32_t v6_ifindex[GUARD_HOST_ADDRS]; /* the interface of each IPv6 address */
	uint8_t v6[GUARD_HOST_ADDRS][16];      /* local IPv6 addresses, network byte order */
};

/*
 * The PTP hardware clocks (PHC) of the interfaces with `hwtimestamp`,
 * for a device-bound program that reads the NIC's receive stamp (XDP RX
 * metadata, in PHC time): system time = stamp + off_ns. Written by the
 * clock thread with the rest of struct guard_state, from the offset it
 * measures every publication (daemon/serve/hwts.c). An offset that is
 * unknown (GUARD_PHC_NO_OFFSET) or measured more than
 * GUARD_PHC_MAX_AGE_NS before the request's kernel receive time is not
 * used: the kernel's clock gives the receive time then.
 */
struct guard_phc {
	uint32_t n; /* entries used */
	uint32_t pad;
	uint32_t ifindex[GUARD_MAX_IFACES];   /* the interface of each PHC */
	int64_t off_ns[GUARD_MAX_IFACES];     /* CLOCK_REALTIME - PHC, ns; or GUARD_PHC_NO_OFFSET */
	uint64_t at_tai_ns[GUARD_MAX_IFACES]; /* CLOCK_TAI ns when it was measured */
};

/* off_ns of a PHC whose offset is not known (the last measurement failed). */
#define GUARD_PHC_NO_OFFSET ((int64_t)(-0x7fffffffffffffffLL - 1))
/* ns: the oldest offset used; the clock thread measures at every publication (≥ 1/s). */
#define GUARD_PHC_MAX_AGE_NS 2000000000ULL
/*
 * ns: how long before the kernel's receive time (the program's start on
 * the frame) a NIC stamp may be. A converted stamp later than that start,
 * or earlier by more (a wrong offset, a stamp from another clock), is not
 * used: the kernel's receive time is.
 */
#define GUARD_HW_RX_WINDOW_NS 1000000000ULL

/*
 * The program's .bss variable guard_state: what horod publishes, under a
 * seqcount. The writer (the clock thread, bpf/guard_pub.c) makes seq odd,
 * stores the words, makes it even; the program reads, and uses what it
 * read only when seq was even and did not change (otherwise the request
 * goes to a worker).
 */
struct guard_state {
	uint32_t seq; /* even: stable; odd: being written */
	uint32_t pad;
	struct guard_serve serve;
	struct guard_host host;
	struct guard_phc phc;
};

/* 64-bit words after the sequence (what the writer stores). */
#define GUARD_STATE_WORDS ((sizeof(struct guard_state) - 8) / 8)

/* One per-CPU counter: packets and bytes (whole frames, from the Ethernet header). */
struct guard_count {
	uint64_t packets;
	uint64_t bytes;
};

/* A source address: IPv4 in the first 4 bytes (IPv4-mapped IPv6 counts as IPv4). */
struct guard_addr {
	uint32_t family; /* GUARD_FAMILY_V4 or _V6 */
	uint8_t addr[16];
};

/* What the top-talkers table holds per denied or over-rate source. */
struct guard_talker {
	uint64_t packets;
	uint64_t bytes;
	uint64_t last_ns;     /* CLOCK_MONOTONIC ns of the last packet */
	uint32_t last_reason; /* its counter index */
	uint32_t pad;
};

/* Rate-limit key: an IPv4 address, or the /64 prefix of an IPv6 address. */
struct guard_rl_key {
	uint32_t family;
	uint8_t prefix[8]; /* IPv4: 4 bytes then zeros; IPv6: the first 8 bytes */
};

/*
 * Rate-limit state of one source (generic cell rate algorithm): a request
 * at time t passes when tat - t <= tau (tat = max(tat, t)), and then tat
 * grows by one interval; a burst of B passes at once, then one per
 * interval on average. Updated with 64-bit atomics (compare-and-swap):
 * the kernel has no spin locks in LRU maps.
 */
struct guard_rl_entry {
	uint64_t tat_ns;      /* theoretical arrival time (CLOCK_MONOTONIC ns) */
	uint64_t kod_next_ns; /* no kiss-o'-death to this source before this time */
	uint64_t over;	      /* over-rate requests so far: every 2^leak-th one passes */
};

/* Access-list trie keys (prefix length in bits first, as LPM tries want). */
struct guard_lpm4 {
	uint32_t prefixlen;
	uint8_t addr[4];
};

struct guard_lpm6 {
	uint32_t prefixlen;
	uint8_t addr[16];
};

/* Attach modes. */
#define GUARD_MODE_AUTO	  0 /* native when the driver has it, else generic */
#define GUARD_MODE_NATIVE 1 /* in the driver (XDP_FLAGS_DRV_MODE) */
#define GUARD_MODE_SKB	  2 /* generic, after the skb is built (XDP_FLAGS_SKB_MODE) */
/* In guard_info.mode only: the device-bound copy runs there (the NIC's receive stamps). */
#define GUARD_MODE_F_BOUND 0x100

/* The single entry of the info map: what a running horod loaded, for horoctl. */
struct guard_info {
	uint32_t layout;    /* GUARD_LAYOUT */
	uint32_t ncounters; /* GUARD_NCOUNTERS of the loader */
	uint32_t n_ifaces;
	uint32_t pid;	   /* the horod that pinned the maps */
	uint64_t start_ns; /* CLOCK_MONOTONIC ns when attached */
	uint32_t ifindex[GUARD_MAX_IFACES];
	uint32_t mode[GUARD_MAX_IFACES]; /* GUARD_MODE_NATIVE or _SKB, | GUARD_MODE_F_BOUND */
	char ifname[GUARD_MAX_IFACES][GUARD_IFNAME_MAX];
	struct guard_config cfg;
};

/* File names of the pinned maps in the pin directory (the map names). */
#define GUARD_PIN_COUNTERS "counters"
#define GUARD_PIN_TALKERS  "talkers"
#define GUARD_PIN_INFO	   "info"
#define GUARD_PIN_DEFAULT  "/sys/fs/bpf/horod" /* `guard pin` default */

/*
 * The counter layout is proto's reason list plus the guard's own: pinned
 * maps outlive a build, so the numbers of existing reasons must not move
 * (new reasons go at the end of the list, as reason.h says).
 */
_Static_assert(NTP_R_REPLY_SERVER == 0 && NTP_R_REPLY_KOD_RATE == 2 && NTP_R_CONTROL == 4 &&
		       NTP_R_DROP_SHORT == 5 && NTP_R_DROP_EXTENSION == 14 &&
		       NTP_R_DROP_DENIED == 15 && NTP_R_DROP_RATE == 16 &&
		       NTP_R_DROP_TRUNCATED == 17,
	       "proto's reason numbers are part of the guard's map layout");
_Static_assert((int)GUARD_C_PASS_OTHER == (int)NTP_REASON_MAX,
	       "the guard's own counters follow proto's");
/* The sizes without any implicit padding: both compilers must agree on them. */
_Static_assert(sizeof(struct guard_config) == 392 && sizeof(struct guard_listen) == 20 &&
		       sizeof(struct guard_info) == 800 && sizeof(struct guard_serve) == 56 &&
		       sizeof(struct guard_host) == 2000 && sizeof(struct guard_phc) == 328 &&
		       sizeof(struct guard_state) == 2392 && sizeof(struct guard_count) == 16 &&
		       sizeof(struct guard_addr) == 20 && sizeof(struct guard_talker) == 32 &&
		       sizeof(struct guard_rl_key) == 12 && sizeof(struct guard_rl_entry) == 24 &&
		       sizeof(struct guard_lpm4) == 8 && sizeof(struct guard_lpm6) == 20,
	       "shared layouts must be the same for clang -target bpf and gcc");

#endif
