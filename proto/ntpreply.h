/*
 * An NTP server's reply as our client side judges it before it becomes a
 * time sample: the RFC 5905 packet tests that need neither state nor our
 * own timestamps (each failure is a flash bit of proto/flash.h), and what
 * a kiss-o'-death asks of a client. Pure functions: the caller keeps the
 * duplicate detection (the last transmit timestamp of each source) and
 * the arithmetic on the four timestamps belongs to the clock core.
 */
#ifndef HOROD_PROTO_NTPREPLY_H
#define HOROD_PROTO_NTPREPLY_H

#include <stdint.h>

#include "proto/flash.h"
#include "proto/ntp.h"

#define NTP_REPLY_MAXDISP                                                                          \
	16.0 /* s: root delay or dispersion beyond which a header is nonsense                      \
		(RFC 5905 MAXDISP) */

/* What a kiss-o'-death asks of a client (RFC 5905 section 7.4). */
enum ntp_kod_ask {
	NTP_KOD_ASK_NOTHING,   /* a code we do not act on */
	NTP_KOD_ASK_SLOW_DOWN, /* RATE: poll less often */
	NTP_KOD_ASK_STOP,      /* DENY, RSTR: stop talking to this server */
};

/*
 * The packet tests on reply P: NTP_FLASH_BOGUS (not a server or passive
 * mode), _UNSYNC (LI 3, stratum 0 or above 15, no transmit time),
 * _HEADER (version, root delay or dispersion above NTP_REPLY_MAXDISP, no
 * receive time, a precision above 1 s) and _STRATUM (a clock never set,
 * or set after it answered). 0 when every test passes.
 */
unsigned ntp_reply_tests(const struct ntp_packet *p);

/* 1 when P is a kiss-o'-death (LI 3, stratum 0), else 0. */
int ntp_reply_is_kod(const struct ntp_packet *p);

/* What the kiss-o'-death code REFID (its ASCII code, as in struct ntp_packet) asks. */
enum ntp_kod_ask ntp_kod_ask(uint32_t refid);

#endif
