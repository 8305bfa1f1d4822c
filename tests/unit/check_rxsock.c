/*
 * Tests of taking over a serving socket (daemon/serve/rxsock.c
 * rx_socket_adopt): a UDP socket bound where horod listens is adopted
 * with its options and whatever it has queued; a socket bound elsewhere,
 * a stream socket and a non-socket are refused. And the overload filter
 * (rx_overload_filter): every first byte at lengths around the limits
 * sent through loopback, each datagram it drops one the ladder
 * (ntp_classify) drops too, mode 6 and long enough modes 1 and 3 kept,
 * the socket's drop count (rx_socket_drops) up by exactly what was
 * dropped, and nothing dropped once it is detached; and when a worker
 * turns it on and off (rx_overload_window). And the send socket
 * (rx_send_open): it receives nothing, a reply sent from it leaves from
 * the receive socket's address and port (IPv4 bound, IPv6 wildcard), its
 * transmit stamp comes on its own error queue, and a waiter on the
 * receive socket is not woken by it (as it is when the receive socket
 * sends).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/net_tstamp.h>
#include <linux/filter.h>

#include "daemon/serve/rxsock.h"
#include "proto/ntp.h"
#include "proto/reason.h"

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

/* Send LEN bytes (first byte B, the rest zero) from CL to SRV; 1 when SRV received it. */
static int through(int cl, const struct sockaddr_in *sa, int srv, unsigned b, size_t len)
{
	uint8_t out[68] = {0}, in[128];

	out[0] = (uint8_t)b;
	ck_assert_msg(sendto(cl, out, len, 0, (const struct sockaddr *)sa, sizeof(*sa)) ==
			      (ssize_t)len,
		      "send %zu bytes", len);
	/* Loopback delivers within sendto: the datagram is queued, or it was dropped. */
	return recv(srv, in, sizeof(in), MSG_DONTWAIT) == (ssize_t)len;
}

START_TEST(test_overload_filter)
{
	static const size_t lens[] = {0, 1, 8, 12, 20, 47, 48, 50, 52, 68};
	struct sockaddr_in sa;
	struct rx_sock s = open_lo(&sa);
	int cl = socket(AF_INET, SOCK_DGRAM, 0);
	uint32_t d0, d1;
	unsigned b, k, dropped = 0, kept = 0;

	ck_assert_msg(cl >= 0, "client socket");
	ck_assert_msg(rx_overload_filter(s.fd, 0) == 0, "detaching no filter is no error");
	ck_assert_msg(rx_overload_filter(s.fd, 1) == 0, "the filter attaches");
	ck_assert_msg(rx_socket_drops(s.fd, &d0) == 0, "SO_MEMINFO");
	for (b = 0; b < 256; b++) {
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			uint8_t pkt[68] = {0};
			unsigned vn = (b >> 3) & 7, mode = b & 7;
			int ok = vn >= 1 && vn <= 4 &&
				 (mode == 6 ? lens[k] > 0
					    : (mode == 1 || mode == 3) && lens[k] >= 48);
			int got = through(cl, &sa, s.fd, b, lens[k]);
			enum ntp_reason r;

			pkt[0] = (uint8_t)b;
			r = ntp_classify(pkt, lens[k], 1);
			ck_assert_msg(got == ok, "first byte 0x%02x, %zu bytes: %s, expected %s", b,
				      lens[k], got ? "kept" : "dropped", ok ? "kept" : "dropped");
			ck_assert_msg(got || (r != NTP_R_REPLY_SERVER &&
					      r != NTP_R_REPLY_SYMMETRIC && r != NTP_R_CONTROL),
				      "0x%02x, %zu bytes: dropped, but the ladder says %s", b,
				      lens[k], ntp_reason_name(r));
			dropped += !got;
			kept += got;
		}
	}
	ck_assert_msg(rx_socket_drops(s.fd, &d1) == 0, "SO_MEMINFO");
	ck_assert_msg(d1 - d0 == dropped, "the kernel counted %u drops, %u were dropped", d1 - d0,
		      dropped);
	ck_assert_msg(kept > 0 && dropped > 0, "both kinds were sent (%u kept, %u dropped)", kept,
		      dropped);
	/* Detached: a runt and a monlist request reach the socket again. */
	ck_assert_msg(rx_overload_filter(s.fd, 0) == 0, "the filter detaches");
	ck_assert_msg(through(cl, &sa, s.fd, 0x23, 20), "a runt passes without the filter");
	ck_assert_msg(through(cl, &sa, s.fd, 0x17, 48), "mode 7 passes without the filter");
	close(cl);
	close(s.fd);
}
END_TEST

/* The same filter on an IPv6 socket (its UDP header is where IPv4's is). */
START_TEST(test_overload_filter_ipv6)
{
	static const struct {
		unsigned b;
		size_t len;
		int pass;
	} cases[] = {
		{0x23, 48, 1}, {0x1b, 48, 1}, {0x16, 12, 1}, {0x23, 20, 0},
		{0x17, 48, 0}, {0x03, 48, 0}, {0x2b, 48, 0}, {0x24, 48, 0},
	};
	struct sockaddr_in6 sa;
	struct rx_sock s;
	socklen_t len = sizeof(sa);
	char err[128];
	uint8_t out[48] = {0}, in[64];
	unsigned k;
	int cl;

	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	if (rx_socket_open((struct sockaddr *)&sa, sizeof(sa), 0, &s, err, sizeof(err)) < 0) {
		/* No IPv6 in this environment: nothing to test here, say so. */
		fprintf(stderr,
			"rxsock: no IPv6 loopback (%s): test_overload_filter_ipv6 skipped\n", err);
		return;
	}
	ck_assert_msg(getsockname(s.fd, (struct sockaddr *)&sa, &len) == 0, "getsockname");
	cl = socket(AF_INET6, SOCK_DGRAM, 0);
	ck_assert_msg(cl >= 0, "client socket");
	ck_assert_msg(rx_overload_filter(s.fd, 1) == 0, "the filter attaches");
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		out[0] = (uint8_t)cases[k].b;
		ck_assert_msg(sendto(cl, out, cases[k].len, 0, (struct sockaddr *)&sa,
				     sizeof(sa)) == (ssize_t)cases[k].len,
			      "send");
		ck_assert_msg((recv(s.fd, in, sizeof(in), MSG_DONTWAIT) == (ssize_t)cases[k].len) ==
				      cases[k].pass,
			      "IPv6, first byte 0x%02x, %zu bytes: expected %s", cases[k].b,
			      cases[k].len, cases[k].pass ? "kept" : "dropped");
	}
	close(cl);
	close(s.fd);
}
END_TEST

/*
 * The window rule (rx_overload_window): behind without overflow leaves
 * the filter off; behind with the buffer overflowed puts it on and counts
 * the drops; it stays on through RX_FILTER_CALM - 1 calm windows and
 * comes off at the RX_FILTER_CALM-th; rx_overload_stop takes it off.
 */
START_TEST(test_overload_window)
{
	struct sockaddr_in sa;
	struct rx_sock s = open_lo(&sa);
	struct rx_overload o;
	uint8_t req[48] = {0x23};
	int cl = socket(AF_INET, SOCK_DGRAM, 0), k, sent = 0;
	uint64_t got;

	ck_assert_msg(cl >= 0, "client socket");
	rx_overload_start(&o, &s, 1);
	ck_assert_msg(rx_overload_window(&o, &s, 1, 1) == 0 && !o.filtered,
		      "behind without an overflow: no filter");
	/* Overflow a small buffer (the kernel's minimum): later datagrams are dropped. */
	ck_assert_msg(rx_socket_rcvbuf(s.fd, 1) == 0, "SO_RCVBUF");
	for (k = 0; k < 200; k++)
		sent += sendto(cl, req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) ==
			(ssize_t)sizeof(req);
	ck_assert_int_eq(sent, 200);
	got = rx_overload_window(&o, &s, 1, 1);
	ck_assert_msg(got > 0 && got < 200, "%llu of 200 counted dropped", (unsigned long long)got);
	ck_assert_msg(o.filtered, "behind with an overflow: the filter goes on");
	/* On: a runt is dropped, a client request still queued (the buffer drained first). */
	while (recv(s.fd, req, sizeof(req), MSG_DONTWAIT) > 0)
		;
	ck_assert_msg(rx_socket_rcvbuf(s.fd, RX_RCVBUF_BYTES) == 0, "SO_RCVBUF");
	ck_assert_msg(!through(cl, &sa, s.fd, 0x23, 20), "a runt is dropped while it is on");
	ck_assert_msg(through(cl, &sa, s.fd, 0x23, 48), "a client request passes while it is on");
	ck_assert_msg(rx_overload_window(&o, &s, 1, 1) == 1, "the runt counted");
	for (k = 1; k < RX_FILTER_CALM; k++) {
		(void)rx_overload_window(&o, &s, 1, 0);
		ck_assert_msg(o.filtered, "still on after %d calm windows", k);
	}
	(void)rx_overload_window(&o, &s, 1, 0);
	ck_assert_msg(!o.filtered, "off after %d calm windows", RX_FILTER_CALM);
	ck_assert_msg(through(cl, &sa, s.fd, 0x23, 20), "a runt passes once it is off");
	/* On again, then stopped: nothing stays on the socket. */
	o.filtered = 1;
	ck_assert_msg(rx_overload_filter(s.fd, 1) == 0, "attach");
	rx_overload_stop(&o, &s, 1);
	ck_assert_msg(!o.filtered && through(cl, &sa, s.fd, 0x23, 20),
		      "rx_overload_stop takes it off");
	close(cl);
	close(s.fd);
}
END_TEST

/* Ask for a software transmit stamp of one send: the control message into BUF (64 bytes). */
static size_t want_stamp(void *buf, size_t off)
{
	struct msghdr m = {.msg_control = (char *)buf + off,
			   .msg_controllen = CMSG_SPACE(sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int v = SOF_TIMESTAMPING_TX_SOFTWARE;

	memset(c, 0, CMSG_SPACE(sizeof(int)));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SO_TIMESTAMPING;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	return off + CMSG_SPACE(sizeof(int));
}

/* Send "reply" from FD to TO with S's reply control messages (META) and a stamp request. */
static void send_reply(int fd, const struct rx_sock *s, const struct rx_meta *meta,
		       struct sockaddr *to, socklen_t tolen)
{
	union {
		char b[RX_REPLY_CMSG_SPACE + 64];
		struct cmsghdr align;
	} cb;
	char reply[] = "reply";
	struct iovec iov = {.iov_base = reply, .iov_len = 5};
	struct msghdr m = {.msg_name = to, .msg_namelen = tolen, .msg_iov = &iov, .msg_iovlen = 1};

	memset(&cb, 0, sizeof(cb));
	m.msg_control = cb.b;
	m.msg_controllen = want_stamp(cb.b, rx_reply_cmsg(s, meta, cb.b));
	ck_assert_msg(sendmsg(fd, &m, 0) == 5, "send the reply");
}

/* 1 when FD's error queue holds a transmit stamp (read it). */
static int stamp_queued(int fd)
{
	char data[64], ctl[256];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl,
			   .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c;

	if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING)
			return 1;
	return 0;
}

START_TEST(test_send_socket)
{
	struct sockaddr_in sa, from, cla = {.sin_family = AF_INET};
	struct rx_sock s = open_lo(&sa);
	struct rx_meta meta;
	struct epoll_event ev = {.events = EPOLLIN}, got;
	socklen_t fl = sizeof(from), cl_len = sizeof(cla), flen = sizeof(int);
	struct sock_filter f[4];
	int cl = socket(AF_INET, SOCK_DGRAM, 0), ep = epoll_create1(0);
	char err[128], buf[16];

	ck_assert_int_eq(s.tx_fd, -1);
	ck_assert_msg(rx_send_open(&s, 0, err, sizeof(err)) == 0, "a send socket should open: %s",
		      err);
	ck_assert_msg(s.tx_fd >= 0 && rx_send_fd(&s) == s.tx_fd, "replies leave from it");
	/* Its filter drops everything: one instruction, return 0. */
	ck_assert_msg(getsockopt(s.tx_fd, SOL_SOCKET, SO_GET_FILTER, f, &flen) == 0 && flen == 1,
		      "the send socket should carry the one-instruction drop-all filter (%u)",
		      (unsigned)flen);
	cla.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(cl, (struct sockaddr *)&cla, sizeof(cla)), 0);
	ck_assert_int_eq(getsockname(cl, (struct sockaddr *)&cla, &cl_len), 0);
	/* A request reaches the receive socket, never the send socket. */
	ck_assert_int_eq(sendto(cl, "req", 3, 0, (struct sockaddr *)&sa, sizeof(sa)), 3);
	ck_assert_msg(recv(s.fd, buf, sizeof(buf), MSG_DONTWAIT) == 3, "the request is received");
	ck_assert_msg(recv(s.tx_fd, buf, sizeof(buf), MSG_DONTWAIT) < 0,
		      "the send socket should receive nothing");
	/* A waiter on the receive socket, as a worker's io_uring receive is. */
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev), 0);
	memset(&meta, 0, sizeof(meta));
	send_reply(s.tx_fd, &s, &meta, (struct sockaddr *)&cla, sizeof(cla));
	ck_assert_msg(recvfrom(cl, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 5,
		      "the client gets the reply");
	ck_assert_msg(from.sin_addr.s_addr == sa.sin_addr.s_addr && from.sin_port == sa.sin_port,
		      "from the address and port the request went to (%s:%u)",
		      inet_ntoa(from.sin_addr), ntohs(from.sin_port));
	ck_assert_msg(epoll_wait(ep, &got, 1, 0) == 0,
		      "the send socket's stamp should not wake the receive socket's waiter");
	ck_assert_msg(stamp_queued(s.tx_fd), "the stamp comes on the send socket's error queue");
	ck_assert_msg(!stamp_queued(s.fd), "and not on the receive socket's");
	/* The same reply from the receive socket: its stamp wakes the waiter (EPOLLERR). */
	send_reply(s.fd, &s, &meta, (struct sockaddr *)&cla, sizeof(cla));
	ck_assert_int_eq(recv(cl, buf, sizeof(buf), 0), 5);
	ck_assert_msg(epoll_wait(ep, &got, 1, 0) == 1 && (got.events & EPOLLERR),
		      "a stamp on the receive socket wakes its waiter");
	ck_assert_msg(stamp_queued(s.fd), "there");
	close(ep);
	close(cl);
	rx_socket_close(&s);
	ck_assert_msg(s.fd == -1 && s.tx_fd == -1, "both closed");
}
END_TEST

START_TEST(test_send_socket_ipv6_wildcard)
{
	struct sockaddr_in6 any = {.sin6_family = AF_INET6}, to, from,
			    cla = {.sin6_family = AF_INET6};
	socklen_t len = sizeof(to), fl = sizeof(from), cl_len = sizeof(cla);
	struct rx_sock s;
	struct rx_meta meta;
	char err[128], data[16], ctl[RX_CMSG_SPACE];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	int cl = socket(AF_INET6, SOCK_DGRAM, 0);

	any.sin6_addr = in6addr_any;
	if (rx_socket_open((struct sockaddr *)&any, sizeof(any), 0, &s, err, sizeof(err)) < 0 ||
	    cl < 0) {
		/* No IPv6 here: nothing to test (the IPv4 case above still runs). */
		fprintf(stderr, "rxsock: no IPv6 (%s): send socket over IPv6 not tested\n", err);
		if (cl >= 0)
			close(cl);
		return;
	}
	ck_assert_msg(s.wildcard, "bound to ::");
	ck_assert_msg(rx_send_open(&s, 0, err, sizeof(err)) == 0, "an IPv6 send socket: %s", err);
	ck_assert_int_eq(getsockname(s.fd, (struct sockaddr *)&to, &len), 0);
	to.sin6_addr = in6addr_loopback;
	cla.sin6_addr = in6addr_loopback;
	ck_assert_int_eq(bind(cl, (struct sockaddr *)&cla, sizeof(cla)), 0);
	ck_assert_int_eq(getsockname(cl, (struct sockaddr *)&cla, &cl_len), 0);
	ck_assert_int_eq(sendto(cl, "req", 3, 0, (struct sockaddr *)&to, sizeof(to)), 3);
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	ck_assert_msg(recvmsg(s.fd, &m, MSG_DONTWAIT) == 3, "the request is received");
	memset(&meta, 0, sizeof(meta));
	rx_parse_cmsgs(&m, &meta, NULL);
	ck_assert_msg(meta.have_pktinfo, "a wildcard socket learns where the request went");
	send_reply(s.tx_fd, &s, &meta, (struct sockaddr *)&cla, sizeof(cla));
	ck_assert_msg(recvfrom(cl, data, sizeof(data), 0, (struct sockaddr *)&from, &fl) == 5,
		      "the client gets the reply");
	ck_assert_msg(IN6_IS_ADDR_LOOPBACK(&from.sin6_addr) && from.sin6_port == to.sin6_port,
		      "from ::1 and the port the request went to (port %u, want %u)",
		      ntohs(from.sin6_port), ntohs(to.sin6_port));
	ck_assert_msg(stamp_queued(s.tx_fd), "its stamp on the send socket's error queue");
	close(cl);
	rx_socket_close(&s);
}
END_TEST

Suite *rxsock_suite(void)
{
	Suite *s = suite_create("rxsock");
	TCase *tc = tcase_create("rxsock");

	tcase_add_test(tc, test_adopt_same);
	tcase_add_test(tc, test_adopt_refused);
	tcase_add_test(tc, test_overload_filter);
	tcase_add_test(tc, test_overload_filter_ipv6);
	tcase_add_test(tc, test_overload_window);
	tcase_add_test(tc, test_send_socket);
	tcase_add_test(tc, test_send_socket_ipv6_wildcard);
	suite_add_tcase(s, tc);
	return s;
}
