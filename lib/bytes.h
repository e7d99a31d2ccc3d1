/*
 * Big-endian (network order) loads and stores of unaligned fields: what
 * packet parsers, encapsulations and encoders (IPFIX, GRE, pcap) read and
 * write.  Byte by byte, so any alignment is fine; the compiler makes them
 * single moves with a byte swap.
 */
#ifndef VW_BYTES_H
#define VW_BYTES_H

#include <stdint.h>

static inline uint16_t vw_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vw_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t vw_get64(const uint8_t *p)
{
	return (uint64_t)vw_get32(p) << 32 | vw_get32(p + 4);
}

static inline void vw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void vw_put32(uint8_t *p, uint32_t v)
{
	vw_put16(p, (uint16_t)(v >> 16));
	vw_put16(p + 2, (uint16_t)v);
}

static inline void vw_put64(uint8_t *p, uint64_t v)
{
	vw_put32(p, (uint32_t)(v >> 32));
	vw_put32(p + 4, (uint32_t)v);
}

#endif
