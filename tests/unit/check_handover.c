/*
 * Tests of the takeover's exchange (daemon/serve/handover.c) between a
 * successor (this process) and a predecessor (a forked child on a Unix
 * socket of the test's): the answer names the predecessor and its
 * state, its descriptors arrive with their names and are the same open
 * files, the drain byte reaches it and its exit releases the successor;
 * a predecessor that does not know the command (an older horod), one
 * that answers garbage and one that is not there are each refused with a
 * reason, nothing left open.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "daemon/serve/handover.h"
#include "proto/ctlproto.h"

Suite *handover_suite(void);

static char dir[64], path[96];

enum role { ROLE_GOOD, ROLE_OLD, ROLE_GARBAGE };

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/horod-handover-XXXXXX");
	ck_assert_msg(mkdtemp(dir) != NULL, "a temp dir");
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

/*
 * The predecessor, in a child: accept one connection, read the request,
 * answer as ROLE says; a good one hands over one pipe end and exits
 * with 0 once the drain byte came (1 otherwise).
 */
static pid_t predecessor(enum role role, int *pipe_rd)
{
	struct sockaddr_un sa;
	int l = socket(AF_UNIX, SOCK_STREAM, 0), p[2];
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_msg(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l, 1) == 0,
		      "the stand-in control socket should listen");
	ck_assert_msg(pipe(p) == 0, "a pipe");
	*pipe_rd = p[0];
	pid = fork();
	ck_assert_msg(pid >= 0, "fork");
	if (pid == 0) {
		uint8_t req[CTL_HDR_LEN];
		struct fdp_item it = {.name = "ntp 0 0", .fd = p[1]};
		int c = accept(l, NULL, NULL), i;

		if (c < 0 || read(c, req, sizeof(req)) != (ssize_t)sizeof(req))
			_exit(2);
		if (role == ROLE_OLD) {
			struct ctl_header h = {.version = CTL_VERSION,
					       .type = CTL_T_RESPONSE,
					       .command = req[6],
					       .status = CTL_S_UNKNOWN_CMD};
			uint8_t b[CTL_HDR_LEN];

			ctl_header_encode(&h, b);
			_exit(write(c, b, sizeof(b)) == (ssize_t)sizeof(b) ? 0 : 3);
		}
		if (role == ROLE_GARBAGE)
			_exit(write(c, "HTTP/1.0 200 OK\r\n\r\n", 19) == 19 ? 0 : 3);
		if (ho_offer(c, 1, 20000000000LL, &it, 1) < 0)
			_exit(4);
		for (i = 0; i < 500; i++) { /* 5 s at most */
			if (ho_read_drain(c) == 1)
				_exit(0);
			usleep(10000);
		}
		_exit(1);
	}
	close(l);
	close(p[1]);
	return pid;
}

START_TEST(test_takeover)
{
	struct fdp_item items[4];
	struct ho_peer peer;
	char why[256], c = 0;
	int rd, n, conn, st;
	pid_t pid = predecessor(ROLE_GOOD, &rd);

	ck_assert_msg(ho_request(path, &peer, items, 4, &n, &conn, why, sizeof(why)) == 0,
		      "the takeover request should succeed: %s", why);
	ck_assert_msg(peer.pid == pid, "the answer should name the predecessor (%d, not %d)",
		      peer.pid, (int)pid);
	ck_assert_msg(peer.synced == 1, "and say it is synchronized");
	ck_assert_str_eq(peer.version, HOROD_VERSION);
	ck_assert_msg(peer.watchdog_ns == 20000000000LL, "and pass its watchdog interval on");
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(items[0].name, "ntp 0 0");
	ck_assert_int_eq(write(items[0].fd, "q", 1), 1);
	ck_assert_msg(read(rd, &c, 1) == 1 && c == 'q', "the handed-over pipe should be the same");
	ck_assert_msg(ho_release(conn, 5000) == 0, "the predecessor's exit should release us");
	ck_assert_msg(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the predecessor should have seen the drain byte");
	close(items[0].fd);
	close(rd);
}
END_TEST

START_TEST(test_refusals)
{
	struct fdp_item items[4];
	struct ho_peer peer;
	char why[256];
	int rd, n, conn;
	pid_t pid = predecessor(ROLE_OLD, &rd);

	ck_assert_msg(ho_request(path, &peer, items, 4, &n, &conn, why, sizeof(why)) < 0,
		      "an older horod's answer should be a refusal");
	ck_assert_msg(strstr(why, "too old") != NULL, "saying so: %s", why);
	ck_assert_int_eq(conn, -1);
	waitpid(pid, NULL, 0);
	close(rd);
	unlink(path);

	pid = predecessor(ROLE_GARBAGE, &rd);
	ck_assert_msg(ho_request(path, &peer, items, 4, &n, &conn, why, sizeof(why)) < 0,
		      "garbage should be refused");
	ck_assert_msg(strstr(why, "no takeover answer") != NULL, "saying so: %s", why);
	waitpid(pid, NULL, 0);
	close(rd);
	unlink(path);

	ck_assert_msg(ho_request(path, &peer, items, 4, &n, &conn, why, sizeof(why)) < 0,
		      "nobody at the path should be refused");
	ck_assert_msg(strstr(why, "no horod to take over from") != NULL, "saying so: %s", why);
}
END_TEST

Suite *handover_suite(void)
{
	Suite *s = suite_create("handover");
	TCase *tc = tcase_create("handover");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_takeover);
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return s;
}
