/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oai.h"

/*
 * The Files API as oai-files and oai-batch use it: uploads streamed
 * from the file (never held in memory), downloads through a sink, ids
 * checked before they become part of a path.
 */

#define FILEMAX ((long long)512 << 20)	/* the API's largest file */

int
oai_idpath(struct buf *path, const char *prefix, const char *id,
    const char *suffix)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)id;
	size_t i, n = strlen(id);

	if (n == 0 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    strchr(id, '/') || utf8_invalid(id, n) != (size_t)-1)
		return -1;
	for (i = 0; i < n; i++)
		if (u[i] < 0x20 || u[i] == 0x7f ||
		    (u[i] == 0xc2 && u[i + 1] < 0xa0))
			return -1;
	buf_reset(path);
	buf_adds(path, prefix);
	for (i = 0; i < n; i++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-._~:@", u[i]) && u[i])
			buf_addc(path, u[i]);
		else {
			buf_addc(path, '%');
			buf_addc(path, hex[u[i] >> 4]);
			buf_addc(path, hex[u[i] & 15]);
		}
	}
	buf_adds(path, suffix);
	return 0;
}

int
oai_badid(const char *what, const char *id)
{
	struct buf b = BUF_INIT;

	buf_addesc(&b, id, strlen(id));
	warnx("invalid %s id: '%s'", what, b.s);
	buf_free(&b);
	return OAI_EX_USAGE;
}

int
oai_file_upload(struct oai *o, const char *path, const char *filename,
    const char *purpose, struct oai_resp *rs, struct buf *id)
{
	struct oai_part parts[2] = {
		{ .name = "purpose", .value = purpose },
		{ .name = "file", .path = path, .filename = filename,
		  .max = FILEMAX },
	};
	struct oai_req rq = { .method = "POST", .path = "/files",
	    .parts = parts, .nparts = 2 };
	struct json j = JSON_INIT;
	struct stat st;
	int retries = o->retries, rc, t;

	/* a pipe cannot be read twice */
	if (strcmp(path, "-") == 0 ? fstat(0, &st) < 0 || !S_ISREG(st.st_mode) :
	    stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		o->retries = 0;
	rc = oai_request(o, &rq, rs);
	o->retries = retries;
	if (rc || !id)
		return rc;
	if ((t = oai_resp_json(o, &rq, &rs->body, &j, "id", JSON_STRING,
	    "not a file object")) < 0)
		rc = OAI_EX_FAILURE;
	else
		json_str(&j, t, id);
	json_free(&j);
	return rc;
}

/* rq on /files/ID SUFFIX; an id that cannot be a path segment is
 * refused before any request. */
static int
fileop(struct oai *o, struct oai_req *rq, const char *id, const char *suffix,
    struct oai_resp *rs)
{
	struct buf path = BUF_INIT;
	int rc;

	if (oai_idpath(&path, "/files/", id, suffix) < 0)
		return oai_badid("file", id);
	rq->path = path.s;
	rc = oai_request(o, rq, rs);
	buf_free(&path);
	return rc;
}

int
oai_file_content(struct oai *o, const char *id, oai_sink sink, void *ctx,
    struct oai_resp *rs)
{
	struct oai_req rq = { .method = "GET", .sink = sink, .sink_ctx = ctx,
	    .stream = 1, .accept = "*/*" };

	return fileop(o, &rq, id, "/content", rs);
}

int
oai_file_delete(struct oai *o, const char *id, struct oai_resp *rs)
{
	struct oai_req rq = { .method = "DELETE" };

	return fileop(o, &rq, id, "", rs);
}

int
oai_fd_sink(void *ctx, const char *p, size_t n)
{
	int fd = *(int *)ctx;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR && !oai_interrupted)
				continue;
			warnx("writing a temporary file: %s", strerror(errno));
			return OAI_EX_FAILURE;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
