/*
 * The control socket and the metrics endpoint, served from the clock
 * thread's poll loop (see control.h). A control client sends one request
 * and gets one answer; an HTTP client sends one GET /metrics and gets the
 * Prometheus text. Either way the connection is closed after the answer.
 * Answers are built from the clock core, the snapshot, the upstream
 * statistics and the workers' counter blocks, all read from this thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "clock/kclock.h"
#include "daemon/serve/clientlog.h"
#include "daemon/clockd/clockd.h"
#include "daemon/control/control.h"
#include "daemon/sys/log.h"
#include "daemon/serve/xguard.h"
#include "proto/ctlproto.h"
#include "proto/nstime.h"
#include "proto/prom.h"

#define CONTROL_BACKLOG 16 /* pending connections: as many as we serve at once */

static int64_t mono_ns(void)
{
	return clk_now_ns(CLOCK_MONOTONIC);
}

static int64_t sys_ns(void)
{
	return clk_now_ns(CLOCK_REALTIME);
}

/*
 * Create the missing directories above PATH with MODE, like mkdir -p of
 * its dirname. Returns the length of the first directory it created (all
 * below it are its own too), or 0 when it created none.
 */
static size_t make_parent(const char *path, mode_t mode)
{
	char d[CFG_PATH_MAX];
	size_t made = 0;
	char *s;

	snprintf(d, sizeof(d), "%s", path);
	for (s = d + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(d, mode) == 0) {
			if (!made)
				made = strlen(d);
		} else if (errno != EEXIST) {
			break; /* bind will report the real problem */
		}
		*s = '/';
	}
	return made;
}

/*
 * Remove the directories above PATH, deepest first, down to the one of
 * length MADE (the first make_parent created); stops at the first that
 * is not empty or cannot go.
 */
static void remove_made(const char *path, size_t made)
{
	char d[CFG_PATH_MAX];
	char *s;

	if (!made)
		return;
	snprintf(d, sizeof(d), "%s", path);
	while ((s = strrchr(d, '/')) != NULL && s > d) {
		*s = '\0';
		if (strlen(d) < made || rmdir(d) < 0)
			return;
	}
}

/*
 * 0 when the directory of PATH is a directory (not a link) of horod's
 * effective user that nobody else may write: a socket in /tmp/horod-UID
 * must not sit in a directory another user made first. Else -1, logged.
 */
static int check_private_dir(const char *path)
{
	char d[CFG_PATH_MAX];
	struct stat st;
	char *s;

	snprintf(d, sizeof(d), "%s", path);
	s = strrchr(d, '/');
	if (s && s > d)
		*s = '\0';
	if (lstat(d, &st) < 0) {
		log_msg(LOG_WARNING,
			"control socket directory %s: %s; horoctl cannot reach this horod", d,
			strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		log_msg(LOG_WARNING,
			"control socket directory %s is not a directory of uid %u that only it may "
			"write (owner uid %u, mode %04o); horoctl cannot reach this horod",
			d, (unsigned)geteuid(), (unsigned)st.st_uid,
			(unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static int open_unix(struct control *c, const char *path, int private_dir)
{
	struct sockaddr_un sa;
	size_t made;
	int fd, probe;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "control socket %s: path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	made = make_parent(path, private_dir ? CONTROL_DIR_PRIVATE : CONTROL_DIR_MODE);
	if (private_dir && check_private_dir(path) < 0) {
		remove_made(path, made);
		return -1;
	}
	/* A socket nobody answers on is stale (a crash); a live one belongs to another horod. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		log_msg(LOG_WARNING,
			"control socket %s: another horod is answering on it; "
			"horoctl cannot reach this one",
			path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, CONTROL_SOCK_MODE) < 0 || listen(fd, CONTROL_BACKLOG) < 0) {
		log_msg(LOG_WARNING, "control socket %s: %s; horoctl cannot reach this horod", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		remove_made(path, made);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->made = made;
	c->lfd = fd;
	log_msg(LOG_INFO, "control socket %s", path);
	return 0;
}

static int open_http(struct control *c, const struct horod_config *cfg)
{
	int fd, one = 1;

	fd = socket(cfg->control.metrics_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 ||
	    bind(fd, (const struct sockaddr *)&cfg->control.metrics_addr,
		 cfg->control.metrics_addrlen) < 0 ||
	    listen(fd, CONTROL_BACKLOG) < 0) {
		log_msg(LOG_ERR, "metrics listen: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	c->hfd = fd;
	return 0;
}

int control_open(struct control *c, const struct horod_config *cfg)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->lfd = -1;
	c->hfd = -1;
	c->cfg = cfg;
	for (i = 0; i < CONTROL_MAX_CONN; i++)
		c->conn[i].fd = -1;
	c->scratch = malloc(CTL_MAX_PAYLOAD);
	if (!c->scratch) {
		log_msg(LOG_ERR, "control: out of memory");
		return -1;
	}
	/* Serving time matters more than being inspectable: a control socket failure is a warning.
	 */
	if (cfg->control.path[0])
		open_unix(c, cfg->control.path, cfg->control.path_private);
	if (cfg->control.metrics_enabled && open_http(c, cfg) < 0)
		return -1;
	return 0;
}

void control_attach(struct control *c, struct clockd *cd, const struct ctr_block *ctr,
		    int n_workers)
{
	c->cd = cd;
	c->ctr = ctr;
	c->n_workers = n_workers;
}

static void conn_close(struct control_conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	free(k->tx);
	k->fd = -1;
	k->tx = NULL;
	k->rx_len = 0;
}

static void do_accept(struct control *c, int lfd, int http)
{
	int fd, i;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < CONTROL_MAX_CONN && c->conn[i].fd >= 0; i++)
		;
	if (i == CONTROL_MAX_CONN) {
		close(fd); /* all slots busy: the client sees EOF and may retry */
		return;
	}
	c->conn[i].fd = fd;
	c->conn[i].http = http;
	c->conn[i].rx_len = 0;
	c->conn[i].tx = NULL;
	c->conn[i].deadline = mono_ns() + CONTROL_IDLE_NS;
}

/* ---- answers ---------------------------------------------------------- */

/* Whether the served time is synchronized, from the snapshot. */
static int snap_synced(const struct clk_snapshot *s)
{
	return s->leap != NTP_LEAP_UNSYNC && s->stratum >= 1 && s->stratum <= 15;
}

static size_t answer_status(struct control *c, char *b, size_t len)
{
	struct clockd *cd = c->cd;
	struct clk_snapshot s;
	char refid[32];
	size_t p = 0;
	int64_t now = sys_ns();

	clk_snapshot_read(cd->pub, &s);
	p = ctl_kv_put(b, len, p, "synced", "%d", snap_synced(&s));
	p = ctl_kv_put(b, len, p, "stratum", "%d", s.stratum);
	p = ctl_kv_put(b, len, p, "leap", "%d", s.leap);
	p = ctl_kv_put(b, len, p, "refid", "%s",
		       ntp_refid_format(s.refid, s.stratum, refid, sizeof(refid)));
	p = ctl_kv_put(b, len, p, "root_delay", "%.9f", s.root_delay);
	p = ctl_kv_put(b, len, p, "root_dispersion", "%.9f", clk_snapshot_root_disp(&s, now));
	/* ntpstat's "time correct to within": root distance = delay/2 + dispersion. */
	p = ctl_kv_put(b, len, p, "root_distance", "%.9f",
		       s.root_delay / 2 + clk_snapshot_root_disp(&s, now));
	if (cd->use_core) {
		struct clk_tracking t;
		struct clk_source_info si;

		clk_core_tracking(cd->core, cd->drv->ops->now(cd->drv), &t);
		if (t.synced && t.sys_peer >= 0 &&
		    clk_core_source_info(cd->core, t.sys_peer, &si) == 0) {
			p = ctl_kv_put(b, len, p, "source", "ntp");
			p = ctl_kv_put(b, len, p, "server", "%s", si.name);
			p = ctl_kv_put(b, len, p, "poll", "%d", si.poll);
		} else {
			p = ctl_kv_put(b, len, p, "source", "%s",
				       snap_synced(&s) ? "local" : "none");
		}
	} else {
		p = ctl_kv_put(b, len, p, "source", "%s",
			       c->cfg->local.enabled && snap_synced(&s) ? "local" : "none");
	}
	return p;
}

static size_t answer_tracking(struct control *c, char *b, size_t len, int *status)
{
	struct clockd *cd = c->cd;
	struct clk_tracking t;
	struct clk_snapshot s;
	char refid[32];
	size_t p = 0;
	int64_t sys = sys_ns();

	clk_snapshot_read(cd->pub, &s);
	if (!cd->use_core) {
		/* The local reference: what the snapshot says, nothing is measured. */
		p = ctl_kv_put(b, len, p, "mode", "local");
		p = ctl_kv_put(b, len, p, "refid", "%s",
			       ntp_refid_format(s.refid, s.stratum, refid, sizeof(refid)));
		p = ctl_kv_put(b, len, p, "stratum", "%d", s.stratum);
		p = ctl_kv_put(b, len, p, "leap", "%d", s.leap);
		p = ctl_kv_put(b, len, p, "synced", "%d", snap_synced(&s));
		p = ctl_kv_put(b, len, p, "ref_time", "%.9f", s.ref_ns / 1e9);
		p = ctl_kv_put(b, len, p, "root_delay", "%.9f", s.root_delay);
		p = ctl_kv_put(b, len, p, "root_dispersion", "%.9f",
			       clk_snapshot_root_disp(&s, sys));
		*status = CTL_S_OK;
		return p;
	}
	clk_core_tracking(cd->core, cd->drv->ops->now(cd->drv), &t);
	p = ctl_kv_put(b, len, p, "mode", "ntp");
	p = ctl_kv_put(b, len, p, "refid", "%s",
		       ntp_refid_format(t.refid, t.stratum, refid, sizeof(refid)));
	p = ctl_kv_put(b, len, p, "refid_hex", "%08x", t.refid);
	p = ctl_kv_put(b, len, p, "stratum", "%d", t.stratum);
	p = ctl_kv_put(b, len, p, "leap", "%d", t.leap);
	p = ctl_kv_put(b, len, p, "synced", "%d", t.synced);
	p = ctl_kv_put(b, len, p, "ref_time", "%.9f", t.ref_ns / 1e9);
	/* System time offset: served time minus the system clock, now. */
	p = ctl_kv_put(b, len, p, "system_offset", "%.9f",
		       (double)(clk_snapshot_served(&s, sys) - sys) / 1e9);
	p = ctl_kv_put(b, len, p, "last_offset", "%.9f", t.offset);
	p = ctl_kv_put(b, len, p, "rms_offset", "%.9f", t.rms_offset);
	p = ctl_kv_put(b, len, p, "frequency", "%.6f", t.freq_ppm);
	p = ctl_kv_put(b, len, p, "residual_frequency", "%.6f", t.residual_freq_ppm);
	p = ctl_kv_put(b, len, p, "skew", "%.6f", t.skew_ppm);
	p = ctl_kv_put(b, len, p, "root_delay", "%.9f", t.root_delay);
	p = ctl_kv_put(b, len, p, "root_dispersion", "%.9f", t.root_disp);
	p = ctl_kv_put(b, len, p, "update_interval", "%.3f", t.update_interval);
	p = ctl_kv_put(b, len, p, "updates", "%d", t.updates);
	p = ctl_kv_put(b, len, p, "steps", "%d", t.steps);
	p = ctl_kv_put(b, len, p, "driver", "%s", cd->drv->ops->name);
	if (cd->drv->ops->true_error)
		p = ctl_kv_put(
			b, len, p, "true_error", "%.9f",
			cd->drv->ops->true_error(cd->drv, clk_snapshot_served(&s, sys), sys));
	*status = CTL_S_OK;
	return p;
}

static size_t answer_sources(struct control *c, char *b, size_t len)
{
	struct clockd *cd = c->cd;
	size_t p = 0;
	int i, n = cd->use_core ? clk_core_n_sources(cd->core) : 0;
	int64_t now = cd->use_core ? cd->drv->ops->now(cd->drv) : 0;

	p = ctl_kv_put(b, len, p, "sources", "%d", n);
	for (i = 0; i < n; i++) {
		struct clk_source_info si;
		char k[32], refid[32];

		if (clk_core_source_info(cd->core, i, &si) < 0)
			continue;
#define SRC_KV(key, ...)                                                                           \
	do {                                                                                       \
		snprintf(k, sizeof(k), "s%d." key, i);                                             \
		p = ctl_kv_put(b, len, p, k, __VA_ARGS__);                                         \
	} while (0)
		SRC_KV("name", "%s", si.name);
		SRC_KV("tally", "%c", si.tally == ' ' ? '_' : si.tally);
		SRC_KV("refid", "%s", ntp_refid_format(si.refid, si.stratum, refid, sizeof(refid)));
		SRC_KV("stratum", "%d", si.stratum);
		SRC_KV("poll", "%d", si.poll);
		SRC_KV("reach", "%u", si.reach);
		SRC_KV("when", "%lld",
		       si.last_rx ? (long long)((now - si.last_rx) / NS_PER_SEC) : -1LL);
		SRC_KV("delay", "%.9f", si.delay);
		SRC_KV("offset", "%.9f", si.offset);
		SRC_KV("jitter", "%.9f", si.jitter);
		SRC_KV("dispersion", "%.9f", si.dispersion);
		SRC_KV("root_distance", "%.9f", si.root_distance);
		SRC_KV("flash", "%u", si.flash);
		SRC_KV("leap", "%d", si.leap);
#undef SRC_KV
	}
	return p;
}

static size_t answer_serverstats(struct control *c, char *b, size_t len)
{
	struct ctr_totals t;
	size_t p = 0;
	int i, r;

	p = ctl_kv_put(b, len, p, "workers", "%d", c->n_workers);
	for (i = -1; i < c->n_workers; i++) {
		uint64_t ans = 0, drop = 0;
		char k[48], pre[16];

		/* i = -1: the totals, unprefixed; then each worker as wN. */
		ctr_sum(i < 0 ? c->ctr : c->ctr + i, i < 0 ? c->n_workers : 1, &t);
		if (i < 0)
			xg_totals_add(&t); /* the totals count what XDP consumed */
		snprintf(pre, sizeof(pre), i < 0 ? "" : "w%d.", i);
		for (r = 0; r < NTP_REASON_MAX; r++) {
			if (ntp_reason_is_reply((enum ntp_reason)r))
				ans += t.reason[r];
			else
				drop += t.reason[r];
		}
		snprintf(k, sizeof(k), "%sreceived", pre);
		p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.received);
		snprintf(k, sizeof(k), "%sanswered", pre);
		p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)ans);
		snprintf(k, sizeof(k), "%sdropped", pre);
		p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)drop);
		for (r = 0; r < CTR_TS_MAX; r++) {
			snprintf(k, sizeof(k), "%sts.%s", pre, ctr_tsrc_name((enum ctr_tsrc)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.tsrc[r]);
		}
		if (i >= 0)
			continue;
		p = ctl_kv_put(b, len, p, "xdp", "%llu", (unsigned long long)t.xdp);
		for (r = 0; r < NTP_REASON_MAX; r++) {
			snprintf(k, sizeof(k), "reason.%s", ntp_reason_name((enum ntp_reason)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.reason[r]);
		}
		/* Authenticated requests and NTS-KE sessions by outcome (daemon/auth/). */
		ctr_add_ke(&t, c->auth);
		p = ctl_kv_put(b, len, p, "nts_server", "%d", c->auth && c->auth->kes_open);
		p = ctl_kv_put(b, len, p, "symmetric_keys", "%d", c->auth ? c->auth->keys.n : 0);
		for (r = 0; r < AUTH_OUTCOME_MAX; r++) {
			snprintf(k, sizeof(k), "auth.%s", auth_outcome_name((enum auth_outcome)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.auth[r]);
		}
		for (r = 0; r < KES_OUTCOME_MAX; r++) {
			snprintf(k, sizeof(k), "ke.%s", kes_outcome_name((enum kes_outcome)r));
			p = ctl_kv_put(b, len, p, k, "%llu", (unsigned long long)t.ke[r]);
		}
	}
	return p;
}

/* A gauge family with one unlabelled sample. */
static void gauge(struct ntp_text *o, const char *name, const char *help, double v)
{
	prom_family(o, name, "gauge", help);
	prom_sample(o, name, NULL, NULL, v);
}

static void counter(struct ntp_text *o, const char *name, const char *help, uint64_t v)
{
	prom_family(o, name, "counter", help);
	prom_sample_u64(o, name, NULL, NULL, v);
}

/* Per-source gauges: one family each, one sample per source. */
static void source_metrics(struct ntp_text *o, struct clockd *cd)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		{"horod_source_selected", "1 for the system peer (tally *), else 0."},
		{"horod_source_stratum", "Stratum the source advertises."},
		{"horod_source_reach",
		 "Reach register of the source (8 bits, newest poll in bit 0)."},
		{"horod_source_poll_seconds", "Current poll interval of the source."},
		{"horod_source_offset_seconds", "Offset of the source (source minus us)."},
		{"horod_source_delay_seconds", "Round-trip delay of the selected filter sample."},
		{"horod_source_jitter_seconds", "Jitter of the source."},
		{"horod_source_root_distance_seconds", "Root distance of the source."},
		{"horod_source_flash",
		 "Flash bits of the last reply (0: all RFC 5905 tests passed)."},
	};
	int f, i, n = clk_core_n_sources(cd->core);

	for (f = 0; f < (int)(sizeof(fam) / sizeof(fam[0])); f++) {
		prom_family(o, fam[f].name, "gauge", fam[f].help);
		for (i = 0; i < n; i++) {
			struct clk_source_info si;
			double v[] = {0, 0, 0, 0, 0, 0, 0, 0, 0};

			if (clk_core_source_info(cd->core, i, &si) < 0)
				continue;
			v[0] = si.tally == '*';
			v[1] = si.stratum;
			v[2] = si.reach;
			v[3] = ldexp(1.0, si.poll);
			v[4] = si.offset;
			v[5] = si.delay;
			v[6] = si.jitter;
			v[7] = si.root_distance;
			v[8] = si.flash;
			prom_sample(o, fam[f].name, "source", si.name, v[f]);
		}
	}
}

/* Every counter and gauge, in the Prometheus text format, into BUF; returns the length wanted. */
static size_t answer_metrics(struct control *c, char *buf, size_t len)
{
	struct clockd *cd = c->cd;
	struct ctr_totals t;
	struct clk_snapshot s;
	struct ntp_text o;
	int64_t sys = sys_ns();
	int i;

	ntp_text_init(&o, buf, len);
	ctr_sum(c->ctr, c->n_workers, &t);
	xg_totals_add(&t);
	counter(&o, "horod_requests_received_total",
		"Datagrams seen: dequeued by the workers or consumed by the XDP guard.",
		t.received);
	counter(&o, "horod_requests_xdp_total",
		"Of those, consumed by the XDP guard: dropped, or answered (KoD, guard serve).",
		t.xdp);
	prom_family(&o, "horod_requests_total", "counter",
		    "Requests by outcome (reply_*, drop_*), see proto/reason.h.");
	for (i = 0; i < NTP_REASON_MAX; i++)
		prom_sample_u64(&o, "horod_requests_total", "reason",
				ntp_reason_name((enum ntp_reason)i), t.reason[i]);
	prom_family(&o, "horod_auth_requests_total", "counter",
		    "NTS and symmetric-key (MAC) requests by outcome (nts_*, mac_*), see "
		    "daemon/auth/auth.h.");
	for (i = 0; i < AUTH_OUTCOME_MAX; i++)
		prom_sample_u64(&o, "horod_auth_requests_total", "outcome",
				auth_outcome_name((enum auth_outcome)i), t.auth[i]);
	ctr_add_ke(&t, c->auth);
	prom_family(&o, "horod_ntske_sessions_total", "counter",
		    "NTS-KE sessions by outcome, see daemon/auth/keserver.h.");
	for (i = 0; i < KES_OUTCOME_MAX; i++)
		prom_sample_u64(&o, "horod_ntske_sessions_total", "outcome",
				kes_outcome_name((enum kes_outcome)i), t.ke[i]);
	prom_family(&o, "horod_rx_timestamps_total", "counter",
		    "Requests by receive timestamp source.");
	for (i = 0; i < CTR_TS_MAX; i++)
		prom_sample_u64(&o, "horod_rx_timestamps_total", "source",
				ctr_tsrc_name((enum ctr_tsrc)i), t.tsrc[i]);
	prom_family(&o, "horod_worker_requests_received_total", "counter",
		    "Datagrams dequeued by each worker.");
	for (i = 0; i < c->n_workers; i++) {
		struct ctr_totals w;
		char id[16];

		ctr_sum(c->ctr + i, 1, &w);
		snprintf(id, sizeof(id), "%d", i);
		prom_sample_u64(&o, "horod_worker_requests_received_total", "worker", id,
				w.received);
	}

	clk_snapshot_read(cd->pub, &s);
	gauge(&o, "horod_synchronized", "1 when the served time is synchronized.", snap_synced(&s));
	gauge(&o, "horod_stratum", "Stratum served.", s.stratum);
	gauge(&o, "horod_leap", "Leap indicator served (3: unsynchronized).", s.leap);
	gauge(&o, "horod_root_delay_seconds", "Root delay served.", s.root_delay);
	gauge(&o, "horod_root_dispersion_seconds", "Root dispersion served, now.",
	      clk_snapshot_root_disp(&s, sys));
	if (cd->use_core) {
		struct clk_tracking tr;

		clk_core_tracking(cd->core, cd->drv->ops->now(cd->drv), &tr);
		gauge(&o, "horod_offset_seconds", "Last combined offset of the sources.",
		      tr.offset);
		gauge(&o, "horod_rms_offset_seconds", "RMS of the recent offsets.", tr.rms_offset);
		gauge(&o, "horod_frequency_ppm", "Frequency correction of the clock.", tr.freq_ppm);
		gauge(&o, "horod_residual_frequency_ppm", "Residual frequency error.",
		      tr.residual_freq_ppm);
		gauge(&o, "horod_skew_ppm", "Estimated error bound of the frequency.", tr.skew_ppm);
		gauge(&o, "horod_update_interval_seconds",
		      "Time between the last two clock updates.", tr.update_interval);
		counter(&o, "horod_clock_updates_total", "Clock updates done.",
			(uint64_t)(tr.updates > 0 ? tr.updates : 0));
		counter(&o, "horod_clock_steps_total", "Clock steps taken.",
			(uint64_t)(tr.steps > 0 ? tr.steps : 0));
		if (cd->drv->ops->true_error)
			gauge(&o, "horod_true_error_seconds",
			      "Served time minus the truth (sim driver only).",
			      cd->drv->ops->true_error(cd->drv, clk_snapshot_served(&s, sys), sys));
		counter(&o, "horod_upstream_sent_total", "Requests sent to upstream sources.",
			cd->up.stats.sent);
		counter(&o, "horod_upstream_received_total", "Replies received from upstream.",
			cd->up.stats.received);
		counter(&o, "horod_upstream_valid_total", "Upstream replies that gave a sample.",
			cd->up.stats.valid);
		counter(&o, "horod_upstream_bogus_total", "Upstream replies with a bad origin.",
			cd->up.stats.bogus);
		counter(&o, "horod_upstream_kod_total", "Kiss-o'-death replies from upstream.",
			cd->up.stats.kod);
		source_metrics(&o, cd);
	}
	return o.len;
}

/* The busiest clients of every worker's client log, merged (clientlog.h). */
static size_t answer_clients(struct control *c, char *b, size_t len, int *status)
{
	struct clog *logs[CFG_MAX_WORKERS];
	struct clog_client *top;
	int64_t now = sys_ns();
	int i, n, total, nl = 0;
	size_t p = 0;

	for (i = 0; i < c->n_workers && nl < CFG_MAX_WORKERS; i++)
		logs[nl++] = c->ctr[i].clog;
	top = malloc(sizeof(*top) * CLOG_TOP_MAX);
	if (!top) {
		*status = CTL_S_UNAVAILABLE;
		return 0;
	}
	n = clog_top(logs, nl, top, CLOG_TOP_MAX, &total);
	p = ctl_kv_put(b, len, p, "clients", "%d", n);
	p = ctl_kv_put(b, len, p, "tracked", "%d", total);
	p = ctl_kv_put(b, len, p, "capacity", "%d", nl * CLOG_SLOTS);
	for (i = 0; i < n; i++) {
		char k[32], a[INET6_ADDRSTRLEN];

		if (!inet_ntop(top[i].family, top[i].addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
#define CL_KV(key, ...)                                                                            \
	do {                                                                                       \
		snprintf(k, sizeof(k), "c%d." key, i);                                             \
		p = ctl_kv_put(b, len, p, k, __VA_ARGS__);                                         \
	} while (0)
		CL_KV("address", "%s", a);
		CL_KV("requests", "%llu", (unsigned long long)top[i].requests);
		CL_KV("dropped", "%llu", (unsigned long long)top[i].drops);
		CL_KV("last", "%.3f", (double)(now - top[i].last_ns) / 1e9);
		CL_KV("interval", "%.3f", (double)top[i].ival_ns / 1e9);
#undef CL_KV
	}
	free(top);
	return p;
}

size_t control_answer(struct control *c, int cmd, char *buf, size_t len, int *status)
{
	*status = CTL_S_OK;
	switch (cmd) {
	case CTL_CMD_STATUS:
		return answer_status(c, buf, len);
	case CTL_CMD_TRACKING:
		return answer_tracking(c, buf, len, status);
	case CTL_CMD_SOURCES:
		return answer_sources(c, buf, len);
	case CTL_CMD_SERVERSTATS:
		return answer_serverstats(c, buf, len);
	case CTL_CMD_CONFIG:
		return cfg_format(c->cfg, buf, len);
	case CTL_CMD_METRICS:
		return answer_metrics(c, buf, len);
	case CTL_CMD_CLIENTS:
		return answer_clients(c, buf, len, status);
	default:
		*status = CTL_S_UNKNOWN_CMD;
		return 0;
	}
}

/* ---- connections ------------------------------------------------------ */

/* Queue HEAD (HLEN bytes) then BODY (BLEN bytes) as K's answer. */
static void conn_reply(struct control_conn *k, const void *head, size_t hlen, const void *body,
		       size_t blen)
{
	k->tx = malloc(hlen + blen);
	if (!k->tx) {
		conn_close(k);
		return;
	}
	memcpy(k->tx, head, hlen);
	if (blen)
		memcpy(k->tx + hlen, body, blen);
	k->tx_len = hlen + blen;
	k->tx_off = 0;
}

static void ctl_reply(struct control *c, struct control_conn *k, int cmd, int status,
		      const char *body, size_t blen)
{
	struct ctl_header h = {CTL_VERSION, CTL_T_RESPONSE, (uint8_t)cmd, (uint8_t)status,
			       (uint32_t)blen};
	uint8_t hb[CTL_HDR_LEN];

	(void)c;
	ctl_header_encode(&h, hb);
	conn_reply(k, hb, sizeof(hb), body, blen);
}

static void ctl_request(struct control *c, struct control_conn *k)
{
	struct ctl_msg m;
	size_t n;
	int r, status;

	r = ctl_decode(k->rx, k->rx_len, CTL_T_REQUEST, &m);
	if (r == 0)
		return; /* more to come */
	if (r < 0) {
		const char *why = ctl_err_text(r);

		ctl_reply(c, k, k->rx_len > 6 && r == CTL_E_COMMAND ? k->rx[6] : 0,
			  r == CTL_E_COMMAND ? CTL_S_UNKNOWN_CMD : CTL_S_BAD_REQUEST, why,
			  strlen(why));
		return;
	}
	n = control_answer(c, m.h.command, c->scratch, CTL_MAX_PAYLOAD, &status);
	if (n >= CTL_MAX_PAYLOAD) {
		ctl_reply(c, k, m.h.command, CTL_S_TOO_LARGE, NULL, 0);
		return;
	}
	ctl_reply(c, k, m.h.command, status, c->scratch, n);
}

static void http_error(struct control_conn *k, const char *status, const char *extra)
{
	char h[256];
	int n = snprintf(h, sizeof(h),
			 "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "%sConnection: close\r\n\r\n%s\n",
			 status, strlen(status) + 1, extra, status);

	conn_reply(k, h, (size_t)n, NULL, 0);
}

static void http_request(struct control *c, struct control_conn *k)
{
	const char *rx = (const char *)k->rx, *sp1, *sp2, *eol;
	char head[256];
	size_t n;
	int hl;

	/* Wait for the end of the head; a head that does not fit is refused. */
	if (!memmem(rx, k->rx_len, "\r\n\r\n", 4) && !memmem(rx, k->rx_len, "\n\n", 2)) {
		if (k->rx_len >= sizeof(k->rx))
			http_error(k, "431 Request Header Fields Too Large", "");
		return;
	}
	eol = memchr(rx, '\n', k->rx_len);
	sp1 = memchr(rx, ' ', (size_t)(eol - rx));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || (size_t)(eol - sp2) < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		http_error(k, "400 Bad Request", "");
		return;
	}
	if (sp1 - rx != 3 || memcmp(rx, "GET", 3) != 0) {
		http_error(k, "405 Method Not Allowed", "Allow: GET\r\n");
		return;
	}
	if (sp2 - sp1 - 1 != 8 || memcmp(sp1 + 1, "/metrics", 8) != 0) {
		http_error(k, "404 Not Found", "");
		return;
	}
	n = answer_metrics(c, c->scratch, CTL_MAX_PAYLOAD);
	if (n >= CTL_MAX_PAYLOAD) {
		http_error(k, "500 Internal Server Error", "");
		return;
	}
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.0 200 OK\r\nContent-Type: " PROM_CONTENT_TYPE
		      "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		      n);
	conn_reply(k, head, (size_t)hl, c->scratch, n);
}

static void conn_read(struct control *c, struct control_conn *k)
{
	size_t cap = k->http ? sizeof(k->rx) : CTL_HDR_LEN + CTL_MAX_REQUEST;
	ssize_t r;

	if (k->tx)
		return; /* answered: whatever else the peer sends is ignored */
	r = read(k->fd, k->rx + k->rx_len, cap - k->rx_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_close(k);
		return;
	}
	k->rx_len += (size_t)r;
	if (k->http)
		http_request(c, k);
	else
		ctl_request(c, k);
}

static void conn_write(struct control_conn *k)
{
	ssize_t r;

	if (!k->tx)
		return;
	r = send(k->fd, k->tx + k->tx_off, k->tx_len - k->tx_off, MSG_NOSIGNAL);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_close(k);
		return;
	}
	k->tx_off += (size_t)r;
	if (k->tx_off == k->tx_len)
		conn_close(k); /* one answer per connection */
}

int control_pollfds(struct control *c, struct pollfd *pfd, int max)
{
	int64_t now = mono_ns();
	int n = 0, i;

	c->n_slot = 0;
	if (c->lfd >= 0 && n < max) {
		pfd[n].fd = c->lfd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		c->slot[n++] = -1;
	}
	if (c->hfd >= 0 && n < max) {
		pfd[n].fd = c->hfd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		c->slot[n++] = -2;
	}
	for (i = 0; i < CONTROL_MAX_CONN && n < max && n < CONTROL_MAX_FDS; i++) {
		struct control_conn *k = &c->conn[i];

		if (k->fd < 0)
			continue;
		if (now > k->deadline) {
			conn_close(k);
			continue;
		}
		pfd[n].fd = k->fd;
		pfd[n].events = k->tx ? POLLOUT : POLLIN;
		pfd[n].revents = 0;
		c->slot[n++] = i;
	}
	c->n_slot = n;
	return n;
}

void control_handle(struct control *c, const struct pollfd *pfd, int n)
{
	int i;

	if (!c->cd)
		return;
	for (i = 0; i < n && i < c->n_slot; i++) {
		struct control_conn *k;

		if (!pfd[i].revents)
			continue;
		if (c->slot[i] == -1) {
			do_accept(c, c->lfd, 0);
			continue;
		}
		if (c->slot[i] == -2) {
			do_accept(c, c->hfd, 1);
			continue;
		}
		k = &c->conn[c->slot[i]];
		if (k->fd != pfd[i].fd)
			continue;
		if (pfd[i].revents & POLLOUT)
			conn_write(k);
		else if (pfd[i].revents & POLLIN)
			conn_read(c, k);
		else
			conn_close(k); /* POLLHUP, POLLERR or POLLNVAL alone: the peer is gone */
	}
}

void control_close(struct control *c)
{
	int i;

	for (i = 0; i < CONTROL_MAX_CONN; i++)
		if (c->conn[i].fd >= 0)
			conn_close(&c->conn[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->hfd >= 0)
		close(c->hfd);
	if (c->path[0]) {
		unlink(c->path);
		remove_made(c->path, c->made);
	}
	c->lfd = c->hfd = -1;
	c->path[0] = '\0';
	c->made = 0;
	free(c->scratch);
	c->scratch = NULL;
}
