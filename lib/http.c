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
 * One request, possibly several attempts.  The response body goes to the
 * request's sink while the status is 2xx, and is otherwise kept (up to a
 * limit) so the API's error message can be shown.  Bytes arrive here
 * decompressed, so the limits hold against a compression bomb too.
 */

/* An error body is read for its message, for at most this long: a 500
 * whose body never ends must not hold a tool. */
#define ERRBODY_MS 10000

static int
ok2xx(long status)
{
	return status >= 200 && status < 300;
}

static size_t
ondata(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct oai_att *x = ctx;
	size_t n = size * nmemb;
	int rc;

	if (oai_interrupted)
		return 0;	/* CURLE_WRITE_ERROR, judged as interrupted */
	if (ok2xx(x->status) && x->rq->sink) {
		if (x->rq->body_max && n > x->rq->body_max - x->sunk) {
			x->toolarge = 1;
			return 0;
		}
		if ((rc = x->rq->sink(x->rq->sink_ctx, p, n)) ==
		    OAI_SINK_PAUSE)
			return CURL_WRITEFUNC_PAUSE;	/* p comes again */
		x->delivered = 1;
		if (rc != 0) {
			x->sinkrc = rc;
			return 0;	/* stops the transfer: CURLE_WRITE_ERROR */
		}
		x->sunk += n;
		return n;
	}
	if (ok2xx(x->status)) {
		if (n > oai_limit(OAI_BODY_MAX) - x->rs->body.len) {
			x->toolarge = 1;
			return 0;
		}
		buf_add(&x->rs->body, p, n);
		return n;
	}
	/* Error bodies are only read for their message: the start of one
	 * is enough. */
	if (n > oai_limit(OAI_ERRBODY_MAX) - x->rs->body.len) {
		buf_add(&x->rs->body, p,
		    oai_limit(OAI_ERRBODY_MAX) - x->rs->body.len);
		x->errcut = 1;
		return 0;
	}
	buf_add(&x->rs->body, p, n);
	return n;
}

static int
hdreq(const char *line, size_t n, const char *name, const char **val,
    size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return 0;
	line += k + 1;
	n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' ||
	    line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	*val = line;
	*vlen = n;
	return 1;
}

static void
copyval(char *dst, size_t dstsz, const char *v, size_t n)
{
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

const char *const oai_rl_names[OAI_RL_N] = {
	"limit-requests", "limit-tokens", "remaining-requests",
	"remaining-tokens", "reset-requests", "reset-tokens"
};

/* An x-ratelimit-* header kept for pacing and --meta-fd: printable
 * ASCII only, or it is not kept (it goes into JSON). */
static void
ratelimit(struct oai_att *x, const char *p, size_t n)
{
	char name[64];
	const char *v;
	size_t vlen, i;
	int k;

	for (k = 0; k < OAI_RL_N; k++) {
		snprintf(name, sizeof name, "x-ratelimit-%s", oai_rl_names[k]);
		if (!hdreq(p, n, name, &v, &vlen))
			continue;
		for (i = 0; i < vlen; i++)
			if (v[i] < 0x20 || v[i] > 0x7e || v[i] == '"' ||
			    v[i] == '\\')
				return;
		copyval(x->rl[k], sizeof x->rl[k], v, vlen);
		return;
	}
}

static size_t
onheader(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct oai_att *x = ctx;
	size_t n = size * nmemb;
	const char *v;
	size_t vlen;
	char tmp[64];

	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, too): start over. */
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
		memset(x->rl, 0, sizeof x->rl);
		return n;
	}
	if (n > 12 && strncasecmp(p, "x-ratelimit-", 12) == 0) {
		ratelimit(x, p, n);
		return n;
	}
	if (hdreq(p, n, "x-request-id", &v, &vlen))
		copyval(x->rs->request_id, sizeof x->rs->request_id, v, vlen);
	else if (hdreq(p, n, "content-type", &v, &vlen))
		copyval(x->rs->content_type, sizeof x->rs->content_type, v,
		    vlen);
	else if (hdreq(p, n, "x-should-retry", &v, &vlen))
		x->should_retry = vlen == 4 && strncasecmp(v, "true", 4) == 0;
	else if (hdreq(p, n, "retry-after-ms", &v, &vlen)) {
		char *end;
		double ms;

		copyval(tmp, sizeof tmp, v, vlen);
		ms = strtod(tmp, &end);
		if (end != tmp && *end == '\0' && ms >= 0 && ms < 1e12)
			x->retry_ms = (long long)ms;
	} else if (hdreq(p, n, "retry-after", &v, &vlen) && x->retry_ms < 0)
		x->retry_ms = oai_parse_retry_after(v, vlen);
	return n;
}

long long
oai_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
onprogress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct oai_att *x = ctx;
	long long now;

	(void)dltotal;
	if (oai_interrupted)
		return 1;
	/* An error status: what its body says, if it comes soon. */
	if (x->status >= 300) {
		now = oai_now_ms();
		if (!x->errstart)
			x->errstart = now;
		else if (now - x->errstart > (x->o->timeout * 1000 <
		    ERRBODY_MS ? x->o->timeout * 1000 : ERRBODY_MS)) {
			x->errcut = 1;
			return 1;
		}
	}
	/* After the end (SSE [DONE]), only the end of the response may
	 * come: a second of silence is enough. */
	if (x->rq->complete && *x->rq->complete) {
		now = oai_now_ms();
		if (dlnow != x->lastdl)
			x->lastact = now;
		else if (now - x->lastact > 1000)
			return 1;
	}
	/*
	 * A stream may take as long as it likes, but not be silent for
	 * longer than the timeout: before the headers, or between two
	 * pieces, or while an upload is stuck.  (libcurl's low-speed limit
	 * does not count the wait for the first byte.)
	 */
	if (x->rq->stream) {
		now = oai_now_ms();
		if (dlnow != x->lastdl || ulnow != x->lastul) {
			x->lastdl = dlnow;
			x->lastul = ulnow;
			x->lastact = now;
		} else if (now - x->lastact > x->o->timeout * 1000) {
			x->stalled = 1;
			return 1;
		}
	}
	if (x->rq->progress && ultotal > 0)
		x->rq->progress(x->rq->progress_ctx, (long long)ulnow,
		    (long long)ultotal);
	return 0;
}

long long
oai_parse_retry_after(const char *v, size_t n)
{
	char tmp[128];
	char *end;
	double s;
	time_t t;

	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	s = strtod(tmp, &end);
	if (end != tmp && *end == '\0') {
		if (!(s >= 0 && s < 1e9))
			return -1;
		return (long long)(s * 1000);
	}
	if ((t = curl_getdate(tmp, NULL)) == -1)
		return -1;
	s = difftime(t, time(NULL));
	/* A date centuries ahead is as absurd as a delta that large (and
	 * its milliseconds overflow: found by fuzz/retryafter.c). */
	if (s >= 1e9)
		return -1;
	return s > 0 ? (long long)(s * 1000) : 0;
}

static int
retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static long long
backoff_ms(int attempt, long long retry_ms)
{
	double s;

	/* As the SDKs: trust the server for up to a minute. */
	if (retry_ms >= 0 && retry_ms <= 60000)
		return retry_ms;
	s = 0.5 * (double)(1 << (attempt < 10 ? attempt : 10));
	if (s > 8)
		s = 8;
	s *= 1 - 0.25 * ((double)rand() / RAND_MAX);
	return (long long)(s * 1000);
}

static void
sleep_ms(long long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !oai_interrupted)
		;
}

static int
rewindable(const struct oai_req *rq)
{
	int i;

	for (i = 0; i < rq->nparts; i++)
		if (rq->parts[i].path && strcmp(rq->parts[i].path, "-") == 0)
			return 0;
	return 1;
}

struct curl_slist *
oai_http_headers(struct oai *o, const struct oai_req *rq)
{
	struct curl_slist *h = NULL;
	struct buf b = BUF_INIT;

	/* a URL elsewhere (a download) gets none of these */
	if (o->key && !rq->url) {
		buf_printf(&b, "Authorization: Bearer %s", o->key);
		h = curl_slist_append(h, b.s);
		wipe(b.s, b.len);
		buf_reset(&b);
	}
	if (o->org && !rq->url) {
		buf_printf(&b, "OpenAI-Organization: %s", o->org);
		h = curl_slist_append(h, b.s);
		buf_reset(&b);
	}
	if (o->project && !rq->url) {
		buf_printf(&b, "OpenAI-Project: %s", o->project);
		h = curl_slist_append(h, b.s);
		buf_reset(&b);
	}
	if (rq->body) {
		buf_printf(&b, "Content-Type: %s",
		    rq->content_type ? rq->content_type : "application/json");
		h = curl_slist_append(h, b.s);
		buf_reset(&b);
	}
	buf_printf(&b, "Accept: %s", rq->accept ? rq->accept :
	    rq->stream ? "text/event-stream" : "application/json");
	h = curl_slist_append(h, b.s);
	/* 100-continue costs a round trip (or a second with servers that
	 * ignore it) on every POST. */
	h = curl_slist_append(h, "Expect:");
	buf_free(&b);
	if (!h)
		die(OAI_EX_FAILURE, "out of memory");
	return h;
}

void
oai_http_headers_free(struct curl_slist *h)
{
	struct curl_slist *p;

	for (p = h; p; p = p->next)
		wipe(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/* The transport policy and the request itself, shared with multi.c.
 * Returns the form to free after the transfer, or NULL. */
curl_mime *
oai_http_easyopts(struct oai *o, CURL *c, const struct oai_req *rq,
    struct upload *up)
{
	curl_mime *mime = NULL;

	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* The path is sent as built: no dot segments resolved away. */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "oai/" OAI_VERSION);
	/*
	 * Compression pays for JSON (embeddings shrink by half) and is
	 * capped there by OAI_BODY_MAX; a sink's stream or audio gains
	 * nothing from it, and without the header libcurl decodes nothing
	 * (a sink with a body_max is capped as a buffered body is).
	 */
	if (!rq->sink || rq->body_max)
		curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	/* The key goes to the server only: no proxy sees plain http, and
	 * a proxy cannot reach our loopback. */
	if (o->direct)
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	/* Reads of up to 100 KiB, as the curl tool makes, not libcurl's
	 * 16: a 17 MB embeddings answer in a sixth of the calls (13% of
	 * oai-embed --format f32's CPU); a stream still gets each piece as
	 * soon as it arrives. */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 102400L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	/* A long generation is fine, silence is not (onprogress()); but
	 * keep-alive comments must not hold a stream forever. */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->stream ||
	    o->max_time < o->timeout ? o->max_time : o->timeout);
	if (rq->parts) {
		mime = oai_form(c, rq, up);
		curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	} else if (rq->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->bodylen);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
	}
	if (rq->method && strcmp(rq->method, "GET") != 0 &&
	    strcmp(rq->method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	else if (rq->method && strcmp(rq->method, "POST") == 0 &&
	    !rq->body && !rq->parts) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	return mime;
}

/*
 * Reset x for attempt number attempt and set c up for it: the callbacks,
 * the URL and headers, the transport policy, the request itself.
 */
void
oai_att_begin(struct oai_att *x, CURL *c, const char *url,
    struct curl_slist *h, int attempt)
{
	struct oai *o = x->o;

	x->status = 0;
	x->reason[0] = x->errbuf[0] = '\0';
	x->retry_ms = -1;
	x->should_retry = -1;
	x->delivered = x->sinkrc = x->stalled = 0;
	x->sunk = 0;
	x->toolarge = x->errcut = 0;
	x->errstart = 0;
	x->lastdl = x->lastul = 0;
	x->lastact = x->start = oai_now_ms();
	memset(x->rl, 0, sizeof x->rl);
	if (attempt == 0) {
		x->first = x->start;
		x->waited = 0;
		oai_usage_init(&x->rs->usage, x->rq->model);
		x->rs->budget = 0;
	}
	buf_reset(&x->rs->body);
	x->rs->status = 0;
	x->rs->attempts = attempt + 1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ondata);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onheader);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onprogress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	x->mime = oai_http_easyopts(o, c, x->rq, &x->up);
	if (o->verbose)
		warnx("> %s %s", x->rq->method ? x->rq->method : "GET",
		    x->shown ? x->shown : url);
}

/*
 * Judge the attempt that ended with rc.  Returns 0 on success, -1 when it
 * is to be retried after *wait_ms, or the exit status after printing the
 * one-line error.
 */
int
oai_att_end(struct oai_att *x, CURL *c, CURLcode rc, const char *url,
    int attempt, long long *wait_ms)
{
	struct oai *o = x->o;
	struct oai_resp *rs = x->rs;
	struct buf line = BUF_INIT;
	double secs;
	int retry, status;

	curl_mime_free(x->mime);
	x->mime = NULL;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	rs->retry_after_ms = x->retry_ms;
	if (o->verbose) {
		curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &secs);
		warnx("< %ld%s%s in %.0f ms%s%s", rs->status,
		    *x->reason ? " " : "", x->reason, secs * 1000,
		    *rs->request_id ? ", x-request-id: " : "", rs->request_id);
	}
	if (oai_interrupted)
		return oai_intr_status();
	if (rc == CURLE_OK && ok2xx(rs->status))
		return 0;
	if (rc == CURLE_ABORTED_BY_CALLBACK && x->up.why) {
		/* the input's fault: retrying cannot help */
		upload_error(&x->up, &line);
		status = x->up.why == UPLOAD_READ ? OAI_EX_FAILURE :
		    OAI_EX_USAGE;
		goto report;
	}
	/* The sink had the whole answer (SSE [DONE]): what happens to the
	 * connection after that is no loss. */
	if (ok2xx(rs->status) && x->rq->complete && *x->rq->complete &&
	    !x->sinkrc && !x->toolarge) {
		if (o->verbose)
			warnx("the response was complete; ignored: %s",
			    *x->errbuf ? x->errbuf : curl_easy_strerror(rc));
		return 0;
	}
	/* An error body cut short (too long, or too slow) still says why. */
	if (x->errcut)
		rc = CURLE_OK;
	if (rc != CURLE_OK)
		retry = (retryable_curl(rc) || x->stalled) && !x->sinkrc;
	else if (x->should_retry >= 0)
		retry = x->should_retry;
	else
		retry = rs->status == 408 || rs->status == 409 ||
		    rs->status == 429 || rs->status >= 500;
	/* What reached the reader cannot be taken back, so a request whose
	 * answer is being written is not made twice (batches are exempt:
	 * they are written once whole, or their sinks start over). */
	if (retry && attempt < o->retries &&
	    (x->independent || !oai_output_started()) && rewindable(x->rq) &&
	    (!x->delivered || (x->rq->rewind &&
	    x->rq->rewind(x->rq->sink_ctx) == 0))) {
		*wait_ms = backoff_ms(attempt, x->retry_ms);
		if (o->verbose)
			warnx("retrying in %.2f s (retry %d of %d)",
			    (double)*wait_ms / 1000, attempt + 1, o->retries);
		return -1;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK && oai_interrupted)
		return oai_intr_status();
	if (rc == CURLE_WRITE_ERROR && x->sinkrc)
		return x->sinkrc;	/* the sink has said why */
	if (rc != CURLE_OK)
		status = oai_att_failline(x, rc, &line,
		    x->shown ? x->shown : url);
	else {
		oai_error_line(&line, rs->status, rs->body.s,
		    rs->body.len);
		if (rs->body.len == 0 && *x->reason)
			buf_printf(&line, " %s", x->reason);
		if (rs->status >= 300 && rs->status < 400)
			buf_adds(&line, " (redirects are not followed)");
		status = oai_status_exit(rs->status);
	}
report:
	if (x->rq->defer_error) {
		buf_reset(&rs->error);
		buf_add(&rs->error, line.s, line.len);
	} else
		warnx("%s", line.s);
	buf_free(&line);
	return status;
}

/*
 * A URL a server gave (rq->url): checked as the base URL is; *shown is
 * what messages say of it, *direct whether no proxy may carry it.
 * Returns 0, or the exit status after one line: the server's fault.
 */
static int
elsewhere(const char *url, struct buf *shown, int *direct)
{
	struct buf why = BUF_INIT;
	int flags;

	buf_addline(shown, url, strcspn(url, "?#"));
	if (strcspn(url, "?#") < strlen(url))
		buf_adds(shown, "?...");
	if (oai_check_url(url, &why, &flags)) {
		warnx("%s", why.s);
		buf_free(&why);
		return OAI_EX_FAILURE;
	}
	*direct = (flags & OAI_URL_DIRECT) != 0;
	return 0;
}

int
oai_request(struct oai *o, const struct oai_req *rq, struct oai_resp *rs)
{
	struct oai_att x;
	struct curl_slist *h;
	struct buf url = BUF_INIT, shown = BUF_INIT;
	long long ms;
	CURL *c;
	int attempt, status, saved, direct = o->direct;

	oai_curl_init();
	if (!o->curl && !(o->curl = curl_easy_init()))
		die(OAI_EX_FAILURE, "cannot initialise libcurl");
	c = o->curl;
	memset(&x, 0, sizeof x);
	if (rq->url) {
		if ((status = elsewhere(rq->url, &shown, &direct))) {
			buf_free(&shown);
			return status;
		}
		buf_adds(&url, rq->url);
		x.shown = shown.s;
	} else
		buf_printf(&url, "%s%s", o->base_url, rq->path);
	h = oai_http_headers(o, rq);
	x.o = o;
	x.rq = rq;
	x.rs = rs;
	/* the proxy rule of the URL asked, for this request only */
	saved = o->direct;
	o->direct = direct;
	for (attempt = 0;; attempt++) {
		/* reset keeps the connection cache: one connection per run */
		curl_easy_reset(c);
		oai_att_begin(&x, c, url.s, h, attempt);
		status = oai_att_end(&x, c, curl_easy_perform(c), url.s,
		    attempt, &ms);
		if (status != -1)
			break;
		x.waited += ms;
		sleep_ms(ms);
		if (oai_interrupted) {
			status = oai_intr_status();
			break;
		}
	}
	o->direct = saved;
	oai_att_final(&x, c, status);
	oai_http_headers_free(h);
	buf_free(&url);
	buf_free(&shown);
	return status;
}

void
oai_resp_free(struct oai_resp *rs)
{
	buf_free(&rs->body);
	buf_free(&rs->error);
}
