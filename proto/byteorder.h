/*
 * Big-endian (network order) loads and stores of 16, 32 and 64-bit
 * words at any alignment, for every wire format here (NTP, mode 6, the
 * control protocol) and the programs that build packets themselves: one
 * memcpy and a byte swap each, so a load or store is one move however
 * the buffer is aligned (the reply builder runs per packet).
 */
#ifndef HOROD_PROTO_BYTEORDER_H
#define HOROD_PROTO_BYTEORDER_H

#include <stdint.h>
#include <string.h>

/* The 16-bit big-endian word at P. */
static inline uint16_t be_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

/* The 32-bit big-endian word at P. */
static inline uint32_t be_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* The 64-bit big-endian word at P. */
static inline uint64_t be_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Store V at P, big-endian. */
static inline void be_put16(uint8_t *p, uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	memcpy(p, &v, sizeof(v));
}

/* Store V at P, big-endian. */
static inline void be_put32(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, sizeof(v));
}

/* Store V at P, big-endian. */
static inline void be_put64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof(v));
}

#endif
