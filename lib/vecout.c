/* See LICENSE file for copyright and license details. */
#include <stdint.h>
#include <string.h>

#include "oai.h"

/*
 * One embedding vector as oai-embed prints it, for every tool that
 * prints vectors (oai-embed, oai-batch -e embeddings --lines), so that
 * their outputs are the same bytes.
 */

const char *const vec_formats[] = { "jsonl", "tsv", "f32", NULL };

#define MAXTOKENS 8192		/* the models' tokens per input */

size_t
vec_tokens(size_t n)
{
	/* a token takes at least one byte; 3 bytes a token is a safe
	 * guess for text */
	return (n + 2) / 3;
}

int
vec_checkinput(struct buf *why, const char *where, const char *s, size_t n)
{
	if (n == 0) {
		buf_printf(why, "%s: empty input (the API rejects it; "
		    "--skip-empty skips it)", where);
		return -1;
	}
	if (input_checkmsg(why, where, s, n, 1) < 0)
		return -1;
	if (vec_tokens(n) > MAXTOKENS) {
		buf_printf(why, "%s: input too long (%zu bytes, about %zu "
		    "tokens; the model takes %d)", where, n, vec_tokens(n),
		    MAXTOKENS);
		return -1;
	}
	return 0;
}

void
vec_write(struct buf *line, int format, long long index, const char *text,
    size_t tl, const unsigned char *v, int dims)
{
	char *s;
	size_t n;

	if (format == VEC_F32) {
		/* v is little-endian already, as f32 is */
		out_add(v, (size_t)dims * 4);
		return;
	}
	buf_reset(line);
	if (format == VEC_JSONL) {
		buf_printf(line, "{\"index\":%lld,", index);
		if (text) {
			buf_adds(line, "\"text\":");
			json_quote(line, text, tl);
			buf_addc(line, ',');
		}
		buf_adds(line, "\"embedding\":[");
	}
	out_add(line->s, line->len);
	/* the numbers straight into standard output's buffer, at most
	 * F32_BUFSIZE bytes each with its separator (an embedding's line
	 * is some 18 KB: a copy of it cost 2% of the time) */
	s = out_reserve((size_t)dims * F32_BUFSIZE + 3);
	n = f32_list(s, v, (size_t)dims, format == VEC_TSV ? '\t' : ',');
	if (format == VEC_JSONL)
		s[n++] = ']', s[n++] = '}';
	s[n++] = '\n';
	out_commit(n);
}

void
vec_addf32(struct buf *vec, float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if (vec->cap - vec->len < 5)	/* and the NUL after */
		buf_grow(vec, 4);
	le32_put((unsigned char *)vec->s + vec->len, u);
	vec->len += 4;
	vec->s[vec->len] = '\0';
}

void
vec_addnum(struct buf *vec, const char *p)
{
	vec_addf32(vec, f32_parse(p));
}

int
vec_addarray(struct buf *vec, const struct json *j, int t)
{
	int i, n = json_size(j, t);
	const char *s;
	size_t len;

	buf_grow(vec, (size_t)n * 4);
	for (i = 0, t++; i < n; i++, t = json_skip(j, t)) {
		s = json_raw(j, t, &len);
		/* json_parse() checked the number's text; the type tells it
		 * from true, false and null */
		if (json_type(j, t) != JSON_PRIMITIVE ||
		    (*s != '-' && (*s < '0' || *s > '9')))
			return -1;
		vec_addnum(vec, s);
	}
	return 0;
}
