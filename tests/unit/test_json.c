/* See LICENSE file for copyright and license details. */
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oai.h"

#include "tap.h"

/* Printable form of bytes for diagnostics. */
static const char *
show(const char *s, size_t n)
{
	static char out[4][256];
	static int which;
	char *o = out[which++ & 3];
	size_t i, k = 0;

	for (i = 0; i < n && k < sizeof out[0] - 8; i++) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			o[k++] = c;
		else
			k += snprintf(o + k, 8, "\\x%02x", c);
	}
	if (i < n)
		memcpy(o + k, "...", 4);
	else
		o[k] = '\0';
	return o;
}

struct doc {
	const char *name;
	const char *s;
	size_t n;	/* 0: strlen(s) */
};

#define D(name, lit) { name, lit, sizeof lit - 1 }

static const struct doc invalid[] = {
	D("empty", ""),
	D("whitespace only", " \n\t "),
	D("tru", "tru"),
	D("truee", "truee"),
	D("nul", "nul"),
	D("True", "True"),
	D("fals", "[fals]"),
	D("leading zero 01", "01"),
	D("leading zero -01", "-01"),
	D("leading zero in array", "[00]"),
	D("1.", "1."),
	D(".5", ".5"),
	D("1.e5", "1.e5"),
	D("lone minus", "-"),
	D("minus in array", "[-]"),
	D("plus sign", "+1"),
	D("1e", "1e"),
	D("1e+", "1e+"),
	D("hex", "0x10"),
	D("NaN", "NaN"),
	D("Infinity", "Infinity"),
	D("-Infinity", "-Infinity"),
	D("trailing comma array", "[1,]"),
	D("trailing comma object", "{\"a\":1,}"),
	D("leading comma", "[,1]"),
	D("double comma", "[1,,2]"),
	D("missing comma", "[1 2]"),
	D("missing comma literals", "[true false]"),
	D("missing comma members", "{\"a\":1 \"b\":2}"),
	D("missing colon", "{\"a\" 1}"),
	D("missing value", "{\"a\":}"),
	D("key without value", "{\"a\"}"),
	D("colon in array", "[\"a\":1]"),
	D("bare key", "{a:1}"),
	D("single quotes", "{'a':1}"),
	D("number key", "{1:1}"),
	D("array key", "{[1]:1}"),
	D("trailing garbage", "[1]x"),
	D("trailing garbage after number", "1 2"),
	D("two values", "{} {}"),
	D("extra bracket", "[1]]"),
	D("extra brace", "{\"a\":1}}"),
	D("mismatched brackets", "[1}"),
	D("unclosed array", "["),
	D("unclosed object", "{\"a\":1"),
	D("unterminated string", "\"abc"),
	D("lone quote", "\""),
	D("text after NUL", "[1]\0[2]"),
	D("NUL after value", "1\0"),
	D("NUL in string", "[\"a\0b\"]"),
	D("NUL alone", "\0"),
	D("bad escape \\x", "\"\\x41\""),
	D("bad escape \\a", "\"\\a\""),
	D("bad escape \\U", "\"\\U0041\""),
	D("short \\u", "\"\\u12\""),
	D("non-hex \\u", "\"\\u12G4\""),
	D("backslash at end", "\"\\\""),
	D("raw tab in string", "\"a\tb\""),
	D("raw newline in string", "\"a\nb\""),
	D("raw control in string", "\"\x01\""),
	D("raw 0x1f in string", "\"\x1f\""),
	D("invalid byte ff", "\"\xff\""),
	D("lone continuation", "\"\x80\""),
	D("overlong 2-byte slash", "\"\xc0\xaf\""),
	D("overlong 2-byte c1", "\"\xc1\xbf\""),
	D("overlong 3-byte", "\"\xe0\x80\xaf\""),
	D("overlong 4-byte", "\"\xf0\x80\x80\xaf\""),
	D("UTF-8 encoded surrogate", "\"\xed\xa0\x80\""),
	D("above U+10FFFF", "\"\xf4\x90\x80\x80\""),
	D("truncated sequence", "\"\xc3\""),
	D("truncated at end", "[\"\xe2\x82\"]"),
	D("UTF-8 outside string", "[1]\xc3\xa9"),
	D("BOM", "\xef\xbb\xbf{}"),
	D("vertical tab whitespace", "[1]\x0b"),
	D("form feed whitespace", "\f[1]"),
	D("no-break space", "\xc2\xa0[1]"),
	D("comment", "/* c */ 1"),
	D("undefined", "undefined"),
};

static const struct doc valid[] = {
	D("zero", "0"),
	D("minus zero", "-0"),
	D("integer", "123"),
	D("exponent", "-1.5e+10"),
	D("capital E", "1E-2"),
	D("exponent leading zeros", "1e007"),
	D("fraction zeros", "0.000"),
	D("true", "true"),
	D("false", "false"),
	D("null", "null"),
	D("empty string", "\"\""),
	D("empty array", "[]"),
	D("empty object", "{}"),
	D("spaces", " [ 1 , 2 ] "),
	D("all whitespace kinds", "\n\t\r {\r\n\"a\" :\t1 }\n"),
	D("nested", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}"),
	D("escaped NUL", "\"\\u0000\""),
	D("surrogate pair", "\"\\ud83d\\ude00\""),
	D("lone surrogate escape", "\"\\ud800\""),
	D("UTF-8 text", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""),
	D("all escapes", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\""),
	D("DEL in string", "[\"\x7f\"]"),
	D("huge number", "1e999"),
	D("duplicate keys", "{\"a\":1,\"a\":2}"),
	D("U+2028 raw", "\"\xe2\x80\xa8\""),
	D("max code point", "\"\xf4\x8f\xbf\xbf\""),
};

static char *
nest(int depth, int obj)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < depth; i++)
		buf_adds(&b, obj ? "{\"a\":" : "[");
	buf_adds(&b, "1");
	for (i = 0; i < depth; i++)
		buf_addc(&b, obj ? '}' : ']');
	return buf_steal(&b, NULL);
}

static void
test_syntax(void)
{
	struct json j = JSON_INIT;
	char name[160], *s;
	size_t i;
	int d, obj;
	static const int depths[] = { 1, 500, JSON_MAX_DEPTH,
	    JSON_MAX_DEPTH + 1, 600, 100000 };

	for (i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		snprintf(name, sizeof name, "invalid: %s", invalid[i].name);
		ok(json_parse(&j, invalid[i].s, invalid[i].n) == -1, name,
		    "accepted '%s'", show(invalid[i].s, invalid[i].n));
	}
	for (i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		snprintf(name, sizeof name, "valid: %s", valid[i].name);
		ok(json_parse(&j, valid[i].s, valid[i].n) == 0, name,
		    "rejected '%s'", show(valid[i].s, valid[i].n));
	}
	for (obj = 0; obj < 2; obj++) {
		for (i = 0; i < sizeof depths / sizeof depths[0]; i++) {
			d = depths[i];
			s = nest(d, obj);
			snprintf(name, sizeof name, "%s nested %d deep %s",
			    obj ? "objects" : "arrays", d,
			    d <= JSON_MAX_DEPTH ? "accepted" : "rejected");
			ok((json_parse(&j, s, strlen(s)) == 0) ==
			    (d <= JSON_MAX_DEPTH), name, NULL);
			free(s);
		}
	}
	/* Unbalanced deep input must not crash either. */
	s = xmalloc(1000001);
	memset(s, '[', 1000000);
	ok(json_parse(&j, s, 1000000) == -1, "a million '[' rejected", NULL);
	free(s);
	json_free(&j);
}

static void
test_unescape(void)
{
	static const struct {
		const char *name, *in, *out;
		size_t outlen;
	} c[] = {
#define U(name, in, out) { name, in, out, sizeof out - 1 }
		U("simple escapes", "\"a\\nb\\t\\\"\\\\\\/\\b\\f\\r\"",
		    "a\nb\t\"\\/\b\f\r"),
		U("\\u00e9", "\"\\u00e9\"", "\xc3\xa9"),
		U("\\u20ac", "\"x\\u20acy\"", "x\xe2\x82\xacy"),
		U("\\u0041 ASCII", "\"\\u0041\"", "A"),
		U("\\u07ff", "\"\\u07ff\"", "\xdf\xbf"),
		U("\\uffff", "\"\\uFFFF\"", "\xef\xbf\xbf"),
		U("surrogate pair", "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80"),
		U("surrogate pair upper case", "\"\\uD83D\\uDE00!\"",
		    "\xf0\x9f\x98\x80!"),
		U("max surrogate pair", "\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf"),
		U("lone high surrogate", "\"\\ud83dx\"", "\xef\xbf\xbdx"),
		U("lone high at end", "\"\\ud83d\"", "\xef\xbf\xbd"),
		U("lone low surrogate", "\"\\ude00\"", "\xef\xbf\xbd"),
		U("high then high then low", "\"\\ud83d\\ud83d\\ude00\"",
		    "\xef\xbf\xbd\xf0\x9f\x98\x80"),
		U("high then escape", "\"\\ud83d\\n\"", "\xef\xbf\xbd\n"),
		U("escaped NUL", "\"a\\u0000b\"", "a\0b"),
		U("UTF-8 kept", "\"\xc3\xa9\\n\xf0\x9f\x98\x80\"",
		    "\xc3\xa9\n\xf0\x9f\x98\x80"),
#undef U
	};
	struct json j = JSON_INIT;
	struct buf b = BUF_INIT;
	char name[160], *d;
	size_t i;
	int r;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		snprintf(name, sizeof name, "unescape: %s", c[i].name);
		buf_reset(&b);
		r = json_parse(&j, c[i].in, strlen(c[i].in));
		if (r == 0)
			r = json_str(&j, 0, &b);
		ok(r == 0 && b.len == c[i].outlen &&
		    memcmp(b.s, c[i].out, b.len) == 0, name, "got '%s'",
		    r ? "(error)" : show(b.s, b.len));
	}
	json_parse(&j, "[\"a\\\"b\",1]", 10);
	d = json_strdup(&j, 1);
	ok(d && strcmp(d, "a\"b") == 0, "json_strdup", "got %s", d);
	free(d);
	ok(json_strdup(&j, 3) == NULL, "json_strdup of a number is NULL", NULL);
	ok(json_str(&j, 0, &b) == -1, "json_str of an array is -1", NULL);
	ok(json_streq(&j, 1, "a\"b"), "json_streq after unescaping", NULL);
	ok(!json_streq(&j, 1, "a\"bc") && !json_streq(&j, 1, "a\"") &&
	    !json_streq(&j, 1, "a\\\"b"), "json_streq mismatches", NULL);
	json_parse(&j, "\"a\\u0000b\"", 10);
	ok(!json_streq(&j, 0, "a"), "json_streq with NUL inside", NULL);
	buf_free(&b);
	json_free(&j);
}

static const char doc[] =
    "{\n"
    "  \"id\": \"chatcmpl-1\",\n"
    "  \"n\\u0061me\": \"escaped key\",\n"
    "  \"choices\": [\n"
    "    {\"index\": 0, \"delta\": {\"content\": \"Hi \\ud83d\\ude00\"}},\n"
    "    {\"index\": 1, \"delta\": {\"content\": null, \"x\": [[], {}]}}\n"
    "  ],\n"
    "  \"usage\": {\"total_tokens\": 42, \"ratio\": 0.5, \"big\": 1e999,\n"
    "    \"neg\": -9223372036854775808, \"over\": 9223372036854775808,\n"
    "    \"float\": 1.0, \"exp\": 1e2, \"ok\": true, \"no\": false},\n"
    "  \"a.b\": 1, \"01\": \"key 01\", \"\": \"empty key\"\n"
    "}\n";

static void
test_access(void)
{
	struct json j = JSON_INIT;
	const char *p;
	size_t n;
	double v;
	long long i;
	int t, c;

	ok(json_parse(&j, doc, sizeof doc - 1) == 0, "access doc parses", NULL);
	ok(json_type(&j, 0) == JSON_OBJECT && json_size(&j, 0) == 7,
	    "root is an object of 7 members", "size %d", json_size(&j, 0));
	ok(json_skip(&j, 0) == j.ntok, "json_skip of root is ntok", NULL);
	ok(json_streq(&j, json_get(&j, 0, "id"), "chatcmpl-1"), "json_get id",
	    NULL);
	ok(json_streq(&j, json_get(&j, 0, "name"), "escaped key"),
	    "json_get compares unescaped keys", NULL);
	ok(json_get(&j, 0, "nam") == -1 && json_get(&j, 0, "namex") == -1,
	    "json_get no prefix matches", NULL);
	ok(json_get(&j, 0, "missing") == -1, "json_get missing", NULL);
	ok(json_get(&j, -1, "id") == -1, "json_get on -1", NULL);
	ok(json_get(&j, json_get(&j, 0, "id"), "x") == -1,
	    "json_get on a string", NULL);
	ok(json_streq(&j, json_get(&j, 0, ""), "empty key"), "empty key",
	    NULL);
	c = json_get(&j, 0, "choices");
	ok(json_type(&j, c) == JSON_ARRAY && json_size(&j, c) == 2,
	    "choices array of 2", NULL);
	t = json_at(&j, c, 1);
	ok(json_type(&j, t) == JSON_OBJECT &&
	    json_int(&j, json_get(&j, t, "index"), &i) == 0 && i == 1,
	    "json_at 1 is the second element", NULL);
	ok(json_at(&j, c, 2) == -1 && json_at(&j, c, -1) == -1 &&
	    json_at(&j, 0, 0) == -1, "json_at out of range", NULL);
	ok(json_skip(&j, json_at(&j, c, 0)) == json_at(&j, c, 1),
	    "json_skip steps over an element", NULL);
	t = json_path(&j, 0, "choices.0.delta.content");
	ok(json_streq(&j, t, "Hi \xf0\x9f\x98\x80"), "json_path into array",
	    NULL);
	p = json_raw(&j, t, &n);
	ok(n == 15 && memcmp(p, "Hi \\ud83d\\ude00", n) == 0, "json_raw string",
	    "'%s'", show(p, n));
	p = json_text(&j, t, &n);
	ok(n == 17 && memcmp(p, "\"Hi \\ud83d\\ude00\"", n) == 0,
	    "json_text string keeps quotes", "'%s'", show(p, n));
	t = json_path(&j, 0, "choices.1.delta.x");
	p = json_text(&j, t, &n);
	ok(n == 8 && memcmp(p, "[[], {}]", n) == 0, "json_text array",
	    "'%s'", show(p, n));
	t = json_path(&j, 0, "choices.1.delta.content");
	ok(t >= 0 && json_is_null(&j, t), "json_is_null on null", NULL);
	ok(json_is_null(&j, -1), "json_is_null on -1", NULL);
	ok(!json_is_null(&j, 0), "json_is_null on object", NULL);
	ok(json_is_true(&j, json_path(&j, 0, "usage.ok")) &&
	    !json_is_true(&j, json_path(&j, 0, "usage.no")) &&
	    !json_is_true(&j, -1), "json_is_true", NULL);
	ok(json_path(&j, 0, "choices.2") == -1, "json_path index past end",
	    NULL);
	ok(json_path(&j, 0, "choices.x") == -1, "json_path key on array",
	    NULL);
	ok(json_path(&j, 0, "choices.00") == -1 &&
	    json_path(&j, 0, "choices.+0") == -1 &&
	    json_path(&j, 0, "choices.") == -1, "json_path bad indexes", NULL);
	ok(json_path(&j, 0, "id.x") == -1, "json_path through a string", NULL);
	ok(json_path(&j, 0, "nope.x") == -1, "json_path missing step", NULL);
	ok(json_streq(&j, json_path(&j, 0, "01"), "key 01"),
	    "json_path numeric key on object", NULL);
	ok(json_path(&j, 0, "a.b") == -1, "json_path splits at dots", NULL);
	ok(json_path(&j, -1, "id") == -1, "json_path from -1", NULL);

	ok(json_num(&j, json_path(&j, 0, "usage.ratio"), &v) == 0 && v == 0.5,
	    "json_num 0.5", NULL);
	ok(json_num(&j, json_path(&j, 0, "usage.big"), &v) == -1,
	    "json_num overflow is -1", NULL);
	ok(json_num(&j, json_path(&j, 0, "usage.ok"), &v) == -1 &&
	    json_num(&j, json_get(&j, 0, "id"), &v) == -1 &&
	    json_num(&j, -1, &v) == -1, "json_num on non-numbers", NULL);
	ok(json_int(&j, json_path(&j, 0, "usage.total_tokens"), &i) == 0 &&
	    i == 42, "json_int 42", NULL);
	ok(json_int(&j, json_path(&j, 0, "usage.neg"), &i) == 0 &&
	    i == -9223372036854775807LL - 1, "json_int LLONG_MIN", NULL);
	ok(json_int(&j, json_path(&j, 0, "usage.over"), &i) == -1,
	    "json_int overflow is -1", NULL);
	ok(json_int(&j, json_path(&j, 0, "usage.float"), &i) == -1 &&
	    json_int(&j, json_path(&j, 0, "usage.exp"), &i) == -1,
	    "json_int rejects 1.0 and 1e2", NULL);
	ok(json_int(&j, json_path(&j, 0, "usage.ok"), &i) == -1,
	    "json_int on true", NULL);
	ok(json_type(&j, -1) == JSON_NONE && json_type(&j, j.ntok) == JSON_NONE,
	    "json_type out of range", NULL);

	/* A lone number whose text is not NUL-terminated after it. */
	ok(json_parse(&j, "12345", 2) == 0 && json_int(&j, 0, &i) == 0 &&
	    i == 12, "top-level number bounded by len", NULL);
	ok(json_parse(&j, " -7 ", 4) == 0 && json_int(&j, 0, &i) == 0 &&
	    i == -7 && json_type(&j, 0) == JSON_PRIMITIVE,
	    "top-level number with spaces", NULL);
	ok(json_parse(&j, "null", 4) == 0 && json_is_null(&j, 0) &&
	    j.ntok == 1, "top-level null", NULL);
	json_free(&j);
}

static void
test_big(void)
{
	struct json j = JSON_INIT;
	struct buf b = BUF_INIT;
	long long v;
	int i, r;

	/* Far more tokens than the first array holds: grows on NOMEM. */
	buf_addc(&b, '[');
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "%s{\"i\":%d}", i ? "," : "", i);
	buf_addc(&b, ']');
	r = json_parse(&j, b.s, b.len);
	ok(r == 0 && json_size(&j, 0) == 100000 && j.ntok == 300001,
	    "100000 objects: token array grows", "r %d ntok %d", r, j.ntok);
	ok(json_int(&j, json_path(&j, 0, "99999.i"), &v) == 0 && v == 99999,
	    "last element reachable", NULL);
	/* The same struct parses a small text afterwards. */
	ok(json_parse(&j, "{\"a\":[true]}", 12) == 0 &&
	    json_is_true(&j, json_path(&j, 0, "a.0")), "struct reused", NULL);
	ok(json_parse(&j, "[1,]", 4) == -1 && json_type(&j, 0) == JSON_NONE,
	    "failed parse leaves no tokens", NULL);
	buf_free(&b);
	json_free(&j);
}

/*
 * Strings are scanned 8 bytes at a time where nothing needs a look:
 * each kind of byte that does, at every offset of a long string.
 */
static void
test_longstrings(void)
{
	static const struct {
		const char *in, *want;	/* want NULL: invalid */
	} k[] = {
		{ "\\n", "\n" }, { "\\\"", "\"" }, { "\\\\", "\\" },
		{ "\\u00e9", "\xc3\xa9" }, { "\x7f", "\x7f" },
		{ "\xc3\xa9", "\xc3\xa9" }, { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" },
		{ "\x01", NULL }, { "\x1f", NULL }, { "\xff", NULL },
		{ "\xc3", NULL }, { "\xed\xa0\x80", NULL }, { "\\x", NULL },
		{ "\xe2\x82", NULL }, { "\x80", NULL }, { "\x9f", NULL },
		{ "\xc2\x80", "\xc2\x80" },
	};
	struct json j = JSON_INIT;
	struct buf doc = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	int i, at, bad = 0, r;
	size_t n;

	for (i = 0; i < (int)(sizeof k / sizeof k[0]); i++)
		for (at = 0; at <= 24; at++) {
			buf_reset(&doc);
			buf_reset(&got);
			buf_reset(&want);
			buf_adds(&doc, "[\"");
			for (n = 0; n <= 24; n++) {
				if ((int)n == at) {
					buf_adds(&doc, k[i].in);
					if (k[i].want)
						buf_adds(&want, k[i].want);
				}
				if (n < 24) {
					buf_addc(&doc, 'a' + n % 26);
					buf_addc(&want, 'a' + n % 26);
				}
			}
			buf_adds(&doc, "\"]");
			r = json_parse(&j, doc.s, doc.len);
			if (k[i].want ? r < 0 || json_str(&j, 1, &got) < 0 ||
			    got.len != want.len ||
			    memcmp(got.s, want.s, got.len) != 0 : r == 0) {
				if (bad++ < 5)
					printf("# %s at %d: r %d\n",
					    show(k[i].in, strlen(k[i].in)), at, r);
			}
		}
	ok(!bad, "long strings: escapes, controls, UTF-8 at every offset",
	    "%d wrong", bad);
	/* the closing quote at every offset */
	for (bad = 0, at = 0; at <= 24; at++) {
		buf_reset(&doc);
		buf_adds(&doc, "{\"");
		for (i = 0; i < at; i++)
			buf_addc(&doc, 'x');
		buf_adds(&doc, "\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}");
		if (json_parse(&j, doc.s, doc.len) < 0 ||
		    json_raw(&j, 1, &n) == NULL || n != (size_t)at)
			bad++;
	}
	ok(!bad, "long strings: the end at every offset", NULL);
	ok(json_parse(&j, "[\"aaaaaaaaaaaaaaaa\"]\xc3\xa9", 22) < 0 &&
	    json_parse(&j, "[\"aaaaaaaaaaaaaaaa\",\xc3\xa9]", 23) < 0,
	    "UTF-8 outside a string after a long one", NULL);
	buf_free(&doc);
	buf_free(&got);
	buf_free(&want);
	json_free(&j);
}

static void
test_writer(void)
{
	struct buf b = BUF_INIT;
	struct jw w;
	struct json j = JSON_INIT;
	struct buf back = BUF_INIT;
	char all[32];
	int i;
	const char *exp;

	jw_init(&w, &b);
	jw_obj(&w);
	jw_key(&w, "model");
	jw_str(&w, "gpt-4o");
	jw_key(&w, "messages");
	jw_arr(&w);
	jw_obj(&w);
	jw_key(&w, "role");
	jw_str(&w, "user");
	jw_key(&w, "content");
	jw_str(&w, "say \"hi\"\n\\ caf\xc3\xa9 \xf0\x9f\x98\x80");
	jw_obj_end(&w);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "n");
	jw_int(&w, -3);
	jw_key(&w, "t");
	jw_num(&w, 0.7);
	jw_key(&w, "s");
	jw_bool(&w, 1);
	jw_key(&w, "f");
	jw_bool(&w, 0);
	jw_key(&w, "z");
	jw_null(&w);
	jw_key(&w, "e");
	jw_arr(&w);
	jw_arr_end(&w);
	jw_key(&w, "schema");
	jw_raw(&w, "{\"type\":\"object\"}", 17);
	jw_key(&w, "l");
	jw_arr(&w);
	jw_int(&w, 1);
	jw_raw(&w, "2", 1);
	jw_str(&w, NULL);
	jw_arr_end(&w);
	jw_obj_end(&w);
	exp = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\","
	    "\"content\":\"say \\\"hi\\\"\\n\\\\ caf\xc3\xa9 \xf0\x9f\x98\x80\"},"
	    "{}],\"n\":-3,\"t\":0.7,\"s\":true,\"f\":false,\"z\":null,\"e\":[],"
	    "\"schema\":{\"type\":\"object\"},\"l\":[1,2,null]}";
	ok(strcmp(b.s, exp) == 0, "writer: compact document",
	    "got %s", b.s);
	ok(json_parse(&j, b.s, b.len) == 0, "writer output parses", NULL);

	buf_reset(&b);
	for (i = 0; i < 32; i++)
		all[i] = (char)i;
	json_quote(&b, all, 32);
	exp = "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
	    "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013"
	    "\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
	    "\\u001d\\u001e\\u001f\"";
	ok(strcmp(b.s, exp) == 0, "writer: control characters", "got %s",
	    b.s);
	ok(json_parse(&j, b.s, b.len) == 0 && json_str(&j, 0, &back) == 0 &&
	    back.len == 32 && memcmp(back.s, all, 32) == 0,
	    "writer: control characters round trip", NULL);

	buf_reset(&b);
	json_quote(&b, "\x7f/\xe2\x80\xa8<", 6);
	ok(strcmp(b.s, "\"\x7f/\xe2\x80\xa8<\"") == 0,
	    "writer: DEL, slash and U+2028 kept", "got %s", show(b.s, b.len));

	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_strn(&w, "a\0b", 3);
	jw_str(&w, "");
	jw_arr_end(&w);
	ok(strcmp(b.s, "[\"a\\u0000b\",\"\"]") == 0, "writer: NUL byte",
	    "got %s", b.s);

	buf_free(&b);
	buf_free(&back);
	json_free(&j);
}

/* Run f in a child with stderr captured; return its wait status. */
static int
inchild(void (*f)(void), char *err, size_t errsz)
{
	int fd[2], st;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	fflush(stdout);
	if (pipe(fd) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], 2);
		f();
		_exit(0);
	}
	close(fd[1]);
	while (got < errsz - 1 && (n = read(fd[0], err + got,
	    errsz - 1 - got)) > 0)
		got += n;
	err[got] = '\0';
	close(fd[0]);
	waitpid(pid, &st, 0);
	return st;
}

static struct buf childbuf;	/* reachable, so LeakSanitizer is quiet */

static void
bad_str(void)
{
	struct jw w;

	jw_init(&w, &childbuf);
	jw_obj(&w);
	jw_key(&w, "k");
	jw_str(&w, "ab\xff" "c");
}

static void
bad_key(void)
{
	struct jw w;

	jw_init(&w, &childbuf);
	jw_obj(&w);
	jw_key(&w, "caf\xc3\xa9\xed\xa0\x80");
}

static void
bad_overlong(void)
{
	json_quote(&childbuf, "\xc0\xaf", 2);
}

static void
test_writer_invalid(void)
{
	static const struct {
		const char *name;
		void (*f)(void);
		const char *msg;
	} c[] = {
		{ "writer dies on invalid UTF-8 value", bad_str,
		    "test_json: input is not valid UTF-8 at byte offset 2\n" },
		{ "writer dies on surrogate in key", bad_key,
		    "test_json: input is not valid UTF-8 at byte offset 5\n" },
		{ "writer dies on overlong", bad_overlong,
		    "test_json: input is not valid UTF-8 at byte offset 0\n" },
	};
	char err[512];
	size_t i;
	int st;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		st = inchild(c[i].f, err, sizeof err);
		ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 2 &&
		    strcmp(err, c[i].msg) == 0, c[i].name,
		    "status %d, stderr '%s'", WIFEXITED(st) ?
		    WEXITSTATUS(st) : -1, show(err, strlen(err)));
	}
}

static void
test_num(void)
{
	static const struct {
		double v;
		const char *s;	/* expected text, or NULL: round trip only */
	} c[] = {
		{ 0.0, "0" },
		{ 1.0, "1" },
		{ -2.0, "-2" },
		{ 0.1, "0.1" },
		{ 0.7, "0.7" },
		{ 1.0 / 3, "0.3333333333333333" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 1e300, "1e+300" },
		{ 123456789012345680.0, "1.2345678901234568e+17" },
		{ 5e-324, "4.94065645841247e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 2.5e-7, "2.5e-07" },
		{ 9007199254740993.0, NULL },
		{ 3.141592653589793, "3.141592653589793" },
	};
	struct buf b = BUF_INIT;
	struct jw w;
	struct json j = JSON_INIT;
	char name[96];
	double back;
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		buf_reset(&b);
		jw_init(&w, &b);
		jw_num(&w, c[i].v);
		back = strtod(b.s, NULL);
		snprintf(name, sizeof name, "jw_num %.17g", c[i].v);
		ok(back == c[i].v && (!c[i].s || strcmp(b.s, c[i].s) == 0) &&
		    json_parse(&j, b.s, b.len) == 0, name, "got %s", b.s);
	}
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_num(&w, NAN);
	jw_num(&w, INFINITY);
	jw_num(&w, -INFINITY);
	jw_num(&w, -0.0);
	jw_arr_end(&w);
	ok(strcmp(b.s, "[null,null,null,-0]") == 0, "jw_num NaN/Inf are null",
	    "got %s", b.s);
	/* Pseudo-random doubles round trip through writer and reader. */
	srand(1);
	for (i = 0; i < 10000; i++) {
		union { double d; uint64_t u; } x;
		x.u = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^
		    (uint64_t)rand();
		if (isnan(x.d) || isinf(x.d))
			continue;
		buf_reset(&b);
		jw_init(&w, &b);
		jw_num(&w, x.d);
		if (json_parse(&j, b.s, b.len) < 0 ||
		    json_num(&j, 0, &back) < 0 || back != x.d)
			break;
	}
	ok(i == 10000, "jw_num 10000 random doubles round trip", "failed at %s",
	    b.s);
	buf_free(&b);
	json_free(&j);
}

/* ---- recorded bodies ------------------------------------------------ */

static int ncassette;

/* Does the header block of response.http name a JSON content type? */
static int
isjson(const char *http, size_t n)
{
	size_t i, k;
	const char *ct = "\ncontent-type:";

	for (i = 0; i < n; i++) {
		if (http[i] == '\n' && i + 2 < n &&
		    (http[i + 1] == '\n' || http[i + 1] == '\r'))
			return 0;	/* end of headers */
		for (k = 0; ct[k] && i + k < n; k++)
			if ((http[i + k] | 0x20) != (ct[k] | 0x20) &&
			    http[i + k] != ct[k])
				break;
		if (ct[k])
			continue;
		for (i += k; i < n && http[i] != '\n'; i++)
			if (strncmp(http + i, "json", 4) == 0)
				return 1;
		return 0;
	}
	return 0;
}

static void
cassette(const char *dir, const char *name)
{
	struct buf path = BUF_INIT, http = BUF_INIT, body = BUF_INIT;
	struct json j = JSON_INIT;
	char tname[512];
	int t;

	buf_printf(&path, "%s/response.http", dir);
	if (buf_readfile(&http, path.s) < 0)
		goto done;
	if (!isjson(http.s, http.len))
		goto done;
	buf_reset(&path);
	buf_printf(&path, "%s/response.body", dir);
	ncassette++;
	snprintf(tname, sizeof tname, "cassette %s parses", name);
	if (buf_readfile(&body, path.s) < 0) {
		ok(0, tname, "cannot read %s", path.s);
		goto done;
	}
	ok(json_parse(&j, body.s, body.len) == 0, tname, NULL);
	if (strcmp(name, "error_404_model_not_found") == 0) {
		ok(json_streq(&j, json_path(&j, 0, "error.message"),
		    "The model 'fake_id' does not exist") &&
		    json_streq(&j, json_path(&j, 0, "error.code"),
		    "model_not_found"), "404 cassette error.message", NULL);
	} else if (strcmp(name, "error_401_invalid_api_key_chat") == 0) {
		ok(json_is_null(&j, json_path(&j, 0, "error.param")) &&
		    json_path(&j, 0, "error.param") >= 0 &&
		    json_streq(&j, json_path(&j, 0, "error.code"),
		    "invalid_api_key"), "401 cassette error.code", NULL);
	} else if (strcmp(name, "chat_basic") == 0) {
		t = json_path(&j, 0, "choices.0.message.content");
		ok(json_streq(&j, t, "Hello! How can I assist you today?"),
		    "chat_basic content", NULL);
	}
done:
	buf_free(&path);
	buf_free(&http);
	buf_free(&body);
	json_free(&j);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk dir in sorted order so the TAP numbering is stable. */
static void
walk(const char *dir, const char *name)
{
	DIR *d;
	struct dirent *e;
	char **ents = NULL, sub[4096], subname[4096];
	size_t n = 0, i;

	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		ents = xreallocarray(ents, n + 1, sizeof *ents);
		ents[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(ents, n, sizeof *ents, cmpstr);
	cassette(dir, name);
	for (i = 0; i < n; i++) {
		snprintf(sub, sizeof sub, "%s/%s", dir, ents[i]);
		snprintf(subname, sizeof subname, "%s%s%s", name,
		    *name ? "/" : "", ents[i]);
		walk(sub, subname);
		free(ents[i]);
	}
	free(ents);
}

static void
test_cassettes(const char *dir)
{
	DIR *d;

	if (!(d = opendir(dir))) {
		skip("no cassettes directory");
		return;
	}
	closedir(d);
	walk(dir, "");
	ok(ncassette >= 15, "at least 15 JSON responses found", "found %d",
	    ncassette);
}

/* ---- jscan: the same grammar, fed in pieces ------------------------- */

struct collect {
	struct buf rec;		/* the "usage" object, recorded */
	struct buf str;		/* the string values' pieces, joined */
	struct buf at;		/* "index=N " for each number at data.*.index */
	int nvalues;
};

static int
collect_cb(void *ctx, struct jscan *s, enum jscan_ev ev, const char *p,
    size_t n)
{
	struct collect *c = ctx;

	if (ev == JSCAN_STR)
		buf_add(&c->str, p, n);
	if ((ev == JSCAN_OBJ || ev == JSCAN_ARR) && jscan_at(s, "usage"))
		jscan_record(s, &c->rec);
	if (ev == JSCAN_STR_END || ev == JSCAN_NUM || ev == JSCAN_OBJ_END ||
	    ev == JSCAN_ARR_END || ev == JSCAN_TRUE || ev == JSCAN_FALSE ||
	    ev == JSCAN_NULL)
		c->nvalues++;
	if (ev == JSCAN_NUM && jscan_at(s, "data.*.index"))
		buf_printf(&c->at, "index=%.*s ", (int)n, p);
	return 0;
}

/* Feed s[0..n) in pieces of k bytes (0: whole); the final status. */
static int
scan(struct collect *c, const char *s, size_t n, size_t k)
{
	struct jscan js;
	size_t i, m;
	int r = 0;

	jscan_init(&js, collect_cb, c);
	for (i = 0; r == 0 && i < n; i += m) {
		m = k && n - i > k ? k : n - i;
		r = jscan_feed(&js, s + i, m);
	}
	if (r == 0)
		r = jscan_end(&js);
	jscan_free(&js);
	return r;
}

static void
test_jscan(void)
{
	static const size_t pieces[] = { 0, 1, 2, 3, 7 };
	static const struct {
		const char *name, *s, *want;
	} strs[] = {
		{ "escapes", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\"",
		    "a\"b\\c/d\b\f\n\r\te" },
		{ "\\u ASCII and BMP", "\"\\u0041\\u00e9\\u20AC\"",
		    "A\xc3\xa9\xe2\x82\xac" },
		{ "surrogate pair", "\"x\\ud83d\\ude00y\"", "x\xf0\x9f\x98\x80y" },
		{ "lone high surrogate", "\"\\ud83dz\"", "\xef\xbf\xbdz" },
		{ "high then escape", "\"\\ud83d\\n\"", "\xef\xbf\xbd\n" },
		{ "two highs, then a pair", "\"\\ud83d\\ud83d\\ude00\"",
		    "\xef\xbf\xbd\xf0\x9f\x98\x80" },
		{ "lone low surrogate", "\"\\ude00\"", "\xef\xbf\xbd" },
		{ "high at the end", "\"\\uD800\"", "\xef\xbf\xbd" },
		{ "UTF-8 kept", "\"\xc3\xa9\xf0\x9f\x98\x80\"",
		    "\xc3\xa9\xf0\x9f\x98\x80" },
		{ "base64 with \\/", "\"ab\\/cd+/==\"", "ab/cd+/==" },
	};
	struct collect c;
	char name[200];
	const char *s;
	size_t i, k;
	int r;

	buf_init(&c.str);
	buf_init(&c.at);
	buf_init(&c.rec);
	for (k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
		int bad = 0;

		for (i = 0; i < sizeof valid / sizeof valid[0]; i++)
			if (scan(&c, valid[i].s, valid[i].n, pieces[k]) != 0) {
				bad = 1;
				ok(0, "jscan: valid", "%s in pieces of %zu",
				    valid[i].name, pieces[k]);
			}
		for (i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
			if (scan(&c, invalid[i].s, invalid[i].n, pieces[k]) !=
			    -1) {
				bad = 1;
				ok(0, "jscan: invalid", "%s in pieces of %zu",
				    invalid[i].name, pieces[k]);
			}
		snprintf(name, sizeof name, "jscan agrees with json_parse on "
		    "every document, in pieces of %zu", pieces[k]);
		if (!bad)
			ok(1, name, NULL);
	}
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++)
		for (k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
			buf_reset(&c.str);
			r = scan(&c, strs[i].s, strlen(strs[i].s), pieces[k]);
			snprintf(name, sizeof name, "jscan string: %s, pieces "
			    "of %zu", strs[i].name, pieces[k]);
			ok(r == 0 && strcmp(c.str.s, strs[i].want) == 0, name,
			    "got %d '%s'", r, show(c.str.s, c.str.len));
		}
	buf_reset(&c.at);
	c.nvalues = 0;
	s = "{\"data\":[{\"index\":4,\"x\":[1]},{\"index\":7,"
	    "\"y\":{\"index\":9}}],\"index\":3,\"dat\\u0061\":[{\"index\":"
	    "5}]}";
	r = scan(&c, s, strlen(s), 3);
	ok(r == 0 && strcmp(c.at.s, "index=4 index=7 index=5 ") == 0 &&
	    c.nvalues == 14, "jscan_at: data.*.index, escaped names too",
	    "%d '%s' %d", r, c.at.s, c.nvalues);
	s = "{\"data\":[1], \"usage\" : {\"a\": [1, {\"b\":\"}\"}],"
	    "\"c\":2} , \"x\":{}}";
	for (k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
		buf_reset(&c.rec);
		r = scan(&c, s, strlen(s), pieces[k]);
		snprintf(name, sizeof name, "jscan_record: the usage object as "
		    "it came, pieces of %zu", pieces[k]);
		ok(r == 0 && strcmp(c.rec.s, "{\"a\": [1, {\"b\":\"}\"}],"
		    "\"c\":2}") == 0, name, "%d '%s'", r, c.rec.s);
	}
	buf_free(&c.rec);
	buf_free(&c.str);
	buf_free(&c.at);
}

/*
 * Strings long enough for jscan's 32-byte blocks (AVX2): every byte
 * value at every one of 80 positions of a 100-byte string, after 8
 * plain bytes (where both readers take 32 at a time with AVX2), whole
 * and in pieces that cut blocks anywhere: json_parse() and jscan valid
 * exactly where the byte is printable ASCII other than '"' and a
 * backslash (a '"' ends the string early, and what follows is not
 * JSON; a backslash starts an escape that 'x' does not finish; a lone
 * byte above 0x7f is not UTF-8), and jscan's string the 100 bytes.
 */
static void
test_jscan_blocks(void)
{
	static const size_t pieces[] = { 0, 5, 37 };
	struct collect c;
	struct json j = JSON_INIT;
	char doc[103];
	int v, jv, want, bad = 0, b, at;
	size_t k;

	buf_init(&c.str);
	buf_init(&c.at);
	buf_init(&c.rec);
	for (b = 0; b < 256; b++)
		for (at = 8; at < 88; at++) {
			memset(doc, 'x', sizeof doc);
			doc[0] = doc[101] = '"';
			doc[102] = '\0';
			doc[1 + at] = (char)b;
			want = b >= 0x20 && b < 0x80 && b != '"' &&
			    b != '\\' ? 0 : -1;
			jv = json_parse(&j, doc, 102);
			for (k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
				buf_reset(&c.str);
				v = scan(&c, doc, 102, pieces[k]);
				if (v != want || jv != want || (v == 0 &&
				    (c.str.len != 100 ||
				    memcmp(c.str.s, doc + 1, 100)))) {
					if (bad++ < 5)
						ok(0, "json_parse() and jscan: long strings",
						    "byte %d at %d, pieces of "
						    "%zu: %d, json_parse %d, "
						    "want %d", b, at, pieces[k], v,
						    jv, want);
				}
			}
		}
	if (!bad)
		ok(1, "json_parse() and jscan: each byte value in each "
		    "position of a long string, whole and in pieces", NULL);
	json_free(&j);
	buf_free(&c.rec);
	buf_free(&c.str);
	buf_free(&c.at);
}

/* ---- jscan's numbers: read in place or across pieces ---------------- */

struct nums {
	struct buf text;	/* each number's text, then ' ' */
	int n, bad;		/* numbers; those whose s->num is not strtod's */
};

static int
nums_cb(void *ctx, struct jscan *s, enum jscan_ev ev, const char *p,
    size_t n)
{
	struct nums *c = ctx;
	char t[128];
	float want;

	if (ev != JSCAN_NUM)
		return 0;
	snprintf(t, sizeof t, "%.*s", (int)n, p);
	want = (float)strtod(t, NULL);
	c->bad += memcmp(&want, &s->num, sizeof want) != 0;
	c->n++;
	buf_printf(&c->text, "%s ", t);
	return 0;
}

static void
test_jscan_nums(void)
{
	static const char *const num[] = { "-0.011622308194637299",
	    "0.022599461", "0", "-0.0", "1e-50", "12345678901234567890123",
	    "0.12345678901234567890", "-1.5E+2", "3.4028236e38", "7",
	    "0.000000000000000000000000001", "1234567890.0987654321",
	    "-0.97577911615371704" };
	struct buf doc, want;
	struct nums c;
	struct jscan js;
	char name[100];
	size_t i, k, m;
	int r;

	buf_init(&doc);
	buf_init(&want);
	buf_init(&c.text);
	buf_adds(&doc, "{\"data\":[{\"embedding\":[");
	for (i = 0; i < 3 * sizeof num / sizeof num[0]; i++) {
		buf_printf(&doc, "%s%s", i ? (i % 2 ? "," : ", ") : "",
		    num[i % (sizeof num / sizeof num[0])]);
		buf_printf(&want, "%s ", num[i % (sizeof num / sizeof num[0])]);
	}
	buf_adds(&doc, "],\"index\":12}]}");
	buf_printf(&want, "12 ");
	for (k = 0; k <= 40; k++) {
		buf_reset(&c.text);
		c.n = c.bad = 0;
		jscan_init(&js, nums_cb, &c);
		for (i = 0, r = 0; r == 0 && i < doc.len; i += m) {
			m = k && doc.len - i > k ? k : doc.len - i;
			r = jscan_feed(&js, doc.s + i, m);
		}
		if (r == 0)
			r = jscan_end(&js);
		jscan_free(&js);
		snprintf(name, sizeof name, "jscan numbers: text and float32 "
		    "(strtod's), pieces of %zu", k);
		ok(r == 0 && c.bad == 0 && strcmp(c.text.s, want.s) == 0,
		    name, "%d, %d bad, '%s'", r, c.bad, c.text.s);
	}
	buf_free(&doc);
	buf_free(&want);
	buf_free(&c.text);
}

int
main(int argc, char *argv[])
{
	const char *cassettes;

	argv0 = "test_json";
	if (argc > 1)
		cassettes = argv[1];
	else if (!(cassettes = getenv("OAI_CASSETTES")))
		cassettes = "tests/fixtures";
	test_syntax();
	test_jscan();
	test_jscan_blocks();
	test_jscan_nums();
	test_unescape();
	test_access();
	test_big();
	test_longstrings();
	test_writer();
	test_writer_invalid();
	test_num();
	test_cassettes(cassettes);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
