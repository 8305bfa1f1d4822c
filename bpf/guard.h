/*
 * The XDP guard's loader (guard.c): open the skeleton → set the
 * configuration (read-only data) → load → fill the access lists →
 * attach → pin; guard_close() undoes exactly what was done. Also the
 * handles the tests and horod need on a loaded guard: the program's and
 * maps' file descriptors, and its .bss mapped into user space. The layout
 * shared with the BPF program is guard_layout.h; reading pinned maps back
 * (horoctl) is guard_read.h, included here for the loader's users.
 */
#ifndef HOROD_BPF_GUARD_H
#define HOROD_BPF_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/guard_layout.h"
#include "bpf/guard_pub.h"
#include "bpf/guard_read.h"

/* Which access-list trie a rule goes to. */
enum guard_list { GUARD_LIST_ALLOW, GUARD_LIST_DENY, GUARD_LIST_CONTROL };

/* A loaded guard: the skeleton and what was attached and pinned. */
struct guard;

/* Where the loader's and libbpf's messages go (horod: log_msg). */
typedef void (*guard_log_fn)(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Route libbpf's messages (at LOG_DEBUG) and the loader's to FN; NULL = stderr. */
void guard_set_log(guard_log_fn fn);

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

/*
 * Attach to IFNAME, in native mode, a copy of the program bound to that
 * device (BPF_F_XDP_DEV_BOUND_ONLY) that takes each answer's receive
 * time from the NIC's stamp (XDP RX metadata) with the PHC offsets of
 * struct guard_phc; it shares every map with G's program. 0, or -errno
 * with ERR and nothing attached (the driver has no XDP metadata ops, no
 * native XDP, a kernel before 6.3): then guard_attach the ordinary one.
 */
int guard_attach_bound(struct guard *g, const char *ifname, char *err, size_t errlen);

/* As guard_adopt with a device-bound copy (guard_attach_bound); the link is left as it was on
 * failure. */
int guard_adopt_bound(struct guard *g, int link_fd, const char *ifname, char *err, size_t errlen);

/* 1 when link I runs a device-bound copy (guard_attach_bound, guard_adopt_bound). */
int guard_link_bound(const struct guard *g, int i);

/* File descriptor of the program link I runs (the device-bound copy or G's), or -1. */
int guard_link_prog_fd(const struct guard *g, int i);

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

/*
 * `guard stamp on`: attach the egress program (bpf/guard_egress.h) to
 * IFNAME through a tcx link (Linux 6.6), after whatever runs there; it
 * shares G's maps and serving state, and is detached when G closes or is
 * released (never handed over: a successor attaches its own). 0, or
 * -errno with ERR and nothing attached.
 */
int guard_attach_egress(struct guard *g, const char *ifname, char *err, size_t errlen);

/* Egress links attached; the egress program's descriptor (for BPF_PROG_TEST_RUN). */
int guard_n_egress(const struct guard *g);
int guard_egress_prog_fd(const struct guard *g);

/* File descriptor of the pass-everything program (for the peer of a veth that gets XDP_TX). */
int guard_pass_prog_fd(const struct guard *g);

/* File descriptor of the map NAME ("counters", "talkers", "ratelimit", ...), or -1. */
int guard_map_fd(const struct guard *g, const char *name);

/* The test hooks in the program's .bss (GUARD_F_TEST): the clocks and the last verdict. */
struct guard_test_hooks {
	volatile uint64_t *now_ns;	/* the limiter's clock (CLOCK_MONOTONIC ns) */
	volatile uint64_t *tai_ns;	/* the served clock's next reading (CLOCK_TAI ns) */
	volatile uint64_t *tai_step_ns; /* what it advances by at each reading */
	volatile uint32_t *reason;	/* counter index of the last verdict */
	volatile uint32_t *action;	/* XDP action of the last verdict */
	volatile uint64_t *hw_ns;	/* GUARD_F_HWRX: the NIC's receive stamp (PHC ns) ... */
	volatile int32_t *hw_ret;	/* ... and the kfunc's return: 0, or -errno (none) */
};

/* Fill H with pointers into the loaded program's .bss; -1 when not mapped. */
int guard_test_hooks(struct guard *g, struct guard_test_hooks *h);

/* The program's guard_state, mapped into user space (the writer's side); NULL if not. */
struct guard_state_pub *guard_state_area(struct guard *g);

/* Open the pinned map DIR/NAME for reading and writing (to reuse it); fd or -errno. */
int guard_pinned_open_rw(const char *dir, const char *name);

/* The interfaces attached so far, into IFINDEX (MAX at most); their number. */
int guard_links(const struct guard *g, uint32_t *ifindex, int max);

#endif
