/*
 * Tests of systemd's notification protocol (daemon/sys/notify.c) against a
 * socket of our own standing in for systemd's: a path socket and an
 * abstract one receive exactly the datagrams sent; nothing is sent (and
 * nothing fails) without NOTIFY_SOCKET; a bad NOTIFY_SOCKET is refused;
 * an overlong STATUS= is cut, not lost; WATCHDOG_USEC is taken for this
 * process only and only when it is a sane number.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon/sys/notify.h"

Suite *notify_suite(void);

#define RECV_TIMEOUT_US 500000 /* us: a datagram sent is there long before this */

static char dir[64];
static char path[128];

/* A datagram socket bound to NAME (a path, or @abstract), receiving with a timeout. */
static int listener(const char *name)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = RECV_TIMEOUT_US};
	struct sockaddr_un sa;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	ck_assert_msg(fd >= 0, "a datagram socket should open");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) +
			  (name[0] == '@' ? 0 : 1));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, len) == 0, "the stand-in should bind %s",
		      name);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The next datagram on FD as a string ("" when none came). */
static const char *next(int fd)
{
	static char buf[NTF_MSG_MAX + 16];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/horod-notify-XXXXXX");
	ck_assert_msg(mkdtemp(dir) != NULL, "a temp dir should be made");
	snprintf(path, sizeof(path), "%s/notify", dir);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static void teardown(void)
{
	ntf_close();
	unlink(path);
	rmdir(dir);
}

START_TEST(test_path_socket)
{
	int fd = listener(path);

	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_msg(ntf_open() == 1, "a path NOTIFY_SOCKET should connect");
	ck_assert_msg(ntf_active(), "notifications should be active");
	ck_assert_msg(ntf_send("READY=1\nSTATUS=serving %d", 42) == 0, "a send should work");
	ck_assert_str_eq(next(fd), "READY=1\nSTATUS=serving 42");
	ck_assert_msg(ntf_send("WATCHDOG=1") == 0, "a second send should work");
	ck_assert_str_eq(next(fd), "WATCHDOG=1");
	close(fd);
}
END_TEST

START_TEST(test_abstract_socket)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@horod-notify-test-%d", (int)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	ck_assert_msg(ntf_open() == 1, "an abstract NOTIFY_SOCKET should connect");
	ck_assert_msg(ntf_send("MAINPID=%d\nREADY=1", 1234) == 0, "a send should work");
	ck_assert_str_eq(next(fd), "MAINPID=1234\nREADY=1");
	close(fd);
}
END_TEST

START_TEST(test_none)
{
	ck_assert_msg(ntf_open() == 0, "without NOTIFY_SOCKET there should be nothing to open");
	ck_assert_msg(!ntf_active(), "notifications should be inactive");
	ck_assert_msg(ntf_send("READY=1") == 0, "sending to nowhere should do nothing, fine");
	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_msg(ntf_open() == 0, "an empty NOTIFY_SOCKET should be none");
}
END_TEST

START_TEST(test_bad_socket)
{
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ck_assert_msg(ntf_open() == -1, "a relative NOTIFY_SOCKET should be refused");
	setenv("NOTIFY_SOCKET", path, 1); /* nobody bound it */
	ck_assert_msg(ntf_open() == -1, "a NOTIFY_SOCKET nobody listens on should fail");
	ck_assert_msg(!ntf_active(), "after a failure notifications should be inactive");
}
END_TEST

START_TEST(test_long_status)
{
	char status[NTF_MSG_MAX * 2];
	const char *got;
	int fd = listener(path);

	memset(status, 'x', sizeof(status) - 1);
	status[sizeof(status) - 1] = '\0';
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_msg(ntf_open() == 1, "it should connect");
	ck_assert_msg(ntf_send("STATUS=%s", status) == 0, "an overlong status should still go");
	got = next(fd);
	ck_assert_msg(strncmp(got, "STATUS=xxx", 10) == 0, "the status should arrive cut");
	ck_assert_int_eq((int)strlen(got), NTF_MSG_MAX - 1);
	close(fd);
}
END_TEST

START_TEST(test_watchdog)
{
	char pid[32];

	ck_assert_msg(ntf_watchdog_ns() == 0, "no WATCHDOG_USEC should be no watchdog");
	setenv("WATCHDOG_USEC", "20000000", 1);
	ck_assert_msg(ntf_watchdog_ns() == 20000000000LL, "20 s should be 2e10 ns");
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_msg(ntf_watchdog_ns() == 20000000000LL, "our own WATCHDOG_PID should count");
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	ck_assert_msg(ntf_watchdog_ns() == 0, "another process's watchdog should not be ours");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "abc", 1);
	ck_assert_msg(ntf_watchdog_ns() == 0, "a non-number should be no watchdog");
	setenv("WATCHDOG_USEC", "0", 1);
	ck_assert_msg(ntf_watchdog_ns() == 0, "0 should be no watchdog");
	setenv("WATCHDOG_USEC", "-5", 1);
	ck_assert_msg(ntf_watchdog_ns() == 0, "a negative value should be no watchdog");
	setenv("WATCHDOG_USEC", "99999999999999999", 1);
	ck_assert_msg(ntf_watchdog_ns() == 0, "an absurd value should be no watchdog");
}
END_TEST

Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_path_socket);
	tcase_add_test(tc, test_abstract_socket);
	tcase_add_test(tc, test_none);
	tcase_add_test(tc, test_bad_socket);
	tcase_add_test(tc, test_long_status);
	tcase_add_test(tc, test_watchdog);
	suite_add_tcase(s, tc);
	return s;
}
