/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: turning the API's error bodies into the one-line
 * message (oai_error_line()).  The first two bytes choose the HTTP
 * status (0-699, 0 meaning none), the rest is the body.  Whatever the
 * body, the line must be one line of valid UTF-8 without control
 * characters (it goes to a terminal), led by the status.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	char num[32], *body;
	long status;
	size_t i, nl;
	int ex;

	if (size < 2)
		return 0;
	status = (data[0] << 8 | data[1]) % 700;
	body = fuzz_dup(data + 2, size - 2);
	oai_error_line(&out, status, body, size - 2);
	for (i = 0; i < out.len; i++)
		FUZZ_CHECK((unsigned char)out.s[i] >= 0x20 &&
		    out.s[i] != 0x7f);
	FUZZ_CHECK(out.len == 0 || utf8_invalid(out.s, out.len) ==
	    (size_t)-1);
	if (status > 0) {
		nl = (size_t)snprintf(num, sizeof num, "%ld", status);
		FUZZ_CHECK(out.len >= nl && memcmp(out.s, num, nl) == 0);
	}
	ex = oai_status_exit(status);
	FUZZ_CHECK(ex == OAI_EX_AUTH || ex == OAI_EX_REJECTED ||
	    ex == OAI_EX_FAILURE);
	buf_free(&out);
	free(body);
	return 0;
}
