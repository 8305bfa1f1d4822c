/*
 * The clock simulator's network and upstream servers: a server answers a
 * request with the truth plus its lie, as a real NTP header with
 * timestamps from proto's ntp_ts_* functions; the network adds a base
 * delay and exponentially distributed queueing to each direction, a fixed
 * asymmetry and random loss, from the run's seeded random numbers. The
 * reply waits in the source's flight slot until its arrival time.
 */
#include <math.h>
#include <string.h>

#include "tests/sim/clocksim.h"

#define SERVER_PROC	 20e-6 /* s: a server's receive-to-transmit time */
#define SERVER_ROOT_DISP 1e-5  /* s: root dispersion a (truthful) stratum-1 server advertises */
#define SERVER_PREC	 (-20) /* log2 s: server precision */

/* splitmix64: small, good enough for the network's noise, seedable. */
static uint64_t rnd64(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double rnd_unit(struct sim *s)
{
	return ((double)(rnd64(s) >> 11) + 1.0) / 9007199254740992.0;
}

static double rnd_exp(struct sim *s, double mean)
{
	return mean > 0.0 ? -mean * log(rnd_unit(s)) : 0.0;
}

int64_t sim_ns_of(double s)
{
	return (int64_t)llround(s * 1e9);
}

void sim_send_request(struct sim *s, int i, int64_t t1)
{
	const struct scenario *sc = s->sc;
	struct flight *f = &s->fl[i];
	double out, back;
	int64_t at_server, rec, xmt;

	if (sc->cut_at > 0.0 && s->t - s->t0 >= sim_ns_of(sc->cut_at))
		return;
	if (sc->loss > 0.0 && rnd_unit(s) <= sc->loss)
		return;
	out = sc->delay + sc->asym + rnd_exp(s, sc->jitter);
	back = sc->delay + rnd_exp(s, sc->jitter);
	at_server = s->t + sim_ns_of(out);
	rec = at_server + sim_ns_of(sc->lie[i]);
	xmt = rec + sim_ns_of(SERVER_PROC);
	memset(&f->pkt, 0, sizeof(f->pkt));
	f->pkt.leap = NTP_LEAP_NONE;
	f->pkt.version = 4;
	f->pkt.mode = NTP_MODE_SERVER;
	f->pkt.stratum = 1;
	f->pkt.poll = 6;
	f->pkt.precision = SERVER_PREC;
	f->pkt.root_delay = 0;
	f->pkt.root_disp = ntp_short_from_double(SERVER_ROOT_DISP);
	f->pkt.refid = ntp_refid_ascii("GPS");
	f->pkt.ref = ntp_ts_from_unix_ns(rec - NS);
	f->pkt.org = rnd64(s);
	f->pkt.rec = ntp_ts_from_unix_ns(rec);
	f->pkt.xmt = ntp_ts_from_unix_ns(xmt);
	f->arrive = at_server + sim_ns_of(SERVER_PROC + back);
	f->t1 = t1;
	f->pending = 1;
}
