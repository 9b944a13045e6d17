/* See LICENSE file for copyright and license details. */
#include "oai.h"

#ifdef CPU_SIMD
#include <cpuid.h>
#include <stdatomic.h>

/*
 * Asked by CPUID the first time a SIMD path asks, not before main():
 * under a hypervisor each CPUID traps (about 7 us here), and a tool
 * that never takes a SIMD path should not pay for it at start-up (GCC's
 * __builtin_cpu_supports() would link libgcc's constructor, which asks
 * at every start).  The answer is kept in an atomic, so threads asking
 * at once only compute it twice.  Bit 0: asked; 1: AVX2; 2: AVX-512 F,
 * DQ, CD and BW.  A feature counts only where the OS saves its
 * registers (XGETBV: YMM state for AVX2, opmask and ZMM for AVX-512),
 * as GCC's checks have it; test_base64 compares the two.
 */
static atomic_int feat;

static int
cpufeat(void)
{
	unsigned a, b, c, d, xcr0;
	int f = atomic_load_explicit(&feat, memory_order_relaxed);

	if (f)
		return f;
	f = 1;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_OSXSAVE) &&
	    (c & bit_AVX) && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		__asm__("xgetbv" : "=a"(xcr0), "=d"(d) : "c"(0));
		if ((xcr0 & 0x06) == 0x06 && (b & bit_AVX2))
			f |= 2;
		if ((xcr0 & 0xe6) == 0xe6 && (b & bit_AVX512F) &&
		    (b & bit_AVX512DQ) && (b & bit_AVX512CD) &&
		    (b & bit_AVX512BW))
			f |= 4;
	}
	atomic_store_explicit(&feat, f, memory_order_relaxed);
	return f;
}

int
cpu_avx2(void)
{
	return cpufeat() >> 1 & 1;
}

int
cpu_avx512(void)
{
	return cpufeat() >> 2 & 1;
}
#else
int
cpu_avx2(void)
{
	return 0;
}

int
cpu_avx512(void)
{
	return 0;
}
#endif
