/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oai.h"

/*
 * git's strbuf_slopbuf: every buffer points at this empty string until it
 * owns memory (cap == 0), so b->s is a valid string from birth and no
 * caller guards against NULL.  It is never written to.
 */
char oai_slopbuf[1];

void
buf_grow(struct buf *b, size_t extra)
{
	size_t need;
	int owned = b->cap > 0;

	if (extra > SIZE_MAX - b->len - 1)
		die(OAI_EX_FAILURE, "out of memory");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	/* Double, so that appending n bytes one by one costs O(n). */
	if (b->cap < 64)
		b->cap = 64;
	while (b->cap < need)
		b->cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
	b->s = xrealloc(owned ? b->s : NULL, b->cap);
	/* A fresh buffer is an empty string, not garbage: json_strdup() of
	 * "" and buf_steal() of a grown but empty buffer return it
	 * (found by fuzz/json.c). */
	b->s[b->len] = '\0';
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
buf_addc(struct buf *b, int c)
{
	char ch = (char)c;

	buf_add(b, &ch, 1);
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	buf_grow(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(OAI_EX_FAILURE, "buf_printf: bad format");
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void
buf_addline(struct buf *b, const char *s, size_t n)
{
	size_t i;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	for (i = 0; i < n; i++)
		buf_addc(b, (unsigned char)s[i] < 0x20 || s[i] == 0x7f ?
		    ' ' : s[i]);
}

void
buf_addescline(struct buf *b, const char *s, size_t n)
{
	size_t i;
	char e;

	buf_grow(b, n);
	for (i = 0; i < n; i++) {
		e = s[i] == '\\' ? '\\' : s[i] == '\n' ? 'n' :
		    s[i] == '\r' ? 'r' : s[i] == '\0' ? '0' : 0;
		if (e) {
			buf_addc(b, '\\');
			buf_addc(b, e);
		} else
			buf_addc(b, s[i]);
	}
}

void
buf_addesc(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;
	unsigned char c;

	buf_grow(b, n);
	while (i < n) {
		c = u[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf_addc(b, c);
			i++;
			continue;
		}
		if (c >= 0x80) {
			len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
			/* valid UTF-8 passes, but not the C1 controls
			 * U+0080-U+009F (U+009B is a CSI) */
			if (len > 1 && len <= n - i &&
			    utf8_invalid(s + i, len) == (size_t)-1 &&
			    !(c == 0xc2 && u[i + 1] < 0xa0)) {
				buf_add(b, s + i, len);
				i += len;
				continue;
			}
		}
		buf_addc(b, '\\');
		if (c == '\\' || c == '\n' || c == '\r' || c == '\t')
			buf_addc(b, c == '\\' ? '\\' : c == '\n' ? 'n' :
			    c == '\r' ? 'r' : 't');
		else {
			buf_addc(b, 'x');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
		i++;
	}
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->cap)
		b->s[0] = '\0';
}

void
buf_free(struct buf *b)
{
	if (b->cap)
		free(b->s);
	b->s = oai_slopbuf;
	b->len = b->cap = 0;
}

char *
buf_steal(struct buf *b, size_t *len)
{
	char *s;

	buf_grow(b, 0);
	s = b->s;
	if (len)
		*len = b->len;
	b->s = oai_slopbuf;
	b->len = b->cap = 0;
	return s;
}

int
buf_readfd(struct buf *b, int fd)
{
	return buf_readfd_max(b, fd, SIZE_MAX);
}

int
buf_readfd_max(struct buf *b, int fd, size_t max)
{
	size_t start = b->len, room;
	ssize_t n;

	for (;;) {
		/* A flood on stdin never blocks read(): look at the flag
		 * after every piece, or Ctrl-C would wait for the end. */
		if (oai_interrupted) {
			errno = EINTR;
			return -1;
		}
		buf_grow(b, 65536);
		room = b->cap - b->len - 1;
		/* one byte past max tells "too large" from "exactly max" */
		if (max - (b->len - start) < room - 1)
			room = max - (b->len - start) + 1;
		n = read(fd, b->s + b->len, room);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b->len += (size_t)n;
		b->s[b->len] = '\0';
		if (b->len - start > max) {
			errno = EFBIG;
			return -1;
		}
	}
	return 0;
}

int
buf_readfile(struct buf *b, const char *path)
{
	int fd, r, e;

	if (strcmp(path, "-") == 0)
		return buf_readfd(b, 0);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	r = buf_readfd(b, fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

void
buf_addredacted(struct buf *b, const char *s, size_t n, const char *key)
{
	/* oai_redact() grows a text by at most a quarter. */
	buf_grow(b, n + n / 4 + 16);
	b->len += oai_redact(b->s + b->len, s, n, key);
	b->s[b->len] = '\0';
}
