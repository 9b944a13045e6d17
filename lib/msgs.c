/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * Chat messages as JSON texts: what oai-chat reads from a conversation
 * file (-c) or from --messages.  Parsing never dies, so that it can be
 * fuzzed (fuzz/conv.c): the caller decides what an error costs.
 */

void
msgs_add(struct msgs *m, const char *json, size_t n)
{
	struct buf b = BUF_INIT;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->v = xreallocarray(m->v, m->cap, sizeof *m->v);
	}
	json_compact(&b, json, n);
	m->v[m->n++] = buf_steal(&b, NULL);
}

void
msgs_clear(struct msgs *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i]);
	m->n = 0;
}

void
msgs_free(struct msgs *m)
{
	msgs_clear(m);
	free(m->v);
	m->v = NULL;
	m->cap = 0;
	free(m->model);
	m->model = NULL;
}

/* Is t one JSON object with a string "role"? */
static int
ismessage(const struct json *j, int t)
{
	return json_type(j, t) == JSON_OBJECT &&
	    json_type(j, json_get(j, t, "role")) == JSON_STRING;
}

/* Add message t of j; an assistant's "model" goes to m->model, and
 * out of the message. */
static void
addmsg(struct msgs *m, const struct json *j, int t)
{
	struct buf b = BUF_INIT;
	const char *s;
	size_t n;
	int i, k, mt = json_get(j, t, "model");

	if (json_type(j, mt) != JSON_STRING ||
	    !json_streq(j, json_get(j, t, "role"), "assistant")) {
		s = json_text(j, t, &n);
		msgs_add(m, s, n);
		return;
	}
	free(m->model);
	m->model = json_strdup(j, mt);
	buf_addc(&b, '{');
	for (i = t + 1, k = 0; k < json_size(j, t);
	    k++, i = json_skip(j, i + 1)) {
		if (json_streq(j, i, "model"))	/* every one: a fixed point */
			continue;
		if (b.len > 1)
			buf_addc(&b, ',');
		s = json_text(j, i, &n);
		buf_add(&b, s, n);
		buf_addc(&b, ':');
		s = json_text(j, i + 1, &n);
		buf_add(&b, s, n);
	}
	buf_addc(&b, '}');
	msgs_add(m, b.s, b.len);
	buf_free(&b);
}

int
msgs_parse(struct msgs *m, const char *s, size_t n, const char *what,
    int arrayok, struct buf *err)
{
	struct json j = JSON_INIT;
	const char *p, *e, *end = s + n;
	size_t line = 0, tl, b;
	int i, k, tok, rc = 0;

	if (arrayok && json_parse(&j, s, n) == 0 &&
	    json_type(&j, 0) == JSON_ARRAY) {
		k = json_size(&j, 0);
		for (i = 0, tok = 1; i < k; i++, tok = json_skip(&j, tok)) {
			if (!ismessage(&j, tok)) {
				buf_printf(err, "%s: element %d is not a "
				    "message object with a role", what, i + 1);
				rc = -1;
				break;
			}
			addmsg(m, &j, tok);
		}
		json_free(&j);
		return rc;
	}
	for (p = s; p < end; p = e + 1) {
		line++;
		if (!(e = memchr(p, '\n', (size_t)(end - p))))
			e = end;
		tl = (size_t)(e - p);
		/* bounded: s need not be a string (found by fuzz/conv.c) */
		for (b = 0; b < tl && (p[b] == ' ' || p[b] == '\t' ||
		    p[b] == '\r'); b++)
			;
		if (b == tl)
			continue;
		if (json_parse(&j, p, tl) < 0 || !ismessage(&j, 0)) {
			buf_printf(err, "%s:%zu: not a JSON message object "
			    "with a role", what, line);
			rc = -1;
			break;
		}
		addmsg(m, &j, 0);
	}
	json_free(&j);
	return rc;
}

/* {"role":ROLE,"content":TEXT} */
void
msg_text(struct buf *b, const char *role, const char *text, size_t n)
{
	struct jw w;

	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "role");
	jw_str(&w, role);
	jw_key(&w, "content");
	jw_strn(&w, text, n);
	jw_obj_end(&w);
}

