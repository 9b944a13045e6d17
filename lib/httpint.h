/* See LICENSE file for copyright and license details. */
#ifndef OAI_HTTPINT_H
#define OAI_HTTPINT_H

/*
 * Private to lib/: what http.c shares with multi.c, so that one request
 * and a batch of them are made, judged and retried the same way.
 */
#include <curl/curl.h>

/* form.c: an upload's file part as it is read and sent. */
enum { UPLOAD_OK, UPLOAD_TOOBIG, UPLOAD_EMPTY, UPLOAD_READ };

struct upload {
	const struct oai_part *part;	/* the file part, or NULL */
	long long sent;			/* its bytes read so far */
	int why;			/* UPLOAD_*: why the transfer stopped */
	int err;			/* errno for UPLOAD_READ */
};

/* The multipart form of rq, file parts streamed through up. */
curl_mime *oai_form(CURL *c, const struct oai_req *rq, struct upload *up);
/* Open file part f (die with 2 if it cannot be) for the callbacks
 * below; *size is a regular file's size, or -1.  Public for
 * fuzz/upload.c. */
void *upload_open(const struct oai_part *f, struct upload *up,
    curl_off_t *size);
/* libcurl's callbacks for a file part, ctx from upload_open(). */
size_t upload_read(char *p, size_t size, size_t nitems, void *ctx);
int upload_seek(void *ctx, curl_off_t off, int origin);
void upload_free(void *ctx);
/* The one line saying why an upload stopped (no prefix). */
void upload_error(const struct upload *up, struct buf *line);

/* The rate-limit headers kept, without their "x-ratelimit-" prefix. */
enum { RL_LIMIT_REQ, RL_LIMIT_TOK, RL_REM_REQ, RL_REM_TOK, RL_RESET_REQ,
	RL_RESET_TOK, OAI_RL_N };
/* One attempt of one request: what its callbacks saw. */
struct oai_att {
	struct oai *o;
	const struct oai_req *rq;
	struct oai_resp *rs;
	int independent;	/* may retry after output started (batches) */
	long status;		/* of the current response, from headers */
	char reason[64];
	long long retry_ms;	/* retry-after-ms / Retry-After, or -1 */
	int should_retry;	/* x-should-retry: -1 absent, 0, 1 */
	int delivered;		/* the sink has seen bytes */
	size_t sunk;		/* and taken so many */
	int sinkrc;		/* the sink's stop status */
	long long start;	/* when the attempt began (ms) */
	long long lastact;	/* streams: when bytes last moved (ms) */
	long long lastdl, lastul;
	int stalled;		/* streams: silent for longer than timeout */
	int toolarge;		/* 2xx body over OAI_BODY_MAX: stopped */
	int errcut;		/* error body stopped: over the limit or slow */
	long long errstart;	/* when an error status arrived (ms), or 0 */
	curl_mime *mime;
	struct upload up;
	const char *shown;	/* the URL for messages, if not the one used */
	char errbuf[CURL_ERROR_SIZE];
	long long first;	/* when the first attempt began (ms) */
	long long waited;	/* ms spent waiting to retry */
	char rl[OAI_RL_N][32];	/* x-ratelimit-* (oai_rl_names), or "" */
};

extern const char *const oai_rl_names[OAI_RL_N];
/* x-ratelimit-reset-* ("1s", "6m0s", "20ms", "1h2m3.5s", "0.5") in
 * milliseconds, or -1. */
long long oai_duration_ms(const char *s);
/* A header value as a number (remaining, limit), or -1. */
long long oai_rl_num(const char *s);

/*
 * The request is over (status 0, or its exit status): its usage into
 * rs->usage and its cost, and the --meta-fd line (meta.c).  c is the
 * handle of the last attempt, not yet cleaned up.
 */
void oai_att_final(struct oai_att *x, CURL *c, int status);

/* curl_global_init(), once, when the first request is coming. */
void oai_curl_init(void);
/* Monotonic clock in milliseconds. */
long long oai_now_ms(void);
struct curl_slist *oai_http_headers(struct oai *o, const struct oai_req *rq);
/* Wipe (the key) and free headers from oai_http_headers(). */
void oai_http_headers_free(struct curl_slist *h);
/* Set everything but the callbacks and URL on c; returns a mime form to
 * free after the transfer, or NULL. */
curl_mime *oai_http_easyopts(struct oai *o, CURL *c, const struct oai_req *rq,
    struct upload *up);
void oai_att_begin(struct oai_att *x, CURL *c, const char *url,
    struct curl_slist *h, int attempt);
int oai_att_end(struct oai_att *x, CURL *c, CURLcode rc, const char *url,
    int attempt, long long *wait_ms);
/* apierr.c: a failed attempt's transport error as one line; returns
 * its exit status. */
int oai_att_failline(struct oai_att *x, CURLcode rc, struct buf *line,
    const char *url);

#endif
