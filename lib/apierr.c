/* See LICENSE file for copyright and license details. */
/*
 * Failures as one line and an exit status: what the API said in an error
 * body, and what went wrong in the transport.  http.c and multi.c move
 * the bytes; this file only words the outcome.
 */
#include <string.h>

#include <curl/curl.h>

#include "oai.h"
#include "httpint.h"

int
oai_status_exit(long status)
{
	if (status == 401 || status == 403)
		return OAI_EX_AUTH;
	if (status >= 400 && status < 500)
		return OAI_EX_REJECTED;
	return OAI_EX_FAILURE;
}

void
oai_error_line(struct buf *out, long status, const char *body, size_t len)
{
	struct json j = JSON_INIT;
	struct buf msg = BUF_INIT;
	size_t start = out->len;	/* nothing before the message: no ": " */
	int e, m = -1, label = -1;

	if (status > 0)
		buf_printf(out, "%ld", status);
	if (json_parse(&j, body, len) == 0 && json_type(&j, 0) == JSON_OBJECT) {
		e = json_get(&j, 0, "error");
		if (json_type(&j, e) == JSON_OBJECT) {
			m = json_get(&j, e, "message");
			label = json_get(&j, e, "code");
			if (json_type(&j, label) != JSON_STRING)
				label = json_get(&j, e, "type");
		} else if (json_type(&j, e) == JSON_STRING)
			m = e;		/* Ollama: {"error": "..."} */
		else if ((m = json_get(&j, 0, "detail")) < 0)	/* vLLM */
			m = json_get(&j, 0, "message");
		if (json_type(&j, label) == JSON_STRING) {
			if (status > 0)
				buf_addc(out, ' ');
			json_str(&j, label, &msg);
			buf_addline(out, msg.s, msg.len);
			buf_reset(&msg);
		}
		if (json_type(&j, m) == JSON_STRING)
			json_str(&j, m, &msg);
		else if (m >= 0) {
			size_t tl;
			const char *t = json_text(&j, m, &tl);

			buf_add(&msg, t, tl);
		}
	} else if (len > 0 && utf8_invalid(body, len > 200 ? 200 : len) ==
	    (size_t)-1)
		buf_add(&msg, body, len > 200 ? 200 : len);
	if (msg.len) {
		if (out->len > start)
			buf_adds(out, ": ");
		buf_addline(out, msg.s, msg.len);
	}
	buf_free(&msg);
	json_free(&j);
}

int
oai_att_failline(struct oai_att *x, CURLcode rc, struct buf *line, const char *url)
{
	struct oai *o = x->o;
	const char *why = *x->errbuf ? x->errbuf : curl_easy_strerror(rc);
	char size[32];

	if (x->toolarge) {
		buf_printf(line, "the response is larger than %s; giving up",
		    oai_size(size, sizeof size, x->rq->sink ?
		    x->rq->body_max : oai_limit(OAI_BODY_MAX)));
		return OAI_EX_FAILURE;
	}
	/* The overall limit, when it is the one that struck (streams have
	 * no other; connecting has its own, shorter one). */
	if (rc == CURLE_OPERATION_TIMEDOUT &&
	    (x->rq->stream || o->max_time < o->timeout) &&
	    oai_now_ms() - x->start >= o->max_time * 1000 - 100) {
		buf_printf(line, "gave up after --max-time %ld s: %s",
		    o->max_time, url);
		return OAI_EX_FAILURE;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT ||
	    (rc == CURLE_ABORTED_BY_CALLBACK && x->stalled)) {
		if (x->rq->stream && x->delivered)
			buf_printf(line, "no data for %ld s; giving up on the "
			    "stream", o->timeout);
		else
			buf_printf(line, "timed out after %ld s: %s",
			    o->timeout, url);
		return OAI_EX_FAILURE;
	}
	if (x->delivered) {
		buf_printf(line, "connection lost before the response was "
		    "complete (%s)", why);
		return OAI_EX_FAILURE;
	}
	buf_printf(line, "%s: %s", url, why);
	return rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ?
	    OAI_EX_USAGE : OAI_EX_FAILURE;
}
