/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>

#include "oai.h"
#include "jsonint.h"

/*
 * JSON read as it arrives, one chunk at a time, checked against the
 * same grammar as json_parse() (json.c's pieces, through jsonint.h),
 * and reported value by value to a callback that knows where each one
 * sits.  Nothing of the text is kept but the number or escape being
 * read and the names of the members open, so a 17 MB embeddings answer
 * costs a few hundred bytes here; strings come in pieces, plain runs
 * straight from the chunk (8 bytes at a time where nothing needs a
 * look, 32 with AVX2), escapes decoded.
 */

enum {
	S_VALUE,	/* a value */
	S_FIRST,	/* a value or ']' (right after '[') */
	S_KEY,		/* a member name or '}' (right after '{') */
	S_NEXTKEY,	/* a member name (after ',') */
	S_COLON,
	S_AFTER,	/* ',' or the end of the container */
	S_STR,
	S_ESC,		/* in an escape: esc[0..esclen) */
	S_NUM,
	S_WORD,		/* true, false, null */
	S_END		/* the value is whole: only white space may follow */
};

void
jscan_init(struct jscan *s, jscan_cb cb, void *ctx)
{
	memset(s, 0, sizeof *s);
	s->cb = cb;
	s->ctx = ctx;
	buf_init(&s->tok);
}

void
jscan_record(struct jscan *s, struct buf *b)
{
	s->rec = b;
	s->recdepth = s->depth;
	s->recnew = 1;
	buf_addc(b, s->opench);
}

void
jscan_reset(struct jscan *s)
{
	s->rec = NULL;
	s->recnew = s->recend = 0;
	s->depth = 0;
	s->state = S_VALUE;
	s->u8need = 0;
	s->esclen = 0;
	s->off = 0;
	s->failed = 0;
	buf_reset(&s->tok);
}

void
jscan_free(struct jscan *s)
{
	free(s->f);
	s->f = NULL;
	s->cap = 0;
	buf_free(&s->tok);
}

int
jscan_at(const struct jscan *s, const char *path)
{
	const struct jscan_frame *f;
	const char *e;
	size_t n;
	int d;

	for (d = 0; d < s->depth; d++) {
		if (!*path)
			return 0;
		e = strchr(path, '.');
		n = e ? (size_t)(e - path) : strlen(path);
		f = &s->f[d];
		if (n == 1 && *path == '*') {
			if (f->obj)
				return 0;
		} else {
			if (f->obj) {
				if (f->keylen != n || n > JSCAN_KEYMAX ||
				    memcmp(f->key, path, n) != 0)
					return 0;
			} else if (strtoll(path, NULL, 10) != f->n)
				return 0;
		}
		path += n;
		if (*path == '.')
			path++;
	}
	return *path == '\0';
}

static int
emit(struct jscan *s, enum jscan_ev ev, const char *p, size_t n)
{
	return s->cb(s->ctx, s, ev, p, n);
}

/* A piece of the string being read: its member name, or a value. */
static int
piece(struct jscan *s, const char *p, size_t n)
{
	struct jscan_frame *f;
	size_t k;

	if (!s->iskey)
		return n ? emit(s, JSCAN_STR, p, n) : 0;
	f = &s->f[s->depth - 1];
	if (f->keylen < JSCAN_KEYMAX) {
		k = JSCAN_KEYMAX - f->keylen < n ? JSCAN_KEYMAX - f->keylen : n;
		memcpy(f->key + f->keylen, p, k);
	}
	f->keylen += n;
	return 0;
}

static int
push(struct jscan *s, int obj)
{
	struct jscan_frame *f;

	if (s->depth == JSON_MAX_DEPTH)
		return -1;
	if (s->depth == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->f = xreallocarray(s->f, (size_t)s->cap, sizeof *s->f);
	}
	f = &s->f[s->depth++];
	f->obj = obj;
	f->n = 0;
	f->keylen = 0;
	s->state = obj ? S_KEY : S_FIRST;
	return 0;
}

/* A value ended (its event sent). */
static void
valdone(struct jscan *s)
{
	s->state = s->depth ? S_AFTER : S_END;
}

/* The end of the innermost container. */
static int
pop(struct jscan *s)
{
	int obj = s->f[--s->depth].obj;

	if (s->rec && s->depth == s->recdepth)
		s->recend = 1;

	valdone(s);
	return emit(s, obj ? JSCAN_OBJ_END : JSCAN_ARR_END, NULL, 0);
}

static int
isws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
isnum(int c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
	    c == 'e' || c == 'E';
}

/*
 * The number in tok is whole: check and report it.  (Most numbers never
 * get here: see fastnum().)
 */
static int
numdone(struct jscan *s)
{
	size_t i = 0;

	if (json_vnumber(s->tok.s, s->tok.len, &i) < 0 || i != s->tok.len)
		return -1;
	s->num = f32_parse(s->tok.s);
	valdone(s);
	return emit(s, JSCAN_NUM, s->tok.s, s->tok.len);
}

/*
 * A number that lies whole in the chunk at p[0..n), checked and read in
 * place in one pass (f32_scan()), with no copy into tok: 1 and *r the
 * callback's answer, or 0 when it is not one (cut by the chunk's end,
 * not JSON, or one for strtod), for the byte-by-byte way, which has the
 * last word.  f32_scan() only takes what that way takes: a number that
 * json_vnumber() reads whole and a byte that cannot continue it (so
 * that the run of number bytes there ends there too).
 */
static int
fastnum(struct jscan *s, const char *p, size_t n, size_t *ip, int *r)
{
	size_t k = f32_scan(p + *ip, n - *ip, &s->num);

	if (k == 0)
		return 0;
	valdone(s);
	*r = emit(s, JSCAN_NUM, p + *ip, k);
	*ip += k;
	return 1;
}

/* Start the value that begins with c. */
static int
value(struct jscan *s, int c)
{
	int r;

	switch (c) {
	case '{':
	case '[':
		/* reported where it sits, before it is entered */
		s->opench = c;
		if ((r = emit(s, c == '{' ? JSCAN_OBJ : JSCAN_ARR, NULL, 0)))
			return r;
		return push(s, c == '{');
	case '"':
		s->iskey = 0;
		s->state = S_STR;
		return 0;
	case 't':
		s->word = "true";
		break;
	case 'f':
		s->word = "false";
		break;
	case 'n':
		s->word = "null";
		break;
	default:
		if (c != '-' && !(c >= '0' && c <= '9'))
			return -1;
		buf_reset(&s->tok);
		buf_addc(&s->tok, c);
		s->state = S_NUM;
		return 0;
	}
	s->wordpos = 1;
	s->state = S_WORD;
	return 0;
}

/*
 * The escape in esc[0..esclen) is whole: decode it.  A high surrogate
 * waits for the low one that may follow; one that does not come is
 * U+FFFD, as json_str() makes it.
 */
static int
escdone(struct jscan *s)
{
	char u[4];
	size_t used, l;
	int r;

	for (;;) {
		if (s->esclen == 6 && s->esc[1] == 'u' &&
		    (s->esc[2] == 'd' || s->esc[2] == 'D') &&
		    strchr("89abAB", s->esc[3]))
			return 0;	/* perhaps a pair: wait for more */
		l = json_unesc(s->esc, s->esc + s->esclen, u, &used);
		if ((r = piece(s, u, l)) != 0)
			return r;
		memmove(s->esc, s->esc + used, (size_t)s->esclen - used);
		s->esclen -= (int)used;
		if (s->esclen == 0)
			return 0;
	}
}

/* One byte c of an escape; AGAIN when c is to be read again as a byte
 * of the string. */
#define AGAIN (-2)

static int
escbyte(struct jscan *s, int c)
{
	int r;

	if (s->esclen == 6 || s->esclen == 7) {
		/* after a high surrogate: the "\u" of its pair, or not */
		if (c == (s->esclen == 6 ? '\\' : 'u')) {
			s->esc[s->esclen++] = (char)c;
			return 0;
		}
		/* alone: U+FFFD, as json_str() makes it */
		if ((r = piece(s, "\xef\xbf\xbd", 3)) != 0)
			return r;
		if (s->esclen == 6) {
			s->esclen = 0;
			s->state = S_STR;
			return AGAIN;
		}
		s->esc[0] = '\\';	/* the '\\' read begins another */
		s->esclen = 1;
	}
	if (s->esclen == 1) {
		if (c == 0 || !strchr("u\"\\/bfnrt", c))
			return -1;
		s->esc[s->esclen++] = (char)c;
		if (c == 'u')
			return 0;
	} else {
		if (json_hexval(c) < 0)
			return -1;
		s->esc[s->esclen++] = (char)c;
		if (s->esclen != 6 && s->esclen != 12)
			return 0;
	}
	if ((r = escdone(s)) != 0)
		return r;
	if (s->esclen == 0)
		s->state = S_STR;
	return 0;
}

/* The first byte c (above 0x7f) of a UTF-8 sequence: what must follow
 * (no overlongs, no surrogates, nothing above U+10FFFF). */
static int
utf8start(struct jscan *s, int c)
{
	s->u8lo = 0x80;
	s->u8hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		s->u8need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		s->u8need = 2;
		if (c == 0xe0)
			s->u8lo = 0xa0;
		else if (c == 0xed)
			s->u8hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		s->u8need = 3;
		if (c == 0xf0)
			s->u8lo = 0x90;
		else if (c == 0xf4)
			s->u8hi = 0x8f;
	} else
		return -1;
	return 0;
}

/* Inside a string, from p[*ip]: plain runs go out as they are. */
static int
str(struct jscan *s, const char *p, size_t n, size_t *ip)
{
	size_t i = *ip, start = i, k;
	int c, r;

	while (i < n) {
		c = (unsigned char)p[i];
		if (s->u8need) {
			if (c < s->u8lo || c > s->u8hi)
				return -1;
			s->u8lo = 0x80;
			s->u8hi = 0xbf;
			s->u8need--;
			i++;
			continue;
		}
		if ((k = json_plain(p + i, n - i)) > 0) {
			i += k;
			continue;
		}
		if (c >= 0x80) {
			if (utf8start(s, c) < 0)
				return -1;
			i++;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c < 0x20)
			return -1;
		if ((r = piece(s, p + start, i - start)) != 0)
			return r;
		*ip = i + 1;
		if (c == '\\') {
			s->esc[0] = '\\';
			s->esclen = 1;
			s->state = S_ESC;
			return 0;
		}
		if (s->iskey) {
			s->state = S_COLON;
			return 0;
		}
		valdone(s);
		return emit(s, JSCAN_STR_END, NULL, 0);
	}
	*ip = i;
	return piece(s, p + start, i - start);
}

/* Between values: white space, and the punctuation expected. */
static int
punct(struct jscan *s, int c)
{
	struct jscan_frame *f = s->depth ? &s->f[s->depth - 1] : NULL;

	switch (s->state) {
	case S_VALUE:
		return value(s, c);
	case S_FIRST:
		return c == ']' ? pop(s) : value(s, c);
	case S_KEY:
	case S_NEXTKEY:
		if (c == '}' && s->state == S_KEY)
			return pop(s);
		if (c != '"')
			return -1;
		s->iskey = 1;
		f->keylen = 0;
		s->state = S_STR;
		return 0;
	case S_COLON:
		if (c != ':')
			return -1;
		s->state = S_VALUE;
		return 0;
	case S_AFTER:
		if (c == ',') {
			f->n++;
			s->state = f->obj ? S_NEXTKEY : S_VALUE;
			return 0;
		}
		return c == (f->obj ? '}' : ']') ? pop(s) : -1;
	default:	/* S_END */
		return -1;
	}
}

/* jscan_record(): the recording began or ended before p[i]. */
static void
record(struct jscan *s, const char *p, size_t i)
{
	if (s->recnew) {
		s->recfrom = i;
		s->recnew = 0;
	}
	if (s->recend) {
		buf_add(s->rec, p + s->recfrom, i - s->recfrom);
		s->rec = NULL;
		s->recend = 0;
	}
}

int
jscan_feed(struct jscan *s, const char *p, size_t n)
{
	size_t i = 0, start;
	int c, r = 0;

	if (s->failed)
		return s->failed;
	s->recfrom = 0;
	while (i < n && r == 0) {
		record(s, p, i);
		c = (unsigned char)p[i];
		switch (s->state) {
		case S_STR:
			r = str(s, p, n, &i);
			break;
		case S_NUM:
			start = i;
			while (i < n && isnum((unsigned char)p[i]))
				i++;
			buf_add(&s->tok, p + start, i - start);
			if (i < n)
				r = numdone(s);
			break;
		case S_ESC:
			i++;
			if ((r = escbyte(s, c)) == AGAIN) {
				i--;
				r = 0;
			}
			break;
		case S_WORD:
			i++;
			if (c != s->word[s->wordpos])
				r = -1;
			else if (!s->word[++s->wordpos]) {
				valdone(s);
				r = emit(s, *s->word == 't' ? JSCAN_TRUE :
				    *s->word == 'f' ? JSCAN_FALSE : JSCAN_NULL,
				    s->word, (size_t)s->wordpos);
			}
			break;
		case S_VALUE:
		case S_FIRST:
			if ((c == '-' || (c >= '0' && c <= '9')) &&
			    fastnum(s, p, n, &i, &r))
				break;
			/* FALLTHROUGH */
		default:
			i++;
			if (!isws(c))
				r = punct(s, c);
		}
	}
	record(s, p, i);
	if (s->rec)
		buf_add(s->rec, p + s->recfrom, i - s->recfrom);
	s->off += i;
	return s->failed = r;
}

int
jscan_end(struct jscan *s)
{
	if (s->failed)
		return s->failed;
	if (s->state == S_NUM && s->depth == 0 && (s->failed = numdone(s)))
		return s->failed;
	return s->state == S_END ? 0 : (s->failed = -1);
}
