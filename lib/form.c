/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "oai.h"
#include "httpint.h"

/*
 * The multipart/form-data body of an upload.  File parts are read by
 * upload_read() as libcurl sends them, never into memory, and counted
 * on the way: past the part's max, or empty at its end, the transfer
 * stops and oai_att_end() says why.  So a FIFO, /dev/zero or /dev/null
 * meets the same limits as a regular file, whose size is known first.
 */

struct src {
	int fd;
	long long size;		/* a regular file's, or -1 */
	long long sent;		/* this part's bytes read so far */
	const struct oai_part *part;
	struct upload *up;	/* shared by the parts: the one reported on */
};

size_t
upload_read(char *p, size_t size, size_t nitems, void *ctx)
{
	struct src *s = ctx;
	struct upload *up = s->up;
	size_t want = size * nitems;
	ssize_t n;

	/* several file parts (oai-image's image[]): each counts its own
	 * bytes, and the one that stops the transfer is reported */
	up->part = s->part;
	if (s->size >= 0 && (long long)want > s->size - s->sent)
		want = (size_t)(s->size - s->sent);
	for (;;) {
		n = want ? read(s->fd, p, want) : 0;
		if (n >= 0)
			break;
		if (errno != EINTR || oai_interrupted) {
			up->why = UPLOAD_READ;
			up->err = errno;
			return CURL_READFUNC_ABORT;
		}
	}
	if (n == 0 && s->sent == 0) {
		up->sent = 0;
		up->why = UPLOAD_EMPTY;
		return CURL_READFUNC_ABORT;
	}
	up->sent = s->sent += n;
	if (s->part->max > 0 && s->sent > s->part->max) {
		up->why = UPLOAD_TOOBIG;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

int
upload_seek(void *ctx, curl_off_t off, int origin)
{
	struct src *s = ctx;

	/* libcurl rewinds to resend on a new connection: files only */
	if (off != 0 || origin != SEEK_SET || s->size < 0 ||
	    lseek(s->fd, 0, SEEK_SET) < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	s->sent = s->up->sent = 0;
	return CURL_SEEKFUNC_OK;
}

void
upload_free(void *ctx)
{
	struct src *s = ctx;

	if (s->fd > 0)
		close(s->fd);
	free(s);
}

void *
upload_open(const struct oai_part *f, struct upload *up, curl_off_t *size)
{
	struct src *s = xcalloc(1, sizeof *s);
	struct stat st;

	up->part = f;
	up->sent = 0;
	s->part = f;
	s->up = up;
	s->size = -1;
	if (strcmp(f->path, "-") == 0)
		s->fd = 0;
	else if ((s->fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0) {
		free(s);
		edie(OAI_EX_USAGE, "%s", f->path);
	}
	if (s->fd != 0 && fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode))
		s->size = (long long)st.st_size;
	*size = s->size;
	return s;
}

curl_mime *
oai_form(CURL *c, const struct oai_req *rq, struct upload *up)
{
	curl_mime *m = curl_mime_init(c);
	curl_mimepart *p;
	curl_off_t size;
	const char *base;
	void *s;
	int i;

	memset(up, 0, sizeof *up);
	for (i = 0; i < rq->nparts; i++) {
		const struct oai_part *f = &rq->parts[i];

		p = curl_mime_addpart(m);
		curl_mime_name(p, f->name);
		if (f->value) {
			curl_mime_data(p, f->value, CURL_ZERO_TERMINATED);
			continue;
		}
		s = upload_open(f, up, &size);
		curl_mime_data_cb(p, size, upload_read, upload_seek,
		    upload_free, s);
		if (f->filename)
			curl_mime_filename(p, f->filename);
		else if (strcmp(f->path, "-") != 0) {
			base = strrchr(f->path, '/');
			curl_mime_filename(p, base ? base + 1 : f->path);
		}
		/* as curl does for a file: some servers (Prism) refuse a
		 * file part without a type */
		curl_mime_type(p, f->type ? f->type : "application/octet-stream");
	}
	return m;
}

void
upload_error(const struct upload *up, struct buf *line)
{
	const char *name = strcmp(up->part->path, "-") == 0 ?
	    "standard input" : up->part->path;

	switch (up->why) {
	case UPLOAD_TOOBIG:
		if (up->part->toobig)
			buf_adds(line, up->part->toobig);
		else
			buf_printf(line, "%s: over the limit of %lld bytes",
			    name, up->part->max);
		break;
	case UPLOAD_EMPTY:
		buf_printf(line, "%s: empty file", name);
		break;
	default:
		buf_printf(line, "%s: %s", name, strerror(up->err));
	}
}

/* --dry-run of a form: what oai_form() would send, a part a line. */
void
oai_form_print(const struct oai_part *parts, int n)
{
	struct buf line = BUF_INIT;
	struct stat st;
	int i;

	for (i = 0; i < n; i++) {
		const struct oai_part *f = &parts[i];

		buf_reset(&line);
		buf_adds(&line, f->name);
		if (f->value) {
			buf_addc(&line, '=');
			buf_addescline(&line, f->value, strlen(f->value));
		} else {
			buf_adds(&line, "=@");
			buf_addescline(&line, f->path, strlen(f->path));
			if (strcmp(f->path, "-") == 0)
				buf_adds(&line, " (standard input");
			else if (stat(f->path, &st) == 0 && S_ISREG(st.st_mode))
				buf_printf(&line, " (%lld bytes",
				    (long long)st.st_size);
			else
				buf_adds(&line, " (not a regular file");
			buf_printf(&line, ", %s)", f->type ? f->type :
			    "application/octet-stream");
		}
		buf_addc(&line, '\n');
		out_add(line.s, line.len);
	}
	buf_free(&line);
}
