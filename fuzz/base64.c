/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: base64 decoding (embeddings' and images' payloads),
 * whose long runs take 32 characters at a time by SIMD where the CPU
 * has it.  The first byte picks how the rest is cut into pieces of 1 to
 * 17 bytes, too short for those blocks.  base64_dec_feed() fed the text
 * whole and fed it in the pieces must give the same bytes and verdict;
 * base64_decode() of the whole must give what a decoder of one
 * character at a time gives (its own rules: any '=' at the end
 * dropped, then every character in the alphabet).
 */
#include "fuzz.h"

/* base64_decode()'s definition, a character at a time */
static long
base64_fz_ref(const char *s, size_t n, unsigned char *o)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *c;
	unsigned v = 0;
	long len = 0;
	int bits = 0;
	size_t k;

	while (n && s[n - 1] == '=')
		n--;
	for (k = 0; k < n; k++) {
		if (!s[k] || !(c = strchr(a, s[k])))
			return -1;
		v = v << 6 | (unsigned)(c - a);
		if ((bits += 6) >= 8) {
			bits -= 8;
			o[len++] = (unsigned char)(v >> bits);
		}
	}
	return len;
}

/* s[0..n) through base64_dec_feed() in pieces of at most max bytes
 * (0: whole), into o; the length, or -1 */
static long
base64_fz_feed(const char *s, size_t n, size_t max, unsigned char *o)
{
	struct base64_dec d = BASE64_DEC_INIT;
	size_t k, m;
	long len = 0, r;

	for (k = 0; k < n; k += m) {
		m = max && n - k > max ? max : n - k;
		if ((r = base64_dec_feed(&d, s + k, m, o + len)) < 0)
			return -1;
		len += r;
	}
	return base64_dec_end(&d) < 0 ? -1 : len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT;
	unsigned char *want, *whole, *cut;
	size_t max, n;
	char *s;
	long w, g, c;

	if (size < 1)
		return 0;
	max = data[0] % 17 + 1;
	n = size - 1;
	s = fuzz_dup(data + 1, n);
	want = malloc(n + 3);
	whole = malloc(n + 3);
	cut = malloc(n + 3);
	if (!want || !whole || !cut)
		abort();
	w = base64_fz_ref(s, n, want);
	g = base64_decode(&b, s, n) < 0 ? -1 : (long)b.len;
	FUZZ_CHECK(g == w);
	FUZZ_CHECK(w < 0 || fuzz_eq(b.s, b.len, want, (size_t)w));
	g = base64_fz_feed(s, n, 0, whole);
	c = base64_fz_feed(s, n, max, cut);
	FUZZ_CHECK(g == c);
	FUZZ_CHECK(g < 0 || fuzz_eq(whole, (size_t)g, cut, (size_t)c));
	buf_free(&b);
	free(want);
	free(whole);
	free(cut);
	free(s);
	return 0;
}
