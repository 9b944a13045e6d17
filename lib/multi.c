/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "oai.h"
#include "httpint.h"

/*
 * Several requests at once over libcurl's multi interface, each retried
 * like oai_request() (same headers, same rules, same backoff).  A 429
 * pauses the start of every request until its Retry-After has passed, so
 * a rate limit slows the whole pipeline instead of failing it.  Bodies
 * are buffered in rs->body or go to the request's sink, which may pause
 * its transfer (CURL_WRITEFUNC_PAUSE: the connection is not read, the
 * server waits) until oai_multi_resume().
 */
enum { MX_WAIT, MX_RUN, MX_DONE };

struct mx {
	struct oai_att a;	/* the current attempt */
	void *user;
	CURL *c;
	struct curl_slist *h;
	int state;
	int attempt;
	long long due;		/* WAIT: not before this time (ms) */
	int result;
	struct mx *next;	/* in order of oai_multi_add() */
};

struct oai_multi {
	struct oai *o;
	CURLM *cm;
	struct buf url;
	int max;
	int running;
	long long pause_until;	/* 429: nothing starts before (ms) */
	struct mx *head, **tail;
	/* x-ratelimit-*: requests and tokens the server has said are left
	 * until a time, less those started since (-1: no word). */
	long long req_left, req_until, tok_left, tok_until;
	double budget, spent;	/* --budget (0: none), cost so far (USD) */
	long long costed;	/* answers whose cost is in spent */
	int over;		/* the budget is reached: start nothing new */
	int watch;		/* oai_multi_watch(), or -1 */
};

static void finish(struct oai_multi *m, struct mx *x, CURLcode rc);

struct oai_multi *
oai_multi_new(struct oai *o, int parallel)
{
	struct oai_multi *m = xcalloc(1, sizeof *m);

	oai_curl_init();
	m->o = o;
	buf_init(&m->url);
	m->max = parallel > 0 ? parallel : 1;
	m->tail = &m->head;
	m->req_left = m->tok_left = -1;
	m->watch = -1;
	if (!(m->cm = curl_multi_init()))
		die(OAI_EX_FAILURE, "cannot initialise libcurl");
	curl_multi_setopt(m->cm, CURLMOPT_MAX_HOST_CONNECTIONS, (long)m->max);
	return m;
}

void
oai_multi_add(struct oai_multi *m, const struct oai_req *rq,
    struct oai_resp *rs, void *user)
{
	struct mx *x = xcalloc(1, sizeof *x);

	x->a.o = m->o;
	x->a.rq = rq;
	x->a.rs = rs;
	x->a.independent = 1;
	x->user = user;
	x->state = MX_WAIT;
	x->h = oai_http_headers(m->o, rq);
	*m->tail = x;
	m->tail = &x->next;
}

void
oai_multi_budget(struct oai_multi *m, double usd)
{
	m->budget = usd;
	m->o->want_usage = 1;
}

void
oai_multi_watch(struct oai_multi *m, int fd)
{
	m->watch = fd;
}

int
oai_multi_pending(const struct oai_multi *m)
{
	return m->head != NULL;
}

void
oai_multi_resume(struct oai_multi *m, void *user)
{
	struct mx *x;
	CURLcode rc;

	for (x = m->head; x && x->user != user; x = x->next)
		;
	if (!x || x->state != MX_RUN)
		return;
	/* The bytes held back go to the sink in here; if it stops the
	 * transfer then, that is its end. */
	if ((rc = curl_easy_pause(x->c, CURLPAUSE_CONT)) != CURLE_OK)
		finish(m, x, rc);
}

/* A request's tokens, roughly: 4 bytes of its body a token. */
static long long
tokens(const struct mx *x)
{
	return (long long)(x->a.rq->bodylen / 4) + 1;
}

static void
start(struct oai_multi *m, struct mx *x)
{
	if (!(x->c = curl_easy_init()))
		die(OAI_EX_FAILURE, "cannot initialise libcurl");
	if (m->req_left > 0)
		m->req_left--;
	if (m->tok_left > 0)
		m->tok_left -= tokens(x) < m->tok_left ? tokens(x) : m->tok_left;
	buf_reset(&m->url);
	buf_printf(&m->url, "%s%s", m->o->base_url, x->a.rq->path);
	oai_att_begin(&x->a, x->c, m->url.s, x->h, x->attempt); /* URL copied */
	curl_easy_setopt(x->c, CURLOPT_PRIVATE, x);
	x->state = MX_RUN;
	m->running++;
	if (curl_multi_add_handle(m->cm, x->c) != CURLM_OK)
		die(OAI_EX_FAILURE, "cannot start a transfer");
}

static void
stop(struct oai_multi *m, struct mx *x)
{
	curl_multi_remove_handle(m->cm, x->c);
	curl_easy_cleanup(x->c);
	curl_mime_free(x->a.mime);
	x->a.mime = NULL;
	x->c = NULL;
	m->running--;
}

/*
 * Slow down before the server says 429: what its x-ratelimit-* headers
 * say is left, less what is in flight, may start before their reset.
 */
static void
pace(struct oai_multi *m, const struct oai_att *a)
{
	long long now = oai_now_ms(), left, reset;

	if ((left = oai_rl_num(a->rl[RL_REM_REQ])) >= 0) {
		reset = oai_duration_ms(a->rl[RL_RESET_REQ]);
		m->req_left = left - (m->running - 1);
		m->req_until = now + (reset >= 0 ? reset : 1000);
	}
	if ((left = oai_rl_num(a->rl[RL_REM_TOK])) >= 0) {
		reset = oai_duration_ms(a->rl[RL_RESET_TOK]);
		m->tok_left = left;
		m->tok_until = now + (reset >= 0 ? reset : 1000);
	}
	if (m->o->verbose > 1 && (m->req_left >= 0 || m->tok_left >= 0))
		warnx("rate limit: %lld requests, %lld tokens left",
		    m->req_left, m->tok_left);
}

/* When x may start as the rate limits go: now, or a later time. */
static long long
ratewait(struct oai_multi *m, const struct mx *x, long long now)
{
	long long t = now;

	if (m->req_left >= 0 && m->req_left <= 0 && m->req_until > t)
		t = m->req_until;
	if (m->tok_left >= 0 && m->tok_left < tokens(x) && m->tok_until > t)
		t = m->tok_until;
	return t;
}

/* A new request over the budget: the answers so far, and as much again
 * (their mean) for each one in flight and this one, would pass it. */
static int
overbudget(struct oai_multi *m, struct mx *x)
{
	double mean;
	char a[32], b[32];

	if (m->budget <= 0 || x->attempt > 0)
		return 0;
	mean = m->costed ? m->spent / (double)m->costed : 0;
	if (!m->over && m->spent + mean * (m->running + 1) <= m->budget)
		return 0;
	m->over = 1;
	snprintf(a, sizeof a, "%.6f", m->budget);
	snprintf(b, sizeof b, "%.6f", m->spent);
	buf_reset(&x->a.rs->error);
	buf_printf(&x->a.rs->error, "--budget $%s reached ($%s spent)", a,
	    b);
	x->a.rs->budget = 1;
	x->state = MX_DONE;
	x->result = OAI_EX_REJECTED;
	return 1;
}

/* The transfer x ended with rc: done, or waiting for a retry. */
static void
finish(struct oai_multi *m, struct mx *x, CURLcode rc)
{
	char *url = NULL;
	long long ms;
	int r;

	curl_easy_getinfo(x->c, CURLINFO_EFFECTIVE_URL, &url);
	url = xstrdup(url ? url : "");
	r = oai_att_end(&x->a, x->c, rc, url, x->attempt, &ms);
	pace(m, &x->a);
	if (r != -1)
		oai_att_final(&x->a, x->c, r);
	stop(m, x);
	free(url);
	if (r != -1) {
		x->result = r;
		x->state = MX_DONE;
		if (r == 0 && x->a.rs->usage.cost >= 0) {
			m->spent += x->a.rs->usage.cost;
			m->costed++;
		}
		return;
	}
	x->attempt++;
	x->a.waited += ms;
	x->due = oai_now_ms() + ms;
	x->state = MX_WAIT;
	/* A rate limit is about the client, not this request. */
	if (x->a.rs->status == 429 && x->due > m->pause_until)
		m->pause_until = x->due;
}

static void *
take(struct oai_multi *m, struct mx *x, int *status)
{
	struct mx **pp;
	void *user = x->user;

	for (pp = &m->head; *pp != x; pp = &(*pp)->next)
		;
	*pp = x->next;
	if (m->tail == &x->next)
		m->tail = pp;
	*status = x->result;
	oai_http_headers_free(x->h);
	free(x);
	return user;
}

/* Wait for the transfers, at most timeout ms; 1 when the watched
 * descriptor is readable. */
static int
poll1(struct oai_multi *m, int timeout)
{
	struct curl_waitfd w = { m->watch, CURL_WAIT_POLLIN, 0 };

	curl_multi_poll(m->cm, m->watch >= 0 ? &w : NULL, m->watch >= 0,
	    timeout, NULL);
	return m->watch >= 0 && w.revents != 0;
}

void *
oai_multi_wait(struct oai_multi *m, int *status)
{
	struct mx *x;
	CURLMsg *msg;
	long long now, next;
	int left, waiting, timeout;

	for (;;) {
		for (x = m->head; x; x = x->next)
			if (x->state == MX_DONE)
				return take(m, x, status);
		if (!m->head) {
			*status = 0;
			return NULL;
		}
		if (oai_interrupted) {
			/* Everything left ends here; the first reports it. */
			for (x = m->head; x; x = x->next) {
				if (x->state == MX_RUN)
					stop(m, x);
				x->state = MX_DONE;
				x->result = oai_intr_status();
			}
			continue;
		}
		now = oai_now_ms();
		next = -1;
		waiting = 0;
		for (x = m->head; x && m->running < m->max; x = x->next) {
			if (x->state != MX_WAIT || overbudget(m, x))
				continue;
			if (x->due <= now && m->pause_until <= now &&
			    ratewait(m, x, now) <= now)
				start(m, x);
			else {
				long long t = x->due > m->pause_until ?
				    x->due : m->pause_until;

				if (ratewait(m, x, now) > t)
					t = ratewait(m, x, now);
				waiting = 1;
				if (next < 0 || t < next)
					next = t;
				break;	/* it keeps its place */
			}
		}
		curl_multi_perform(m->cm, &left);
		while ((msg = curl_multi_info_read(m->cm, &left)))
			if (msg->msg == CURLMSG_DONE) {
				char *pv = NULL;

				curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_PRIVATE, &pv);
				finish(m, (struct mx *)(void *)pv,
				    msg->data.result);
			}
		for (x = m->head; x; x = x->next)
			if (x->state == MX_DONE)
				break;
		if (x)
			continue;
		timeout = 200;	/* and wake up for Ctrl-C */
		if (waiting && next - now < timeout)
			timeout = next > now ? (int)(next - now) : 0;
		if (poll1(m, timeout)) {
			*status = -1;
			return NULL;
		}
	}
}

void
oai_multi_free(struct oai_multi *m)
{
	struct mx *x, *nx;

	if (!m)
		return;
	for (x = m->head; x; x = nx) {
		nx = x->next;
		if (x->state == MX_RUN)
			stop(m, x);
		oai_http_headers_free(x->h);
		free(x);
	}
	curl_multi_cleanup(m->cm);
	buf_free(&m->url);
	free(m);
}
