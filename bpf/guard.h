/*
 * The XDP guard's shared layout, included by the BPF program (guard.bpf.c)
 * and by user space (the loader guard.c, horod, horoctl and the tests):
 * the configuration the loader writes into the program's read-only data,
 * the key and value of every map, the counter indices, and the file names
 * the maps are pinned under. Fixed-width types only and no kernel headers,
 * so both compilers lay every structure out the same way; no structure
 * has implicit padding (64-bit fields come first or on 8-byte offsets,
 * explicit `pad` fields fill the rest; guard.c checks the sizes).
 *
 * Counter indices are proto's reason codes (proto/reason.h, the same
 * numbers horod's workers count by), followed by three indices of the
 * guard's own for packets it passes without classifying them.
 *
 * The second half (not seen by the BPF compiler) is the loader's API,
 * implemented in guard.c: open → set the configuration → load → fill the
 * access lists → attach → pin; guard_close() undoes exactly what was done.
 * It also reads pinned maps back for horoctl.
 */
#ifndef HOROD_BPF_GUARD_H
#define HOROD_BPF_GUARD_H

#ifndef __bpf__
#include <stddef.h>
#include <stdint.h>
#endif

#include "proto/reason.h"

/* Counter indices past proto's reasons: packets passed unclassified. */
enum guard_counter {
	GUARD_C_PASS_OTHER = NTP_REASON_MAX, /* not UDP to a served port (ARP, TCP, other ports) */
	GUARD_C_PASS_FRAGMENT,		     /* IP fragments left to reassembly */
	GUARD_C_PASS_INVALID,		     /* IP/UDP headers the kernel will reject */
	GUARD_C_SERVED,			     /* mode 3 answered here (`guard serve on`) */
	GUARD_NCOUNTERS
};

#define GUARD_LAYOUT	 2     /* version of this layout, stored in the info map */
#define GUARD_MAX_PORTS	 16    /* served UDP ports: one per listen line (CFG_MAX_LISTEN) */
#define GUARD_MAX_IFACES 16    /* interfaces one horod attaches to */
#define GUARD_IFNAME_MAX 16    /* bytes in an interface name, NUL included (IFNAMSIZ) */
#define GUARD_ACL_MAX	 4096  /* prefixes per access-list trie (ACL_MAX_RULES) */
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

/*
 * The program's configuration, in its read-only data (set before load,
 * constant afterwards: the verifier prunes what a flag turns off).
 */
struct guard_config {
	uint16_t ports[GUARD_MAX_PORTS]; /* served UDP ports, network byte order */
	uint32_t n_ports;		 /* entries used in ports */
	uint32_t flags;			 /* GUARD_F_* */
	uint64_t interval_ns;		 /* ns between requests on average: 2^interval s */
	uint64_t tau_ns;		 /* ns of burst tolerance: (burst - 1) * interval_ns */
	uint64_t kod_interval_ns;	 /* ns: at most one kiss-o'-death per source per this */
	uint32_t leak_mask;		 /* 2^leak - 1: 1 in 2^leak over-rate passes; 0 = none */
	uint32_t pad;
};

/*
 * What the guard needs to answer a client request itself (`guard serve
 * on`), in the program's .bss, written by horod's clock thread at every
 * snapshot it publishes (at least once a second) and read by the program
 * on every CPU. A seqcount: the writer makes seq odd, writes, makes it
 * even; the program copies and answers only when seq was even and did
 * not change (otherwise the request goes to a worker). Served time is
 * CLOCK_MONOTONIC (bpf_ktime_get_ns) + mono_to_real_ns: CLOCK_REALTIME,
 * which only a step, a leap second or settimeofday moves away from
 * CLOCK_MONOTONIC; `on` is 0 whenever the served time is not the system
 * clock as it is (a correction of horod's own, a leap second announced,
 * another clock than CLOCK_REALTIME).
 */
struct guard_serve {
	uint32_t seq;		 /* even: stable; odd: being written */
	uint32_t on;		 /* 1: the program may answer */
	int64_t mono_to_real_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	int64_t update_ns;	 /* served ns (Unix epoch) at which disp_ns held */
	uint64_t disp_ns;	 /* root dispersion at update_ns, ns (rounded up) */
	uint64_t disp_rate_ppb;	 /* its growth after update_ns, ns per s (rounded up) */
	uint64_t ref_ts;	 /* reference timestamp, NTP format, network byte order */
	uint32_t root_delay;	 /* NTP short format, network byte order */
	uint32_t refid;		 /* network byte order, as on the wire */
	uint8_t leap;		 /* NTP_LEAP_*: 0 or 3 when on */
	uint8_t stratum;	 /* as on the wire (0 when leap is 3) */
	int8_t precision;	 /* log2 s */
	uint8_t pad[5];
};

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

/* The single entry of the info map: what a running horod loaded, for horoctl. */
struct guard_info {
	uint32_t layout;    /* GUARD_LAYOUT */
	uint32_t ncounters; /* GUARD_NCOUNTERS of the loader */
	uint32_t n_ifaces;
	uint32_t pid;	   /* the horod that pinned the maps */
	uint64_t start_ns; /* CLOCK_MONOTONIC ns when attached */
	uint32_t ifindex[GUARD_MAX_IFACES];
	uint32_t mode[GUARD_MAX_IFACES]; /* GUARD_MODE_NATIVE or _SKB: what attached */
	char ifname[GUARD_MAX_IFACES][GUARD_IFNAME_MAX];
	struct guard_config cfg;
};

/* File names of the pinned maps in the pin directory (the map names). */
#define GUARD_PIN_COUNTERS "counters"
#define GUARD_PIN_TALKERS  "talkers"
#define GUARD_PIN_INFO	   "info"
#define GUARD_PIN_DEFAULT  "/sys/fs/bpf/horod" /* `guard pin` default */

#ifndef __bpf__

/* Which access-list trie a rule goes to. */
enum guard_list { GUARD_LIST_ALLOW, GUARD_LIST_DENY, GUARD_LIST_CONTROL };

/* A loaded guard: the skeleton and what was attached and pinned. */
struct guard;

/* Where the loader's and libbpf's messages go (horod: log_msg). */
typedef void (*guard_log_fn)(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Route libbpf's messages (at LOG_DEBUG) and the loader's to FN; NULL = stderr. */
void guard_set_log(guard_log_fn fn);

/* Stable name of counter I: proto's reason name, or pass_other/_fragment/_invalid. */
const char *guard_counter_name(unsigned int i);

/* Open the skeleton, set CFG as read-only data, load; 0 or -errno with the reason in ERR. */
int guard_open(struct guard **out, const struct guard_config *cfg, char *err, size_t errlen);

/*
 * The maps whose contents outlive one guard: a restart with persistent
 * pins or a takeover hands them to the next guard, which keeps counting,
 * limiting and remembering talkers where the last one stopped. Index
 * into the REUSE array of guard_open_reuse.
 */
enum guard_state_map { GUARD_SM_COUNTERS, GUARD_SM_TALKERS, GUARD_SM_RATELIMIT, GUARD_NSTATE };

/* Map name of state map I ("counters", "talkers", "ratelimit"). */
const char *guard_state_map_name(int i);

/*
 * As guard_open, but each state map I whose REUSE[I] is a map descriptor
 * (>= 0) of the same layout as this build's (type, key and value size,
 * entries, flags) is reused instead of created: *REUSED gets bit I set.
 * A map of another layout (an older or newer horod) is not reused; the
 * guard starts that one afresh (bit clear). REUSE may be NULL.
 */
int guard_open_reuse(struct guard **out, const struct guard_config *cfg, const int *reuse,
		     unsigned int *reused, char *err, size_t errlen);

/*
 * Take over the XDP link LINK_FD (another guard's, attached to IFNAME in
 * MODE) by swapping this guard's program in atomically (BPF_LINK_UPDATE):
 * the interface is never without a guard. The link becomes this guard's
 * (closed, so detached, by guard_close once every other holder closed it
 * too). 0, or -errno with ERR (LINK_FD is left to the caller then).
 */
int guard_adopt(struct guard *g, int link_fd, const char *ifname, int mode, char *err,
		size_t errlen);

/* Interface count, and the link descriptor, name and mode of interface I. */
int guard_n_links(const struct guard *g);
int guard_link_info(const struct guard *g, int i, const char **ifname, int *mode);
int guard_link_fd(const struct guard *g, int i);

/*
 * Keep the state maps' pins when the guard closes (`guard pin` given: the
 * next horod reuses them), or not (the default: every pin removed).
 */
void guard_keep_state_pins(struct guard *g, int keep);

/* The pins guard_pin finds are a predecessor's, renewed without a warning (not stale). */
void guard_pins_inherited(struct guard *g);

/* NEW takes over the bpffs mount and directory OLD made (a reload: NEW's close undoes them). */
void guard_inherit_mounts(struct guard *new_g, struct guard *old_g);

/*
 * Close a guard whose links and pins another horod now owns (a takeover):
 * close this process's descriptors and free it, unpin, unmount and
 * remove nothing. NULL is fine.
 */
void guard_release(struct guard *g);

/* Add a prefix (FAMILY 4 or 6, ADDR network order) to LIST; 0 or -errno with ERR. */
int guard_add_rule(struct guard *g, enum guard_list list, int family, const uint8_t *addr,
		   unsigned int plen, char *err, size_t errlen);

/* Attach to IFNAME in MODE (GUARD_MODE_*); 0 or -errno with ERR; *GOT = the mode it got. */
int guard_attach(struct guard *g, const char *ifname, int mode, int *got, char *err, size_t errlen);

/* Pin the maps under DIR (mounting bpffs when needed) and fill the info map; 0 or -errno. */
int guard_pin(struct guard *g, const char *dir, char *err, size_t errlen);

/* Detach, unpin, unmount and remove only what this guard did, then free it. NULL is fine. */
void guard_close(struct guard *g);

/* File descriptor of the XDP program (for BPF_PROG_TEST_RUN). */
int guard_prog_fd(const struct guard *g);

/* File descriptor of the pass-everything program (for the peer of a veth that gets XDP_TX). */
int guard_pass_prog_fd(const struct guard *g);

/* File descriptor of the map NAME ("counters", "talkers", "ratelimit", ...), or -1. */
int guard_map_fd(const struct guard *g, const char *name);

/* The test hooks in the program's .bss (GUARD_F_TEST): the clock and the last verdict. */
struct guard_test_hooks {
	volatile uint64_t *now_ns; /* the program's clock */
	volatile uint32_t *reason; /* counter index of the last verdict */
	volatile uint32_t *action; /* XDP action of the last verdict */
};

/* Fill H with pointers into the loaded program's .bss; -1 when not mapped. */
int guard_test_hooks(struct guard *g, struct guard_test_hooks *h);

/* The program's guard_serve_now, mapped into user space (the writer's side); NULL if not. */
struct guard_serve *guard_serve_area(struct guard *g);

/* Totals of the counters map, and their spread over CPUs. */
struct guard_stats {
	uint64_t packets[GUARD_NCOUNTERS];
	uint64_t bytes[GUARD_NCOUNTERS];
	int ncpu;		   /* possible CPUs, entries used in cpu_packets */
	uint64_t cpu_packets[256]; /* every counter's packets per CPU (first 256 CPUs) */
};

/* Sum the counters map FD into OUT; 0 or -errno. */
int guard_stats_read_fd(int fd, struct guard_stats *out);

/* One row of the top-talkers table. */
struct guard_talker_row {
	struct guard_addr addr;
	struct guard_talker t;
};

/* Read up to MAX talkers from map FD, sorted by packets (most first); count or -errno. */
int guard_talkers_read_fd(int fd, struct guard_talker_row *rows, int max);

/* Read the info map FD into OUT; 0 or -errno (-EPROTO: another layout). */
int guard_info_read_fd(int fd, struct guard_info *out);

/* Open the pinned map DIR/NAME read-only; fd or -errno (-ENOENT: nothing pinned). */
int guard_pinned_open(const char *dir, const char *name);

/* Open the pinned map DIR/NAME for reading and writing (to reuse it); fd or -errno. */
int guard_pinned_open_rw(const char *dir, const char *name);

#endif /* !__bpf__ */

#endif
