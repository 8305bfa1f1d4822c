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
 * cookie key, the request table, the sockets), runs it and reports; the
 * parts are listed in horobench.h.
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

#include "bench/src/horobench.h"
#include "bench/src/responder.h"
#include "bench/src/stats.h"

#define HB_TAB_MIN (1u << 16) /* entries: smallest request table */
#define HB_TAB_MAX (1u << 23) /* entries: largest request table (192 MB) */

/* Request table entries for O: a power of two, within the table bounds. */
static uint64_t table_size(const struct hb_opts *o)
{
	/* Closed loop: room for 1M requests/s over the timeout and a second more. */
	double rate = o->rate > 0 ? o->rate : 1e6;
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
	uint64_t inv, n;
	int i, rc;

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
	/* Newton's iteration for the inverse of an odd number mod 2^64. */
	inv = HB_COOKIE_MUL;
	for (i = 0; i < 5; i++)
		inv *= 2 - HB_COOKIE_MUL * inv;
	r->mul_inv = inv;
	if (getrandom(&r->key, sizeof(r->key), 0) != sizeof(r->key))
		r->key = (uint64_t)hb_now_ns();
	n = r->o.nts ? HB_NTS_TAB : table_size(&r->o);
	r->mask = n - 1;
	r->tab = calloc(n, sizeof(*r->tab));
	r->socks = calloc((size_t)r->o.sockets, sizeof(*r->socks));
	if (!r->tab || !r->socks || bs_init(&r->rtt, r->key) < 0 ||
	    bs_init(&r->res, r->key + 1) < 0 || bs_init(&r->off, r->key + 2) < 0) {
		fprintf(stderr, "horobench: out of memory\n");
		return 1;
	}
	if (r->o.nts && hb_nts_setup(r) < 0)
		return 1;
	if (hb_open_sockets(r) < 0)
		return 1;
	hb_run_loop(r);
	hb_report(r);
	rc = 0;
	for (i = 0; i < B_MAX; i++)
		if (r->bad[i])
			rc = 1;
	if (!r->valid)
		rc = 1;
	for (i = 0; i < r->o.sockets; i++)
		if (r->socks[i].fd > 0)
			close(r->socks[i].fd);
	close(r->epfd);
	bs_free(&r->rtt);
	bs_free(&r->res);
	bs_free(&r->off);
	free(r->tab);
	free(r->socks);
	return rc;
}
