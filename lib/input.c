/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oai.h"

/*
 * What the user gives the tools: whole files (a prompt, a text to check)
 * and lines over FILE operands (sbase's getlines), named the same way in
 * every message ("standard input" for -), bounded, and ended promptly by
 * Ctrl-C or SIGTERM even while a pipe floods in.
 */

const char *
input_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "standard input" : path;
}

/* Interrupted: the user knows why; exit quietly with 130 or 143. */
static void
quietexit(void)
{
	exit(oai_intr_status());
}

int
input_try(struct buf *b, const char *path)
{
	int fd, r, e;

	if (strcmp(path, "-") == 0)
		fd = 0;
	else if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	r = buf_readfd_max(b, fd, OAI_INPUT_MAX);
	e = errno;
	if (fd)
		close(fd);
	if (r < 0 && oai_interrupted)
		quietexit();
	errno = e;
	return r;
}

static void
readerror(struct buf *why, const char *name, int e)
{
	if (e == EFBIG)
		buf_printf(why, "%s: over the %d MiB input limit", name,
		    OAI_INPUT_MAX >> 20);
	else
		buf_printf(why, "%s: %s", name, strerror(e));
}

void
input_read(struct buf *b, const char *path)
{
	struct buf why = BUF_INIT;

	if (input_try(b, path) == 0)
		return;
	readerror(&why, input_name(path), errno);
	die(OAI_EX_USAGE, "%s", why.s);
}

int
input_checkmsg(struct buf *why, const char *where, const char *s, size_t n,
    int nulok)
{
	const char *z;
	size_t off;

	if ((off = utf8_invalid(s, n)) != (size_t)-1) {
		buf_printf(why, "%s: not valid UTF-8 at byte offset %zu", where,
		    off);
		return -1;
	}
	if (!nulok && (z = memchr(s, '\0', n))) {
		buf_printf(why, "%s: a NUL byte at byte offset %zu", where,
		    (size_t)(z - s));
		return -1;
	}
	return 0;
}

void
input_check(const char *where, const char *s, size_t n, int nulok)
{
	struct buf why = BUF_INIT;

	if (input_checkmsg(&why, where, s, n, nulok) < 0)
		die(OAI_EX_USAGE, "%s", why.s);
}

/* ---- lines ------------------------------------------------------------ */

void
lines_init(struct lines *r, char **files, int nfiles, int flags)
{
	static char *stdinonly[] = { "-", NULL };

	memset(r, 0, sizeof *r);
	r->files = nfiles ? files : stdinonly;
	r->nfiles = nfiles ? nfiles : 1;
	r->flags = flags;
	r->fd = -1;
	buf_init(&r->in);
	buf_init(&r->err);
}

void
lines_free(struct lines *r)
{
	if (r->fd > 0)
		close(r->fd);
	r->fd = -1;
	buf_free(&r->in);
	buf_free(&r->err);
}

static int
fail(struct lines *r, int status)
{
	r->status = status;
	if (r->fd > 0)
		close(r->fd);
	r->fd = -1;
	r->cur = r->nfiles;	/* nothing more */
	return -1;
}

static int
openfile(struct lines *r)
{
	const char *p = r->files[r->cur];

	r->name = input_name(p);
	r->line = 0;
	r->off = 0;
	r->eof = 0;
	buf_reset(&r->in);
	if (strcmp(p, "-") == 0)
		r->fd = 0;
	else if ((r->fd = open(p, O_RDONLY)) < 0) {
		readerror(&r->err, p, errno);
		return fail(r, OAI_EX_USAGE);
	}
	return 0;
}

/* The line at in[off..off+len), its end at end: make it current. */
static int
take(struct lines *r, size_t len, size_t end)
{
	r->s = r->in.s + r->off;
	r->len = len;
	r->off = end;
	r->line++;
	if ((r->flags & LINES_CRLF) && r->len && r->s[r->len - 1] == '\r')
		r->len--;
	r->s[r->len] = '\0';
	return 1;
}

/* Read more of the current file into in; -1 on error. */
static int
fill(struct lines *r)
{
	ssize_t n;

	if (r->off) {	/* what is left of the last line moves to the start */
		memmove(r->in.s, r->in.s + r->off, r->in.len - r->off);
		r->in.len -= r->off;
		r->off = 0;
	}
	if (r->in.len > OAI_INPUT_MAX) {
		if (r->flags & LINES_WHOLE)
			readerror(&r->err, r->name, EFBIG);
		else
			buf_printf(&r->err, "%s:%lld: a line over the %d MiB "
			    "input limit", r->name, r->line + 1,
			    OAI_INPUT_MAX >> 20);
		return fail(r, OAI_EX_USAGE);
	}
	buf_grow(&r->in, 65536);
	n = read(r->fd, r->in.s + r->in.len, r->in.cap - r->in.len - 1);
	if (n < 0 && errno != EINTR) {
		readerror(&r->err, r->name, errno);
		return fail(r, OAI_EX_USAGE);
	}
	if (n == 0)
		r->eof = 1;
	if (n > 0)
		r->in.len += (size_t)n;
	r->in.s[r->in.len] = '\0';
	return 0;
}

int
lines_ready(const struct lines *r)
{
	struct pollfd p;

	if (r->fd < 0 || r->eof)
		return 1;
	if (!(r->flags & LINES_WHOLE) &&
	    memchr(r->in.s + r->off, '\n', r->in.len - r->off))
		return 1;
	p.fd = r->fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) != 0;
}

int
lines_next(struct lines *r)
{
	const char *nl;
	size_t left;

	for (;;) {
		/* A flood never blocks read(): look at the flag each time. */
		if (oai_interrupted)
			return fail(r, oai_intr_status());
		if (r->fd < 0) {
			if (r->cur >= r->nfiles)
				return 0;
			if (openfile(r) < 0)
				return -1;
		}
		left = r->in.len - r->off;
		if (!(r->flags & LINES_WHOLE) &&
		    (nl = memchr(r->in.s + r->off, '\n', left)))
			return take(r, (size_t)(nl - (r->in.s + r->off)),
			    (size_t)(nl - r->in.s) + 1);
		if (r->eof) {
			if (r->fd > 0)
				close(r->fd);
			r->fd = -1;
			r->cur++;
			/* the last line without its newline; a whole file
			 * ("echo text |" means the text, not its newline) */
			if (r->flags & LINES_WHOLE) {
				if (left && r->in.s[r->in.len - 1] == '\n')
					left--;
				return take(r, left, r->in.len);
			}
			if (left)
				return take(r, left, r->in.len);
			continue;
		}
		if (fill(r) < 0)
			return -1;
	}
}
