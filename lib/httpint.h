/* See LICENSE file for copyright and license details. */
#ifndef OAI_HTTPINT_H
#define OAI_HTTPINT_H

/*
 * Private to lib/: what http.c shares with multi.c, so both make requests
 * the same way (headers, transport policy, retry rules, backoff).
 */
#include <curl/curl.h>

struct curl_slist *oai_http_headers(struct oai *o, const struct oai_req *rq);
/* Wipe (the key) and free headers from oai_http_headers(). */
void oai_http_headers_free(struct curl_slist *h);
/* Set everything but the callbacks and URL on c; returns a mime form to
 * free after the transfer, or NULL. */
curl_mime *oai_http_easyopts(struct oai *o, CURL *c, const struct oai_req *rq);
int oai_http_retryable(CURLcode rc);
/* min(0.5 * 2^attempt, 8) s with jitter, or the server's wish (<= 60 s). */
long long oai_http_backoff_ms(int attempt, long long retry_ms);
/* Is line the header name?  Then *val, *vlen is its trimmed value. */
int oai_http_header(const char *line, size_t n, const char *name,
    const char **val, size_t *vlen);

#endif
