/* See LICENSE file for copyright and license details. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oai.h"

/*
 * f32_shortest() against the slow loop that defines it (kept here
 * verbatim as the reference): edge cases, every power of two and its
 * neighbours, and $F32_N (default 1,000,000) random bit patterns plus
 * as many random values in [-1, 1] (what embeddings hold).  With --all
 * (make check-long-f32; one to two hours of one core) every positive
 * float against the reference and every negative one against its
 * positive twin with a '-' (printf and strtof are symmetric).  And
 * f32_parse() against (float)strtod on the numbers a server may send
 * for random floats and on ones at and next to float midpoints.  And
 * each of f32_list()'s SIMD paths this CPU has (f32_list_path()) and
 * f32_list() itself against the scalar path on every length 0..40 at
 * every alignment, random and embedding-like floats and the special
 * ones; with --all-simd (make check-long-f32simd; a few minutes a path)
 * on every float.  TAP.
 */

static void
ref(char *s, float f)
{
	char t[32];
	int p = 6;

	if (f != f || f - f != 0) {
		strcpy(s, "null");
		return;
	}
	snprintf(s, 32, "%.*g", p, (double)f);
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
			snprintf(s, 32, "%.*g", ++p, (double)f);
			if (strtof(s, NULL) == f)
				break;
		}
}

static long nbad, nall, nsimd;
static int failed;

static void report(int, const char *);

static void
check(uint32_t u)
{
	char a[F32_BUFSIZE], b[32];
	float f;
	size_t n;

	memcpy(&f, &u, sizeof f);
	n = f32_shortest(a, f);
	ref(b, f);
	nall++;
	if (strcmp(a, b) != 0 || n != strlen(a)) {
		if (nbad++ < 10)
			printf("# %08lx: got %s want %s\n", (unsigned long)u,
			    a, b);
	}
}

/* -f prints as f with a '-' */
static void
negative(uint32_t u)
{
	char a[F32_BUFSIZE], b[F32_BUFSIZE + 1];
	float f, g;

	memcpy(&f, &u, sizeof f);
	g = -f;
	b[0] = '-';
	f32_shortest(a, f);
	f32_shortest(b + 1, g);
	nall++;
	if (strcmp(a, f != f ? b + 1 : b) != 0 && nbad++ < 10)
		printf("# %08lx: got %s want %s\n", (unsigned long)u, a, b);
}

/* xorshift64*: reproducible */
static uint64_t rs = 88172645463325252ULL;

static uint32_t
rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return (uint32_t)((rs * 2685821657736338717ULL) >> 32);
}

/*
 * f32_list() of the n floats at u (any bits) against f32_shortest() of
 * each, joined by sep: what vec_write() prints is what the tests above
 * checked.
 */
static void
list(const uint32_t *u, size_t n, int sep)
{
	static char a[64 * F32_BUFSIZE], b[64 * F32_BUFSIZE];
	unsigned char le[64 * 4];
	size_t i, k = 0, len;
	float f;

	for (i = 0; i < n; i++) {
		le[4 * i] = (unsigned char)u[i];
		le[4 * i + 1] = (unsigned char)(u[i] >> 8);
		le[4 * i + 2] = (unsigned char)(u[i] >> 16);
		le[4 * i + 3] = (unsigned char)(u[i] >> 24);
		if (i)
			b[k++] = (char)sep;
		memcpy(&f, &u[i], sizeof f);
		k += f32_shortest(b + k, f);
	}
	b[k] = '\0';
	memset(a, 'x', sizeof a);
	len = f32_list(a, le, n, sep);
	nall++;
	if ((len != k || strcmp(a, b) != 0) && nbad++ < 10)
		printf("# list of %zu: got %s want %s\n", n, a, b);
}

/* one of the special cases of f32_shortest: zeros, infinities, NaN, a
 * power of two, a subnormal */
static uint32_t
edgebits(uint32_t r)
{
	static const uint32_t e[] = { 0, 0x80000000, 0x7f800000, 0xff800000,
	    0x7fc00000, 0x3f800000, 0x00800000, 0x00000001, 0x80400000 };

	return e[r % (sizeof e / sizeof e[0])] ^ (r & 0x80000000);
}

static long nscan;	/* numbers f32_scan() took */

/*
 * f32_scan() of JSON number s, at an offset of 0..7 bytes (the digits 8
 * at a time at every alignment) and followed by ",1": its length and
 * want, bit for bit, unless it leaves s to strtod (0); and 0 on every
 * prefix of s that ends its piece, as a chunk boundary cuts a number.
 */
static void
scanned(const char *s, float want)
{
	static char b[256];
	size_t l = strlen(s), off = (size_t)nall % 8, j, k;
	float f;

	memcpy(b + off, s, l);
	memcpy(b + off + l, ",1", 3);
	if ((k = f32_scan(b + off, l + 2, &f)) != 0) {
		nscan++;
		if ((k != l || memcmp(&f, &want, sizeof f) != 0) &&
		    nbad++ < 10)
			printf("# f32_scan(\"%s\"): got %.9g (%zu bytes) "
			    "want %.9g (%zu)\n", s, (double)f, k,
			    (double)want, l);
	}
	for (j = 0; j <= l; j++)
		if (f32_scan(b + off, j, &f) != 0 && nbad++ < 10)
			printf("# f32_scan(\"%s\") cut after %zu bytes: "
			    "taken\n", s, j);
}

/* f32_parse(s) and f32_scan() are (float)strtod(s, NULL), bit for bit */
static void
parse(const char *s)
{
	float a = f32_parse(s), b = (float)strtod(s, NULL);

	nall++;
	if (memcmp(&a, &b, sizeof a) != 0 && nbad++ < 10)
		printf("# f32_parse(\"%s\"): got %.9g want %.9g\n", s,
		    (double)a, (double)b);
	if (strlen(s) < 200)
		scanned(s, b);
}

/* A random JSON number: 0 to 3 integer digits (no leading zero), 0 to
 * 25 after the point (zeros one in three: runs of them), perhaps an
 * exponent. */
static void
randnum(char *t)
{
	uint32_t r = rnd(), i, nint = r % 4, nfrac = (r >> 2) % 26;
	char *p = t;

	if (r >> 8 & 1)
		*p++ = '-';
	if (nint == 0)
		*p++ = '0';
	for (i = 0; i < nint; i++)
		*p++ = (char)('0' + (i == 0 ? 1 + rnd() % 9 : rnd() % 3 ?
		    rnd() % 10 : 0));
	if (nfrac)
		*p++ = '.';
	for (i = 0; i < nfrac; i++)
		*p++ = (char)('0' + (rnd() % 3 ? rnd() % 10 : 0));
	if (r >> 9 & 1)
		p += sprintf(p, "e%s%u", r >> 10 & 1 ? "-" : "",
		    (unsigned)(r >> 11) % 40);
	*p = '\0';
}

/* Not JSON numbers (or not only one): f32_scan() takes none, whatever
 * strtod makes of them. */
static void
notjson(void)
{
	static const char *const bad[] = { "", "-", "01", "-01", "00",
	    "1.", "-.5", ".5", "+1", "1e", "1e+", "1E-", "1.e5", "1.5.2",
	    "1-", "1+", "1ee5", "--1", "1e5.5", "1e5e5", "- 1", "0.-1",
	    "12345678.1.2", "0.12345678e", "Infinity", "NaN" };
	char b[64];
	size_t i;
	float f;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		nall++;
		snprintf(b, sizeof b, "%s]", bad[i]);
		if (f32_scan(b, strlen(b) + 1, &f) != 0 && nbad++ < 10)
			printf("# f32_scan(\"%s\"): taken\n", bad[i]);
	}
	/* a number, then a byte that ends it (the scanner then fails on
	 * the 'x'): only the number */
	if ((f32_scan("1,5", 4, &f) != 1 || f32_scan("0x1", 4, &f) != 1) &&
	    nbad++ < 10)
		printf("# f32_scan(\"1,5\" or \"0x1\"): not 1 byte\n");
}

/* What servers send, taken by the fast path (not left to strtod). */
static void
fast(void)
{
	static const char *const s[] = { "-0.011622308194637299",
	    "0.12345678", "0.022599461", "-1.5e-05", "12345678901234567",
	    "0.1234567890123456789", "3e+9", "0", "-0.0", "1E2" };
	size_t i;
	float f;

	for (i = 0; i < sizeof s / sizeof s[0]; i++) {
		nall++;
		if (f32_scan(s[i], strlen(s[i]) + 1, &f) != strlen(s[i]) &&
		    nbad++ < 10)
			printf("# f32_scan(\"%s\"): left to strtod\n", s[i]);
	}
}

/* The numbers a server may send for float f, and ones near the float
 * midpoints around it, through parse(). */
static void
parses(uint32_t u)
{
	static const char *const fmt[] = { "%.17g", "%.9g", "%.6e", "%.16f",
	    "%.20g", "%.25g", "%.12g" };
	char t[128];
	double d, mid;
	float f, g;
	size_t i;

	memcpy(&f, &u, sizeof f);
	if (f != f || f - f != 0)
		return;
	f32_shortest(t, f);
	parse(t);
	for (i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
		snprintf(t, sizeof t, fmt[i], (double)f);
		parse(t);
	}
	u++;
	memcpy(&g, &u, sizeof g);
	if (g - g != 0)
		return;
	mid = ((double)f + (double)g) / 2;	/* exact: a midpoint */
	for (i = 0; i < 3; i++) {
		d = i == 0 ? mid : i == 1 ? nextafter(mid, 0) :
		    nextafter(mid, 1e300);
		snprintf(t, sizeof t, "%.17g", d);
		parse(t);
		snprintf(t, sizeof t, "%.60g", d);	/* exact, long */
		parse(t);
	}
}

/* a float like an embedding's: gaussian, sigma 0.025 (Box-Muller) */
static uint32_t
gauss(void)
{
	double a = ((double)rnd() + 1) / 4294967296.0, b = rnd() / 4294967296.0;
	float f = (float)(0.025 * sqrt(-2 * log(a)) * cos(6.283185307179586 *
	    b));
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	return u;
}

/*
 * f32_list_path(p) (p < 0: f32_list()) against the scalar path on the n
 * floats at u, from byte offset off of the buffer (any alignment): the
 * same bytes, the same length.
 */
static void
simd(int p, const uint32_t *u, size_t n, size_t off, int sep)
{
	static unsigned char le[4096 * 4 + 8];
	static char a[4096 * F32_BUFSIZE], b[4096 * F32_BUFSIZE];
	size_t i, la, lb;

	for (i = 0; i < n; i++) {
		le[off + 4 * i] = (unsigned char)u[i];
		le[off + 4 * i + 1] = (unsigned char)(u[i] >> 8);
		le[off + 4 * i + 2] = (unsigned char)(u[i] >> 16);
		le[off + 4 * i + 3] = (unsigned char)(u[i] >> 24);
	}
	memset(a, 'x', n ? n * F32_BUFSIZE : 1);
	la = p < 0 ? f32_list(a, le + off, n, sep) : f32_list_path(p, a,
	    le + off, n, sep);
	lb = f32_list_path(F32_SCALAR, b, le + off, n, sep);
	nall += (long)n;
	if ((la != lb || memcmp(a, b, la + 1) != 0) && nbad++ < 10) {
		for (i = 0; i < la && i < lb && a[i] == b[i]; i++)
			;
		printf("# %s: %zu floats at +%zu: byte %zu: got %.40s want "
		    "%.40s\n", p < 0 ? "f32_list" : f32_path(p), n, off, i,
		    a + i, b + i);
	}
}

/*
 * f32_list_path(p) (p < 0: f32_list()) of the n floats at u, read from a
 * heap copy of exactly 4n bytes (ASan sees a read past it) into exactly
 * the n * F32_BUFSIZE bytes the contract asks (1 for n == 0): nothing
 * written past them (a canary of 64 bytes after them stays).
 */
static void
tight(int p, const uint32_t *u, size_t n)
{
	size_t i, sz = n ? n * F32_BUFSIZE : 1;
	unsigned char *le = malloc(n ? 4 * n : 1);
	char *out = malloc(sz + 64);

	if (!le || !out)
		abort();
	for (i = 0; i < n; i++) {
		le[4 * i] = (unsigned char)u[i];
		le[4 * i + 1] = (unsigned char)(u[i] >> 8);
		le[4 * i + 2] = (unsigned char)(u[i] >> 16);
		le[4 * i + 3] = (unsigned char)(u[i] >> 24);
	}
	memset(out + sz, 'c', 64);
	if (p < 0)
		f32_list(out, le, n, ',');
	else
		f32_list_path(p, out, le, n, ',');
	nall += (long)n;
	for (i = 0; i < 64; i++)
		if (out[sz + i] != 'c') {
			if (nbad++ < 10)
				printf("# %s: %zu floats: byte %zu past the "
				    "buffer written\n", p < 0 ? "f32_list" :
				    f32_path(p), n, i);
			break;
		}
	free(le);
	free(out);
}

/* test 8 of path p (p < 0: f32_list()) */
static void
simdpath(int p)
{
	uint32_t v[4096], u, k;
	size_t m, off;
	long i;

	for (m = 0; m <= 40; m++)	/* every tail, any alignment */
		for (off = 0; off < 8; off++) {
			for (k = 0; k < m; k++)
				v[k] = rnd() % 4 ? gauss() :
				    rnd() % 2 ? rnd() : edgebits(rnd());
			simd(p, v, m, off, off % 2 ? ',' : '\t');
		}
	for (m = 0; m <= 40; m++) {	/* the longest texts, exact buffers */
		for (k = 0; k < m; k++)	/* -1.17549435e-38 and like */
			v[k] = 0x80800000u | (k % 2 ? 0x7fffffu - k : k + 1);
		tight(p, v, m);
		for (k = 0; k < m; k++)
			v[k] = rnd() % 2 ? gauss() : edgebits(rnd());
		tight(p, v, m);
	}
	for (i = 0; i < nsimd / 4096 + 1; i++) {
		for (k = 0; k < 4096; k++)
			v[k] = i % 2 ? gauss() : rnd();
		simd(p, v, 4096, (size_t)i % 4, ',');
	}
	for (u = 0; u < 4096; u++)	/* subnormals, exponent ends */
		v[u] = u;
	simd(p, v, 4096, 1, ',');
	for (k = 0; k < 2; k++) {	/* powers of two, neighbours */
		for (u = 0; u < 256; u++) {
			v[4 * u] = (u << 23 | k << 31) - 1;
			v[4 * u + 1] = u << 23 | k << 31;
			v[4 * u + 2] = (u << 23 | k << 31) + 1;
			v[4 * u + 3] = (u << 23 | k << 31) + 0x3fffff;
		}
		simd(p, v, 1024, 3, ',');
	}
	v[0] = 0x7f800000, v[1] = 0xff800000, v[2] = 0x7fc00000;
	v[3] = 0xffc00001, v[4] = 0, v[5] = 0x80000000;
	v[6] = 0x7f7fffff, v[7] = 0x00800000, v[8] = 1;
	simd(p, v, 9, 2, ',');
}

/* Every float, 4096 at a time, through simd() by every path this CPU
 * has (make check-long-f32simd): a process a path, side by side (the
 * machine's other cores are idle in that CI stage). */
static void
allsimd(void)
{
	static uint32_t v[4096];
	uint64_t u;
	size_t i;
	int p, st, bad = 0, kids = 0;

	for (p = F32_SCALAR + 1; p < F32_NPATHS; p++) {
		if (!f32_path(p))
			continue;
		fflush(stdout);
		switch (fork()) {
		case -1:
			perror("fork");
			exit(1);
		case 0:
			break;
		default:
			kids++;
			continue;
		}
		u = 0;
		do {
			for (i = 0; i < 4096; i++)
				v[i] = (uint32_t)(u + i);
			simd(p, v, 4096, 0, ',');
			u += 4096;
			if ((u & 0xfffffff) == 0)
				fprintf(stderr, "# %s %08lx\n", f32_path(p),
				    (unsigned long)(u - 1));
		} while (u < UINT64_C(1) << 32);
		printf("# %s: %ld values, %ld differ\n", f32_path(p), nall,
		    nbad);
		exit(nbad != 0);
	}
	nall = (long)kids << 32;
	while (kids-- > 0)
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad = 1;
	nbad = bad;
	report(9, "every float: each path of f32_list is the scalar one");
}

static void
report(int t, const char *name)
{
	printf("%s %d - %s (%ld values)\n", nbad ? "not ok" : "ok", t, name,
	    nall);
	failed |= nbad != 0;
	nbad = nall = 0;
}

int
main(int argc, char *argv[])
{
	static const float edge[] = { 0.0f, 1.0f, 0.1f, 0.5f, 1e-4f, 1e-5f,
	    9.999999e-5f, 123456.7f, 1234567.0f, 12345678.0f, 16777215.0f,
	    16777216.0f, 9.5367432e-7f, 9.5367425e-7f, FLT_MIN, FLT_MAX,
	    FLT_TRUE_MIN, FLT_EPSILON, 3.4028235e38f, 1.17549421e-38f,
	    0.3f, 2.0f / 3, 1e10f, 1e-10f, 100000.0f, 999999.5f, 9999999.0f };
	const char *e = getenv("F32_N");
	long n = e ? atol(e) : 1000000, i;
	uint32_t u, k;
	float f;

	for (i = 0; i < (long)(sizeof edge / sizeof edge[0]); i++) {
		memcpy(&u, &edge[i], sizeof u);
		for (k = 0; k < 2; k++) {
			check((u ^ k << 31) - 1);
			check(u ^ k << 31);
			check((u ^ k << 31) + 1);
		}
	}
	check(0x7f800000), check(0xff800000), check(0x7fc00000);
	report(1, "edge cases: zeros, subnormals, extremes, inf, NaN");
	for (u = 0; u < 256; u++)	/* every exponent, both signs */
		for (k = 0; k < 2; k++) {
			check((u << 23 | k << 31) - 1);
			check(u << 23 | k << 31);
			check((u << 23 | k << 31) + 1);
			check((u << 23 | k << 31) + 0x3fffff);
		}
	report(2, "powers of two and their neighbours");
	for (u = 0; u < 1u << 16; u++)	/* all of the subnormals' low bits */
		check(u * 127 % (1u << 23));
	for (u = 0; u < 4096; u++)	/* the smallest: 1 to 3 digits */
		check(u);
	report(3, "subnormals");
	for (i = 0; i < n; i++)
		check(rnd());
	report(4, "random bit patterns");
	for (i = 0; i < n; i++) {
		f = (float)((double)rnd() / 2147483648.0 - 1.0);
		memcpy(&u, &f, sizeof u);
		check(u);
	}
	report(5, "random values in [-1, 1]");
	{
		uint32_t v[64] = { 0 };
		size_t m;

		list(v, 0, ',');
		for (i = 0; i < 20000; i++) {
			m = rnd() % 65;
			for (k = 0; k < m; k++)	/* a third special cases */
				v[k] = rnd() % 3 ? rnd() : edgebits(rnd());
			list(v, m, i % 2 ? ',' : '\t');
		}
	}
	report(6, "f32_list: f32_shortest's numbers joined");
	{
		static const char *const num[] = { "0", "-0", "0.0", "-0.0e5",
		    "1", "-1", "1e-50", "1e50", "3.4028235e38", "3.4028236e38",
		    "3.40282357e38", "-3.5e38", "1.17549435e-38",
		    "1.1754942e-38", "1e-45", "7e-46", "1.4e-45", "0.1",
		    "0.000000000000000000000000001", "123456789012345678901",
		    "1234567890123456789", "0.1234567890123456789",
		    "0.12345678901234567890", "1E+2", "1e22", "1e23", "1e-22",
		    "1e-23", "12345678e-30", "9007199254740993",
		    "0.30000001192092896", "-0.9757791161537170",
		    "1e1000", "1e-1000", "1e99999999999", "0e999999999" };
		char t[64];

		for (i = 0; i < (long)(sizeof num / sizeof num[0]); i++)
			parse(num[i]);
		for (i = 0; i < n / 20; i++)
			parses(rnd());
		for (i = 0; i < n / 20; i++) {
			f = (float)((double)rnd() / 2147483648.0 - 1.0);
			memcpy(&u, &f, sizeof u);
			parses(u);
		}
		for (i = 0; i < n / 20; i++) {
			randnum(t);
			parse(t);
		}
		/* the fast path is taken: of what parses() and randnum()
		 * make, all but the midpoints and the longest: a third */
		if (nscan < nall / 4 && nbad++ < 10)
			printf("# f32_scan took only %ld of %ld\n", nscan,
			    nall);
		notjson();
		fast();
	}
	report(7, "f32_parse and f32_scan are (float)strtod");
	nsimd = n;
	for (k = F32_SCALAR + 1; k < F32_NPATHS; k++) {
		printf("# f32_list path %u: %s\n", (unsigned)k,
		    f32_path((int)k) ? f32_path((int)k) :
		    "not on this CPU, skipped");
		if (f32_path((int)k))
			simdpath((int)k);
	}
	simdpath(-1);
	report(8, "f32_list (each path this CPU has) is the scalar path");
	if (argc > 1 && strcmp(argv[1], "--all-simd") == 0) {
		allsimd();
		printf("1..9\n");
		return failed;
	}
	if (argc < 2 || strcmp(argv[1], "--all") != 0) {
		/* the walks of every float are make check-long-f32's and
		 * check-long-f32simd's, not skips of make check */
		printf("# every float: make check-long-f32 (an hour or two), "
		    "make check-long-f32simd (minutes)\n1..8\n");
		return failed;
	}
	u = 0;
	do {
		check(u);
		if ((u & 0xfffffff) == 0xfffffff)
			fprintf(stderr, "# %08lx\n", (unsigned long)u);
	} while (++u < 1u << 31);
	report(9, "every positive float");
	u = 1u << 31;
	do
		negative(u);
	while (++u != 0);
	report(10, "every negative float");
	printf("1..10\n");
	return failed;
}
