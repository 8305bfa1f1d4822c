/*
 * Tests of the sandbox (daemon/sys/sandbox.c): the seccomp program's shape,
 * the filter at work in forked children (level 2: an allowed call works,
 * a forbidden one fails with EPERM, in a thread started before the filter
 * too; level 1: a forbidden call kills with SIGSYS), the capabilities kept
 * for every driver/discipline/guard combination, the switch to `nobody`
 * (as root), the driftfile directory check, and an io_uring ring
 * restricted to the workers' opcodes refusing everything else.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/seccomp.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <linux/ptp_clock.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <liburing.h>

#include "daemon/config/config.h"
#include "daemon/sys/sandbox.h"

Suite *sandbox_suite(void);

#define NOBODY_UID  65534	 /* Debian's nobody */
#define PERSONA_ASK 0xffffffffUL /* personality(): query only, changes nothing */
#define X32_BIT	    0x40000000L	 /* x32 call numbers */

/* Run FN in a forked child; its exit status (as waitpid gives it). */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	ck_assert_msg(pid >= 0, "fork should work");
	/* _exit: no atexit handlers (e.g. LeakSanitizer's) run under the filter. */
	if (pid == 0)
		_exit(fn(arg));
	ck_assert_msg(waitpid(pid, &st, 0) == pid, "waitpid should work");
	return st;
}

/* 1 when instruction I's jumps land inside a program of N instructions. */
static int jumps_in_range(const struct sock_filter *f, int i, int n)
{
	if (BPF_CLASS(f[i].code) != BPF_JMP)
		return 1;
	return i + 1 + f[i].jt < n && i + 1 + f[i].jf < n;
}

START_TEST(test_filter_shape)
{
	struct sock_filter prog[SB_FILTER_MAX];
	int level, n, i, allows = 0;

	ck_assert_msg(sb_allowlist_size() > 40, "the allowlist should name the calls horod makes");
	for (level = 1; level <= 2; level++) {
		uint32_t deny = level == 1 ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO | EPERM;

		n = sb_filter_build(level, prog, SB_FILTER_MAX);
		ck_assert_msg(n == sb_allowlist_size() + sb_ioctl_list_size() + 12,
			      "level %d should be 12 + one instruction per call and ioctl, got %d",
			      level, n);
		ck_assert_msg(sb_ioctl_list_size() == 5, "FIONREAD, three PHC reads, PPS_FETCH");
		ck_assert_msg(prog[0].code == (BPF_LD | BPF_W | BPF_ABS) &&
				      prog[0].k == offsetof(struct seccomp_data, arch),
			      "the program should load the architecture first");
		ck_assert_msg(prog[2].code == (BPF_RET | BPF_K) && prog[2].k == deny,
			      "a wrong architecture should be denied");
		ck_assert_msg(prog[4].code == (BPF_JMP | BPF_JGE | BPF_K) &&
				      4 + 1 + prog[4].jt == n - 2,
			      "x32 call numbers should go to the deny return");
		ck_assert_msg(prog[n - 2].code == (BPF_RET | BPF_K) && prog[n - 2].k == deny,
			      "a call outside the list should get the level's action");
		ck_assert_msg(prog[n - 1].code == (BPF_RET | BPF_K) &&
				      prog[n - 1].k == SECCOMP_RET_ALLOW,
			      "the last instruction should allow");
		for (i = 0; i < n; i++) {
			ck_assert_msg(jumps_in_range(prog, i, n),
				      "jump %d should stay in the program", i);
			if (i >= 10 && i < n - 2)
				allows += i + 1 + prog[i].jt == n - 1;
		}
	}
	ck_assert_msg(allows == 2 * (sb_allowlist_size() + sb_ioctl_list_size()),
		      "every list entry and ioctl request should jump to the allow return");
	ck_assert_msg(sb_filter_build(0, prog, SB_FILTER_MAX) == -1, "level 0 has no program");
	ck_assert_msg(sb_filter_build(3, prog, SB_FILTER_MAX) == -1, "level 3 does not exist");
	ck_assert_msg(sb_filter_build(1, prog, 10) == -1, "a short buffer should be refused");
}
END_TEST

/* Child of the level 2 test: bit K of the result = check K failed. */
static int level2_child(void *arg)
{
	struct timespec ts;
	char why[256];
	int bad = 0, p[2], avail = 0, on = 1;

	(void)arg;
	if (pipe(p) < 0 || sb_seccomp_install(SB_SECCOMP_ERRNO, why, sizeof(why)) < 0)
		return 100;
	if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) != 0)
		bad |= 1;
	if (write(p[1], "x", 1) != 1)
		bad |= 2;
	errno = 0;
	if (syscall(SYS_personality, PERSONA_ASK) != -1 || errno != EPERM)
		bad |= 4;
	errno = 0;
	if (mount("none", "/nonexistent", "tmpfs", 0, NULL) == 0 || errno != EPERM)
		bad |= 8;
	errno = 0;
	if (syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0) != -1 || errno != EPERM)
		bad |= 16;
	/* An allowed number with the x32 bit is not the same call. */
	errno = 0;
	if (syscall(SYS_getpid | X32_BIT) != -1 || errno != EPERM)
		bad |= 32;
	/* ioctl: FIONREAD and the reference clocks' reads only. */
	if (ioctl(p[0], FIONREAD, &avail) != 0 || avail != 1)
		bad |= 64;
	{
		struct ptp_sys_offset_precise o;

		/* A PHC read on a pipe passes the filter and fails in the kernel: ENOTTY. */
		errno = 0;
		if (ioctl(p[0], PTP_SYS_OFFSET_PRECISE, &o) != -1 || errno == EPERM)
			bad |= 64;
	}
	errno = 0;
	if (ioctl(p[0], FIONBIO, &on) != -1 || errno != EPERM)
		bad |= 128;
	/*
	 * bpf: map lookups only. A lookup on a pipe passes the filter and
	 * fails in the kernel (EBADF/EINVAL, not EPERM); creating a map is
	 * refused by the filter.
	 */
	{
		union bpf_attr a;

		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)p[0];
		errno = 0;
		if (syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) != -1 || errno == EPERM)
			bad |= 64;
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 8;
		a.max_entries = 1;
		errno = 0;
		if (syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a)) != -1 || errno != EPERM)
			bad |= 128;
	}
	return bad;
}

START_TEST(test_level2_fails_with_eperm)
{
	int st = in_child(level2_child, NULL);

	ck_assert_msg(WIFEXITED(st), "the child should exit, not be killed (status %d)", st);
	ck_assert_msg(WEXITSTATUS(st) != 100, "the filter should install");
	ck_assert_msg(!(WEXITSTATUS(st) & 3), "allowed calls should work (failed: 0x%x)",
		      WEXITSTATUS(st));
	ck_assert_msg(!(WEXITSTATUS(st) & 28),
		      "personality, mount and ptrace should fail with EPERM (failed: 0x%x)",
		      WEXITSTATUS(st));
	ck_assert_msg(!(WEXITSTATUS(st) & 32), "an x32 call should fail with EPERM");
	ck_assert_msg(!(WEXITSTATUS(st) & 64),
		      "ioctl FIONREAD, a PHC read and bpf map lookups should pass");
	ck_assert_msg(!(WEXITSTATUS(st) & 128),
		      "any other ioctl or bpf command should fail with EPERM");
}
END_TEST

static int level1_child(void *arg)
{
	int *p = arg;
	char why[256];

	if (sb_seccomp_install(SB_SECCOMP_KILL, why, sizeof(why)) < 0)
		return 100;
	if (write(p[1], "x", 1) != 1) /* allowed: the parent reads it */
		return 101;
	syscall(SYS_personality, PERSONA_ASK);
	return 0; /* not reached: killed */
}

START_TEST(test_level1_kills)
{
	int p[2], st;
	char c = 0;

	ck_assert(pipe(p) == 0);
	st = in_child(level1_child, p);
	ck_assert_msg(read(p[0], &c, 1) == 1 && c == 'x',
		      "an allowed call should work under level 1");
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
		      "a forbidden call should kill with SIGSYS (status 0x%x)", st);
	close(p[0]);
	close(p[1]);
}
END_TEST

static int go[2];

static void *late_thread(void *arg)
{
	long *res = arg;
	char c;

	if (read(go[0], &c, 1) != 1)
		return NULL;
	errno = 0;
	*res = syscall(SYS_personality, PERSONA_ASK) == -1 && errno == EPERM;
	return NULL;
}

/* A thread started before the filter gets it too (TSYNC). */
static int tsync_child(void *arg)
{
	pthread_t t;
	long res = 0;
	char why[256];

	(void)arg;
	if (pipe(go) < 0 || pthread_create(&t, NULL, late_thread, &res) != 0)
		return 100;
	if (sb_seccomp_install(SB_SECCOMP_ERRNO, why, sizeof(why)) < 0)
		return 101;
	if (write(go[1], "g", 1) != 1 || pthread_join(t, NULL) != 0)
		return 102;
	return res ? 0 : 1;
}

START_TEST(test_filter_covers_running_threads)
{
	int st = in_child(tsync_child, NULL);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) < 100,
		      "the child should install the filter and join (status 0x%x)", st);
	ck_assert_msg(WEXITSTATUS(st) == 0,
		      "a thread running before the filter should be filtered too");
}
END_TEST

static int level0_child(void *arg)
{
	char why[256];

	(void)arg;
	if (sb_seccomp_install(SB_SECCOMP_OFF, why, sizeof(why)) < 0)
		return 100;
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0 ? 0 : 1;
}

START_TEST(test_level0_installs_nothing)
{
	int st = in_child(level0_child, NULL);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "seccomp 0 should leave the process unfiltered (status 0x%x)", st);
}
END_TEST

START_TEST(test_caps_needed)
{
	static const struct {
		int servers, sim, discipline, phc, guard;
		int sys_time;
	} cases[] = {
		/* servers, sim, discipline (-1 default), PHC device, guard -> CAP_SYS_TIME */
		{1, 0, -1, 0, 0, 1}, {1, 0, 1, 0, 0, 1},  {1, 0, 0, 0, 0, 0},  {1, 1, -1, 0, 0, 0},
		{1, 1, 1, 0, 0, 0},  {1, 1, 0, 0, 0, 0},  {1, 0, 1, 1, 0, 0},  {0, 0, -1, 0, 0, 0},
		{0, 0, 1, 0, 0, 0},  {0, 1, -1, 0, 0, 0}, {1, 0, -1, 0, 1, 1}, {1, 0, 0, 0, 1, 0},
		{1, 1, 1, 0, 1, 0},  {0, 0, -1, 0, 1, 0}, {1, 0, 1, 1, 1, 0},
	};
	struct horod_config c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t want = cases[i].sys_time ? 1ULL << CAP_SYS_TIME : 0, got;

		cfg_defaults(&c);
		c.clk.n_servers = cases[i].servers;
		c.clk.driver = cases[i].sim ? CFG_DRIVER_SIM : CFG_DRIVER_KERNEL;
		c.clk.discipline = cases[i].discipline;
		if (cases[i].phc)
			snprintf(c.clk.device, sizeof(c.clk.device), "/dev/ptp0");
		got = sb_caps_needed(&c, cases[i].guard);
		ck_assert_msg(
			got == want,
			"case %zu (servers %d, %s, discipline %d, phc %d, guard %d) should keep "
			"0x%llx, got 0x%llx",
			i, cases[i].servers, cases[i].sim ? "sim" : "kernel", cases[i].discipline,
			cases[i].phc, cases[i].guard, (unsigned long long)want,
			(unsigned long long)got);
		cfg_free(&c);
	}
	/* A reference clock alone disciplines CLOCK_REALTIME as servers do. */
	cfg_defaults(&c);
	c.clk.n_refclocks = 1;
	ck_assert_msg(sb_caps_needed(&c, 0) == 1ULL << CAP_SYS_TIME,
		      "a refclock with the kernel driver should keep CAP_SYS_TIME");
	c.clk.discipline = 0;
	ck_assert_msg(sb_caps_needed(&c, 0) == 0, "... but not with discipline off");
	cfg_free(&c);
}
END_TEST

/* Capability flag FLAG of CAP in this thread's sets. */
static int has_cap(cap_flag_t flag, cap_value_t cap)
{
	cap_t c = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (c) {
		cap_get_flag(c, cap, flag, &v);
		cap_free(c);
	}
	return v == CAP_SET;
}

/* As root: drop to nobody keeping CAP_SYS_TIME; bit K of the result = check K failed. */
static int drop_child(void *arg)
{
	struct horod_config *c = arg;
	char why[256];
	int bad = 0;

	if (sb_drop_root(c, 1ULL << CAP_SYS_TIME, why, sizeof(why)) < 0) {
		fprintf(stderr, "sb_drop_root: %s\n", why);
		return 100;
	}
	if (getuid() != NOBODY_UID || geteuid() != NOBODY_UID || getgid() != c->sec.gid)
		bad |= 1;
	if (!has_cap(CAP_EFFECTIVE, CAP_SYS_TIME) || !has_cap(CAP_PERMITTED, CAP_SYS_TIME))
		bad |= 2;
	if (has_cap(CAP_EFFECTIVE, CAP_NET_ADMIN) || has_cap(CAP_PERMITTED, CAP_SETUID) ||
	    has_cap(CAP_PERMITTED, CAP_SYS_ADMIN))
		bad |= 4;
	if (cap_get_bound(CAP_SYS_TIME) != 1 || cap_get_bound(CAP_SYS_ADMIN) != 0 ||
	    cap_get_bound(CAP_NET_BIND_SERVICE) != 0)
		bad |= 8;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		bad |= 16;
	if (setuid(0) == 0)
		bad |= 32;
	return bad;
}

START_TEST(test_drop_root)
{
	struct horod_config c;
	char err[256], why[256];
	int st;

	cfg_defaults(&c);
	ck_assert_msg(sb_drop_root(&c, 0, why, sizeof(why)) == 0,
		      "without `user` nothing should be dropped");
	ck_assert_msg(cfg_parse_string(&c, "t.conf", "user nobody\n", err, sizeof(err)) == 0,
		      "user nobody should parse: %s", err);
	if (geteuid() != 0) {
		ck_assert_msg(sb_drop_root(&c, 0, why, sizeof(why)) == -1 &&
				      strstr(why, "must start as root"),
			      "without root the switch should be refused with a reason, got '%s'",
			      why);
		cfg_free(&c);
		return;
	}
	st = in_child(drop_child, &c);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 100, "the switch should work");
	ck_assert_msg(!(WEXITSTATUS(st) & 1), "uid and gid should be nobody's");
	ck_assert_msg(!(WEXITSTATUS(st) & 2), "CAP_SYS_TIME should be kept");
	ck_assert_msg(!(WEXITSTATUS(st) & 4), "no other capability should be kept");
	ck_assert_msg(!(WEXITSTATUS(st) & 8), "the bounding set should hold only CAP_SYS_TIME");
	ck_assert_msg(!(WEXITSTATUS(st) & 16), "no_new_privs should be set");
	ck_assert_msg(!(WEXITSTATUS(st) & 32), "root should not be regained");
	cfg_free(&c);
}
END_TEST

/* As nobody (switched here when root): the root-only directory PATH is not writable. */
static int dir_child(void *arg)
{
	char why[512];
	const char *dir = arg;
	char path[512];

	if (geteuid() == 0 && setresuid(NOBODY_UID, NOBODY_UID, NOBODY_UID) < 0)
		return 100;
	snprintf(path, sizeof(path), "%s/drift", dir);
	if (sb_check_dir_writable(path, "driftfile", why, sizeof(why)) != -1)
		return 1;
	if (!strstr(why, "is not writable") || !strstr(why, dir))
		return 2;
	return 0;
}

START_TEST(test_dir_writable)
{
	char dir[] = "/tmp/check_sandbox.XXXXXX", path[64], why[512];
	int st;

	ck_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/drift", dir);
	ck_assert_msg(sb_check_dir_writable(path, "driftfile", why, sizeof(why)) == 0,
		      "our own directory should be writable: %s", why);
	ck_assert(chmod(dir, 0500) == 0);
	st = in_child(dir_child, dir);
	rmdir(dir);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "a directory the user cannot write should be reported with its name "
		      "(child status 0x%x)",
		      st);
}
END_TEST

/* Submit SQE (prepared by the caller) and return its completion's result. */
static int run_one(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	ck_assert_msg(io_uring_submit(ring) == 1, "the SQE should be submitted");
	ck_assert_msg(io_uring_wait_cqe(ring, &cqe) == 0, "a completion should come");
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

START_TEST(test_uring_restrict)
{
	static const uint8_t ops[] = {IORING_OP_RECVMSG, IORING_OP_SENDMSG};
	struct io_uring_params p;
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct iovec iov = {.iov_base = "ntp", .iov_len = 3};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	char buf[8];
	int sv[2], ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(8, &ring, &p);
	ck_assert_msg(ret == 0, "a disabled ring should be created: %s", strerror(-ret));
	ck_assert(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0);
	/* Registration before the restriction is allowed, as the workers do. */
	ck_assert_msg(io_uring_register_files(&ring, sv, 1) == 0,
		      "files should register before the ring runs");
	ret = sb_uring_restrict(&ring, ops, (int)sizeof(ops),
				IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT);
	ck_assert_msg(ret == 0, "restricting and enabling should work: %s", strerror(-ret));

	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_sendmsg(sqe, sv[0], &msg, 0);
	ck_assert_msg(run_one(&ring) == 3, "an allowed SENDMSG should send");
	ck_assert_msg(read(sv[1], buf, sizeof(buf)) == 3, "its datagram should arrive");

	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_sendmsg(sqe, 0, &msg, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	ck_assert_msg(run_one(&ring) == 3, "an allowed flag (FIXED_FILE) should work");

	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
	ret = run_one(&ring);
	ck_assert_msg(ret == -EACCES, "OPENAT should be refused with -EACCES, got %d", ret);
	if (ret >= 0)
		close(ret);

	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	ck_assert_msg(run_one(&ring) == -EACCES, "NOP is not on the list either");

	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_sendmsg(sqe, sv[0], &msg, 0);
	sqe->flags |= IOSQE_IO_DRAIN;
	ck_assert_msg(run_one(&ring) == -EACCES, "an SQE flag outside the list should be refused");

	ck_assert_msg(io_uring_register_files_update(&ring, 0, sv, 1) == -EACCES,
		      "a registration once the ring runs should be refused");
	io_uring_queue_exit(&ring);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("seccomp");

	tcase_add_test(tc, test_filter_shape);
	tcase_add_test(tc, test_level2_fails_with_eperm);
	tcase_add_test(tc, test_level1_kills);
	tcase_add_test(tc, test_filter_covers_running_threads);
	tcase_add_test(tc, test_level0_installs_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("privileges");
	tcase_add_test(tc, test_caps_needed);
	tcase_add_test(tc, test_drop_root);
	tcase_add_test(tc, test_dir_writable);
	suite_add_tcase(s, tc);

	tc = tcase_create("uring");
	tcase_add_test(tc, test_uring_restrict);
	suite_add_tcase(s, tc);
	return s;
}
