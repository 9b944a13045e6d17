/* See LICENSE file for copyright and license details. */
#include <string.h>

#include "oai.h"

/*
 * What the tools do with a 2xx answer: check its shape with one line
 * when it is not what was asked for, read event streams of JSON, pass
 * JSON through for --json.
 */

int
oai_unexpected(const struct oai *o, const struct oai_req *rq,
    const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	warnx("unexpected response from %s%s: %s", o->base_url, rq->path, why);
	return OAI_EX_FAILURE;
}

int
oai_resp_json(const struct oai *o, const struct oai_req *rq,
    const struct buf *body, struct json *j, const char *path,
    enum json_type type, const char *what)
{
	int t;

	if (json_parse(j, body->s, body->len) < 0)
		t = -1;
	else
		t = *path ? json_path(j, 0, path) : 0;
	if (t < 0 || json_type(j, t) != type) {
		oai_unexpected(o, rq, "%s", what);
		return -1;
	}
	return t;
}

void
out_json(const char *s, size_t n)
{
	out_add(s, n);
	if (n == 0 || s[n - 1] != '\n')
		out_add("\n", 1);
}

void
out_json_line(const char *s, size_t n)
{
	struct buf c = BUF_INIT;

	json_compact(&c, s, n);
	buf_addc(&c, '\n');
	out_add(c.s, c.len);
	buf_free(&c);
}

/* ---- event streams of JSON ------------------------------------------- */

int
oai_error_status(const struct json *j, int e)
{
	static const struct {
		const char *type;
		int status;
	} map[] = {
		{ "invalid_request_error", OAI_EX_REJECTED },
		{ "not_found_error", OAI_EX_REJECTED },
		{ "rate_limit_exceeded", OAI_EX_REJECTED },
		{ "rate_limit_error", OAI_EX_REJECTED },
		{ "insufficient_quota", OAI_EX_REJECTED },
		{ "authentication_error", OAI_EX_AUTH },
		{ "invalid_api_key", OAI_EX_AUTH },
		{ "permission_error", OAI_EX_AUTH },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof *map; i++)
		if (json_streq(j, json_get(j, e, "type"), map[i].type) ||
		    json_streq(j, json_get(j, e, "code"), map[i].type))
			return map[i].status;
	return OAI_EX_FAILURE;
}

/* The model and usage an event names (chat chunks, the last event of
 * a transcription or a speech stream), for rs->usage. */
static void
usage(struct oai_events *s, const struct json *j)
{
	int t = json_get(j, 0, "usage");
	struct buf m = BUF_INIT;

	if (json_type(j, t) != JSON_OBJECT)
		t = json_path(j, 0, "response.usage");
	oai_usage_json(&s->usage, j, t);
	if (!*s->usage.model && json_str(j, json_get(j, 0, "model"), &m) == 0)
		snprintf(s->usage.model, sizeof s->usage.model, "%s", m.s);
	buf_free(&m);
}

/* The text out so far ends (cut: no newline in a pipe) before an
 * error is reported on stderr. */
static void
errout(struct oai_events *s)
{
	if (s->errout) {
		textout_end(s->errout, 0);
		out_flush();
	}
}

static int
onevent(void *ctx, const struct sse_event *ev)
{
	struct oai_events *s = ctx;
	struct json *j = &s->j;
	struct buf line = BUF_INIT;
	int e;

	if (oai_interrupted)
		return oai_intr_status();
	if (s->done)
		return 0;
	if (strcmp(ev->data, "[DONE]") == 0) {
		s->done = 1;
		return 0;
	}
	if (json_parse(j, ev->data, ev->datalen) < 0 ||
	    json_type(j, 0) != JSON_OBJECT) {
		if (ev->datalen == 0)
			return 0;
		errout(s);
		warnx("unexpected data in the stream: not a JSON object");
		return OAI_EX_FAILURE;
	}
	if ((e = json_get(j, 0, "error")) >= 0 ||
	    strcmp(ev->event, "error") == 0 ||
	    json_streq(j, json_get(j, 0, "type"), "error")) {
		errout(s);
		oai_error_line(&line, 0, ev->data, ev->datalen);
		warnx("error in the stream: %s", line.len ? line.s :
		    "no message");
		buf_free(&line);
		return oai_error_status(j, e >= 0 ? e : 0);
	}
	usage(s, j);
	if (s->json)	/* one chunk a line, even if data: spans several */
		out_json_line(ev->data, ev->datalen);
	e = s->cb(s->ctx, j, ev);
	out_flush();
	return e;
}

void
oai_events_init(struct oai_events *s, oai_event_cb cb, void *ctx)
{
	memset(s, 0, sizeof *s);
	s->cb = cb;
	s->ctx = ctx;
	s->j = (struct json)JSON_INIT;
	oai_usage_init(&s->usage, NULL);
	sse_init(&s->sse, onevent, s);
}

int
oai_events_sink(void *ctx, const char *p, size_t n)
{
	struct oai_events *s = ctx;

	if (oai_interrupted)
		return oai_intr_status();
	return sse_feed(&s->sse, p, n);
}

void
oai_events_free(struct oai_events *s)
{
	sse_free(&s->sse);
	json_free(&s->j);
}

void
oai_events_request(struct oai_req *rq, struct oai_events *s)
{
	rq->stream = 1;
	rq->accept = "text/event-stream";
	rq->sink = oai_events_sink;
	rq->sink_ctx = s;
	rq->complete = &s->done;
}
