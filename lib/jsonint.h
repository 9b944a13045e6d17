/* See LICENSE file for copyright and license details. */
#ifndef OAI_JSONINT_H
#define OAI_JSONINT_H

/*
 * Private to lib/: the pieces of json.c's strict reader that jscan.c
 * reads with too, so that a document read whole and one read as it
 * arrives obey the same grammar.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Value of hex digit c, or -1. */
int json_hexval(int c);
/*
 * Does one of the 8 bytes of w need a look inside a string: '"', '\\',
 * a control character or a byte above 0x7f?  (The SWAR zero-byte test; a
 * borrow only ever adds a hit where there is a real one.)  Inline: it
 * runs once every 8 bytes of every string (base64 embeddings are long
 * runs of them), and a call each time cost as much as the test.
 */
#define JSON_ONES UINT64_C(0x0101010101010101)
static inline int
json_special8(uint64_t w)
{
	uint64_t q = w ^ JSON_ONES * '"', b = w ^ JSON_ONES * '\\';

	return (((q - JSON_ONES) & ~q) | ((b - JSON_ONES) & ~b) |
	    (w - JSON_ONES * 0x20) | w) & JSON_ONES * 0x80 ? 1 : 0;
}

/* json_plain()'s blocks of 32 (json.c): the plain bytes from p in
 * whole blocks, by SIMD where the CPU has it; 0 where it has not. */
size_t json_plain32(const char *p, size_t n);
/*
 * The plain bytes of a string from p (up to n): none special, in the
 * sense of json_special8(), 8 at a time, then 32 at a time by SIMD once
 * 8 were plain (so that text with many escapes or UTF-8 is not slowed),
 * then 8 at a time up to the special one; 0 if the first 8 are not all
 * plain (or there are fewer): the caller then looks at p[0] itself.
 * Inline, as json_special8(), with one call a run.
 */
static inline size_t
json_plain(const char *p, size_t n)
{
	uint64_t w;
	size_t k = 0;

	for (;;) {
		if (n - k < 8)
			return k;
		memcpy(&w, p + k, 8);
		if (json_special8(w))
			return k;
		if ((k += 8) == 8)
			k += json_plain32(p + 8, n - 8);
	}
}
/* The number at s[*i] (RFC 8259 grammar): 0 with *i past it, or -1. */
int json_vnumber(const char *s, size_t n, size_t *i);
/* Decode the (valid) escape at p[0] == '\\' into out; the bytes
 * written, *used set to the bytes read (12 for a surrogate pair, a lone
 * surrogate becoming U+FFFD). */
size_t json_unesc(const char *p, const char *end, char out[4], size_t *used);

#endif
