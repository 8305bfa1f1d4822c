/*
 * Tests of the driftfile: a written file reads back; an absent, corrupt,
 * absurd, oversized or unreadable file is refused with a reason; a write
 * that cannot complete (read-only directory, full filesystem, file size
 * limit) fails, leaves the old file as it was and no temporary file
 * behind. As root the read-only and full filesystem cases use a small
 * tmpfs mounted in a private mount namespace of the forked test process,
 * so nothing outlives the test even if it crashes.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock/driftfile.h"

Suite *driftfile_suite(void);

static char top[64];   /* this test case's directory (made and removed by the runner) */
static char dir[96];   /* this test's directory, inside TOP */
static char path[160]; /* the driftfile in it */

/* Unchecked (runner process, once per test case): the top directory. */
static void top_setup(void)
{
	snprintf(top, sizeof(top), "/tmp/horod-drift.XXXXXX");
	ck_assert_msg(mkdtemp(top) != NULL, "mkdtemp should work: %s", strerror(errno));
}

static int rm_open(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(p, 0700);
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

/* Unchecked: remove TOP and everything in it, whatever the tests left (a
 * failed test in fork mode does not run its own teardown). */
static void top_teardown(void)
{
	nftw(top, rm_open, 16, FTW_PHYS);
	nftw(top, rm_one, 16, FTW_PHYS | FTW_DEPTH);
}

/* Checked (each forked test): a fresh directory. */
static void dir_setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t.XXXXXX", top);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp should work: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/drift", dir);
}

static void put(const char *content, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "the test file should be created");
	ck_assert_msg(fwrite(content, 1, len, f) == len, "the test file should be written");
	fclose(f);
}

/* Entries in DIR other than "drift" (temporary files left behind). */
static int strays(void)
{
	struct dirent *e;
	DIR *dh = opendir(dir);
	int n = 0;

	ck_assert_msg(dh != NULL, "the test directory should be readable");
	while ((e = readdir(dh)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "drift"))
			n++;
	closedir(dh);
	return n;
}

static int read_why(char *why, size_t len)
{
	double f = -1, s = -1;

	why[0] = '\0';
	return clk_driftfile_read(path, &f, &s, why, len);
}

/* The driftfile still holds FREQ and SKEW. */
static void expect_content(double freq, double skew)
{
	char why[256];
	double f, s;

	ck_assert_msg(clk_driftfile_read(path, &f, &s, why, sizeof(why)) == 0,
		      "the old file should still read (%s)", why);
	ck_assert_double_eq_tol(f, freq, 1e-9);
	ck_assert_double_eq_tol(s, skew, 1e-9);
}

START_TEST(test_round_trip)
{
	char why[256] = "";
	double f = 0, s = 0;
	struct stat st;

	ck_assert_msg(clk_driftfile_write(path, -12.345678, 0.0125, why, sizeof(why)) == 0,
		      "write should succeed (%s)", why);
	ck_assert_msg(clk_driftfile_read(path, &f, &s, why, sizeof(why)) == 0,
		      "read should succeed (%s)", why);
	ck_assert_double_eq_tol(f, -12.345678, 1e-9);
	ck_assert_double_eq_tol(s, 0.0125, 1e-9);
	ck_assert_msg(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 40,
		      "the driftfile should be one short line");
	ck_assert_msg(strays() == 0, "no temporary file should be left");

	/* Overwrite, and the extremes. */
	ck_assert_int_eq(clk_driftfile_write(path, 500.0, 500.0, why, sizeof(why)), 0);
	expect_content(500.0, 500.0);
	ck_assert_int_eq(clk_driftfile_write(path, -500.0, 0.0, why, sizeof(why)), 0);
	expect_content(-500.0, 0.0);
	ck_assert_msg(strays() == 0, "no temporary file should be left");

	/* A hand-written file with blanks and no newline. */
	put("  3.5\t0.25  ", 12);
	expect_content(3.5, 0.25);
}
END_TEST

/* Create an empty file NAME in DIR. */
static void touch(const char *name)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_msg(f != NULL, "%s should be created", name);
	fclose(f);
}

START_TEST(test_clean_stale_temporaries)
{
	char why[256], link[300], big[300];
	FILE *f;
	int i;

	ck_assert_int_eq(clk_driftfile_write(path, 7.0, 0.5, why, sizeof(why)), 0);
	touch("drift.horod-tmp-a1B2c3"); /* what a kill during a save leaves */
	touch("drift.horod-tmp-ZZZZZZ");
	touch("drift.backup");		  /* a user's copy: six letters, never ours */
	touch("drift.a1B2c3");		  /* mkstemp's pattern without our mark */
	touch("drift.horod-tmp-12345");	  /* five characters: not mkstemp's */
	touch("drift.horod-tmp-1234567"); /* seven */
	touch("drift.horod-tmp-ab-cd!");  /* not alphanumeric */
	touch("other.horod-tmp-a1B2c3");  /* another file's */
	/* Our name, but a symbolic link, or larger than any driftfile: not what a save left. */
	snprintf(link, sizeof(link), "%s/drift.horod-tmp-Link01", dir);
	ck_assert_msg(symlink("drift", link) == 0, "a symbolic link should be created");
	snprintf(big, sizeof(big), "%s/drift.horod-tmp-Big001", dir);
	f = fopen(big, "w");
	ck_assert_msg(f != NULL, "a large file should be created");
	for (i = 0; i < 300; i++)
		fputc('7', f);
	fclose(f);
	ck_assert_msg(clk_driftfile_clean(path) == 2,
		      "exactly the two PATH.horod-tmp-XXXXXX files should be removed");
	ck_assert_msg(strays() == 8, "the eight look-alikes should stay, %d left", strays());
	expect_content(7.0, 0.5);
	ck_assert_msg(clk_driftfile_clean(path) == 0, "a second run should find nothing");
}
END_TEST

START_TEST(test_write_refuses_bad_values)
{
	char why[256] = "";

	ck_assert_int_eq(clk_driftfile_write(path, 1.0, 0.5, why, sizeof(why)), 0);
	ck_assert_msg(clk_driftfile_write(path, NAN, 0.5, why, sizeof(why)) == -1,
		      "writing NaN should fail");
	ck_assert_msg(clk_driftfile_write(path, 501.0, 0.5, why, sizeof(why)) == -1,
		      "writing 501 ppm should fail");
	ck_assert_msg(clk_driftfile_write(path, 1.0, -0.1, why, sizeof(why)) == -1,
		      "writing a negative skew should fail");
	ck_assert_msg(clk_driftfile_write(path, 1.0, INFINITY, why, sizeof(why)) == -1,
		      "writing an infinite skew should fail");
	ck_assert_msg(strstr(why, "range") != NULL, "the reason should say so, got '%s'", why);
	expect_content(1.0, 0.5);
	ck_assert_msg(strays() == 0, "no temporary file should be left");
}
END_TEST

START_TEST(test_absent)
{
	char why[256];

	errno = 0;
	ck_assert_msg(read_why(why, sizeof(why)) == -1, "an absent file should fail");
	ck_assert_msg(errno == ENOENT, "errno should be ENOENT when absent");
	ck_assert_msg(strstr(why, "absent") != NULL, "the reason should say absent, got '%s'", why);
}
END_TEST

static const struct {
	const char *content;
	const char *reason; /* a word the reason must contain */
} corrupt[] = {
	{"", "no frequency"},
	{"\n", "no frequency"},
	{"hello world\n", "not a number"},
	{"12.5\n", "no skew"},
	{"nan 0.1\n", "finite"},
	{"1.0 nan\n", "finite"},
	{"inf 0.1\n", "finite"},
	{"-infinity 0.1\n", "finite"},
	{"1e999 0.1\n", "finite"},
	{"600 0.1\n", "absurd"},
	{"-500.001 0.1\n", "absurd"},
	{"1.0 -0.5\n", "absurd"},
	{"1.0 501\n", "absurd"},
	{"1.0 0.5 7\n", "extra"},
	{"1.0 0.5\n1.0 0.5\n", "extra"},
	{"1.0ppm 0.5\n", "garbage"},
	{"1.0 0.5x\n", "garbage"},
	{"1.0,0.5\n", "garbage"},
};

START_TEST(test_corrupt)
{
	char why[256];

	put(corrupt[_i].content, strlen(corrupt[_i].content));
	ck_assert_msg(read_why(why, sizeof(why)) == -1, "'%s' should be refused",
		      corrupt[_i].content);
	ck_assert_msg(strstr(why, corrupt[_i].reason) != NULL,
		      "the reason for '%s' should mention '%s', got '%s'", corrupt[_i].content,
		      corrupt[_i].reason, why);
	ck_assert_msg(strchr(why, '\n') == NULL, "the reason should be one line");
}
END_TEST

START_TEST(test_corrupt_binary)
{
	char junk[10240], why[256];
	size_t i;

	/* 10 KB of junk. */
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)('0' + i % 10);
	put(junk, sizeof(junk));
	ck_assert_msg(read_why(why, sizeof(why)) == -1, "10 KB should be refused");
	ck_assert_msg(strstr(why, "larger") != NULL, "the reason should be the size, got '%s'",
		      why);
	/* A valid line followed by a NUL and more. */
	put("1.0 0.5\n\0 9", 11);
	ck_assert_msg(read_why(why, sizeof(why)) == -1, "a NUL byte should be refused");
	ck_assert_msg(strstr(why, "NUL") != NULL, "the reason should be the NUL, got '%s'", why);
	/* Exactly at the size limit, all blanks after the numbers: still valid. */
	memset(junk, ' ', 256);
	memcpy(junk, "2.0 0.1", 7);
	put(junk, 256);
	expect_content(2.0, 0.1);
	put(junk, 257);
	ck_assert_msg(read_why(why, sizeof(why)) == -1, "257 bytes should be refused");
}
END_TEST

START_TEST(test_unreadable)
{
	char why[256];

	/* A directory where the file should be: refused whatever our uid. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_msg(read_why(why, sizeof(why)) == -1, "a directory should be refused");
	ck_assert_msg(strstr(why, "unreadable") != NULL, "the reason should say so, got '%s'", why);
	ck_assert_int_eq(rmdir(path), 0);

	put("1.0 0.5\n", 8);
	ck_assert_int_eq(chmod(path, 0), 0);
	if (geteuid() == 0) {
		fprintf(stderr, "check_driftfile: root reads mode 000 files; "
				"the chmod 000 case is skipped (the directory case ran)\n");
		return;
	}
	ck_assert_msg(read_why(why, sizeof(why)) == -1, "a mode 000 file should be refused");
	ck_assert_msg(strstr(why, "Permission denied") != NULL,
		      "the reason should be EACCES, got '%s'", why);
}
END_TEST

/*
 * As root: a private mount namespace (dies with this forked test process)
 * and a tmpfs with OPTS on the test directory; 0 if not possible.
 */
static int private_tmpfs(const char *opts)
{
	if (geteuid() != 0)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return 0;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 0;
	return mount("tmpfs", dir, "tmpfs", 0, opts) == 0;
}

START_TEST(test_readonly_dir)
{
	char why[256] = "";
	int mounted;

	mounted = private_tmpfs("size=64k,mode=0700");
	ck_assert_int_eq(clk_driftfile_write(path, 7.5, 0.2, why, sizeof(why)), 0);
	if (mounted) {
		ck_assert_msg(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0,
			      "remounting the tmpfs read-only should work: %s", strerror(errno));
	} else if (geteuid() != 0) {
		ck_assert_int_eq(chmod(dir, 0500), 0);
	} else {
		fprintf(stderr, "check_driftfile: root without a mount namespace ignores "
				"mode 0500; the read-only case is skipped\n");
		return;
	}
	ck_assert_msg(clk_driftfile_write(path, 8.5, 0.3, why, sizeof(why)) == -1,
		      "writing into a read-only directory should fail");
	ck_assert_msg(strstr(why, mounted ? "Read-only" : "Permission denied") != NULL,
		      "the reason should be %s, got '%s'", mounted ? "EROFS" : "EACCES", why);
	expect_content(7.5, 0.2);
	ck_assert_msg(strays() == 0, "no temporary file should be left");
	if (mounted)
		umount2(dir, MNT_DETACH);
}
END_TEST

/* A zero file size limit: mkstemp works, the write fails (EFBIG); the old
 * file must stay and the temporary file go. */
static void write_fails_midway(void)
{
	char why[256] = "";
	struct rlimit rl = {0, 0};

	ck_assert_int_eq(clk_driftfile_write(path, 11.0, 0.75, why, sizeof(why)), 0);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_msg(clk_driftfile_write(path, 12.0, 0.5, why, sizeof(why)) == -1,
		      "a failing write should fail");
	ck_assert_msg(strstr(why, "write") && strstr(why, "old file kept"),
		      "the reason should name the step, got '%s'", why);
	expect_content(11.0, 0.75);
	ck_assert_msg(strays() == 0, "no temporary file should be left");
}

START_TEST(test_full_fs)
{
	char why[256] = "", fill[4096], fillpath[160];
	int fd;
	ssize_t n;

	if (!private_tmpfs("size=8k,mode=0700")) {
		fprintf(stderr, "check_driftfile: cannot mount a tmpfs (not root?); "
				"a file size limit stands in for the full filesystem\n");
		write_fails_midway();
		return;
	}
	ck_assert_int_eq(clk_driftfile_write(path, -3.25, 1.5, why, sizeof(why)), 0);
	/* Fill the rest of the 8 KB. */
	snprintf(fillpath, sizeof(fillpath), "%s/fill", dir);
	memset(fill, 'x', sizeof(fill));
	fd = open(fillpath, O_WRONLY | O_CREAT, 0600);
	ck_assert_msg(fd >= 0, "the fill file should be created");
	do
		n = write(fd, fill, sizeof(fill));
	while (n > 0);
	ck_assert_msg(n < 0 && errno == ENOSPC, "the tmpfs should fill up");
	close(fd);

	ck_assert_msg(clk_driftfile_write(path, 4.25, 2.5, why, sizeof(why)) == -1,
		      "writing on a full filesystem should fail");
	ck_assert_msg(strstr(why, "No space") != NULL, "the reason should be ENOSPC, got '%s'",
		      why);
	expect_content(-3.25, 1.5);
	ck_assert_int_eq(unlink(fillpath), 0);
	ck_assert_msg(strays() == 0, "no temporary file should be left");
	/* Space again: writing works again. */
	ck_assert_int_eq(clk_driftfile_write(path, 4.25, 2.5, why, sizeof(why)), 0);
	expect_content(4.25, 2.5);
	umount2(dir, MNT_DETACH);
}
END_TEST

START_TEST(test_write_fails_midway)
{
	write_fails_midway();
}
END_TEST

START_TEST(test_missing_dir)
{
	char why[256] = "";

	snprintf(path, sizeof(path), "%s/no/such/dir/drift", dir);
	ck_assert_msg(clk_driftfile_write(path, 1.0, 0.1, why, sizeof(why)) == -1,
		      "writing into a missing directory should fail");
	ck_assert_msg(strstr(why, "temporary") != NULL, "the reason should name the step, got '%s'",
		      why);
	snprintf(path, sizeof(path), "%s/drift", dir);
}
END_TEST

Suite *driftfile_suite(void)
{
	Suite *s = suite_create("driftfile");
	TCase *tc = tcase_create("read");

	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, dir_setup, NULL);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_absent);
	tcase_add_loop_test(tc, test_corrupt, 0, (int)(sizeof(corrupt) / sizeof(corrupt[0])));
	tcase_add_test(tc, test_corrupt_binary);
	tcase_add_test(tc, test_unreadable);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, dir_setup, NULL);
	tcase_add_test(tc, test_write_refuses_bad_values);
	tcase_add_test(tc, test_readonly_dir);
	tcase_add_test(tc, test_full_fs);
	tcase_add_test(tc, test_write_fails_midway);
	tcase_add_test(tc, test_missing_dir);
	tcase_add_test(tc, test_clean_stale_temporaries);
	suite_add_tcase(s, tc);
	return s;
}
