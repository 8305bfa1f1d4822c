/*
 * The packet tests of RFC 5905 on a server's reply, as our client side
 * runs them: every field is checked before anything uses it, and each
 * failure is reported as its flash bit, never asserted. The tests here
 * read the header alone; the duplicate test needs the source's history
 * and the round-trip tests our timestamps, so their owners run them.
 */
#include "proto/ntpreply.h"

unsigned ntp_reply_tests(const struct ntp_packet *p)
{
	unsigned flash = 0;

	if (p->mode != NTP_MODE_SERVER && p->mode != NTP_MODE_PASSIVE)
		flash |= NTP_FLASH_BOGUS;
	if (p->leap == NTP_LEAP_UNSYNC || p->stratum == 0 || p->stratum > 15 || p->xmt == 0)
		flash |= NTP_FLASH_UNSYNC;
	if (p->version < 1 || p->version > 4 ||
	    ntp_short_to_double(p->root_delay) > NTP_REPLY_MAXDISP ||
	    ntp_short_to_double(p->root_disp) > NTP_REPLY_MAXDISP || p->rec == 0 ||
	    p->precision > 0)
		flash |= NTP_FLASH_HEADER;
	/* A server that never set its clock, or set it after answering, is not synchronized. */
	if (p->ref == 0 || (p->xmt != 0 && ntp_ts_diff(p->ref, p->xmt) > 0.0))
		flash |= NTP_FLASH_STRATUM;
	return flash;
}

int ntp_reply_is_kod(const struct ntp_packet *p)
{
	return p->stratum == 0 && p->leap == NTP_LEAP_UNSYNC;
}

enum ntp_kod_ask ntp_kod_ask(uint32_t refid)
{
	if (refid == ntp_refid_ascii(NTP_KOD_DENY) || refid == ntp_refid_ascii(NTP_KOD_RSTR))
		return NTP_KOD_ASK_STOP;
	if (refid == ntp_refid_ascii(NTP_KOD_RATE))
		return NTP_KOD_ASK_SLOW_DOWN;
	return NTP_KOD_ASK_NOTHING;
}
