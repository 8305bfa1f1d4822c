/*
 * Names of the RFC 5905 flash bits, as ntpq shows them.
 */
#include "proto/flash.h"

static const char *const flash_names[NTP_FLASH_NBITS] = {
	"pkt_dup",     "pkt_bogus",  "pkt_unsync",   "pkt_denied", "pkt_auth",
	"pkt_stratum", "pkt_header", "pkt_autokey",  "pkt_crypto", "peer_stratum",
	"peer_dist",   "peer_loop",  "peer_unreach",
};

const char *ntp_flash_name(unsigned bit)
{
	int i;

	for (i = 0; i < NTP_FLASH_NBITS; i++)
		if (bit == 1u << i)
			return flash_names[i];
	return "?";
}
