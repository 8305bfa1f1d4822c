/*
 * Mode 6 in the daemon: the read-only answers ntpq and ntpstat ask for,
 * to the requests the workers queued (daemon/serve/m6queue.c).
 * Variable names, units and formats are those ntpq parses: times in
 * milliseconds, frequencies in ppm, timestamps as 0xSECONDS.FRACTION,
 * reach in hex, refids as text. Association ids are the source's position
 * in the clock thread's source list (report.h) plus one; a reference
 * clock is shown as ntpd shows its own (srcadr 127.127.TYPE.UNIT, srchost
 * "SHM(0)").
 */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock/kclock.h"
#include "clock/leapsec.h"
#include "clock/snapshot.h"
#include "daemon/clockd/report.h"
#include "daemon/control/m6srv.h"
#include "proto/mode6.h"
#include "proto/ntp.h"

/* Clock source codes of the system status word (ntpstat names them). */
#define M6_SRC_UNSPEC 0 /* "unspecified": not synchronized */
#define M6_SRC_PPS    1 /* RFC 1305's "PPS signal" (ntpstat: "atomic clock"): PPS and PHC */
#define M6_SRC_UHF    4 /* "UHF radio": what ntpd's GPS drivers say; SHM and SOCK (gpsd) */
#define M6_SRC_LOCAL  5 /* "local net": the local reference */
#define M6_SRC_NTP    6 /* "NTP server" */
/* 127.127.TYPE.UNIT: the address ntpd gives a reference clock (mode 6's srcadr) */
#define M6_REFCLOCK_NET "127.127"

#define MS(x) ((x)*1e3) /* s -> ms, the unit ntpq shows delays and offsets in */

/* ---- answers ------------------------------------------------------------ */

static void put_ts(struct m6_vars *v, const char *name, int64_t unix_ns)
{
	char b[32];

	m6_fmt_ts(unix_ns ? ntp_ts_from_unix_ns(unix_ns) : 0, b, sizeof(b));
	m6_var(v, name, "%s", b);
}

static void put_refid(struct m6_vars *v, uint32_t refid, int stratum)
{
	char b[32];

	/* ntpq shows the text as sent; a kiss code or reference id at stratum 0/1 is ASCII. */
	m6_var(v, "refid", "%s", ntp_refid_format(refid, stratum, b, sizeof(b)));
}

static int min_poll(const struct horod_config *cfg)
{
	int i, m = 17;

	for (i = 0; i < cfg->clk.n_servers; i++)
		if (cfg->clk.servers[i].minpoll < m)
			m = cfg->clk.servers[i].minpoll;
	for (i = 0; i < cfg->clk.n_refclocks; i++)
		if (cfg->clk.refclocks[i].poll < m)
			m = cfg->clk.refclocks[i].poll;
	return cfg->clk.n_servers || cfg->clk.n_refclocks ? m : 6;
}

/* The source code of the system peer SI: a reference clock's kind, or an NTP server. */
static unsigned peer_source(const struct clockd_source *si)
{
	if (si->kind != CLK_KIND_REFCLOCK)
		return M6_SRC_NTP;
	return strcmp(si->rc_driver, "PPS") == 0 || strcmp(si->rc_driver, "PHC") == 0 ? M6_SRC_PPS
										      : M6_SRC_UHF;
}

static uint16_t sys_status(const struct m6srv *m, const struct clockd_tracking *t)
{
	const struct clk_snapshot *s = &t->snap;
	struct clockd_source si;
	unsigned src = M6_SRC_UNSPEC;

	/* Served from the local reference (its refid), a reference clock or an NTP server. */
	if (s->leap != NTP_LEAP_UNSYNC && s->stratum >= 1 && s->stratum <= 15) {
		src = s->refid == ntp_refid_ascii("LOCL") ? M6_SRC_LOCAL : M6_SRC_NTP;
		if (src == M6_SRC_NTP && t->synced && t->sys_peer >= 0 &&
		    clockd_report_source(m->cd, t->sys_peer, &si) == 0)
			src = peer_source(&si);
	}
	return m6_sys_status((unsigned)s->leap, src, 0, 0);
}

static void system_vars(const struct m6srv *m, struct m6_vars *v, const struct clockd_tracking *t)
{
	const struct clk_snapshot *s = &t->snap;
	int64_t now = clk_now_ns(CLOCK_REALTIME);
	struct clockd_source si;
	int tc = min_poll(m->cfg);

	if (t->sys_peer >= 0 && clockd_report_source(m->cd, t->sys_peer, &si) == 0)
		tc = si.poll;
	m6_var_str(v, "version", "horod " HOROD_VERSION);
	m6_var_str(v, "system", "Linux");
	m6_var(v, "leap", "%d", s->leap);
	m6_var(v, "stratum", "%d", s->stratum);
	m6_var(v, "precision", "%d", s->precision);
	m6_var(v, "rootdelay", "%.6f", MS(s->root_delay));
	m6_var(v, "rootdisp", "%.6f", MS(clk_snapshot_root_disp(s, now)));
	put_refid(v, s->refid, s->stratum);
	put_ts(v, "reftime", s->ref_ns);
	put_ts(v, "clock", clk_snapshot_served(s, now));
	m6_var(v, "peer", "%d", t->synced && t->sys_peer >= 0 ? t->sys_peer + 1 : 0);
	m6_var(v, "tc", "%d", tc);
	m6_var(v, "mintc", "%d", min_poll(m->cfg));
	m6_var(v, "offset", "%.6f", MS(t->offset));
	m6_var(v, "frequency", "%.6f", t->freq_ppm);
	m6_var(v, "sys_jitter", "%.6f", MS(t->rms_offset));
	m6_var(v, "clk_jitter", "%.6f", MS(t->rms_offset));
	m6_var(v, "clk_wander", "%.6f", t->skew_ppm);
	/* ntpd's names: the smear interval (s) and the smear's offset now (ms, smeared - UTC) */
	if (t->leapmode == CLK_LEAPMODE_SMEAR) {
		m6_var(v, "leapsmearinterval", "%lld", (long long)t->smear_s);
		m6_var(v, "leapsmearoffset", "%.6f", MS(t->smear_offset));
	}
}

static unsigned sel_of(char tally)
{
	switch (tally) {
	case '*':
		return M6_SEL_SYSPEER;
	case '+':
		return M6_SEL_CANDIDATE;
	case '#':
		return M6_SEL_BACKUP;
	case '-':
		return M6_SEL_OUTLIER;
	case 'x':
		return M6_SEL_FALSETICK;
	case '.':
		return M6_SEL_EXCESS;
	default:
		return M6_SEL_REJECT;
	}
}

static uint16_t peer_status(const struct clockd_source *si)
{
	unsigned bits = 0;

	if (si->configured)
		bits |= M6_PST_CONFIG;
	if (si->reach)
		bits |= M6_PST_REACH;
	return m6_peer_status(bits, sel_of(si->tally), 0, 0);
}

static void put_list(struct m6_vars *v, const char *name, const double *x, int n)
{
	char b[8 * 16 + 1];
	size_t p = 0;
	int i;

	b[0] = 0;
	for (i = 0; i < n && p < sizeof(b); i++)
		p += (size_t)snprintf(b + p, sizeof(b) - p, "%s%.3f", i ? " " : "", MS(x[i]));
	m6_var(v, name, "%s", b);
}

static void peer_vars(const struct m6srv *m, int i, const struct clockd_source *si,
		      struct m6_vars *v)
{
	struct clockd_filter f;

	if (si->kind == CLK_KIND_REFCLOCK) {
		/* As ntpd and NTPsec show a reference clock: 127.127.TYPE.UNIT, and a srchost
		 * with parentheses ("SHM(0)"), which NTPsec's ntpq -p shows as its name,
		 * type l. */
		m6_var(v, "srcadr", M6_REFCLOCK_NET ".%d.%d", si->rc_type, si->rc_unit);
		m6_var(v, "srcport", "%d", 123);
		m6_var_str(v, "srchost", si->rc_srchost);
		m6_var(v, "dstadr", "%s", "127.0.0.1");
	} else {
		/* Unresolved (or no address at all): ntpq is shown 0.0.0.0 port 123. */
		m6_var(v, "srcadr", "%s", si->addr[0] ? si->addr : "0.0.0.0");
		m6_var(v, "srcport", "%d", si->addr[0] ? si->port : 123);
		m6_var_str(v, "srchost", si->name);
		/* A fresh socket per request: no fixed local address to show. */
		m6_var(v, "dstadr", "%s", si->v6 ? "::" : "0.0.0.0");
	}
	m6_var(v, "leap", "%d", si->leap);
	m6_var(v, "stratum", "%d", si->stratum);
	m6_var(v, "precision", "%d", si->precision);
	m6_var(v, "rootdelay", "%.3f", MS(si->root_delay));
	m6_var(v, "rootdisp", "%.3f", MS(si->root_disp));
	put_refid(v, si->refid, si->stratum);
	m6_var(v, "reach", "0x%02x", si->reach);
	m6_var(v, "unreach", "%d", si->unanswered);
	m6_var(v, "hmode", "%d", 3); /* we are its client */
	m6_var(v, "pmode", "%d", 4); /* it answers as a server */
	m6_var(v, "hpoll", "%d", si->poll);
	m6_var(v, "ppoll", "%d", si->poll);
	/* Last reception, as an NTP timestamp (ntpq's "when"). */
	put_ts(v, "rec", si->since_rx_ns >= 0 ? clk_now_ns(CLOCK_REALTIME) - si->since_rx_ns : 0);
	m6_var(v, "flash", "0x%x", si->flash);
	m6_var(v, "offset", "%.6f", MS(si->offset));
	m6_var(v, "delay", "%.6f", MS(si->delay));
	m6_var(v, "dispersion", "%.6f", MS(si->dispersion));
	m6_var(v, "jitter", "%.6f", MS(si->jitter));
	clockd_report_filter(m->cd, i, &f);
	put_list(v, "filtdelay", f.delay, f.n);
	put_list(v, "filtoffset", f.offset, f.n);
	put_list(v, "filtdisp", f.disp, f.n);
}

long m6srv_answer(const struct m6srv *m, const struct m6_request *rq, char *text, size_t cap,
		  uint16_t *status, int *err)
{
	struct clockd_tracking t;
	struct m6_vars v;
	int n;

	clockd_report_tracking(m->cd, &t);
	n = t.n_sources;
	switch (rq->opcode) {
	case M6_OP_READSTAT:
		if (rq->assoc == 0) {
			size_t p = 0;
			int i;

			/* The association list: (id, peer status) pairs. */
			for (i = 0; i < n && p + 4 <= cap; i++) {
				struct clockd_source si;
				uint16_t st;

				if (clockd_report_source(m->cd, i, &si) < 0)
					continue;
				st = peer_status(&si);
				text[p++] = (char)((i + 1) >> 8);
				text[p++] = (char)((i + 1) & 0xff);
				text[p++] = (char)(st >> 8);
				text[p++] = (char)(st & 0xff);
			}
			*status = sys_status(m, &t);
			return (long)p;
		}
		/* The status of one association is its variables. */
		__attribute__((fallthrough));
	case M6_OP_READVAR:
		m6_vars_init(&v, text, cap, rq->data, rq->data_len);
		if (rq->assoc == 0) {
			system_vars(m, &v, &t);
			*status = sys_status(m, &t);
		} else {
			struct clockd_source si;
			int id = rq->assoc - 1;

			if (id >= n || clockd_report_source(m->cd, id, &si) < 0) {
				*err = M6_ERR_BADASSOC;
				return -1;
			}
			peer_vars(m, id, &si, &v);
			*status = peer_status(&si);
		}
		if (m6_vars_unknown(&v)) {
			*err = M6_ERR_UNKNOWNVAR;
			return -1;
		}
		return (long)v.len;
	case M6_OP_WRITEVAR:
	case M6_OP_WRITECLOCK:
		*err = M6_ERR_PERMISSION; /* read-only: nothing is ever written */
		return -1;
	default:
		*err = M6_ERR_BADOP;
		return -1;
	}
}

struct emit_ctx {
	struct m6_queue *q;
	const struct m6q_item *it;
};

static void emit(void *arg, const uint8_t *pkt, size_t len)
{
	struct emit_ctx *e = arg;

	if (sendto(e->it->fd, pkt, len, MSG_DONTWAIT, (const struct sockaddr *)&e->it->from,
		   e->it->alen) < 0)
		e->q->st.send_errors++;
	else
		e->q->st.fragments++;
}

static void answer_one(const struct m6srv *m, const struct m6q_item *it, char *text)
{
	struct m6_queue *q = m->q;
	struct emit_ctx e = {.q = q, .it = it};
	struct m6_request rq;
	uint16_t status = 0;
	int err = M6_ERR_UNSPEC;
	long n;

	if (m6_parse(it->pkt, it->len, &rq) < 0) {
		q->st.malformed++;
		return;
	}
	q->st.answered++;
	n = m6srv_answer(m, &rq, text, M6_TEXT_MAX, &status, &err);
	if (n < 0) {
		uint8_t pkt[M6_HEADER_LEN];
		size_t len = m6_error(&rq, (enum m6_err)err, pkt);

		q->st.errors++;
		emit(&e, pkt, len);
		return;
	}
	m6_respond(&rq, status, (const uint8_t *)text, (size_t)n, emit, &e);
}

void m6srv_init(struct m6srv *m, struct m6_queue *q, const struct horod_config *cfg,
		const struct clockd *cd)
{
	m->q = q;
	m->cfg = cfg;
	m->cd = cd;
}

void m6srv_drain(struct m6srv *m)
{
	static char text[M6_TEXT_MAX + 1]; /* the clock thread is the only caller */
	struct m6q_item it;
	int k;

	if (m6q_ack(m->q) < 0)
		return;
	/* Bounded: at most one queue's worth per wake-up; more wakes us again. */
	for (k = 0; k < M6Q_LEN && m6q_take(m->q, &it); k++)
		answer_one(m, &it, text);
}

static int m6srv_fds(void *arg, struct pollfd *pfd, int max)
{
	struct m6srv *m = arg;

	if (max < 1)
		return 0;
	pfd[0].fd = m6q_fd(m->q);
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	return 1;
}

static void m6srv_handle(void *arg, const struct pollfd *pfd, int n)
{
	(void)pfd;
	(void)n;
	m6srv_drain(arg);
}

struct clockd_poller m6srv_poller(struct m6srv *m)
{
	struct clockd_poller p = {.fds = m6srv_fds, .handle = m6srv_handle, .arg = m};

	return p;
}
