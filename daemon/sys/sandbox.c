/*
 * The sandbox horod enters once start-up is done (see sandbox.h): the
 * switch to an unprivileged user with the few capabilities still needed,
 * the seccomp allowlist, and the restriction of io_uring rings.
 *
 * Privileges. The uid and gid are changed with glibc's setres[ug]id,
 * which applies them to every thread of the process (a resolver thread
 * may be running); libcap only sets this thread's capability sets, which
 * the workers, started afterwards, inherit. The bounding set is emptied
 * first (that needs CAP_SETPCAP, still held as root), then PR_SET_KEEPCAPS
 * keeps the permitted set across the uid change, then the permitted and
 * effective sets are cut to what is kept.
 *
 * The allowlist is what horod calls after start-up, found by reading the
 * code and by tracing the whole system test suite: the workers (io_uring
 * or recvmmsg/sendmmsg), the clock thread (poll, signalfd, upstream
 * sockets, clock reads and adjustments, the driftfile, the control
 * socket), the resolver threads (getaddrinfo: files and DNS), logging and
 * the exit path. The program checks the architecture first (x86_64 only;
 * x32 calls, which carry the same audit architecture, are refused), then
 * compares the call number with each entry, hot calls first.
 */
#include <errno.h>
#include <grp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/pps.h>
#include <linux/ptp_clock.h>
#include <linux/seccomp.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <liburing.h>

#include "clock/driftfile.h"
#include "daemon/sys/log.h"
#include "daemon/sys/sandbox.h"
#include "proto/appendf.h"

#define SB_WHY_MAX	 256 /* bytes of a reason */
#define SB_URING_RES_MAX 16  /* io_uring restrictions: a few opcodes plus the flags entry */

#if defined(__x86_64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_X86_64
/* Call numbers with this bit set are x32's, under the same audit architecture. */
#define SB_X32_BIT 0x40000000u

/*
 * Every system call horod makes after start-up, the frequent ones first.
 * ioctl and bpf are not here: they are allowed for FIONREAD and
 * BPF_MAP_LOOKUP_ELEM only (sb_filter_build).
 */
static const int sb_allow[] = {
	/* Workers: io_uring, or recvmmsg/sendmmsg with poll; the snapshot. */
	SYS_io_uring_enter,
	SYS_recvmmsg,
	SYS_sendmmsg, /* also the resolver: A and AAAA queries in one call */
	SYS_poll,     /* also the clock thread's loop and the resolver */
	SYS_futex,
	SYS_clock_gettime,     /* outside the vDSO: PHCs (hwtimestamp, driver kernel device) */
	SYS_sched_yield,       /* a snapshot reader waiting for the writer */
	SYS_io_uring_setup,    /* each worker creates its ring once running */
	SYS_io_uring_register, /* ... registers its buffers and sockets, restricts it */
	SYS_sched_setaffinity, /* ... and pins itself to a CPU */
	/* The clock thread: signalfd, eventfds, upstream polls, control socket. */
	SYS_read,
	SYS_write,
	SYS_close,
	SYS_clock_adjtime, /* kernel clock state; adjusting needs CAP_SYS_TIME or a PHC fd */
	SYS_socket,	   /* a fresh upstream socket per request; DNS, nscd, syslog */
	SYS_connect,
	SYS_setsockopt,	     /* SO_TIMESTAMPNS on each upstream socket */
	SYS_sendto,	     /* upstream requests, control answers, mode 6 replies, DNS, syslog */
	SYS_recvmsg,	     /* upstream replies with their receive timestamp */
	SYS_recvfrom,	     /* DNS answers */
	SYS_accept4,	     /* control socket and /metrics */
	SYS_getrandom,	     /* request cookies, mkstemp's names */
	SYS_clock_nanosleep, /* up_fini waiting for resolver threads */
	/* The driftfile (mkstemp, fsync, rename, directory fsync); name lookups;
	 * the time zone file that strftime() re-reads for each log line. */
	SYS_openat,
	SYS_newfstatat,
	SYS_lseek,
	SYS_fsync,
	SYS_rename,
	SYS_unlink, /* a failed driftfile's temp file; at exit: pidfile, control socket */
	/* A takeover (daemon/takeover.c): the successor's peer credentials checked,
	 * its connection made blocking, the descriptors sent (SCM_RIGHTS). */
	SYS_getsockopt,
	SYS_fcntl,
	SYS_sendmsg,   /* and NTS-KE: GnuTLS writes TLS records with sendmsg */
	SYS_ftruncate, /* the pidfile, written once horod serves (after the sandbox) */
	SYS_uname,     /* the resolver's gethostname() */
	SYS_getpid,    /* each log line */
	/* Memory, and the resolver threads started at run time. */
	SYS_mmap,
	SYS_munmap,
	SYS_mprotect,
	SYS_madvise,
	SYS_brk,
	SYS_clone3,
	SYS_set_robust_list,
	SYS_rseq,
	SYS_rt_sigprocmask,
	SYS_rt_sigaction, /* glibc's thread set-up (SIGCANCEL, SIGSETXID handlers) */
	SYS_exit,
	SYS_exit_group,
	SYS_restart_syscall, /* a poll resumed after SIGSTOP/SIGCONT */
	SYS_tgkill,	     /* abort() (an assert in our own code) raising SIGABRT */
	/* The XDP guard's teardown at exit: libbpf checks the pin directory is a
	 * bpffs, unpins, and horod unmounts and removes what it created (root). */
	SYS_statfs,
	SYS_umount2,
	SYS_rmdir,
	/* glibc's qsort (horoctl clients sorts up to 64 workers' logs) sizes its
	 * buffer from sysconf(_SC_PHYS_PAGES), which is sysinfo: read-only. */
	SYS_sysinfo,
	/* An SHM reference clock's segment, detached at exit (attached at start). */
	SYS_shmdt,
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* Sanitizer builds only: the runtime checks each new thread's stack and
	 * signal stack, and registers threads by their kernel id. */
	SYS_sigaltstack,
	SYS_sched_getaffinity,
	SYS_gettid,
#endif
};

/*
 * The ioctl requests horod makes after start-up, each a read: FIONREAD
 * (the resolver sizing a DNS answer), and a reference clock's reads, of a
 * PHC (the three PTP_SYS_OFFSET variants, whichever the device has) and
 * of a PPS device (PPS_FETCH); their set-up ioctls run before.
 */
static const unsigned long sb_ioctls[] = {
	FIONREAD, PTP_SYS_OFFSET_PRECISE, PTP_SYS_OFFSET_EXTENDED, PTP_SYS_OFFSET, PPS_FETCH,
};

#define SB_N_ALLOW ((int)(sizeof(sb_allow) / sizeof(sb_allow[0])))
#define SB_N_IOCTL ((int)(sizeof(sb_ioctls) / sizeof(sb_ioctls[0])))
/* Instructions: 5 (architecture, number), 3 (bpf), 2 + one per ioctl request, one per entry,
 * 2 returns. */
#define SB_PROG_LEN (SB_N_ALLOW + SB_N_IOCTL + 12)
_Static_assert(SB_PROG_LEN <= SB_FILTER_MAX, "the program must fit SB_FILTER_MAX");
_Static_assert(SB_PROG_LEN <= 255, "every jump to a return must fit in 8 bits");
#else
#define SB_N_ALLOW 0
#define SB_N_IOCTL 0
#endif

uint64_t sb_caps_needed(const struct horod_config *c, int guard)
{
	const struct cfg_clock *k = &c->clk;
	uint64_t keep = 0;

	/*
	 * CAP_SYS_TIME: the clock core adjusts CLOCK_REALTIME (kernel driver,
	 * discipline on: the default with sources). A PHC is adjusted through
	 * its descriptor, opened for writing while root, without capability;
	 * `driver sim` and `discipline off` never adjust anything.
	 */
	if ((k->n_servers > 0 || k->n_refclocks > 0) && k->driver == CFG_DRIVER_KERNEL &&
	    k->discipline != 0 && !k->device[0])
		keep |= 1ULL << CAP_SYS_TIME;
	/*
	 * The XDP guard needs nothing once attached: its links and maps are
	 * descriptors opened as root, detached when they close at exit, and
	 * horoctl reads the pinned maps itself. Its teardown (unpin, unmount)
	 * fails without root and is left to the next start, which replaces
	 * stale pins.
	 */
	(void)guard;
	/*
	 * Not kept: CAP_NET_BIND_SERVICE (port 123 is bound), CAP_NET_ADMIN
	 * (buffer sizes and hardware timestamping are set up), CAP_BPF and
	 * CAP_SYS_ADMIN (the guard is loaded, attached and pinned).
	 */
	return keep;
}

/* Write a reason into WHY and return -1. */
/* Set this thread's permitted and effective sets to KEEP, inheritable and ambient empty. */
static int sb_set_caps(uint64_t keep, char *why, size_t len)
{
	cap_value_t list[64];
	cap_t caps = cap_init();
	int n = 0, v, err;

	if (!caps)
		return ntp_fail(why, len, "cap_init: %s", strerror(errno));
	for (v = 0; v < 64; v++)
		if (keep & (1ULL << v))
			list[n++] = (cap_value_t)v;
	if ((n && (cap_set_flag(caps, CAP_PERMITTED, n, list, CAP_SET) < 0 ||
		   cap_set_flag(caps, CAP_EFFECTIVE, n, list, CAP_SET) < 0)) ||
	    cap_set_proc(caps) < 0) {
		err = errno;
		cap_free(caps);
		return ntp_fail(why, len, "cannot set capabilities: %s", strerror(err));
	}
	cap_free(caps);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return ntp_fail(why, len, "cannot clear the ambient set: %s", strerror(errno));
	return 0;
}

int sb_drop_root(const struct horod_config *c, uint64_t keep, char *why, size_t len)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int v, last;

	if (!c->sec.user[0] || c->sec.uid == 0)
		return 0; /* stay root: nothing to drop */
	if (geteuid() != 0)
		return ntp_fail(why, len, "user %s: horod must start as root to switch to it",
				c->sec.user);
	/* The bounding set first: dropping from it needs CAP_SETPCAP, held as root. */
	last = cap_max_bits();
	for (v = 0; v < last && v < 64; v++)
		if (!(keep & (1ULL << v)) && cap_drop_bound((cap_value_t)v) < 0 && errno != EINVAL)
			return ntp_fail(why, len,
					"cannot drop capability %d from the bounding set: %s", v,
					strerror(errno));
	if (initgroups(c->sec.user, c->sec.gid) < 0)
		return ntp_fail(why, len, "user %s: cannot set its groups: %s", c->sec.user,
				strerror(errno));
	if (setresgid(c->sec.gid, c->sec.gid, c->sec.gid) < 0)
		return ntp_fail(why, len, "user %s: cannot switch to gid %u: %s", c->sec.user,
				(unsigned)c->sec.gid, strerror(errno));
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return ntp_fail(why, len, "PR_SET_KEEPCAPS: %s", strerror(errno));
	if (setresuid(c->sec.uid, c->sec.uid, c->sec.uid) < 0)
		return ntp_fail(why, len, "user %s: cannot switch to uid %u: %s", c->sec.user,
				(unsigned)c->sec.uid, strerror(errno));
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return ntp_fail(why, len, "PR_SET_KEEPCAPS: %s", strerror(errno));
	if (sb_set_caps(keep, why, len) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ntp_fail(why, len, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	/* Prove it: every id switched, and root cannot be had back. */
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != c->sec.uid ||
	    eu != c->sec.uid || su != c->sec.uid || rg != c->sec.gid || eg != c->sec.gid ||
	    sg != c->sec.gid)
		return ntp_fail(why, len, "user %s: the switch did not take", c->sec.user);
	if (setresuid(0, 0, 0) == 0)
		return ntp_fail(why, len, "user %s: root could be regained", c->sec.user);
	return 0;
}

int sb_check_dir_writable(const char *path, const char *what, char *why, size_t len)
{
	char dir[CFG_PATH_MAX];

	clk_driftfile_dir(path, dir, sizeof(dir));
	/* access() asks as the real uid: the user horod runs as now. */
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	return ntp_fail(why, len,
			"%s %s: its directory %s is not writable by uid %u (%s): make the "
			"directory writable by horod's `user`, or move the %s",
			what, path, dir, (unsigned)getuid(), strerror(errno), what);
}

int sb_allowlist_size(void)
{
	return SB_N_ALLOW;
}

int sb_ioctl_list_size(void)
{
	return SB_N_IOCTL;
}

int sb_filter_build(int level, struct sock_filter *prog, int max)
{
#ifdef SB_AUDIT_ARCH
	/* The two returns end the program; a jump is counted from the next instruction. */
	const int deny_at = SB_PROG_LEN - 2, allow_at = SB_PROG_LEN - 1;
	uint32_t deny;
	int k = 0, i;

#define SB_TO(target) ((uint8_t)((target)-k - 1))
	if (level == SB_SECCOMP_KILL)
		deny = SECCOMP_RET_KILL_PROCESS;
	else if (level == SB_SECCOMP_ERRNO)
		deny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
	else
		return -1;
	if (max < SB_PROG_LEN)
		return -1;
	/* 0-2: a call of another architecture (e.g. int 0x80, i386 numbers) is denied. */
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_AUDIT_ARCH, 1, 0);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
	/* 3-4: the call number; x32 numbers jump over the rest to the deny return. */
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	prog[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SB_X32_BIT,
					       SB_TO(deny_at), 0);
	k++;
	/*
	 * 5-7: bpf only as BPF_MAP_LOOKUP_ELEM: the totals read the XDP
	 * guard's counters map, opened at start (xg_totals_add). The command
	 * is the first argument, an int: the low word of args[0].
	 */
	prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bpf, 0, 2);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, args[0]));
	prog[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BPF_MAP_LOOKUP_ELEM,
					       SB_TO(allow_at), SB_TO(deny_at));
	k++;
	/*
	 * 8 on: ioctl only as the requests of sb_ioctls. The kernel takes the
	 * request as 32 bits: the low word of args[1] (little-endian) is all
	 * of it. A call that is not ioctl skips to the list.
	 */
	prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0,
						 (uint8_t)(SB_N_IOCTL + 1));
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, args[1]));
	for (i = 0; i < SB_N_IOCTL; i++) {
		prog[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						       (uint32_t)sb_ioctls[i], SB_TO(allow_at),
						       i + 1 < SB_N_IOCTL ? 0 : SB_TO(deny_at));
		k++;
	}
	/* Entry I jumps over the N-1-I entries after it and the deny return to the allow. */
	for (i = 0; i < SB_N_ALLOW; i++) {
		prog[k] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						       (uint32_t)sb_allow[i], SB_TO(allow_at), 0);
		k++;
	}
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny);
	prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef SB_TO
	return k;
#else
	(void)level;
	(void)prog;
	(void)max;
	return -1;
#endif
}

int sb_seccomp_install(int level, char *why, size_t len)
{
	struct sock_filter prog[SB_FILTER_MAX];
	struct sock_fprog fprog;
	long r;
	int n;

	if (level == SB_SECCOMP_OFF)
		return 0;
	n = sb_filter_build(level, prog, SB_FILTER_MAX);
	if (n < 0)
		return ntp_fail(why, len,
				"seccomp %d: no system call list for this architecture (horod has "
				"one for x86_64 only); use seccomp 0",
				level);
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	/* Needed to install a filter without CAP_SYS_ADMIN; horod never executes anything. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ntp_fail(why, len, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	/* TSYNC: the filter covers every thread already running (e.g. a resolver), not just this
	 * one. */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (r > 0)
		return ntp_fail(why, len, "seccomp: thread %ld could not take the filter", r);
	if (r < 0)
		return ntp_fail(why, len, "seccomp: %s", strerror(errno));
	return 0;
}

int sb_uring_restrict(struct io_uring *ring, const uint8_t *ops, int n_ops, uint8_t flags)
{
	struct io_uring_restriction res[SB_URING_RES_MAX];
	int i, ret;

	if (n_ops < 0 || n_ops >= SB_URING_RES_MAX)
		return -EINVAL;
	memset(res, 0, sizeof(res));
	for (i = 0; i < n_ops; i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	res[i].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[i].sqe_flags = flags;
	/*
	 * No IORING_RESTRICTION_REGISTER_OP: once enabled, the ring takes no
	 * registration. Debian's liburing 2.3 does not export
	 * io_uring_register_restrictions/io_uring_enable_rings (missing from
	 * its symbol map), so the raw io_uring_register is used.
	 */
	ret = io_uring_register((unsigned)ring->ring_fd, IORING_REGISTER_RESTRICTIONS, res,
				(unsigned)n_ops + 1);
	if (ret < 0)
		return ret;
	return io_uring_register((unsigned)ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

int sb_enter(const struct horod_config *c, int guard)
{
	char why[SB_WHY_MAX], caps[64] = "none";
	uint64_t keep = sb_caps_needed(c, guard);
	int dropped = c->sec.user[0] && c->sec.uid != 0;

	if (sb_drop_root(c, keep, why, sizeof(why)) < 0) {
		log_msg(LOG_ERR, "%s", why);
		return -1;
	}
	/* The driftfile is replaced (temp file + rename) by the user horod now runs as. */
	if (dropped && c->clk.driftfile[0] && (c->clk.n_servers > 0 || c->clk.n_refclocks > 0) &&
	    sb_check_dir_writable(c->clk.driftfile, "driftfile", why, sizeof(why)) < 0) {
		log_msg(LOG_ERR, "%s", why);
		return -1;
	}
	/* The NTS server keys are saved (temp file + rename) in ntsdumpdir by that user too. */
	if (dropped && c->nts.cert[0] && c->nts.dumpdir[0] && c->nts.rotate > 0) {
		char keys[CFG_PATH_MAX + 16];

		snprintf(keys, sizeof(keys), "%s/ntskeys", c->nts.dumpdir);
		if (sb_check_dir_writable(keys, "ntsdumpdir file", why, sizeof(why)) < 0) {
			log_msg(LOG_ERR, "%s", why);
			return -1;
		}
	}
	/* With ntsrotate 0 that user reads the key file again whenever it changes. */
	if (dropped && c->nts.cert[0] && c->nts.rotate == 0) {
		char keys[CFG_PATH_MAX + 16];

		snprintf(keys, sizeof(keys), "%s/ntskeys", c->nts.dumpdir);
		if (access(keys, R_OK) < 0) {
			log_msg(LOG_ERR,
				"ntsrotate 0: %s is not readable by uid %u (%s): make it "
				"readable by horod's `user` (and by no one else)",
				keys, (unsigned)getuid(), strerror(errno));
			return -1;
		}
	}
	if (sb_seccomp_install(c->sec.seccomp, why, sizeof(why)) < 0) {
		log_msg(LOG_ERR, "%s", why);
		return -1;
	}
	if (keep & (1ULL << CAP_SYS_TIME))
		snprintf(caps, sizeof(caps), "cap_sys_time");
	if (dropped)
		log_msg(LOG_NOTICE, "running as user %s (uid %u, gid %u), capabilities: %s",
			c->sec.user, (unsigned)c->sec.uid, (unsigned)c->sec.gid, caps);
	if (c->sec.seccomp)
		log_msg(LOG_NOTICE,
			"seccomp %d: %d system calls allowed (and ioctl FIONREAD, bpf map "
			"lookups), any other %s",
			c->sec.seccomp, SB_N_ALLOW,
			c->sec.seccomp == SB_SECCOMP_KILL ? "kills horod" : "fails with EPERM");
	return 0;
}
