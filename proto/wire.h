/*
 * Big-endian loads and stores of 16- and 32-bit fields at any alignment,
 * through memcpy and a byte swap (one move each). For the record and
 * extension-field codecs (NTS-KE, NTS, MACs), whose fields are network
 * order and often unaligned.
 */
#ifndef HOROD_PROTO_WIRE_H
#define HOROD_PROTO_WIRE_H

#include <stdint.h>
#include <string.h>

/* The 16-bit big-endian value at P. */
static inline uint16_t wire_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	return v;
}

/* The 32-bit big-endian value at P. */
static inline uint32_t wire_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* Store V big-endian at P. */
static inline void wire_put16(uint8_t *p, uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap16(v);
#endif
	memcpy(p, &v, sizeof(v));
}

/* Store V big-endian at P. */
static inline void wire_put32(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, sizeof(v));
}

#endif
