/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "oai.h"
#include "httpint.h"

/*
 * The end of every request, single or one of many: what it used and
 * cost (rs->usage), and for --meta-fd one JSON line about it, so that
 * stdout stays data while a script learns what a call cost and why it
 * was slow (oai(7), METADATA).
 */

long long
oai_rl_num(const char *s)
{
	char *end;
	long long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end || errno || v < 0 ? -1 : v;
}

long long
oai_duration_ms(const char *s)
{
	double total = 0, v;
	char *end;

	if (!*s)
		return -1;
	while (*s) {
		errno = 0;
		v = strtod(s, &end);
		if (end == s || errno || !(v >= 0 && v < 1e9))
			return -1;
		s = end;
		if (strncmp(s, "ms", 2) == 0)
			v /= 1000, s += 2;
		else if (*s == 'h')
			v *= 3600, s++;
		else if (*s == 'm')
			v *= 60, s++;
		else if (*s == 's' || !*s)
			s += *s == 's';
		else
			return -1;
		total += v;
	}
	return total < 1e9 ? (long long)(total * 1000 + 0.5) : -1;
}

/* The usage of a 2xx answer: from its event stream, or its body. */
static void
getusage(struct oai_att *x)
{
	struct oai_resp *rs = x->rs;
	struct oai_usage *u = &rs->usage;
	struct json j = JSON_INIT;
	int t;

	if (x->rq->events) {
		const struct oai_events *ev = x->rq->events;

		if (ev->usage.requests || *ev->usage.model)
			*u = ev->usage;
		if (!*u->model && x->rq->model)
			snprintf(u->model, sizeof u->model, "%s", x->rq->model);
	} else if (!x->rq->sink && (x->o->want_usage || x->o->meta_fd >= 0) &&
	    strstr(rs->content_type, "json") &&
	    json_parse(&j, rs->body.s, rs->body.len) == 0) {
		oai_usage_json(u, &j, json_get(&j, 0, "usage"));
		if (json_type(&j, t = json_get(&j, 0, "model")) == JSON_STRING) {
			struct buf m = BUF_INIT;

			json_str(&j, t, &m);
			snprintf(u->model, sizeof u->model, "%s", m.s);
			buf_free(&m);
		}
	}
	json_free(&j);
	if (x->rq->chars > 0) {
		u->chars = x->rq->chars;
		u->requests = 1;
	}
	oai_cost(u);
}

static void
usagejson(struct jw *w, const struct oai_usage *u)
{
	static const char *const keys[] = { "input_tokens", "output_tokens",
		"cached_tokens", "reasoning_tokens", "audio_input_tokens",
		"audio_output_tokens", "characters", "images" };
	const long long v[] = { u->input, u->output, u->cached, u->reasoning,
		u->audio_in, u->audio_out, u->chars, u->images };
	size_t i;

	jw_key(w, "usage");
	jw_obj(w);
	for (i = 0; i < sizeof v / sizeof *v; i++)
		if (v[i] >= 0) {
			jw_key(w, keys[i]);
			jw_int(w, v[i]);
		}
	if (u->seconds >= 0) {
		jw_key(w, "seconds");
		jw_num(w, u->seconds);
	}
	jw_obj_end(w);
}

static void
ratelimits(struct jw *w, const struct oai_att *x)
{
	long long v;
	int k, any = 0;

	for (k = 0; k < OAI_RL_N; k++) {
		if (!*x->rl[k])
			continue;
		if (!any++) {
			jw_key(w, "ratelimit");
			jw_obj(w);
		}
		jw_key(w, oai_rl_names[k]);
		if (k < RL_RESET_REQ && (v = oai_rl_num(x->rl[k])) >= 0)
			jw_int(w, v);
		else
			jw_str(w, x->rl[k]);
	}
	if (any)
		jw_obj_end(w);
}

/* A server's name (request id, model) into the line, if it is text. */
static void
text(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (*s && utf8_invalid(s, strlen(s)) == (size_t)-1)
		jw_str(w, s);
	else
		jw_null(w);
}

static void
metaline(struct oai_att *x, CURL *c, int status, struct buf *b)
{
	const struct oai_resp *rs = x->rs;
	curl_off_t ttfb = -1;
	struct jw w;

	curl_easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
	jw_init(&w, b);
	jw_obj(&w);
	text(&w, "request_id", rs->request_id);
	jw_key(&w, "endpoint");
	jw_str(&w, x->rq->path);
	text(&w, "model", rs->usage.model);
	jw_key(&w, "status");
	jw_int(&w, rs->status);
	jw_key(&w, "exit");
	jw_int(&w, status);
	jw_key(&w, "attempts");
	jw_int(&w, rs->attempts);
	jw_key(&w, "retry_wait_ms");
	jw_int(&w, x->waited);
	jw_key(&w, "wall_ms");
	jw_int(&w, oai_now_ms() - x->first);
	jw_key(&w, "ttfb_ms");
	if (ttfb > 0)
		jw_int(&w, (long long)ttfb / 1000);
	else
		jw_null(&w);
	ratelimits(&w, x);
	usagejson(&w, &rs->usage);
	jw_key(&w, "cost_usd");
	if (rs->usage.cost >= 0)
		jw_num(&w, rs->usage.cost);
	else
		jw_null(&w);
	if (status == 0 && x->rq->meta)
		x->rq->meta(x->rq->meta_ctx, &w, rs);
	jw_obj_end(&w);
	buf_addc(b, '\n');
}

/* One line in one write() (a pipe takes up to PIPE_BUF whole); a
 * descriptor that fails is given up with one line, the run goes on. */
static void
metawrite(struct oai *o, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = write(o->meta_fd, p, n);
		if (k < 0 && errno == EINTR && !oai_interrupted)
			continue;
		if (k < 0) {
			if (errno != EPIPE)
				warnx("--meta-fd %d: %s; no more metadata",
				    o->meta_fd, strerror(errno));
			o->meta_fd = -1;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

void
oai_att_final(struct oai_att *x, CURL *c, int status)
{
	struct buf b = BUF_INIT;

	if (status == 0)
		getusage(x);
	if (x->o->meta_fd < 0)
		return;
	metaline(x, c, status, &b);
	metawrite(x->o, b.s, b.len);
	buf_free(&b);
}
