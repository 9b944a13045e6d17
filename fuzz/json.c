/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: the JSON reader.  Parse the bytes; when they parse,
 * walk every token through every accessor and check what must hold:
 * subtrees and raw text stay inside the input, unescaped strings are
 * valid UTF-8 and survive json_quote() + json_parse() + json_str()
 * byte for byte, json_int() implies json_num().
 */
#include "fuzz.h"

static void
json_fz_string(const struct json *j, int t, struct buf *b)
{
	struct json j2 = JSON_INIT;
	struct buf q = BUF_INIT, b2 = BUF_INIT;
	char *d;

	buf_reset(b);
	FUZZ_CHECK(json_str(j, t, b) == 0);
	FUZZ_CHECK(b->len == 0 || utf8_invalid(b->s, b->len) == (size_t)-1);
	d = json_strdup(j, t);
	FUZZ_CHECK(d && fuzz_eq(d, strlen(d), b->s, strlen(b->s ? b->s : "")));
	free(d);
	if (b->len && !memchr(b->s, '\0', b->len))
		FUZZ_CHECK(json_streq(j, t, b->s));
	json_quote(&q, b->len ? b->s : "", b->len);
	FUZZ_CHECK(json_parse(&j2, q.s, q.len) == 0);
	FUZZ_CHECK(json_type(&j2, 0) == JSON_STRING);
	FUZZ_CHECK(json_str(&j2, 0, &b2) == 0);
	FUZZ_CHECK(fuzz_eq(b->s, b->len, b2.s, b2.len));
	json_free(&j2);
	buf_free(&q);
	buf_free(&b2);
}

static void
json_fz_walk(const struct json *j, const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	const char *r;
	enum json_type ty;
	size_t rl;
	double d;
	long long ll;
	int t, i, k, m, next;

	for (t = 0; t < j->ntok; t++) {
		ty = json_type(j, t);
		FUZZ_CHECK(ty != JSON_NONE);
		next = json_skip(j, t);
		FUZZ_CHECK(next > t && next <= j->ntok);
		r = json_raw(j, t, &rl);
		FUZZ_CHECK(r >= s && rl <= n && (size_t)(r - s) <= n - rl);
		r = json_text(j, t, &rl);
		FUZZ_CHECK(r >= s && rl <= n && (size_t)(r - s) <= n - rl);
		switch (ty) {
		case JSON_STRING:
			json_fz_string(j, t, &b);
			FUZZ_CHECK(json_num(j, t, &d) < 0);
			break;
		case JSON_PRIMITIVE:
			FUZZ_CHECK(json_str(j, t, &b) < 0);
			if (json_int(j, t, &ll) == 0)
				FUZZ_CHECK(json_num(j, t, &d) == 0);
			if (json_num(j, t, &d) == 0)
				FUZZ_CHECK(!json_is_null(j, t) &&
				    !json_is_true(j, t));
			break;
		case JSON_ARRAY:
			m = json_size(j, t);
			for (i = 0; i < m && i < 8; i++)
				FUZZ_CHECK(json_at(j, t, i) > t);
			FUZZ_CHECK(json_at(j, t, m) == -1);
			FUZZ_CHECK(json_get(j, t, "a") == -1);
			break;
		case JSON_OBJECT:
			m = json_size(j, t);
			/* Every key finds a value (the first with that key). */
			for (i = 0, k = t + 1; i < m && i < 8;
			    i++, k = json_skip(j, k + 1)) {
				FUZZ_CHECK(json_type(j, k) == JSON_STRING);
				buf_reset(&b);
				json_str(j, k, &b);
				if (b.len && !memchr(b.s, '\0', b.len))
					FUZZ_CHECK(json_get(j, t, b.s) > t);
			}
			FUZZ_CHECK(json_at(j, t, 0) == -1);
			break;
		default:
			break;
		}
	}
	/* The paths the tools follow. */
	json_path(j, 0, "error.message");
	json_path(j, 0, "choices.0.delta.content");
	json_path(j, 0, "data.0.embedding");
	json_path(j, 0, "0.0.0");
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json j = JSON_INIT;
	char *s = fuzz_dup(data, size);
	int ntok;

	if (json_parse(&j, s, size) == 0) {
		FUZZ_CHECK(j.ntok >= 1);
		json_fz_walk(&j, s, size);
		/* Parsing again into the same struct reuses its memory. */
		ntok = j.ntok;
		FUZZ_CHECK(json_parse(&j, s, size) == 0 && j.ntok == ntok);
	}
	json_free(&j);
	free(s);
	return 0;
}
