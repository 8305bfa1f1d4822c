/*
 * MD5 (RFC 1321) for the IPv6 reference ID that RFC 5905 defines as the
 * first four bytes of the MD5 of the address: nettle's, one call per
 * buffer. Not for security.
 */
#include <nettle/md5.h>

#include "proto/md5.h"

_Static_assert(MD5_DIGEST_SIZE == 16, "an MD5 digest is 16 bytes");

void ntp_md5(const void *data, size_t len, uint8_t out[16])
{
	struct md5_ctx c;

	md5_init(&c);
	md5_update(&c, len, data);
	md5_digest(&c, MD5_DIGEST_SIZE, out);
}
