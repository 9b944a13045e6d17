/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: the conversation-file reader (msgs_parse(), what
 * oai-chat -c and --messages read).  Byte 0's low bit chooses whether a
 * JSON array is allowed (--messages); the rest is the file.  Checks:
 * an error is one line naming the source; every message kept is one
 * line of compact JSON, an object with a string role; and what oai-chat
 * would append to the file (the messages, one per line) reads back as
 * the same messages: a saved conversation always loads.
 */
#include "fuzz.h"

static void
conv_fz_check(const struct msgs *m)
{
	struct json j = JSON_INIT;
	size_t i, n;

	for (i = 0; i < m->n; i++) {
		n = strlen(m->v[i]);
		FUZZ_CHECK(!memchr(m->v[i], '\n', n));
		FUZZ_CHECK(json_parse(&j, m->v[i], n) == 0);
		FUZZ_CHECK(json_type(&j, 0) == JSON_OBJECT);
		FUZZ_CHECK(json_type(&j, json_get(&j, 0, "role")) ==
		    JSON_STRING);
	}
	json_free(&j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgs m = MSGS_INIT, again = MSGS_INIT;
	struct buf err = BUF_INIT, file = BUF_INIT;
	char *s;
	size_t i;
	int rc;

	if (size < 1)
		return 0;
	s = fuzz_dup(data + 1, size - 1);
	rc = msgs_parse(&m, s, size - 1, "conv", data[0] & 1, &err);
	if (rc < 0) {
		FUZZ_CHECK(err.len > 5 && memcmp(err.s, "conv", 4) == 0);
		FUZZ_CHECK(!memchr(err.s, '\n', err.len));
	} else
		FUZZ_CHECK(err.len == 0);
	conv_fz_check(&m);
	for (i = 0; i < m.n; i++) {
		buf_adds(&file, m.v[i]);
		buf_addc(&file, '\n');
	}
	FUZZ_CHECK(msgs_parse(&again, file.s ? file.s : "", file.len, "conv",
	    0, &err) == 0);
	FUZZ_CHECK(again.n == m.n);
	for (i = 0; i < m.n; i++)
		FUZZ_CHECK(strcmp(again.v[i], m.v[i]) == 0);
	msgs_free(&m);
	msgs_free(&again);
	buf_free(&err);
	buf_free(&file);
	free(s);
	return 0;
}
