/*
 * Helpers shared by the libFuzzer harnesses (fuzz/fuzz_*.c): a check that
 * stops the run with a message (libFuzzer then saves the input), a plain
 * reference Internet checksum, and cutting the input into pieces.
 *
 * Every harness is deterministic (no clock, no randomness, no state kept
 * from one input to the next) and frees all it allocates, so that
 * LeakSanitizer and a replay of a saved input (`build/fuzz/fuzz_X FILE`)
 * see what the fuzzer saw.
 */
#ifndef VW_FUZZ_H
#define VW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An invariant the code under test must keep, whatever the input. */
#define FUZZ_CHECK(cond, ...)                                                                   \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                    \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* The reference checksum (ref_sum, ref_fold) the unit tests use too. */
#include "tests/unit/refsum.h"

/* A NUL-terminated copy of data (the caller frees it); NULL if out of
 * memory, which a harness treats as "nothing to test". */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = 0;
	}
	return s;
}

/*
 * Splits s in place into words at blanks, newlines and NULs (none empty);
 * up to max words, the rest ignored.  Returns how many.
 */
static inline int fuzz_split(char *s, size_t len, char **words, int max)
{
	size_t i = 0;
	int n = 0;

	while (i < len && n < max) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == 0))
			s[i++] = 0;
		if (i == len)
			break;
		words[n++] = s + i;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != 0)
			i++;
		if (i < len)
			s[i++] = 0;
	}
	return n;
}

#endif
