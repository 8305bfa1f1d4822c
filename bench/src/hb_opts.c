/*
 * The command line of horobench: the usage text, strict parsing of every
 * number within its bounds, addresses as IPv4 or IPv6 literals, and the
 * list of malformed kinds. A bad value is a usage error (exit status 2),
 * never silently clamped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/src/horobench.h"

#define HB_MAX_RATE   10000000.0 /* requests/s: upper bound of --rate */
#define HB_MAX_WINDOW 1000000	 /* requests in flight: upper bound of --window */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: horobench [OPTIONS] ADDR [PORT]\n"
		"       horobench respond [--echo] [--cpu N] [--duration S] ADDR PORT\n"
		"\n"
		"Send NTP client requests to ADDR (IPv4 or IPv6 literal) port PORT (default 123)\n"
		"and check every reply. Send only to loopback or to namespaces you created.\n"
		"\n"
		"  -r, --rate R         open loop: R requests/s whatever comes back\n"
		"  -w, --window W       closed loop: keep W requests in flight (default 64)\n"
		"  -d, --duration S     seconds of sending, at most %d (default 5)\n"
		"  -n, --sockets N      client sockets, i.e. source ports (default 16, max %d)\n"
		"  -s, --source ADDR    bind sockets to ADDR; repeat for several source\n"
		"                       addresses (sockets take them in turn)\n"
		"  -m, --malformed F    share F (0-1) of requests malformed, in turn of each kind\n"
		"  -k, --kinds LIST     malformed kinds, comma separated (default all):\n"
		"                       short (44 bytes), badversion (VN 0), mode7 (ntpdc\n"
		"                       monlist), mode6 (ntpq readvar: from a control-allowed\n"
		"                       source horod answers it, counted as control_answered),\n"
		"                       badext (bad extension)\n"
		"  -c, --cpu N          pin to CPU N\n"
		"  -t, --ts-every N     ask a kernel TX timestamp on one request in N (default 1;\n"
		"                       0 = none: RTT from user-space send times, no offsets)\n"
		"      --timeout S      a request unanswered after S seconds is lost (default "
		"0.5)\n"
		"      --version N      NTP version of the requests, 1-4 (default 4)\n"
		"      --allow-unsync   accept replies with leap 3 (unsynchronized server)\n"
		"  -j, --json           print one JSON object instead of text\n"
		"      --clients N      N clients (1-%d), each with its own source address:\n"
		"                       --client-base and the N-1 addresses after it, set per\n"
		"                       datagram (IP_PKTINFO) on unconnected sockets; they must\n"
		"                       be local here, e.g. `ip route add local 10.99.0.0/16\n"
		"                       dev lo`, and routed back by the server. Client i sends\n"
		"                       on socket i mod --sockets; each client in turn\n"
		"      --client-base A  the first client address (IPv4 or IPv6, the last 32 bits\n"
		"                       count up)\n"
		"      --xleave         RFC 9769 interleaved client (needs --clients): each\n"
		"                       request names the client's last reply; replies are\n"
		"                       counted by mode, interleaved offsets (offset_x_us) use\n"
		"                       the previous exchange's T1, T2, T4 and the reply's T3\n"
		"      --capture IFACE  capture the replies on IFACE (a packet socket, needs\n"
		"                       CAP_NET_RAW) with kernel receive stamps and report\n"
		"                       arrival - T3 per mode (capture_basic_us,\n"
		"                       capture_xleave_us: for an interleaved reply, the arrival\n"
		"                       of the previous reply against its transmit timestamp);\n"
		"                       negative = the reply arrived before its T3 (late)\n"
		"      --steps LIST     open loop at each rate of LIST (comma separated, up to\n"
		"                       %d) for --duration each, one report per step; the\n"
		"                       clients keep their state from step to step\n"
		"      --stop-loss F    end the steps after one that lost more than F (default\n"
		"                       0.2)\n"
		"      --warmup         first, every client sends %d requests (at %.0f/s, or the\n"
		"                       first step's rate if lower; not reported), so\n"
		"                       interleaved state exists from the start\n"
		"      --nts            NTS requests (RFC 8915): NTS-KE with ADDR first, then\n"
		"                       requests sealed before the run (one per table slot)\n"
		"      --ke             NTS-KE exchanges back to back instead of NTP requests\n"
		"      --ca FILE        trust the PEM certificates of FILE (default: the "
		"system's)\n"
		"      --nts-port N     NTS-KE port (default 4460)\n"
		"      --placeholders N cookie placeholders per NTS request, 0-7 (default 0)\n"
		"      --nts-verify N   check one NTS reply in N whole (default 64; 0: none;\n"
		"                       every reply must have the request's length, no NAK)\n"
		"      --nts-sessions N NTS-KE exchanges before an --nts run (default 4)\n"
		"      --ke-threads N   parallel clients of --ke (default 1)\n"
		"\n"
		"A reply is valid when its origin is a cookie we sent and had not seen\n"
		"answered, its mode is 4, its version ours, its stratum 1-15, its leap not 3,\n"
		"and 0 < receive <= transmit. loss = share of well-formed requests without a\n"
		"valid reply within the timeout. rtt = T4 - T1 and offset =\n"
		"((T2 - T1) + (T3 - T4)) / 2 use kernel TX (T1) and RX (T4) stamps: on one\n"
		"host the true offset is 0, so the offset is the server's timestamp error.\n"
		"residence = T3 - T2 as the server wrote them. Exit status: 0 when at least\n"
		"one valid reply came and none was invalid, 1 otherwise, 2 on usage errors.\n",
		HB_MAX_SECONDS, HB_MAX_SOCKETS, HB_MAX_CLIENTS, HB_MAX_STEPS, HB_WARM_ROUNDS,
		HB_WARM_RATE);
}

static int parse_addr(const char *s, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static int parse_kinds(struct hb_opts *o, const char *list)
{
	char buf[256], *save = NULL, *tok;
	int k;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	memset(o->kinds, 0, sizeof(o->kinds));
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (k = 1; k < K_MAX; k++)
			if (!strcmp(tok, hb_kind_name[k]))
				break;
		if (k == K_MAX)
			return -1;
		o->kinds[k] = 1;
	}
	return 0;
}

static int num(const char *s, double lo, double hi, double *out);

/* --steps: comma-separated rates. */
static int parse_steps(struct hb_opts *o, const char *list)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	o->n_steps = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_steps >= HB_MAX_STEPS ||
		    num(tok, 1, HB_MAX_RATE, &o->steps[o->n_steps]) < 0)
			return -1;
		o->n_steps++;
	}
	return o->n_steps ? 0 : -1;
}

/* Strict number parsing: the whole of S, within [LO, HI]. */
static int num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

int hb_parse_opts(int argc, char **argv, struct hb_opts *o)
{
	static const struct option opts[] = {{"rate", required_argument, NULL, 'r'},
					     {"window", required_argument, NULL, 'w'},
					     {"duration", required_argument, NULL, 'd'},
					     {"sockets", required_argument, NULL, 'n'},
					     {"source", required_argument, NULL, 's'},
					     {"malformed", required_argument, NULL, 'm'},
					     {"kinds", required_argument, NULL, 'k'},
					     {"cpu", required_argument, NULL, 'c'},
					     {"ts-every", required_argument, NULL, 't'},
					     {"timeout", required_argument, NULL, 'T'},
					     {"version", required_argument, NULL, 'V'},
					     {"allow-unsync", no_argument, NULL, 'U'},
					     {"json", no_argument, NULL, 'j'},
					     {"clients", required_argument, NULL, 'C'},
					     {"client-base", required_argument, NULL, 'B'},
					     {"xleave", no_argument, NULL, 'X'},
					     {"capture", required_argument, NULL, 'P'},
					     {"steps", required_argument, NULL, 'S'},
					     {"stop-loss", required_argument, NULL, 'L'},
					     {"warmup", no_argument, NULL, 'W'},
					     {"nts", no_argument, NULL, 'N'},
					     {"ke", no_argument, NULL, 'K'},
					     {"ca", required_argument, NULL, 'A'},
					     {"nts-port", required_argument, NULL, 'O'},
					     {"placeholders", required_argument, NULL, 'H'},
					     {"nts-verify", required_argument, NULL, 'E'},
					     {"nts-sessions", required_argument, NULL, 'Q'},
					     {"ke-threads", required_argument, NULL, 'Y'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	double v;
	int c, k, port = 123;

	memset(o, 0, sizeof(*o));
	o->window = 64;
	o->duration = 5;
	o->sockets = 16;
	o->cpu = -1;
	o->ts_every = 1;
	o->timeout = 0.5;
	o->version = 4;
	o->stop_loss = 0.2;
	o->nts_port = 4460;
	o->nts_verify = 64;
	o->nts_sessions = 4;
	o->ke_threads = 1;
	for (k = 1; k < K_MAX; k++)
		o->kinds[k] = 1;
	while ((c = getopt_long(argc, argv, "r:w:d:n:s:m:k:c:t:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (num(optarg, 1, HB_MAX_RATE, &o->rate) < 0)
				goto bad;
			break;
		case 'w':
			if (num(optarg, 1, HB_MAX_WINDOW, &v) < 0)
				goto bad;
			o->window = (int)v;
			break;
		case 'd':
			if (num(optarg, 0.01, HB_MAX_SECONDS, &o->duration) < 0)
				goto bad;
			break;
		case 'n':
			if (num(optarg, 1, HB_MAX_SOCKETS, &v) < 0)
				goto bad;
			o->sockets = (int)v;
			break;
		case 's':
			if (o->n_src >= HB_MAX_SOURCES)
				goto bad;
			{
				socklen_t l;

				if (parse_addr(optarg, 0, &o->src[o->n_src], &l) < 0)
					goto bad;
			}
			o->n_src++;
			break;
		case 'm':
			if (num(optarg, 0, 1, &o->malformed) < 0)
				goto bad;
			break;
		case 'k':
			if (parse_kinds(o, optarg) < 0)
				goto bad;
			break;
		case 'c':
			if (num(optarg, 0, CPU_SETSIZE - 1, &v) < 0)
				goto bad;
			o->cpu = (int)v;
			break;
		case 't':
			if (num(optarg, 0, 1000000, &v) < 0)
				goto bad;
			o->ts_every = (int)v;
			break;
		case 'T':
			if (num(optarg, 0.001, 10, &o->timeout) < 0)
				goto bad;
			break;
		case 'V':
			if (num(optarg, 1, 4, &v) < 0)
				goto bad;
			o->version = (int)v;
			break;
		case 'U':
			o->allow_unsync = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'C':
			if (num(optarg, 1, HB_MAX_CLIENTS, &v) < 0)
				goto bad;
			o->n_clients = (int)v;
			break;
		case 'B': {
			socklen_t l;

			if (parse_addr(optarg, 0, &o->client_base, &l) < 0)
				goto bad;
			break;
		}
		case 'X':
			o->xleave = 1;
			break;
		case 'P':
			if (!*optarg || strlen(optarg) >= sizeof(o->capture))
				goto bad;
			strcpy(o->capture, optarg);
			break;
		case 'S':
			if (parse_steps(o, optarg) < 0)
				goto bad;
			break;
		case 'L':
			if (num(optarg, 0, 1, &o->stop_loss) < 0)
				goto bad;
			break;
		case 'W':
			o->warmup = 1;
			break;
		case 'N':
			o->nts = 1;
			break;
		case 'K':
			o->ke = 1;
			break;
		case 'A':
			o->ca = optarg;
			break;
		case 'O':
			if (num(optarg, 1, 65535, &v) < 0)
				goto bad;
			o->nts_port = (int)v;
			break;
		case 'H':
			if (num(optarg, 0, 7, &v) < 0)
				goto bad;
			o->placeholders = (int)v;
			break;
		case 'E':
			if (num(optarg, 0, 1000000, &v) < 0)
				goto bad;
			o->nts_verify = (int)v;
			break;
		case 'Q':
			if (num(optarg, 1, 1000, &v) < 0)
				goto bad;
			o->nts_sessions = (int)v;
			break;
		case 'Y':
			if (num(optarg, 1, 64, &v) < 0)
				goto bad;
			o->ke_threads = (int)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		continue;
	bad:
		fprintf(stderr, "horobench: bad value '%s' for -%c (see --help)\n", optarg, c);
		return -1;
	}
	if (argc - optind < 1 || argc - optind > 2) {
		usage(stderr);
		return -1;
	}
	if (argc - optind == 2) {
		if (num(argv[optind + 1], 1, 65535, &v) < 0) {
			fprintf(stderr, "horobench: bad port '%s'\n", argv[optind + 1]);
			return -1;
		}
		port = (int)v;
	}
	o->host = argv[optind];
	o->port = port;
	if (parse_addr(o->host, port, &o->dst, &o->dstlen) < 0) {
		fprintf(stderr, "horobench: %s: not an IPv4 or IPv6 address\n", o->host);
		return -1;
	}
	for (k = 0; k < o->n_src; k++) {
		if (o->src[k].ss_family != o->dst.ss_family) {
			fprintf(stderr, "horobench: source and destination families differ\n");
			return -1;
		}
	}
	if (o->n_clients) {
		if (o->client_base.ss_family != o->dst.ss_family) {
			fprintf(stderr, "horobench: --clients needs --client-base of the server's "
					"family\n");
			return -1;
		}
		if (o->n_src) {
			fprintf(stderr, "horobench: --clients and --source exclude each other\n");
			return -1;
		}
		if (o->sockets > o->n_clients)
			o->sockets = o->n_clients;
	}
	if (o->xleave && o->nts) {
		fprintf(stderr, "horobench: --xleave and --nts exclude each other (horod answers "
				"NTS requests in basic mode only)\n");
		return -1;
	}
	if (o->xleave) {
		if (!o->n_clients) {
			fprintf(stderr, "horobench: --xleave needs --clients (one address per "
					"client: servers keep interleaved state by address)\n");
			return -1;
		}
		o->ts_every = 1; /* every exchange may be the one the next reply completes */
	}
	if (o->n_steps && o->rate == 0)
		o->rate = o->steps[0];
	return 0;
}
