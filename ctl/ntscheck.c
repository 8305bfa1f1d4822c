/*
 * `horoctl check --nts HOST[:PORT]`: an NTS client's first contact with a
 * server, told step by step. The NTS-KE exchange (tls/keclient.c: TCP,
 * TLS 1.3 with ntske/1, the certificate checked against HOST with the
 * given or the system's trusted certificates, the records), then one
 * authenticated NTP query with the first cookie to the NTP server the
 * exchange named (or HOST, port 123): the reply must carry the request's
 * identifier and an authenticator that verifies with the session's key.
 * Reported: the TLS version and cipher, the certificate chain with each
 * expiry, the AEAD, the cookies, where NTP goes, the query's outcome, and
 * any failure by the stage it happened in and its name.
 *
 * Exit status: 0 every step passed, 1 the server answered but NTS failed
 * (certificate, ALPN, an NTS-KE error, an unauthenticated reply or an NTS
 * NAK), 2 unreachable (no connection, no reply), 3 bad usage.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "ctl/common.h"
#include "proto/ntp.h"
#include "proto/nts.h"
#include "proto/ntske.h"
#include "tls/keclient.h"

#define NC_TIMEOUT	3.0  /* s: default bound on each of the exchange and the query */
#define NC_MAX_TIMEOUT	60.0 /* s */
#define NC_EXIT_FAIL	1    /* exit: answered, but NTS does not work */
#define NC_EXIT_UNREACH 2    /* exit: no connection or no reply */
#define NC_EXIT_USAGE	3    /* exit: bad usage */
#define NC_PKT_MAX	1280 /* bytes: a request with one cookie, and its reply */

int ctl_nts_check(int argc, char **argv);

static void nc_usage(FILE *f)
{
	fprintf(f, "Usage: horoctl check --nts HOST[:PORT] [--ca FILE] [--no-time-check] "
		   "[--timeout S] [--json]\n"
		   "  Run an NTS-KE exchange with HOST (PORT defaults to 4460) and one NTS-"
		   "authenticated\n"
		   "  NTP query with the first cookie; report the TLS session, the certificate "
		   "chain and\n"
		   "  its expiry, the AEAD, the cookies, where NTP goes, and any failure by name.\n"
		   "  --ca FILE        trust the PEM certificates in FILE (default: the system's)\n"
		   "  --no-time-check  accept certificates outside their validity period\n"
		   "  --timeout S      seconds for each of the exchange and the query (default 3)\n"
		   "  --json           one JSON object\n"
		   "Exit status: 0 ok, 1 NTS failed, 2 unreachable, 3 bad usage.\n");
}

static int64_t real_ns(void)
{
	return ctl_now_ns(CLOCK_REALTIME);
}

/* "2027-12-07 03:00:00 UTC" of T (s since the Unix epoch) into BUF. */
static const char *utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "?");
	return buf;
}

/* What the NTP query gave. */
struct nc_query {
	const char *stage; /* NULL: authentic */
	char err[400];
	char target[300];
	int nak, cookies, stratum;
	double offset, delay;
};

/* One NTS-authenticated query to HOST:PORT with the session of K; fills Q. 0, or -1. */
static int nc_query(const struct kec_result *k, const char *host, int port, double timeout,
		    struct nc_query *q)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;
	uint8_t req[NC_PKT_MAX], rep[NC_PKT_MAX], uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN];
	static struct nts_client_reply cr;
	struct ntp_packet p = {.version = 4, .mode = NTP_MODE_CLIENT};
	struct cry_siv c2s, s2c;
	char svc[8];
	int64_t t1, t4;
	size_t n;
	ssize_t got;
	int fd, r;

	snprintf(svc, sizeof(svc), "%d", port);
	snprintf(q->target, sizeof(q->target), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	r = getaddrinfo(host, svc, &hints, &ai);
	if (r) {
		q->stage = "resolve";
		snprintf(q->err, sizeof(q->err), "%.256s: %s", host, gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		q->stage = "connect";
		snprintf(q->err, sizeof(q->err), "%s", strerror(errno));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	if (getrandom(uid, sizeof(uid), 0) != sizeof(uid) ||
	    getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce) ||
	    getrandom(&p.xmt, sizeof(p.xmt), 0) != sizeof(p.xmt)) {
		q->stage = "random";
		snprintf(q->err, sizeof(q->err), "getrandom: %s", strerror(errno));
		close(fd);
		return -1;
	}
	ntp_encode(&p, req);
	cry_siv_init(&c2s, k->c2s);
	cry_siv_init(&s2c, k->s2c);
	n = nts_client_request(req, sizeof(req), uid, k->reply.cookie[0], k->reply.cookie_len[0], 0,
			       &c2s, nonce);
	t1 = real_ns();
	if (!n || send(fd, req, n, 0) < 0) {
		q->stage = "send";
		snprintf(q->err, sizeof(q->err), "%s", n ? strerror(errno) : "cookie too long");
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int64_t left = t1 + (int64_t)(timeout * 1e9) - real_ns();
		struct ntp_packet rp;

		if (left <= 0 || poll(&pf, 1, (int)(left / 1000000) + 1) <= 0) {
			q->stage = "reply";
			snprintf(q->err, sizeof(q->err), "no reply within %.1f s", timeout);
			close(fd);
			return -1;
		}
		got = recv(fd, rep, sizeof(rep), 0);
		t4 = real_ns();
		if (got < 0) {
			q->stage = "reply";
			snprintf(q->err, sizeof(q->err), "%s", strerror(errno));
			close(fd);
			return -1;
		}
		if (ntp_decode(rep, (size_t)got, &rp) < 0 || rp.org != p.xmt)
			continue; /* not the answer to our request */
		r = nts_client_check(rep, (size_t)got, uid, &s2c, &cr);
		close(fd);
		q->stratum = rp.stratum;
		if (r != 0) {
			q->nak = r == 1;
			q->stage = q->nak ? "nak" : "authenticator";
			snprintf(q->err, sizeof(q->err), "%s", cr.why);
			return -1;
		}
		q->cookies = cr.n_cookies;
		{
			uint64_t T1 = ntp_ts_from_unix_ns(t1), T4 = ntp_ts_from_unix_ns(t4);

			q->offset = (ntp_ts_diff(rp.rec, T1) + ntp_ts_diff(rp.xmt, T4)) / 2;
			q->delay = ntp_ts_diff(T4, T1) - ntp_ts_diff(rp.xmt, rp.rec);
		}
		return 0;
	}
}

/* Split HOST[:PORT] / [V6]:PORT / bare V6 into HOST and PORT (default DEF). */
static int nc_split(const char *arg, char *host, size_t hlen, int *port, int def)
{
	const char *end = NULL, *colon;
	size_t n;

	*port = def;
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (!end)
			return -1;
		n = (size_t)(end - arg - 1);
		arg++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return -1;
	} else {
		colon = strchr(arg, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		n = colon ? (size_t)(colon - arg) : strlen(arg);
	}
	if (colon) {
		char *e;
		long v = strtol(colon + 1, &e, 10);

		if (*e || v < 1 || v > 65535)
			return -1;
		*port = (int)v;
	}
	if (n == 0 || n >= hlen)
		return -1;
	memcpy(host, arg, n);
	host[n] = '\0';
	return 0;
}

static void print_text(const struct kec_result *k, int ke_ok, const struct nc_query *q, int queried,
		       const char *target)
{
	char t1[40];
	int i;

	printf("NTS-KE %s: ", k->peer[0] ? k->peer : target);
	if (k->tls[0])
		printf("%s, ALPN %s", k->tls, NKE_ALPN);
	if (ke_ok)
		printf(", %.3f s", k->seconds);
	printf("\n");
	if (k->n_chain)
		printf("  certificate chain (%d):\n", k->n_chain);
	for (i = 0; i < k->n_chain; i++) {
		const struct kec_cert *c = &k->chain[i];
		double days = (double)(c->not_after - real_ns() / 1000000000) / 86400.0;

		printf("    %d: %s\n       issued by %s\n       valid until %s (%s%.0f days)\n", i,
		       c->subject, c->issuer, utc(c->not_after, t1, sizeof(t1)),
		       days < 0 ? "EXPIRED " : "", days < 0 ? -days : days);
	}
	if (!ke_ok) {
		printf("  failed at %s: %s\n", k->stage, k->err);
		return;
	}
	printf("  AEAD %s (%d), %d cookies of %u bytes%s\n", nke_aead_name(k->reply.aead),
	       k->reply.aead, k->reply.n_cookies, k->reply.cookie_len[0],
	       k->reply.warning >= 0 ? ", with a warning" : "");
	if (k->reply.warning >= 0)
		printf("  warning record: code %d\n", k->reply.warning);
	printf("  NTP server %s: %s, %s\n", q->target,
	       k->reply.server[0] ? "named by the server" : "the NTS-KE host",
	       k->reply.port ? "port named by the server" : "port 123 (none named)");
	if (!queried)
		return;
	if (q->stage)
		printf("NTS query %s: failed at %s: %s\n", q->target, q->stage, q->err);
	else
		printf("NTS query %s: authenticated reply, stratum %d, offset %+.6f s, delay "
		       "%.6f s, %d fresh cookie%s\n",
		       q->target, q->stratum, q->offset, q->delay, q->cookies,
		       q->cookies == 1 ? "" : "s");
}

static void print_json(const struct kec_result *k, int ke_ok, const struct nc_query *q, int queried,
		       const char *target, int rc)
{
	int i;

	printf("{\"target\": ");
	ctl_json_str(target);
	printf(", \"ke\": {\"peer\": ");
	ctl_json_str(k->peer);
	printf(", \"ok\": %s, \"tls\": ", ke_ok ? "true" : "false");
	ctl_json_str(k->tls);
	printf(", \"chain\": [");
	for (i = 0; i < k->n_chain; i++) {
		printf("%s{\"subject\": ", i ? ", " : "");
		ctl_json_str(k->chain[i].subject);
		printf(", \"issuer\": ");
		ctl_json_str(k->chain[i].issuer);
		printf(", \"not_before\": %lld, \"not_after\": %lld}",
		       (long long)k->chain[i].not_before, (long long)k->chain[i].not_after);
	}
	printf("]");
	if (ke_ok) {
		printf(", \"seconds\": %.6f, \"aead\": %d, \"aead_name\": ", k->seconds,
		       k->reply.aead);
		ctl_json_str(nke_aead_name(k->reply.aead));
		printf(", \"cookies\": %d, \"cookie_len\": %u, \"ntp_server\": ",
		       k->reply.n_cookies, k->reply.cookie_len[0]);
		ctl_json_str(k->reply.server);
		printf(", \"ntp_port\": %d, \"warning\": %d", k->reply.port ? k->reply.port : 123,
		       k->reply.warning);
	} else {
		printf(", \"stage\": ");
		ctl_json_str(k->stage);
		printf(", \"error\": ");
		ctl_json_str(k->err);
		printf(", \"nts_ke_error\": %d", k->reply.error);
	}
	printf("}");
	if (queried) {
		printf(", \"query\": {\"target\": ");
		ctl_json_str(q->target);
		printf(", \"ok\": %s", q->stage ? "false" : "true");
		if (q->stage) {
			printf(", \"stage\": ");
			ctl_json_str(q->stage);
			printf(", \"error\": ");
			ctl_json_str(q->err);
			printf(", \"nak\": %s", q->nak ? "true" : "false");
		} else {
			printf(", \"stratum\": %d, \"offset\": %.9f, \"delay\": %.9f, \"cookies\": "
			       "%d",
			       q->stratum, q->offset, q->delay, q->cookies);
		}
		printf("}");
	}
	printf(", \"exit\": %d}\n", rc);
}

int ctl_nts_check(int argc, char **argv)
{
	const uint16_t aeads[] = {NKE_AEAD_AES_SIV_CMAC_256};
	static struct kec_result k;
	struct nc_query q = {0};
	const char *target = NULL, *ca = NULL;
	double timeout = NC_TIMEOUT;
	struct tls_ctx tls;
	char host[256], err[512];
	int json = 0, notime = 0, port, i, ke_ok, queried = 0, rc;

	for (i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--nts") == 0) {
			continue;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			nc_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--no-time-check") == 0) {
			notime = 1;
		} else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) {
			ca = argv[++i];
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout = strtod(argv[++i], &end);
			if (*end || !(timeout > 0 && timeout <= NC_MAX_TIMEOUT)) {
				fprintf(stderr, "horoctl: check: --timeout takes (0, %.0f] s\n",
					NC_MAX_TIMEOUT);
				return NC_EXIT_USAGE;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "horoctl: check --nts: unknown argument '%s'\n", argv[i]);
			nc_usage(stderr);
			return NC_EXIT_USAGE;
		} else if (!target) {
			target = argv[i];
		} else {
			fprintf(stderr, "horoctl: check: one server at a time ('%s')\n", argv[i]);
			return NC_EXIT_USAGE;
		}
	}
	if (!target || nc_split(target, host, sizeof(host), &port, NKE_PORT) < 0) {
		if (target)
			fprintf(stderr, "horoctl: check --nts: bad server '%s'\n", target);
		nc_usage(stderr);
		return NC_EXIT_USAGE;
	}
	if (tls_client_init(&tls, ca, !ca, notime, err, sizeof(err)) < 0) {
		fprintf(stderr, "horoctl: check --nts: %s\n", err);
		return NC_EXIT_USAGE;
	}
	ke_ok = kec_exchange(&tls, host, port, timeout, aeads, 1, &k) == 0;
	tls_fini(&tls);
	if (ke_ok) {
		queried = 1;
		nc_query(&k, k.reply.server[0] ? k.reply.server : host,
			 k.reply.port ? k.reply.port : 123, timeout, &q);
	}
	if (!ke_ok)
		rc = strcmp(k.stage, "resolve") == 0 || strcmp(k.stage, "connect") == 0 ||
				     (strcmp(k.stage, "tls") == 0 && strstr(k.err, "timed out"))
			     ? NC_EXIT_UNREACH
			     : NC_EXIT_FAIL;
	else if (q.stage)
		rc = strcmp(q.stage, "reply") == 0 || strcmp(q.stage, "connect") == 0 ||
				     strcmp(q.stage, "resolve") == 0
			     ? NC_EXIT_UNREACH
			     : NC_EXIT_FAIL;
	else
		rc = 0;
	if (json) {
		print_json(&k, ke_ok, &q, queried, target, rc);
	} else {
		print_text(&k, ke_ok, &q, queried, target);
		printf("result: %s, exit %d\n",
		       rc == 0		       ? "NTS works"
		       : rc == NC_EXIT_UNREACH ? "unreachable"
					       : "NTS failed",
		       rc);
	}
	return rc;
}
