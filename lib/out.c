/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "oai.h"

/*
 * Standard output without stdio: we need to know exactly when bytes
 * left (no retry after that), flush per streamed event, and tell EPIPE
 * (reader went away: quiet exit) from real errors (/dev/full: loud).
 */
#define OUTMAX 65536	/* bytes buffered before they are written */

static struct buf ob = BUF_INIT;
static int started;
static int closed;

void
out_closed_at_start(void)
{
	closed = 1;
}

static void
writeall(const char *p, size_t n)
{
	ssize_t w;

	if (closed && n > 0) {
		errno = EBADF;
		edie(OAI_EX_FAILURE, "write error on standard output");
	}
	while (n > 0) {
		w = write(1, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE)
				_exit(0);	/* nothing more to say to anyone */
			edie(OAI_EX_FAILURE, "write error on standard output");
		}
		started = 1;
		p += w;
		n -= (size_t)w;
	}
}

void
out_flush(void)
{
	if (ob.len) {
		size_t n = ob.len;

		ob.len = 0;	/* a dying write must not be retried by atexit */
		writeall(ob.s, n);
	}
}

void
out_add(const void *p, size_t n)
{
	if (ob.len + n > OUTMAX) {
		out_flush();
		if (n > OUTMAX) {
			writeall(p, n);
			return;
		}
	}
	buf_add(&ob, p, n);
}

/* (out_add() without the copy: what is formatted in place may take
 * the buffer past OUTMAX once) */
char *
out_reserve(size_t n)
{
	buf_grow(&ob, n);
	return ob.s + ob.len;
}

void
out_commit(size_t n)
{
	ob.len += n;
	ob.s[ob.len] = '\0';
	if (ob.len >= OUTMAX)
		out_flush();
}

void
out_adds(const char *s)
{
	out_add(s, strlen(s));
}

void
out_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	buf_grow(&ob, 256);
	va_start(ap, fmt);
	n = vsnprintf(ob.s + ob.len, ob.cap - ob.len, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(OAI_EX_FAILURE, "out_printf: bad format");
	if ((size_t)n >= ob.cap - ob.len) {
		buf_grow(&ob, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(ob.s + ob.len, ob.cap - ob.len, fmt, ap);
		va_end(ap);
	}
	ob.len += (size_t)n;
	if (ob.len > 65536)
		out_flush();
}

void
out_close(void)
{
	out_flush();
	buf_free(&ob);
	/* close() reports deferred errors (NFS, some devices). */
	if (close(1) < 0 && errno != EBADF && errno != EINTR)
		edie(OAI_EX_FAILURE, "error closing standard output");
}

void
out_escline(const char *s, size_t n)
{
	struct buf b = BUF_INIT;

	buf_addescline(&b, s, n);
	buf_addc(&b, '\n');
	out_add(b.s, b.len);
	buf_free(&b);
}

int
oai_output_started(void)
{
	return started || ob.len > 0;
}

void
out_refuse_tty(const char *what, const char *alt)
{
	if (isatty(1))
		die(OAI_EX_USAGE, "refusing to write %s to a terminal; "
		    "redirect standard output%s%s", what, alt ? " or " : "",
		    alt ? alt : "");
}
