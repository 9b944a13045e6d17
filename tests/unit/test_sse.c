/* See LICENSE file for copyright and license details. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

#include "tap.h"

/* Events a parse produced, as one text for comparison and messages:
 * "event|data|id\n" per event, then "retry=N". */
struct run {
	struct buf got;
	int nev;
	int stopat;	/* stop with 7 at this event number (1-based) */
};

static void
addesc(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '\n')
			buf_adds(b, "\\n");
		else if (c < 0x20 || c == '\\' || c == '|')
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, c);
	}
}

static int
collect(void *ctx, const struct sse_event *ev)
{
	struct run *r = ctx;

	r->nev++;
	addesc(&r->got, ev->event, strlen(ev->event));
	buf_addc(&r->got, '|');
	if (strlen(ev->data) != ev->datalen)
		buf_adds(&r->got, "(datalen mismatch)");
	addesc(&r->got, ev->data, ev->datalen);
	buf_addc(&r->got, '|');
	addesc(&r->got, ev->id, strlen(ev->id));
	buf_addc(&r->got, '\n');
	return r->nev == r->stopat ? 7 : 0;
}

static int
hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

enum { CHUNKS, WHOLE, BYTES, NMODES };
static const char *modename[] = { "recorded chunks", "whole", "byte by byte" };

static void
feedcase(const struct json *j, int c, const char *name, int mode)
{
	struct buf bytes = BUF_INIT, want = BUF_INIT, s = BUF_INIT;
	struct run r = { BUF_INIT, 0, 0 };
	struct sse p;
	char tname[256];
	size_t *ends = NULL, i, k;
	long long retry;
	int chunks, evs, e, nchunk;

	/* Decode the chunks into one text, remembering where each ends. */
	chunks = json_get(j, c, "chunks_hex");
	nchunk = json_size(j, chunks);
	ends = xreallocarray(NULL, nchunk + 1, sizeof *ends);
	for (k = 0; k < (size_t)nchunk; k++) {
		buf_reset(&s);
		json_str(j, json_at(j, chunks, k), &s);
		for (i = 0; i + 1 < s.len; i += 2)
			buf_addc(&bytes, hexval(s.s[i]) << 4 | hexval(s.s[i + 1]));
		ends[k] = bytes.len;
	}
	evs = json_get(j, c, "expected_events");
	for (k = 0; k < (size_t)json_size(j, evs); k++) {
		e = json_at(j, evs, k);
		buf_reset(&s);
		json_str(j, json_get(j, e, "event"), &s);
		addesc(&want, s.s, s.len);
		buf_addc(&want, '|');
		buf_reset(&s);
		json_str(j, json_get(j, e, "data"), &s);
		addesc(&want, s.s, s.len);
		buf_addc(&want, '|');
		buf_reset(&s);
		json_str(j, json_get(j, e, "id"), &s);
		addesc(&want, s.s, s.len);
		buf_addc(&want, '\n');
	}
	if (json_int(j, json_get(j, c, "expected_retry_ms"), &retry) < 0)
		retry = -1;
	buf_printf(&want, "retry=%lld", retry);

	sse_init(&p, collect, &r);
	switch (mode) {
	case CHUNKS:
		for (k = 0, i = 0; k < (size_t)nchunk; i = ends[k++])
			sse_feed(&p, bytes.s + i, ends[k] - i);
		break;
	case WHOLE:
		sse_feed(&p, bytes.s, bytes.len);
		break;
	case BYTES:
		for (i = 0; i < bytes.len; i++)
			sse_feed(&p, bytes.s + i, 1);
		break;
	}
	/* A zero-length feed is harmless. */
	sse_feed(&p, "", 0);
	buf_printf(&r.got, "retry=%ld", p.retry_ms);
	sse_free(&p);

	snprintf(tname, sizeof tname, "%s (%s)", name, modename[mode]);
	ok(strcmp(r.got.s, want.s) == 0, tname, "want '%s' got '%s'", want.s,
	    r.got.s);
	free(ends);
	buf_free(&bytes);
	buf_free(&want);
	buf_free(&s);
	buf_free(&r.got);
}

static void
test_vectors(const char *path)
{
	struct buf text = BUF_INIT;
	struct json j = JSON_INIT;
	char *name;
	int cases, c, k, mode;

	if (buf_readfile(&text, path) < 0) {
		skip("no sse-vectors.json");
		return;
	}
	ok(json_parse(&j, text.s, text.len) == 0, "sse-vectors.json parses",
	    NULL);
	cases = json_get(&j, 0, "cases");
	ok(json_size(&j, cases) >= 20, "at least 20 vectors", NULL);
	for (k = 0; k < json_size(&j, cases); k++) {
		c = json_at(&j, cases, k);
		name = json_strdup(&j, json_get(&j, c, "name"));
		for (mode = 0; mode < NMODES; mode++)
			feedcase(&j, c, name ? name : "?", mode);
		free(name);
	}
	json_free(&j);
	buf_free(&text);
}

static void
test_stop(void)
{
	static const char s[] = "data: a\n\ndata: b\r\n\r\ndata: c\n\n";
	struct run r = { BUF_INIT, 0, 2 };
	struct sse p;
	int r1, r2;

	sse_init(&p, collect, &r);
	r1 = sse_feed(&p, s, sizeof s - 1);
	r2 = sse_feed(&p, s, sizeof s - 1);
	ok(r1 == 7 && r2 == 7 && r.nev == 2, "callback stop value propagates",
	    "returns %d then %d after %d events", r1, r2, r.nev);
	sse_free(&p);
	buf_free(&r.got);

	/* Stop in the middle of a byte-by-byte feed. */
	memset(&r, 0, sizeof r);
	r.stopat = 1;
	sse_init(&p, collect, &r);
	for (r1 = 0, r2 = 0; r2 < (int)sizeof s - 1 && !r1; r2++)
		r1 = sse_feed(&p, s + r2, 1);
	ok(r1 == 7 && r2 == 9 && sse_feed(&p, "\n", 1) == 7 && r.nev == 1,
	    "stop on a one-byte feed", "r %d at %d", r1, r2);
	sse_free(&p);
	buf_free(&r.got);
}

static void
test_long_line(void)
{
	struct run r = { BUF_INIT, 0, 0 };
	struct buf want = BUF_INIT;
	struct sse p;
	size_t i;

	/* A line split over many chunks, as a big tool-call delta would be. */
	sse_init(&p, collect, &r);
	sse_feed(&p, "da", 2);
	sse_feed(&p, "ta: ", 4);
	buf_adds(&want, "message|");
	for (i = 0; i < 100000; i++) {
		sse_feed(&p, "xyz", 3);
		buf_adds(&want, "xyz");
	}
	sse_feed(&p, "\r", 1);
	sse_feed(&p, "\n\r", 2);
	sse_feed(&p, "\n", 1);
	buf_adds(&want, "|\n");
	ok(r.got.s && strcmp(r.got.s, want.s) == 0 && r.nev == 1,
	    "300000-byte line over 100002 chunks", NULL);
	/* held once: the data line went into the event's data, not the
	 * line buffer as well (an image's base64 is megabytes) */
	ok(p.line.cap <= 1024, "a split data line is not copied twice",
	    "line buffer of %zu bytes", p.line.cap);
	sse_free(&p);
	buf_free(&r.got);
	buf_free(&want);
}

/* Parse a recorded stream: every data is JSON or [DONE]. */
struct rec {
	int nev, njson, done, bad;
	struct json j;
};

static int
recorded(void *ctx, const struct sse_event *ev)
{
	struct rec *r = ctx;

	r->nev++;
	if (strcmp(ev->data, "[DONE]") == 0)
		r->done++;
	else if (json_parse(&r->j, ev->data, ev->datalen) == 0)
		r->njson++;
	else
		r->bad++;
	return 0;
}

static void
test_cassettes(const char *dir)
{
	static const struct {
		const char *path;
		int done;
	} c[] = {
		{ "chat_stream_2023_plain", 1 },
		{ "chat_stream_tool_calls_usage_2026/00", 1 },
		{ "chat_stream_tool_calls_usage_2026/01", 1 },
		{ "synthetic/chat_stream_error_midstream", 0 },
	};
	struct buf path = BUF_INIT, body = BUF_INIT;
	struct rec r;
	struct sse p;
	char name[256];
	size_t i, k, step;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s/response.body", dir, c[i].path);
		buf_reset(&body);
		if (buf_readfile(&body, path.s) < 0) {
			skip("cassette missing");
			continue;
		}
		/* Odd chunk sizes put boundaries everywhere. */
		for (step = 1; step <= 4096; step *= 7) {
			memset(&r, 0, sizeof r);
			sse_init(&p, recorded, &r);
			for (k = 0; k < body.len; k += step)
				sse_feed(&p, body.s + k, body.len - k < step ?
				    body.len - k : step);
			sse_free(&p);
			json_free(&r.j);
			snprintf(name, sizeof name, "cassette %s in %zu-byte "
			    "chunks", c[i].path, step);
			ok(r.nev > 1 && r.bad == 0 && r.done == c[i].done &&
			    r.njson == r.nev - r.done, name,
			    "%d events, %d JSON, %d [DONE], %d bad", r.nev,
			    r.njson, r.done, r.bad);
		}
	}
	buf_free(&path);
	buf_free(&body);
}

int
main(int argc, char *argv[])
{
	const char *vectors, *cassettes;

	argv0 = "test_sse";
	if (argc > 1)
		vectors = argv[1];
	else if (!(vectors = getenv("OAI_SSE_VECTORS")))
		vectors = "tests/fixtures/sse-vectors.json";
	if (argc > 2)
		cassettes = argv[2];
	else if (!(cassettes = getenv("OAI_CASSETTES")))
		cassettes = "tests/fixtures";
	test_vectors(vectors);
	test_stop();
	test_long_line();
	test_cassettes(cassettes);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
