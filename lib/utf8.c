/* See LICENSE file for copyright and license details. */
#include <string.h>

#include "oai.h"

/*
 * Length of the sequence led by byte c, or 0 if c cannot start one.
 * C0/C1 would only encode overlong forms, F5-FF would exceed U+10FFFF.
 */
static int
seqlen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/*
 * Valid range of the second byte after lead c (RFC 3629 table): the
 * narrowed ranges exclude overlongs (E0, F0), surrogates (ED) and code
 * points above U+10FFFF (F4).
 */
static int
second_ok(unsigned char c, unsigned char d)
{
	switch (c) {
	case 0xe0:
		return d >= 0xa0 && d <= 0xbf;
	case 0xed:
		return d >= 0x80 && d <= 0x9f;
	case 0xf0:
		return d >= 0x90 && d <= 0xbf;
	case 0xf4:
		return d >= 0x80 && d <= 0x8f;
	default:
		return d >= 0x80 && d <= 0xbf;
	}
}

size_t
utf8_invalid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	uint64_t w;
	int len;

	while (i < n) {
		/* ASCII runs are the common case: 8 bytes at a time. */
		if (n - i >= 8) {
			memcpy(&w, u + i, 8);
			if (!(w & UINT64_C(0x8080808080808080))) {
				i += 8;
				continue;
			}
		}
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		len = seqlen(u[i]);
		if (len == 0 || n - i < (size_t)len || !second_ok(u[i], u[i + 1]))
			return i;
		for (k = 2; k < (size_t)len; k++)
			if ((u[i + k] & 0xc0) != 0x80)
				return i;
		i += len;
	}
	return (size_t)-1;
}

size_t
utf8_complete(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, back;
	int len;

	/* Find the last lead byte among the final three; hold it back only
	 * if its sequence is still missing bytes.  Invalid bytes are never
	 * held back: waiting would not make them valid. */
	for (back = 1; back <= 3 && back <= n; back++) {
		i = n - back;
		if ((u[i] & 0xc0) == 0x80)
			continue;
		len = seqlen(u[i]);
		if (len > 1 && (size_t)len > back)
			return i;
		return n;
	}
	return n;
}

size_t
utf8_nchars(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}
