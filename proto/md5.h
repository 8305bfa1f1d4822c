/*
 * MD5 (RFC 1321, nettle's), only for the IPv6 reference ID that RFC 5905 defines as
 * the first four bytes of the MD5 of the address. Not for security.
 */
#ifndef HOROD_PROTO_MD5_H
#define HOROD_PROTO_MD5_H

#include <stddef.h>
#include <stdint.h>

/* MD5 digest of LEN bytes at DATA into OUT. */
void ntp_md5(const void *data, size_t len, uint8_t out[16]);

#endif
