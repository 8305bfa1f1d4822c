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

/* The test hooks in the program's .bss (GUARD_F_TEST): the clocks and the last verdict. */
struct guard_test_hooks {
	volatile uint64_t *now_ns;	/* the limiter's clock (CLOCK_MONOTONIC ns) */
	volatile uint64_t *tai_ns;	/* the served clock's next reading (CLOCK_TAI ns) */
	volatile uint64_t *tai_step_ns; /* what it advances by at each reading */
	volatile uint32_t *reason;	/* counter index of the last verdict */
	volatile uint32_t *action;	/* XDP action of the last verdict */
};

/* Fill H with pointers into the loaded program's .bss; -1 when not mapped. */
int guard_test_hooks(struct guard *g, struct guard_test_hooks *h);

/* The program's guard_state, mapped into user space (the writer's side); NULL if not. */
struct guard_state_pub *guard_state_area(struct guard *g);

/* The interfaces attached so far, into IFINDEX (MAX at most); their number. */
int guard_links(const struct guard *g, uint32_t *ifindex, int max);

#endif
