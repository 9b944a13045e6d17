/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: the base URL check (oai_check_base_url()), with
 * libcurl's own URL parser as the oracle.  Byte 0 bit 0 is
 * OAI_ALLOW_HTTP, the rest the URL (up to a NUL).  A URL is accepted
 * only when libcurl reads it as http(s) without user name, password,
 * query or fragment, plain http only to loopback unless allowed and
 * then never through a proxy; a URL holding any of those secrets is
 * refused with a fixed line that echoes nothing of it; every reason is
 * one line without control characters.
 */
#include <curl/curl.h>

#include "fuzz.h"

static int
baseurl_has(CURLU *u, CURLUPart what)
{
	char *p = NULL;
	int r = curl_url_get(u, what, &p, 0) == CURLUE_OK;

	curl_free(p);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char creds[] = "base URL must not contain a user name "
	    "or password (user:password@host); use --api-key-file for the key";
	static const char query[] = "base URL must not contain a query (?...)";
	static const char frag[] = "base URL must not contain a fragment (#...)";
	struct buf why = BUF_INIT;
	char *url, *scheme = NULL;
	size_t n, i;
	int allow, flags = -1, rc, parsed, secret;
	CURLU *u;

	if (size < 1)
		return 0;
	allow = data[0] & 1;
	n = strnlen((const char *)data + 1, size - 1);
	url = xstrndup((const char *)data + 1, n);

	rc = oai_check_base_url(url, allow, &why, &flags);
	FUZZ_CHECK(rc == 0 || rc == OAI_EX_USAGE);
	FUZZ_CHECK(rc != 0 || why.len == 0);
	FUZZ_CHECK(rc == 0 || why.len > 0);
	for (i = 0; i < why.len; i++)
		FUZZ_CHECK((unsigned char)why.s[i] >= 0x20 &&
		    why.s[i] != 0x7f);

	if (!(u = curl_url()))
		abort();
	parsed = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK;
	secret = parsed && (baseurl_has(u, CURLUPART_USER) ||
	    baseurl_has(u, CURLUPART_PASSWORD) ||
	    baseurl_has(u, CURLUPART_QUERY) ||
	    baseurl_has(u, CURLUPART_FRAGMENT));
	if (secret || strchr(url, '?') || strchr(url, '#'))
		FUZZ_CHECK(rc != 0 && (strcmp(why.s, creds) == 0 ||
		    strcmp(why.s, query) == 0 || strcmp(why.s, frag) == 0));
	if (strchr(url, '?'))
		FUZZ_CHECK(strcmp(why.s, query) == 0);
	if (rc == 0) {
		FUZZ_CHECK(parsed);
		FUZZ_CHECK(strcmp(scheme, "https") == 0 ||
		    strcmp(scheme, "http") == 0);
		if (strcmp(scheme, "http") == 0)
			FUZZ_CHECK(flags & OAI_URL_DIRECT);
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	buf_free(&why);
	free(url);
	return 0;
}
