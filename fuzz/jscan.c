/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: the streaming JSON reader (jscan, what oai-embed
 * decodes answers with as they arrive).  The first byte picks how the
 * rest is cut into chunks; the document is read whole and then in those
 * chunks, and both readings must report the same events (strings joined
 * from their pieces, numbers with their text and float32 value, where
 * each value sits) and end the same way.  A number's value is
 * (float)strtod of its text, and the reader accepts exactly what
 * json_parse() accepts.
 */
#include <math.h>

#include "fuzz.h"

struct jscan_fz_log {
	struct buf b;		/* the events, one line each */
	struct buf str;		/* the string being joined */
};

static int
jscan_fz_cb(void *ctx, struct jscan *s, enum jscan_ev ev, const char *p,
    size_t n)
{
	struct jscan_fz_log *l = ctx;
	const struct jscan_frame *f;
	char *t;
	float v;

	if (ev == JSCAN_STR) {
		FUZZ_CHECK(p != NULL || n == 0);
		if (n)
			buf_add(&l->str, p, n);
		return 0;
	}
	buf_printf(&l->b, "%d %d", (int)ev, s->depth);
	if (s->depth > 0) {
		f = &s->f[s->depth - 1];
		buf_printf(&l->b, " %c%lld", f->obj ? 'o' : 'a', f->n);
		if (f->obj)
			buf_add(&l->b, f->key, f->keylen < JSCAN_KEYMAX ?
			    f->keylen : JSCAN_KEYMAX);
	}
	if (ev == JSCAN_STR_END) {
		buf_addc(&l->b, ' ');
		buf_add(&l->b, l->str.s ? l->str.s : "", l->str.len);
		buf_reset(&l->str);
	} else if (ev == JSCAN_NUM) {
		FUZZ_CHECK(p != NULL && n > 0);
		t = xstrndup(p, n);
		v = (float)strtod(t, NULL);
		FUZZ_CHECK(memcmp(&v, &s->num, sizeof v) == 0 ||
		    (isnan(v) && isnan(s->num)));
		buf_printf(&l->b, " %s", t);
		free(t);
	}
	buf_addc(&l->b, '\n');
	return 0;
}

/* Read d[0..n) in chunks whose sizes come from seed (0: whole). */
static int
jscan_fz_read(struct jscan_fz_log *l, const char *d, size_t n,
    unsigned seed)
{
	struct jscan s;
	size_t off = 0, k;
	int rc = 0;

	jscan_init(&s, jscan_fz_cb, l);
	while (off < n && rc == 0) {
		k = n - off;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			k = (seed >> 16) % 19;	/* empty chunks too */
			if (k > n - off)
				k = n - off;
		}
		rc = jscan_feed(&s, d + off, k);
		off += k;
	}
	if (rc == 0)
		rc = jscan_end(&s);
	jscan_free(&s);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jscan_fz_log a = { BUF_INIT, BUF_INIT }, b = { BUF_INIT,
	    BUF_INIT };
	struct json j = JSON_INIT;
	char *d;
	int ra, rb;

	if (size < 1)
		return 0;
	d = fuzz_dup(data + 1, size - 1);
	ra = jscan_fz_read(&a, d, size - 1, 0);
	rb = jscan_fz_read(&b, d, size - 1, data[0] | 0x100u);
	FUZZ_CHECK(ra == rb);
	FUZZ_CHECK(ra == 0 || ra == -1);
	/* Events up to where the text stopped being JSON are the same
	 * too (a cut chunk can only delay them). */
	FUZZ_CHECK(fuzz_eq(a.b.s, a.b.len, b.b.s, b.b.len));
	FUZZ_CHECK((ra == 0) == (json_parse(&j, d, size - 1) == 0));
	json_free(&j);
	buf_free(&a.b);
	buf_free(&a.str);
	buf_free(&b.b);
	buf_free(&b.str);
	free(d);
	return 0;
}
