/*
 * The verdict logic of `horoctl check`: given the replies an NTP server
 * sent to a handful of client requests (decoded headers plus our own send
 * and receive times), say what the server advertises, which RFC 5905
 * packet and peer tests fail (by ntpd's flash bit and name), whether
 * ntpd/NTPsec, chrony, systemd-timesyncd and a plain RFC 5905 client
 * would accept it, why not, and the fix on either side. Pure: no I/O, no
 * clock, no globals; the renderers write into a caller's buffer.
 *
 * Distance. Every client compares a root distance with its limit, and
 * they do not all compute the same one:
 *   - ntpd/NTPsec, chrony and the RFC 5905 client use the peer's root
 *     distance, RFC 5905 root_dist(): max(MINDISP, root delay + path
 *     delay) / 2 + root dispersion + path dispersion + jitter, where the
 *     path delay is that of the minimum-delay reply (what the clock filter
 *     picks), the path dispersion is that reply's epsilon (server and
 *     local precision plus PHI x delay) and the jitter the RMS of the
 *     other offsets about it. This is the steady state of a client whose
 *     filter is full; a freshly started ntpd adds up to several seconds of
 *     empty-filter dispersion in its first polls, so it may take a few
 *     polls to select a server that passes here.
 *   - systemd-timesyncd compares only what the server advertises: root
 *     delay / 2 + root dispersion ("advertised root distance").
 */
#ifndef HOROD_PROTO_NTPCHECK_H
#define HOROD_PROTO_NTPCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "proto/flash.h"
#include "proto/ntp.h"

#define NTPCHK_MAX_SAMPLES 16 /* requests per check: bounded run time and traffic */

/* What the caller knows about one request (flags of a sample). */
#define NTPCHK_F_NOREPLY 0x1 /* no reply arrived within the timeout */
#define NTPCHK_F_BADORG	 0x2 /* a reply arrived whose origin is none of our transmits */
#define NTPCHK_F_KOD	 0x4 /* the reply is a kiss-o'-death (also detected: stratum 0) */
#define NTPCHK_F_DUP	 0x8 /* a second copy of the reply arrived */

/* One request and its reply. */
struct ntpchk_sample {
	unsigned flags;	       /* NTPCHK_F_* */
	uint64_t t1;	       /* NTP timestamp: when we sent the request */
	uint64_t t4;	       /* NTP timestamp: when the reply arrived */
	struct ntp_packet pkt; /* the decoded reply (ignored with NTPCHK_F_NOREPLY) */
};

/* The clients we judge for, in report order. */
enum ntpchk_client {
	NTPCHK_NTPD,	  /* ntpd / NTPsec: tos maxdist 1.5 s */
	NTPCHK_CHRONY,	  /* chrony: maxdistance 3 s */
	NTPCHK_TIMESYNCD, /* systemd-timesyncd: RootDistanceMaxSec 5 s */
	NTPCHK_RFC5905,	  /* the RFC 5905 reference client: MAXDIST 1 s */
	NTPCHK_NCLIENTS
};

#define NTPCHK_TEXT   192 /* bytes of one explanation line */
#define NTPCHK_ADVICE 6	  /* advice lines at most */

/* One client's verdict. */
struct ntpchk_verdict {
	int accept;	       /* 1 accept, 0 reject */
	unsigned flash;	       /* NTP_FLASH_* bits (proto/flash.h) that make it reject */
	double distance;       /* s: the distance this client compares */
	double limit;	       /* s: its default limit */
	char why[NTPCHK_TEXT]; /* "accept: ..." or "reject: 0x400 peer_dist, ..." */
	char fix[NTPCHK_TEXT]; /* client-side change that would accept it, or "" */
};

/* Everything a check found. */
struct ntpchk_result {
	int sent;	  /* requests */
	int answered;	  /* requests with any reply */
	int valid;	  /* replies that pass the packet tests (samples) */
	int kod;	  /* kiss-o'-death replies */
	int bogus;	  /* replies with a foreign origin */
	int dups;	  /* duplicate replies */
	char kod_code[5]; /* the last KoD code, NUL terminated */
	int have_header;  /* a reply (not KoD, not bogus) gave the fields below */
	uint8_t leap, version, mode, stratum;
	int8_t precision; /* log2 s */
	uint32_t refid;
	char refid_text[20]; /* ASCII for stratum 0/1, dotted IPv4 for 2..15, else hex */
	double root_delay;   /* s */
	double root_disp;    /* s */
	double adv_distance; /* s: root delay / 2 + root dispersion */
	double distance;     /* s: RFC 5905 root_dist() (see the top of this file) */
	double offset;	     /* s: of the minimum-delay sample */
	double delay;	     /* s: minimum round-trip delay */
	double disp;	     /* s: that sample's dispersion (epsilon) */
	double jitter;	     /* s: RMS of the other offsets about it */
	unsigned flash;	     /* every NTPCHK_FLASH_* bit seen */
	int w32time_like;    /* stratum 1, local-clock refid, dispersion >= 1 s */
	struct ntpchk_verdict v[NTPCHK_NCLIENTS];
	char advice[NTPCHK_ADVICE][NTPCHK_TEXT]; /* what to change, plain words */
	int nadvice;
	int exit_code; /* 0 accepted by all, 1 rejected by some, 2 unreachable */
};

/* Analyze N samples (local clock precision LOCAL_PREC, log2 s) into R; returns R->exit_code. */
int ntpchk_analyze(const struct ntpchk_sample *s, int n, int local_prec, struct ntpchk_result *r);

/* Name of a client ("ntpd", "chrony", "timesyncd", "rfc5905"). */
const char *ntpchk_client_name(enum ntpchk_client c);

/* Write "0x400 peer_dist, 0x200 peer_stratum" for FLASH into BUF; returns BUF. */
char *ntpchk_flash_format(unsigned flash, char *buf, size_t len);

/* The report of R for SERVER as text into BUF; returns the length it needs (as snprintf). */
size_t ntpchk_format_text(const struct ntpchk_result *r, const char *server, char *buf, size_t len);

/* The report of R for SERVER as one JSON object into BUF; returns the length it needs. */
size_t ntpchk_format_json(const struct ntpchk_result *r, const char *server, char *buf, size_t len);

#endif
