/*
 * The unit tests' pseudo-random numbers: one xorshift64 generator per test
 * program, seeded the same every run, so a failure repeats.
 */
#ifndef VW_TEST_RNG_H
#define VW_TEST_RNG_H

#include <stdint.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static inline uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

#endif
