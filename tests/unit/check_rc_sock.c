/*
 * Tests of the SOCK refclock reader (daemon/refclock/rc_sock): judging
 * datagrams (size, magic, ranges, stale, repeated, future, pulse) and a
 * real socket in a private directory: samples sent as gpsd sends them
 * come back exact; a stale socket file is replaced, a live one refused;
 * the file is removed at close.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/refclock/rc_sock.h"

Suite *rc_sock_suite(void);

#define NOW ((int64_t)1700000000 * NS_PER_SEC) /* ns: the judged samples' "now" */
#define AGE (4 * NS_PER_SEC)		       /* ns: max age */

static struct rc_sock_sample sample(int64_t local_ns, double offset)
{
	struct rc_sock_sample s;

	memset(&s, 0, sizeof(s));
	s.tv.tv_sec = local_ns / NS_PER_SEC;
	s.tv.tv_usec = local_ns % NS_PER_SEC / 1000;
	s.offset = offset;
	s.magic = RC_SOCK_MAGIC;
	return s;
}

START_TEST(test_judge)
{
	struct rc_sock_sample s = sample(NOW - NS_PER_SEC, 0.000123456);
	struct rc_sample o;

	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o), 1);
	ck_assert_int_eq(o.local_ns, NOW - NS_PER_SEC);
	ck_assert_int_eq(o.ref_ns, NOW - NS_PER_SEC + 123456);
	ck_assert_int_eq(o.flags, 0);
	s.pulse = 1;
	s.leap = 1;
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o), 1);
	ck_assert(o.flags == RC_PULSE && o.leap == 1);
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s) - 1, NOW, AGE, INT64_MIN, &o),
			 -1 - RC_DROP_FORMAT);
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, NOW - NS_PER_SEC, &o),
			 -1 - RC_DROP_STALE);
	s.magic = 0x4b434f53;
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o),
			 -1 - RC_DROP_FORMAT);
	s = sample(NOW, NAN);
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o),
			 -1 - RC_DROP_FORMAT);
	s = sample(NOW, 2e9);
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o),
			 -1 - RC_DROP_FORMAT);
	s = sample(NOW, 0);
	s.tv.tv_usec = 1000000;
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o),
			 -1 - RC_DROP_FORMAT);
	s = sample(NOW, 0);
	s.leap = 7;
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o),
			 -1 - RC_DROP_FORMAT);
	s = sample(NOW - 5 * NS_PER_SEC, 0);
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o), -1 - RC_DROP_STALE);
	s = sample(NOW + 2 * NS_PER_SEC, 0);
	ck_assert_int_eq(rc_sock_judge(&s, sizeof(s), NOW, AGE, INT64_MIN, &o),
			 -1 - RC_DROP_FUTURE);
}
END_TEST

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Send LEN bytes of BUF to the socket at PATH, as gpsd does (connect, send). */
static void send_to(const char *path, const void *buf, size_t len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ck_assert(fd >= 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
		      strerror(errno));
	ck_assert_int_eq(send(fd, buf, len, 0), (ssize_t)len);
	close(fd);
}

START_TEST(test_socket)
{
	char dir[] = "/tmp/horod-rcsock.XXXXXX", path[64], why[256], big[200];
	struct rc_reader *r, *r2;
	struct rc_sock_sample s;
	struct rc_sample o[4];
	int64_t now = now_ns() / 1000 * 1000;
	int fd;
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	ck_assert(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/chrony.gps0.sock", dir);
	ck_assert(rc_sock_open("relative.sock", 0600, AGE, why, sizeof(why)) == NULL);
	/* A stale socket file (bound, then its owner gone) is replaced. */
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	r = rc_sock_open(path, 0660, AGE, why, sizeof(why));
	ck_assert_msg(r != NULL, "a stale socket should be replaced: %s", why);
	ck_assert_msg(r->fd >= 0, "a SOCK reader has an fd to poll");
	r2 = rc_sock_open(path, 0600, AGE, why, sizeof(why));
	ck_assert_msg(r2 == NULL && strstr(why, "another process"), "a live socket: %s", why);

	s = sample(now - 1000000, -0.25);
	send_to(path, &s, sizeof(s));
	s = sample(now - 500000, -0.25);
	s.magic = 0;
	send_to(path, &s, sizeof(s));
	memset(big, 0, sizeof(big));
	send_to(path, big, sizeof(big));
	s = sample(now, 0.5);
	s.pulse = 1;
	send_to(path, &s, sizeof(s));
	ck_assert_int_eq(rc_read(r, now_ns(), o, 4), 2);
	ck_assert_int_eq(o[0].local_ns, now - 1000000);
	ck_assert_int_eq(o[0].ref_ns, now - 1000000 - 250000000);
	ck_assert_int_eq(o[1].ref_ns, now + 500000000);
	ck_assert_int_eq(o[1].flags, RC_PULSE);
	ck_assert_int_eq(r->drops[RC_DROP_FORMAT], 2);
	ck_assert_int_eq(rc_read(r, now_ns(), o, 4), 0);
	rc_close(r);
	ck_assert_msg(access(path, F_OK) < 0, "the socket file should be removed at close");
	rmdir(dir);
}
END_TEST

Suite *rc_sock_suite(void)
{
	Suite *s = suite_create("rc_sock");
	TCase *tc = tcase_create("rc_sock");

	tcase_add_test(tc, test_judge);
	tcase_add_test(tc, test_socket);
	suite_add_tcase(s, tc);
	return s;
}
