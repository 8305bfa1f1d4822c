/*
 * A small MD5 (RFC 1321), written from the RFC's description, used only to
 * derive the reference ID of an IPv6 upstream (RFC 5905: the first four
 * bytes of the MD5 of the address). One call hashes one buffer: there is
 * no streaming interface because nothing here needs one. Not for security.
 */
#include <string.h>

#include "proto/md5.h"

#define MD5_BLOCK 64 /* bytes per MD5 block (512 bits) */

/* Per-step left-rotation amounts, four per round (RFC 1321, section 3.4). */
static const uint8_t md5_shift[4][4] = {
	{7, 12, 17, 22},
	{5, 9, 14, 20},
	{4, 11, 16, 23},
	{6, 10, 15, 21},
};

/* T[i] = floor(2^32 * |sin(i + 1)|), the additive constant of step i. */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
	0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
	0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
	0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
	0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
	0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
	0xeb86d391,
};

static uint32_t rotl32(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Fold one 64-byte block into the state H (RFC 1321, section 3.4). */
static void md5_block(uint32_t h[4], const uint8_t *block)
{
	uint32_t x[16];
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
	unsigned int i;

	for (i = 0; i < 16; i++)
		x[i] = get_le32(block + 4 * i);

	for (i = 0; i < 64; i++) {
		uint32_t f, tmp;
		unsigned int k;

		switch (i / 16) {
		case 0:
			f = (b & c) | (~b & d);
			k = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			k = (5 * i + 1) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			k = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			k = (7 * i) % 16;
			break;
		}
		tmp = d;
		d = c;
		c = b;
		b = b + rotl32(a + f + x[k] + md5_t[i], md5_shift[i / 16][i % 4]);
		a = tmp;
	}

	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
}

void ntp_md5(const void *data, size_t len, uint8_t out[16])
{
	const uint8_t *p = data;
	uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
	uint8_t tail[2 * MD5_BLOCK];
	size_t rest, tail_len;
	uint64_t bits = (uint64_t)len * 8; /* message length in bits, mod 2^64 */
	unsigned int i;

	for (rest = len; rest >= MD5_BLOCK; rest -= MD5_BLOCK, p += MD5_BLOCK)
		md5_block(h, p);

	/* Padding: 0x80, zeros up to 56 mod 64, then the bit length (LE). */
	memset(tail, 0, sizeof(tail));
	if (rest)
		memcpy(tail, p, rest);
	tail[rest] = 0x80;
	tail_len = rest < MD5_BLOCK - 8 ? MD5_BLOCK : 2 * MD5_BLOCK;
	put_le32(tail + tail_len - 8, (uint32_t)bits);
	put_le32(tail + tail_len - 4, (uint32_t)(bits >> 32));
	md5_block(h, tail);
	if (tail_len > MD5_BLOCK)
		md5_block(h, tail + MD5_BLOCK);

	for (i = 0; i < 4; i++)
		put_le32(out + 4 * i, h[i]);
}
