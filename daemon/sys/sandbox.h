/*
 * horod's sandbox, entered once start-up is done (sockets bound, XDP guard
 * attached, control socket created, clock device and driftfile opened)
 * and before the workers start. Three layers:
 *
 * - `user NAME`: switch to NAME's uid, gid and supplementary groups, keep
 *   only the capabilities the configuration still needs at run time
 *   (sb_caps_needed), empty the bounding set of every other one and set
 *   no_new_privs. Without `user` horod stays root.
 * - `seccomp 1|2`: a system call allowlist (classic BPF, written here) in
 *   every thread; a call outside it kills the process (1) or fails with
 *   EPERM (2). Architectures other than x86_64 are refused.
 * - io_uring restrictions: each worker's ring accepts only the opcodes
 *   and SQE flags its worker submits (sb_uring_restrict). io_uring
 *   requests do not pass through seccomp, so this is their filter.
 */
#ifndef HOROD_DAEMON_SANDBOX_H
#define HOROD_DAEMON_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#include "daemon/config/config.h"

#define SB_FILTER_MAX                                                                              \
	320 /* instructions of a seccomp program: 12 + one per allowed call or                     \
	       ioctl request */

enum sb_seccomp_level {
	SB_SECCOMP_OFF = 0,   /* no filter */
	SB_SECCOMP_KILL = 1,  /* a call outside the list kills the process (SIGSYS) */
	SB_SECCOMP_ERRNO = 2, /* a call outside the list fails with EPERM */
};

struct io_uring;

/* Capabilities (bit N = capability N) needed after start-up under C; GUARD: XDP attached. */
uint64_t sb_caps_needed(const struct horod_config *c, int guard);

/* Switch to C's user keeping only KEEP, empty the bounding set, no_new_privs; 0 or -1 with WHY. */
int sb_drop_root(const struct horod_config *c, uint64_t keep, char *why, size_t len);

/* 0 when the current user may create files in the directory of PATH, else -1 with WHY. */
int sb_check_dir_writable(const char *path, const char *what, char *why, size_t len);

/* Number of system calls in the allowlist (0 on an architecture without one). */
int sb_allowlist_size(void);

/* Number of ioctl requests the filter allows (FIONREAD, the PHC and PPS reads). */
int sb_ioctl_list_size(void);

/* The seccomp program of LEVEL (1 or 2) in PROG (MAX instructions): its length, or -1. */
int sb_filter_build(int level, struct sock_filter *prog, int max);

/* Install the filter of LEVEL in every thread of the process (0: nothing); 0 or -1 with WHY. */
int sb_seccomp_install(int level, char *why, size_t len);

/*
 * Allow RING (created with IORING_SETUP_R_DISABLED) only the N_OPS SQE
 * opcodes OPS and the SQE flags FLAGS, and no registration, then enable
 * it; 0 or -errno.
 */
int sb_uring_restrict(struct io_uring *ring, const uint8_t *ops, int n_ops, uint8_t flags);

/* Enter the sandbox as C says (user, driftfile directory, seccomp), logged; 0 or -1. */
int sb_enter(const struct horod_config *c, int guard);

#endif
