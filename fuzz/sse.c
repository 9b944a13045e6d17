/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: the SSE parser, with the fuzzer choosing where the
 * stream is cut into chunks.  Input layout:
 *
 *   byte 0       stop after this many events (low 4 bits; 0: never)
 *   byte 1       number of cuts k (low 5 bits)
 *   bytes 2..k+1 chunk lengths (0-255; a zero-length chunk is fed too)
 *   the rest     the stream; what the lengths leave is the last chunk
 *
 * The same stream is also fed whole and one byte at a time: all three
 * must report the same events, stop status and retry value.  Each chunk
 * is an exactly-sized heap copy, so reading past it is an ASan error.
 */
#include "fuzz.h"

struct sse_fz {
	struct buf log;		/* events, length-prefixed fields */
	int n;
	int stopat;
};

static void
sse_fz_field(struct buf *b, const char *s, size_t n)
{
	buf_printf(b, "%zu:", n);
	buf_add(b, s, n);
}

static int
sse_fz_event(void *ctx, const struct sse_event *ev)
{
	struct sse_fz *r = ctx;

	FUZZ_CHECK(ev->event && ev->data && ev->id);
	FUZZ_CHECK(ev->data[ev->datalen] == '\0');
	FUZZ_CHECK(ev->datalen > 0 || ev->data[0] == '\0');
	sse_fz_field(&r->log, ev->event, strlen(ev->event));
	sse_fz_field(&r->log, ev->data, ev->datalen);
	sse_fz_field(&r->log, ev->id, strlen(ev->id));
	return ++r->n == r->stopat ? 42 : 0;
}

/* Feed s[0..n) in chunks of the given lengths (k of them, then the rest;
 * k == -1: one byte at a time).  Returns the last sse_feed() value. */
static int
sse_fz_run(struct sse_fz *r, long *retry, const char *s, size_t n,
    const uint8_t *len, int k)
{
	struct sse p;
	size_t off = 0, c;
	char *chunk;
	int i, ret = 0;

	sse_init(&p, sse_fz_event, r);
	for (i = 0; k < 0 ? off < n : i <= k; i++) {
		if (k < 0)
			c = 1;
		else if (i < k)
			c = len[i] < n - off ? len[i] : n - off;
		else
			c = n - off;
		chunk = fuzz_dup(s + off, c);
		ret = sse_feed(&p, chunk, c);
		free(chunk);
		off += c;
	}
	/* Once stopped, the parser keeps saying so. */
	chunk = fuzz_dup("", 0);
	FUZZ_CHECK(sse_feed(&p, chunk, 0) == ret);
	free(chunk);
	*retry = p.retry_ms;
	sse_free(&p);
	return ret;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sse_fz a = { BUF_INIT, 0, 0 }, b = { BUF_INIT, 0, 0 },
	    c = { BUF_INIT, 0, 0 };
	const uint8_t *len;
	long ra, rb, rc;
	int k, sa, sb, sc;

	if (size < 2)
		return 0;
	a.stopat = b.stopat = c.stopat = data[0] & 15;
	k = data[1] & 31;
	if (size - 2 < (size_t)k)
		return 0;
	len = data + 2;
	data += 2 + k;
	size -= 2 + k;
	sa = sse_fz_run(&a, &ra, (const char *)data, size, len, k);
	sb = sse_fz_run(&b, &rb, (const char *)data, size, NULL, 0);
	sc = sse_fz_run(&c, &rc, (const char *)data, size, NULL, -1);
	FUZZ_CHECK(sa == sb && sb == sc);
	FUZZ_CHECK(sa == 0 || sa == 42);
	FUZZ_CHECK(a.n == b.n && b.n == c.n);
	FUZZ_CHECK(fuzz_eq(a.log.s, a.log.len, b.log.s, b.log.len));
	FUZZ_CHECK(fuzz_eq(b.log.s, b.log.len, c.log.s, c.log.len));
	FUZZ_CHECK(ra == rb && rb == rc);
	buf_free(&a.log);
	buf_free(&b.log);
	buf_free(&c.log);
	return 0;
}
