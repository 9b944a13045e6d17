/* See LICENSE file for copyright and license details. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * The shortest decimal that reads back (strtof) as the same float32, in
 * the form "%.*g" gives it at the smallest precision p that round-trips
 * as slowloop() searches it (from 6 down while p - 1 still round-trips,
 * else up to 9): slowloop() is the definition, what follows computes
 * the same bytes without printf or strtof.
 *
 * The digits come from Schubfach (Raffaello Giulietti, "The Schubfach
 * way to render doubles", 2020; its float version is the JDK's
 * FloatToDecimal): a 64-bit multiplication by 10^-k scales the float
 * and each end of its rounding interval, rounded to odd so that
 * comparisons stay exact, to an integer part s of 7 to 9 digits (the
 * interval is 1 to 10 units wide); of the decimals with one digit fewer
 * at most one lies in the interval, and if none does, of s and s + 1 the
 * one inside, or the closer (ties to even).  That is the shortest
 * decimal in the interval and, among those, the closest to the float
 * (what Ryu, used here before, gives: the same bytes for every float, in
 * two thirds of the instructions).  That is
 * "%.*g"'s answer too wherever the interval is symmetric: the correctly
 * rounded p-digit decimal is the closest one, so it lies in the
 * interval as soon as any p-digit decimal does, and round-tripping only
 * gets easier with more digits, so the search stops at this length
 * with these digits.  Powers of two have half the room below them,
 * where neither argument holds; those 254 floats (and their negatives)
 * take slowloop().  tests/unit/test_f32.c compares the two on every
 * special case and millions of random floats; `test_f32 --all` on all
 * 2^32.
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

/*
 * G[k + 45] = floor(10^-k * 2^(62 - b)) + 1 where 2^b <= 10^-k < 2^(b+1):
 * 10^-k in 63 bits, rounded up, for the k = floor(q * log10(2)) of the
 * float exponents q (-149..104).  Generated with Python's exact
 * fractions: for k in range(-45, 32): x = Fraction(10) ** -k,
 * b = floor(log2(x)) (checked exactly), print(floor(x * 2 ** (62 - b)) + 1).
 */
static const uint64_t G[80] = {	/* 3 zeros after, for decompose8() */
	UINT64_C(0x59aedfc10d7279c6), UINT64_C(0x47bf19673df52e38),
	UINT64_C(0x72cb5bd86321e38d), UINT64_C(0x5bd5e313828182d7),
	UINT64_C(0x4977e8dc68679be0), UINT64_C(0x758ca7c70d7292ff),
	UINT64_C(0x5e0a1fd271287599), UINT64_C(0x4b3b4ca85a86c47b),
	UINT64_C(0x785ee10d5da46d91), UINT64_C(0x604be73de4838ada),
	UINT64_C(0x4d0985cb1d3608af), UINT64_C(0x7b426fab61f00de4),
	UINT64_C(0x629b8c891b267183), UINT64_C(0x4ee2d6d415b85acf),
	UINT64_C(0x7e37be2022c0914c), UINT64_C(0x64f964e68233a770),
	UINT64_C(0x50c783eb9b5c85f3), UINT64_C(0x409f9cbc7c4a04c3),
	UINT64_C(0x6765c793fa10079e), UINT64_C(0x52b7d2dcc80cd2e5),
	UINT64_C(0x422ca8b0a00a4251), UINT64_C(0x69e10de76676d081),
	UINT64_C(0x54b40b1f852bda01), UINT64_C(0x43c33c1937564801),
	UINT64_C(0x6c6b935b8bbd4001), UINT64_C(0x56bc75e2d6310001),
	UINT64_C(0x4563918244f40001), UINT64_C(0x6f05b59d3b200001),
	UINT64_C(0x58d15e1762800001), UINT64_C(0x470de4df82000001),
	UINT64_C(0x71afd498d0000001), UINT64_C(0x5af3107a40000001),
	UINT64_C(0x48c2739500000001), UINT64_C(0x746a528800000001),
	UINT64_C(0x5d21dba000000001), UINT64_C(0x4a817c8000000001),
	UINT64_C(0x7735940000000001), UINT64_C(0x5f5e100000000001),
	UINT64_C(0x4c4b400000000001), UINT64_C(0x7a12000000000001),
	UINT64_C(0x61a8000000000001), UINT64_C(0x4e20000000000001),
	UINT64_C(0x7d00000000000001), UINT64_C(0x6400000000000001),
	UINT64_C(0x5000000000000001), UINT64_C(0x4000000000000001),
	UINT64_C(0x6666666666666667), UINT64_C(0x51eb851eb851eb86),
	UINT64_C(0x4189374bc6a7ef9e), UINT64_C(0x68db8bac710cb296),
	UINT64_C(0x53e2d6238da3c212), UINT64_C(0x431bde82d7b634db),
	UINT64_C(0x6b5fca6af2bd215f), UINT64_C(0x55e63b88c230e77f),
	UINT64_C(0x44b82fa09b5a52cc), UINT64_C(0x6df37f675ef6eae0),
	UINT64_C(0x57f5ff85e5925580), UINT64_C(0x465e6604b7a84466),
	UINT64_C(0x709709a125da070a), UINT64_C(0x5a126e1a84ae6c08),
	UINT64_C(0x480ebe7b9d58566d), UINT64_C(0x734aca5f6226f0ae),
	UINT64_C(0x5c3bd5191b525a25), UINT64_C(0x49c97747490eae84),
	UINT64_C(0x760f253edb4ab0d3), UINT64_C(0x5e72843249088d76),
	UINT64_C(0x4b8ed0283a6d3df8), UINT64_C(0x78e480405d7b9659),
	UINT64_C(0x60b6cd004ac94514), UINT64_C(0x4d5f0a66a23a9daa),
	UINT64_C(0x7bcb43d769f762a9), UINT64_C(0x63090312bb2c4eee),
	UINT64_C(0x4f3a68dbc8f03f25), UINT64_C(0x7ec3daf941806507),
	UINT64_C(0x65697bfa9acd1da0), UINT64_C(0x51212ffbaf0a7e19),
	UINT64_C(0x40e7599625a1fe7b)
};

/*
 * What shortest() needs of a float's exponent field ieeee (subnormals'
 * is 1's): k = floor(q * log10(2)) for its q = ieeee - 150 (its power
 * of ten is G[k + 45]) and the shift h = q + floor(-k * log2(10)) + 33
 * (33..36, so c << h fits in 64 bits).  Computed by the compiler, so
 * a lookup per float instead of two multiplications, and nothing to
 * fill at run time (or to race on, for threads).
 */
#define FLOORDIV(a, b) ((a) >= 0 ? (a) / (b) : -((-(a) + (b) - 1) / (b)))
#define SQ(e) (((e) ? (e) : 1) - 150)
#define SK(q) ((int16_t)FLOORDIV((long long)(q) * 661971961083LL, \
	2199023255552LL))	/* 2^41 */
#define SH(q) ((int16_t)((q) + FLOORDIV(-(long long)SK(q) * \
	913124641741LL, 274877906944LL) + 33))	/* 2^38 */
#define SC(e) { SK(SQ(e)), SH(SQ(e)) }
#define SC4(e) SC(e), SC((e) + 1), SC((e) + 2), SC((e) + 3)
#define SC16(e) SC4(e), SC4((e) + 4), SC4((e) + 8), SC4((e) + 12)
#define SC64(e) SC16(e), SC16((e) + 16), SC16((e) + 32), SC16((e) + 48)

static const struct scale {
	int16_t k, h;
} scale[256] = { SC64(0), SC64(64), SC64(128), SC64(192) };

/* The high 64 bits of g * x. */
static inline uint64_t
mulhi(uint64_t g, uint64_t x)
{
#ifdef __SIZEOF_INT128__
	return (uint64_t)((unsigned __int128)g * x >> 64);
#else
	uint64_t gl = (uint32_t)g, gh = g >> 32, xl = (uint32_t)x, xh = x >> 32;
	uint64_t ll = gl * xl, lh = gl * xh, hl = gh * xl, hh = gh * xh;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;

	return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/* g * cp / 2^95, rounded to odd: exact where it is an integer, odd (the
 * lowest bit sticky) where it is not, which keeps comparisons with even
 * numbers exact. */
static inline uint32_t
rop(uint64_t g, uint64_t cp)
{
	uint64_t x = mulhi(g, cp);

	return (uint32_t)(x >> 31 | (((x & 0xffffffff) + 0xffffffff) >> 32));
}

/*
 * The shortest decimal *out * 10^*exp in the rounding interval of
 * c * 2^q (c < 2^24, not a power of two unless q is the least; sc is
 * q's scale), as above.
 */
static inline void
shortest(uint32_t c, const struct scale *sc, uint32_t *out, int *exp)
{
	uint32_t out1 = c & 1, vb, vbl, vbr, s, sp10, up, wp, short10;
	uint64_t cp = (uint64_t)c << (sc->h + 2), d = (uint64_t)2 << sc->h;
	uint64_t g = G[sc->k + 45];

	vb = rop(g, cp);
	vbl = rop(g, cp - d);
	vbr = rop(g, cp + d);
	/*
	 * Chosen without branches (which way they go is noise, and a wrong
	 * guess costs more than all the arithmetic): with one digit fewer,
	 * sp10 or tp10 if exactly one is inside; else s, or t if only it is
	 * inside or it is the closer of both (ties to even).  (The JDK
	 * skips the shorter ones below s = 100, for its two digits at
	 * least; the smallest subnormals need them here.)
	 */
	s = vb >> 2;
	sp10 = s / 10 * 10;
	up = vbl + out1 <= sp10 << 2;
	wp = ((sp10 + 10) << 2) + out1 <= vbr;
	short10 = up != wp;
	sp10 += 10 * wp;
	up = vbl + out1 <= s << 2;
	wp = ((s + 1) << 2) + out1 <= vbr;
	s += wp & (!up | (vb > 4 * s + 2) | ((vb == 4 * s + 2) & s));
	*out = s ^ ((s ^ sp10) & (0u - short10));	/* no branch, as above */
	*exp = sc->k;
}

/*
 * The 8 decimal digits of r (< 10^8) as bytes 0..9 of a word, the first
 * in its lowest byte (SWAR: the four-digit halves, then pairs, then
 * digits, in parallel; each division is a multiplication exact for its
 * range).  All in registers: digits written to memory bytewise and read
 * back as a word would stall on store forwarding.
 */
static inline uint64_t
eight(uint32_t r)
{
	uint64_t x, y;

	x = r / 10000 | (uint64_t)(r % 10000) << 32;
	y = (x * 10486) >> 20 & UINT64_C(0x0000007f0000007f);	/* / 100 */
	x = y | (x - y * 100) << 16;
	y = (x * 103) >> 10 & UINT64_C(0x000f000f000f000f);	/* / 10 */
	return y | (x - y * 10) << 8;
}

/* zero bytes at the low and at the high end of r (not 0) */
static int
lowzeros(uint64_t r)
{
#ifdef __GNUC__
	return __builtin_ctzll(r) / 8;
#else
	int n = 0;

	for (; !(r & 0xff); r >>= 8)
		n++;
	return n;
#endif
}

static int
highzeros(uint64_t r)
{
#ifdef __GNUC__
	return __builtin_clzll(r) / 8;
#else
	int n = 0;

	for (; !(r >> 56); r <<= 8)
		n++;
	return n;
#endif
}

#define ZEROS UINT64_C(0x3030303030303030)	/* eight '0' */

/* w to s[0..8), its lowest byte first */
static void
put8(char *s, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(s, &w, 8);	/* one store */
#else
	int i;

	for (i = 0; i < 8; i++)
		s[i] = (char)(w >> 8 * i);
#endif
}

/*
 * A float's decimal, ready to print: the digits are the char f and the
 * word w (the rest, first in its lowest byte), n of them, the first at
 * 10^x.  special: NaN, infinite, zero or a power of two, printed the
 * slow way.
 */
struct dec {
	uint64_t w;
	int n, x;
	char f, neg, special;
};

/* u's shortest decimal into o, as above */
static inline void
decompose(struct dec *o, uint32_t u)
{
	uint32_t ieeee = u >> 23 & 0xff, ieeem = u & 0x7fffff, d, c0;
	uint64_t raw, r;
	int e, n, tz, lz;

	o->neg = (char)(u >> 31);
	o->special = ieeee == 0xff || (ieeem == 0 && ieeee != 1);
	/* c * 2^q, c < 2^24; subnormals have ieeee's exponent 1 */
	shortest(ieeee ? 1u << 23 | ieeem : ieeem, &scale[ieeee], &d,
	    &e);
	/* the digits c0, then raw's, without the leading zeros (c0 is 0
	 * or 1, as the branch predictor has it: selected without) */
	c0 = d / 100000000;
	raw = eight(d - c0 * 100000000);
	lz = lowzeros(raw | UINT64_C(1) << 63);	/* raw may be 0 if c0 is not */
	tz = raw ? highzeros(raw) : 8;
	r = raw >> 8 * lz;
	n = (c0 ? 9 : 8 - lz) - tz;
	o->f = (char)('0' + (c0 ? c0 : (uint32_t)(r & 0xff)));
	o->w = (c0 ? raw : r >> 8) + ZEROS;
	o->n = n;
	o->x = e + tz + n - 1;
}

/*
 * "%.*g" of o at precision n, into s (at least F32_BUFSIZE bytes: the
 * tail past the NUL may be overwritten); u is the float's bits.
 */
#ifdef __GNUC__
__attribute__((always_inline))	/* also into the SIMD paths */
#endif
static inline size_t
gfmt(char *s, const struct dec *o, uint32_t u)
{
	uint64_t w = o->w;
	int n = o->n, x = o->x, k = o->neg;
	float f;

	if (o->special) {
		if ((u >> 23 & 0xff) == 0xff) {	/* NaN or infinite: not JSON */
			memcpy(s, "null", 5);
			return 4;
		}
		if ((u & 0x7fffffff) == 0) {
			memcpy(s, "-0", 3);
			return u >> 31 ? 2 : (memcpy(s, "0", 2), 1);
		}
		memcpy(&f, &u, sizeof f);	/* a power of two: see above */
		return slowloop(s, f);
	}
	s[0] = '-';
	if (x < -4 || x >= n) {
		/* d.ddde+XX */
		s[k] = o->f;
		if (n > 1) {
			s[k + 1] = '.';
			put8(s + k + 2, w);
			k += n + 1;
		} else
			k++;
		s[k++] = 'e';
		s[k++] = x < 0 ? '-' : '+';
		if (x < 0)
			x = -x;
		s[k++] = (char)('0' + x / 10);
		s[k++] = (char)('0' + x % 10);
	} else if (x < 0) {
		/* 0.000ddd */
		memcpy(s + k, "0.0000", 6);
		k += 1 - x;
		s[k] = o->f;
		put8(s + k + 1, w);
		k += n;
	} else {
		/* ddd, or ddd.ddd: the digits after the first x + 1 move
		 * one place right for the point */
		s[k] = o->f;
		put8(s + k + 1, w);
		if (n > x + 1) {
			s[k + x + 1] = '.';
			put8(s + k + x + 2, w >> 8 * x);
			k++;
		}
		k += n;
	}
	return (size_t)k;
}

/* The floats k.. of the n at v, joined by sep, into s from len on; the
 * new length */
static size_t
listfrom(char *s, size_t len, const unsigned char *v, size_t k, size_t n,
    int sep)
{
	struct dec d;

	for (; k < n; k++) {
		if (k)
			s[len++] = (char)sep;
		decompose(&d, le32_get(v + 4 * k));
		len += gfmt(s + len, &d, le32_get(v + 4 * k));
	}
	s[len] = '\0';
	return len;
}

#ifdef CPU_SIMD
#include <immintrin.h>

/*
 * The SIMD paths' window: scale[]'s k and h - 31 (ropx8()'s shift) for
 * the 16 exponent fields from WLO, floats of magnitude 2^-16 to 1,
 * where nearly all of an embedding's are; their G[k + 45] are among
 * the 8 from G[WG].  Each path looks them up by permutations, which
 * take 3 to 9 instructions for all its lanes, where all are in the
 * window; else as the scalar code does.  WK[] and WH[] are the AVX-512
 * path's (a lane a qword); WKB[], WHB[] and WGB[] the AVX2 path's (a
 * byte each, by pshufb: k + 64, h - 31, and G[k + 45]'s pair of
 * dwords in G + WG (2j) with bit 7 set where j >= 4).
 */
#define WLO 111
#define WG 32
#define W8(e, x) x(e), x((e) + 1), x((e) + 2), x((e) + 3), x((e) + 4), \
	x((e) + 5), x((e) + 6), x((e) + 7)
#define W16(x) W8(WLO, x), W8(WLO + 8, x)
#define WB(x) W16(x), W16(x)	/* both 128-bit halves, for pshufb */
#define WK1(e) SK(SQ(e))
#define WH1(e) (SH(SQ(e)) - 31)
#define WKB1(e) (SK(SQ(e)) + 64)
#define WGB1(e) ((SK(SQ(e)) + 45 - WG) % 4 * 2 | \
	(SK(SQ(e)) + 45 - WG) / 4 * 0x80)
static _Alignas(64) const int64_t WK[16] = { W16(WK1) };
static _Alignas(64) const int64_t WH[16] = { W16(WH1) };
static _Alignas(32) const unsigned char WKB[32] = { WB(WKB1) };
static _Alignas(32) const unsigned char WHB[32] = { WB(WH1) };
static _Alignas(32) const unsigned char WGB[32] = { WB(WGB1) };
_Static_assert(SK(SQ(WLO)) + 45 >= WG && SK(SQ(WLO + 15)) + 45 < WG + 8,
    "the window's powers of ten are 8 from G[WG]");

/*
 * BLOCK decimals, as decompose() leaves them in a struct dec, from the
 * SIMD paths: their decompositions of a block are independent of each
 * other, so their long chains of latency overlap, where one
 * decomposition then its layouts would wait for each in turn.  (The
 * AVX-512 path fills 8 at a time, two blocks in turn: see list512().)
 */
#define BLOCK 32

struct decblk {
	uint64_t w[BLOCK];
	/* a 64-bit lane's each, stored whole (narrowing them took a
	 * shuffle each) */
	int64_t n[BLOCK], x[BLOCK], f[BLOCK];
	/* the offset in bytes of the float's row of LAY[]; -1 (< 0): a
	 * form for gfmt() */
	int64_t lay[BLOCK];
	uint32_t special;	/* bit i: float i's special */
	/* list512()'s 8: lay1()'s source vectors, with the sign in them
	 * (lay[] a row of LAY[]'s second half if negative), and bit i
	 * set where lay[i] >= 0 */
	_Alignas(64) unsigned char src[8][16];
	uint32_t fast;
};

/*
 * The layout of the common forms by one byte shuffle (SSSE3's pshufb,
 * in the SIMD paths): a float whose decimal is 0.000ddd (-4 <= x < 0)
 * or ddd.ddd (0 <= x < n), nearly every one of an embedding's, is the
 * 16 bytes of a source vector (its digits w, its first digit f, '0',
 * '.' and the separator) shuffled by LAY[(x + 4) * 9 + n - 1].c, with
 * its separator after it; byte 16 of the row is that length.  The sign
 * is a '-' stored first and overwritten when the float is positive
 * (the AVX-512 path: a row of LAY[]'s second half, which has it in the
 * shuffle and the length).  One
 * shuffle and a store without branches, where gfmt() branches on the
 * form (mispredicted at every change of x) and stores piecewise.
 * Computed by the compiler: LAYB(x, n, j) is byte j's source byte.
 */
enum { LF = 8, LZ, LDOT, LSEP, LMINUS, LNONE = 0x80 };	/* 0..7: w */
#define LAYP(x, n) ((x) < (n) - 1)	/* a point among the digits */
#define LAYB(x, n, j) ((x) < 0 ? \
	((j) == 0 ? LZ : (j) == 1 ? LDOT : (j) < 1 - (x) ? LZ : \
	(j) == 1 - (x) ? LF : (j) < 1 - (x) + (n) ? (j) - 2 + (x) : \
	(j) == 1 - (x) + (n) ? LSEP : LNONE) : \
	((j) == 0 ? LF : (j) <= (x) ? (j) - 1 : \
	LAYP(x, n) && (j) == (x) + 1 ? LDOT : \
	(j) <= (n) - 1 + LAYP(x, n) ? (j) - 1 - LAYP(x, n) : \
	(j) == (n) + LAYP(x, n) ? LSEP : LNONE))
#define LAYBS(x, n, j) ((j) == 0 ? LMINUS : LAYB(x, n, (j) - 1))	/* '-' */
#define LAYL(x, n) ((x) < 0 ? 2 - (x) + (n) : (n) + LAYP(x, n) + 1)
#define LAYROW(B, x, n, d) { { B(x, n, 0), B(x, n, 1), B(x, n, 2), \
	B(x, n, 3), B(x, n, 4), B(x, n, 5), B(x, n, 6), B(x, n, 7), \
	B(x, n, 8), B(x, n, 9), B(x, n, 10), B(x, n, 11), B(x, n, 12), \
	B(x, n, 13), B(x, n, 14), B(x, n, 15), LAYL(x, n) d } }
#define LAYROWS(B, x, d) LAYROW(B, x, 1, d), LAYROW(B, x, 2, d), \
	LAYROW(B, x, 3, d), LAYROW(B, x, 4, d), LAYROW(B, x, 5, d), \
	LAYROW(B, x, 6, d), LAYROW(B, x, 7, d), LAYROW(B, x, 8, d), \
	LAYROW(B, x, 9, d)
#define LAYTAB(B, d) LAYROWS(B, -4, d), LAYROWS(B, -3, d), \
	LAYROWS(B, -2, d), LAYROWS(B, -1, d), LAYROWS(B, 0, d), \
	LAYROWS(B, 1, d), LAYROWS(B, 2, d), LAYROWS(B, 3, d), \
	LAYROWS(B, 4, d), LAYROWS(B, 5, d), LAYROWS(B, 6, d), \
	LAYROWS(B, 7, d), LAYROWS(B, 8, d)

static const struct {
	_Alignas(32) unsigned char c[32];	/* the shuffle, the length */
} LAY[2 * 13 * 9] = {	/* then with a '-' first (source byte LMINUS) */
	LAYTAB(LAYB, ), LAYTAB(LAYBS, + 1)
};
#define LAYSHIFT 5	/* a row's offset: its index << LAYSHIFT */
_Static_assert(sizeof LAY[0] == 1 << LAYSHIFT, "LAY[]'s rows");

/* Float i of b, whose bits are u, by gfmt() into s with the separator
 * sep after it (the forms LAY[] has not); its length with sep. */
__attribute__((always_inline)) static inline size_t
gfmtblk(char *s, const struct decblk *b, size_t i, uint32_t u, int sep)
{
	struct dec d;
	size_t len;

	d.w = b->w[i];
	d.f = (char)('0' + b->f[i]);
	d.n = (int)b->n[i];
	d.x = (int)b->x[i];
	d.neg = (char)(u >> 31);
	d.special = (char)(b->special >> i & 1);
	len = gfmt(s, &d, u);
	s[len] = (char)sep;
	return len + 1;
}

/*
 * The float whose source vector is src by the row of LAY[] at offset j
 * (bytes, >= 0) into s (the 16 bytes from s are written); its length
 * with the separator.
 */
__attribute__((target("ssse3"), always_inline)) static inline size_t
lay1(char *s, int64_t j, __m128i src)
{
	const unsigned char *row = (const unsigned char *)LAY + j;

	_mm_storeu_si128((void *)s, _mm_shuffle_epi8(src,
	    _mm_load_si128((const void *)row)));
	return row[16];
}

/*
 * lay1() of a float of the AVX2 path: its source vector made of w, f
 * (as in a struct dec) and sep, and its sign a '-' stored first (s: at
 * least 17 bytes).
 */
__attribute__((target("ssse3"), always_inline)) static inline size_t
lay16(char *s, int64_t j, uint64_t w, int f, int neg, int sep)
{
	uint64_t hi = (uint64_t)(unsigned char)f | (uint64_t)'0' << 8 |
	    (uint64_t)'.' << 16 | (uint64_t)(unsigned char)sep << 24;

	s[0] = '-';
	return (size_t)neg + lay1(s + neg, j, _mm_set_epi64x((long long)hi,
	    (long long)w));
}

/*
 * The m floats at v, decomposed in b, each with the separator after it,
 * into s from len on: by lay16() where LAY[] has their form, else by
 * gfmt().  The new length.
 */
__attribute__((target("ssse3"), always_inline)) static inline size_t
layblk(char *s, size_t len, const struct decblk *b, const unsigned char *v,
    size_t m, int sep)
{
	uint32_t u;
	size_t i;

	for (i = 0; i < m; i++) {
		u = le32_get(v + 4 * i);
		if (b->lay[i] >= 0)
			len += lay16(s + len, b->lay[i], b->w[i],
			    '0' + b->f[i], (int)(u >> 31), sep);
		else
			len += gfmtblk(s + len, b, i, u, sep);
	}
	return len;
}

/*
 * decompose() for 8 floats at a time with AVX-512, where the CPU has it
 * (F, DQ, CD, BW: Intel since Skylake-SP, AMD since Zen 4; valgrind
 * reports none of it, so runs under it take the AVX2 path): each
 * 64-bit lane one float, the same integer arithmetic as the scalar
 * code, so the same digits for every float, which test_f32 checks
 * (make unit on a sample, make check-long-f32simd on all 2^32).  The
 * scalar decompose() takes about 40 cycles a float of chained
 * arithmetic; here about 2.5 ns a float, which also makes each
 * float's source vector of lay1() and the offset of its row of LAY[]
 * with the sign in it, so that the layout of the common forms is a
 * load, a shuffle and a store (the rest, rare in embeddings, by
 * gfmt()'s branches).  Where the lanes differ from the scalar code they
 * compute the same numbers: the three 64x64-bit high products of
 * shortest() from two 32x32-bit ones, compared before their rounding
 * to odd (see ropx8()), k and h of scale[] by permutations of WK[] and
 * WH[] (or with smaller multipliers outside their window), G[] by
 * permutations rather than a gather (slow where the microcode
 * mitigates Downfall), eight()'s divisions by 100 and 10 as high
 * products of 16-bit lanes (see eight8()), c0 (0 or 1) by a
 * comparison, the zero counts by lzcnt.
 */
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512cd,avx512bw")))

#define SET(x) _mm512_set1_epi64((long long)(x))

/*
 * The x of rop(): the high 64 bits of g * m * 2^(h + 1) for m < 2^25,
 * given A = gh * m and B = gl * m (g's halves): x = floor(g * m /
 * 2^(63 - h)) = A * 2^(h - 31) + floor(B / 2^(63 - h)), exactly, since
 * h >= 33.  So the three of shortest(), m = 2c and 2c -+ 1, take two
 * multiplications, not twelve.  x < 2^61 (g < 2^63, m * 2^(h + 1) <
 * 2^62).  decompose8() compares the x themselves, not their rop():
 * rop(x) = x >> 31, with bit 0 set where bits 0..31 of x are not all
 * zero, so for an even E, rop(x) <= E exactly where x <= E * 2^31,
 * and rop(x) >= E + 1 where x >= E * 2^31 + 1.
 */
AVX512 static inline __m512i
ropx8(__m512i a, __m512i b, __m512i hl, __m512i hr)
{
	return _mm512_add_epi64(_mm512_sllv_epi64(a, hl), _mm512_srlv_epi64(b,
	    hr));
}

/* G[i] for the 8 lanes of i (< 80), without a gather (slow where the
 * microcode mitigates Downfall): 16 entries a permutation */
AVX512 static inline __m512i
gof8(__m512i i)
{
	__m512i g = _mm512_permutex2var_epi64(_mm512_loadu_si512(
	    (const void *)G), i, _mm512_loadu_si512((const void *)(G + 8)));
	int j;

	for (j = 16; j < 80; j += 16)
		g = _mm512_mask_mov_epi64(g, _mm512_cmpge_epu64_mask(i,
		    SET(j)), _mm512_permutex2var_epi64(_mm512_loadu_si512(
		    (const void *)(G + j)), i, _mm512_loadu_si512(
		    (const void *)(G + j + 8))));
	return g;
}

/* eight() of 8 lanes, its divisions by 100 and 10 high products of
 * 16-bit lanes (each exact for its range: x < 10^4, x < 100), which
 * take half the time of 32-bit products */
AVX512 static inline __m512i
eight8(__m512i r)
{
	__m512i x, y;
	__m512i c100 = _mm512_set1_epi16(100), c10 = _mm512_set1_epi16(10);

	/* hidden from GCC, which would make each multiplication by them
	 * 3 to 5 shifts and additions: more work for the vector ports */
	__asm__("" : "+v"(c100), "+v"(c10));
	y = _mm512_srli_epi64(_mm512_mul_epu32(r, SET(0xd1b71759)), 45);
	x = _mm512_or_si512(y, _mm512_slli_epi64(_mm512_sub_epi64(r,
	    _mm512_mul_epu32(y, SET(10000))), 32));
	y = _mm512_srli_epi16(_mm512_mulhi_epu16(x, _mm512_set1_epi16(5243)),
	    3);
	x = _mm512_or_si512(y, _mm512_slli_epi32(_mm512_sub_epi16(x,
	    _mm512_mullo_epi16(y, c100)), 16));
	y = _mm512_mulhi_epu16(x, _mm512_set1_epi16(6554));
	return _mm512_or_si512(y, _mm512_slli_epi16(_mm512_sub_epi16(x,
	    _mm512_mullo_epi16(y, c10)), 8));
}

/* decompose() of the 8 little-endian floats at v into o, and their
 * source vectors of lay1(), with the separator sep */
AVX512 __attribute__((always_inline)) static inline void
decompose8(struct decblk *o, const unsigned char *v, int sep)
{
	__m512i u, e, m, c, q, g, gh, k, h, c2, a, b, hl, hr, d, vb, vbl, vbr;
	__m512i out1, s;
	__m512i sp10, lhs, t, raw, lz, tz, r, n, x, f, w;
	__mmask8 up, wp, short10, c0, sp, neg, fast;

	u = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const void *)v));
	e = _mm512_and_si512(_mm512_srli_epi64(u, 23), SET(0xff));
	m = _mm512_and_si512(u, SET(0x7fffff));
	/* c, special, scale[]'s k and h, and g = G[k + 45]: where all 8
	 * are in WK[]'s window (an embedding's nearly always), normal and
	 * finite, k and h by permutations; else with multipliers that are
	 * exact for these q (checked on all 256) */
	q = _mm512_sub_epi64(e, SET(WLO));
	if (_mm512_cmplt_epu64_mask(q, SET(16)) == 0xff) {
		c = _mm512_or_si512(m, SET(1 << 23));
		sp = _mm512_testn_epi64_mask(m, m);
		k = _mm512_permutex2var_epi64(_mm512_load_si512(WK), q,
		    _mm512_load_si512(WK + 8));
		hl = _mm512_permutex2var_epi64(_mm512_load_si512(WH), q,
		    _mm512_load_si512(WH + 8));
		g = _mm512_permutexvar_epi64(_mm512_add_epi64(k,
		    SET(45 - WG)), _mm512_loadu_si512((const void *)(G + WG)));
	} else {
		sp = _mm512_cmpeq_epi64_mask(e, SET(0xff)) |
		    (_mm512_testn_epi64_mask(m, m) &
		    _mm512_cmpneq_epi64_mask(e, SET(1)));
		c = _mm512_mask_or_epi64(m, _mm512_test_epi64_mask(e, e), m,
		    SET(1 << 23));
		q = _mm512_sub_epi64(_mm512_max_epu64(e, SET(1)), SET(150));
		k = _mm512_srai_epi64(_mm512_mul_epi32(q, SET(78913)), 18);
		h = _mm512_add_epi64(_mm512_add_epi64(q, SET(33)),
		    _mm512_srai_epi64(_mm512_mul_epi32(_mm512_sub_epi64(
		    _mm512_setzero_si512(), k), SET(1741647)), 19));
		g = gof8(_mm512_add_epi64(k, SET(45)));
		hl = _mm512_sub_epi64(h, SET(31));
	}
	gh = _mm512_srli_epi64(g, 32);

	/* shortest(), its cp -+ d being (2c -+ 1) * 2^(h + 1) */
	c2 = _mm512_add_epi64(c, c);
	a = _mm512_mul_epu32(gh, c2);
	b = _mm512_mul_epu32(g, c2);
	hr = _mm512_sub_epi64(SET(32), hl);	/* 63 - h */
	/* the x of vb, vbl and vbr (see ropx8()): each comparison of
	 * shortest() has an even side, 4 times a number, which is 2^33
	 * times it here; vbl + out1 <= E is xl + out1 <= E * 2^31, and E
	 * + out1 <= vbr is E * 2^31 + out1 <= xr */
	vb = ropx8(a, b, hl, hr);
	vbl = ropx8(_mm512_sub_epi64(a, gh), _mm512_sub_epi64(b,
	    _mm512_and_si512(g, SET(0xffffffff))), hl, hr);
	vbr = ropx8(_mm512_add_epi64(a, gh), _mm512_add_epi64(b,
	    _mm512_and_si512(g, SET(0xffffffff))), hl, hr);
	out1 = _mm512_and_si512(c, SET(1));
	s = _mm512_srli_epi64(vb, 33);
	sp10 = _mm512_mul_epu32(_mm512_srli_epi64(_mm512_mul_epu32(s,
	    SET(0xcccccccd)), 35), SET(10));	/* s / 10 * 10 */
	lhs = _mm512_add_epi64(vbl, out1);
	up = _mm512_cmple_epu64_mask(lhs, _mm512_slli_epi64(sp10, 33));
	wp = _mm512_cmple_epu64_mask(_mm512_add_epi64(_mm512_slli_epi64(
	    _mm512_add_epi64(sp10, SET(10)), 33), out1), vbr);
	short10 = up ^ wp;
	sp10 = _mm512_mask_add_epi64(sp10, wp, sp10, SET(10));
	t = _mm512_andnot_si512(SET((UINT64_C(1) << 33) - 1), vb);	/* 4s */
	up = _mm512_cmple_epu64_mask(lhs, t);
	wp = _mm512_cmple_epu64_mask(_mm512_add_epi64(t, _mm512_add_epi64(
	    out1, SET(UINT64_C(1) << 33))), vbr);
	/* rop(vb) > 4s + 2, or = 4s + 2 and s odd: the rest below s,
	 * plus 1 if s is odd, over half (2^32) */
	wp &= (__mmask8)~up | _mm512_cmpgt_epu64_mask(_mm512_add_epi64(
	    _mm512_and_si512(vb, SET((UINT64_C(1) << 33) - 1)),
	    _mm512_and_si512(s, SET(1))), SET(UINT64_C(1) << 32));
	s = _mm512_mask_add_epi64(s, wp, s, SET(1));
	d = _mm512_mask_blend_epi64(short10, s, sp10);

	/* the rest of decompose() */
	c0 = _mm512_cmpge_epu64_mask(d, SET(100000000));
	raw = eight8(_mm512_mask_sub_epi64(d, c0, d, SET(100000000)));
	lz = _mm512_srli_epi64(_mm512_lzcnt_epi64(_mm512_shuffle_epi8(
	    _mm512_or_si512(raw, SET(UINT64_C(1) << 63)), _mm512_set4_epi64(
	    0x08090a0b0c0d0e0f, 0x0001020304050607, 0x08090a0b0c0d0e0f,
	    0x0001020304050607))), 3);	/* zero bytes low: reversed */
	tz = _mm512_srli_epi64(_mm512_lzcnt_epi64(raw), 3);
	r = _mm512_srlv_epi64(raw, _mm512_slli_epi64(lz, 3));
	n = _mm512_sub_epi64(_mm512_mask_blend_epi64(c0,
	    _mm512_sub_epi64(SET(8), lz), SET(9)), tz);
	f = _mm512_mask_blend_epi64(c0, _mm512_and_si512(r, SET(0xff)),
	    SET(1));
	x = _mm512_add_epi64(_mm512_add_epi64(k, tz), _mm512_sub_epi64(n,
	    SET(1)));
	w = _mm512_add_epi64(_mm512_mask_blend_epi64(c0, _mm512_srli_epi64(r,
	    8), raw), SET(ZEROS));
	o->special = sp;
	_mm512_storeu_si512((void *)o->n, n);
	_mm512_storeu_si512((void *)o->f, f);
	_mm512_storeu_si512((void *)o->x, x);
	_mm512_storeu_si512((void *)o->w, w);
	/* the offset of LAY[]'s row (x + 4) * 9 + n - 1, + 13 * 9 if
	 * negative, where it has the form */
	neg = _mm512_test_epi64_mask(u, SET(0x80000000));
	t = _mm512_add_epi64(_mm512_add_epi64(_mm512_slli_epi64(
	    _mm512_add_epi64(x, SET(4)), 3), x), _mm512_add_epi64(n, SET(3)));
	fast = ~sp & _mm512_cmpge_epi64_mask(x, SET(-4)) &
	    _mm512_cmplt_epi64_mask(x, n);
	o->fast = fast;
	_mm512_storeu_si512((void *)o->lay, _mm512_slli_epi64(
	    _mm512_mask_blend_epi64(fast, SET(-1), _mm512_mask_add_epi64(t,
	    neg, t, SET(13 * 9))), LAYSHIFT));
	/* the source vectors: w, then f, '0', '.', sep and '-' */
	t = _mm512_add_epi64(f, SET('0' | '0' << 8 | '.' << 16 |
	    (uint64_t)(unsigned char)sep << 24 | (uint64_t)'-' << 32));
	_mm512_store_si512((void *)o->src[0], _mm512_permutex2var_epi64(w,
	    _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0), t));
	_mm512_store_si512((void *)o->src[4], _mm512_permutex2var_epi64(w,
	    _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4), t));
}

/*
 * The 8 floats at v, decomposed in b by decompose8(), each with the
 * separator sep after it, into s from len on: a shuffle of the source
 * vector where LAY[] has the float's form, else by gfmt().  The new
 * length.  Where all 8 have their row (nearly always), unrolled and
 * without branches.
 */
AVX512 __attribute__((always_inline)) static inline size_t
lay8(char *s, size_t len, const struct decblk *b, const unsigned char *v,
    int sep)
{
	int64_t j;
	int i;

	if (b->fast == 0xff) {
#pragma GCC unroll 8
		for (i = 0; i < 8; i++)
			len += lay1(s + len, b->lay[i], _mm_load_si128(
			    (const void *)b->src[i]));
		return len;
	}
	for (i = 0; i < 8; i++)
		if ((j = b->lay[i]) >= 0)
			len += lay1(s + len, j, _mm_load_si128(
			    (const void *)b->src[i]));
		else
			len += gfmtblk(s + len, b, (size_t)i,
			    le32_get(v + 4 * i), sep);
	return len;
}

/*
 * f32_list() with decompose8() and lay8() for all but the last n % 8
 * floats: the next 8 decomposed (vector units) while the last 8 are
 * laid out (integer units, mostly), which the CPU overlaps.
 */
AVX512 static size_t
list512(char *s, const unsigned char *v, size_t n, int sep)
{
	struct decblk b[2];
	size_t k, len = 0, m = n / 8 * 8;

	decompose8(&b[0], v, sep);
	for (k = 0; k < m; k += 8) {
		if (k + 8 < m)
			decompose8(&b[(k / 8 + 1) & 1], v + 4 * (k + 8), sep);
		len = lay8(s, len, &b[k / 8 & 1], v + 4 * k, sep);
	}
	/* listfrom() puts the separator before each float */
	return listfrom(s, len - 1, v, m, n, sep);
}

/*
 * decompose() for 4 floats at a time with AVX2 (Intel since Haswell,
 * AMD since Zen: the CPUs without AVX-512), each 64-bit lane one float,
 * the same numbers as decompose8() computes where AVX2 lacks its
 * instructions: g, k and h from scale[] (a gather is slow where the
 * microcode mitigates Downfall, permutations of 4 entries too many),
 * signed 64-bit comparisons for unsigned ones (every value compared is
 * below 2^62), arithmetic shifts of 64-bit lanes as 32-bit ones (each
 * value fits in 32 bits, so its high half is its sign), the zero counts
 * by the bytes below a lane's first nonzero byte, summed by psadbw.
 */
#define SET4(x) _mm256_set1_epi64x((long long)(x))

/* ropx8() of 4 lanes */
CPU_AVX2 static inline __m256i
ropx4(__m256i a, __m256i b, __m256i hl, __m256i hr)
{
	return _mm256_add_epi64(_mm256_sllv_epi64(a, hl), _mm256_srlv_epi64(b,
	    hr));
}

/* eight() of 4 lanes */
CPU_AVX2 static inline __m256i
eight4(__m256i r)
{
	__m256i x, y;

	y = _mm256_srli_epi64(_mm256_mul_epu32(r, SET4(0xd1b71759)), 45);
	x = _mm256_or_si256(y, _mm256_slli_epi64(_mm256_sub_epi64(r,
	    _mm256_mul_epu32(y, SET4(10000))), 32));
	/* as eight8() */
	y = _mm256_srli_epi16(_mm256_mulhi_epu16(x, _mm256_set1_epi16(5243)),
	    3);
	x = _mm256_or_si256(y, _mm256_slli_epi32(_mm256_sub_epi16(x,
	    _mm256_mullo_epi16(y, _mm256_set1_epi16(100))), 16));
	y = _mm256_mulhi_epu16(x, _mm256_set1_epi16(6554));
	return _mm256_or_si256(y, _mm256_slli_epi16(_mm256_sub_epi16(x,
	    _mm256_mullo_epi16(y, _mm256_set1_epi16(10))), 8));
}

/* the zero bytes of each lane of x below its first nonzero byte (8 if
 * none) */
CPU_AVX2 static inline __m256i
lowzeros4(__m256i x)
{
	__m256i nz, t;

	nz = _mm256_andnot_si256(_mm256_cmpeq_epi8(x, _mm256_setzero_si256()),
	    _mm256_set1_epi8(1));	/* 1 in each nonzero byte */
	t = _mm256_sub_epi64(_mm256_and_si256(nz, _mm256_sub_epi64(
	    _mm256_setzero_si256(), nz)), SET4(1));	/* 0xff below it */
	return _mm256_sad_epu8(_mm256_and_si256(t, _mm256_set1_epi8(1)),
	    _mm256_setzero_si256());
}

/* decompose() of the 4 little-endian floats at v into o from i on */
CPU_AVX2 static inline void
decompose4(struct decblk *o, size_t i, const unsigned char *v)
{
	const struct scale *s0, *s1, *s2, *s3;
	__m256i z = _mm256_setzero_si256(), u, e, m, c, g, gh, gl, k, h, c2;
	__m256i a, b, hl, hr, vb, vbl, vbr, out1, s, sp10, lhs, t, up, wp;
	__m256i short10, d, c0, raw, lz, tz, r, n, x, sp, fast, q;
	int bits;

	u = _mm256_cvtepu32_epi64(_mm_loadu_si128((const void *)v));
	e = _mm256_and_si256(_mm256_srli_epi64(u, 23), SET4(0xff));
	m = _mm256_and_si256(u, SET4(0x7fffff));
	/* c, special, k, h - 31 and g, by the window's tables where all 4
	 * are in it (see WKB[]), else as the scalar code does */
	q = _mm256_sub_epi64(e, SET4(WLO));
	if (_mm256_testz_si256(q, SET4(~15))) {
		sp = _mm256_cmpeq_epi64(m, z);
		c = _mm256_or_si256(m, SET4(1 << 23));
		t = _mm256_or_si256(q, SET4(0x8080808080808000));
		k = _mm256_sub_epi64(_mm256_shuffle_epi8(_mm256_load_si256(
		    (const void *)WKB), t), SET4(64));
		hl = _mm256_shuffle_epi8(_mm256_load_si256((const void *)WHB),
		    t);
		/* the pair of dwords of G[k + 45] (bytes 0 and 4, 7 for
		 * the upper half of the 8) */
		t = _mm256_add_epi64(_mm256_shuffle_epi8(_mm256_load_si256(
		    (const void *)WGB), _mm256_or_si256(_mm256_or_si256(q,
		    _mm256_slli_epi64(q, 32)), _mm256_or_si256(_mm256_slli_epi64(
		    q, 56), SET4(0x0080800080808000)))), SET4(UINT64_C(1) << 32));
		g = _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(
		    _mm256_permutevar8x32_epi32(_mm256_loadu_si256(
		    (const void *)(G + WG)), t)), _mm256_castsi256_pd(
		    _mm256_permutevar8x32_epi32(_mm256_loadu_si256(
		    (const void *)(G + WG + 4)), t)), _mm256_castsi256_pd(t)));
	} else {
		s0 = &scale[(v[3] << 1 & 0xff) | v[2] >> 7];
		s1 = &scale[(v[7] << 1 & 0xff) | v[6] >> 7];
		s2 = &scale[(v[11] << 1 & 0xff) | v[10] >> 7];
		s3 = &scale[(v[15] << 1 & 0xff) | v[14] >> 7];
		sp = _mm256_or_si256(_mm256_cmpeq_epi64(e, SET4(0xff)),
		    _mm256_andnot_si256(_mm256_cmpeq_epi64(e, SET4(1)),
		    _mm256_cmpeq_epi64(m, z)));
		c = _mm256_or_si256(m, _mm256_andnot_si256(_mm256_cmpeq_epi64(
		    e, z), SET4(1 << 23)));
		g = _mm256_set_epi64x((long long)G[s3->k + 45],
		    (long long)G[s2->k + 45], (long long)G[s1->k + 45],
		    (long long)G[s0->k + 45]);
		k = _mm256_set_epi64x(s3->k, s2->k, s1->k, s0->k);
		h = _mm256_set_epi64x(s3->h, s2->h, s1->h, s0->h);
		hl = _mm256_sub_epi64(h, SET4(31));
	}
	bits = _mm256_movemask_pd(_mm256_castsi256_pd(sp));
	o->special |= (uint32_t)bits << i;
	gh = _mm256_srli_epi64(g, 32);
	gl = _mm256_and_si256(g, SET4(0xffffffff));

	/* shortest(), as decompose8() */
	c2 = _mm256_add_epi64(c, c);
	a = _mm256_mul_epu32(gh, c2);
	b = _mm256_mul_epu32(g, c2);
	hr = _mm256_sub_epi64(SET4(32), hl);	/* 63 - h */
	vb = ropx4(a, b, hl, hr);	/* the x of each, as decompose8() */
	vbl = ropx4(_mm256_sub_epi64(a, gh), _mm256_sub_epi64(b, gl), hl, hr);
	vbr = ropx4(_mm256_add_epi64(a, gh), _mm256_add_epi64(b, gl), hl, hr);
	out1 = _mm256_and_si256(c, SET4(1));
	s = _mm256_srli_epi64(vb, 33);
	sp10 = _mm256_mul_epu32(_mm256_srli_epi64(_mm256_mul_epu32(s,
	    SET4(0xcccccccd)), 35), SET4(10));	/* s / 10 * 10 */
	lhs = _mm256_add_epi64(vbl, out1);
	/* a <= b as !(a > b); all below 2^62, so signed */
	up = _mm256_cmpgt_epi64(lhs, _mm256_slli_epi64(sp10, 33));
	wp = _mm256_cmpgt_epi64(_mm256_add_epi64(_mm256_slli_epi64(
	    _mm256_add_epi64(sp10, SET4(10)), 33), out1), vbr);
	short10 = _mm256_xor_si256(up, wp);	/* up != wp, negated both */
	sp10 = _mm256_add_epi64(sp10, _mm256_andnot_si256(wp, SET4(10)));
	t = _mm256_andnot_si256(SET4((UINT64_C(1) << 33) - 1), vb);
	up = _mm256_cmpgt_epi64(lhs, t);	/* !up */
	wp = _mm256_cmpgt_epi64(_mm256_add_epi64(t, _mm256_add_epi64(out1,
	    SET4(UINT64_C(1) << 33))), vbr);	/* !wp */
	wp = _mm256_andnot_si256(wp, _mm256_or_si256(up, _mm256_cmpgt_epi64(
	    _mm256_add_epi64(_mm256_and_si256(vb, SET4((UINT64_C(1) << 33) -
	    1)), _mm256_and_si256(s, SET4(1))), SET4(UINT64_C(1) << 32))));
	s = _mm256_sub_epi64(s, wp);	/* wp is -1 where it adds 1 */
	d = _mm256_blendv_epi8(s, sp10, short10);

	/* the rest of decompose() */
	c0 = _mm256_cmpgt_epi64(d, SET4(99999999));
	raw = eight4(_mm256_sub_epi64(d, _mm256_and_si256(c0,
	    SET4(100000000))));
	lz = lowzeros4(_mm256_or_si256(raw, SET4(UINT64_C(1) << 63)));
	tz = lowzeros4(_mm256_shuffle_epi8(raw, _mm256_setr_epi8(7, 6, 5, 4,
	    3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
	    15, 14, 13, 12, 11, 10, 9, 8)));
	r = _mm256_srlv_epi64(raw, _mm256_slli_epi64(lz, 3));
	n = _mm256_sub_epi64(_mm256_blendv_epi8(_mm256_sub_epi64(SET4(8), lz),
	    SET4(9), c0), tz);
	_mm256_storeu_si256((void *)(o->n + i), n);
	_mm256_storeu_si256((void *)(o->f + i), _mm256_blendv_epi8(
	    _mm256_and_si256(r, SET4(0xff)), SET4(1), c0));
	x = _mm256_add_epi64(_mm256_add_epi64(k, tz), _mm256_sub_epi64(n,
	    SET4(1)));
	_mm256_storeu_si256((void *)(o->x + i), x);
	fast = _mm256_andnot_si256(_mm256_or_si256(sp, _mm256_cmpgt_epi64(
	    SET4(-4), x)), _mm256_cmpgt_epi64(n, x));
	t = _mm256_add_epi64(x, SET4(4));
	_mm256_storeu_si256((void *)(o->lay + i), _mm256_or_si256(
	    _mm256_andnot_si256(fast, SET4(-1)), _mm256_and_si256(fast,
	    _mm256_slli_epi64(_mm256_add_epi64(_mm256_add_epi64(
	    _mm256_slli_epi64(t, 3), t), _mm256_sub_epi64(n, SET4(1))),
	    LAYSHIFT))));
	_mm256_storeu_si256((void *)(o->w + i), _mm256_add_epi64(
	    _mm256_blendv_epi8(_mm256_srli_epi64(r, 8), raw, c0),
	    SET4(ZEROS)));
}

/* list512() with decompose4() */
CPU_AVX2 static size_t
list2(char *s, const unsigned char *v, size_t n, int sep)
{
	struct decblk b;
	size_t k, len = 0, i, m;

	for (k = 0; k + 4 <= n; k += m) {
		m = n - k < BLOCK ? (n - k) / 4 * 4 : BLOCK;
		b.special = 0;
		for (i = 0; i < m; i += 4)
			decompose4(&b, i, v + 4 * (k + i));
		len = layblk(s, len, &b, v + 4 * k, m, sep);
	}
	return listfrom(s, len - 1, v, k, n, sep);
}

#endif

size_t
f32_list(char *s, const unsigned char *v, size_t n, int sep)
{
	int p = F32_NPATHS - 1;

	while (p > F32_SCALAR && !f32_path(p))
		p--;
	return f32_list_path(p, s, v, n, sep);
}

size_t
f32_list_path(int p, char *s, const unsigned char *v, size_t n, int sep)
{
#ifdef CPU_SIMD
	if (p == F32_AVX512 && n >= 8)
		return list512(s, v, n, sep);
	if (p == F32_AVX2 && n >= 4)
		return list2(s, v, n, sep);
#endif
	(void)p;
	return listfrom(s, 0, v, 0, n, sep);
}

const char *
f32_path(int p)
{
	static const char *const name[F32_NPATHS] = { "scalar", "avx2",
	    "avx512" };

	if (p < 0 || p >= F32_NPATHS)
		return NULL;
	return p == F32_SCALAR || (p == F32_AVX2 && cpu_avx2()) ||
	    (p == F32_AVX512 && cpu_avx512()) ? name[p] : NULL;
}

size_t
f32_shortest(char *s, float f)
{
	unsigned char le[4];
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	le[0] = (unsigned char)u, le[1] = (unsigned char)(u >> 8);
	le[2] = (unsigned char)(u >> 16), le[3] = (unsigned char)(u >> 24);
	return f32_list(s, le, 1, 0);
}

/*
 * (float)strtod(p, NULL) for a JSON number p, without strtod where
 * that is safe, which is nearly always: the float arrays of servers
 * that ignore encoding_format are 1536 numbers an embedding, and
 * strtod (exact for any length, with big-number arithmetic) took half
 * of oai-embed's time on them.  Up to 19 significant digits and a
 * power of ten up to 22 give a double a within 1.5 units in its last
 * place of the exact value (one rounding of the digits, one of the
 * multiplication or division by the power, which is exact), so within
 * 2 of strtod's correctly rounded double d.  Rounding a and d to float
 * then agrees unless a is within 8 units (a margin) of a midpoint between
 * two floats (bits 0..28 of the double's mantissa 1 followed by
 * zeros): those, and subnormal or too large floats, and longer inputs,
 * go to strtod.
 */

/* m * 10^e into *f as above, or -1 where that takes strtod */
static inline int
tofloat(uint64_t m, int e, int neg, float *f)
{
	static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
	    1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
	    1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	uint64_t bits, low;
	double a;
	int be;

	if (m == 0) {
		*f = neg ? -0.0f : 0.0f;
		return 0;
	}
	if (e < -22 || e > 22)
		return -1;
	a = e < 0 ? (double)m / pow10[-e] : (double)m * pow10[e];
	memcpy(&bits, &a, sizeof bits);
	be = (int)(bits >> 52 & 0x7ff) - 1023;
	low = bits & ((UINT64_C(1) << 29) - 1);
	if (be < -126 || be > 127 || (low > (UINT64_C(1) << 28) - 8 &&
	    low < (UINT64_C(1) << 28) + 8))
		return -1;
	*f = neg ? -(float)a : (float)a;
	return 0;
}

/* m holds 19 significant digits (nd == 19 in f32_parse): a 20th would
 * not fit, and takes strtod */
#define M19 UINT64_C(1000000000000000000)

float
f32_parse(const char *p)
{
	const char *s = p;
	uint64_t m = 0;
	int neg = 0, nd = 0, e = 0, x = 0, xneg = 0;
	float f;

	if (*s == '-')
		neg = 1, s++;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (nd == 19)
			goto slow;
		m = m * 10 + (uint64_t)(*s - '0');
		nd += m != 0;
	}
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, e--) {
			if (nd == 19)
				goto slow;
			m = m * 10 + (uint64_t)(*s - '0');
			nd += m != 0;
		}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			xneg = *s++ == '-';
		for (; *s >= '0' && *s <= '9'; s++)
			if ((x = x * 10 + (*s - '0')) > 1000)
				goto slow;
		e += xneg ? -x : x;
	}
	if (tofloat(m, e, neg, &f) == 0)
		return f;
slow:
	return (float)strtod(p, NULL);
}

/*
 * The 8 bytes at s as a word, the first in its lowest byte (one load
 * where the compiler sees it), and whether they are all digits: then
 * each byte is 0x30..0x39, so its high nibble is 3 and adding 6 keeps
 * it 3 (0x3a..0x3f would make it 4; bytes of 0xfa and above carry, but
 * their own high nibble already fails).  Lemire's test.
 */
static inline uint64_t
load8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 |
	    (uint64_t)u[3] << 24 | (uint64_t)u[4] << 32 |
	    (uint64_t)u[5] << 40 | (uint64_t)u[6] << 48 |
	    (uint64_t)u[7] << 56;
}

static inline int
digits8(uint64_t w)
{
	return ((w & UINT64_C(0xf0f0f0f0f0f0f0f0)) |
	    ((w + UINT64_C(0x0606060606060606)) &
	    UINT64_C(0xf0f0f0f0f0f0f0f0)) >> 4) ==
	    UINT64_C(0x3333333333333333);
}

/*
 * The value of 8 digits in w (as load8() has them): pairs first (byte
 * 2i holds 10 * d[2i] + d[2i+1]; the odd bytes get garbage that the
 * masks drop), then two multiplications gather the four pairs, each
 * times its power of 100, in the high half.  Every partial sum stays
 * below 10^8, so nothing carries where it should not (Lemire's).
 */
static inline uint32_t
value8(uint64_t w)
{
	w -= UINT64_C(0x3030303030303030);
	w = w * 10 + (w >> 8);
	return (uint32_t)(((w & UINT64_C(0x000000ff000000ff)) *
	    (100 + (UINT64_C(1000000) << 32)) +
	    ((w >> 16) & UINT64_C(0x000000ff000000ff)) *
	    (1 + (UINT64_C(10000) << 32))) >> 32);
}

/*
 * The digits at s (before end) onto *m, 8 at a time while 8 more surely
 * fit (m < 10^11, so m * 10^8 + 10^8 - 1 < 10^19), then one at a time;
 * past them, or NULL at a digit that would be m's 20th significant one
 * (f32_parse()'s nd == 19 is m >= 10^18: m has as many digits as
 * significant ones were read), so that *m is f32_parse()'s m.
 */
static inline const char *
digits(const char *s, const char *end, uint64_t *m)
{
	uint64_t v = *m, w;

	while (end - s >= 8 && v < UINT64_C(100000000000) &&
	    digits8(w = load8(s))) {
		v = v * 100000000 + value8(w);
		s += 8;
	}
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v >= M19)
			return NULL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*m = v;
	return s;
}

static int
numbyte(int c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
	    c == 'e' || c == 'E';
}

/*
 * JSON's number grammar and f32_parse()'s reading of it in one pass
 * (the digits 8 at a time); see oai.h.  Every way out but the last is
 * "not here": no JSON number, one that the chunk cuts, or one for
 * strtod.
 */
size_t
f32_scan(const char *p, size_t n, float *f)
{
	const char *s = p, *end = p + n, *d;
	uint64_t m = 0;
	int neg = 0, e = 0, x = 0, xneg = 0;

	if (s < end && *s == '-')
		neg = 1, s++;
	if (s == end || *s < '0' || *s > '9')
		return 0;
	if (*s == '0')
		s++;	/* alone: a digit after it fails below */
	else if (!(s = digits(s, end, &m)))
		return 0;
	if (s < end && *s == '.') {
		d = ++s;
		if (!(s = digits(s, end, &m)) || s == d)
			return 0;
		e = -(int)(s - d);
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		if (++s < end && (*s == '-' || *s == '+'))
			xneg = *s++ == '-';
		for (d = s; s < end && *s >= '0' && *s <= '9'; s++)
			if ((x = x * 10 + (*s - '0')) > 1000)
				return 0;
		if (s == d)
			return 0;
		e += xneg ? -x : x;
	}
	if (s == end || numbyte((unsigned char)*s) || tofloat(m, e, neg, f))
		return 0;
	return (size_t)(s - p);
}
