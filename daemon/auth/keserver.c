/*
 * The NTS-KE server's thread (keserver.h). A session moves through
 * handshake, read, write, drain; each step runs until GnuTLS would block,
 * and the loop polls for what it waits for (gnutls_record_get_direction).
 * A new session's handshake starts at accept (the ClientHello is usually
 * there already: no poll round for it). After the answer and its
 * close_notify the session waits for the client's close_notify or close
 * before closing, as chronyd does (gnutls_bye with SHUT_RDWR): the
 * client's own close_notify then reaches an open connection, not a reset.
 *
 * The threads share the listening sockets (each polls them: whichever
 * is idle accepts) and the count of open sessions (an atomic: the bound
 * is on all of them together); the credentials are reference-counted
 * under a mutex taken once per accepted connection, never per record.
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "daemon/auth/keserver.h"
#include "daemon/sys/log.h"
#include "proto/nstime.h"
#include "proto/ntske.h"

#define KES_BACKLOG 128	 /* pending connections the kernel holds for us */
#define KES_TICK_MS 1000 /* ms between the server keys' periodic work */
#define KES_OUT_MAX 2048 /* bytes: an answer (8 cookies of 104 bytes take ~1 KiB) */
#define KES_ACCEPTS 64	 /* connections accepted per wake-up per socket: bounded work */
#define KES_ACCEPTS_SHARED                                                                         \
	1 /* the same with other threads: one, then poll again, so an idle thread takes the next   \
	   */

enum kes_state { KS_FREE, KS_HANDSHAKE, KS_READ, KS_WRITE, KS_DRAIN };

/* A certificate and key, held by the sessions that use them and by k->cred. */
struct kes_cred {
	struct tls_ctx tls;
	int refs; /* under cred_lock */
};

struct kes_conn {
	enum kes_state state;
	int fd;
	gnutls_session_t s;
	struct kes_cred *cred; /* the credentials S started with */
	int64_t deadline_ms;   /* CLOCK_MONOTONIC */
	uint8_t *in;	       /* NKE_MSG_MAX bytes while reading */
	size_t in_len;
	uint8_t out[KES_OUT_MAX];
	size_t out_len, out_sent;
	enum kes_outcome outcome; /* to count when the answer is sent */
};

static const char *const kes_names[KES_OUTCOME_MAX] = {
#define KES_NAME(id, name, desc) [KES_##id] = name,
	KES_OUTCOME_LIST(KES_NAME)
#undef KES_NAME
};

static const char *const kes_descs[KES_OUTCOME_MAX] = {
#define KES_DESC(id, name, desc) [KES_##id] = desc,
	KES_OUTCOME_LIST(KES_DESC)
#undef KES_DESC
};

const char *kes_outcome_name(enum kes_outcome o)
{
	return (unsigned int)o < KES_OUTCOME_MAX ? kes_names[o] : "unknown";
}

const char *kes_outcome_desc(enum kes_outcome o)
{
	return (unsigned int)o < KES_OUTCOME_MAX ? kes_descs[o] : "unknown";
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ns_from_timespec(&ts) / 1000000;
}

/* Count O (every thread counts). */
static void count(struct kes *k, enum kes_outcome o)
{
	atomic_fetch_add_explicit(&k->outcome[o], 1, memory_order_relaxed);
}

/* The credentials new sessions take, held (cred_put when done). */
static struct kes_cred *cred_get(struct kes *k)
{
	struct kes_cred *c;

	pthread_mutex_lock(&k->cred_lock);
	c = k->cred;
	c->refs++;
	pthread_mutex_unlock(&k->cred_lock);
	return c;
}

/* Let go of C: freed with its last holder. */
static void cred_put(struct kes *k, struct kes_cred *c)
{
	int last;

	if (!c)
		return;
	pthread_mutex_lock(&k->cred_lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&k->cred_lock);
	if (last) {
		tls_fini(&c->tls);
		free(c);
	}
}

/* End session C; count OUTCOME unless it is KES_OUTCOME_MAX (already counted). */
static void conn_close(struct kes *k, struct kes_conn *c, enum kes_outcome outcome)
{
	if (outcome < KES_OUTCOME_MAX)
		count(k, outcome);
	if (c->s)
		gnutls_deinit(c->s);
	cred_put(k, c->cred);
	c->cred = NULL;
	atomic_fetch_sub_explicit(&k->open, 1, memory_order_relaxed);
	close(c->fd);
	free(c->in);
	memset(c->out, 0, c->out_len);
	c->s = NULL;
	c->in = NULL;
	c->in_len = c->out_len = c->out_sent = 0;
	c->state = KS_FREE;
}

/* Bind a TCP listener on ADDR (LEN bytes) port PORT; the descriptor, or -1 (ERR). */
static int listen_on(const struct sockaddr_storage *addr, socklen_t len, int port, char *err,
		     size_t errlen)
{
	struct sockaddr_storage ss = *addr;
	char a[INET6_ADDRSTRLEN] = "?";
	int fd, on = 1;

	if (ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/*
	 * A `--takeover` successor binds while its predecessor still listens
	 * (the kernel shares the port only between sockets of the same user);
	 * connections go to either until the predecessor closes.
	 */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	/* `listen ::` serves IPv6 only, as the NTP sockets do; 0.0.0.0 is its own line. */
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, KES_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "NTS-KE on %s%s%s port %d: %s", ss.ss_family == AF_INET6 ? "[" : "",
		 a, ss.ss_family == AF_INET6 ? "]" : "", port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int kes_threads(int n)
{
	cpu_set_t set;
	long cpus;

	if (n > 0)
		return n < KES_THREADS_MAX ? n : KES_THREADS_MAX;
	/* The CPUs horod may run on (systemd's CPUAffinity=, taskset), else those online. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cpus = CPU_COUNT(&set);
	else
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		return 1;
	return cpus < KES_THREADS_MAX ? (int)cpus : KES_THREADS_MAX;
}

/* Load CERT and KEY into a new credential (its one hold: k->cred's); NULL (ERR) when they do not
 * load. */
static struct kes_cred *cred_new(const char *cert, const char *key, char *err, size_t errlen)
{
	struct kes_cred *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "NTS-KE: out of memory");
		return NULL;
	}
	if (tls_server_init(&c->tls, cert, key, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->refs = 1;
	return c;
}

int kes_open(struct kes *k, const struct horod_config *c, struct nks *nks, char *err, size_t errlen)
{
	int i, j;

	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->cred_lock, NULL);
	k->stop_fd = -1;
	k->nks = nks;
	k->max_conn = c->nts.max_conn;
	k->n_thr = kes_threads(c->nts.threads);
	snprintf(k->ntp_server, sizeof(k->ntp_server), "%s", c->nts.ntp_server);
	if (c->n_listen > 0 && cfg_listen_port(c, &c->listen[0]) != 123)
		k->ntp_port = cfg_listen_port(c, &c->listen[0]);
	for (i = 0; i < k->n_thr; i++) {
		struct kes_thr *t = &k->thr[i];
		uint8_t seed[CRY_RNG_SEED_LEN];

		t->k = k;
		t->slot = nks_slot_get(nks);
		if (t->slot < 0) {
			snprintf(err, errlen, "NTS-KE: no reader slot for the server keys");
			goto fail;
		}
		if (getrandom(seed, sizeof(seed), 0) != sizeof(seed)) {
			snprintf(err, errlen, "NTS-KE: getrandom: %s", strerror(errno));
			goto fail;
		}
		cry_rng_seed(&t->rng, seed);
		memset(seed, 0, sizeof(seed));
		t->conn = calloc((size_t)k->max_conn, sizeof(*t->conn));
		if (!t->conn) {
			snprintf(err, errlen, "NTS-KE: out of memory");
			goto fail;
		}
	}
	k->cred = cred_new(c->nts.cert, c->nts.key, err, errlen);
	if (!k->cred)
		goto fail;
	k->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (k->stop_fd < 0) {
		snprintf(err, errlen, "NTS-KE: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < c->n_listen; i++) {
		/* One listener per address, whatever its NTP ports. */
		for (j = 0; j < i; j++)
			if (c->listen[j].addrlen == c->listen[i].addrlen &&
			    memcmp(&c->listen[j].addr, &c->listen[i].addr, c->listen[i].addrlen) ==
				    0)
				break;
		if (j < i)
			continue;
		k->lfd[k->n_lfd] = listen_on(&c->listen[i].addr, c->listen[i].addrlen, c->nts.port,
					     err, errlen);
		if (k->lfd[k->n_lfd] < 0)
			goto fail;
		k->n_lfd++;
	}
	return 0;
fail:
	kes_close(k);
	return -1;
}

int kes_reload_cred(struct kes *k, const char *cert, const char *key, char *err, size_t errlen)
{
	struct kes_cred *n = cred_new(cert, key, err, errlen), *old;

	if (!n)
		return -1;
	pthread_mutex_lock(&k->cred_lock);
	old = k->cred;
	k->cred = n;
	pthread_mutex_unlock(&k->cred_lock);
	cred_put(k, old); /* k->cred's hold: the sessions still using it keep theirs */
	return 0;
}

/* Run session C of thread T as far as it goes without blocking (below). */
static void step(struct kes_thr *t, struct kes_conn *c);

/*
 * Thread T accepts what waits on listener FD (bounded); sessions past
 * the limit (all threads together) are closed at once.
 */
static void accept_new(struct kes_thr *t, int fd)
{
	struct kes *k = t->k;
	int n, most = k->n_thr > 1 ? KES_ACCEPTS_SHARED : KES_ACCEPTS;

	for (n = 0; n < most; n++) {
		struct kes_conn *c = NULL;
		char why[200];
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;

		if (cfd < 0)
			return;
		if (atomic_fetch_add_explicit(&k->open, 1, memory_order_relaxed) >= k->max_conn) {
			atomic_fetch_sub_explicit(&k->open, 1, memory_order_relaxed);
			close(cfd);
			count(k, KES_REFUSED);
			continue;
		}
		/* Fewer than max_conn open in all: this thread's set has room. */
		for (i = 0; i < k->max_conn && !c; i++)
			if (t->conn[i].state == KS_FREE)
				c = &t->conn[i];
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
		c->fd = cfd;
		c->deadline_ms = mono_ms() + KES_TIMEOUT_MS;
		c->cred = cred_get(k);
		if (tls_session_new(&c->cred->tls, cfd, NULL, &c->s, why, sizeof(why)) < 0) {
			c->s = NULL;
			conn_close(k, c, KES_INTERNAL);
			continue;
		}
		c->state = KS_HANDSHAKE;
		step(t, c);
	}
}

/* The answer of thread T to the complete request C->in[0..LEN) into C->out. */
static void answer(struct kes_thr *t, struct kes_conn *c, size_t len)
{
	struct kes *k = t->k;
	uint8_t cookies[NKE_COOKIES * NTS_COOKIE_LEN];
	struct nke_response resp = {.error = -1};
	struct nke_request req;
	struct nts_cookie ck;
	int i;

	nke_parse_request(c->in, len, &req);
	resp.error = req.error;
	resp.ntpv4 = req.ntpv4;
	resp.aead = req.aead;
	c->outcome = KES_OK;
	if (req.error >= 0) {
		c->outcome = KES_BAD_REQUEST;
	} else if (!req.ntpv4 || req.aead < 0) {
		c->outcome = KES_NOTHING_IN_COMMON;
	} else if (tls_export_keys(c->s, (uint16_t)req.aead, NTS_KEY_LEN, ck.c2s, ck.s2c) < 0) {
		resp.error = NKE_ERR_INTERNAL;
		c->outcome = KES_INTERNAL;
	} else {
		const struct nts_keyset *ks = nks_enter(k->nks, t->slot);

		ck.aead = (uint16_t)req.aead;
		for (i = 0; i < NKE_COOKIES; i++) {
			uint8_t nonce[NTS_NONCE_LEN];

			cry_rng_bytes(&t->rng, nonce, sizeof(nonce));
			nts_cookie_seal(&ks->key[ks->current], nonce, &ck,
					cookies + (size_t)i * NTS_COOKIE_LEN);
		}
		nks_leave(k->nks, t->slot);
		memset(&ck, 0, sizeof(ck));
		resp.cookies = cookies;
		resp.cookie_len = NTS_COOKIE_LEN;
		resp.n_cookies = NKE_COOKIES;
		resp.server = k->ntp_server;
		resp.port = k->ntp_port;
	}
	c->out_len = nke_build_response(&resp, c->out, sizeof(c->out));
	memset(cookies, 0, sizeof(cookies));
	c->out_sent = 0;
	c->state = KS_WRITE;
}

/* Run session C of thread T as far as it goes without blocking. */
static void step(struct kes_thr *t, struct kes_conn *c)
{
	struct kes *k = t->k;
	ssize_t r;

	if (c->state == KS_HANDSHAKE) {
		r = gnutls_handshake(c->s);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r < 0 || !tls_session_ntske(c->s)) {
			conn_close(k, c, KES_TLS_FAILED);
			return;
		}
		c->in = malloc(NKE_MSG_MAX);
		if (!c->in) {
			conn_close(k, c, KES_INTERNAL);
			return;
		}
		c->state = KS_READ;
	}
	while (c->state == KS_READ) {
		long m;

		r = gnutls_record_recv(c->s, c->in + c->in_len, NKE_MSG_MAX - c->in_len);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r <= 0) {
			conn_close(k, c, r == 0 ? KES_CLOSED : KES_TLS_FAILED);
			return;
		}
		c->in_len += (size_t)r;
		m = nke_msg_length(c->in, c->in_len);
		if (m < 0 || (m == 0 && c->in_len == NKE_MSG_MAX)) {
			/* Cannot become a request: the RFC's answer is Bad Request. */
			struct nke_response resp = {.error = NKE_ERR_BAD_REQUEST};

			c->out_len = nke_build_response(&resp, c->out, sizeof(c->out));
			c->outcome = KES_BAD_REQUEST;
			c->state = KS_WRITE;
		} else if (m > 0) {
			answer(t, c, (size_t)m);
		}
	}
	while (c->state == KS_WRITE && c->out_sent < c->out_len) {
		r = gnutls_record_send(c->s, c->out + c->out_sent, c->out_len - c->out_sent);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r < 0) {
			conn_close(k, c, KES_TLS_FAILED);
			return;
		}
		c->out_sent += (size_t)r;
	}
	if (c->state == KS_WRITE) {
		/* close_notify, then the client's (or its close) before closing. */
		gnutls_bye(c->s, GNUTLS_SHUT_WR);
		c->state = KS_DRAIN;
	}
	while (c->state == KS_DRAIN) {
		uint8_t junk[256];

		r = gnutls_record_recv(c->s, junk, sizeof(junk));
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r <= 0)
			conn_close(k, c, c->outcome);
	}
}

static void *kes_thread(void *arg)
{
	struct kes_thr *t = arg;
	struct kes *k = t->k;
	struct pollfd *p;
	int *map, n, i;
	int64_t next_tick = 0;

	p = calloc((size_t)(1 + k->n_lfd + k->max_conn), sizeof(*p));
	map = calloc((size_t)(1 + k->n_lfd + k->max_conn), sizeof(*map));
	if (!p || !map) {
		log_msg(LOG_ERR, "nts: NTS-KE thread: out of memory");
		free(p);
		free(map);
		return NULL;
	}
	for (;;) {
		int64_t now = mono_ms(), wait = KES_TICK_MS;
		struct timespec rt;

		if (now >= next_tick) {
			/* The first thread is the server keys' one writer; the others just wake. */
			if (t == &k->thr[0]) {
				clock_gettime(CLOCK_REALTIME, &rt);
				nks_tick(k->nks, (int64_t)rt.tv_sec);
			}
			next_tick = now + KES_TICK_MS;
		}
		wait = next_tick - now;
		n = 0;
		p[n++] = (struct pollfd){.fd = k->stop_fd, .events = POLLIN};
		for (i = 0; i < k->n_lfd; i++)
			p[n++] = (struct pollfd){.fd = k->lfd[i], .events = POLLIN};
		for (i = 0; i < k->max_conn; i++) {
			struct kes_conn *c = &t->conn[i];

			if (c->state == KS_FREE)
				continue;
			if (c->deadline_ms <= now) {
				conn_close(k, c, c->state == KS_DRAIN ? c->outcome : KES_TIMEOUT);
				continue;
			}
			if (c->deadline_ms - now < wait)
				wait = c->deadline_ms - now;
			map[n] = i;
			p[n++] = (struct pollfd){.fd = c->fd,
						 .events = (short)(gnutls_record_get_direction(c->s)
									   ? POLLOUT
									   : POLLIN)};
		}
		if (poll(p, (nfds_t)n, (int)wait) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		for (i = 1; i <= k->n_lfd; i++)
			if (p[i].revents)
				accept_new(t, p[i].fd);
		for (i = 1 + k->n_lfd; i < n; i++)
			if (p[i].revents && t->conn[map[i]].state != KS_FREE)
				step(t, &t->conn[map[i]]);
	}
	free(p);
	free(map);
	return NULL;
}

int kes_start(struct kes *k)
{
	int i, r;

	for (i = 0; i < k->n_thr; i++) {
		r = pthread_create(&k->thr[i].thread, NULL, kes_thread, &k->thr[i]);
		if (r) {
			kes_stop(k);
			return -r;
		}
		k->thr[i].started = 1;
	}
	return 0;
}

void kes_stop(struct kes *k)
{
	uint64_t one = 1;
	int i, any = 0;

	for (i = 0; i < k->n_thr; i++)
		any |= k->thr[i].started;
	if (!any)
		return;
	/* Not read back until all have stopped: the eventfd stays readable, every thread sees it.
	 */
	if (write(k->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_msg(LOG_WARNING, "nts: cannot wake the NTS-KE threads");
	for (i = 0; i < k->n_thr; i++)
		if (k->thr[i].started) {
			pthread_join(k->thr[i].thread, NULL);
			k->thr[i].started = 0;
		}
	if (read(k->stop_fd, &one, sizeof(one)) != sizeof(one))
		log_msg(LOG_WARNING, "nts: cannot quiet the NTS-KE threads' stop event");
}

void kes_close(struct kes *k)
{
	int i, j;

	kes_stop(k);
	for (j = 0; j < k->n_thr; j++) {
		struct kes_thr *t = &k->thr[j];

		for (i = 0; t->conn && i < k->max_conn; i++)
			if (t->conn[i].state != KS_FREE)
				conn_close(k, &t->conn[i], KES_OUTCOME_MAX);
		free(t->conn);
		t->conn = NULL;
		memset(&t->rng, 0, sizeof(t->rng));
	}
	for (i = 0; i < k->n_lfd; i++)
		close(k->lfd[i]);
	k->n_lfd = 0;
	if (k->stop_fd >= 0)
		close(k->stop_fd);
	k->stop_fd = -1;
	if (k->cred)
		cred_put(k, k->cred);
	k->cred = NULL;
	pthread_mutex_destroy(&k->cred_lock);
}
