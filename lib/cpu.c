/* See LICENSE file for copyright and license details. */
#include "oai.h"

/*
 * Asked each time, not cached in a static (a data race for threads):
 * __builtin_cpu_init() fills its model once, before main() (again
 * only if called earlier), and each test reads a bit of it.
 */
#if defined(__x86_64__) && defined(__GNUC__)
int
cpu_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512cd") &&
	    __builtin_cpu_supports("avx512bw");
}

int
cpu_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
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
