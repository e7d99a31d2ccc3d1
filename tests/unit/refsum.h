/*
 * A reference Internet checksum as plain as it gets (big-endian 16-bit
 * words; an odd last byte is the high half of a word), for the tests and
 * fuzzers that check the datapath's own checksum code against it.
 */
#ifndef VW_REFSUM_H
#define VW_REFSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

#endif
