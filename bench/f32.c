/* See LICENSE file for copyright and license details. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oai.h"

/*
 * f32_list() by each of its paths this CPU has, in ns a float, on one
 * vector of 1536 floats (an embedding's size) printed $BENCH_F32_REPS
 * times (default 10,000; 2,000 with BENCH_QUICK), best of
 * $BENCH_F32_BEST runs (default 5): embedding-like floats (gaussian,
 * sigma 0.025: nearly all print as 0.0ddd) and random bit patterns
 * (nearly all d.ddde+XX).  Run by bench/f32.sh (make bench); prints,
 * asserts nothing: the tests compare the paths' bytes.
 */

#define N 1536

/* xorshift64*: the same floats every run */
static uint64_t rs = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 2685821657736338717ULL;
}

static void
fill(unsigned char *v, int gauss)
{
	double a, b;
	uint32_t u;
	float f;
	int i;

	for (i = 0; i < N; i++) {
		if (gauss) {	/* Box-Muller */
			a = (double)(rnd() >> 11) * 0x1p-53;
			b = (double)(rnd() >> 11) * 0x1p-53;
			f = (float)(0.025 * sqrt(-2 * log(a + 1e-300)) *
			    cos(6.283185307179586 * b));
			memcpy(&u, &f, sizeof u);
		} else
			u = (uint32_t)(rnd() >> 32);
		v[4 * i] = (unsigned char)u;
		v[4 * i + 1] = (unsigned char)(u >> 8);
		v[4 * i + 2] = (unsigned char)(u >> 16);
		v[4 * i + 3] = (unsigned char)(u >> 24);
	}
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* the best ns a float of path p on v; *len: the bytes of one vector */
static double
run(int p, const unsigned char *v, long reps, int best, size_t *len)
{
	static char out[N * F32_BUFSIZE];
	double t, min = 1e300;
	long r;
	int i;

	for (i = 0; i < best; i++) {
		t = now();
		for (r = 0; r < reps; r++)
			*len = f32_list_path(p, out, v, N, ',');
		t = (now() - t) / ((double)reps * N);
		if (t < min)
			min = t;
	}
	return min;
}

int
main(void)
{
	static unsigned char emb[4 * N], bits[4 * N];
	const char *e;
	long reps = getenv("BENCH_QUICK") && *getenv("BENCH_QUICK") ? 2000 :
	    10000;
	int best = 5, p;
	double te, tb, se = 0, sb = 0;
	size_t le, lb;

	if ((e = getenv("BENCH_F32_REPS")) && atol(e) > 0)
		reps = atol(e);
	if ((e = getenv("BENCH_F32_BEST")) && atoi(e) > 0)
		best = atoi(e);
	fill(emb, 1);
	fill(bits, 0);
	printf("f32_list, %d floats x %ld, best of %d: ns a float\n", N, reps,
	    best);
	printf("%-8s %22s %22s\n", "path", "embedding-like", "random bits");
	for (p = F32_SCALAR; p < F32_NPATHS; p++) {
		if (!f32_path(p)) {
			printf("%-8d %22s %22s\n", p, "(not on this CPU)", "");
			continue;
		}
		te = run(p, emb, reps, best, &le);
		tb = run(p, bits, reps / 2, best, &lb);
		if (p == F32_SCALAR)
			se = te, sb = tb;
		printf("%-8s %8.2f (%4.2fx, %zu B) %8.2f (%4.2fx, %zu B)\n",
		    f32_path(p), te, se / te, le / N, tb, sb / tb, lb / N);
	}
	return 0;
}
