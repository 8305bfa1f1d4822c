/*
 * The flash bits of RFC 5905: one bit per packet or peer test a reply or
 * a source failed, with the names ntpq shows for them. The clock core
 * sets them on its sources (horoctl sources, ntpq's `flash`), horoctl
 * check on the servers it asks; both use this one list.
 */
#ifndef HOROD_PROTO_FLASH_H
#define HOROD_PROTO_FLASH_H

#define NTP_FLASH_DUP	       0x0001 /* pkt_dup: duplicate packet */
#define NTP_FLASH_BOGUS	       0x0002 /* pkt_bogus: origin does not match our request */
#define NTP_FLASH_UNSYNC       0x0004 /* pkt_unsync: server unsynchronized */
#define NTP_FLASH_DENIED       0x0008 /* pkt_denied: KoD DENY/RSTR */
#define NTP_FLASH_AUTH	       0x0010 /* pkt_auth: authentication failed */
#define NTP_FLASH_STRATUM      0x0020 /* pkt_stratum: stratum out of range, clock never set */
#define NTP_FLASH_HEADER       0x0040 /* pkt_header: header values out of range */
#define NTP_FLASH_AUTOKEY      0x0080 /* pkt_autokey (Autokey, never used) */
#define NTP_FLASH_CRYPTO       0x0100 /* pkt_crypto (Autokey, never used) */
#define NTP_FLASH_PEER_STRATUM 0x0200 /* peer_stratum: stratum too high */
#define NTP_FLASH_PEER_DIST    0x0400 /* peer_dist: root distance above the limit */
#define NTP_FLASH_PEER_LOOP    0x0800 /* peer_loop: the source is synchronized to us */
#define NTP_FLASH_PEER_UNREACH 0x1000 /* peer_unreach: not reachable */
#define NTP_FLASH_NBITS	       13     /* bits above, from bit 0 up */

/* The name ntpq gives the single flash bit BIT ("peer_dist"), or "?". */
const char *ntp_flash_name(unsigned bit);

#endif
