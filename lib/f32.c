/* See LICENSE file for copyright and license details. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * The shortest decimal that reads back (strtof) as the same float32:
 * "%.*g" with the smallest precision p that round-trips, searched as
 * slowloop() does (from 6 down while p - 1 still round-trips, else up
 * to 9).  slowloop() costs up to 4 snprintf+strtof pairs a number; for
 * 2^-20 <= |f| < 2^24 (nearly every value of an embedding) the same
 * answer is computed exactly in 128-bit integers: f = m * 2^-s is
 * exactly N * 10^-s with N = m * 5^s, so rounding N to p digits (ties to
 * even, as glibc's printf does) and checking that the result lies
 * within half a float ulp of N (ties: strtof rounds to even) is exact.
 * tests/unit/test_f32.c compares the two over millions of values.
 */

static size_t
slowloop(char *s, float f)
{
	char t[32];
	int p = 6;

	snprintf(s, F32_BUFSIZE, "%.*g", p, (double)f);
	if (strtof(s, NULL) == f) {
		while (p > 1) {
			snprintf(t, sizeof t, "%.*g", p - 1, (double)f);
			if (strtof(t, NULL) != f)
				break;
			memcpy(s, t, sizeof t);
			p--;
		}
	} else
		while (p < 9) {
			snprintf(s, F32_BUFSIZE, "%.*g", ++p, (double)f);
			if (strtof(s, NULL) == f)
				break;
		}
	return strlen(s);
}

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 u128;

#define MAXS 43			/* 4 * 2^24 * 5^43 < 2^128 */

static u128 pow5[MAXS + 1], pow10[39];
static int log2e[45];		/* floor(log10(2^e)), e from -20 to 24 */

static void
tables(void)
{
	int i, e;

	pow5[0] = pow10[0] = 1;
	for (i = 1; i <= MAXS; i++)
		pow5[i] = pow5[i - 1] * 5;
	for (i = 1; i < 39; i++)
		pow10[i] = pow10[i - 1] * 10;
	for (e = -20; e <= 24; e++)	/* 2^e * 10^20 against 10^(x+20) */
		for (i = 0; i < 39; i++)
			if (pow10[i] > (e < 0 ? pow10[20] >> -e :
			    pow10[20] << e)) {
				log2e[e + 20] = i - 1 - 20;
				break;
			}
}

/*
 * p significant digits of N (nd digits): *q, and whether strtof of that
 * decimal gives back f (m: f's significand, lowgap: the gap below f is
 * half the one above, as at a power of two).  hi holds N's first D
 * digits, lo the rest (j0 digits).
 */
static int
digits(uint64_t hi, int D, u128 lo, int j0, int p, int nd, int s,
    uint32_t m, int lowgap, uint64_t *q, int *carry)
{
	static const uint64_t p10[] = { 1, 10, 100, 1000, 10000, 100000,
	    1000000, 10000000, 100000000, 1000000000, 10000000000ULL };
	u128 r, unit, diff;
	uint64_t qq;
	int t = D - p, up;

	*carry = 0;
	if (p >= nd) {		/* all of N: exact */
		*q = hi;
		return 1;
	}
	qq = hi / p10[t];
	r = (u128)(hi % p10[t]) * pow10[j0] + lo;
	unit = pow10[j0 + t];
	up = 2 * r > unit || (2 * r == unit && (qq & 1));
	if (up) {
		diff = unit - r;
		if (++qq == p10[p]) {
			qq = p10[p - 1];
			*carry = 1;
		}
	} else
		diff = r;
	*q = qq;
	/* half an ulp of f is 5^s / 2 in units of 10^-s */
	if (!up && lowgap)
		return 4 * diff < pow5[s] || (4 * diff == pow5[s] && !(m & 1));
	return 2 * diff < pow5[s] || (2 * diff == pow5[s] && !(m & 1));
}

/* "%.*g" of the p-digit q (exponent x of its first digit). */
static size_t
gfmt(char *s, int neg, uint64_t q, int p, int x)
{
	char d[24];
	int n = 0, i, k = 0;

	while (q) {
		d[n++] = (char)('0' + q % 10);
		q /= 10;
	}
	/* d holds the digits backwards; drop trailing zeros */
	for (i = 0; i < n / 2; i++) {
		char c = d[i];

		d[i] = d[n - 1 - i];
		d[n - 1 - i] = c;
	}
	while (n > 1 && d[n - 1] == '0')
		n--;
	if (neg)
		s[k++] = '-';
	if (x < -4 || x >= p) {
		s[k++] = d[0];
		if (n > 1) {
			s[k++] = '.';
			memcpy(s + k, d + 1, (size_t)n - 1);
			k += n - 1;
		}
		s[k++] = 'e';
		s[k++] = x < 0 ? '-' : '+';
		if (x < 0)
			x = -x;
		if (x >= 100)
			s[k++] = (char)('0' + x / 100);
		s[k++] = (char)('0' + x / 10 % 10);
		s[k++] = (char)('0' + x % 10);
	} else if (x < 0) {
		s[k++] = '0';
		s[k++] = '.';
		for (i = 0; i < -x - 1; i++)
			s[k++] = '0';
		memcpy(s + k, d, (size_t)n);
		k += n;
	} else {
		for (i = 0; i <= x; i++)
			s[k++] = i < n ? d[i] : '0';
		if (n > x + 1) {
			s[k++] = '.';
			memcpy(s + k, d + x + 1, (size_t)(n - x - 1));
			k += n - x - 1;
		}
	}
	s[k] = '\0';
	return (size_t)k;
}

static size_t
fast(char *s, float f)
{
	static int init;
	uint32_t u, m;
	int e, sh, nd, D, j0, p, carry, xq, lowgap;
	uint64_t hi, q, qq, A;
	u128 N, lo;

	memcpy(&u, &f, sizeof u);
	e = (int)(u >> 23 & 0xff) - 127;
	if (e < -20 || e > 23)	/* also 0, subnormals, inf, NaN */
		return 0;
	if (!init) {
		tables();
		init = 1;
	}
	m = (u & 0x7fffff) | 0x800000;
	sh = 23 - e;		/* f = m * 2^-sh */
	N = (u128)m * pow5[sh];
	/* N = f * 10^sh has nd digits, f has the exponent x or x + 1 */
	nd = sh + log2e[e + 20] + 1;
	nd += N >= pow10[nd];
	/*
	 * hi, lo = N / 10^j0, N % 10^j0 without a 128-bit division:
	 * N = 5^j0 * A with A = m * 5^(sh - j0) < 2^24 * 5^16 < 2^64
	 * (nd <= sh + 8), so hi = A >> j0 and lo = 5^j0 * (A % 2^j0).
	 */
	D = nd > 10 ? 10 : nd;
	j0 = nd - D;
	A = (uint64_t)m * (uint64_t)pow5[sh - j0];
	hi = A >> j0;
	lo = (u128)(A & ((UINT64_C(1) << j0) - 1)) * pow5[j0];
	lowgap = (u & 0x7fffff) == 0;	/* f is a power of two */
	/* as slowloop(): from 6 down while it round-trips, else up */
	p = 6;
	if (digits(hi, D, lo, j0, p, nd, sh, m, lowgap, &q, &xq)) {
		while (p > 1 && digits(hi, D, lo, j0, p - 1, nd, sh, m, lowgap,
		    &qq, &carry))
			q = qq, xq = carry, p--;
	} else
		while (p < 9 && !digits(hi, D, lo, j0, ++p, nd, sh, m, lowgap,
		    &q, &xq))
			;
	return gfmt(s, (int)(u >> 31), q, p, nd - 1 - sh + xq);
}
#else
static size_t
fast(char *s, float f)
{
	(void)s, (void)f;
	return 0;
}
#endif

size_t
f32_shortest(char *s, float f)
{
	size_t n;

	if (f != f || f - f != 0) {	/* NaN or infinite: not JSON */
		memcpy(s, "null", 5);
		return 4;
	}
	if ((n = fast(s, f)))
		return n;
	return slowloop(s, f);
}
