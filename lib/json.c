/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"
#include "jsonint.h"

/*
 * The one place that includes jsmn.  The Debian header carries the
 * implementation unless JSMN_HEADER is defined, so this unit provides it;
 * JSMN_STATIC keeps its symbols out of liboai's namespace.  Parent links
 * cost an int per token but make "," and "]" O(1): without them jsmn
 * rescans all earlier tokens of a container, quadratic on the long
 * number arrays embeddings return.
 */
#define JSMN_STRICT
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#define TOK(j) ((jsmntok_t *)(j)->tok)

/* ---- strict validation ---------------------------------------------- */

/*
 * jsmn alone accepts "tru", "01", "[1,]", trailing garbage and more, so
 * every text is first checked against the RFC 8259 grammar here.  The
 * nesting stack is explicit: hostile input cannot exhaust the C stack.
 */

static size_t
skipws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

int
json_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
isdig(int c)
{
	return c >= '0' && c <= '9';
}

#ifdef CPU_SIMD
#include <immintrin.h>

/* json_plain32() with AVX2: json_special8() a vector at a
 * time (as signed bytes, those below 0x20 and those above 0x7f are the
 * ones less than 0x20) */
CPU_AVX2 static size_t
plain2(const char *p, size_t n)
{
	const __m256i q = _mm256_set1_epi8('"'), b = _mm256_set1_epi8('\\'),
	    sp = _mm256_set1_epi8(0x20);
	__m256i c, x;
	size_t k;

	for (k = 0; k + 32 <= n; k += 32) {
		c = _mm256_loadu_si256((const void *)(p + k));
		x = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(c, q),
		    _mm256_cmpeq_epi8(c, b)), _mm256_cmpgt_epi8(sp, c));
		if (!_mm256_testz_si256(x, x))
			break;
	}
	return k;
}
#endif

size_t
json_plain32(const char *p, size_t n)
{
#ifdef CPU_SIMD
	if (n >= 32 && cpu_avx2())
		return plain2(p, n);
#endif
	(void)p;
	(void)n;
	return 0;
}

/*
 * s[*i] is the opening quote; on success *i is past the closing one.
 * Bytes above 0x7f are valid JSON only inside strings, so UTF-8 is
 * checked here, for the strings that have any: the text is read once,
 * 8 bytes at a time where nothing needs a look (base64 embeddings are
 * long runs of such bytes), then 32 where the CPU can.
 */
static int
vstring(const char *s, size_t n, size_t *i)
{
	size_t p = *i + 1, run;
	int k, high = 0;

	while (p < n) {
		unsigned char c;

		if ((run = json_plain(s + p, n - p)) > 0) {
			p += run;
			continue;
		}
		c = s[p];
		if (c == '"') {
			if (high && utf8_invalid(s + *i + 1, p - *i - 1) !=
			    (size_t)-1)
				return -1;
			*i = p + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			high |= c >= 0x80;
			p++;
			continue;
		}
		if (++p >= n)
			return -1;
		switch (s[p]) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			p++;
			break;
		case 'u':
			for (k = 1; k <= 4; k++)
				if (p + k >= n || json_hexval(s[p + k]) < 0)
					return -1;
			p += 5;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

int
json_vnumber(const char *s, size_t n, size_t *i)
{
	size_t p = *i;

	if (p < n && s[p] == '-')
		p++;
	if (p < n && s[p] == '0')
		p++;
	else if (p < n && isdig(s[p]))
		while (p < n && isdig(s[p]))
			p++;
	else
		return -1;
	if (p < n && s[p] == '.') {
		if (++p >= n || !isdig(s[p]))
			return -1;
		while (p < n && isdig(s[p]))
			p++;
	}
	if (p < n && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < n && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p >= n || !isdig(s[p]))
			return -1;
		while (p < n && isdig(s[p]))
			p++;
	}
	*i = p;
	return 0;
}

static int
vword(const char *s, size_t n, size_t *i, const char *w)
{
	size_t l = strlen(w);

	if (n - *i < l || memcmp(s + *i, w, l) != 0)
		return -1;
	*i += l;
	return 0;
}

static int
validate(const char *s, size_t n)
{
	char stack[JSON_MAX_DEPTH];	/* '}' or ']' expected */
	int depth = 0;
	size_t i;

	/* Bytes above 0x7f: vstring() checks them; elsewhere they fail
	 * the grammar. */
	i = skipws(s, n, 0);
value:
	if (i >= n)
		return -1;
	switch (s[i]) {
	case '{':
	case '[':
		if (depth == JSON_MAX_DEPTH)
			return -1;
		stack[depth++] = s[i] == '{' ? '}' : ']';
		i = skipws(s, n, i + 1);
		if (i < n && s[i] == stack[depth - 1]) {
			i++;
			depth--;
			goto next;
		}
		if (stack[depth - 1] == '}')
			goto key;
		goto value;
	case '"':
		if (vstring(s, n, &i) < 0)
			return -1;
		break;
	case 't':
		if (vword(s, n, &i, "true") < 0)
			return -1;
		break;
	case 'f':
		if (vword(s, n, &i, "false") < 0)
			return -1;
		break;
	case 'n':
		if (vword(s, n, &i, "null") < 0)
			return -1;
		break;
	default:
		if (json_vnumber(s, n, &i) < 0)
			return -1;
		break;
	}
next:
	i = skipws(s, n, i);
	if (depth == 0)
		return i == n ? 0 : -1;
	if (i >= n)
		return -1;
	if (s[i] == stack[depth - 1]) {
		i++;
		depth--;
		goto next;
	}
	if (s[i] != ',')
		return -1;
	i = skipws(s, n, i + 1);
	if (stack[depth - 1] == ']')
		goto value;
key:
	if (i >= n || s[i] != '"' || vstring(s, n, &i) < 0)
		return -1;
	i = skipws(s, n, i);
	if (i >= n || s[i] != ':')
		return -1;
	i = skipws(s, n, i + 1);
	goto value;
}

/* ---- parsing --------------------------------------------------------- */

int
json_parse(struct json *j, const char *src, size_t len)
{
	jsmn_parser p;
	jsmntok_t *t;
	size_t i;
	int r;

	j->src = src;
	j->len = len;
	j->ntok = 0;
	/* jsmn keeps offsets in ints. */
	if (len >= INT_MAX || validate(src, len) < 0)
		return -1;
	if (j->cap == 0) {
		j->cap = 64;
		j->tok = xreallocarray(j->tok, j->cap, sizeof(jsmntok_t));
	}
	i = skipws(src, len, 0);
	if (src[i] != '{' && src[i] != '[' && src[i] != '"') {
		/* Strict jsmn wants a delimiter after a primitive, which a
		 * lone "42" at the end of the text lacks. */
		t = TOK(j);
		t->type = JSMN_PRIMITIVE;
		t->start = (int)i;
		for (t->end = (int)i; (size_t)t->end < len; t->end++)
			if (strchr(" \t\r\n", src[t->end]))
				break;
		t->size = 0;
		t->parent = -1;
		j->ntok = 1;
		return 0;
	}
	jsmn_init(&p);
	/* jsmn resumes where it stopped once given a bigger array. */
	while ((r = jsmn_parse(&p, src, len, j->tok, j->cap)) ==
	    JSMN_ERROR_NOMEM) {
		if (j->cap > INT_MAX / 2)
			return -1;
		j->cap *= 2;
		j->tok = xreallocarray(j->tok, j->cap, sizeof(jsmntok_t));
	}
	/* Validated text that jsmn rejects would be a bug in either. */
	if (r < 1)
		return -1;
	j->ntok = r;
	return 0;
}

void
json_free(struct json *j)
{
	free(j->tok);
	j->src = NULL;
	j->len = 0;
	j->tok = NULL;
	j->ntok = j->cap = 0;
}

/* ---- access ---------------------------------------------------------- */

static const jsmntok_t *
tok(const struct json *j, int t)
{
	if (t < 0 || t >= j->ntok)
		return NULL;
	return &TOK(j)[t];
}

enum json_type
json_type(const struct json *j, int t)
{
	const jsmntok_t *k = tok(j, t);

	if (!k)
		return JSON_NONE;
	switch (k->type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	case JSMN_PRIMITIVE:
		return JSON_PRIMITIVE;
	default:
		return JSON_NONE;
	}
}

int
json_size(const struct json *j, int t)
{
	const jsmntok_t *k = tok(j, t);

	if (!k || (k->type != JSMN_OBJECT && k->type != JSMN_ARRAY))
		return 0;
	return k->size;
}

int
json_skip(const struct json *j, int t)
{
	/* Tokens are in document order and each one's size counts its
	 * direct children (a key has its value as its one child). */
	int left = 1;

	if (t < 0)
		return -1;
	for (; left > 0 && t < j->ntok; t++)
		left += TOK(j)[t].size - 1;
	return t;
}

/*
 * Decode the escape at p[0] == '\\' (validated) into out; return the
 * number of bytes written and set *used to the bytes consumed.
 */
size_t
json_unesc(const char *p, const char *end, char out[4], size_t *used)
{
	unsigned long c, lo;

	*used = 2;
	switch (p[1]) {
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u': break;
	default: out[0] = p[1]; return 1;
	}
	c = (unsigned long)json_hexval(p[2]) << 12 |
	    json_hexval(p[3]) << 8 | json_hexval(p[4]) << 4 |
	    json_hexval(p[5]);
	*used = 6;
	if (c >= 0xd800 && c <= 0xdbff && end - p >= 12 && p[6] == '\\' &&
	    p[7] == 'u') {
		lo = (unsigned long)json_hexval(p[8]) << 12 |
		    json_hexval(p[9]) << 8 | json_hexval(p[10]) << 4 |
		    json_hexval(p[11]);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			*used = 12;
		}
	}
	/* A lone surrogate has no UTF-8 form. */
	if (c >= 0xd800 && c <= 0xdfff)
		c = 0xfffd;
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Is string token t equal to s[0..n) after unescaping?  No allocation:
 * this runs for every key json_get() looks at. */
static int
streqn(const struct json *j, int t, const char *s, size_t n)
{
	const jsmntok_t *k = tok(j, t);
	const char *p, *end, *q;
	char u[4];
	size_t used, l, run;

	if (!k || k->type != JSMN_STRING)
		return 0;
	p = j->src + k->start;
	end = j->src + k->end;
	while (p < end) {
		if (*p == '\\') {
			l = json_unesc(p, end, u, &used);
			if (l > n || memcmp(u, s, l) != 0)
				return 0;
			p += used;
		} else {
			q = memchr(p, '\\', end - p);
			run = (q ? q : end) - p;
			if (run > n || memcmp(p, s, run) != 0)
				return 0;
			l = run;
			p += run;
		}
		s += l;
		n -= l;
	}
	return n == 0;
}

int
json_streq(const struct json *j, int t, const char *s)
{
	return streqn(j, t, s, strlen(s));
}

static int
getn(const struct json *j, int t, const char *key, size_t n)
{
	const jsmntok_t *k = tok(j, t);
	int i, m;

	if (!k || k->type != JSMN_OBJECT)
		return -1;
	for (i = t + 1, m = 0; m < k->size; m++, i = json_skip(j, i + 1))
		if (streqn(j, i, key, n))
			return i + 1;
	return -1;
}

int
json_get(const struct json *j, int t, const char *key)
{
	return getn(j, t, key, strlen(key));
}

int
json_at(const struct json *j, int t, int i)
{
	const jsmntok_t *k = tok(j, t);
	int e;

	if (!k || k->type != JSMN_ARRAY || i < 0 || i >= k->size)
		return -1;
	for (e = t + 1; i > 0; i--)
		e = json_skip(j, e);
	return e;
}

int
json_path(const struct json *j, int t, const char *path)
{
	const char *c, *dot;
	size_t n, k;
	long idx;

	for (c = path; t >= 0; c = dot + 1) {
		dot = strchr(c, '.');
		n = dot ? (size_t)(dot - c) : strlen(c);
		if (json_type(j, t) == JSON_ARRAY) {
			/* Plain decimal only: "01" or "+1" name no element. */
			if (n == 0 || n > 9 || (c[0] == '0' && n > 1))
				return -1;
			for (idx = 0, k = 0; k < n; k++) {
				if (!isdig(c[k]))
					return -1;
				idx = idx * 10 + (c[k] - '0');
			}
			t = json_at(j, t, (int)idx);
		} else
			t = getn(j, t, c, n);
		if (!dot)
			break;
	}
	return t;
}

const char *
json_raw(const struct json *j, int t, size_t *len)
{
	const jsmntok_t *k = tok(j, t);

	if (!k) {
		*len = 0;
		return NULL;
	}
	*len = k->end - k->start;
	return j->src + k->start;
}

const char *
json_text(const struct json *j, int t, size_t *len)
{
	const jsmntok_t *k = tok(j, t);

	if (!k) {
		*len = 0;
		return NULL;
	}
	if (k->type == JSMN_STRING) {
		*len = k->end - k->start + 2;
		return j->src + k->start - 1;
	}
	*len = k->end - k->start;
	return j->src + k->start;
}

int
json_is_null(const struct json *j, int t)
{
	const jsmntok_t *k = tok(j, t);

	return !k || (k->type == JSMN_PRIMITIVE && j->src[k->start] == 'n');
}

int
json_is_true(const struct json *j, int t)
{
	const jsmntok_t *k = tok(j, t);

	return k && k->type == JSMN_PRIMITIVE && j->src[k->start] == 't';
}

int
json_str(const struct json *j, int t, struct buf *b)
{
	const jsmntok_t *k = tok(j, t);
	const char *p, *end, *q;
	char u[4];
	size_t used;

	if (!k || k->type != JSMN_STRING)
		return -1;
	p = j->src + k->start;
	end = j->src + k->end;
	buf_grow(b, end - p);
	while (p < end) {
		if (*p == '\\') {
			buf_add(b, u, json_unesc(p, end, u, &used));
			p += used;
		} else {
			q = memchr(p, '\\', end - p);
			if (!q)
				q = end;
			buf_add(b, p, q - p);
			p = q;
		}
	}
	return 0;
}

char *
json_strdup(const struct json *j, int t)
{
	struct buf b = BUF_INIT;

	if (json_str(j, t, &b) < 0)
		return NULL;
	return buf_steal(&b, NULL);
}

/* Copy number token t into a NUL-terminated string for strto*(): the
 * source text need not be terminated after it.  NULL if not a number. */
static char *
numtext(const struct json *j, int t, char *small, size_t smallsz)
{
	const jsmntok_t *k = tok(j, t);
	size_t n;
	char *s;

	if (!k || k->type != JSMN_PRIMITIVE)
		return NULL;
	if (j->src[k->start] != '-' && !isdig(j->src[k->start]))
		return NULL;
	n = k->end - k->start;
	s = n < smallsz ? small : xmalloc(n + 1);
	memcpy(s, j->src + k->start, n);
	s[n] = '\0';
	return s;
}

int
json_num(const struct json *j, int t, double *v)
{
	char small[64], *s;
	double d;

	if (!(s = numtext(j, t, small, sizeof small)))
		return -1;
	/* LC_NUMERIC stays "C" (only the interactive chat sets LC_CTYPE,
	 * lib/lineedit.c), so strtod() reads '.'. */
	d = strtod(s, NULL);
	if (s != small)
		free(s);
	/* Underflow to 0 is a fine answer; overflow is not a number. */
	if (isinf(d))
		return -1;
	*v = d;
	return 0;
}

int
json_int(const struct json *j, int t, long long *v)
{
	char small[64], *s;
	long long n;
	int r = 0;

	if (!(s = numtext(j, t, small, sizeof small)))
		return -1;
	if (strpbrk(s, ".eE"))
		r = -1;
	else {
		errno = 0;
		n = strtoll(s, NULL, 10);
		if (errno == ERANGE)
			r = -1;
		else
			*v = n;
	}
	if (s != small)
		free(s);
	return r;
}

/* ---- writing --------------------------------------------------------- */

void
jw_init(struct jw *w, struct buf *b)
{
	w->b = b;
	w->depth = 0;
	w->after_key = 0;
	w->first[0] = 1;
}

/* Before every value and key: a comma unless it is the first member. */
static void
sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth - 1])
			buf_addc(w->b, ',');
		w->first[w->depth - 1] = 0;
	}
}

static void
wopen(struct jw *w, int c)
{
	sep(w);
	if (w->depth == JSON_MAX_DEPTH)
		die(OAI_EX_USAGE, "JSON nesting deeper than %d", JSON_MAX_DEPTH);
	w->first[w->depth++] = 1;
	buf_addc(w->b, c);
}

static void
wclose(struct jw *w, int c)
{
	if (w->depth > 0)
		w->depth--;
	w->after_key = 0;
	buf_addc(w->b, c);
}

void
jw_obj(struct jw *w)
{
	wopen(w, '{');
}

void
jw_obj_end(struct jw *w)
{
	wclose(w, '}');
}

void
jw_arr(struct jw *w)
{
	wopen(w, '[');
}

void
jw_arr_end(struct jw *w)
{
	wclose(w, ']');
}

void
jw_key(struct jw *w, const char *key)
{
	sep(w);
	json_quote(w->b, key, strlen(key));
	buf_addc(w->b, ':');
	w->after_key = 1;
}

void
jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	sep(w);
	json_quote(w->b, s, n);
}

void
jw_int(struct jw *w, long long v)
{
	sep(w);
	buf_printf(w->b, "%lld", v);
}

void
jw_num(struct jw *w, double v)
{
	char s[64];
	size_t i, o;
	int prec;

	if (isnan(v) || isinf(v)) {
		jw_null(w);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(s, sizeof s, "%.17g", v);
	/* Whatever the locale made of the decimal point (possibly several
	 * bytes), JSON wants '.'. */
	for (i = o = 0; s[i]; i++) {
		if (isdig(s[i]) || strchr("+-eE", s[i]))
			s[o++] = s[i];
		else if (o == 0 || s[o - 1] != '.')
			s[o++] = '.';
	}
	s[o] = '\0';
	sep(w);
	buf_adds(w->b, s);
}

void
jw_bool(struct jw *w, int v)
{
	sep(w);
	buf_adds(w->b, v ? "true" : "false");
}

void
jw_null(struct jw *w)
{
	sep(w);
	buf_adds(w->b, "null");
}

void
jw_raw(struct jw *w, const char *json, size_t n)
{
	sep(w);
	buf_add(w->b, json, n);
}

void
json_quote(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t bad, i, run;
	unsigned char c;
	char e[7];

	if ((bad = utf8_invalid(s, n)) != (size_t)-1)
		die(OAI_EX_USAGE, "input is not valid UTF-8 at byte offset %zu",
		    bad);
	buf_grow(b, n + 2);
	buf_addc(b, '"');
	for (i = 0; i < n; i += run) {
		/* Copy runs that need no escape in one go. */
		for (run = 0; i + run < n; run++) {
			c = s[i + run];
			if (c < 0x20 || c == '"' || c == '\\')
				break;
		}
		if (run) {
			buf_add(b, s + i, run);
			continue;
		}
		c = s[i];
		run = 1;
		e[0] = '\\';
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		default:
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			buf_add(b, e, 6);
			continue;
		}
		buf_add(b, e, 2);
	}
	buf_addc(b, '"');
}

void
json_compact(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;
	int instr = 0;

	buf_grow(b, n);
	for (i = 0; i < n; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
		} else if (s[i] == '"')
			instr = 1;
		else if (s[i] && strchr(" \t\r\n", s[i])) {
			buf_add(b, s + start, i - start);
			start = i + 1;
		}
	}
	if (start < n)
		buf_add(b, s + start, n - start);
}
