/*
 * Fuzz target for the driftfile reader: every input is the content of a
 * driftfile left by a previous run (or by anything else that wrote to
 * that path). clk_driftfile_read takes a path, so the input is written to
 * one file in a private directory made once with mkdtemp under /tmp and
 * removed at exit; nothing else on the machine is read or written. The
 * reader must never crash, must say why when it refuses, and what it
 * accepts must hold clock/driftfile.h's checks: finite numbers,
 * |freq| <= CLK_DRIFT_MAX_PPM, 0 <= skew <= CLK_DRIFT_MAX_PPM.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "clock/driftfile.h"
#include "tests/fuzz/fuzz.h"

#define WHY_LEN 128 /* bytes: what the clock thread logs from WHY */

static char dir[] = "/tmp/horod-fuzz-drift.XXXXXX";
static char path[sizeof(dir) + 8];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	double f, s;
	char why[WHY_LEN];

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir)) {
		perror("fuzz_driftfile: mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/drift", dir);
	atexit(cleanup);
	/* Before any input: an absent file and a directory are refused with their reason. */
	FUZZ_ASSERT(clk_driftfile_read(path, &f, &s, why, sizeof(why)) == -1 && errno == ENOENT,
		    "an absent driftfile should be refused with ENOENT");
	FUZZ_ASSERT(clk_driftfile_read(dir, &f, &s, why, sizeof(why)) == -1 && why[0],
		    "a directory should be refused with a reason");
	return 0;
}

/* Write DATA (SIZE bytes) as the whole content of the driftfile. */
static void put_file(const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_ASSERT(fd >= 0, "the private driftfile should open");
	while (done < size) {
		n = write(fd, data + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		FUZZ_ASSERT(n > 0, "the private driftfile should take the input");
		done += (size_t)n;
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double f, s;
	char why[WHY_LEN];
	int r;

	put_file(data, size);
	memset(why, 'Z', sizeof(why));
	why[sizeof(why) - 1] = '\0';
	r = clk_driftfile_read(path, &f, &s, why, sizeof(why));
	FUZZ_ASSERT(r == 0 || r == -1, "clk_driftfile_read should return 0 or -1");
	if (r == 0) {
		FUZZ_ASSERT(isfinite(f) && isfinite(s), "accepted values should be finite");
		FUZZ_ASSERT(fabs(f) <= CLK_DRIFT_MAX_PPM,
			    "an accepted frequency should be in range");
		FUZZ_ASSERT(s >= 0.0 && s <= CLK_DRIFT_MAX_PPM,
			    "an accepted skew should be in range");
	} else {
		FUZZ_ASSERT(why[0] != 'Z' && why[0] != '\0' && memchr(why, '\0', sizeof(why)),
			    "a refused file should get a NUL-terminated reason");
		FUZZ_ASSERT(errno != ENOENT, "a present file should not be reported absent");
	}
	/* A WHY of one byte is still NUL-terminated, a WHY of none untouched. */
	why[0] = 'Z';
	r = clk_driftfile_read(path, &f, &s, why, 1);
	FUZZ_ASSERT(r == 0 || why[0] == '\0', "a one-byte reason should be empty");
	why[0] = 'Z';
	clk_driftfile_read(path, &f, &s, why, 0);
	FUZZ_ASSERT(why[0] == 'Z', "a reason buffer of 0 bytes should not be written");
	return 0;
}
