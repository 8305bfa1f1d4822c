/*
 * horobench: an NTP load generator that checks every reply. It sends mode 3
 * requests from many UDP sockets (source ports, optionally several source
 * addresses) at a fixed rate (open loop, --rate) or with a fixed number in
 * flight (closed loop, --window), for a bounded time, optionally mixing in
 * a share of malformed requests of each kind. Each request carries a
 * unique cookie in its transmit timestamp; a reply is valid only if its
 * origin is a cookie we sent and had not seen answered, with the right
 * mode and version, a stratum of 1-15, no alarm leap and receive <=
 * transmit. The client sockets take kernel receive stamps on every reply
 * and kernel transmit stamps (error queue) on a sample of the requests,
 * so round-trip time and the offset each reply implies use kernel times:
 * on one host the true offset is 0, and the measured one is the server's
 * timestamping error. `horobench respond` is the floor responder
 * (responder.c). Traffic goes where it is told: use loopback or addresses
 * in namespaces you created. This file sets a run up (CPU pinning, the
 * cookie keys, the request table, the clients, the sockets, the capture),
 * runs it — once, or once per rate step (--steps), the clients keeping
 * their state from step to step, after an optional warm-up in which every
 * client sends one request — and reports each run; the parts are listed
 * in horobench.h.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "bench/src/horobench.h"
#include "bench/src/responder.h"
#include "bench/src/stats.h"

#define HB_TAB_MIN (1u << 16) /* entries: smallest request table */
#define HB_TAB_MAX (1u << 23) /* entries: largest request table (320 MB) */

/* Inverse of the odd number M mod 2^64 (Newton's iteration). */
static uint64_t inverse(uint64_t m)
{
	uint64_t inv = m;
	int i;

	for (i = 0; i < 5; i++)
		inv *= 2 - m * inv;
	return inv;
}

/* Set the clients up: one per socket, or --clients addresses from --client-base on. */
static int make_clients(struct hb_run *r)
{
	int i;

	r->n_clients = r->o.n_clients ? r->o.n_clients : r->o.sockets;
	r->clients = calloc((size_t)r->n_clients, sizeof(*r->clients));
	if (!r->clients)
		return -1;
	for (i = 0; i < r->n_clients; i++) {
		struct hb_client *c = &r->clients[i];

		c->sock = (uint32_t)(i % r->o.sockets);
		if (!r->o.n_clients)
			continue;
		if (r->o.client_base.ss_family == AF_INET) {
			const struct sockaddr_in *b = (const struct sockaddr_in *)&r->o.client_base;
			uint32_t a = ntohl(b->sin_addr.s_addr) + (uint32_t)i;

			a = htonl(a);
			memcpy(c->addr, &a, 4);
		} else {
			const struct sockaddr_in6 *b =
				(const struct sockaddr_in6 *)&r->o.client_base;
			uint32_t lo;

			memcpy(c->addr, &b->sin6_addr, 16);
			memcpy(&lo, c->addr + 12, 4);
			lo = htonl(ntohl(lo) + (uint32_t)i);
			memcpy(c->addr + 12, &lo, 4);
		}
	}
	return 0;
}

/* Zero what one run counts, before the next step. */
static void reset_counts(struct hb_run *r)
{
	struct bs_samples *q[] = {&r->rtt,
				  &r->res,
				  &r->off,
				  &r->off_x,
				  &r->cap.smp[M_BASIC],
				  &r->cap.smp[M_INTERLEAVED]};
	size_t i;

	memset(&r->c, 0, sizeof(r->c));
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		q[i]->n = 0;
		q[i]->seen = 0;
		q[i]->sorted = 0;
	}
	r->cap.frames = r->cap.replies = r->cap.unmatched = r->cap.no_stamp = 0;
	r->cap.kernel_drops = r->cap.xleave_unpaired = 0;
	memset(r->cap.mom, 0, sizeof(r->cap.mom));
	memset(r->cap.late, 0, sizeof(r->cap.late));
	hb_cap_drops(r);
	r->cap.kernel_drops = 0;
	r->mal_acc = 0;
}

/* Request table entries for O: a power of two, within the table bounds. */
static uint64_t table_size(const struct hb_opts *o)
{
	/* Closed loop: room for 1M requests/s over the timeout and a second more. */
	double rate = o->rate > 0 ? o->rate : 1e6;
	int i;

	for (i = 0; i < o->n_steps; i++)
		rate = fmax(rate, o->steps[i]);
	double want = fmax(rate * (o->timeout + 1.0), 4.0 * o->window);
	uint64_t n = HB_TAB_MIN;

	while (n < HB_TAB_MAX && (double)n < want)
		n <<= 1;
	return n;
}

int main(int argc, char **argv)
{
	static struct hb_run run_state;
	struct hb_run *r = &run_state;
	uint64_t n;
	int i, rc = 0;

	if (argc > 1 && !strcmp(argv[1], "respond"))
		return rs_main(argc - 1, argv + 1);
	if (hb_parse_opts(argc, argv, &r->o) < 0)
		return 2;
	if (r->o.ke)
		return hb_ke_run(&r->o);
	signal(SIGPIPE, SIG_IGN);
	if (r->o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(r->o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			fprintf(stderr, "horobench: cannot pin to CPU %d: %s\n", r->o.cpu,
				strerror(errno));
	}
	r->mul_inv = inverse(HB_COOKIE_MUL);
	r->mul_inv2 = inverse(HB_COOKIE_MUL2);
	if (getrandom(&r->key, sizeof(r->key), 0) != sizeof(r->key))
		r->key = (uint64_t)hb_now_ns();
	n = r->o.nts ? HB_NTS_TAB : table_size(&r->o);
	r->mask = n - 1;
	r->tab = calloc(n, sizeof(*r->tab));
	r->socks = calloc((size_t)r->o.sockets, sizeof(*r->socks));
	r->cap.fd = -1;
	if (!r->tab || !r->socks || make_clients(r) < 0 || bs_init(&r->rtt, r->key) < 0 ||
	    bs_init(&r->res, r->key + 1) < 0 || bs_init(&r->off, r->key + 2) < 0 ||
	    bs_init(&r->off_x, r->key + 3) < 0 ||
	    (r->o.capture[0] && (bs_init(&r->cap.smp[M_BASIC], r->key + 4) < 0 ||
				 bs_init(&r->cap.smp[M_INTERLEAVED], r->key + 5) < 0))) {
		fprintf(stderr, "horobench: out of memory\n");
		return 1;
	}
	if (r->o.nts && hb_nts_setup(r) < 0)
		return 1;
	if (hb_open_sockets(r) < 0 || (r->o.capture[0] && hb_cap_open(r) < 0))
		return 1;
	if (r->o.warmup) {
		/*
		 * Every client twice, unreported: interleaved state at both ends
		 * from the first step, even with a server that saves timestamps
		 * only for requests that already look interleaved (chronyd).
		 */
		double dur = r->o.duration;

		r->step = -1;
		/* At most the first step's rate: the warm-up must not overload anything. */
		r->o.rate =
			r->o.n_steps && r->o.steps[0] < HB_WARM_RATE ? r->o.steps[0] : HB_WARM_RATE;
		r->o.duration = (double)r->n_clients * HB_WARM_ROUNDS / r->o.rate + 1.0;
		r->send_limit = (uint64_t)r->n_clients * HB_WARM_ROUNDS;
		hb_run_loop(r);
		r->send_limit = 0;
		r->o.duration = dur;
	}
	for (i = 0; i < (r->o.n_steps ? r->o.n_steps : 1); i++) {
		int k, step_rc = 0;

		r->step = r->o.n_steps ? i : -1;
		if (r->o.n_steps)
			r->o.rate = r->o.steps[i];
		reset_counts(r);
		hb_run_loop(r);
		hb_cap_drops(r);
		hb_report(r);
		for (k = 0; k < B_MAX; k++)
			if (r->c.bad[k])
				step_rc = 1;
		if (!r->c.valid)
			step_rc = 1;
		rc |= step_rc;
		/* Steps past saturation tell nothing more. */
		if (r->o.n_steps && r->c.sent[K_GOOD] &&
		    (double)(r->c.sent[K_GOOD] - r->c.valid) / (double)r->c.sent[K_GOOD] >
			    r->o.stop_loss)
			break;
	}
	for (i = 0; i < r->o.sockets; i++)
		if (r->socks[i].fd > 0)
			close(r->socks[i].fd);
	hb_cap_close(r);
	close(r->epfd);
	bs_free(&r->rtt);
	bs_free(&r->res);
	bs_free(&r->off);
	bs_free(&r->off_x);
	bs_free(&r->cap.smp[M_BASIC]);
	bs_free(&r->cap.smp[M_INTERLEAVED]);
	free(r->tab);
	free(r->socks);
	free(r->clients);
	return rc;
}
