/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: the JSON string writer and the UTF-8 checks.
 * utf8_invalid() must agree, offset for offset, with the plain decoder
 * below (RFC 3629: no overlongs, surrogates or code points past
 * U+10FFFF).  Valid text must come back byte for byte through jw_strn()
 * + json_parse() + json_str(); invalid text would make the writer die
 * (by contract), so it is never given to it.  utf8_complete() must hold
 * back at most the bytes of one unfinished character.
 */
#include "fuzz.h"

/* Offset of the lead byte of the first invalid sequence, or -1. */
static size_t
jsonw_fz_ref(const unsigned char *u, size_t n)
{
	unsigned long cp;
	size_t i = 0, len, k;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((u[i] & 0xe0) == 0xc0) {
			len = 2;
			cp = u[i] & 0x1f;
		} else if ((u[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = u[i] & 0x0f;
		} else if ((u[i] & 0xf8) == 0xf0) {
			len = 4;
			cp = u[i] & 0x07;
		} else
			return i;
		if (n - i < len)
			return i;
		for (k = 1; k < len; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += len;
	}
	return (size_t)-1;
}

static void
jsonw_fz_roundtrip(const char *s, size_t n)
{
	struct json j = JSON_INIT;
	struct buf b = BUF_INIT, out = BUF_INIT;
	struct jw w;
	size_t i;
	int e;

	/* Alone, then as members of an array and an object (separators). */
	jw_init(&w, &b);
	jw_strn(&w, s, n);
	for (i = 0; i < b.len; i++)
		FUZZ_CHECK((unsigned char)b.s[i] >= 0x20);
	FUZZ_CHECK(json_parse(&j, b.s, b.len) == 0);
	FUZZ_CHECK(json_str(&j, 0, &out) == 0);
	FUZZ_CHECK(fuzz_eq(out.s, out.len, s, n));

	buf_reset(&b);
	buf_reset(&out);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_strn(&w, s, n);
	jw_obj(&w);
	jw_key(&w, "k");
	jw_strn(&w, s, n);
	jw_obj_end(&w);
	jw_arr_end(&w);
	FUZZ_CHECK(json_parse(&j, b.s, b.len) == 0);
	FUZZ_CHECK(json_size(&j, 0) == 2);
	FUZZ_CHECK(json_str(&j, json_at(&j, 0, 0), &out) == 0);
	FUZZ_CHECK(fuzz_eq(out.s, out.len, s, n));
	buf_reset(&out);
	e = json_path(&j, 0, "1.k");
	FUZZ_CHECK(json_str(&j, e, &out) == 0);
	FUZZ_CHECK(fuzz_eq(out.s, out.len, s, n));
	json_free(&j);
	buf_free(&b);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_dup(data, size);
	size_t bad, c, k;

	bad = utf8_invalid(s, size);
	FUZZ_CHECK(bad == jsonw_fz_ref(data, size));
	/* What utf8_complete() keeps is valid up to the first invalid byte;
	 * it holds back at most 3 bytes, and only an unfinished character. */
	c = utf8_complete(s, size);
	FUZZ_CHECK(c <= size && size - c <= 3);
	if (bad == (size_t)-1) {
		FUZZ_CHECK(c == size);
		/* Every cut of valid text: the held-back tail is exactly
		 * the start of the character the cut split. */
		for (k = size > 4 ? size - 4 : 0; k < size; k++) {
			c = utf8_complete(s, k);
			FUZZ_CHECK(c <= k && utf8_invalid(s, c) == (size_t)-1);
			FUZZ_CHECK(c == k || utf8_invalid(s, k) == c);
		}
		jsonw_fz_roundtrip(s, size);
	}
	free(s);
	return 0;
}
