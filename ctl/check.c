/*
 * `horoctl check HOST[:PORT]`: ask any NTP server a few questions as a
 * client would and explain which clients would reject it, why, and what
 * to change (the judgement is proto/ntpcheck.c; this file only does the
 * network part). N requests (default 4, at most 16) leave one socket
 * CHECK_SPACING_NS apart, each with a random transmit timestamp as its
 * cookie (like chrony: our clock never leaves the host, and a reply
 * matches only the request it answers); the real send time is kept
 * locally. Replies are stamped by the kernel (SO_TIMESTAMPNS) when it
 * can, else when read. The run is bounded: (N - 1) x 0.2 s of sending
 * plus the timeout (default 2 s) after the last request.
 *
 * Exit status: 0 accepted by every client model, 1 rejected by some,
 * 2 unreachable (no reply at all), 3 bad usage or a local error.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl/common.h"
#include "proto/nstime.h"
#include "proto/ntp.h"
#include "proto/ntpcheck.h"

#define CHECK_DEFAULT_N	      4		 /* requests: enough for a delay minimum and a jitter */
#define CHECK_SPACING_NS      200000000L /* ns between requests: fast, and under common rate limits */
#define CHECK_DEFAULT_TIMEOUT 2.0	 /* s to wait after the last request */
#define CHECK_MAX_TIMEOUT     60.0	 /* s: an upper bound on a run */
#define CHECK_LOCAL_PREC      (-20)	 /* log2 s: our stamping precision (~1 us, kernel path) */
#define CHECK_EXIT_USAGE      3		 /* exit: bad usage or a local failure */
#define CHECK_OUT_LEN	      16384	 /* bytes: the report (a few KB) */
#define CHECK_RX_LEN	      1024	 /* bytes: a reply, extensions included */
#define CHECK_DEFAULT_ROUNDS  5		 /* --against: rounds (server, then reference) */
#define CHECK_MAX_ROUNDS      100	 /* --against: at most, so a run stays bounded */
#define CHECK_DEFAULT_EVERY   2.0	 /* s between rounds */
#define CHECK_MAX_EVERY	      3600.0	 /* s: at most an hour between rounds */
#define CHECK_SMEAR_TOL_S     1e-3 /* s: a server this close to the reference does not smear */
#define CHECK_SMEAR_RATE      1e-6 /* fractional: a drift beyond 1 ppm is a smear's (1/S) */

int ctl_cmd_check(int argc, char **argv);
int ctl_nts_check(int argc, char **argv); /* ctl/ntscheck.c: `horoctl check --nts` */

static void check_usage(FILE *f)
{
	fprintf(f,
		"Usage: horoctl check HOST[:PORT] [-n N] [--timeout S] [--json]\n"
		"       horoctl check --nts HOST[:PORT] [--ca FILE] [--no-time-check] [--timeout "
		"S] "
		"[--json]\n"
		"       horoctl check HOST[:PORT] --against REF[:PORT] [--rounds K] [--every S]\n"
		"                     [-n N] [--timeout S] [--json]\n"
		"  Query any NTP server as a client and explain which clients would reject it:\n"
		"  stratum, leap, refid, root delay/dispersion/distance, offset, delay, jitter,\n"
		"  the RFC 5905 tests that fail (ntpd's flash bits), and a verdict for\n"
		"  ntpd/NTPsec (tos maxdist 1.5 s), chrony (maxdistance 3 s), systemd-timesyncd\n"
		"  (RootDistanceMaxSec 5 s) and an RFC 5905 client (MAXDIST 1 s), with the fix\n"
		"  on the server (e.g. w32tm) or the client side, and whether it announces a\n"
		"  leap second (LI, during the last day before it).\n"
		"  --against REF: K rounds (default %d, 1-%d) S s apart (default %.0f), each\n"
		"  asking the server then REF; prints server - REF per round, its spread and\n"
		"  drift (ppm), and whether the server smears against REF (beyond 1 ms,\n"
		"  drifting: a leap smear over S s drifts 1e6/S ppm) and by how much.\n"
		"  HOST is a name, an IPv4 address or [IPv6]; PORT defaults to 123.\n"
		"  -n N         requests, 1-%d (default %d), sent 0.2 s apart\n"
		"  --timeout S  seconds to wait after the last request (default %.0f, max %.0f)\n"
		"  --json       one JSON object\n"
		"  --nts        an NTS-KE exchange (port 4460) and one NTS-authenticated query\n"
		"               instead: `horoctl check --nts --help` says more\n"
		"Exit status: 0 accepted by all, 1 rejected by some, 2 unreachable, 3 bad usage.\n",
		CHECK_DEFAULT_ROUNDS, CHECK_MAX_ROUNDS, CHECK_DEFAULT_EVERY, NTPCHK_MAX_SAMPLES,
		CHECK_DEFAULT_N, CHECK_DEFAULT_TIMEOUT, CHECK_MAX_TIMEOUT);
}

/* Split HOST[:PORT] / [V6]:PORT / bare V6 into HOST and PORT (defaults "123"). */
static int split_target(const char *arg, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon, *end;
	size_t n;

	snprintf(port, plen, "123");
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (!end || (end[1] && end[1] != ':') || (end[1] == ':' && !end[2]))
			return -1;
		n = (size_t)(end - arg - 1);
		if (end[1])
			snprintf(port, plen, "%s", end + 2);
	} else {
		colon = strchr(arg, ':');
		if (colon && !strchr(colon + 1, ':')) {
			if (!colon[1])
				return -1;
			n = (size_t)(colon - arg);
			snprintf(port, plen, "%s", colon + 1);
		} else {
			n = strlen(arg);
		}
	}
	if (n == 0 || n >= hlen)
		return -1;
	memcpy(host, arg, n);
	host[n] = '\0';
	return 0;
}

/* The state of one run. */
struct check_run {
	int fd;
	int n;
	uint64_t cookie[NTPCHK_MAX_SAMPLES];
	struct ntpchk_sample s[NTPCHK_MAX_SAMPLES];
	int got[NTPCHK_MAX_SAMPLES];
	int sent;
	int refused; /* ICMP port unreachable seen */
};

/* Send request I: a client header whose transmit is a random cookie. */
static int send_request(struct check_run *cr, int i)
{
	struct ntp_packet p = {.leap = 0, .version = 4, .mode = NTP_MODE_CLIENT};
	uint8_t buf[NTP_HEADER_LEN];

	if (getrandom(&cr->cookie[i], sizeof(cr->cookie[i]), 0) != sizeof(cr->cookie[i]))
		cr->cookie[i] = (uint64_t)ctl_now_ns(CLOCK_REALTIME) ^ ((uint64_t)i << 56);
	p.xmt = cr->cookie[i];
	ntp_encode(&p, buf);
	cr->s[i].t1 = ntp_ts_from_unix_ns(ctl_now_ns(CLOCK_REALTIME));
	if (send(cr->fd, buf, sizeof(buf), 0) < 0 && errno != ECONNREFUSED) {
		fprintf(stderr, "horoctl: check: send: %s\n", strerror(errno));
		return -1;
	}
	cr->sent = i + 1;
	return 0;
}

/* Read one datagram if there is one and file it under its request. */
static void receive_reply(struct check_run *cr)
{
	uint8_t buf[CHECK_RX_LEN];
	char ctrl[CMSG_SPACE(sizeof(struct timespec)) + 64];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctrl,
			    .msg_controllen = sizeof(ctrl)};
	struct ntp_packet p;
	struct cmsghdr *cm;
	int64_t rx = 0;
	ssize_t len;
	int i, k = -1;

	len = recvmsg(cr->fd, &mh, MSG_DONTWAIT);
	if (len < 0) {
		if (errno == ECONNREFUSED)
			cr->refused = 1;
		return;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			rx = ns_from_timespec(&ts);
		}
	}
	if (!rx)
		rx = ctl_now_ns(CLOCK_REALTIME);
	if (ntp_decode(buf, (size_t)len, &p) < 0)
		return; /* too short to be anything: not a reply */
	for (i = 0; i < cr->sent; i++)
		if (p.org == cr->cookie[i])
			k = i;
	if (k >= 0 && cr->got[k]) {
		cr->s[k].flags |= NTPCHK_F_DUP;
		return;
	}
	if (k < 0) {
		/* Not an answer to anything we sent: charge the oldest open request. */
		for (i = 0; i < cr->sent && cr->got[i]; i++)
			;
		if (i == cr->sent)
			return;
		k = i;
		cr->s[k].flags |= NTPCHK_F_BADORG;
	}
	cr->got[k] = 1;
	cr->s[k].flags &= ~(unsigned)NTPCHK_F_NOREPLY;
	cr->s[k].pkt = p;
	cr->s[k].t4 = ntp_ts_from_unix_ns(rx);
}

/* Send N requests and collect replies until all answered or TIMEOUT_S after the last. */
static int run_check(struct check_run *cr, double timeout_s)
{
	int64_t next = ctl_now_ns(CLOCK_MONOTONIC), deadline = 0, now;
	int i, all, ms;

	for (i = 0; i < cr->n; i++)
		cr->s[i].flags = NTPCHK_F_NOREPLY;
	for (;;) {
		now = ctl_now_ns(CLOCK_MONOTONIC);
		if (cr->sent < cr->n && now >= next) {
			if (send_request(cr, cr->sent) < 0)
				return -1;
			next = now + CHECK_SPACING_NS;
			if (cr->sent == cr->n)
				deadline = now + (int64_t)(timeout_s * NS_PER_SEC);
			continue;
		}
		for (all = cr->sent == cr->n, i = 0; all && i < cr->n; i++)
			all = cr->got[i];
		if (all || (cr->sent == cr->n && now >= deadline))
			return 0;
		ms = (int)(((cr->sent < cr->n ? next : deadline) - now) / NS_PER_MS) + 1;
		struct pollfd pfd = {.fd = cr->fd, .events = POLLIN};
		if (poll(&pfd, 1, ms) > 0)
			receive_reply(cr);
	}
}

/* Resolve TARGET, ask it N times, analyze into *RES with its address in LABEL; 0 or an exit code.
 */
static int check_one(const char *target, int n, double timeout_s, struct ntpchk_result *res,
		     char *label, size_t llen, int *refused)
{
	static struct check_run cr;
	char host[256], port[32];
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *ai;
	int on = 1, rc;

	if (split_target(target, host, sizeof(host), port, sizeof(port)) < 0) {
		fprintf(stderr, "horoctl: check: bad server '%s' (HOST, HOST:PORT or [V6]:PORT)\n",
			target);
		return CHECK_EXIT_USAGE;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "horoctl: check: cannot resolve %s port %s: %s\n", host, port,
			gai_strerror(rc));
		return CHECK_EXIT_USAGE;
	}
	memset(&cr, 0, sizeof(cr));
	cr.n = n;
	cr.fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (cr.fd < 0 || connect(cr.fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "horoctl: check: cannot reach %s port %s: %s\n", host, port,
			strerror(errno));
		if (cr.fd >= 0)
			close(cr.fd);
		freeaddrinfo(ai);
		return CHECK_EXIT_USAGE;
	}
	{
		char a[NI_MAXHOST], p[NI_MAXSERV];

		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, a, sizeof(a), p, sizeof(p),
				NI_NUMERICHOST | NI_NUMERICSERV) == 0)
			snprintf(label, llen, ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", a,
				 p);
		else
			snprintf(label, llen, "%s:%s", host, port);
	}
	freeaddrinfo(ai);
	/* Kernel receive stamps; without them the reply is stamped when read. */
	setsockopt(cr.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	rc = run_check(&cr, timeout_s);
	close(cr.fd);
	if (rc < 0)
		return CHECK_EXIT_USAGE;
	ntpchk_analyze(cr.s, cr.n, CHECK_LOCAL_PREC, res);
	if (refused)
		*refused = cr.refused;
	return 0;
}

/* The leap line of the text report: what the server's LI announces (RFC 5905: its last day). */
static const char *leap_says(const struct ntpchk_result *r)
{
	if (!r->have_header)
		return "unknown (no usable reply)";
	switch (r->leap) {
	case NTP_LEAP_INSERT:
		return "announces a leap second: 23:59:60 inserted at the end of this UTC day";
	case NTP_LEAP_DELETE:
		return "announces a leap second: 23:59:59 deleted at the end of this UTC day";
	case NTP_LEAP_UNSYNC:
		return "LI 3: not synchronized";
	default:
		return "no leap second announced";
	}
}

/*
 * `--against REF`: ROUNDS rounds EVERY_S apart, each asking the server and
 * then the reference (N requests each) and keeping the difference of
 * their minimum-delay offsets. A smearing server drifts away from a
 * reference that does not smear at 1/S (11.6 ppm over a day): the
 * report gives the differences, their spread and their rate, and says
 * whether the server smears against REF (differences beyond
 * CHECK_SMEAR_TOL_S) and by how much.
 */
static int check_against(const char *target, const char *ref, int n, double timeout_s, int rounds,
			 double every_s, int json)
{
	static struct ntpchk_result rs, rr;
	char ls[300], lr[300];
	double diff[CHECK_MAX_ROUNDS], at[CHECK_MAX_ROUNDS], lo = 0, hi = 0, rate = 0;
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	int64_t t0 = ctl_now_ns(CLOCK_MONOTONIC);
	int li_s[CHECK_MAX_ROUNDS], k, got = 0, rc;

	for (k = 0; k < rounds; k++) {
		if (k) {
			struct timespec ts = {(time_t)every_s,
					      (long)((every_s - (time_t)every_s) * 1e9)};

			nanosleep(&ts, NULL);
		}
		rc = check_one(target, n, timeout_s, &rs, ls, sizeof(ls), NULL);
		if (rc)
			return rc;
		rc = check_one(ref, n, timeout_s, &rr, lr, sizeof(lr), NULL);
		if (rc)
			return rc;
		if (!rs.valid || !rr.valid) {
			if (!json)
				printf("round %d: %s\n", k + 1,
				       !rs.valid ? "no valid reply from the server"
						 : "no valid reply from the reference");
			continue;
		}
		diff[got] = rs.offset - rr.offset;
		at[got] = (double)(ctl_now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
		li_s[got] = rs.leap;
		if (!json)
			printf("round %d at %6.1f s: %s - %s = %+.6f s (server LI %d, reference LI "
			       "%d)\n",
			       k + 1, at[got], ls, lr, diff[got], rs.leap, rr.leap);
		got++;
	}
	if (!got) {
		if (json)
			printf("{\"server\": \"%s\", \"reference\": \"%s\", \"rounds\": 0}\n",
			       target, ref);
		else
			printf("no round gave a valid reply from both\n");
		return 2;
	}
	lo = hi = diff[0];
	for (k = 0; k < got; k++) {
		lo = diff[k] < lo ? diff[k] : lo;
		hi = diff[k] > hi ? diff[k] : hi;
		sx += at[k];
		sy += diff[k];
		sxx += at[k] * at[k];
		sxy += at[k] * diff[k];
	}
	if (got > 1 && got * sxx - sx * sx > 0)
		rate = (got * sxy - sx * sy) / (got * sxx - sx * sx);
	/* A smear is a drift: the differences move by more than the tolerance, at > 1 ppm. */
	k = hi - lo > CHECK_SMEAR_TOL_S && fabs(rate) > CHECK_SMEAR_RATE;
	if (json) {
		printf("{\"server\": \"%s\", \"reference\": \"%s\", \"rounds\": %d, \"diffs\": [",
		       ls, lr, got);
		for (int j = 0; j < got; j++)
			printf("%s[%.3f, %.9f, %d]", j ? ", " : "", at[j], diff[j], li_s[j]);
		printf("], \"min\": %.9f, \"max\": %.9f, \"rate_ppm\": %.3f, \"smears\": %s}\n", lo,
		       hi, rate * 1e6, k ? "true" : "false");
		return 0;
	}
	printf("server - reference: %+.6f .. %+.6f s over %d rounds, drifting %+.3f ppm\n", lo, hi,
	       got, rate * 1e6);
	if (k)
		printf("verdict: the server smears against the reference: it moved %.6f s over the "
		       "rounds, %+.1f ppm (%s; a linear smear over L s drifts 1e6/L ppm)\n",
		       hi - lo, rate * 1e6,
		       rate < 0 ? "slower: an insertion" : "faster: a deletion");
	else if (fabs(lo) > CHECK_SMEAR_TOL_S || fabs(hi) > CHECK_SMEAR_TOL_S)
		printf("verdict: no smear seen, but the server is a steady %+.6f s off the "
		       "reference\n",
		       (lo + hi) / 2);
	else
		printf("verdict: no smear seen: the server stays within %.0f ms of the reference\n",
		       CHECK_SMEAR_TOL_S * 1e3);
	return 0;
}

int ctl_cmd_check(int argc, char **argv)
{
	static struct ntpchk_result res;
	const char *target = NULL, *ref = NULL;
	char label[300], *out;
	double timeout_s = CHECK_DEFAULT_TIMEOUT, every_s = CHECK_DEFAULT_EVERY;
	int json = 0, n = CHECK_DEFAULT_N, i, rc, refused = 0, rounds = CHECK_DEFAULT_ROUNDS;
	size_t need;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--nts") == 0)
			return ctl_nts_check(argc, argv);
	for (i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			check_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > NTPCHK_MAX_SAMPLES) {
				fprintf(stderr, "horoctl: check: -n takes 1-%d\n",
					NTPCHK_MAX_SAMPLES);
				return CHECK_EXIT_USAGE;
			}
			n = (int)v;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout_s = strtod(argv[++i], &end);
			if (*end || !(timeout_s > 0 && timeout_s <= CHECK_MAX_TIMEOUT)) {
				fprintf(stderr, "horoctl: check: --timeout takes (0, %.0f] s\n",
					CHECK_MAX_TIMEOUT);
				return CHECK_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--against") == 0 && i + 1 < argc) {
			ref = argv[++i];
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > CHECK_MAX_ROUNDS) {
				fprintf(stderr, "horoctl: check: --rounds takes 1-%d\n",
					CHECK_MAX_ROUNDS);
				return CHECK_EXIT_USAGE;
			}
			rounds = (int)v;
		} else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc) {
			every_s = strtod(argv[++i], &end);
			if (*end || !(every_s >= 0 && every_s <= CHECK_MAX_EVERY)) {
				fprintf(stderr, "horoctl: check: --every takes 0-%.0f s\n",
					CHECK_MAX_EVERY);
				return CHECK_EXIT_USAGE;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "horoctl: check: unknown argument '%s'\n", argv[i]);
			check_usage(stderr);
			return CHECK_EXIT_USAGE;
		} else if (!target) {
			target = argv[i];
		} else {
			fprintf(stderr, "horoctl: check: one server at a time ('%s')\n", argv[i]);
			return CHECK_EXIT_USAGE;
		}
	}
	if (!target) {
		check_usage(stderr);
		return CHECK_EXIT_USAGE;
	}
	if (ref)
		return check_against(target, ref, n, timeout_s, rounds, every_s, json);
	rc = check_one(target, n, timeout_s, &res, label, sizeof(label), &refused);
	if (rc)
		return rc;
	out = malloc(CHECK_OUT_LEN);
	if (!out)
		return CHECK_EXIT_USAGE;
	need = json ? ntpchk_format_json(&res, label, out, CHECK_OUT_LEN)
		    : ntpchk_format_text(&res, label, out, CHECK_OUT_LEN);
	if (need >= CHECK_OUT_LEN)
		fprintf(stderr, "horoctl: check: report truncated\n");
	fputs(out, stdout);
	if (!json)
		printf("  leap: %s\n", leap_says(&res));
	if (!json && res.exit_code == 2)
		printf("  (waited %.1f s after the last of %d requests%s)\n", timeout_s, n,
		       refused ? "; ICMP port unreachable came back: nothing listens there" : "");
	free(out);
	return res.exit_code;
}
