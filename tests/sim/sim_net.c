/*
 * The clock simulator's network and upstream servers. A server answers a
 * request with its own clock: UTC plus its error (a constant lie, a slow
 * wobble within the root distance it advertises, a step of its time
 * scale), each timestamp with its own noise, as a real NTP header with
 * timestamps from proto's ntp_ts_* functions, announcing a leap second
 * during the last day before it and applying it at the end of that day.
 * The network adds a base delay and exponentially distributed queueing to
 * each direction, a fixed asymmetry and random loss, from the run's
 * seeded random numbers. The reply waits in the source's flight slot
 * until its arrival time.
 */
#include <math.h>
#include <string.h>

#include "tests/sim/clocksim.h"

#define SERVER_PROC	 20e-6 /* s: a server's receive-to-transmit time */
#define SERVER_ROOT_DISP 1e-5  /* s: root dispersion a (truthful) stratum-1 server advertises */
#define SERVER_PREC	 (-20) /* log2 s: server precision */
#define LEAP_ANNOUNCE_S                                                                            \
	86400 /* s: servers announce a leap second during its last day (RFC 5905),                 \
		 unless the scenario says they start earlier */

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

/* Normal with standard deviation SD (Box-Muller). */
static double rnd_normal(struct sim *s, double sd)
{
	if (!(sd > 0.0))
		return 0.0;
	return sd * sqrt(-2.0 * log(rnd_unit(s))) * cos(2.0 * M_PI * rnd_unit(s));
}

double sim_unit(struct sim *s)
{
	return rnd_unit(s);
}

int64_t sim_ns_of(double s)
{
	return (int64_t)llround(s * 1e9);
}

int64_t sim_utc(const struct sim *s, int64_t t)
{
	if (!s->leap_dir || t < s->leap_ns)
		return t;
	return t - s->leap_dir * NS;
}

void sim_servers_start(struct sim *s)
{
	int i;

	for (i = 0; i < s->sc->nservers; i++)
		s->phase[i] = 2.0 * M_PI * rnd_unit(s);
}

double sim_server_error(const struct sim *s, int i, int64_t t)
{
	const struct sim_server *v = &s->sc->srv[i];
	double e = v->lie, el = (double)(t - s->t0) / 1e9;

	if (v->wobble > 0.0 && v->wobble_period > 0.0)
		e += v->wobble * sin(2.0 * M_PI * el / v->wobble_period + s->phase[i]);
	if (v->step_at > 0.0 && el >= v->step_at)
		e += v->step_by;
	return e;
}

/* Server I's clock reading at truth T: UTC (or, when it ignores the leap, the truth
 * as it was before it) plus its error and its noise. */
static int64_t server_clock(struct sim *s, int i, int64_t t)
{
	const struct sim_server *v = &s->sc->srv[i];
	int64_t base = v->no_leap ? t : sim_utc(s, t);

	return base + sim_ns_of(sim_server_error(s, i, t) + rnd_normal(s, v->noise));
}

/* The leap indicator server I sends at truth T. */
static int server_leap(const struct sim *s, int i, int64_t t)
{
	double ahead = s->sc->leap_announce > 0.0 ? s->sc->leap_announce : LEAP_ANNOUNCE_S;

	if (!s->leap_dir || s->sc->srv[i].no_leap || s->sc->leap_quiet || t >= s->leap_ns ||
	    s->leap_ns - t > sim_ns_of(ahead))
		return NTP_LEAP_NONE;
	return s->leap_dir > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
}

void sim_send_request(struct sim *s, int i, int64_t t1)
{
	const struct scenario *sc = s->sc;
	const struct sim_server *v = &sc->srv[i];
	struct flight *f = &s->fl[i];
	double out, back, el = (double)(s->t - s->t0) / 1e9, disp;
	int64_t at_server, rec, xmt;

	if (sc->cut_at > 0.0 && s->t - s->t0 >= sim_ns_of(sc->cut_at))
		return;
	if (sc->loss > 0.0 && rnd_unit(s) <= sc->loss)
		return;
	out = sc->delay + sc->asym + rnd_exp(s, sc->jitter);
	back = sc->delay + rnd_exp(s, sc->jitter);
	at_server = s->t + sim_ns_of(out);
	rec = server_clock(s, i, at_server);
	xmt = server_clock(s, i, at_server + sim_ns_of(SERVER_PROC));
	if (xmt < rec) /* noise larger than the processing time: still in order */
		xmt = rec;
	disp = v->root_disp > 0.0 ? v->root_disp : SERVER_ROOT_DISP;
	if (v->step_at > 0.0 && el >= v->step_at && v->root_disp_after > 0.0)
		disp = v->root_disp_after;
	memset(&f->pkt, 0, sizeof(f->pkt));
	f->pkt.leap = (uint8_t)server_leap(s, i, at_server);
	f->pkt.version = 4;
	f->pkt.mode = NTP_MODE_SERVER;
	f->pkt.stratum = (uint8_t)(v->stratum > 0 ? v->stratum : 1);
	f->pkt.poll = 6;
	f->pkt.precision = SERVER_PREC;
	f->pkt.root_delay = ntp_short_from_double(v->root_delay);
	f->pkt.root_disp = ntp_short_from_double(disp);
	f->pkt.refid = f->pkt.stratum == 1 ? ntp_refid_ascii("GPS") : 0xc6336401u;
	f->pkt.ref = ntp_ts_from_unix_ns(rec - NS);
	f->pkt.org = rnd64(s);
	f->pkt.rec = ntp_ts_from_unix_ns(rec);
	f->pkt.xmt = ntp_ts_from_unix_ns(xmt);
	f->sent = s->t;
	f->arrive = at_server + sim_ns_of(SERVER_PROC + back);
	f->t1 = t1;
	f->pending = 1;
}
