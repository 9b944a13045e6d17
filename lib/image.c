/* See LICENSE file for copyright and license details. */
#include <string.h>

#include "oai.h"

/* Images the tools send: what a file's first bytes say it is. */

const char *
image_type(const void *head, size_t n)
{
	const unsigned char *p = head;

	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 ||
	    memcmp(p, "GIF89a", 6) == 0))
		return "image/gif";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0)
		return "image/webp";
	return NULL;
}

int
png_size(const void *head, size_t n, unsigned long *w, unsigned long *h)
{
	const unsigned char *p = head;

	/* the signature, then the IHDR chunk: length 13, width, height */
	if (n < 24 || memcmp(p, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16) != 0)
		return -1;
	*w = (unsigned long)p[16] << 24 | (unsigned long)p[17] << 16 |
	    (unsigned long)p[18] << 8 | p[19];
	*h = (unsigned long)p[20] << 24 | (unsigned long)p[21] << 16 |
	    (unsigned long)p[22] << 8 | p[23];
	return *w && *h ? 0 : -1;
}
