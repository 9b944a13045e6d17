/* See LICENSE file for copyright and license details. */
/*
 * base64_decode() and base64_dec_feed() against a decoder of one
 * character at a time (the definition, kept here): random bytes
 * encoded, padded or not, fed whole and in random pieces, and with one
 * character replaced by anything (a quote, a backslash, padding
 * misplaced); and every byte value in every position of 96 characters
 * of the alphabet, which takes the SIMD path (blocks of 32) through
 * each lane of its tables.  TAP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"
#include "tap.h"

/* xorshift64*: reproducible */
static unsigned long long rs = 88172645463325252ULL;

static unsigned
rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return (unsigned)((rs * 2685821657736338717ULL) >> 32);
}

/* s[0..n) decoded into o; its length, or -1 if s is not base64
 * (padding optional, only at the end, only after 2 or 3 characters of
 * a quantum) */
static long
ref(const char *s, size_t n, unsigned char *o)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	size_t k, pad = 0;
	long len = 0;
	int bits = 0;
	const char *c;

	for (k = 0; k < n; k++) {
		if (s[k] == '=') {
			if (k % 4 < 2)
				return -1;
			pad++;
			continue;
		}
		if (pad || !s[k] || !(c = strchr(a, s[k])))
			return -1;
		v = v << 6 | (unsigned)(c - a);
		if ((bits += 6) >= 8) {
			bits -= 8;
			o[len++] = (unsigned char)(v >> bits);
		}
	}
	if (pad ? n % 4 != 0 : n % 4 == 1)
		return -1;
	return len;
}

/* s[0..n) through base64_dec_feed() in pieces of random sizes */
static long
pieces(const char *s, size_t n, unsigned char *o)
{
	struct base64_dec d = BASE64_DEC_INIT;
	size_t k = 0, m;
	long len = 0, r;

	while (k < n) {
		m = rnd() % 4 ? rnd() % 9 : rnd() % (n - k + 1);
		if (m > n - k)
			m = n - k;
		if ((r = base64_dec_feed(&d, s + k, m, o + len)) < 0)
			return -1;
		len += r;
		k += m;
	}
	return base64_dec_end(&d) < 0 ? -1 : len;
}

int
main(void)
{
	static const char odd[] = "=\"\\\n -_.A";
	unsigned char src[300], want[300], got[300];
	struct buf b = BUF_INIT, dec = BUF_INIT;
	int i, bad[4] = { 0, 0, 0, 0 }, nbad = 0;
	long w, g;
	size_t n, k;

	(void)skip;	/* tap.h's, not needed here */
	printf("# blocks of 32 by %s\n", cpu_avx2() ? "AVX2" : "the scalar "
	    "code (no AVX2 here)");
#ifdef CPU_SIMD
	/* lib/cpu.c's own CPUID and XGETBV against GCC's checks */
	__builtin_cpu_init();
	ok(cpu_avx2() == !!__builtin_cpu_supports("avx2") && cpu_avx512() ==
	    (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512cd") &&
	    __builtin_cpu_supports("avx512bw")), "cpu_avx2() and cpu_avx512() "
	    "as GCC's __builtin_cpu_supports()", "%d %d", cpu_avx2(),
	    cpu_avx512());
#endif
	for (i = 0; i < 20000; i++) {
		n = rnd() % 200;
		for (k = 0; k < n; k++)
			src[k] = (unsigned char)rnd();
		buf_reset(&b);
		base64_encode(&b, src, n);
		if (i % 3 == 0)	/* unpadded */
			while (b.len && b.s[b.len - 1] == '=')
				b.s[--b.len] = '\0';
		if (i % 2 && b.len) {	/* one character replaced */
			k = rnd() % b.len;
			b.s[k] = odd[rnd() % (sizeof odd - 1)];
		}
		w = ref(b.s, b.len, want);
		buf_reset(&dec);
		g = base64_decode(&dec, b.s, b.len) < 0 ? -1 : (long)dec.len;
		if (g != w || (w > 0 && memcmp(dec.s, want, (size_t)w))) {
			/* base64_decode takes any number of '=' at the end */
			if (!(w < 0 && strchr(b.s, '=')))
				bad[0]++;
		}
		if (w >= 0 && i % 2 == 0 && memcmp(want, src, n))
			bad[1]++;
		g = pieces(b.s, b.len, got);
		if (g != w || (w > 0 && memcmp(got, want, (size_t)w))) {
			if (nbad++ < 5)
				printf("# %s: got %ld want %ld\n", b.s, g, w);
			bad[2]++;
		}
	}
	/* every byte value at every position of the first 64 of 96 */
	for (i = 0; i < 256 * 64; i++) {
		char s[97];
		unsigned char o1[80], o2[80];
		long w2;

		for (k = 0; k < 96; k++)
			s[k] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
			    "xyz0123456789+/"[rnd() % 64];
		s[96] = '\0';
		s[i % 64] = (char)(i / 64);
		w = ref(s, 96, o1);
		buf_reset(&dec);
		g = base64_decode(&dec, s, 96) < 0 ? -1 : (long)dec.len;
		w2 = pieces(s, 96, o2);
		/* (a '=' here is never at the end: all three refuse it) */
		if (g != w || w2 != w || (w > 0 && (memcmp(dec.s, o1,
		    (size_t)w) || memcmp(o2, o1, (size_t)w)))) {
			if (nbad++ < 5)
				printf("# byte %d at %d: got %ld, %ld want "
				    "%ld\n", i / 64, i % 64, g, w2, w);
			bad[3]++;
		}
	}
	ok(!bad[0], "base64_decode as the one-character decoder", "%d", bad[0]);
	ok(!bad[1], "encoded and decoded: the bytes back", "%d", bad[1]);
	ok(!bad[2], "base64_dec_feed in random pieces as the one-character "
	    "decoder", "%d", bad[2]);
	ok(!bad[3], "each byte value in each position of a block as the "
	    "one-character decoder", "%d", bad[3]);
	buf_free(&b);
	buf_free(&dec);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
