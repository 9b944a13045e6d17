/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: Retry-After values (delta seconds or an HTTP date)
 * as oai_parse_retry_after() reads them from a response header: the
 * bytes are not NUL-terminated.  The answer is -1 or a delay >= 0, and
 * plain decimal seconds give exactly that many thousand milliseconds.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = fuzz_dup(data, size);
	long long ms, sec;
	size_t i;

	ms = oai_parse_retry_after(v, size);
	FUZZ_CHECK(ms == -1 || ms >= 0);
	if (size > 0 && size <= 9) {
		for (i = 0, sec = 0; i < size && v[i] >= '0' && v[i] <= '9';
		    i++)
			sec = sec * 10 + (v[i] - '0');
		if (i == size)
			FUZZ_CHECK(ms == sec * 1000);
	}
	free(v);
	return 0;
}
