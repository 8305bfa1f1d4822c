/*
 * Tests of descriptor passing (daemon/sys/fdpass.c) over a socketpair:
 * nothing, one, and several batches arrive with their names and refer to
 * the same open files (a byte written into a passed pipe comes out of the
 * original); and the receiver stands a hostile or broken peer — a wrong
 * magic, a count that does not match the descriptors sent, more items
 * than it has room for, silence, a peer gone mid-batch — with an error
 * and no descriptor left open.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "daemon/sys/fdpass.h"

Suite *fdpass_suite(void);

#define MANY	      70  /* items: three batches */
#define SHORT_WAIT_MS 200 /* ms the receiver waits on a silent peer */

static int sp[2];

static void setup(void)
{
	ck_assert_msg(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "a socketpair should open");
}

static void teardown(void)
{
	close(sp[0]);
	close(sp[1]);
}

/* The number of descriptors this process has open. */
static int open_fds(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* 1 when A and B are the same open file (device and inode). */
static int same_file(int a, int b)
{
	struct stat x, y;

	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

START_TEST(test_none)
{
	struct fdp_item got[1];

	ck_assert_int_eq(fdp_send(sp[0], NULL, 0), 0);
	ck_assert_msg(fdp_recv(sp[1], got, 1, SHORT_WAIT_MS) == 0, "an empty hand-over is 0 items");
}
END_TEST

START_TEST(test_many)
{
	struct fdp_item out[MANY], got[MANY];
	int pipes[MANY][2], i, n, before = open_fds();
	char c = 0;

	for (i = 0; i < MANY; i++) {
		ck_assert_msg(pipe(pipes[i]) == 0, "a pipe should open");
		snprintf(out[i].name, sizeof(out[i].name), "pipe %d", i);
		out[i].fd = pipes[i][1];
	}
	ck_assert_int_eq(fdp_send(sp[0], out, MANY), 0);
	n = fdp_recv(sp[1], got, MANY, SHORT_WAIT_MS);
	ck_assert_msg(n == MANY, "all %d items should arrive, got %d", MANY, n);
	for (i = 0; i < MANY; i++) {
		ck_assert_str_eq(got[i].name, out[i].name);
		ck_assert_msg(got[i].fd != out[i].fd,
			      "a received descriptor should be a new number");
		ck_assert_msg(same_file(got[i].fd, out[i].fd), "item %d should be the same pipe",
			      i);
		ck_assert_msg(fcntl(got[i].fd, F_GETFD) & FD_CLOEXEC,
			      "received with close-on-exec");
	}
	ck_assert_int_eq(write(got[MANY - 1].fd, "x", 1), 1);
	ck_assert_int_eq(read(pipes[MANY - 1][0], &c, 1), 1);
	ck_assert_msg(c == 'x', "a byte into the passed pipe should come out of the original");
	fdp_close_all(got, MANY);
	for (i = 0; i < MANY; i++) {
		ck_assert_int_eq(got[i].fd, -1);
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	ck_assert_int_eq(open_fds(), before);
}
END_TEST

START_TEST(test_too_many)
{
	struct fdp_item out[MANY], got[MANY];
	int i, before = open_fds();

	for (i = 0; i < MANY; i++) {
		snprintf(out[i].name, sizeof(out[i].name), "stdin %d", i);
		out[i].fd = 0;
	}
	ck_assert_int_eq(fdp_send(sp[0], out, MANY), 0);
	ck_assert_int_eq(fdp_recv(sp[1], got, MANY - 1, SHORT_WAIT_MS), -EMSGSIZE);
	ck_assert_msg(open_fds() == before, "nothing received should stay open");
}
END_TEST

/* Send a raw batch: magic M, COUNT named, NFDS descriptors (copies of stdin) attached. */
static void raw_batch(uint32_t magic, uint16_t count, int nfds, int len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	uint8_t m[16 + FDP_BATCH * FDP_NAME_MAX] = {0};
	struct iovec iov = {.iov_base = m, .iov_len = (size_t)len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	int i, zero = 0;

	memcpy(m, &magic, 4);
	m[4] = 1;
	m[5] = 1;
	memcpy(m + 6, &count, 2);
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + sizeof(int) * (size_t)i, &zero, sizeof(int));
	}
	ck_assert_msg(sendmsg(sp[0], &mh, 0) == len, "the raw batch should go");
}

START_TEST(test_hostile)
{
	struct fdp_item got[8];
	int before = open_fds();

	raw_batch(0x12345678, 2, 2, 16 + FDP_BATCH * FDP_NAME_MAX);
	ck_assert_int_eq(fdp_recv(sp[1], got, 8, SHORT_WAIT_MS), -EPROTO);
	ck_assert_msg(open_fds() == before, "a wrong magic's descriptors should be closed");
	raw_batch(FDP_MAGIC, 3, 2, 16 + FDP_BATCH * FDP_NAME_MAX);
	ck_assert_int_eq(fdp_recv(sp[1], got, 8, SHORT_WAIT_MS), -EPROTO);
	ck_assert_msg(open_fds() == before, "a count that lies should leave nothing open");
	raw_batch(FDP_MAGIC, 1, 1, 100); /* a peer that stops mid-batch */
	ck_assert_int_eq(fdp_recv(sp[1], got, 8, SHORT_WAIT_MS), -ETIMEDOUT);
	ck_assert_msg(open_fds() == before, "a half batch's descriptor should be closed");
}
END_TEST

START_TEST(test_silent_and_gone)
{
	struct fdp_item got[1];

	ck_assert_int_eq(fdp_recv(sp[1], got, 1, SHORT_WAIT_MS), -ETIMEDOUT);
	close(sp[0]);
	sp[0] = open("/dev/null", O_RDONLY); /* for teardown */
	ck_assert_int_eq(fdp_recv(sp[1], got, 1, SHORT_WAIT_MS), -EPIPE);
}
END_TEST

Suite *fdpass_suite(void)
{
	Suite *s = suite_create("fdpass");
	TCase *tc = tcase_create("fdpass");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_too_many);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_silent_and_gone);
	suite_add_tcase(s, tc);
	return s;
}
