/* See LICENSE file for copyright and license details. */
#include "oai.h"

/*
 * Asked once, before main(), by a constructor: __builtin_cpu_init()
 * fills GCC's model of the CPU, and the answers are kept in statics
 * that are written before any thread can start and only read after (a
 * static written on first use would be a data race for threads using
 * lib/).  The SIMD paths ask for each line or block they take.
 */
#if defined(__x86_64__) && defined(__GNUC__)
static int avx2, avx512;

__attribute__((constructor)) static void
cpuinit(void)
{
	__builtin_cpu_init();
	avx2 = __builtin_cpu_supports("avx2");
	avx512 = __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512cd") &&
	    __builtin_cpu_supports("avx512bw");
}

int
cpu_avx512(void)
{
	return avx512;
}

int
cpu_avx2(void)
{
	return avx2;
}
#else
int
cpu_avx512(void)
{
	return 0;
}

int
cpu_avx2(void)
{
	return 0;
}
#endif
