/* See LICENSE file for copyright and license details. */
#include <limits.h>
#include <string.h>

#include "oai.h"

/*
 * WHATWG HTML "Interpreting an event stream", fed arbitrary chunks.
 * Whole lines inside a chunk are handled in place; only a line split
 * across chunks is copied into p->line, and a data line only until its
 * value starts: the rest goes straight into p->data, so an event of
 * many megabytes (an image's base64) is held once, not twice.  p->id is the last event ID
 * buffer: the spec copies it to the event source at every dispatch
 * attempt, so the two never differ when an event is seen.
 */

static const char bom[] = "\xef\xbb\xbf";

void
sse_init(struct sse *p, sse_cb cb, void *ctx)
{
	memset(p, 0, sizeof *p);
	buf_init(&p->line);
	buf_init(&p->data);
	buf_init(&p->event);
	buf_init(&p->id);
	buf_init(&p->pendid);
	p->cb = cb;
	p->ctx = ctx;
	p->retry_ms = -1;
	p->max = oai_limit(OAI_SSE_MAX);
}

void
sse_free(struct sse *p)
{
	buf_free(&p->line);
	buf_free(&p->data);
	buf_free(&p->event);
	buf_free(&p->id);
	buf_free(&p->pendid);
}

static int
dispatch(struct sse *p)
{
	struct sse_event ev;
	int r;

	if (p->data.len == 0) {
		buf_reset(&p->event);
		return 0;
	}
	/* Drop the LF the last data line added. */
	p->data.s[--p->data.len] = '\0';
	ev.event = p->event.len ? p->event.s : "message";
	ev.data = p->data.s;
	ev.datalen = p->data.len;
	ev.id = p->id.len ? p->id.s : "";
	r = p->cb(p->ctx, &ev);
	buf_reset(&p->data);
	buf_reset(&p->event);
	return r;
}

static int
isfield(const char *name, size_t n, const char *f)
{
	return strlen(f) == n && memcmp(name, f, n) == 0;
}

static int
toolong(struct sse *p, const char *what)
{
	char size[32];

	warnx("the event stream sent %s larger than %s; giving up", what,
	    oai_size(size, sizeof size, p->max));
	return OAI_EX_FAILURE;
}

static int
line(struct sse *p, const char *s, size_t n)
{
	const char *colon, *v;
	size_t vn, i;
	long ms;

	if (n == 0)
		return dispatch(p);
	if (s[0] == ':')
		return 0;
	if ((colon = memchr(s, ':', n))) {
		v = colon + 1;
		vn = n - (v - s);
		if (vn && *v == ' ') {
			v++;
			vn--;
		}
		n = colon - s;
	} else {
		v = "";
		vn = 0;
	}
	if (isfield(s, n, "data")) {
		if (p->data.len + vn + 1 > p->max)
			return toolong(p, "the data of one event");
		buf_add(&p->data, v, vn);
		buf_addc(&p->data, '\n');
	} else if (isfield(s, n, "event")) {
		buf_reset(&p->event);
		buf_add(&p->event, v, vn);
	} else if (isfield(s, n, "id")) {
		if (!memchr(v, '\0', vn)) {
			buf_reset(&p->id);
			buf_add(&p->id, v, vn);
		}
	} else if (isfield(s, n, "retry")) {
		for (i = 0, ms = 0; i < vn; i++) {
			if (v[i] < '0' || v[i] > '9')
				return 0;
			/* Absurd values saturate rather than overflow. */
			ms = ms > (LONG_MAX - 9) / 10 ? LONG_MAX :
			    ms * 10 + (v[i] - '0');
		}
		if (vn)
			p->retry_ms = ms;
	}
	return 0;
}

/* The start of a data line ends a chunk: once its value has begun (the
 * optional space is known), the value moves to the event's data and
 * the rest of the line follows it there. */
static void
startdata(struct sse *p)
{
	const char *v;
	size_t vn;

	if (p->line.len < 6 || memcmp(p->line.s, "data:", 5) != 0)
		return;
	v = p->line.s + 5;
	vn = p->line.len - 5;
	if (*v == ' ') {
		v++;
		vn--;
	}
	if (p->data.len + vn + 1 > p->max)
		return;		/* said when the line ends */
	buf_add(&p->data, v, vn);
	p->indata = p->line.len;
	buf_reset(&p->line);
}

int
sse_feed(struct sse *p, const char *s, size_t n)
{
	const char *end = s + n, *e;
	int r;

	if (p->stopped)
		return p->stopped;
	/* Strip one BOM, which may arrive a byte at a time. */
	while (!p->started && s < end) {
		if (*s == bom[p->bompos]) {
			s++;
			if (++p->bompos == 3)
				p->started = 1;
		} else {
			/* Not a BOM after all: its start was text. */
			buf_add(&p->line, bom, p->bompos);
			p->started = 1;
		}
	}
	/* The LF of a CRLF split across chunks. */
	if (p->lastcr && s < end) {
		p->lastcr = 0;
		if (*s == '\n')
			s++;
	}
	while (s < end) {
		for (e = s; e < end && *e != '\n' && *e != '\r'; e++)
			;
		if (p->indata) {
			if (p->indata + (size_t)(e - s) > p->max)
				return p->stopped = toolong(p, "a line");
			if (p->data.len + (size_t)(e - s) + 1 > p->max)
				return p->stopped = toolong(p,
				    "the data of one event");
			p->indata += (size_t)(e - s);
			buf_add(&p->data, s, e - s);
			if (e == end)
				break;
			buf_addc(&p->data, '\n');
			p->indata = 0;
			r = 0;
		} else if (p->line.len + (size_t)(e - s) > p->max)
			return p->stopped = toolong(p, "a line");
		else if (e == end) {
			buf_add(&p->line, s, e - s);
			startdata(p);
			break;
		} else if (p->line.len) {
			buf_add(&p->line, s, e - s);
			r = line(p, p->line.s, p->line.len);
			buf_reset(&p->line);
		} else
			r = line(p, s, e - s);
		s = e + 1;
		if (*e == '\r') {
			if (s == end)
				p->lastcr = 1;
			else if (*s == '\n')
				s++;
		}
		if (r)
			return p->stopped = r;
	}
	return 0;
}
