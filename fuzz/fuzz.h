/* See LICENSE file for copyright and license details. */
#ifndef FUZZ_H
#define FUZZ_H

/*
 * Shared by the libFuzzer targets in fuzz/ and by the replay driver
 * tests/unit/test_regress.c, which includes every target into one unit
 * (so everything here is static inline and each target's own helpers
 * carry its name as a prefix).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed check is a crash: libFuzzer saves the input, the replay
 * driver reports the file. */
#define FUZZ_CHECK(c) do { if (!(c)) fuzz_fail(__FILE__, __LINE__, #c); \
	} while (0)

static inline void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	abort();
}

/*
 * An exactly-sized heap copy without a NUL terminator, so that ASan
 * catches any read past the end.  For n == 0 malloc(0) still gives a
 * distinct pointer (glibc, ASan); NULL is never handed to the library.
 */
static inline char *
fuzz_dup(const void *p, size_t n)
{
	char *s = malloc(n);

	if (!s && !(s = malloc(1)))
		abort();
	if (n)
		memcpy(s, p, n);
	return s;
}

static inline int
fuzz_eq(const void *a, size_t an, const void *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

#endif
