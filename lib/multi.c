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
 * are always buffered in rs->body: there are no sinks here.
 */
#define ERRBODY_MAX (1 << 20)

enum { MX_WAIT, MX_RUN, MX_DONE };

struct mx {
	struct oai_multi *m;
	const struct oai_req *rq;
	struct oai_resp *rs;
	void *user;
	CURL *c;
	curl_mime *mime;
	struct curl_slist *h;
	char errbuf[CURL_ERROR_SIZE];
	int state;
	int attempt;
	long long due;		/* WAIT: not before this time (ms) */
	long long started;
	long status;
	char reason[64];
	long long retry_ms;
	int should_retry;
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
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
ondata(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct mx *x = ctx;
	size_t n = size * nmemb;

	if ((x->status >= 200 && x->status < 300) ||
	    x->rs->body.len + n <= ERRBODY_MAX)
		buf_add(&x->rs->body, p, n);
	return n;
}

static void
copyval(char *dst, size_t dstsz, const char *v, size_t n)
{
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
onheader(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct mx *x = ctx;
	size_t n = size * nmemb, vlen;
	const char *v;
	char tmp[64], *end;
	double ms;

	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', n);

		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		x->reason[0] = '\0';
		if (sp && (size_t)(sp - p) + 5 < n) {
			const char *r = sp + 5;
			size_t rl = n - (size_t)(r - p);

			while (rl && (r[rl - 1] == '\r' || r[rl - 1] == '\n'))
				rl--;
			copyval(x->reason, sizeof x->reason, r, rl);
		}
		x->retry_ms = -1;
		x->should_retry = -1;
		x->rs->request_id[0] = x->rs->content_type[0] = '\0';
		return n;
	}
	if (oai_http_header(p, n, "x-request-id", &v, &vlen))
		copyval(x->rs->request_id, sizeof x->rs->request_id, v, vlen);
	else if (oai_http_header(p, n, "content-type", &v, &vlen))
		copyval(x->rs->content_type, sizeof x->rs->content_type, v,
		    vlen);
	else if (oai_http_header(p, n, "x-should-retry", &v, &vlen))
		x->should_retry = vlen == 4 && strncasecmp(v, "true", 4) == 0;
	else if (oai_http_header(p, n, "retry-after-ms", &v, &vlen)) {
		copyval(tmp, sizeof tmp, v, vlen);
		ms = strtod(tmp, &end);
		if (end != tmp && *end == '\0' && ms >= 0 && ms < 1e12)
			x->retry_ms = (long long)ms;
	} else if (oai_http_header(p, n, "retry-after", &v, &vlen) &&
	    x->retry_ms < 0)
		x->retry_ms = oai_parse_retry_after(v, vlen);
	return n;
}

static int
onprogress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)ctx;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return oai_interrupted ? 1 : 0;
}

struct oai_multi *
oai_multi_new(struct oai *o, int parallel)
{
	struct oai_multi *m = xcalloc(1, sizeof *m);

	m->o = o;
	m->max = parallel > 0 ? parallel : 1;
	m->tail = &m->head;
	if (!(m->cm = curl_multi_init()))
		die(OAI_EX_FAILURE, "cannot initialise libcurl");
	curl_multi_setopt(m->cm, CURLMOPT_MAX_HOST_CONNECTIONS, (long)m->max);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	return m;
}

void
oai_multi_add(struct oai_multi *m, const struct oai_req *rq,
    struct oai_resp *rs, void *user)
{
	struct mx *x = xcalloc(1, sizeof *x);

	x->m = m;
	x->rq = rq;
	x->rs = rs;
	x->user = user;
	x->state = MX_WAIT;
	x->h = oai_http_headers(m->o, rq);
	*m->tail = x;
	m->tail = &x->next;
}

int
oai_multi_pending(const struct oai_multi *m)
{
	return m->head != NULL;
}

static void
start(struct oai_multi *m, struct mx *x)
{
	struct oai *o = m->o;
	CURL *c;

	if (!(c = x->c = curl_easy_init()))
		die(OAI_EX_FAILURE, "cannot initialise libcurl");
	buf_reset(&m->url);
	buf_printf(&m->url, "%s%s", o->base_url, x->rq->path);
	buf_reset(&x->rs->body);
	x->rs->status = 0;
	x->rs->attempts = x->attempt + 1;
	x->status = 0;
	x->reason[0] = x->errbuf[0] = '\0';
	x->retry_ms = -1;
	x->should_retry = -1;
	curl_easy_setopt(c, CURLOPT_URL, m->url.s);	/* curl copies it */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ondata);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onheader);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onprogress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	x->mime = oai_http_easyopts(o, c, x->rq);
	if (o->verbose)
		warnx("> %s %s", x->rq->method ? x->rq->method : "GET",
		    m->url.s);
	x->started = now_ms();
	x->state = MX_RUN;
	m->running++;
	if (curl_multi_add_handle(m->cm, c) != CURLM_OK)
		die(OAI_EX_FAILURE, "cannot start a transfer");
}

static void
stop(struct oai_multi *m, struct mx *x)
{
	curl_multi_remove_handle(m->cm, x->c);
	curl_easy_cleanup(x->c);
	curl_mime_free(x->mime);
	x->c = NULL;
	x->mime = NULL;
	m->running--;
}

/* The transfer x ended with rc: done, or waiting for a retry. */
static void
finish(struct oai_multi *m, struct mx *x, CURLcode rc)
{
	struct oai *o = m->o;
	struct oai_resp *rs = x->rs;
	struct buf line = BUF_INIT;
	char *url = NULL;
	int retry;

	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &rs->status);
	curl_easy_getinfo(x->c, CURLINFO_EFFECTIVE_URL, &url);
	url = xstrdup(url ? url : "");
	stop(m, x);
	if (o->verbose)
		warnx("< %ld%s%s in %lld ms%s%s", rs->status,
		    *x->reason ? " " : "", x->reason, now_ms() - x->started,
		    *rs->request_id ? ", x-request-id: " : "", rs->request_id);
	x->state = MX_DONE;
	if (oai_interrupted) {
		x->result = oai_intr_status();
		goto out;
	}
	if (rc == CURLE_OK && rs->status >= 200 && rs->status < 300) {
		x->result = 0;
		goto out;
	}
	if (rc != CURLE_OK)
		retry = oai_http_retryable(rc);
	else if (x->should_retry >= 0)
		retry = x->should_retry;
	else
		retry = rs->status == 408 || rs->status == 409 ||
		    rs->status == 429 || rs->status >= 500;
	if (retry && x->attempt < o->retries) {
		long long ms = oai_http_backoff_ms(x->attempt, x->retry_ms);

		if (o->verbose)
			warnx("retrying in %.2f s (retry %d of %d)",
			    (double)ms / 1000, x->attempt + 1, o->retries);
		x->attempt++;
		x->due = now_ms() + ms;
		x->state = MX_WAIT;
		/* A rate limit is about the client, not this request. */
		if (rs->status == 429 && x->due > m->pause_until)
			m->pause_until = x->due;
		goto out;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		warnx("timed out after %ld s: %s", o->timeout, url);
		x->result = OAI_EX_FAILURE;
	} else if (rc != CURLE_OK) {
		warnx("%s: %s", url, *x->errbuf ? x->errbuf :
		    curl_easy_strerror(rc));
		x->result = rc == CURLE_URL_MALFORMAT ||
		    rc == CURLE_UNSUPPORTED_PROTOCOL ? OAI_EX_USAGE :
		    OAI_EX_FAILURE;
	} else {
		oai_error_line(&line, rs->status, rs->body.s ? rs->body.s : "",
		    rs->body.len);
		if (rs->body.len == 0 && *x->reason)
			buf_printf(&line, " %s", x->reason);
		if (rs->status >= 300 && rs->status < 400)
			buf_adds(&line, " (redirects are not followed)");
		warnx("%s", line.s);
		x->result = oai_status_exit(rs->status);
	}
out:
	free(url);
	buf_free(&line);
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
		if (!m->head)
			return NULL;
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
		now = now_ms();
		next = -1;
		waiting = 0;
		for (x = m->head; x && m->running < m->max; x = x->next) {
			if (x->state != MX_WAIT)
				continue;
			if (x->due <= now && m->pause_until <= now)
				start(m, x);
			else {
				long long t = x->due > m->pause_until ?
				    x->due : m->pause_until;

				waiting = 1;
				if (next < 0 || t < next)
					next = t;
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
		curl_multi_poll(m->cm, NULL, 0, timeout, NULL);
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
