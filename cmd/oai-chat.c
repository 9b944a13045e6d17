/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <editline/readline.h>

#include "oai.h"

/*
 * oai-chat: chat completions as a text filter and an interactive chat.
 * Messages are kept as JSON texts (one object each), built by the jw_
 * writer or checked by the parser, so the request body is assembled by
 * inserting them verbatim.
 */

enum {
	OPT_NO_STREAM = OPT_TOOL,
	OPT_JSON,
	OPT_IMAGE,
	OPT_MESSAGES,
	OPT_TOP_P,
	OPT_MAX_TOKENS,
	OPT_STOP,
	OPT_SEED,
	OPT_FREQ,
	OPT_PRES,
	OPT_JSON_OBJECT,
	OPT_SCHEMA,
	OPT_DRY_RUN
};

#define USAGE \
	"usage: %s [-u] [-c file] [-f file] [-m model] [-s text] [-t temp]\n" \
	"       [--dry-run] [--frequency-penalty n] [--image file|url]\n" \
	"       [--json] [--json-object] [--max-tokens n] [--messages]\n" \
	"       [--no-stream] [--presence-penalty n] [--schema file]\n" \
	"       [--seed n] [--stop text] [--top-p n] [prompt ...]\n"

struct msgs {			/* JSON texts of message objects */
	char **v;
	size_t n, cap;
};

struct tool {			/* a streamed tool call, put together */
	struct buf id, name, args;
};

/* One reply being received (streamed or not). */
struct reply {
	struct sse sse;
	struct json j;
	struct buf text;	/* the whole content, for conversations */
	struct buf refusal;
	struct tool *tools;
	int ntools;
	size_t pendnl;		/* trailing newlines held back */
	int printed;		/* content other than newlines went out */
	int nlout;		/* and after it, the first trailing newline */
	int done;		/* [DONE] seen */
	int status;		/* an error event's exit status */
	char *finish;		/* finish_reason */
	char *model;		/* model the server names */
	int has_usage;
	long long ptok, ctok, ttok;
};

static struct {
	const char *model, *system, *schema, *conv;
	double temp, top_p, fpen, ppen;
	int has_temp, has_top_p, has_fpen, has_ppen;
	long long max_tokens, seed;
	int has_max_tokens, has_seed;
	const char *stop[4];
	int nstop;
	const char **files, **images;
	int nfiles, nimages;
	int nostream, json, usage, jsonobj, dryrun, messages;
} opt;

static char *schema_json;	/* contents of --schema, checked */
static char *schema_name;

static void
usage(void)
{
	fprintf(stderr, USAGE "%s\n", argv0, OAI_COMMON_USAGE);
	exit(OAI_EX_USAGE);
}

static void
help(void)
{
	out_printf(USAGE "\n"
	    "Send a prompt to the chat completions API and stream the reply.\n"
	    "The prompt is the arguments joined by spaces, standard input, or\n"
	    "both (standard input first).  With no prompt and standard input\n"
	    "a terminal, start an interactive chat.\n\n"
	    "  -c, --conversation FILE   keep the conversation in FILE (JSONL)\n"
	    "  -f, --file FILE           add FILE's text to the prompt (- is "
	    "stdin)\n"
	    "  -m, --model MODEL         model (default $OAI_CHAT_MODEL or "
	    "gpt-4o)\n"
	    "  -s, --system TEXT         system message\n"
	    "  -t, --temperature N       sampling temperature, 0 to 2\n"
	    "  -u, --usage               print token usage and cost on stderr\n"
	    "      --dry-run             print the request body, send nothing\n"
	    "      --frequency-penalty N -2 to 2\n"
	    "      --image FILE|URL      add an image (repeatable)\n"
	    "      --json                print the API's JSON (streams: one\n"
	    "                            chunk per line)\n"
	    "      --json-object         ask for a JSON object as the reply\n"
	    "      --max-tokens N        limit the reply's length in tokens\n"
	    "      --messages            read a JSON array of messages (or one\n"
	    "                            per line) from stdin\n"
	    "      --no-stream           wait for the whole reply\n"
	    "      --presence-penalty N  -2 to 2\n"
	    "      --schema FILE         the reply follows this JSON schema\n"
	    "      --seed N              ask for deterministic sampling\n"
	    "      --stop TEXT           stop sequence (up to 4)\n"
	    "      --top-p N             nucleus sampling, 0 to 1\n"
	    "%s", argv0, OAI_COMMON_HELP);
	out_close();
	exit(0);
}

/* Append JSON text s without the whitespace between tokens, so bodies
 * and conversation lines stay one line whatever the input looked like. */
static void
compact(struct buf *b, const char *s, size_t n)
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
		else if (strchr(" \t\r\n", s[i])) {
			buf_add(b, s + start, i - start);
			start = i + 1;
		}
	}
	if (start < n)
		buf_add(b, s + start, n - start);
}

/* ---- messages -------------------------------------------------------- */

static struct buf tmp;		/* scratch for msgs_add */

static void
msgs_add(struct msgs *m, const char *json, size_t n)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->v = xreallocarray(m->v, m->cap, sizeof *m->v);
	}
	buf_reset(&tmp);
	compact(&tmp, json, n);
	m->v[m->n++] = xstrndup(tmp.s, tmp.len);
}

static void
msgs_clear(struct msgs *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i]);
	m->n = 0;
}

static void
msgs_free(struct msgs *m)
{
	msgs_clear(m);
	buf_free(&tmp);
	free(m->v);
	m->v = NULL;
	m->cap = 0;
}

/* {"role":ROLE,"content":TEXT} */
static void
msg_text(struct buf *b, const char *role, const char *text, size_t n)
{
	struct jw w;

	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "role");
	jw_str(&w, role);
	jw_key(&w, "content");
	jw_strn(&w, text, n);
	jw_obj_end(&w);
}

/* Is s[0..n) one JSON object with a string "role"? */
static int
ismessage(struct json *j, const char *s, size_t n)
{
	return json_parse(j, s, n) == 0 && json_type(j, 0) == JSON_OBJECT &&
	    json_type(j, json_get(j, 0, "role")) == JSON_STRING;
}

/*
 * Messages, one JSON object per line (blank lines skipped); what names
 * the source in errors.  With arrayok, the whole text may also be one
 * array of messages (--messages).
 */
static void
parsemessages(struct msgs *m, const char *s, size_t n, const char *what,
    int arrayok)
{
	struct json j = JSON_INIT;
	const char *p, *e, *end = s + n;
	size_t line = 0, tl;
	int i, t, k;

	if (arrayok && json_parse(&j, s, n) == 0 &&
	    json_type(&j, 0) == JSON_ARRAY) {
		k = json_size(&j, 0);
		for (i = 0, t = 1; i < k; i++, t = json_skip(&j, t)) {
			if (json_type(&j, t) != JSON_OBJECT ||
			    json_type(&j, json_get(&j, t, "role")) !=
			    JSON_STRING)
				die(OAI_EX_USAGE, "%s: element %d is not a "
				    "message object with a role", what, i + 1);
			p = json_text(&j, t, &tl);
			msgs_add(m, p, tl);
		}
		json_free(&j);
		return;
	}
	for (p = s; p < end; p = e + 1) {
		line++;
		if (!(e = memchr(p, '\n', (size_t)(end - p))))
			e = end;
		tl = (size_t)(e - p);
		if (strspn(p, " \t\r") >= tl)
			continue;
		if (!ismessage(&j, p, tl))
			die(OAI_EX_USAGE, "%s:%zu: not a JSON message object "
			    "with a role", what, line);
		msgs_add(m, p, tl);
	}
	json_free(&j);
}

/* ---- input ----------------------------------------------------------- */

static void
checkutf8(const struct buf *b, const char *what)
{
	size_t off;

	if ((off = utf8_invalid(b->s ? b->s : "", b->len)) != (size_t)-1)
		die(OAI_EX_USAGE, "%s is not valid UTF-8 at byte offset %zu",
		    what, off);
	if (memchr(b->s ? b->s : "", '\0', b->len))
		die(OAI_EX_USAGE, "%s contains a NUL byte", what);
}

static void
readinput(struct buf *b, const char *path)
{
	int rc;

	rc = strcmp(path, "-") == 0 ? buf_readfd(b, 0) : buf_readfile(b, path);
	if (rc < 0) {
		if (oai_interrupted)
			exit(oai_intr_status());
		edie(OAI_EX_USAGE, "%s", strcmp(path, "-") == 0 ?
		    "standard input" : path);
	}
}

/* Append part to the prompt, parts separated by a blank line. */
static void
addpart(struct buf *prompt, const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '\n')
		n--;
	if (n == 0)
		return;
	if (prompt->len)
		buf_adds(prompt, "\n\n");
	buf_add(prompt, s, n);
}

static const char *
imagetype(const unsigned char *p, size_t n)
{
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 ||
	    memcmp(p, "GIF89a", 6) == 0))
		return "image/gif";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0)
		return "image/webp";
	return NULL;
}

/* The url of an image part: URLs as given, files as data: URLs. */
static void
imageurl(struct buf *url, const char *arg)
{
	struct buf data = BUF_INIT;
	const char *type;

	if (strncmp(arg, "https://", 8) == 0 || strncmp(arg, "http://", 7) == 0 ||
	    strncmp(arg, "data:", 5) == 0) {
		buf_adds(url, arg);
		return;
	}
	readinput(&data, arg);
	if (!(type = imagetype((unsigned char *)data.s, data.len)))
		die(OAI_EX_USAGE, "%s: not a PNG, JPEG, GIF or WebP image",
		    arg);
	buf_printf(url, "data:%s;base64,", type);
	base64_encode(url, data.s, data.len);
	buf_free(&data);
}

/* The user message for a prompt and the --image options. */
static void
usermessage(struct buf *b, const char *text, size_t n)
{
	struct buf url = BUF_INIT;
	struct jw w;
	int i;

	if (opt.nimages == 0) {
		msg_text(b, "user", text, n);
		return;
	}
	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "role");
	jw_str(&w, "user");
	jw_key(&w, "content");
	jw_arr(&w);
	if (n) {
		jw_obj(&w);
		jw_key(&w, "type");
		jw_str(&w, "text");
		jw_key(&w, "text");
		jw_strn(&w, text, n);
		jw_obj_end(&w);
	}
	for (i = 0; i < opt.nimages; i++) {
		buf_reset(&url);
		imageurl(&url, opt.images[i]);
		jw_obj(&w);
		jw_key(&w, "type");
		jw_str(&w, "image_url");
		jw_key(&w, "image_url");
		jw_obj(&w);
		jw_key(&w, "url");
		jw_strn(&w, url.s, url.len);
		jw_obj_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	buf_free(&url);
}

static void
readschema(const char *path)
{
	struct buf b = BUF_INIT, c = BUF_INIT;
	struct json j = JSON_INIT;
	const char *base;
	char *p;
	size_t n;

	readinput(&b, path);
	if (json_parse(&j, b.s ? b.s : "", b.len) < 0 ||
	    json_type(&j, 0) != JSON_OBJECT)
		die(OAI_EX_USAGE, "%s: not a JSON schema object", path);
	json_free(&j);
	compact(&c, b.s, b.len);
	schema_json = buf_steal(&c, &n);
	buf_free(&b);
	/* The API wants a name matching ^[a-zA-Z0-9_-]{1,64}$. */
	base = strrchr(path, '/');
	schema_name = xstrdup(base ? base + 1 : path);
	if ((p = strchr(schema_name, '.')) && p != schema_name)
		*p = '\0';
	for (p = schema_name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-", *p))
			*p = '_';
	if (strlen(schema_name) > 64)
		schema_name[64] = '\0';
	if (!*schema_name || strcmp(path, "-") == 0) {
		free(schema_name);
		schema_name = xstrdup("schema");
	}
}

/* ---- request --------------------------------------------------------- */

static void
buildbody(struct buf *b, const char *model, const char *system,
    const struct msgs *m, int stream)
{
	struct buf sys = BUF_INIT;
	struct jw w;
	size_t i;
	int k;

	buf_reset(b);
	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "model");
	jw_str(&w, model);
	jw_key(&w, "messages");
	jw_arr(&w);
	if (system) {
		msg_text(&sys, "system", system, strlen(system));
		jw_raw(&w, sys.s, sys.len);
	}
	for (i = 0; i < m->n; i++)
		jw_raw(&w, m->v[i], strlen(m->v[i]));
	jw_arr_end(&w);
	if (stream) {
		jw_key(&w, "stream");
		jw_bool(&w, 1);
		if (opt.usage) {
			jw_key(&w, "stream_options");
			jw_obj(&w);
			jw_key(&w, "include_usage");
			jw_bool(&w, 1);
			jw_obj_end(&w);
		}
	}
	if (opt.has_temp) {
		jw_key(&w, "temperature");
		jw_num(&w, opt.temp);
	}
	if (opt.has_top_p) {
		jw_key(&w, "top_p");
		jw_num(&w, opt.top_p);
	}
	if (opt.has_max_tokens) {
		jw_key(&w, "max_completion_tokens");
		jw_int(&w, opt.max_tokens);
	}
	if (opt.nstop) {
		jw_key(&w, "stop");
		jw_arr(&w);
		for (k = 0; k < opt.nstop; k++)
			jw_str(&w, opt.stop[k]);
		jw_arr_end(&w);
	}
	if (opt.has_seed) {
		jw_key(&w, "seed");
		jw_int(&w, opt.seed);
	}
	if (opt.has_fpen) {
		jw_key(&w, "frequency_penalty");
		jw_num(&w, opt.fpen);
	}
	if (opt.has_ppen) {
		jw_key(&w, "presence_penalty");
		jw_num(&w, opt.ppen);
	}
	if (opt.jsonobj || schema_json) {
		jw_key(&w, "response_format");
		jw_obj(&w);
		jw_key(&w, "type");
		if (schema_json) {
			jw_str(&w, "json_schema");
			jw_key(&w, "json_schema");
			jw_obj(&w);
			jw_key(&w, "name");
			jw_str(&w, schema_name);
			jw_key(&w, "schema");
			jw_raw(&w, schema_json, strlen(schema_json));
			jw_key(&w, "strict");
			jw_bool(&w, 1);
			jw_obj_end(&w);
		} else
			jw_str(&w, "json_object");
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	buf_free(&sys);
}

/* ---- replies --------------------------------------------------------- */

/*
 * Content goes out as it comes, except trailing newlines beyond the
 * first: the reply ends with exactly one, and a line-reading consumer
 * gets each line as soon as its newline arrives.
 */
static void
emit(struct reply *r, const char *s, size_t n)
{
	size_t k = n;

	buf_add(&r->text, s, n);
	while (k > 0 && s[k - 1] == '\n')
		k--;
	if (k == 0 && (!r->printed || r->nlout)) {
		r->pendnl += n;
		return;
	}
	if (k > 0) {
		for (; r->pendnl; r->pendnl--)
			out_add("\n", 1);
		out_add(s, k);
		r->printed = 1;
		r->nlout = 0;
	}
	if (n > k) {
		out_add("\n", 1);
		r->nlout = 1;
		r->pendnl = n - k - 1;
	}
}

/*
 * End the text on its own line.  A reply that was cut short gets no
 * newline in a pipe, so what was printed is an exact prefix of the
 * reply; a terminal gets one so the prompt starts on a new line.
 */
static void
endtext(struct reply *r, int complete)
{
	if (r->printed && !r->nlout && (complete || isatty(1)))
		out_add("\n", 1);
	r->printed = r->nlout = 0;
	r->pendnl = 0;
}

static void
tooldelta(struct reply *r, const struct json *j, int tc)
{
	long long idx;
	int i, k, t, f;

	k = json_size(j, tc);
	for (i = 0, t = tc + 1; i < k; i++, t = json_skip(j, t)) {
		if (json_int(j, json_get(j, t, "index"), &idx) < 0)
			idx = i;
		if (idx < 0 || idx > 1000)
			continue;
		while (r->ntools <= idx) {
			r->tools = xreallocarray(r->tools, (size_t)r->ntools + 1,
			    sizeof *r->tools);
			memset(&r->tools[r->ntools++], 0, sizeof *r->tools);
		}
		json_str(j, json_get(j, t, "id"), &r->tools[idx].id);
		f = json_get(j, t, "function");
		json_str(j, json_get(j, f, "name"), &r->tools[idx].name);
		json_str(j, json_get(j, f, "arguments"), &r->tools[idx].args);
	}
}

static void
getusage(struct reply *r, const struct json *j, int u)
{
	if (json_type(j, u) != JSON_OBJECT)
		return;
	r->has_usage = 1;
	json_int(j, json_get(j, u, "prompt_tokens"), &r->ptok);
	json_int(j, json_get(j, u, "completion_tokens"), &r->ctok);
	json_int(j, json_get(j, u, "total_tokens"), &r->ttok);
}

/* What a chunk or a response says apart from content. */
static void
common(struct reply *r, const struct json *j, int choice)
{
	int t;

	if (!r->model && json_type(j, t = json_get(j, 0, "model")) ==
	    JSON_STRING)
		r->model = json_strdup(j, t);
	getusage(r, j, json_get(j, 0, "usage"));
	t = json_get(j, choice, "finish_reason");
	if (json_type(j, t) == JSON_STRING) {
		free(r->finish);
		r->finish = json_strdup(j, t);
	}
}

/* The exit status for an error object met inside a 200 response. */
static int
errorstatus(const struct json *j, int e)
{
	static const struct {
		const char *type;
		int status;
	} map[] = {
		{ "invalid_request_error", OAI_EX_REJECTED },
		{ "not_found_error", OAI_EX_REJECTED },
		{ "rate_limit_exceeded", OAI_EX_REJECTED },
		{ "rate_limit_error", OAI_EX_REJECTED },
		{ "insufficient_quota", OAI_EX_REJECTED },
		{ "authentication_error", OAI_EX_AUTH },
		{ "invalid_api_key", OAI_EX_AUTH },
		{ "permission_error", OAI_EX_AUTH },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof *map; i++)
		if (json_streq(j, json_get(j, e, "type"), map[i].type) ||
		    json_streq(j, json_get(j, e, "code"), map[i].type))
			return map[i].status;
	return OAI_EX_FAILURE;
}

static int
onevent(void *ctx, const struct sse_event *ev)
{
	struct reply *r = ctx;
	struct json *j = &r->j;
	struct buf line = BUF_INIT;
	int ch, d, t;

	if (oai_interrupted)
		return oai_intr_status();
	if (r->done)
		return 0;
	if (strcmp(ev->data, "[DONE]") == 0) {
		r->done = 1;
		return 0;
	}
	if (json_parse(j, ev->data, ev->datalen) < 0 ||
	    json_type(j, 0) != JSON_OBJECT) {
		if (ev->datalen == 0)
			return 0;
		warnx("unexpected data in the stream: not a JSON object");
		return OAI_EX_FAILURE;
	}
	if ((t = json_get(j, 0, "error")) >= 0 ||
	    strcmp(ev->event, "error") == 0) {
		endtext(r, 0);
		out_flush();
		oai_error_line(&line, 0, ev->data, ev->datalen);
		warnx("%s", line.len ? line.s : "error event in the stream");
		buf_free(&line);
		return r->status = errorstatus(j, t);
	}
	if (opt.json) {
		out_add(ev->data, ev->datalen);
		out_add("\n", 1);
	}
	ch = json_path(j, 0, "choices.0");
	common(r, j, ch);
	d = json_get(j, ch, "delta");
	if (json_type(j, t = json_get(j, d, "refusal")) == JSON_STRING)
		json_str(j, t, &r->refusal);
	if (json_type(j, t = json_get(j, d, "tool_calls")) == JSON_ARRAY)
		tooldelta(r, j, t);
	if (json_type(j, t = json_get(j, d, "content")) == JSON_STRING) {
		struct buf s = BUF_INIT;

		json_str(j, t, &s);
		if (opt.json)
			buf_add(&r->text, s.s, s.len);
		else if (s.len)
			emit(r, s.s, s.len);
		buf_free(&s);
	}
	out_flush();
	return 0;
}

static int
sink(void *ctx, const char *p, size_t n)
{
	struct reply *r = ctx;

	if (oai_interrupted)
		return oai_intr_status();
	return sse_feed(&r->sse, p, n);
}

static void
reply_init(struct reply *r)
{
	memset(r, 0, sizeof *r);
	sse_init(&r->sse, onevent, r);
}

static void
reply_free(struct reply *r)
{
	int i;

	sse_free(&r->sse);
	json_free(&r->j);
	buf_free(&r->text);
	buf_free(&r->refusal);
	for (i = 0; i < r->ntools; i++) {
		buf_free(&r->tools[i].id);
		buf_free(&r->tools[i].name);
		buf_free(&r->tools[i].args);
	}
	free(r->tools);
	free(r->finish);
	free(r->model);
}

/* Non-streamed: the response body in one piece. */
static int
wholereply(struct reply *r, const struct buf *body)
{
	struct json *j = &r->j;
	struct buf s = BUF_INIT;
	int ch, m, t;

	if (opt.json) {
		out_add(body->s, body->len);
		if (body->len == 0 || body->s[body->len - 1] != '\n')
			out_add("\n", 1);
	}
	if (json_parse(j, body->s ? body->s : "", body->len) < 0 ||
	    json_type(j, 0) != JSON_OBJECT ||
	    json_type(j, ch = json_path(j, 0, "choices.0")) != JSON_OBJECT) {
		warnx("unexpected response: not a chat completion");
		return OAI_EX_FAILURE;
	}
	common(r, j, ch);
	m = json_get(j, ch, "message");
	if (json_type(j, t = json_get(j, m, "refusal")) == JSON_STRING)
		json_str(j, t, &r->refusal);
	if (json_type(j, t = json_get(j, m, "tool_calls")) == JSON_ARRAY)
		tooldelta(r, j, t);
	if (json_type(j, t = json_get(j, m, "content")) == JSON_STRING) {
		json_str(j, t, &s);
		if (opt.json)
			buf_add(&r->text, s.s, s.len);
		else if (s.len)
			emit(r, s.s, s.len);
	}
	buf_free(&s);
	r->done = 1;
	return 0;
}

static void
printtools(struct reply *r)
{
	struct buf b = BUF_INIT;
	struct jw w;
	int i;

	for (i = 0; i < r->ntools; i++) {
		buf_reset(&b);
		jw_init(&w, &b);
		jw_obj(&w);
		jw_key(&w, "id");
		jw_strn(&w, r->tools[i].id.s ? r->tools[i].id.s : "",
		    r->tools[i].id.len);
		jw_key(&w, "type");
		jw_str(&w, "function");
		jw_key(&w, "function");
		jw_obj(&w);
		jw_key(&w, "name");
		jw_strn(&w, r->tools[i].name.s ? r->tools[i].name.s : "",
		    r->tools[i].name.len);
		jw_key(&w, "arguments");
		jw_strn(&w, r->tools[i].args.s ? r->tools[i].args.s : "",
		    r->tools[i].args.len);
		jw_obj_end(&w);
		jw_obj_end(&w);
		buf_addc(&b, '\n');
		out_add(b.s, b.len);
	}
	buf_free(&b);
}

/* ---- usage and prices ------------------------------------------------ */

struct price {
	char *model;
	double in, out;		/* dollars per million tokens */
};

static struct price *prices;
static size_t nprices;

static void
setprice(const char *model, double in, double out)
{
	size_t i;

	for (i = 0; i < nprices; i++)
		if (strcmp(prices[i].model, model) == 0)
			break;
	if (i == nprices) {
		prices = xreallocarray(prices, ++nprices, sizeof *prices);
		prices[i].model = xstrdup(model);
	}
	prices[i].in = in;
	prices[i].out = out;
}

/* OAI_PRICES: lines "MODEL INPUT OUTPUT" in dollars per million
 * tokens; # starts a comment. */
static void
loadprices(void)
{
	struct buf b = BUF_INIT;
	const char *path = getenv("OAI_PRICES");
	char *line, *save = NULL, *m, *a, *c, *end1, *end2;
	double in, out;
	size_t n = 0;

	setprice("gpt-4o", 5, 15);
	setprice("gpt-4-turbo", 10, 30);
	setprice("gpt-3.5-turbo", 0.5, 1.5);
	if (!path || !*path)
		return;
	if (buf_readfile(&b, path) < 0) {
		warnx("OAI_PRICES: %s: %s", path, strerror(errno));
		return;
	}
	for (line = strtok_r(b.s, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		n++;
		if ((m = strchr(line, '#')))
			*m = '\0';
		if (!(m = strtok(line, " \t\r")))
			continue;
		a = strtok(NULL, " \t\r");
		c = strtok(NULL, " \t\r");
		if (!a || !c || strtok(NULL, " \t\r") ||
		    (in = strtod(a, &end1)) < 0 || *end1 ||
		    (out = strtod(c, &end2)) < 0 || *end2) {
			warnx("OAI_PRICES: %s:%zu: expected MODEL INPUT OUTPUT",
			    path, n);
			continue;
		}
		setprice(m, in, out);
	}
	buf_free(&b);
}

/* A model's prices: its exact name, or a known name followed by a
 * dated snapshot suffix ("gpt-4o-2024-08-06", "gpt-3.5-turbo-0125"). */
static const struct price *
findprice(const char *model)
{
	size_t i, k;

	for (i = 0; i < nprices; i++)
		if (strcmp(prices[i].model, model) == 0)
			return &prices[i];
	for (i = 0; i < nprices; i++) {
		k = strlen(prices[i].model);
		if (strncmp(prices[i].model, model, k) == 0 &&
		    model[k] == '-' && model[k + 1] >= '0' &&
		    model[k + 1] <= '9')
			return &prices[i];
	}
	return NULL;
}

static void
printusage(const struct reply *r, const char *model)
{
	const struct price *p;

	if (!r->has_usage) {
		warnx("usage: not reported by the server");
		return;
	}
	if (!prices)
		loadprices();
	/* The server's name is the truth: gpt-4o-mini is not gpt-4o. */
	p = findprice(r->model ? r->model : model);
	if (p)
		warnx("usage: %lld prompt + %lld completion = %lld tokens, "
		    "$%.6f", r->ptok, r->ctok, r->ttok,
		    ((double)r->ptok * p->in + (double)r->ctok * p->out) / 1e6);
	else
		warnx("usage: %lld prompt + %lld completion = %lld tokens",
		    r->ptok, r->ctok, r->ttok);
}

/* ---- one exchange ---------------------------------------------------- */

/*
 * Send the messages and print the reply.  Returns an exit status; r
 * holds the reply, complete when the status is 0.
 */
static int
chat(struct oai *o, const char *model, const char *system,
    const struct msgs *m, struct reply *r)
{
	struct buf body = BUF_INIT;
	struct oai_req rq = { .method = "POST", .path = "/chat/completions" };
	struct oai_resp rs = OAI_RESP_INIT;
	int rc;

	buildbody(&body, model, system, m, !opt.nostream);
	rq.body = body.s;
	rq.bodylen = body.len;
	if (!opt.nostream) {
		rq.stream = 1;
		rq.accept = "text/event-stream";
		rq.sink = sink;
		rq.sink_ctx = r;
		rq.complete = &r->done;
	}
	rc = oai_request(o, &rq, &rs);
	if (rc == 0 && opt.nostream)
		rc = wholereply(r, &rs.body);
	if (rc == 0 && !r->done) {
		endtext(r, 0);
		out_flush();
		warnx("the stream ended before [DONE]: the reply is "
		    "incomplete");
		rc = OAI_EX_FAILURE;
	}
	endtext(r, rc == 0);
	out_flush();
	if (rc == 0) {
		printtools(r);
		out_flush();
		if (r->refusal.len) {
			struct buf line = BUF_INIT;

			/* The model's words, one line, no escapes reach
			 * the terminal. */
			buf_addline(&line, r->refusal.s, r->refusal.len);
			warnx("refusal: %s", line.s ? line.s : "");
			buf_free(&line);
			rc = OAI_EX_NEGATIVE;
		}
		if (r->finish && strcmp(r->finish, "length") == 0)
			warnx("warning: the reply was cut at the token limit "
			    "(finish_reason length)");
		else if (r->finish && strcmp(r->finish, "content_filter") == 0)
			warnx("warning: the reply was cut by the content "
			    "filter (finish_reason content_filter)");
		if (opt.usage)
			printusage(r, model);
	}
	oai_resp_free(&rs);
	buf_free(&body);
	return rc;
}

/* ---- conversations --------------------------------------------------- */

static void
loadconv(struct msgs *m, const char *path)
{
	struct buf b = BUF_INIT;

	if (buf_readfile(&b, path) < 0) {
		if (errno == ENOENT) {
			/* A new file: its directory must be there, or the
			 * reply would be paid for and then not kept. */
			char *dir = xstrdup(path), *sl = strrchr(dir, '/');
			int fd;

			if (sl)
				*(sl == dir ? sl + 1 : sl) = '\0';
			if ((fd = open(sl ? dir : ".", O_RDONLY | O_DIRECTORY))
			    < 0)
				edie(OAI_EX_USAGE, "%s", path);
			close(fd);
			free(dir);
			return;
		}
		edie(OAI_EX_USAGE, "%s", path);
	}
	checkutf8(&b, path);
	parsemessages(m, b.s ? b.s : "", b.len, path, 0);
	buf_free(&b);
}

/*
 * Append messages [from, m->n) and the reply to the conversation file.
 * Built first, written with one write() to an O_APPEND descriptor, so a
 * reader or an interruption never sees half a line.
 */
static void
saveconv(const char *path, const struct msgs *m, size_t from,
    const struct reply *r)
{
	struct buf b = BUF_INIT;
	struct buf last = BUF_INIT;
	ssize_t w;
	off_t end;
	char c;
	int fd;

	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) < 0) {
		edie(OAI_EX_FAILURE, "%s", path);
	}
	/* A hand-edited file may lack its last newline. */
	if ((end = lseek(fd, 0, SEEK_END)) > 0 &&
	    pread(fd, &c, 1, end - 1) == 1 && c != '\n')
		buf_addc(&b, '\n');
	for (; from < m->n; from++) {
		buf_adds(&b, m->v[from]);
		buf_addc(&b, '\n');
	}
	msg_text(&last, "assistant", r->text.s ? r->text.s : "", r->text.len);
	buf_add(&b, last.s, last.len);
	buf_addc(&b, '\n');
	do
		w = write(fd, b.s, b.len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		edie(OAI_EX_FAILURE, "%s", path);
	if ((size_t)w != b.len) {
		/* Take the partial lines back out rather than corrupt. */
		if (ftruncate(fd, end) < 0) {}
		die(OAI_EX_FAILURE, "%s: short write", path);
	}
	if (close(fd) < 0)
		edie(OAI_EX_FAILURE, "%s", path);
	buf_free(&b);
	buf_free(&last);
}

/* ---- interactive ----------------------------------------------------- */

static void
ihelp(void)
{
	fputs("/system TEXT  set the system message (none: remove it)\n"
	    "/model NAME   switch models\n"
	    "/reset        start a new conversation (the file is kept)\n"
	    "/help         this text\n"
	    "Ctrl-C stops a reply, Ctrl-D leaves.\n", stderr);
}

static int
interactive(struct oai *o, struct msgs *hist)
{
	char *line, *model = xstrdup(opt.model), *system = NULL;
	struct buf um = BUF_INIT;
	struct reply r;
	size_t n;
	int rc, status = 0;

	if (opt.system)
		system = xstrdup(opt.system);
	rl_readline_name = "oai-chat";
	fprintf(stderr, "%s: model %s; /help for commands, Ctrl-D to leave\n",
	    argv0, model);
	for (;;) {
		oai_interrupted = 0;
		line = readline("> ");
		if (oai_interrupted) {
			/* Ctrl-C at the prompt drops the line, like a shell. */
			if (oai_interrupted != SIGINT) {
				status = oai_intr_status();
				break;
			}
			fputc('\n', stderr);
			free(line);
			continue;
		}
		if (!line)
			break;
		n = strlen(line);
		if (n == 0 || strspn(line, " \t") == n) {
			free(line);
			continue;
		}
		add_history(line);
		if (line[0] == '/') {
			char *arg = line + strcspn(line, " \t");

			arg += strspn(arg, " \t");
			if (strncmp(line, "/system", 7) == 0 &&
			    strchr(" \t", line[7])) {
				free(system);
				system = *arg ? xstrdup(arg) : NULL;
			} else if (strncmp(line, "/model", 6) == 0 &&
			    strchr(" \t", line[6])) {
				if (*arg) {
					free(model);
					model = xstrdup(arg);
				}
				fprintf(stderr, "model %s\n", model);
			} else if (strcmp(line, "/reset") == 0)
				msgs_clear(hist);
			else if (strcmp(line, "/help") == 0)
				ihelp();
			else
				fprintf(stderr, "unknown command %s; /help "
				    "lists them\n", line);
			free(line);
			continue;
		}
		if (utf8_invalid(line, n) != (size_t)-1) {
			warnx("the line is not valid UTF-8");
			free(line);
			continue;
		}
		buf_reset(&um);
		msg_text(&um, "user", line, n);
		free(line);
		msgs_add(hist, um.s, um.len);
		reply_init(&r);
		rc = chat(o, model, system, hist, &r);
		if (rc == 0) {
			if (opt.conv)
				saveconv(opt.conv, hist, hist->n - 1, &r);
			buf_reset(&um);
			msg_text(&um, "assistant", r.text.s ? r.text.s : "",
			    r.text.len);
			msgs_add(hist, um.s, um.len);
		} else {
			/* Not answered: the question is not history. */
			free(hist->v[--hist->n]);
			if (rc == OAI_EX_INTR || rc == 143) {
				if (oai_interrupted == SIGTERM) {
					status = oai_intr_status();
					reply_free(&r);
					break;
				}
				fprintf(stderr, "[interrupted]\n");
			}
		}
		reply_free(&r);
	}
	fputc('\n', stderr);
	buf_free(&um);
	free(model);
	free(system);
	return status;
}

/* ---- main ------------------------------------------------------------ */

static void
options(struct oai *o, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "conversation", required_argument, NULL, 'c' },
		{ "file", required_argument, NULL, 'f' },
		{ "model", required_argument, NULL, 'm' },
		{ "system", required_argument, NULL, 's' },
		{ "temperature", required_argument, NULL, 't' },
		{ "usage", no_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "frequency-penalty", required_argument, NULL, OPT_FREQ },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "json-object", no_argument, NULL, OPT_JSON_OBJECT },
		{ "max-tokens", required_argument, NULL, OPT_MAX_TOKENS },
		{ "messages", no_argument, NULL, OPT_MESSAGES },
		{ "no-stream", no_argument, NULL, OPT_NO_STREAM },
		{ "presence-penalty", required_argument, NULL, OPT_PRES },
		{ "schema", required_argument, NULL, OPT_SCHEMA },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "stop", required_argument, NULL, OPT_STOP },
		{ "top-p", required_argument, NULL, OPT_TOP_P },
		OAI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:f:hm:s:t:uv", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'c':
			opt.conv = optarg;
			break;
		case 'f':
			opt.files = xreallocarray(opt.files,
			    (size_t)opt.nfiles + 1, sizeof *opt.files);
			opt.files[opt.nfiles++] = optarg;
			break;
		case 'h':
		case OPT_HELP:
			help();
			break;
		case 'm':
			if (!*optarg)
				die(OAI_EX_USAGE, "--model: empty model name");
			opt.model = optarg;
			break;
		case 's':
			opt.system = optarg;
			break;
		case 't':
			opt.temp = xstrtod("--temperature", optarg, 0, 2);
			opt.has_temp = 1;
			break;
		case 'u':
			opt.usage = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case OPT_DRY_RUN:
			opt.dryrun = 1;
			break;
		case OPT_FREQ:
			opt.fpen = xstrtod("--frequency-penalty", optarg, -2, 2);
			opt.has_fpen = 1;
			break;
		case OPT_IMAGE:
			opt.images = xreallocarray(opt.images,
			    (size_t)opt.nimages + 1, sizeof *opt.images);
			opt.images[opt.nimages++] = optarg;
			break;
		case OPT_JSON:
			opt.json = 1;
			break;
		case OPT_JSON_OBJECT:
			opt.jsonobj = 1;
			break;
		case OPT_MAX_TOKENS:
			opt.max_tokens = xstrtonum("--max-tokens", optarg, 1,
			    2147483647LL);
			opt.has_max_tokens = 1;
			break;
		case OPT_MESSAGES:
			opt.messages = 1;
			break;
		case OPT_NO_STREAM:
			opt.nostream = 1;
			break;
		case OPT_PRES:
			opt.ppen = xstrtod("--presence-penalty", optarg, -2, 2);
			opt.has_ppen = 1;
			break;
		case OPT_SCHEMA:
			opt.schema = optarg;
			break;
		case OPT_SEED:
			opt.seed = xstrtonum("--seed", optarg,
			    -9223372036854775807LL - 1, 9223372036854775807LL);
			opt.has_seed = 1;
			break;
		case OPT_STOP:
			if (opt.nstop == 4)
				die(OAI_EX_USAGE, "--stop: at most 4 stop "
				    "sequences");
			if (!*optarg)
				die(OAI_EX_USAGE, "--stop: empty sequence");
			opt.stop[opt.nstop++] = optarg;
			break;
		case OPT_TOP_P:
			opt.top_p = xstrtod("--top-p", optarg, 0, 1);
			opt.has_top_p = 1;
			break;
		default:
			if (!oai_option(o, c, optarg))
				usage();
		}
	}
	if (opt.jsonobj && opt.schema)
		die(OAI_EX_USAGE, "--json-object and --schema exclude each "
		    "other");
	if (opt.messages && (opt.nfiles || opt.nimages))
		die(OAI_EX_USAGE, "--messages excludes --file and --image");
}

int
main(int argc, char *argv[])
{
	struct oai o;
	struct msgs m = { NULL, 0, 0 };
	struct buf prompt = BUF_INIT, in = BUF_INIT, um = BUF_INIT;
	struct reply r;
	const char *s;
	size_t hist;
	int i, rc, tty, stdinused = 0;

	oai_init(&o, argc, argv);
	options(&o, argc, argv);
	argc -= optind;
	argv += optind;
	if (!opt.model)
		opt.model = (s = getenv("OAI_CHAT_MODEL")) && *s ? s : "gpt-4o";
	for (i = 0; i < argc; i++)
		if (utf8_invalid(argv[i], strlen(argv[i])) != (size_t)-1)
			die(OAI_EX_USAGE, "the prompt is not valid UTF-8");
	if (opt.system && utf8_invalid(opt.system, strlen(opt.system)) !=
	    (size_t)-1)
		die(OAI_EX_USAGE, "--system: not valid UTF-8");
	if (opt.schema)
		readschema(opt.schema);
	tty = isatty(0);
	if (opt.conv)
		loadconv(&m, opt.conv);
	hist = m.n;

	if (!opt.messages && argc == 0 && !opt.nfiles && !opt.nimages &&
	    tty) {
		if (opt.dryrun)
			die(OAI_EX_USAGE, "no prompt: give it as arguments or "
			    "on standard input");
		oai_setup(&o);
		rc = interactive(&o, &m);
		msgs_free(&m);
		out_close();
		oai_cleanup(&o);
		return rc;
	}

	if (opt.messages) {
		if (argc)
			die(OAI_EX_USAGE, "--messages takes no prompt "
			    "arguments");
		readinput(&in, "-");
		checkutf8(&in, "standard input");
		parsemessages(&m, in.s ? in.s : "", in.len, "standard input",
		    1);
		if (m.n == hist)
			die(OAI_EX_USAGE, "--messages: no messages on standard "
			    "input");
	} else {
		for (i = 0; i < opt.nfiles; i++)
			if (strcmp(opt.files[i], "-") == 0)
				stdinused = 1;
		if (!tty && !stdinused) {
			readinput(&in, "-");
			checkutf8(&in, "standard input");
			addpart(&prompt, in.s ? in.s : "", in.len);
		}
		for (i = 0; i < opt.nfiles; i++) {
			buf_reset(&in);
			readinput(&in, opt.files[i]);
			checkutf8(&in, strcmp(opt.files[i], "-") == 0 ?
			    "standard input" : opt.files[i]);
			addpart(&prompt, in.s ? in.s : "", in.len);
		}
		buf_reset(&in);
		for (i = 0; i < argc; i++) {
			if (i)
				buf_addc(&in, ' ');
			buf_adds(&in, argv[i]);
		}
		addpart(&prompt, in.s ? in.s : "", in.len);
		if (prompt.len == 0 && !opt.nimages)
			die(OAI_EX_USAGE, "no prompt: give it as arguments or "
			    "on standard input");
		usermessage(&um, prompt.s ? prompt.s : "", prompt.len);
		msgs_add(&m, um.s, um.len);
	}

	if (opt.dryrun) {
		buildbody(&um, opt.model, opt.system, &m, !opt.nostream);
		out_add(um.s, um.len);
		out_add("\n", 1);
		rc = 0;
	} else {
		oai_setup(&o);
		reply_init(&r);
		rc = chat(&o, opt.model, opt.system, &m, &r);
		if (opt.conv && rc == 0)
			saveconv(opt.conv, &m, hist, &r);
		reply_free(&r);
	}
	buf_free(&prompt);
	buf_free(&in);
	buf_free(&um);
	msgs_free(&m);
	out_close();
	oai_cleanup(&o);
	return rc;
}
