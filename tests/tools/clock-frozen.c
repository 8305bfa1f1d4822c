/*
 * clock-frozen: run a command whose changes to the system clock succeed
 * without doing anything, so that horod can run as in production — the
 * kernel driver, discipline on, CAP_SYS_TIME kept — in a test that must
 * never change the machine's clock. A seccomp filter makes every call
 * that can set or adjust a clock return 0 without reaching the kernel:
 * clock_adjtime and adjtimex (reads included: they come back as a
 * synchronized clock with nothing to say), clock_settime and
 * settimeofday. The filter cannot be removed by the command (seccomp
 * filters only add up, and NO_NEW_PRIVS is set); a call of another
 * architecture or of the x32 ABI is refused with EPERM.
 *
 *   clock-frozen COMMAND [ARGS...]   run COMMAND under the filter
 *   clock-frozen --show              print the kernel clock's state
 *                                    (freq tick status offset), to compare
 *                                    before and after; `clock-frozen
 *                                    clock-frozen --show` shows the filter
 *                                    at work (tick=0: the reads never
 *                                    reached the kernel)
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>

#define X32_BIT 0x40000000u /* x32 system call numbers have it */

/*
 * Print the kernel clock's state as one line, read both ways (adjtimex
 * and clock_adjtime on CLOCK_REALTIME, read-only); 0, or 1 if it cannot
 * be read. Under the filter the reads come back untouched: tick=0.
 */
static int show(void)
{
	struct timex a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (adjtimex(&a) < 0 || syscall(__NR_clock_adjtime, CLOCK_REALTIME, &b) < 0) {
		perror("clock-frozen: adjtimex");
		return 1;
	}
	printf("freq=%ld tick=%ld status=0x%x offset=%ld clock_adjtime_tick=%ld\n", a.freq, a.tick,
	       a.status, a.offset, b.tick);
	return 0;
}

int main(int argc, char **argv)
{
	struct sock_filter filter[] = {
		/* 0-2: x86_64 only; other architectures' calls fail. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		/* 3-4: the call number; x32's fail. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 5, 0),
		/* 5-8: the clock setters return 0, not executed. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clock_adjtime, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_adjtimex, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clock_settime, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_settimeofday, 2, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};

	if (argc == 2 && strcmp(argv[1], "--show") == 0)
		return show();
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: clock-frozen COMMAND [ARGS...] | clock-frozen --show\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("clock-frozen: seccomp");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror("clock-frozen: exec");
	return 127;
}
