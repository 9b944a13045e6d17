/* See LICENSE file for copyright and license details. */
#include <string.h>

#include "oai.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
base64_encode(struct buf *b, const void *src, size_t n)
{
	const unsigned char *p = src;
	char *o;
	size_t i;

	buf_grow(b, (n + 2) / 3 * 4);
	o = b->s + b->len;
	for (i = 0; i + 2 < n; i += 3) {
		*o++ = b64[p[i] >> 2];
		*o++ = b64[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*o++ = b64[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*o++ = b64[p[i + 2] & 63];
	}
	if (i < n) {
		*o++ = b64[p[i] >> 2];
		if (i + 1 < n) {
			*o++ = b64[(p[i] & 3) << 4 | p[i + 1] >> 4];
			*o++ = b64[(p[i + 1] & 15) << 2];
		} else {
			*o++ = b64[(p[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	b->len = (size_t)(o - b->s);
	b->s[b->len] = '\0';
}

/*
 * A character's 6 bits, or -1: computed by the compiler (a table filled
 * on first use would be a data race for threads using lib/).
 */
#define VAL(c) ((signed char)((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' : \
	(c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26 : \
	(c) >= '0' && (c) <= '9' ? (c) - '0' + 52 : \
	(c) == '+' ? 62 : (c) == '/' ? 63 : -1))
#define VAL4(c) VAL(c), VAL((c) + 1), VAL((c) + 2), VAL((c) + 3)
#define VAL16(c) VAL4(c), VAL4((c) + 4), VAL4((c) + 8), VAL4((c) + 12)
#define VAL64(c) VAL16(c), VAL16((c) + 16), VAL16((c) + 32), VAL16((c) + 48)
static const signed char val[256] = {
	VAL64(0), VAL64(64), VAL64(128), VAL64(192)
};

#ifdef CPU_SIMD
#include <immintrin.h>

/* 16 bytes, twice: the table of a pshufb in both 128-bit halves */
#define T16(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) \
	_mm256_setr_epi8(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, \
	a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)

/*
 * quanta() for whole blocks of 32 characters, with AVX2 (Wojciech Mula
 * and Daniel Lemire, "Faster Base64 Encoding and Decoding Using AVX2
 * Instructions", 2018): a character is in the alphabet where the bits
 * that its low nibble looks up (LO) and those its high nibble looks up
 * (HI) have none in common; its 6 bits are itself plus an offset
 * looked up by its high nibble (ROLL; '/' one below the others of
 * 0x2_); two multiply-adds pack each 4 into 3 bytes and two shuffles
 * put the 24 together.  Stops before the first block with a character
 * outside the alphabet (padding included), which quanta() then takes a
 * quantum at a time; returns the characters used.  About a tenth of
 * quanta()'s time a character; every byte value in every position is
 * checked against val[] by test_base64.
 */
CPU_AVX2 static size_t
quanta2(const unsigned char *p, size_t n, unsigned char *o)
{
	const __m256i lo = T16(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	    0x11, 0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m256i hi = T16(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04,
	    0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m256i roll = T16(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0,
	    0, 0, 0, 0);
	const __m256i pack = T16(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1,
	    -1, -1, -1);
	const __m256i nib = _mm256_set1_epi8(0x0f), slash = _mm256_set1_epi8(
	    '/');
	__m256i c, h, l;
	size_t k;

	for (k = 0; k + 32 <= n; k += 32, o += 24) {
		c = _mm256_loadu_si256((const void *)(p + k));
		h = _mm256_and_si256(_mm256_srli_epi32(c, 4), nib);
		l = _mm256_and_si256(c, nib);
		if (!_mm256_testz_si256(_mm256_shuffle_epi8(lo, l),
		    _mm256_shuffle_epi8(hi, h)))
			break;
		c = _mm256_add_epi8(c, _mm256_shuffle_epi8(roll,
		    _mm256_add_epi8(h, _mm256_cmpeq_epi8(c, slash))));
		/* aaaaaa bbbbbb cccccc dddddd: aaaaaabbbbbb and ccccccdddddd
		 * in 16 bits, then the 24 in 32 bits, big-endian */
		c = _mm256_maddubs_epi16(c, _mm256_set1_epi32(0x01400140));
		c = _mm256_madd_epi16(c, _mm256_set1_epi32(0x00011000));
		c = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(c, pack),
		    _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
		_mm_storeu_si128((void *)o, _mm256_castsi256_si128(c));
		_mm_storel_epi64((void *)(o + 16),
		    _mm256_extracti128_si256(c, 1));
	}
	return k;
}
#endif

/*
 * Whole quanta of p[0..n): 4 characters to 3 bytes at o, up to the first
 * quantum with a character outside the alphabet (padding included);
 * returns the characters used.  The loop both decoders spend their time
 * in: all in locals, as a store through o could otherwise change
 * anything the compiler would have to read again.  Blocks of 32 first by
 * quanta2() where the CPU has AVX2.
 */
static size_t
quanta(const unsigned char *p, size_t n, unsigned char *o)
{
	size_t k = 0;
	unsigned w;

#ifdef CPU_SIMD
	if (n >= 32 && cpu_avx2()) {
		k = quanta2(p, n, o);
		o += k / 4 * 3;
	}
#endif
	for (; k + 4 <= n; k += 4, o += 3) {
		int a0 = val[p[k]], a1 = val[p[k + 1]], a2 = val[p[k + 2]],
		    a3 = val[p[k + 3]];

		if ((a0 | a1 | a2 | a3) < 0)
			break;
		w = (unsigned)a0 << 18 | (unsigned)a1 << 12 |
		    (unsigned)a2 << 6 | (unsigned)a3;
		o[0] = (unsigned char)(w >> 16);
		o[1] = (unsigned char)(w >> 8);
		o[2] = (unsigned char)w;
	}
	return k;
}

int
base64_decode(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char *o;
	unsigned v;
	int bits = 0, d;
	size_t k;

	while (n && s[n - 1] == '=')
		n--;
	buf_grow(b, n / 4 * 3 + 3);
	o = (unsigned char *)b->s + b->len;
	k = quanta(p, n, o);
	if (k + 4 <= n)
		return -1;
	o += k / 4 * 3;
	for (v = 0; k < n; k++) {
		if ((d = val[p[k]]) < 0)
			return -1;
		v = (v << 6) | (unsigned)d;
		if ((bits += 6) >= 8) {
			bits -= 8;
			*o++ = (unsigned char)((v >> bits) & 0xff);
		}
	}
	b->len = (size_t)((char *)o - b->s);
	b->s[b->len] = '\0';
	return 0;
}

/*
 * The streaming form: the characters may come in pieces of any length
 * (an image's base64 decoded from the JSON body a window at a time, with
 * its escapes cut out), and each byte is written out as soon as its
 * bits are in.
 */
long
base64_dec_feed(struct base64_dec *d, const char *s, size_t n,
    unsigned char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char *o = out;
	size_t k, q;
	int v;

	for (k = 0; k < n; k++, d->nch++) {
		/* between quanta: 4 characters, 3 bytes, no state (base64
		 * embeddings are long runs of them) */
		if ((d->nch & 3) == 0 && !d->pad) {
			q = quanta(p + k, n - k, o);
			k += q;
			d->nch += q;
			o += q / 4 * 3;
		}
		if (k == n)
			break;
		if (p[k] == '=') {
			/* padding only ends a quantum of 2 or 3 characters */
			if ((d->nch & 3) < 2)
				return -1;
			d->pad++;
			continue;
		}
		if ((v = val[p[k]]) < 0 || d->pad)
			return -1;
		d->v = (d->v << 6 | (unsigned)v) & 0xffffff;
		if ((d->bits += 6) >= 8) {
			d->bits -= 8;
			*o++ = (unsigned char)(d->v >> d->bits);
		}
	}
	return (long)(o - out);
}

int
base64_dec_end(const struct base64_dec *d)
{
	if (d->pad)
		return (d->nch & 3) == 0 ? 0 : -1;
	return (d->nch & 3) == 1 ? -1 : 0;
}
