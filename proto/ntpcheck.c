/*
 * `horoctl check`'s judgement, kept apart from its sockets so that every
 * verdict can be tested on crafted replies: the RFC 5905 packet tests
 * (named by ntpd's flash bits, which is what ntpq shows an operator), the
 * sample arithmetic (offset, delay, dispersion, jitter, root distance),
 * one verdict per client model with the numbers it uses, the fix on the
 * server or the client side, and text and JSON renderers.
 *
 * Sources of the numbers: RFC 5905 (MAXDIST 1 s, MAXSTRAT 16, MAXDISP
 * 16 s, MINDISP 0.01 s, PHI 15 ppm, MINPOLL 6; the distance test allows
 * MAXDIST + PHI x 2^poll), ntpd/NTPsec's `tos maxdist` default of 1.5 s
 * (same test, same PHI term), chrony's `maxdistance` default of 3 s and
 * systemd-timesyncd's `RootDistanceMaxSec` default of 5 s, which it
 * compares with the server's advertised root delay / 2 + root dispersion.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/appendf.h"
#include "proto/ntpcheck.h"

#define RFC_MAXDIST	1.0   /* s: RFC 5905 distance threshold */
#define RFC_MAXDISP	16.0  /* s: RFC 5905 maximum dispersion (pkt_header) */
#define RFC_MINDISP	0.01  /* s: RFC 5905 floor of root delay + delay in root_dist() */
#define RFC_PHI		15e-6 /* s/s: RFC 5905 frequency tolerance */
#define RFC_MAXSTRAT	16    /* RFC 5905: stratum 16 = unsynchronized */
#define POLL_SECS	64.0  /* s: 2^MINPOLL, the poll the PHI term of the distance test uses */
#define NTPD_MAXDIST	1.5   /* s: ntpd/NTPsec `tos maxdist` default */
#define CHRONY_MAXDIST	3.0   /* s: chrony `maxdistance` default */
#define SYSTEMD_MAXDIST 5.0   /* s: systemd-timesyncd `RootDistanceMaxSec` default */
#define W32_MIN_DISP	1.0 /* s: root dispersion from which a LOCL stratum 1 looks like w32time */
#define FIX_MARGIN	1.0 /* s: added to a distance for a client limit that accepts it */
#define FIX_MAX_DISTANCE                                                                           \
	3600.0 /* s: beyond an hour of root distance, raising a client limit is no fix */

/* Packet-level bits: a reply failing one of them gives no sample. */
#define PKT_BITS                                                                                   \
	(NTP_FLASH_BOGUS | NTP_FLASH_UNSYNC | NTP_FLASH_DENIED | NTP_FLASH_STRATUM |               \
	 NTP_FLASH_HEADER)

const char *ntpchk_client_name(enum ntpchk_client c)
{
	switch (c) {
	case NTPCHK_NTPD:
		return "ntpd";
	case NTPCHK_CHRONY:
		return "chrony";
	case NTPCHK_TIMESYNCD:
		return "timesyncd";
	case NTPCHK_RFC5905:
		return "rfc5905";
	default:
		return "?";
	}
}

/* The label of a client in the text report. */
static const char *client_label(int c)
{
	static const char *const labels[NTPCHK_NCLIENTS] = {"ntpd/NTPsec", "chrony",
							    "systemd-timesyncd", "RFC 5905 client"};

	return c >= 0 && c < NTPCHK_NCLIENTS ? labels[c] : "?";
}

char *ntpchk_flash_format(unsigned flash, char *buf, size_t len)
{
	size_t used = 0;
	int i, k;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < NTP_FLASH_NBITS; i++) {
		if (!(flash & (1u << i)))
			continue;
		k = snprintf(buf + used, len - used, "%s0x%03x %s", used ? ", " : "", 1u << i,
			     ntp_flash_name(1u << i));
		if (k < 0 || (size_t)k >= len - used)
			break;
		used += (size_t)k;
	}
	return buf;
}

/* The 4-character code of a KoD reply's refid into CODE (NUL terminated). */
static void kod_code(uint32_t refid, char code[5])
{
	int i;

	for (i = 0; i < 4; i++) {
		uint8_t c = (uint8_t)(refid >> (24 - 8 * i));

		code[i] = (c >= 0x20 && c < 0x7f) ? (char)c : (c ? '.' : '\0');
	}
	code[4] = '\0';
}

/* Refid as text: ASCII for stratum 0/1, dotted IPv4 for 2..15, hex otherwise. */
static void refid_text(uint32_t refid, int stratum, char *buf, size_t len)
{
	if (stratum <= 1 || (stratum > 1 && stratum < RFC_MAXSTRAT)) {
		ntp_refid_format(refid, stratum, buf, len);
		if (stratum > 1 || buf[0])
			return;
	}
	snprintf(buf, len, "0x%08x", refid);
}

/* A local-clock code (LOCL, LOCAL, CLK, FREE) as refid. */
static int local_refid(uint32_t refid)
{
	static const char *const codes[] = {"LOCL", "LOCA", "CLK", "FREE"};
	char c[5];
	size_t i;

	kod_code(refid, c);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(c, codes[i]) == 0)
			return 1;
	return 0;
}

/* printf into a fixed line. */
__attribute__((format(printf, 2, 3))) static void line(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, NTPCHK_TEXT, fmt, ap);
	va_end(ap);
}

/* Append an advice line to R (dropped past NTPCHK_ADVICE). */
__attribute__((format(printf, 2, 3))) static void advise(struct ntpchk_result *r, const char *fmt,
							 ...)
{
	va_list ap;

	if (r->nadvice >= NTPCHK_ADVICE)
		return;
	va_start(ap, fmt);
	vsnprintf(r->advice[r->nadvice++], NTPCHK_TEXT, fmt, ap);
	va_end(ap);
}

/* What a KoD code means, in plain words. */
static const char *kod_meaning(const char *code)
{
	if (strcmp(code, "RATE") == 0)
		return "the server rate-limits this client: poll less often, or ask its operator "
		       "to relax the limit";
	if (strcmp(code, "DENY") == 0)
		return "access denied by the server's access rules (ntpd restrict, chrony deny, "
		       "horod deny): ask its operator to allow this address";
	if (strcmp(code, "RSTR") == 0)
		return "access restricted by the server's rules (e.g. it requires authentication "
		       "or restricts this address)";
	return "kiss-o'-death: the server refuses to serve this client";
}

/* Why no reply was usable: the cause named in a verdict's explanation. */
static void unusable_reason(const struct ntpchk_result *r, char *dst, size_t len)
{
	if (!r->answered)
		snprintf(dst, len, "no reply to %d requests", r->sent);
	else if (r->kod)
		snprintf(dst, len, "kiss-o'-death %s", r->kod_code);
	else if (r->bogus && !r->have_header)
		snprintf(dst, len, "replies do not echo our transmit timestamp (origin mismatch)");
	else if (r->have_header && (r->leap == NTP_LEAP_UNSYNC || r->stratum >= RFC_MAXSTRAT))
		snprintf(dst, len, "server unsynchronized (LI %u, stratum %u)", r->leap,
			 r->stratum);
	else if (r->flash & NTP_FLASH_UNSYNC)
		snprintf(dst, len, "reply has a zero receive, origin or transmit timestamp");
	else
		snprintf(dst, len, "invalid reply header");
}

/* One client's verdict into R->v[C]. */
static void judge(struct ntpchk_result *r, int c)
{
	struct ntpchk_verdict *v = &r->v[c];
	char names[128], cause[96];
	double eff; /* s: the limit the test uses */
	int over, n;

	switch (c) {
	case NTPCHK_NTPD:
		v->limit = NTPD_MAXDIST;
		eff = NTPD_MAXDIST + RFC_PHI * POLL_SECS;
		v->distance = r->distance;
		break;
	case NTPCHK_CHRONY:
		v->limit = eff = CHRONY_MAXDIST;
		v->distance = r->distance;
		break;
	case NTPCHK_TIMESYNCD:
		v->limit = eff = SYSTEMD_MAXDIST;
		v->distance = r->adv_distance;
		break;
	default:
		v->limit = RFC_MAXDIST;
		eff = RFC_MAXDIST + RFC_PHI * POLL_SECS;
		v->distance = r->distance;
		break;
	}
	if (!r->valid) {
		v->accept = 0;
		v->flash = r->flash & (PKT_BITS | NTP_FLASH_PEER_STRATUM | NTP_FLASH_PEER_UNREACH);
		unusable_reason(r, cause, sizeof(cause));
		line(v->why, "reject: %s; %s", ntpchk_flash_format(v->flash, names, sizeof(names)),
		     cause);
		return;
	}
	over = c == NTPCHK_CHRONY || c == NTPCHK_TIMESYNCD ? v->distance > eff : v->distance >= eff;
	if (!over) {
		v->accept = 1;
		line(v->why, "accept: %sroot distance %.3g s <= %.3g s",
		     c == NTPCHK_TIMESYNCD ? "advertised " : "", v->distance, v->limit);
		return;
	}
	v->accept = 0;
	v->flash = NTP_FLASH_PEER_DIST;
	line(v->why, "reject: 0x400 peer_dist, %sroot distance %.2f s > %.3g s",
	     c == NTPCHK_TIMESYNCD ? "advertised " : "", v->distance, v->limit);
	/*
	 * A distance no client setting should ever accept (a hostile or broken
	 * server can advertise up to 2^127 s of precision): no client fix, and
	 * no conversion of an unbounded double to int.
	 */
	if (!(v->distance < FIX_MAX_DISTANCE)) {
		line(v->fix,
		     "none on the client: a root distance of %.3g s is not one to accept; "
		     "fix the server",
		     v->distance);
		return;
	}
	n = (int)ceil(v->distance + FIX_MARGIN);
	switch (c) {
	case NTPCHK_NTPD:
		line(v->fix, "tos maxdist %d (ntp.conf / ntpsec ntp.conf), then restart ntpd", n);
		break;
	case NTPCHK_CHRONY:
		line(v->fix, "maxdistance %d (chrony.conf), then restart chronyd", n);
		break;
	case NTPCHK_TIMESYNCD:
		line(v->fix,
		     "RootDistanceMaxSec=%d under [Time] in /etc/systemd/timesyncd.conf, then "
		     "restart systemd-timesyncd",
		     n);
		break;
	default:
		line(v->fix, "none on the client: MAXDIST is a protocol constant; fix the server");
		break;
	}
}

/* The server-side and general advice lines. */
static void advice(struct ntpchk_result *r)
{
	if (!r->answered) {
		advise(r, "no reply at all: the host is down, nothing serves NTP on that port, a "
			  "firewall drops UDP, or an access rule drops requests without a KoD");
		return;
	}
	if (r->kod)
		advise(r, "kiss-o'-death %s: %s", r->kod_code, kod_meaning(r->kod_code));
	if (r->bogus)
		advise(r,
		       "%d of %d replies did not echo our transmit timestamp as their origin "
		       "(0x002 pkt_bogus): every client discards them (a broken server, a "
		       "middlebox rewriting NTP, or spoofed replies)",
		       r->bogus, r->answered);
	if (r->dups)
		advise(r, "%d duplicate replies (0x001 pkt_dup): clients drop the copies", r->dups);
	if (r->have_header && (r->leap == NTP_LEAP_UNSYNC || r->stratum >= RFC_MAXSTRAT)) {
		advise(r,
		       "the server says it is not synchronized (LI %u, stratum %u): it has lost "
		       "or never reached its own source, and every client rejects it until it "
		       "does; fix its upstream (w32tm /query /status, chronyc tracking, ntpq -p, "
		       "horoctl status)",
		       r->leap, r->stratum);
		return;
	}
	if (!r->valid || r->v[NTPCHK_RFC5905].accept)
		return;
	if (r->w32time_like) {
		advise(r,
		       "this looks like Windows w32time serving its own clock (stratum 1, refid "
		       "%s, root dispersion %.2f s = its LocalClockDispersion)",
		       r->refid_text, r->root_disp);
		advise(r, "on the Windows server: w32tm /config /localclockdispersion:0 /update");
		advise(r, "then: w32tm /resync /rediscover (restart w32time if the dispersion "
			  "does not drop)");
		advise(r, "better: give it a real source, w32tm /config /manualpeerlist:HOST "
			  "/syncfromflags:manual /update");
	} else {
		advise(r,
		       "the server advertises %.2f s of root distance (root delay / 2 + root "
		       "dispersion): its own synchronization is poor or it has been free-running; "
		       "fix its upstream, or raise the clients' limits as shown",
		       r->adv_distance);
	}
}

int ntpchk_analyze(const struct ntpchk_sample *s, int n, int local_prec, struct ntpchk_result *r)
{
	double off[NTPCHK_MAX_SAMPLES], del[NTPCHK_MAX_SAMPLES], eps[NTPCHK_MAX_SAMPLES];
	const struct ntp_packet *hdr = NULL, *best_hdr = NULL;
	double local = ldexp(1.0, local_prec), sum;
	int i, best = -1, c, nv = 0;

	memset(r, 0, sizeof(*r));
	if (n < 0)
		n = 0;
	if (n > NTPCHK_MAX_SAMPLES)
		n = NTPCHK_MAX_SAMPLES;
	r->sent = n;
	for (i = 0; i < n; i++) {
		const struct ntp_packet *p = &s[i].pkt;
		unsigned f = 0;
		double rd, rdisp, d;

		if (s[i].flags & NTPCHK_F_NOREPLY)
			continue;
		r->answered++;
		if (s[i].flags & NTPCHK_F_DUP) {
			r->dups++;
			r->flash |= NTP_FLASH_DUP;
		}
		if (s[i].flags & NTPCHK_F_BADORG) {
			/* Not ours: even a KoD is ignored unless its origin matches. */
			r->bogus++;
			r->flash |= NTP_FLASH_BOGUS;
			continue;
		}
		if ((s[i].flags & NTPCHK_F_KOD) || p->stratum == 0) {
			r->kod++;
			kod_code(p->refid, r->kod_code);
			if (strcmp(r->kod_code, "DENY") == 0 || strcmp(r->kod_code, "RSTR") == 0)
				r->flash |= NTP_FLASH_DENIED;
			continue;
		}
		hdr = p;
		if ((p->mode != NTP_MODE_SERVER && p->mode != NTP_MODE_PASSIVE) || p->version < 1 ||
		    p->version > 4)
			f |= NTP_FLASH_HEADER;
		if (p->rec == 0 || p->org == 0 || p->xmt == 0)
			f |= NTP_FLASH_UNSYNC;
		if (p->leap == NTP_LEAP_UNSYNC || p->stratum >= RFC_MAXSTRAT ||
		    (p->ref && p->xmt && ntp_ts_diff(p->xmt, p->ref) < 0))
			f |= NTP_FLASH_STRATUM;
		rd = ntp_short_to_double(p->root_delay);
		rdisp = ntp_short_to_double(p->root_disp);
		if (rd / 2 + rdisp >= RFC_MAXDISP)
			f |= NTP_FLASH_HEADER;
		r->flash |= f;
		if (f)
			continue;
		d = ntp_ts_diff(s[i].t4, s[i].t1) - ntp_ts_diff(p->xmt, p->rec);
		if (!(d >= 0)) /* clock granularity or a broken server; NaN too */
			d = 0;
		off[nv] = (ntp_ts_diff(p->rec, s[i].t1) + ntp_ts_diff(p->xmt, s[i].t4)) / 2;
		del[nv] = d;
		eps[nv] = ldexp(1.0, p->precision) + local + RFC_PHI * d;
		if (best < 0 || d < del[best]) {
			best = nv;
			best_hdr = p;
		}
		nv++;
	}
	r->valid = nv;
	if (best_hdr)
		hdr = best_hdr;
	if (hdr) {
		r->have_header = 1;
		r->leap = hdr->leap;
		r->version = hdr->version;
		r->mode = hdr->mode;
		r->stratum = hdr->stratum;
		r->precision = hdr->precision;
		r->refid = hdr->refid;
		refid_text(hdr->refid, hdr->stratum, r->refid_text, sizeof(r->refid_text));
		r->root_delay = ntp_short_to_double(hdr->root_delay);
		r->root_disp = ntp_short_to_double(hdr->root_disp);
		r->adv_distance = r->root_delay / 2 + r->root_disp;
		r->distance = r->adv_distance;
		if (hdr->leap == NTP_LEAP_UNSYNC || hdr->stratum >= RFC_MAXSTRAT)
			r->flash |= NTP_FLASH_PEER_STRATUM;
		r->w32time_like = hdr->stratum == 1 && local_refid(hdr->refid) &&
				  r->root_disp >= W32_MIN_DISP;
	}
	if (nv) {
		r->offset = off[best];
		r->delay = del[best];
		r->disp = eps[best];
		for (sum = 0, i = 0; i < nv; i++)
			sum += (off[i] - off[best]) * (off[i] - off[best]);
		r->jitter = nv > 1 ? sqrt(sum / (nv - 1)) : 0;
		if (r->jitter < local)
			r->jitter = local;
		r->distance = fmax(RFC_MINDISP, r->root_delay + r->delay) / 2 + r->root_disp +
			      r->disp + r->jitter;
	} else if (!(r->flash & NTP_FLASH_PEER_STRATUM)) {
		/* Nothing usable, and not for want of synchronization. */
		r->flash |= NTP_FLASH_PEER_UNREACH;
	}
	r->exit_code = 0;
	for (c = 0; c < NTPCHK_NCLIENTS; c++) {
		judge(r, c);
		if (!r->v[c].accept)
			r->exit_code = 1;
	}
	for (c = 0; c < NTPCHK_NCLIENTS; c++)
		if (!r->v[c].accept && r->v[c].flash == NTP_FLASH_PEER_DIST)
			r->flash |= NTP_FLASH_PEER_DIST;
	if (!r->answered)
		r->exit_code = 2;
	advice(r);
	return r->exit_code;
}

/* FLASH as a JSON array of names. */
static void put_flash_names(struct ntp_text *o, unsigned flash)
{
	int i, first = 1;

	ntp_textf(o, "[");
	for (i = 0; i < NTP_FLASH_NBITS; i++) {
		if (!(flash & (1u << i)))
			continue;
		ntp_textf(o, "%s\"%s\"", first ? "" : ",", ntp_flash_name(1u << i));
		first = 0;
	}
	ntp_textf(o, "]");
}

static const char *leap_name(int leap)
{
	static const char *const names[] = {"none", "insert second", "delete second",
					    "unsynchronized"};

	return names[leap & 3];
}

static const char *exit_text(int code)
{
	return code == 0 ? "accepted by all" : code == 1 ? "rejected by some" : "unreachable";
}

size_t ntpchk_format_text(const struct ntpchk_result *r, const char *server, char *buf, size_t len)
{
	struct ntp_text o;
	char names[160];
	int c, i, first;

	ntp_text_init(&o, buf, len);
	ntp_textf(&o, "server %s: %d of %d requests answered, %d usable", server, r->answered,
		  r->sent, r->valid);
	if (r->kod)
		ntp_textf(&o, ", %d kiss-o'-death %s", r->kod, r->kod_code);
	if (r->bogus)
		ntp_textf(&o, ", %d with a wrong origin", r->bogus);
	ntp_textf(&o, "\n");
	if (r->have_header) {
		ntp_textf(&o,
			  "  leap %u (%s), stratum %u, refid %s, precision 2^%d (%.3g s), version "
			  "%u, "
			  "mode %u\n",
			  r->leap, leap_name(r->leap), r->stratum, r->refid_text, r->precision,
			  ldexp(1.0, r->precision), r->version, r->mode);
		ntp_textf(&o, "  root delay      %.6f s\n  root dispersion %.6f s\n", r->root_delay,
			  r->root_disp);
		ntp_textf(&o,
			  "  root distance   %.6f s advertised (root delay/2 + root dispersion)\n",
			  r->adv_distance);
	}
	if (r->valid) {
		ntp_textf(&o,
			  "                  %.6f s as clients compute it (RFC 5905 root_dist: + "
			  "path "
			  "delay/2, dispersion, jitter)\n",
			  r->distance);
		ntp_textf(&o, "  offset %+.6f s, delay %.6f s, dispersion %.6f s, jitter %.6f s\n",
			  r->offset, r->delay, r->disp, r->jitter);
	}
	ntp_textf(&o, "  tests failed: %s\n",
		  r->flash ? ntpchk_flash_format(r->flash, names, sizeof(names)) : "none");
	ntp_textf(&o, "verdicts:\n");
	for (c = 0; c < NTPCHK_NCLIENTS; c++) {
		ntp_textf(&o, "  %-18s %s\n", client_label(c), r->v[c].why);
		if (r->v[c].fix[0])
			ntp_textf(&o, "  %-18s fix: %s\n", "", r->v[c].fix);
	}
	if (r->nadvice) {
		ntp_textf(&o, "advice:\n");
		for (i = 0; i < r->nadvice; i++)
			ntp_textf(&o, "  - %s\n", r->advice[i]);
	}
	if (r->exit_code == 1) {
		ntp_textf(&o, "result: rejected by");
		for (first = 1, c = 0; c < NTPCHK_NCLIENTS; c++) {
			if (r->v[c].accept)
				continue;
			ntp_textf(&o, "%s %s", first ? "" : ",", ntpchk_client_name(c));
			first = 0;
		}
	} else {
		ntp_textf(&o, "result: %s", exit_text(r->exit_code));
	}
	ntp_textf(&o, ", exit %d\n", r->exit_code);
	return o.len;
}

size_t ntpchk_format_json(const struct ntpchk_result *r, const char *server, char *buf, size_t len)
{
	struct ntp_text o;
	int c, i;

	ntp_text_init(&o, buf, len);
	ntp_textf(&o, "{\"server\":");
	ntp_text_json(&o, server);
	ntp_textf(&o, ",\"sent\":%d,\"answered\":%d,\"valid\":%d,\"kod\":%d,\"kod_code\":", r->sent,
		  r->answered, r->valid, r->kod);
	if (r->kod)
		ntp_text_json(&o, r->kod_code);
	else
		ntp_textf(&o, "null");
	ntp_textf(&o, ",\"bogus\":%d,\"duplicates\":%d", r->bogus, r->dups);
	if (r->have_header) {
		ntp_textf(&o, ",\"leap\":%u,\"stratum\":%u,\"version\":%u,\"mode\":%u,\"refid\":",
			  r->leap, r->stratum, r->version, r->mode);
		ntp_text_json(&o, r->refid_text);
		ntp_textf(&o,
			  ",\"refid_hex\":\"%08x\",\"precision\":%d,\"root_delay\":%.9g,"
			  "\"root_dispersion\":%.9g,\"root_distance_advertised\":%.9g",
			  r->refid, r->precision, r->root_delay, r->root_disp, r->adv_distance);
	} else {
		ntp_textf(&o, ",\"leap\":null,\"stratum\":null,\"refid\":null");
	}
	if (r->valid)
		ntp_textf(&o,
			  ",\"root_distance\":%.9g,\"offset\":%.9g,\"delay\":%.9g,\"dispersion\":%."
			  "9g,"
			  "\"jitter\":%.9g",
			  r->distance, r->offset, r->delay, r->disp, r->jitter);
	else
		ntp_textf(&o,
			  ",\"root_distance\":null,\"offset\":null,\"delay\":null,\"jitter\":null");
	ntp_textf(&o, ",\"flash\":%u,\"flash_names\":", r->flash);
	put_flash_names(&o, r->flash);
	ntp_textf(&o, ",\"w32time_like\":%s,\"verdicts\":{", r->w32time_like ? "true" : "false");
	for (c = 0; c < NTPCHK_NCLIENTS; c++) {
		const struct ntpchk_verdict *v = &r->v[c];

		ntp_textf(&o, "%s\"%s\":{\"accept\":%s,\"flash\":%u,\"flash_names\":", c ? "," : "",
			  ntpchk_client_name(c), v->accept ? "true" : "false", v->flash);
		put_flash_names(&o, v->flash);
		ntp_textf(&o, ",\"distance\":%.9g,\"limit\":%.9g,\"why\":", v->distance, v->limit);
		ntp_text_json(&o, v->why);
		ntp_textf(&o, ",\"fix\":");
		if (v->fix[0])
			ntp_text_json(&o, v->fix);
		else
			ntp_textf(&o, "null");
		ntp_textf(&o, "}");
	}
	ntp_textf(&o, "},\"advice\":[");
	for (i = 0; i < r->nadvice; i++) {
		ntp_textf(&o, "%s", i ? "," : "");
		ntp_text_json(&o, r->advice[i]);
	}
	ntp_textf(&o, "],\"result\":\"%s\",\"exit\":%d}\n", exit_text(r->exit_code), r->exit_code);
	return o.len;
}
