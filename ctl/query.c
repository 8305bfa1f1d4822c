/*
 * The horoctl commands that ask a running horod: connect to the control
 * socket, send one request, wait (bounded) for one answer, print it as
 * text for people or as JSON for programs. The daemon answers with
 * key=value lines; numbers stay numbers in the JSON.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ctl/common.h"
#include "ctl/query.h"
#include "proto/ctlproto.h"
#include "proto/nstime.h"
#include "proto/flash.h"

static const char *query_socket; /* -s PATH, or NULL: the default (query_socket_path) */

void query_set_socket(const char *path)
{
	query_socket = path;
}

const char *query_socket_path(void)
{
	static char def[CTL_SOCK_PATH_MAX];
	const char *xdg;
	struct stat st;

	if (query_socket)
		return query_socket;
	if (!def[0]) {
		xdg = getenv("XDG_RUNTIME_DIR");
		if (ctl_sock_default(def, sizeof(def), geteuid(), xdg,
				     xdg && stat(xdg, &st) == 0 ? &st : NULL) < 0)
			snprintf(def, sizeof(def), "%s", CTL_SOCK_ROOT); /* cannot happen */
	}
	return def;
}

/* An answer: the payload (NUL-terminated copy) and its length. */
struct answer {
	char *p;
	size_t len;
};

/* ms of CLOCK_MONOTONIC now: the clock of the query's time budget. */
static int64_t mono_ms(void)
{
	return ctl_now_ns(CLOCK_MONOTONIC) / NS_PER_MS;
}

/* Ask CMD; 0 with A filled, QUERY_UNREACHABLE (no daemon) or QUERY_FAIL (bad answer), reported. */
static int ask(enum ctl_cmd cmd, struct answer *a)
{
	const size_t cap = CTL_HDR_LEN + CTL_MAX_PAYLOAD;
	struct sockaddr_un sa;
	uint8_t req[CTL_HDR_LEN], *buf;
	int64_t end = mono_ms() + QUERY_TIMEOUT_MS;
	struct ctl_msg m;
	size_t have = 0;
	const char *sock = query_socket_path();
	int fd, r = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "horoctl: socket path too long: %s\n", sock);
		return QUERY_UNREACHABLE;
	}
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "horoctl: cannot reach horod at %s: %s\n", sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return QUERY_UNREACHABLE;
	}
	ctl_request_encode(cmd, req);
	if (send(fd, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
		fprintf(stderr, "horoctl: %s: send: %s\n", sock, strerror(errno));
		close(fd);
		return QUERY_UNREACHABLE;
	}
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return QUERY_FAIL;
	}
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = end - mono_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			fprintf(stderr, "horoctl: %s: no answer within %d ms\n", sock,
				QUERY_TIMEOUT_MS);
			r = QUERY_UNREACHABLE;
			break;
		}
		n = read(fd, buf + have, cap - have);
		if (n <= 0) {
			fprintf(stderr, "horoctl: %s: connection closed before the answer\n", sock);
			r = QUERY_UNREACHABLE;
			break;
		}
		have += (size_t)n;
		r = ctl_decode(buf, have, CTL_T_RESPONSE, &m);
		if (r < 0) {
			fprintf(stderr, "horoctl: %s: bad answer: %s\n", sock, ctl_err_text(r));
			r = QUERY_FAIL;
			break;
		}
		if (r > 0) {
			r = 0;
			break;
		}
	}
	close(fd);
	if (r == 0 && m.h.status != CTL_S_OK) {
		fprintf(stderr, "horoctl: horod answered: %s\n", ctl_status_text(m.h.status));
		r = QUERY_FAIL;
	}
	if (r) {
		free(buf);
		return r;
	}
	/* Move the payload to the front and terminate it. */
	memmove(buf, buf + CTL_HDR_LEN, m.h.length);
	buf[m.h.length] = '\0';
	a->p = (char *)buf;
	a->len = m.h.length;
	return 0;
}

/* The value of KEY, or DEF. */
static const char *get(const struct answer *a, const char *key, const char *def)
{
	static char v[8][CTL_VAL_MAX];
	static int next;
	char *out = v[next++ % 8];

	return ctl_kv_get(a->p, a->len, key, out, CTL_VAL_MAX) == 0 ? out : def;
}

static double getd(const struct answer *a, const char *key)
{
	const char *s = get(a, key, NULL);

	return s ? strtod(s, NULL) : NAN;
}

static long getl(const struct answer *a, const char *key)
{
	const char *s = get(a, key, NULL);

	return s ? strtol(s, NULL, 10) : 0;
}

/* ---- JSON ----------------------------------------------------------------- */

/* 1 when S is a JSON number (optional '-', digits, optional fraction and exponent). */
static int is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/*
 * Print, as JSON members, the keys of A that start with PREFIX and have no
 * further '.', prefix removed; FIRST says whether a comma is needed first.
 * Returns the updated FIRST.
 */
static int json_fields(const struct answer *a, const char *prefix, int first)
{
	char k[CTL_KEY_MAX], v[CTL_VAL_MAX];
	size_t pos = 0, pl = strlen(prefix);

	while (ctl_kv_next(a->p, a->len, &pos, k, sizeof(k), v, sizeof(v)) == 1) {
		if (strncmp(k, prefix, pl) != 0 || strchr(k + pl, '.'))
			continue;
		printf("%s", first ? "" : ", ");
		ctl_json_str(k + pl);
		printf(": ");
		if (is_number(v))
			printf("%s", v);
		else
			ctl_json_str(v);
		first = 0;
	}
	return first;
}

/* ---- options -------------------------------------------------------------- */

/* Parse [-s SOCKET] [--json] [-h|--help]; returns -1 on bad usage, 1 for help, else 0. */
static int parse_opts(int argc, char **argv, int *json)
{
	int i;

	*json = 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			*json = 1;
		} else if ((strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--socket") == 0) &&
			   i + 1 < argc) {
			query_socket = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("%s", query_man(argv[0]));
			return 1;
		} else {
			fprintf(stderr,
				"horoctl %s: unexpected argument '%s' (see horoctl help %s)\n",
				argv[0], argv[i], argv[0]);
			return -1;
		}
	}
	return 0;
}

/* Common start of a command: options, then the question. */
static int begin(int argc, char **argv, enum ctl_cmd cmd, int *json, struct answer *a)
{
	int r = parse_opts(argc, argv, json);

	if (r < 0)
		return QUERY_UNREACHABLE;
	if (r > 0)
		return -1; /* help printed: exit 0 */
	return ask(cmd, a);
}

#define BEGIN(cmd)                                                                                 \
	struct answer a;                                                                           \
	int json, r = begin(argc, argv, cmd, &json, &a);                                           \
	if (r < 0)                                                                                 \
		return QUERY_OK;                                                                   \
	if (r > 0)                                                                                 \
	return r

/* ---- commands ------------------------------------------------------------- */

/* "YYYY-MM-DD" of Unix second T into BUF (LEN), "none" for 0. */
static const char *day_text(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm))
		snprintf(buf, len, "none");
	else
		strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

/* The leap table's lines of `horoctl status`: its path, expiry and next leap. */
static void status_leapfile(const struct answer *a)
{
	const char *e = get(a, "leapfile_expiry", "?");
	char d1[32], d2[32];
	long long next = (long long)getd(a, "leapfile_next");

	printf("   leap file %s: expires %s (%s)\n", get(a, "leapfile", "?"),
	       day_text((long long)getd(a, "leapfile_expires"), d1, sizeof(d1)),
	       strcmp(e, "expired") == 0   ? "EXPIRED: no authority, the sources' bits decide"
	       : strcmp(e, "soon") == 0	   ? "expires within 28 days: update it"
	       : strcmp(e, "unknown") == 0 ? "no expiry given"
					   : "valid");
	if (next > 0)
		printf("   next leap second: %s (%s)\n", day_text(next - 86400, d2, sizeof(d2)),
		       getl(a, "leapfile_next_dir") > 0 ? "inserted 23:59:60" : "23:59:59 deleted");
}

int query_status(int argc, char **argv)
{
	const char *src;
	int synced;

	BEGIN(CTL_CMD_STATUS);
	synced = getl(&a, "synced") == 1;
	src = get(&a, "source", "none");
	if (json) {
		printf("{");
		json_fields(&a, "", 1);
		printf("}\n");
	} else if (!synced) {
		printf("unsynchronised\n");
	} else {
		int rc = strcmp(src, "refclock") == 0;

		if (strcmp(src, "ntp") == 0)
			printf("synchronised to NTP server (%s) at stratum %ld\n",
			       get(&a, "server", "?"), getl(&a, "stratum"));
		else if (rc)
			printf("synchronised to reference clock %s (%s) at stratum %ld\n",
			       get(&a, "server", "?"), get(&a, "refid", "?"), getl(&a, "stratum"));
		else if (strcmp(src, "holdover") == 0)
			printf("synchronised, holding over (refid %s) at stratum %ld\n",
			       get(&a, "refid", "?"), getl(&a, "stratum"));
		else
			printf("synchronised to local clock at stratum %ld\n", getl(&a, "stratum"));
		printf("   time correct to within %.0f ms\n",
		       ceil(getd(&a, "root_distance") * 1000));
		if (strcmp(src, "ntp") == 0 || rc)
			printf("   polling %s every %.0f s\n", rc ? "reference clock" : "server",
			       ldexp(1.0, (int)getl(&a, "poll")));
	}
	if (!json && get(&a, "leapfile", NULL))
		status_leapfile(&a);
	free(a.p);
	return synced ? QUERY_OK : QUERY_FAIL;
}

static const char *leap_text(long leap)
{
	static const char *const t[] = {"Normal", "Insert second", "Delete second",
					"Not synchronised"};

	return leap >= 0 && leap <= 3 ? t[leap] : "?";
}

/* The leap second's lines of `horoctl tracking`: mode, the leap planned, the smear. */
static void tracking_leap(const struct answer *a)
{
	long long m = (long long)getd(a, "leap_midnight");
	long dir = getl(a, "leap_planned");
	char day[32];

	if (!get(a, "leapsecmode", NULL))
		return;
	printf("Leap second mode   : %s%s\n", get(a, "leapsecmode", "?"),
	       getl(a, "leap_table") ? " (leap file valid: the authority)" : "");
	if (dir)
		printf("Leap second        : %s at the end of %s\n",
		       dir > 0 ? "insert 23:59:60" : "delete 23:59:59",
		       day_text(m - 86400, day, sizeof(day)));
	else
		printf("Leap second        : none planned\n");
	if (get(a, "smear_interval", NULL))
		printf("Smear              : %s, offset %+.9f seconds (interval %ld s)\n",
		       getl(a, "smearing") ? "smearing" : "not smearing", getd(a, "smear_offset"),
		       getl(a, "smear_interval"));
	if (get(a, "slew_offset", NULL))
		printf("Slew               : %s, offset %+.9f seconds (served minus UTC)\n",
		       getl(a, "slewing") ? "slewing" : "not slewing", getd(a, "slew_offset"));
}

int query_tracking(int argc, char **argv)
{
	char when[64];
	double ref;
	time_t tt;
	struct tm tm;

	BEGIN(CTL_CMD_TRACKING);
	if (json) {
		printf("{");
		json_fields(&a, "", 1);
		printf("}\n");
		free(a.p);
		return QUERY_OK;
	}
	ref = getd(&a, "ref_time");
	tt = (time_t)floor(ref);
	if (ref > 0 && gmtime_r(&tt, &tm))
		strftime(when, sizeof(when), "%a %b %d %H:%M:%S %Y", &tm);
	else
		snprintf(when, sizeof(when), "never");
	printf("Reference ID       : %s\n", get(&a, "refid", "?"));
	printf("Stratum            : %ld\n", getl(&a, "stratum"));
	printf("Ref time (UTC)     : %s\n", when);
	if (strcmp(get(&a, "mode", "local"), "ntp") == 0) {
		double so = getd(&a, "system_offset");

		printf("System time        : %.9f seconds %s of NTP time\n", fabs(so),
		       so > 0 ? "slow" : "fast");
		printf("Last offset        : %+.9f seconds\n", getd(&a, "last_offset"));
		printf("RMS offset         : %.9f seconds\n", getd(&a, "rms_offset"));
		printf("Frequency          : %+.3f ppm\n", getd(&a, "frequency"));
		printf("Residual freq      : %+.3f ppm\n", getd(&a, "residual_frequency"));
		printf("Skew               : %.3f ppm\n", getd(&a, "skew"));
	}
	printf("Root delay         : %.9f seconds\n", getd(&a, "root_delay"));
	printf("Root dispersion    : %.9f seconds\n", getd(&a, "root_dispersion"));
	if (strcmp(get(&a, "mode", "local"), "ntp") == 0)
		printf("Update interval    : %.1f seconds\n", getd(&a, "update_interval"));
	printf("Leap status        : %s\n", leap_text(getl(&a, "leap")));
	if (get(&a, "true_error", NULL))
		printf("True error (sim)   : %+.9f seconds\n", getd(&a, "true_error"));
	tracking_leap(&a);
	free(a.p);
	return QUERY_OK;
}

static const char *flash_text(unsigned long flash, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	if (!flash)
		return "-";
	for (i = 0; i < NTP_FLASH_NBITS; i++)
		if (flash & (1ul << i))
			n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0,
					      "%s%s", n ? "," : "", ntp_flash_name(1u << i));
	return buf;
}

int query_sources(int argc, char **argv)
{
	int i, n;
	char k[64], f[256];

	BEGIN(CTL_CMD_SOURCES);
	n = (int)getl(&a, "sources");
	if (json) {
		printf("{\"sources\": [");
		for (i = 0; i < n; i++) {
			unsigned long fl;

			snprintf(k, sizeof(k), "s%d.", i);
			printf("%s{", i ? ", " : "");
			json_fields(&a, k, 1);
			snprintf(k, sizeof(k), "s%d.flash", i);
			fl = (unsigned long)getl(&a, k);
			printf(", \"flash_names\": [");
			for (int b = 0, c = 0; b < NTP_FLASH_NBITS; b++)
				if (fl & (1ul << b))
					printf("%s\"%s\"", c++ ? ", " : "",
					       ntp_flash_name(1u << b));
			printf("]}");
		}
		printf("]}\n");
		free(a.p);
		return QUERY_OK;
	}
	printf("     remote           refid      st t when poll reach   delay   offset  jitter "
	       " flash\n");
	printf("=========================================================================="
	       "=============\n");
	for (i = 0; i < n; i++) {
		char tally, when[24];
		long w;

#define S(key) (snprintf(k, sizeof(k), "s%d." key, i), k)
		tally = get(&a, S("tally"), "_")[0];
		w = getl(&a, S("when"));
		if (w < 0)
			snprintf(when, sizeof(when), "-");
		else
			snprintf(when, sizeof(when), "%ld", w);
		/* ntpq's type: l a reference clock ("local"), u a unicast server. */
		printf("%c%-15.15s %-15.15s %2ld %c %4s %4.0f  %03lo %7.3f %8.3f %7.3f  %s\n",
		       tally == '_' ? ' ' : tally, get(&a, S("name"), "?"),
		       get(&a, S("refid"), "?"), getl(&a, S("stratum")),
		       strcmp(get(&a, S("kind"), "ntp"), "refclock") == 0 ? 'l' : 'u', when,
		       ldexp(1.0, (int)getl(&a, S("poll"))),
		       (unsigned long)getl(&a, S("reach")) & 0377, getd(&a, S("delay")) * 1e3,
		       getd(&a, S("offset")) * 1e3, getd(&a, S("jitter")) * 1e3,
		       flash_text((unsigned long)getl(&a, S("flash")), f, sizeof(f)));
#undef S
	}
	free(a.p);
	return QUERY_OK;
}

int query_serverstats(int argc, char **argv)
{
	char kk[CTL_KEY_MAX], v[CTL_VAL_MAX], k[64];
	size_t pos = 0;
	int i, n;

	BEGIN(CTL_CMD_SERVERSTATS);
	n = (int)getl(&a, "workers");
	if (json) {
		printf("{");
		json_fields(&a, "", 1);
		printf(", \"reasons\": {");
		json_fields(&a, "reason.", 1);
		printf("}, \"timestamps\": {");
		json_fields(&a, "ts.", 1);
		printf("}, \"auth\": {");
		json_fields(&a, "auth.", 1);
		printf("}, \"ke\": {");
		json_fields(&a, "ke.", 1);
		printf("}, \"modes\": {");
		json_fields(&a, "mode.", 1);
		printf("}, \"interleaved_tx\": {");
		json_fields(&a, "xtx.", 1);
		printf("}, \"per_worker\": [");
		for (i = 0; i < n; i++) {
			snprintf(k, sizeof(k), "w%d.", i);
			printf("%s{\"worker\": %d", i ? ", " : "", i);
			json_fields(&a, k, 0);
			snprintf(k, sizeof(k), "w%d.ts.", i);
			printf(", \"timestamps\": {");
			json_fields(&a, k, 1);
			printf("}}");
		}
		printf("]}\n");
		free(a.p);
		return QUERY_OK;
	}
	printf("Requests received  : %s\n", get(&a, "received", "0"));
	printf("Answered           : %s\n", get(&a, "answered", "0"));
	printf("Dropped            : %s\n", get(&a, "dropped", "0"));
	printf("  of them by XDP   : %s\n", get(&a, "xdp", "0"));
	printf("Dropped unread     : %s (by the kernel: receive buffer full, overload filter)\n",
	       get(&a, "kernel_dropped", "0"));
	printf("RX timestamps      : hardware %s, kernel %s, daemon %s\n",
	       get(&a, "ts.hardware", "0"), get(&a, "ts.kernel", "0"), get(&a, "ts.daemon", "0"));
	printf("Replies by mode    : basic %s, interleaved %s\n", get(&a, "mode.basic", "0"),
	       get(&a, "mode.interleaved", "0"));
	printf("  interleaved TX   : hardware %s, kernel %s, daemon %s\n",
	       get(&a, "xtx.hardware", "0"), get(&a, "xtx.kernel", "0"),
	       get(&a, "xtx.daemon", "0"));
	printf("TX stamps          : read %s, unmatched %s; clients evicted %s\n",
	       get(&a, "tx_stamps", "0"), get(&a, "tx_unmatched", "0"),
	       get(&a, "xleave_evicted", "0"));
	printf("By reason (nonzero):\n");
	while (ctl_kv_next(a.p, a.len, &pos, kk, sizeof(kk), v, sizeof(v)) == 1)
		if (strncmp(kk, "reason.", 7) == 0 && strcmp(v, "0") != 0)
			printf("  %-20s %s\n", kk + 7, v);
	printf("NTS requests       : ok %s, bad cookie %s, bad authenticator %s, malformed %s, "
	       "to a server without NTS %s\n",
	       get(&a, "auth.nts_ok", "0"), get(&a, "auth.nts_bad_cookie", "0"),
	       get(&a, "auth.nts_bad_auth", "0"), get(&a, "auth.nts_malformed", "0"),
	       get(&a, "auth.nts_disabled", "0"));
	printf("MAC requests       : ok %s, unknown key %s, bad MAC %s (keys in the keyfile: %s)\n",
	       get(&a, "auth.mac_ok", "0"), get(&a, "auth.mac_unknown_key", "0"),
	       get(&a, "auth.mac_bad", "0"), get(&a, "symmetric_keys", "0"));
	if (strcmp(get(&a, "nts_server", "0"), "1") == 0)
		printf("NTS-KE sessions    : ok %s, nothing in common %s, bad request %s, "
		       "TLS failed %s, timed out %s, closed early %s, refused (full) %s, internal "
		       "error %s\n",
		       get(&a, "ke.ok", "0"), get(&a, "ke.nothing_in_common", "0"),
		       get(&a, "ke.bad_request", "0"), get(&a, "ke.tls_failed", "0"),
		       get(&a, "ke.timeout", "0"), get(&a, "ke.closed", "0"),
		       get(&a, "ke.refused", "0"), get(&a, "ke.internal", "0"));
	else
		printf("NTS-KE sessions    : no NTS server (ntsservercert)\n");
	printf("Per worker:\n  %6s %12s %12s %12s %10s %12s %10s\n", "worker", "received",
	       "answered", "dropped", "hardware", "kernel", "daemon");
	for (i = 0; i < n; i++) {
#define W(key) (snprintf(k, sizeof(k), "w%d." key, i), get(&a, k, "0"))
		printf("  %6d %12s", i, W("received"));
		printf(" %12s", W("answered"));
		printf(" %12s", W("dropped"));
		printf(" %10s", W("ts.hardware"));
		printf(" %12s", W("ts.kernel"));
		printf(" %10s\n", W("ts.daemon"));
#undef W
	}
	free(a.p);
	return QUERY_OK;
}

int query_config(int argc, char **argv)
{
	BEGIN(CTL_CMD_CONFIG);
	if (json) {
		printf("{\"config\": ");
		ctl_json_str(a.p);
		printf("}\n");
	} else {
		fwrite(a.p, 1, a.len, stdout);
	}
	free(a.p);
	return QUERY_OK;
}

int query_metrics(int argc, char **argv)
{
	char *line, *save = NULL;
	int first = 1;

	BEGIN(CTL_CMD_METRICS);
	if (!json) {
		fwrite(a.p, 1, a.len, stdout);
		free(a.p);
		return QUERY_OK;
	}
	/* {"name{labels}": value, ...}: each sample keyed as Prometheus shows it. */
	printf("{\"metrics\": {");
	for (line = strtok_r(a.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' ');

		if (line[0] == '#' || !sp)
			continue;
		*sp = '\0';
		printf("%s", first ? "" : ", ");
		ctl_json_str(line);
		printf(": %s", is_number(sp + 1) ? sp + 1 : "null");
		first = 0;
	}
	printf("}}\n");
	free(a.p);
	return QUERY_OK;
}

int query_clients(int argc, char **argv)
{
	char k[64];
	int i, n;

	BEGIN(CTL_CMD_CLIENTS);
	n = (int)getl(&a, "clients");
	if (json) {
		printf("{");
		json_fields(&a, "", 1);
		printf(", \"top\": [");
		for (i = 0; i < n; i++) {
			snprintf(k, sizeof(k), "c%d.", i);
			printf("%s{", i ? ", " : "");
			json_fields(&a, k, 1);
			printf("}");
		}
		printf("]}\n");
		free(a.p);
		return QUERY_OK;
	}
	printf("%ld clients in the log (room for %ld); the %d busiest:\n", getl(&a, "tracked"),
	       getl(&a, "capacity"), n);
	printf("%-39s %12s %10s %10s %10s\n", "address", "requests", "dropped", "interval", "last");
	for (i = 0; i < n; i++) {
#define C(key) (snprintf(k, sizeof(k), "c%d." key, i), k)
		printf("%-39s %12s %10s %9.3fs %8.1fs\n", get(&a, C("address"), "?"),
		       get(&a, C("requests"), "0"), get(&a, C("dropped"), "0"),
		       getd(&a, C("interval")), getd(&a, C("last")));
#undef C
	}
	free(a.p);
	return QUERY_OK;
}
