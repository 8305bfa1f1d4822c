/*
 * Tests of taking over a serving socket (daemon/serve/rxsock.c
 * rx_socket_adopt): a UDP socket bound where horod listens is adopted
 * with its options and whatever it has queued; a socket bound elsewhere,
 * a stream socket and a non-socket are refused.
 */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "daemon/serve/rxsock.h"

Suite *rxsock_suite(void);

/* A loopback UDP socket opened as horod opens them; its address in SA. */
static struct rx_sock open_lo(struct sockaddr_in *sa)
{
	struct rx_sock s;
	socklen_t len = sizeof(*sa);
	char err[128];

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(rx_socket_open((struct sockaddr *)sa, sizeof(*sa), 0, &s, err, sizeof(err)) ==
			      0,
		      "a loopback socket should open: %s", err);
	ck_assert_msg(getsockname(s.fd, (struct sockaddr *)sa, &len) == 0, "getsockname");
	return s;
}

START_TEST(test_adopt_same)
{
	struct sockaddr_in sa;
	struct rx_sock s = open_lo(&sa), a;
	int fd = dup(s.fd), c = socket(AF_INET, SOCK_DGRAM, 0);
	char err[128], buf[8];

	/* A datagram queued before the hand-over is read through the adopted socket. */
	ck_assert_int_eq(sendto(c, "ntp", 3, 0, (struct sockaddr *)&sa, sizeof(sa)), 3);
	ck_assert_msg(rx_socket_adopt(fd, (struct sockaddr *)&sa, 0, &a, err, sizeof(err)) == 0,
		      "a socket bound where we listen should be adopted: %s", err);
	ck_assert_int_eq(a.fd, fd);
	ck_assert_msg(a.family == AF_INET && !a.wildcard && a.ts == RX_TS_TIMESTAMPING,
		      "the adopted socket should get its options");
	ck_assert_msg(fcntl(fd, F_GETFL) & O_NONBLOCK, "adopted non-blocking");
	ck_assert_msg(fcntl(fd, F_GETFD) & FD_CLOEXEC, "adopted close-on-exec");
	ck_assert_msg(recv(a.fd, buf, sizeof(buf), 0) == 3, "the queued datagram should be read");
	close(c);
	close(fd);
	close(s.fd);
}
END_TEST

START_TEST(test_adopt_refused)
{
	struct sockaddr_in sa, other;
	struct rx_sock s = open_lo(&sa), a;
	int tcp = socket(AF_INET, SOCK_STREAM, 0), null = open("/dev/null", O_RDONLY);
	char err[128];

	other = sa;
	other.sin_port = htons((uint16_t)(ntohs(sa.sin_port) ^ 1));
	ck_assert_msg(rx_socket_adopt(s.fd, (struct sockaddr *)&other, 0, &a, err, sizeof(err)) < 0,
		      "a socket bound to another port should be refused");
	ck_assert_msg(strstr(err, "bound elsewhere") != NULL, "and say so: %s", err);
	ck_assert_msg(rx_socket_adopt(tcp, (struct sockaddr *)&sa, 0, &a, err, sizeof(err)) < 0,
		      "a stream socket should be refused");
	ck_assert_msg(rx_socket_adopt(null, (struct sockaddr *)&sa, 0, &a, err, sizeof(err)) < 0,
		      "a file should be refused");
	ck_assert_int_eq(a.fd, -1);
	close(tcp);
	close(null);
	close(s.fd);
}
END_TEST

Suite *rxsock_suite(void)
{
	Suite *s = suite_create("rxsock");
	TCase *tc = tcase_create("rxsock");

	tcase_add_test(tc, test_adopt_same);
	tcase_add_test(tc, test_adopt_refused);
	suite_add_tcase(s, tc);
	return s;
}
