/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: the redaction of messages (buf_addredacted()).
 * Byte 0 is the key's length (0: no key), then the key, then the text.
 * The output holds neither the key (one of key characters, as real keys
 * are) nor an sk- token (sk- and 8 key characters, not inside a word; a
 * token right after a redacted key was inside a word of the input), and
 * text with no key and no "sk-" in it comes out unchanged.
 */
#include "fuzz.h"

static int
redact_keychar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int
redact_has(const char *s, size_t n, const char *t, size_t tn)
{
	size_t i;

	for (i = 0; i + tn <= n; i++)
		if (memcmp(s + i, t, tn) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	char *key = NULL, *text;
	size_t k, n, i, j;

	if (size < 1)
		return 0;
	k = data[0];
	if (k > size - 1)
		k = size - 1;
	if (k) {
		key = xstrndup((const char *)data + 1, k);
		if (strlen(key) < 8) {	/* as oai_redact_key() */
			free(key);
			key = NULL;
		}
	}
	n = size - 1 - k;
	text = fuzz_dup(data + 1 + k, n);
	buf_addredacted(&out, text, n, key);
	if (key && strcmp(key, "redacted") != 0) {
		for (i = 0; key[i] && redact_keychar((unsigned char)key[i]);
		    i++)
			;
		if (!key[i])
			FUZZ_CHECK(!redact_has(out.s, out.len, key, i));
	}
	for (i = 0; i + 11 <= out.len; i++) {
		if (memcmp(out.s + i, "sk-", 3) != 0 ||
		    (i > 0 && (redact_keychar((unsigned char)out.s[i - 1]) ||
		    out.s[i - 1] == ']')))
			continue;
		for (j = i + 3; j < out.len &&
		    redact_keychar((unsigned char)out.s[j]); j++)
			;
		FUZZ_CHECK(j - i < 11);
	}
	if (!key && !redact_has(text, n, "sk-", 3))
		FUZZ_CHECK(fuzz_eq(out.s, out.len, text, n));
	buf_free(&out);
	free(text);
	free(key);
	return 0;
}
