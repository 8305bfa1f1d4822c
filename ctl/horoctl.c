/*
 * horoctl: horod's command-line companion. Each command is one function
 * and one row of the command table (name, arguments, one-line help), so
 * adding a command is adding both; `horoctl --help` lists the table.
 *
 * `guard` reads the XDP guard's pinned maps directly (bpffs, no control
 * socket needed, so it works beside a running horod and says plainly
 * when nothing is pinned): totals and rates per reason, the per-CPU
 * spread and the top talkers among denied and over-rate sources.
 *
 * Exit status: 0 ok; 1 error (cannot read what is there); 2 bad usage,
 * or nothing to read (no guard pinned).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf/guard_read.h"
#include "ctl/common.h"
#include "ctl/query.h"
#include "proto/nstime.h"
#include "proto/reason.h"

#define CTL_OK		  0	      /* exit: done */
#define CTL_ERROR	  1	      /* exit: something could not be read or done */
#define CTL_USAGE	  2	      /* exit: bad usage, or nothing to read */
#define GUARD_TOP_DEFAULT 10	      /* talkers shown */
#define GUARD_TOP_MAX	  100	      /* talkers shown at most */
#define RATE_SAMPLE_NS	  1000000000L /* ns between the two samples of a rate */

/* One command: its name, its arguments and what it does, for --help. */
struct ctl_cmd {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv);
};

static int cmd_guard(int argc, char **argv);
int ctl_cmd_check(int argc, char **argv); /* ctl/check.c: `horoctl check` */

static int cmd_help(int argc, char **argv);

static const struct ctl_cmd ctl_cmds[] = {
	{"status", "[-s SOCKET] [--json]",
	 "synchronised or not, to what, within how much (like ntpstat; exit 0/1/2)", query_status},
	{"tracking", "[-s SOCKET] [--json]",
	 "reference, offsets, frequency, skew, root delay/dispersion, leap, smear", query_tracking},
	{"sources", "[-s SOCKET] [--json]",
	 "upstream sources like ntpq -p, with flash bits by name", query_sources},
	{"serverstats", "[-s SOCKET] [--json]",
	 "requests received, answered, dropped by reason, timestamp source, per worker",
	 query_serverstats},
	{"config", "[-s SOCKET] [--json]", "the running configuration, defaults included",
	 query_config},
	{"metrics", "[-s SOCKET] [--json]", "every counter and gauge in Prometheus text format",
	 query_metrics},
	{"clients", "[-s SOCKET] [--json]",
	 "the busiest clients: requests, dropped, mean interval, last seen", query_clients},
	{"help", "[COMMAND]", "the manual page of COMMAND", cmd_help},
	{"guard", "[--pin DIR] [--json] [--once] [--top N]",
	 "XDP guard: counters and rates per reason, per-CPU spread, top talkers", cmd_guard},
	{"check", "HOST[:PORT] [-n N] [--timeout S] [--json] | --nts HOST[:PORT] [--ca FILE]",
	 "query any NTP server; which clients would reject it, why, and the fix; with --nts,\n"
	 "      an NTS-KE exchange and an authenticated query: AEAD, cookies, certificates",
	 ctl_cmd_check},
};

#define CTL_NCMDS ((int)(sizeof(ctl_cmds) / sizeof(ctl_cmds[0])))

/* The table row of command NAME (which must exist). */
static const struct ctl_cmd *ctl_find(const char *name)
{
	int i;

	for (i = 0; i < CTL_NCMDS - 1 && strcmp(ctl_cmds[i].name, name) != 0; i++)
		;
	return &ctl_cmds[i];
}

static void usage(FILE *f)
{
	int i;

	fprintf(f, "Usage: horoctl COMMAND [ARGS]\n"
		   "Inspect a running horod.\n\nCommands:\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(f, "  %s %s\n      %s\n", ctl_cmds[i].name, ctl_cmds[i].args,
			ctl_cmds[i].help);
	fprintf(f,
		"\nOptions: -s SOCKET (before or after a command): horod's control socket;\n"
		"default: the one horod uses when its configuration names none,\n"
		"/run/horod/horod.sock for root, else $XDG_RUNTIME_DIR/horod/horod.sock (when\n"
		"that is a directory of yours) or /tmp/horod-UID/horod.sock; for you now:\n"
		"%s.\n"
		"-h, --help (also after a command), --version.\n"
		"`horoctl help COMMAND` shows a command's manual page.\n"
		"Exit status: 0 ok, 1 error, 2 bad usage or nothing to read (no guard pinned, "
		"horod\n"
		"unreachable); status: 0 synchronised, 1 unsynchronised, 2 horod unreachable.\n",
		query_socket_path());
}

/* A talker's address as text. */
static const char *addr_text(const struct guard_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family == GUARD_FAMILY_V4 ? AF_INET : AF_INET6, a->addr, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static const char *mode_name(uint32_t mode)
{
	mode &= ~(uint32_t)GUARD_MODE_F_BOUND;
	return mode == GUARD_MODE_NATIVE ? "native" : mode == GUARD_MODE_SKB ? "generic" : "?";
}

/* What the guard command read. */
struct guard_view {
	const char *dir;
	int have_info;
	struct guard_info info;
	struct guard_stats a, b; /* first sample; second (== first with --once) */
	double secs;		 /* between the samples; 0 with --once */
	struct guard_talker_row top[GUARD_TOP_MAX];
	int ntop;
	uint64_t now;
};

static void guard_print_text(const struct guard_view *v)
{
	const struct guard_config *c = &v->info.cfg;
	uint64_t total = 0;
	char a[64];
	uint32_t i;

	printf("guard: maps pinned in %s", v->dir);
	if (v->have_info) {
		printf(" by horod PID %u, attached %.0f s ago\nXDP on", v->info.pid,
		       v->info.start_ns && v->now > v->info.start_ns
			       ? ns_sec((int64_t)(v->now - v->info.start_ns))
			       : 0.0);
		for (i = 0; i < v->info.n_ifaces && i < GUARD_MAX_IFACES; i++)
			printf("%s %.*s (%s%s)", i ? "," : "", GUARD_IFNAME_MAX, v->info.ifname[i],
			       mode_name(v->info.mode[i]),
			       v->info.mode[i] & GUARD_MODE_F_BOUND ? ", device-bound" : "");
		if (c->flags & GUARD_F_RATELIMIT)
			printf("; rate limit: one per %.3g s, burst %llu, leak 1 in %u%s",
			       ns_sec((int64_t)c->interval_ns),
			       (unsigned long long)(c->tau_ns /
							    (c->interval_ns ? c->interval_ns : 1) +
						    1),
			       c->leak_mask + 1, c->flags & GUARD_F_RATE_KOD ? ", RATE KoD" : "");
		else
			printf("; no rate limit");
		printf("%s%s%s\n", c->flags & GUARD_F_DENY_KOD ? "; DENY KoD" : "",
		       c->flags & GUARD_F_SERVE ? "; answers plain requests (guard serve)" : "",
		       c->flags & GUARD_F_STAMP ? "; transmit times at egress (guard stamp)" : "");
	} else {
		printf(" (no info map: an older horod?)\n");
	}
	printf("\n%-20s %14s %16s %12s\n", "reason", "packets", "bytes",
	       v->secs > 0 ? "packets/s" : "");
	for (i = 0; i < GUARD_NCOUNTERS; i++) {
		/* The frames it classified; the replies it stamped leaving come after. */
		if (i == GUARD_C_STAMPED)
			continue;
		total += v->b.packets[i];
		if (!v->b.packets[i])
			continue;
		printf("%-20s %14llu %16llu", guard_counter_name(i),
		       (unsigned long long)v->b.packets[i], (unsigned long long)v->b.bytes[i]);
		if (v->secs > 0)
			printf(" %12.1f", (double)(v->b.packets[i] - v->a.packets[i]) / v->secs);
		printf("\n");
	}
	printf("%-20s %14llu\n", "total", (unsigned long long)total);
	if (c->flags & GUARD_F_STAMP || v->b.packets[GUARD_C_STAMPED]) {
		printf("%-20s %14llu %16llu", guard_counter_name(GUARD_C_STAMPED),
		       (unsigned long long)v->b.packets[GUARD_C_STAMPED],
		       (unsigned long long)v->b.bytes[GUARD_C_STAMPED]);
		if (v->secs > 0)
			printf(" %12.1f", (double)(v->b.packets[GUARD_C_STAMPED] -
						   v->a.packets[GUARD_C_STAMPED]) /
						  v->secs);
		printf("  (replies leaving)\n");
	}
	printf("\nper CPU:");
	for (i = 0; i < (uint32_t)v->b.ncpu && i < 256; i++)
		printf(" cpu%u %llu (%.0f%%)", i, (unsigned long long)v->b.cpu_packets[i],
		       total ? 100.0 * (double)v->b.cpu_packets[i] / (double)total : 0.0);
	printf("\n\ntop talkers (denied and over-rate sources):\n");
	if (!v->ntop)
		printf("  none\n");
	else
		printf("  %-40s %10s %12s %-16s %s\n", "address", "packets", "bytes", "last",
		       "seen");
	for (i = 0; i < (uint32_t)v->ntop; i++) {
		const struct guard_talker_row *t = &v->top[i];

		printf("  %-40s %10llu %12llu %-16s %.1f s ago\n",
		       addr_text(&t->addr, a, sizeof(a)), (unsigned long long)t->t.packets,
		       (unsigned long long)t->t.bytes, guard_counter_name(t->t.last_reason),
		       v->now > t->t.last_ns ? ns_sec((int64_t)(v->now - t->t.last_ns)) : 0.0);
	}
}

static void guard_print_json(const struct guard_view *v)
{
	const struct guard_config *c = &v->info.cfg;
	char a[64], name[GUARD_IFNAME_MAX + 1];
	uint32_t i;

	printf("{\"pin\": ");
	ctl_json_str(v->dir);
	if (v->have_info) {
		printf(", \"pid\": %u, \"interfaces\": [", v->info.pid);
		for (i = 0; i < v->info.n_ifaces && i < GUARD_MAX_IFACES; i++) {
			snprintf(name, sizeof(name), "%.*s", GUARD_IFNAME_MAX, v->info.ifname[i]);
			printf("%s{\"name\": ", i ? ", " : "");
			ctl_json_str(name);
			printf(", \"ifindex\": %u, \"mode\": \"%s\", \"device_bound\": %s}",
			       v->info.ifindex[i], mode_name(v->info.mode[i]),
			       v->info.mode[i] & GUARD_MODE_F_BOUND ? "true" : "false");
		}
		printf("], \"ratelimit\": %s, \"interval_ns\": %llu, \"tau_ns\": %llu, "
		       "\"leak_mask\": %u, \"rate_kod\": %s, \"deny_kod\": %s, \"serve\": %s, "
		       "\"stamp\": %s",
		       c->flags & GUARD_F_RATELIMIT ? "true" : "false",
		       (unsigned long long)c->interval_ns, (unsigned long long)c->tau_ns,
		       c->leak_mask, c->flags & GUARD_F_RATE_KOD ? "true" : "false",
		       c->flags & GUARD_F_DENY_KOD ? "true" : "false",
		       c->flags & GUARD_F_SERVE ? "true" : "false",
		       c->flags & GUARD_F_STAMP ? "true" : "false");
	}
	printf(", \"sample_s\": %.3f, \"counters\": {", v->secs);
	for (i = 0; i < GUARD_NCOUNTERS; i++) {
		printf("%s\"%s\": {\"packets\": %llu, \"bytes\": %llu", i ? ", " : "",
		       guard_counter_name(i), (unsigned long long)v->b.packets[i],
		       (unsigned long long)v->b.bytes[i]);
		if (v->secs > 0)
			printf(", \"pps\": %.3f",
			       (double)(v->b.packets[i] - v->a.packets[i]) / v->secs);
		printf("}");
	}
	printf("}, \"cpu_packets\": [");
	for (i = 0; i < (uint32_t)v->b.ncpu && i < 256; i++)
		printf("%s%llu", i ? ", " : "", (unsigned long long)v->b.cpu_packets[i]);
	printf("], \"talkers\": [");
	for (i = 0; i < (uint32_t)v->ntop; i++) {
		const struct guard_talker_row *t = &v->top[i];

		printf("%s{\"addr\": \"%s\", \"packets\": %llu, \"bytes\": %llu, "
		       "\"last_reason\": \"%s\", \"last_seen_s\": %.3f}",
		       i ? ", " : "", addr_text(&t->addr, a, sizeof(a)),
		       (unsigned long long)t->t.packets, (unsigned long long)t->t.bytes,
		       guard_counter_name(t->t.last_reason),
		       v->now > t->t.last_ns ? ns_sec((int64_t)(v->now - t->t.last_ns)) : 0.0);
	}
	printf("]}\n");
}

/* Report a failure to read DIR/WHAT: nothing pinned is CTL_USAGE, the rest CTL_ERROR. */
static int guard_read_error(const char *dir, const char *what, int err)
{
	if (err == -ENOENT || err == -ENOTDIR) {
		fprintf(stderr,
			"horoctl: guard: nothing pinned in %s (no %s): is horod running with "
			"`guard interface`? (another `guard pin`? --pin DIR)\n",
			dir, what);
		return CTL_USAGE;
	}
	fprintf(stderr, "horoctl: guard: cannot read %s/%s: %s%s\n", dir, what, strerror(-err),
		err == -EPERM || err == -EACCES ? " (reading BPF maps needs root or CAP_BPF)" : "");
	return CTL_ERROR;
}

static int cmd_guard(int argc, char **argv)
{
	static struct guard_view v;
	const char *dir = GUARD_PIN_DEFAULT;
	int json = 0, once = 0, top = GUARD_TOP_DEFAULT, fd, tfd, ifd, ret, i;
	struct timespec pause;
	int64_t t0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--once") == 0) {
			once = 1;
		} else if (strcmp(argv[i], "--pin") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);

			if (*end || n < 0 || n > GUARD_TOP_MAX) {
				fprintf(stderr, "horoctl: guard: --top takes 0-%d\n",
					GUARD_TOP_MAX);
				return CTL_USAGE;
			}
			top = (int)n;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("Usage: horoctl guard %s\n  %s\n  --pin DIR  where horod pinned "
			       "the maps (`guard pin`, default %s)\n  --json     one JSON object\n"
			       "  --once     totals only (rates need two samples 1 s apart)\n"
			       "  --top N    talkers shown (default %d)\n",
			       ctl_find("guard")->args, ctl_find("guard")->help, GUARD_PIN_DEFAULT,
			       GUARD_TOP_DEFAULT);
			return CTL_OK;
		} else {
			fprintf(stderr,
				"horoctl: guard: unknown argument '%s'\nUsage: horoctl guard %s\n",
				argv[i], ctl_find("guard")->args);
			return CTL_USAGE;
		}
	}
	memset(&v, 0, sizeof(v));
	v.dir = dir;
	fd = guard_pinned_open(dir, GUARD_PIN_COUNTERS);
	if (fd < 0)
		return guard_read_error(dir, GUARD_PIN_COUNTERS, fd);
	ifd = guard_pinned_open(dir, GUARD_PIN_INFO);
	if (ifd >= 0) {
		v.have_info = guard_info_read_fd(ifd, &v.info) == 0;
		close(ifd);
	}
	ret = guard_stats_read_fd(fd, &v.a);
	t0 = ctl_now_ns(CLOCK_MONOTONIC);
	if (ret == 0 && !once) {
		ns_to_timespec(RATE_SAMPLE_NS, &pause);
		nanosleep(&pause, NULL);
		ret = guard_stats_read_fd(fd, &v.b);
		v.secs = ns_dsec(ctl_now_ns(CLOCK_MONOTONIC), t0);
	} else {
		v.b = v.a;
	}
	close(fd);
	if (ret < 0)
		return guard_read_error(dir, GUARD_PIN_COUNTERS, ret);
	tfd = guard_pinned_open(dir, GUARD_PIN_TALKERS);
	if (tfd < 0)
		return guard_read_error(dir, GUARD_PIN_TALKERS, tfd);
	v.ntop = guard_talkers_read_fd(tfd, v.top, top);
	close(tfd);
	if (v.ntop < 0)
		return guard_read_error(dir, GUARD_PIN_TALKERS, v.ntop);
	v.now = (uint64_t)ctl_now_ns(CLOCK_MONOTONIC);
	if (json)
		guard_print_json(&v);
	else
		guard_print_text(&v);
	return CTL_OK;
}

static int cmd_help(int argc, char **argv)
{
	const char *page;
	int i;

	if (argc < 2) {
		usage(stdout);
		return CTL_OK;
	}
	page = query_man(argv[1]);
	if (page) {
		fputs(page, stdout);
		return CTL_OK;
	}
	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(argv[1], ctl_cmds[i].name) == 0) {
			printf("horoctl %s %s\n    %s\n(horoctl %s --help for its options)\n",
			       ctl_cmds[i].name, ctl_cmds[i].args, ctl_cmds[i].help,
			       ctl_cmds[i].name);
			return CTL_OK;
		}
	fprintf(stderr, "horoctl: help: unknown command '%s'\n", argv[1]);
	return CTL_USAGE;
}

int main(int argc, char **argv)
{
	int i;

	/* A global -s SOCKET before the command, for the commands that ask horod. */
	while (argc > 2 && (strcmp(argv[1], "-s") == 0 || strcmp(argv[1], "--socket") == 0)) {
		query_set_socket(argv[2]);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return CTL_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("horoctl %s\n", HOROD_VERSION);
		return CTL_OK;
	}
	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(argv[1], ctl_cmds[i].name) == 0)
			return ctl_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "horoctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CTL_USAGE;
}
