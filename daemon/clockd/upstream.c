/*
 * The client side: resolve, poll, match replies, feed the clock core.
 * Every reply is hostile input: a ladder of checks (length, mode, origin
 * cookie, then the MAC or NTS authenticator of an authenticated source)
 * before the core sees it, each failure counted.
 *
 * Name lookups are upstream_dns.c's; the keyfile keys, the NTS cookie
 * jars, NTS-KE and the check of a reply's MAC or NTS fields are
 * upstream_auth.c's (upstream_priv.h: what the three files share).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <sys/random.h>

#include "clock/kclock.h"
#include "daemon/auth/keyfile.h"
#include "daemon/clockd/report.h"
#include "daemon/sys/log.h"
#include "daemon/clockd/upstream_priv.h"
#include "proto/nstime.h"
#include "proto/ntp.h"
#include "proto/ntpreply.h"

#define UP_REPOLL_UNREACH 8    /* unanswered polls before a pool member moves on */
#define UP_RX_BUF	  2048 /* bytes: past our longest request (replies are never longer) */
#define UP_TX_MAX	  1232 /* bytes: longest request, an NTS one (IPv6's 1280 MTU) */
#define UP_NTS_REFRESH_NS 1209600000000000LL /* 2 weeks: new NTS keys (chrony's ntsrefresh) */
#define UP_ERRQ_READS	  4 /* error-queue entries read per wake-up (one per request) */
#define UP_TX_STAMP_MAX_NS                                                                         \
	1000000000LL /* a transmit stamp more than 1 s after the send is not ours */
/* xleave sockets: the kernel stamps each request as it leaves, and only the stamp comes back. */
#define UP_TX_FLAGS                                                                                \
	(SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY)
#define UP_FINI_WAITS 200 /* 10 ms waits at stop for lookups under way: 2 s */

/* Reference ID of an upstream address (IPv4: the address; IPv6: MD5 prefix). */
uint32_t up_addr_refid(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntp_refid_ipv4(&((const struct sockaddr_in *)a)->sin_addr);
	return ntp_refid_ipv6(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

void up_addr_str(const struct sockaddr_storage *a, char *buf, size_t len)
{
	if (a->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, buf,
			  (socklen_t)len);
}

/* Add the sources of C to CORE and get ready to resolve them; 0 or -1 (logged). */
static int up_init(struct upstream *u, const struct horod_config *c, struct clk_core *core,
		   struct clk_driver *drv)
{
	const struct cfg_clock *k = &c->clk;
	int i, m;

	memset(u, 0, sizeof(*u));
	u->core = core;
	u->drv = drv;
	u->box = up_box_new();
	if (!u->box)
		return -1;
	for (i = 0; i < k->n_servers; i++) {
		const struct cfg_server *sv = &k->servers[i];

		for (m = 0; m < sv->maxsources; m++) {
			struct clk_source_cfg sc = {.kind = CLK_KIND_NTP};
			struct up_source *s;

			if (u->n >= UP_MAX_SOURCES) {
				log_msg(LOG_WARNING, "upstream: more than %d sources, %s%s ignored",
					UP_MAX_SOURCES, sv->host, sv->pool ? " (in part)" : "");
				break;
			}
			s = &u->src[u->n];
			s->cfg = sv;
			s->member = m;
			s->fd = -1;
			if (sv->pool)
				snprintf(sc.name, sizeof(sc.name), "%.56s#%u", sv->host,
					 (unsigned)m % 100u);
			else
				snprintf(sc.name, sizeof(sc.name), "%.63s", sv->host);
			sc.minpoll = sv->minpoll;
			sc.maxpoll = sv->maxpoll;
			sc.iburst = sv->iburst;
			sc.prefer = sv->prefer;
			memcpy(s->name, sc.name, sizeof(s->name));
			s->core_id = clk_core_add_source(core, &sc);
			if (s->core_id < 0) {
				log_msg(LOG_ERR, "upstream: the clock core refused source %s",
					sc.name);
				return -1;
			}
			/*
			 * No lookup yet: the first up_run() starts it, in the
			 * process that serves (a lookup thread started here
			 * would stay behind in the parent when horod detaches).
			 */
			u->n++;
		}
	}
	return up_init_auth(u, c);
}

/* Fill PFD (room for MAX) with the descriptors to wait on; returns how many. */
static int up_pollfds(const struct upstream *u, struct pollfd *pfd, int max)
{
	int i, n = 0;

	if (n < max) {
		pfd[n].fd = u->box->wake_fd;
		pfd[n++].events = POLLIN;
	}
	if (u->upn && n < max) {
		pfd[n].fd = upn_fd(u->upn);
		pfd[n++].events = POLLIN;
	}
	for (i = 0; i < u->n && n < max; i++) {
		if (u->src[i].fd < 0)
			continue;
		pfd[n].fd = u->src[i].fd;
		pfd[n++].events = POLLIN;
	}
	return n;
}

void up_close_request(struct up_source *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/*
 * Read S's kernel transmit stamp from its socket's error queue (the only
 * entries it has: one stamp per request, TSONLY); T1 becomes the stamp
 * when it is one of the send just made (no earlier than the clock read
 * before it and not long after).
 */
static void read_tx_stamp(struct upstream *u, struct up_source *s)
{
	union {
		char b[CMSG_SPACE(sizeof(struct scm_timestamping)) +
		       CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct cmsghdr align;
	} cbuf;
	uint8_t junk[64];
	int k;

	for (k = 0; k < UP_ERRQ_READS && s->fd >= 0; k++) {
		struct iovec iov = {.iov_base = junk, .iov_len = sizeof(junk)};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf.b,
				     .msg_controllen = sizeof(cbuf.b)};
		const struct scm_timestamping *ts = NULL;
		const struct sock_extended_err *ee = NULL;
		struct cmsghdr *c;
		int64_t ns;

		if (recvmsg(s->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
			    c->cmsg_len >= CMSG_LEN(sizeof(*ts)))
				ts = (const struct scm_timestamping *)CMSG_DATA(c);
			else if (((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
				  (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
				 c->cmsg_len >= CMSG_LEN(sizeof(*ee)))
				ee = (const struct sock_extended_err *)CMSG_DATA(c);
		}
		if (!ts || !ee || ee->ee_origin != SO_EE_ORIGIN_TIMESTAMPING ||
		    ee->ee_info != SCM_TSTAMP_SND || s->t1_kernel)
			continue;
		ns = ns_from_timespec(&ts->ts[0]);
		if (ns < s->sent_sys || ns - s->sent_sys > UP_TX_STAMP_MAX_NS)
			continue;
		s->t1 = clk_driver_from_sys(u->drv, ns);
		s->t1_kernel = 1;
		u->stats.tx_stamps++;
	}
}

/*
 * Send a request to source S from a fresh socket at NOW (driver time).
 * An xleave source names its last exchange when it has one (origin: the
 * server's receive time of it; receive: a cookie the interleaved reply
 * echoes) and has the kernel stamp the request as it leaves.
 */
static void send_request(struct upstream *u, struct up_source *s, int64_t now)
{
	struct ntp_packet p = {0};
	uint8_t buf[UP_TX_MAX];
	size_t len = NTP_HEADER_LEN;
	/* Never for an authenticated source (the configuration refuses it): basic mode. */
	int one = 1, xl = s->cfg->xleave && !s->key && !s->nts;
	int tsflags = UP_TX_FLAGS;

	up_close_request(s); /* an unanswered request is abandoned: the next poll replaces it */
	clk_core_poll_sent(u->core, s->core_id, now);
	if (s->unanswered++ >= UP_REPOLL_UNREACH && s->cfg->pool) {
		/* A pool member that stopped answering: look for another address. */
		s->addrlen = 0;
		up_start_resolve(u, (int)(s - u->src), now);
		return;
	}
	s->fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail;
	/* Kernel receive stamps give T4; failing that T4 is read at dequeue. */
	(void)setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	/* Without transmit stamps T1 stays the clock read before the send. */
	if (xl)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPING, &tsflags, sizeof(tsflags));
	/* connect() binds a random ephemeral port and filters other senders. */
	if (connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen) < 0)
		goto fail;
	if (getrandom(&s->cookie, sizeof(s->cookie), GRND_NONBLOCK) != sizeof(s->cookie))
		goto fail;
	s->rec_cookie = 0;
	if (xl && s->prev.valid) {
		if (getrandom(&s->rec_cookie, sizeof(s->rec_cookie), GRND_NONBLOCK) !=
		    sizeof(s->rec_cookie))
			goto fail;
		/* Never 0 (a basic request's) nor the transmit cookie (the server's test). */
		if (s->rec_cookie == 0 || s->rec_cookie == s->cookie)
			s->rec_cookie = ~s->cookie | 1;
		p.org = s->prev.rec;
		p.rec = s->rec_cookie;
	}
	p.version = 4;
	p.mode = NTP_MODE_CLIENT;
	p.poll = (int8_t)s->cfg->minpoll;
	p.xmt = s->cookie;
	ntp_encode(&p, buf);
	if (s->key) {
		len = sk_append(s->key, buf, len);
	} else if (s->nts) {
		uint8_t uid[NTS_UID_LEN], nonce[NTS_NONCE_LEN];

		if (getrandom(uid, sizeof(uid), GRND_NONBLOCK) != sizeof(uid) ||
		    getrandom(nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
			goto fail;
		len = ntsc_request(s->nts, buf, sizeof(buf), uid, nonce);
		if (!len)
			goto fail;
	}
	s->t1_kernel = 0;
	s->sent_sys = clk_now_ns(CLOCK_REALTIME);
	s->t1 = clk_driver_from_sys(u->drv, s->sent_sys);
	if (send(s->fd, buf, len, 0) != (ssize_t)len)
		goto fail;
	u->stats.sent++;
	/* Loopback, veth and most drivers stamp inside send(): read it now. */
	if (xl)
		read_tx_stamp(u, s);
	return;
fail:
	u->stats.send_errors++;
	up_close_request(s);
}

/* Read the reply waiting on S's socket and hand it to the core. */
static void read_reply(struct upstream *u, struct up_source *s)
{
	uint8_t buf[UP_RX_BUF];
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf.b,
			     .msg_controllen = sizeof(cbuf.b)};
	struct ntp_packet p;
	struct cmsghdr *c;
	struct timespec rx = {0, 0};
	struct up_exchange this;
	enum up_verdict v;
	ssize_t n;
	int64_t t4;
	int xl;

	n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return;
	u->stats.received++;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct timespec)))
			memcpy(&rx, CMSG_DATA(c), sizeof(rx));
	t4 = ns_from_timespec(&rx);
	if (!t4) /* no kernel stamp: read the clock now */
		t4 = clk_now_ns(CLOCK_REALTIME);
	t4 = clk_driver_from_sys(u->drv, t4);

	if (ntp_decode(buf, (size_t)n, &p) < 0) {
		u->stats.short_reply++;
		return;
	}
	xl = s->rec_cookie != 0 && p.org == s->rec_cookie;
	if ((p.org != s->cookie && !xl) ||
	    (p.mode != NTP_MODE_SERVER && p.mode != NTP_MODE_PASSIVE)) {
		/* Not the answer to our request (or a KoD for someone else's): ignore it. */
		u->stats.bogus++;
		return;
	}
	switch (up_authentic(u, s, buf, (size_t)n)) {
	case UP_AUTH_NAK:
		/* The server cannot use our cookies: NTS-KE again before the next poll. */
		u->stats.nts_nak++;
		up_close_request(s);
		log_msg(LOG_INFO, "source %s: NTS NAK, new NTS-KE exchange", s->name);
		return;
	case UP_AUTH_BAD:
		/* Forged, altered, replayed, or unauthenticated: the answer may still come. */
		u->stats.auth_fail++;
		return;
	default:
		break;
	}
	if (s->cfg->xleave)
		read_tx_stamp(u, s); /* in case it came after the send returned */
	up_close_request(s);	     /* one answer per request: a duplicate cannot follow */
	s->unanswered = 0;
	if (xl && ntp_reply_is_kod(&p)) {
		u->stats.bogus++; /* a kiss answers the transmit cookie, never the other */
		return;
	}
	this.t1 = s->t1;
	this.t4 = t4;
	this.rec = p.rec;
	this.valid = 1;
	this.sampled = !xl;
	if (!xl) {
		/* Basic: this exchange measured now, with the kernel's T1 when there is one. */
		v = up_hand_reply(u->core, s->core_id, &s->last_xmt, &p, s->t1, t4);
		if (s->rec_cookie)
			u->stats.basic_xleave++;
	} else {
		/* Interleaved: the last exchange, unless the core has it from its basic reply. */
		u->stats.interleaved++;
		v = s->prev.sampled
			    ? UP_REJECT
			    : up_hand_exchange(u->core, s->core_id, &s->last_xmt, &p, &s->prev, 1);
		if (s->prev.sampled && p.xmt != 0)
			s->last_xmt = p.xmt;
	}
	s->prev = this;
	if (v == UP_KOD) {
		u->stats.kod++;
		s->prev.valid = 0; /* a kiss measures nothing to interleave with */
	} else {
		u->stats.valid++;
	}
}

enum up_verdict up_hand_reply(struct clk_core *core, int id, uint64_t *last_xmt,
			      const struct ntp_packet *p, int64_t t1, int64_t t4)
{
	const struct up_exchange x = {.t1 = t1, .t4 = t4, .rec = p->rec, .valid = 1};

	return up_hand_exchange(core, id, last_xmt, p, &x, 0);
}

enum up_verdict up_hand_exchange(struct clk_core *core, int id, uint64_t *last_xmt,
				 const struct ntp_packet *p, const struct up_exchange *x,
				 int interleaved)
{
	struct ntp_packet hdr = *p;
	struct clk_meas m;
	unsigned flash;

	if (ntp_reply_is_kod(p)) {
		switch (ntp_kod_ask(p->refid)) {
		case NTP_KOD_ASK_STOP:
			clk_core_refused(core, id);
			break;
		case NTP_KOD_ASK_SLOW_DOWN:
			clk_core_slow_down(core, id, x->t4);
			break;
		default:
			break; /* a code we do not act on */
		}
		return UP_KOD;
	}
	/* An interleaved reply's transmit time is the last reply's: its reference time may be
	 * newer, so the header is tested against the time it answered (its receive time). */
	if (interleaved)
		hdr.xmt = p->rec;
	flash = ntp_reply_tests(&hdr);
	if (p->xmt == 0)
		flash |= NTP_FLASH_UNSYNC;
	if (x->rec == 0)
		flash |= NTP_FLASH_HEADER;
	if (p->xmt != 0 && p->xmt == *last_xmt)
		flash |= NTP_FLASH_DUP;
	if (p->xmt != 0)
		*last_xmt = p->xmt;
	if (flash) {
		clk_core_reject(core, id, flash);
		return UP_REJECT;
	}
	m.t1 = x->t1;
	m.t4 = x->t4;
	m.t2 = ntp_ts_to_unix_ns(x->rec, x->t1);
	m.t3 = ntp_ts_to_unix_ns(p->xmt, x->t1);
	m.leap = p->leap;
	m.stratum = p->stratum;
	m.precision = p->precision;
	m.refid = p->refid;
	m.root_delay = ntp_short_to_double(p->root_delay);
	m.root_disp = ntp_short_to_double(p->root_disp);
	clk_core_sample(core, id, &m);
	return UP_SAMPLE;
}

/* Handle readable sockets, finished lookups and due polls at NOW; returns the next due time. */
static int64_t up_run(struct upstream *u, int64_t now)
{
	int64_t next = INT64_MAX;
	struct pollfd pfd;
	int i;

	up_take_results(u, now);
	if (u->upn)
		up_take_ke(u, now);
	for (i = 0; i < u->n; i++) {
		struct up_source *s = &u->src[i];
		int64_t due;

		if (s->fd >= 0) {
			pfd.fd = s->fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			/* An xleave socket's transmit stamp waits on its error queue (POLLERR). */
			if (poll(&pfd, 1, 0) == 1 && s->cfg->xleave && (pfd.revents & POLLERR))
				read_tx_stamp(u, s);
			if (pfd.revents)
				read_reply(u, s);
		}
		if (s->nts) {
			/* New keys every two weeks; NTS-KE whenever the jar is empty. */
			if (s->ke_at && now - s->ke_at >= UP_NTS_REFRESH_NS) {
				ntsc_reset(s->nts);
				s->ke_at = 0;
			}
			if (!s->addrlen || ntsc_need_ke(s->nts)) {
				up_start_ke(u, i, now);
				continue;
			}
		} else if (!s->addrlen) {
			up_start_resolve(u, i, now);
			continue;
		}
		due = clk_core_next_poll(u->core, s->core_id);
		if (due <= now) {
			send_request(u, s, now);
			due = clk_core_next_poll(u->core, s->core_id);
		}
		if (due < next)
			next = due;
	}
	return next;
}

/* Close sockets, give lookups under way a moment, let go of the mailbox (a lookup still
 * running holds it, and frees it when done). */
static void up_fini(struct upstream *u)
{
	int i, waited = 0;

	for (i = 0; i < u->n; i++) {
		up_close_request(&u->src[i]);
		if (u->src[i].nts) {
			explicit_bzero(u->src[i].nts, sizeof(*u->src[i].nts));
			free(u->src[i].nts);
			u->src[i].nts = NULL;
		}
	}
	/* NTS-KE threads still running keep their own reference: nothing of ours. */
	upn_release(u->upn);
	u->upn = NULL;
	kf_free(&u->keys);
	/* Lookups block in getaddrinfo: up to 2 s, so that exit rarely finds one in libc. */
	while (up_lookups_running() > 0 && waited++ < UP_FINI_WAITS) {
		struct timespec ms10 = {0, 10000000};

		nanosleep(&ms10, NULL);
	}
	if (u->box)
		up_box_unref(u->box);
	u->box = NULL;
}

/* ---- the source driver (srcdrv.h) -------------------------------------- */

static int ntp_init(struct srcdrv *d, const struct srcdrv_env *env)
{
	struct upstream *u;

	if (env->cfg->clk.n_servers == 0)
		return 1;
	u = calloc(1, sizeof(*u));
	if (!u) {
		log_msg(LOG_ERR, "upstream: out of memory");
		return -1;
	}
	if (up_init(u, env->cfg, env->core, env->drv) < 0) {
		up_fini(u);
		free(u);
		return -1;
	}
	d->priv = u;
	return 0;
}

static int ntp_pollfds(struct srcdrv *d, struct pollfd *pfd, int max)
{
	return up_pollfds(d->priv, pfd, max);
}

static int64_t ntp_run(struct srcdrv *d, int64_t now)
{
	return up_run(d->priv, now);
}

static int ntp_describe(const struct srcdrv *d, int id, struct clockd_source *out)
{
	const struct upstream *u = d->priv;
	const struct up_source *s = NULL;
	int i;

	for (i = 0; i < u->n && !s; i++)
		if (u->src[i].core_id == id)
			s = &u->src[i];
	if (!s)
		return -1;
	out->configured = s->cfg && !s->cfg->pool;
	out->unanswered = s->unanswered;
	out->auth = s->nts ? "nts" : s->key ? "key" : "none";
	out->nts_cookies = s->nts && !ntsc_need_ke(s->nts) ? s->nts->n : -1;
	if (s->addrlen) {
		out->v6 = s->addr.ss_family == AF_INET6;
		up_addr_str(&s->addr, out->addr, sizeof(out->addr));
		out->port = ntohs(out->v6 ? ((const struct sockaddr_in6 *)&s->addr)->sin6_port
					  : ((const struct sockaddr_in *)&s->addr)->sin_port);
	}
	return 0;
}

static void ntp_log_status(const struct srcdrv *d)
{
	const struct upstream *u = d->priv;

	log_msg(LOG_NOTICE,
		"upstream sent=%llu received=%llu valid=%llu bogus=%llu kod=%llu auth_fail=%llu "
		"nts_nak=%llu ntske_ok=%llu ntske_failed=%llu interleaved=%llu basic_xleave=%llu "
		"tx_stamps=%llu",
		(unsigned long long)u->stats.sent, (unsigned long long)u->stats.received,
		(unsigned long long)u->stats.valid, (unsigned long long)u->stats.bogus,
		(unsigned long long)u->stats.kod, (unsigned long long)u->stats.auth_fail,
		(unsigned long long)u->stats.nts_nak, (unsigned long long)u->stats.ke_ok,
		(unsigned long long)u->stats.ke_fail, (unsigned long long)u->stats.interleaved,
		(unsigned long long)u->stats.basic_xleave, (unsigned long long)u->stats.tx_stamps);
}

static void ntp_fini(struct srcdrv *d)
{
	if (!d->priv)
		return;
	up_fini(d->priv);
	free(d->priv);
	d->priv = NULL;
}

void up_stats_of(const struct srcdrv *d, struct up_stats *out)
{
	const struct upstream *u = d->priv;

	*out = u->stats;
}

const struct srcdrv_ops srcdrv_ntp = {
	.name = "ntp",
	.init = ntp_init,
	.pollfds = ntp_pollfds,
	.run = ntp_run,
	.describe = ntp_describe,
	.log_status = ntp_log_status,
	.fini = ntp_fini,
};
