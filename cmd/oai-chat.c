/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oai.h"

/*
 * oai-chat: chat completions as a text filter and an interactive chat.
 * Messages are kept as JSON texts (one object each), built by the jw_
 * writer or checked by the parser, so the request body is assembled by
 * inserting them verbatim.
 */

struct tool {			/* a streamed tool call, put together */
	struct buf id, name, args;
};

/* One reply being received (streamed or not). */
struct reply {
	struct oai_events ev;	/* ev.done: [DONE] seen */
	struct buf text;	/* the whole content, for conversations */
	struct buf refusal;
	struct tool *tools;
	int ntools;
	struct choices cs;	/* the content as it is printed (-n: all) */
	char *finish;		/* finish_reason of choice 0 */
	char *model;		/* model the server names */
	struct oai_usage usage;	/* usage.requests: reported */
	int cut;		/* interrupted: its calls are not kept */
};

static struct {
	const char *model, *system, *conv;
	struct oai_list files, images;
	int nostream, json, usage, dryrun, messages;
	int each, format, resume;	/* map mode */
	int streamusage;	/* -u or --meta-fd: ask streams for usage */
	long long parallel;
	int has_parallel;
	double budget;
	const char *output;
	/* tool calling */
	struct oai_list toolpaths;
	const char *toolsfile;
	long long rounds, tooltimeout;
	int confirm;
	/* saved conversations (issue 14) */
	int cont, list, nosave;
	int listroles;
} opt = { .rounds = 8, .tooltimeout = 60, .parallel = 4 };

#define MAXCHOICES 128	/* the API's limit on n */

enum { FMT_TEXT, FMT_JSONL };	/* as in formats[] */
static const char *const formats[] = { "text", "jsonl", NULL };

static const struct oai_opt opts[] = {
	OAI_STR('c', "conversation", "file", &opt.conv,
	    "keep the conversation in file (JSONL)"),
	OAI_FLAG('C', "continue", &opt.cont,
	    "continue the conversation saved last"),
	OAI_LIST('f', "file", "file", &opt.files,
	    "add file's text to the prompt (- is stdin)"),
	OAI_NAME('m', "model", "model", &opt.model, "model name",
	    "model (default $OAI_CHAT_MODEL or gpt-4o)"),
	OAI_INT('n', "choices", "n", &oai_chatreq.n, &oai_chatreq.has_n, 1, MAXCHOICES,
	    "how many replies, 1 to 128 (printed in\nturn, a line --- "
	    "between two)"),
	OAI_NAME('o', "output", "file", &opt.output, "file name",
	    "--each: write to file as lines are done"),
	OAI_INT('P', "parallel", "n", &opt.parallel, &opt.has_parallel, 1, 64,
	    "--each: requests in flight (default 4)"),
	OAI_FN('r', "role", "name", oai_opt_role,
	    "a role's options and system message\n(oai(7) CONFIGURATION)"),
	OAI_TEXT('s', "system", "text | @file", &opt.system,
	    "system message (@file: file's text)"),
	OAI_CHAT_TEMPERATURE,
	OAI_FLAG('u', "usage", &opt.usage,
	    "print token usage and cost on stderr"),
	OAI_FLAG(0, "dry-run", &opt.dryrun,
	    "print the request body, send nothing"),
	OAI_FLAG(0, "confirm", &opt.confirm,
	    "--tool: ask at the terminal before each run"),
	OAI_NUM(0, "budget", "usd", &opt.budget, NULL, 0.000001, 1e9,
	    "--each: send no more requests once the\n"
	    "cost would pass usd dollars"),
	OAI_FLAG(0, "each", &opt.each,
	    "one prompt per line of standard input,\n"
	    "one reply per line of output"),
	OAI_CHOICE(0, "format", "text | jsonl", &opt.format, formats,
	    "--each: escaped text lines (default) or\n"
	    "JSON objects"),
	OAI_CHAT_FREQUENCY_PENALTY,
	OAI_LIST(0, "image", "file | url", &opt.images,
	    "add an image (repeatable)"),
	OAI_FLAG(0, "json", &opt.json,
	    "print the API's JSON (streams: one\nchunk per line)"),
	OAI_CHAT_JSON_OBJECT,
	OAI_FLAG(0, "list-conversations", &opt.list,
	    "list the saved conversations (--json:\nJSON lines)"),
	OAI_FLAG(0, "list-roles", &opt.listroles,
	    "list the roles -r takes"),
	OAI_CHAT_LOGIT_BIAS,
	OAI_CHAT_LOGPROBS,
	OAI_INT(0, "max-tool-rounds", "n", &opt.rounds, NULL, 1, 1000,
	    "--tool: rounds of calls before a reply\n(default 8)"),
	OAI_CHAT_MAX_TOKENS,
	OAI_FLAG(0, "messages", &opt.messages,
	    "read a JSON array of messages (or one\nper line) from stdin"),
	OAI_CHAT_METADATA,
	OAI_FLAG(0, "no-save", &opt.nosave,
	    "save no conversation or line history\n(also OAI_NO_HISTORY=1)"),
	OAI_FLAG(0, "no-stream", &opt.nostream, "wait for the whole reply"),
	OAI_CHAT_PARAM,
	OAI_CHAT_PREDICTION,
	OAI_CHAT_PRESENCE_PENALTY,
	OAI_CHAT_REASONING_EFFORT,
	OAI_FLAG(0, "resume", &opt.resume,
	    "--each -o file: skip the lines file answers"),
	OAI_CHAT_SCHEMA,
	OAI_CHAT_SEED,
	OAI_CHAT_SERVICE_TIER,
	OAI_CHAT_STOP,
	OAI_CHAT_STORE,
	OAI_LIST(0, "tool", "path", &opt.toolpaths,
	    "offer an executable as a function the\nmodel may call "
	    "(repeatable)"),
	OAI_INT(0, "tool-timeout", "seconds", &opt.tooltimeout, NULL, 1, 86400,
	    "--tool: the longest a run may take\n(default 60)"),
	OAI_STR(0, "tools", "file", &opt.toolsfile,
	    "send the tool definitions in file; print\nthe calls, "
	    "status 6"),
	OAI_CHAT_TOP_P,
	OAI_CHAT_VERBOSITY,
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[prompt ...]",
	"Send a prompt to the chat completions API and stream the reply.\n"
	"The prompt is the arguments joined by spaces, standard input, or\n"
	"both (standard input first).  With no prompt and standard input\n"
	"a terminal, start an interactive chat.",
	opts
};

/* ---- messages -------------------------------------------------------- */

/* Messages from a conversation file or --messages (msgs_parse()). */
static void
parsemessages(struct msgs *m, const char *s, size_t n, const char *what,
    int arrayok)
{
	struct buf err = BUF_INIT;

	if (msgs_parse(m, s, n, what, arrayok, &err) < 0)
		die(OAI_EX_USAGE, "%s", err.s);
}

/* ---- input ----------------------------------------------------------- */

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
	input_read(&data, arg);
	if (!(type = image_type(data.s, data.len)))
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

	if (opt.images.n == 0) {
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
	for (i = 0; i < opt.images.n; i++) {
		buf_reset(&url);
		imageurl(&url, opt.images.v[i]);
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

/* ---- tool definitions ------------------------------------------------ */

/* --tool: an executable offered as a function; --tools: raw ones. */
struct ftool {
	char *path, *name;
};

static struct ftool *ftools;
static int nftools;
static struct buf tooldefs = BUF_INIT;	/* the "tools" array, or empty */

#define TOOL_MAX ((size_t)1 << 20)	/* of a run's output, of --schema */

/* The function's name: the file's name up to a dot, as the API wants
 * it (^[a-zA-Z0-9_-]{1,64}$). */
static char *
toolname(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;
	char *name;

	base = base ? base + 1 : path;
	n = strcspn(base, ".");
	if (n == 0 || n > 64 || strspn(base, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") < n)
		die(OAI_EX_USAGE, "--tool: %s: a tool's name (its file name "
		    "up to a dot) is 1 to 64 letters, digits, _ or -", path);
	name = xstrndup(base, n);
	return name;
}

/* What `PATH --schema` prints, or PATH.json. */
static void
toolschema(struct buf *b, const char *path)
{
	struct proc p = { .timeout_ms = opt.tooltimeout * 1000,
		.max = TOOL_MAX, .out = BUF_INIT };
	struct buf side = BUF_INIT;
	char *argv[] = { (char *)path, "--schema", NULL };

	buf_printf(&side, "%s.json", path);
	if (access(side.s, F_OK) == 0) {
		input_read(b, side.s);
		buf_free(&side);
		return;
	}
	buf_free(&side);
	if (run_program(&p, argv, NULL, 0) < 0)
		edie(OAI_EX_USAGE, "--tool: %s", path);
	if (p.interrupted)
		exit(oai_intr_status());
	if (p.timedout || p.truncated || p.status != 0)
		die(OAI_EX_USAGE, "--tool: %s --schema: %s", path,
		    p.timedout ? "timed out" : p.truncated ? "too long" :
		    "failed (and there is no PATH.json)");
	buf_add(b, p.out.s, p.out.len);
	buf_free(&p.out);
}

/* {"type":"function","function":{"name","description","parameters"}}
 * from a schema: {"description", "parameters"}, or the parameters'
 * JSON schema itself. */
static void
tooldef(struct jw *w, const char *path, const char *name)
{
	struct buf b = BUF_INIT;
	struct json j = JSON_INIT;
	const char *t;
	size_t n;
	int d, p;

	toolschema(&b, path);
	if (json_parse(&j, b.s, b.len) < 0 || json_type(&j, 0) != JSON_OBJECT)
		die(OAI_EX_USAGE, "--tool: %s: its schema is not a JSON "
		    "object", path);
	d = json_get(&j, 0, "description");
	p = json_get(&j, 0, "parameters");
	if (p < 0 && d < 0)
		p = 0;
	jw_obj(w);
	jw_key(w, "type");
	jw_str(w, "function");
	jw_key(w, "function");
	jw_obj(w);
	jw_key(w, "name");
	jw_str(w, name);
	if ((t = json_text(&j, d, &n))) {
		jw_key(w, "description");
		jw_raw(w, t, n);
	}
	if ((t = json_text(&j, p, &n))) {
		jw_key(w, "parameters");
		jw_raw(w, "", 0);
		json_compact(w->b, t, n);
	}
	jw_obj_end(w);
	jw_obj_end(w);
	json_free(&j);
	buf_free(&b);
}

/* --tool and --tools into tooldefs, before anything is sent. */
static void
loadtools(void)
{
	struct json j = JSON_INIT;
	struct buf b = BUF_INIT;
	struct jw w;
	int i;

	if (opt.toolsfile) {
		input_read(&b, opt.toolsfile);
		if (json_parse(&j, b.s, b.len) < 0 ||
		    json_type(&j, 0) != JSON_ARRAY || json_size(&j, 0) == 0)
			die(OAI_EX_USAGE, "--tools: %s: not a JSON array of "
			    "tool definitions", opt.toolsfile);
		json_compact(&tooldefs, b.s, b.len);
		json_free(&j);
		buf_free(&b);
		return;
	}
	if (!opt.toolpaths.n)
		return;
	ftools = xcalloc((size_t)opt.toolpaths.n, sizeof *ftools);
	jw_init(&w, &tooldefs);
	jw_arr(&w);
	for (i = 0; i < opt.toolpaths.n; i++) {
		ftools[i].path = xstrdup(opt.toolpaths.v[i]);
		ftools[i].name = toolname(ftools[i].path);
		if (access(ftools[i].path, X_OK) < 0)
			edie(OAI_EX_USAGE, "--tool: %s", ftools[i].path);
		tooldef(&w, ftools[i].path, ftools[i].name);
		nftools++;
	}
	jw_arr_end(&w);
}

/* ---- request --------------------------------------------------------- */

static void
buildbody(struct buf *b, const char *model, const char *system,
    const struct msgs *m, int stream)
{
	chat_body(b, &(struct chatbody){ model, system, stream,
	    opt.streamusage, &tooldefs }, m);
}

/* ---- replies --------------------------------------------------------- */

/*
 * Add tool call pieces to the reply.  An index is where a streamed piece
 * goes; one past MAXTOOLS is a broken or hostile server (it would make us
 * print that many empty calls): -1, after saying so.
 */
#define MAXTOOLS 128

static int
tooldelta(struct reply *r, const struct json *j, int tc)
{
	long long idx;
	int i, k, t, f;

	k = json_size(j, tc);
	for (i = 0, t = tc + 1; i < k; i++, t = json_skip(j, t)) {
		if (json_int(j, json_get(j, t, "index"), &idx) < 0)
			idx = i;
		if (idx < 0 || idx >= MAXTOOLS) {
			warnx("unexpected response: tool call index %lld "
			    "(0 to %d)", idx, MAXTOOLS - 1);
			return -1;
		}
		while (r->ntools <= idx) {
			r->tools = xreallocarray(r->tools, (size_t)r->ntools + 1,
			    sizeof *r->tools);
			buf_init(&r->tools[r->ntools].id);
			buf_init(&r->tools[r->ntools].name);
			buf_init(&r->tools[r->ntools++].args);
		}
		json_str(j, json_get(j, t, "id"), &r->tools[idx].id);
		f = json_get(j, t, "function");
		json_str(j, json_get(j, f, "name"), &r->tools[idx].name);
		json_str(j, json_get(j, f, "arguments"), &r->tools[idx].args);
	}
	return 0;
}

/* What a chunk or a response says apart from its choices. */
static void
common(struct reply *r, const struct json *j)
{
	int t;

	if (!r->model && json_type(j, t = json_get(j, 0, "model")) ==
	    JSON_STRING)
		r->model = json_strdup(j, t);
	oai_usage_json(&r->usage, j, json_get(j, 0, "usage"));
}

/* The content of a delta or a message of choice idx, and what else
 * choice 0's holds; 0, or an exit status (already reported). */
static int
content(struct reply *r, const struct json *j, int d, int idx)
{
	struct buf s = BUF_INIT;
	int t;

	if (idx == 0 && json_type(j, t = json_get(j, d, "refusal")) ==
	    JSON_STRING)
		json_str(j, t, &r->refusal);
	if (idx == 0 && json_type(j, t = json_get(j, d, "tool_calls")) ==
	    JSON_ARRAY && tooldelta(r, j, t) < 0)
		return OAI_EX_FAILURE;
	if (json_type(j, t = json_get(j, d, "content")) == JSON_STRING) {
		json_str(j, t, &s);
		if (idx == 0)
			buf_add(&r->text, s.s, s.len);
		if (!opt.json)
			choices_add(&r->cs, idx, s.s, s.len);
	}
	buf_free(&s);
	return 0;
}

/* The choices of a chunk (field "delta") or a response ("message"). */
static int
readchoices(struct reply *r, const struct json *j, const char *field)
{
	const char *f;
	size_t fl;
	int ch, i, k, t, idx, ft;

	common(r, j);
	ch = json_get(j, 0, "choices");
	k = json_type(j, ch) == JSON_ARRAY ? json_size(j, ch) : 0;
	for (i = 0, t = ch + 1; i < k; i++, t = json_skip(j, t)) {
		if ((idx = choices_index(&r->cs, j, t, i)) < 0 ||
		    content(r, j, json_get(j, t, field), idx))
			return OAI_EX_FAILURE;
		ft = json_get(j, t, "finish_reason");
		if (json_type(j, ft) != JSON_STRING)
			continue;
		if (idx == 0) {
			free(r->finish);
			r->finish = json_strdup(j, ft);
		}
		f = json_raw(j, ft, &fl);
		choices_finish(&r->cs, idx, f, fl);
	}
	return 0;
}

static int
onevent(void *ctx, const struct json *j, const struct sse_event *ev)
{
	struct reply *r = ctx;

	(void)ev;
	return readchoices(r, j, "delta") ? OAI_EX_FAILURE : 0;
}

static void
reply_init(struct reply *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->text);
	buf_init(&r->refusal);
	oai_usage_init(&r->usage, NULL);
	oai_events_init(&r->ev, onevent, r);
	r->ev.errout = &r->cs.out;
	r->ev.json = opt.json;
}

static void
reply_free(struct reply *r)
{
	int i;

	oai_events_free(&r->ev);
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
	choices_free(&r->cs);
}

/* Non-streamed: the response body in one piece. */
static int
wholereply(struct oai *o, const struct oai_req *rq, struct reply *r,
    const struct buf *body)
{
	struct json *j = &r->ev.j;

	if (opt.json)
		out_json(body->s, body->len);
	if (oai_resp_json(o, rq, body, j, "choices.0", JSON_OBJECT,
	    "not a chat completion") < 0)
		return OAI_EX_FAILURE;
	r->ev.done = 1;
	return readchoices(r, j, "message");
}

/* Is call i of r one (not an index the server skipped)? */
static int
iscall(const struct reply *r, int i)
{
	return !r->cut && (r->tools[i].id.len || r->tools[i].name.len ||
	    r->tools[i].args.len);
}

/* {"id","type":"function","function":{"name","arguments"}} */
static void
calljson(struct jw *w, const struct tool *t)
{
	jw_obj(w);
	jw_key(w, "id");
	jw_strn(w, t->id.s, t->id.len);
	jw_key(w, "type");
	jw_str(w, "function");
	jw_key(w, "function");
	jw_obj(w);
	jw_key(w, "name");
	jw_strn(w, t->name.s, t->name.len);
	jw_key(w, "arguments");
	jw_strn(w, t->args.s, t->args.len);
	jw_obj_end(w);
	jw_obj_end(w);
}

/* The calls of a reply, one JSON object a line; 1 if there were any. */
static int
printtools(const struct reply *r)
{
	struct buf b = BUF_INIT;
	struct jw w;
	int i, any = 0;

	for (i = 0; i < r->ntools; i++) {
		if (!iscall(r, i))
			continue;
		buf_reset(&b);
		jw_init(&w, &b);
		calljson(&w, &r->tools[i]);
		buf_addc(&b, '\n');
		out_add(b.s, b.len);
		any = 1;
	}
	buf_free(&b);
	return any;
}

/* The reply as a message for the history: its text, and its calls
 * (then a missing text is null); for a conversation file also the
 * model asked (not NULL), which msgs_parse() takes out again. */
static void
replymsg(struct buf *b, const struct reply *r, const char *model)
{
	struct jw w;
	int i, any = 0;

	for (i = 0; i < r->ntools; i++)
		any |= iscall(r, i);
	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "role");
	jw_str(&w, "assistant");
	jw_key(&w, "content");
	if (r->text.len || !any)
		jw_strn(&w, r->text.s, r->text.len);
	else
		jw_null(&w);
	if (any) {
		jw_key(&w, "tool_calls");
		jw_arr(&w);
		for (i = 0; i < r->ntools; i++)
			if (iscall(r, i))
				calljson(&w, &r->tools[i]);
		jw_arr_end(&w);
	}
	if (model) {
		jw_key(&w, "model");
		jw_str(&w, model);
	}
	jw_obj_end(&w);
}

/* ---- one exchange ---------------------------------------------------- */

/*
 * Send the messages and print the reply.  Returns an exit status; r
 * holds the reply, complete when the status is 0.
 */
/* What is said after a complete reply: tool calls, refusal, warnings. */
static int
aftermath(const struct reply *r, const char *model)
{
	struct buf line = BUF_INIT;
	int rc = 0;

	/* --tool runs them (converse()); else they are the caller's */
	if (!opt.toolpaths.n && printtools(r) && opt.toolsfile)
		rc = OAI_EX_TOOLCALLS;
	out_flush();
	if (r->refusal.len) {
		/* The model's words, one line, no escapes reach the
		 * terminal. */
		buf_addline(&line, r->refusal.s, r->refusal.len);
		warnx("refusal: %s", line.s);
		rc = OAI_EX_NEGATIVE;
	}
	if (r->finish && strcmp(r->finish, "length") == 0)
		warnx("warning: the reply was cut at the token limit "
		    "(finish_reason length)");
	else if (r->finish && strcmp(r->finish, "content_filter") == 0)
		warnx("warning: the reply was cut by the content filter "
		    "(finish_reason content_filter)");
	if (opt.usage)	/* the server's name: gpt-4o-mini is not gpt-4o */
		oai_usage_report(&r->usage, r->model, model);
	buf_free(&line);
	return rc;
}

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
	/* as many choices as the body asks for, --param n included */
	choices_init(&r->cs, body_choices(&body, MAXCHOICES),
	    opt.json ? NULL : "---\n");
	rq.body = body.s;
	rq.bodylen = body.len;
	if (!opt.nostream) {
		oai_events_request(&rq, &r->ev);
		rq.events = &r->ev;
	}
	rc = oai_request(o, &rq, &rs);
	if (rc == 0 && opt.nostream)
		rc = wholereply(o, &rq, r, &rs.body);
	if (rc == 0 && !r->ev.done) {
		choices_end(&r->cs, 0);
		out_flush();
		warnx("the stream ended before [DONE]: the reply is "
		    "incomplete");
		rc = OAI_EX_FAILURE;
	}
	choices_end(&r->cs, rc == 0);
	out_flush();
	if (rc == 0)
		rc = aftermath(r, model);
	oai_resp_free(&rs);
	buf_free(&body);
	return rc;
}

/* ---- running tools (--tool) ----------------------------------------- */

/* --confirm: ask at the terminal; 1 when the answer is yes. */
static int
confirmed(const char *line)
{
	char ans[16] = "";
	FILE *tty;

	if (!(tty = fopen("/dev/tty", "r+"))) {
		warnx("--confirm: no terminal to ask: not run");
		return 0;
	}
	fprintf(tty, "run %s? [y/N] ", line);
	fflush(tty);
	if (!fgets(ans, sizeof ans, tty))
		ans[0] = '\0';
	fclose(tty);
	return ans[0] == 'y' || ans[0] == 'Y';
}

/* What a run said, as the tool message's content. */
static void
runresult(struct buf *c, const struct proc *p, const char *name)
{
	if (utf8_invalid(p->out.s, p->out.len) != (size_t)-1 ||
	    memchr(p->out.s, '\0', p->out.len))
		buf_adds(c, "error: the tool's output is not text");
	else
		buf_add(c, p->out.s, p->out.len);
	if (p->truncated)
		buf_printf(c, "\n[output cut at %zu bytes]", p->max);
	if (p->timedout)
		buf_printf(c, "\n[timed out after %lld seconds]",
		    opt.tooltimeout);
	else if (p->status != 0)
		buf_printf(c, "\n[exit status %d]", p->status);
	if (p->timedout || p->status != 0)
		warnx("tool %s: %s %d", name, p->timedout ? "timed out after" :
		    "exit status", p->timedout ? (int)opt.tooltimeout :
		    p->status);
}

/* Run call t (its arguments on standard input); the tool message into
 * msg.  0, or 130/143 when interrupted. */
static int
runcall(const struct tool *t, struct buf *msg)
{
	struct proc p = { .timeout_ms = opt.tooltimeout * 1000,
		.max = TOOL_MAX, .out = BUF_INIT };
	struct buf c = BUF_INIT, line = BUF_INIT;
	struct jw w;
	char *argv[2] = { NULL, NULL };
	int i;

	buf_addesc(&line, t->name.s, t->name.len);
	buf_addc(&line, ' ');
	buf_addline(&line, t->args.s, t->args.len);
	for (i = 0; i < nftools && (strlen(ftools[i].name) != t->name.len ||
	    memcmp(ftools[i].name, t->name.s, t->name.len)); i++)
		;
	if (isatty(2))
		fprintf(stderr, "[tool] %s\n", line.s);
	if (i == nftools)
		buf_printf(&c, "error: there is no tool named %s", line.s);
	else if (opt.confirm && !confirmed(line.s))
		buf_adds(&c, "the user declined to run this tool");
	else if (argv[0] = ftools[i].path, run_program(&p, argv, t->args.s,
	    t->args.len) < 0)
		buf_printf(&c, "error: %s: %s", ftools[i].path,
		    strerror(errno));
	else if (p.interrupted)
		return oai_intr_status();
	else
		runresult(&c, &p, ftools[i].name);
	jw_init(&w, msg);
	jw_obj(&w);
	jw_key(&w, "role");
	jw_str(&w, "tool");
	jw_key(&w, "tool_call_id");
	jw_strn(&w, t->id.s, t->id.len);
	jw_key(&w, "content");
	jw_strn(&w, c.s, c.len);
	jw_obj_end(&w);
	buf_free(&p.out);
	buf_free(&c);
	buf_free(&line);
	return 0;
}

/*
 * Send the messages; while the reply calls --tool tools, run them, add
 * the call and the results to m, and send again, at most
 * --max-tool-rounds times.  r holds the last reply (reply_init()ed here).
 */
static int
converse(struct oai *o, const char *model, const char *system,
    struct msgs *m, struct reply *r)
{
	struct buf b = BUF_INIT;
	long long round;
	int i, rc;

	for (round = 0;; round++) {
		reply_init(r);
		if ((rc = chat(o, model, system, m, r)) || !nftools ||
		    !r->ntools)
			break;
		if (round == opt.rounds) {
			warnx("--max-tool-rounds: %lld rounds of tool calls and "
			    "no reply yet", opt.rounds);
			printtools(r);
			rc = OAI_EX_TOOLCALLS;
			break;
		}
		buf_reset(&b);
		replymsg(&b, r, NULL);
		msgs_add(m, b.s, b.len);
		for (i = 0; i < r->ntools && rc == 0; i++) {
			buf_reset(&b);
			if (iscall(r, i) && (rc = runcall(&r->tools[i], &b)) == 0)
				msgs_add(m, b.s, b.len);
		}
		if (rc)
			break;
		reply_free(r);
	}
	buf_free(&b);
	return rc;
}

/* ---- conversations --------------------------------------------------- */

static void
loadconv(struct msgs *m, const char *path)
{
	struct buf b = BUF_INIT;

	if (input_try(&b, path) < 0) {
		if (errno == ENOENT) {
			/* A new file (or a dangling link's, as with -o): its
			 * directory must be there, or the reply would be paid
			 * for and then not kept. */
			char *dir = path_follow(path, NULL), *sl;
			int fd;

			if (!dir)
				edie(OAI_EX_USAGE, "%s", path);
			sl = strrchr(dir, '/');
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
	input_check(path, b.s, b.len, 0);
	parsemessages(m, b.s, b.len, path, 0);
	buf_free(&b);
}

/* Whether s[0..n) is a system message with a text (into sys, if not
 * NULL): what a conversation file's first line holds to be its own. */
static int
issystem(const char *s, size_t n, struct buf *sys)
{
	struct json j = JSON_INIT;
	int yes;

	yes = json_parse(&j, s, n) == 0 &&
	    json_streq(&j, json_get(&j, 0, "role"), "system") &&
	    json_type(&j, json_get(&j, 0, "content")) == JSON_STRING;
	if (yes && sys)
		json_str(&j, json_get(&j, 0, "content"), sys);
	json_free(&j);
	return yes;
}

/*
 * -c: a system message first in the file is the conversation's: it
 * becomes opt.system (taken out of m) unless -s replaces it for this
 * run.  A new file keeps -s: it is put in m, to be saved, when save is
 * set; then 1.
 */
static int
convsystem(struct msgs *m, int save)
{
	struct buf sys = BUF_INIT;
	int added = 0;

	if (m->n && issystem(m->v[0], strlen(m->v[0]), &sys)) {
		if ((!opt.system || !oai_given("system")) &&
		    !memchr(sys.s, '\0', sys.len))
			opt.system = buf_steal(&sys, NULL);	/* lives on */
		free(m->v[0]);
		memmove(m->v, m->v + 1, --m->n * sizeof *m->v);
	} else if (save && m->n == 0 && opt.system) {
		msg_text(&sys, "system", opt.system, strlen(opt.system));
		msgs_add(m, sys.s, sys.len);
		opt.system = NULL;
		added = 1;
	}
	buf_free(&sys);
	return added;
}

/* Where this run's conversation comes from and goes (convchoose()). */
static const char *loadpath, *savepath;
static int autosave;		/* savepath: a new file in the state dir */
static int nohistory;		/* --no-save or OAI_NO_HISTORY */
static long histsize = 1000;	/* OAI_HISTORY_SIZE: conversations kept */

/* A conversation file could not be written: -c and -C files are the
 * user's (status 1); a saved one is said once, the answer stands. */
static int
savefail(const char *path, const char *why)
{
	static int said;

	if (!autosave)
		die(OAI_EX_FAILURE, "%s: %s", path, why);
	if (!said++)
		warnx("%s: %s (the conversation is not saved)", path, why);
	return -1;
}

/* The file open for appending (a saved one's directory made first). */
static int
openconv(const char *path)
{
	struct buf dir = BUF_INIT;
	int fd;

	if (autosave) {
		buf_add(&dir, path, (size_t)(strrchr(path, '/') - path));
		if (state_mkdir(dir.s) < 0) {
			savefail(dir.s, strerror(errno));
			buf_free(&dir);
			return -1;
		}
		buf_free(&dir);
	}
	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) < 0)
		savefail(path, strerror(errno));
	return fd;
}

/*
 * Append messages [from, m->n) and the reply (r; NULL: none) to the
 * conversation file, with the model asked; a new file begins with
 * system, if not NULL.  Built first, written with one write() to an
 * O_APPEND descriptor, so a reader or an interruption never sees half a
 * line.
 */
static void
saveconv(const char *path, const struct msgs *m, size_t from,
    const struct reply *r, const char *model, const char *system)
{
	struct buf b = BUF_INIT;
	ssize_t w;
	off_t end;
	char c;
	int fd;

	if (!path || (fd = openconv(path)) < 0)
		return;
	/* A hand-edited file may lack its last newline. */
	if ((end = lseek(fd, 0, SEEK_END)) > 0 &&
	    pread(fd, &c, 1, end - 1) == 1 && c != '\n')
		buf_addc(&b, '\n');
	if (end == 0 && system) {
		msg_text(&b, "system", system, strlen(system));
		buf_addc(&b, '\n');
	}
	for (; from < m->n; from++) {
		buf_adds(&b, m->v[from]);
		buf_addc(&b, '\n');
	}
	if (r) {
		replymsg(&b, r, model);
		buf_addc(&b, '\n');
	}
	do
		w = write(fd, b.s, b.len);
	while (w < 0 && errno == EINTR);
	if (w >= 0 && (size_t)w != b.len) {
		/* Take the partial lines back out rather than corrupt. */
		if (ftruncate(fd, end) < 0) {}
		savefail(path, "short write");
	} else if (w < 0)
		savefail(path, strerror(errno));
	if (close(fd) < 0 && w >= 0)
		savefail(path, strerror(errno));
	else if (autosave && end == 0 && (size_t)w == b.len)
		conv_prune(path, histsize);	/* a new one: the oldest go */
	buf_free(&b);
}

/*
 * -c FILE, -C (the conversation changed last), or by default a new file
 * in the state directory for every question and interactive chat that
 * is not --each or --dry-run (none with --no-save or OAI_NO_HISTORY).
 */
static void
convchoose(int argc)
{
	static struct buf path = BUF_INIT;
	const char *s;

	nohistory = opt.nosave || ((s = getenv("OAI_NO_HISTORY")) && *s);
	if ((s = getenv("OAI_HISTORY_SIZE")) && *s)
		histsize = (long)xstrtonum("OAI_HISTORY_SIZE", s, 1,
		    1000000000);
	if (opt.listroles && (argc || opt.conv || opt.cont || opt.each ||
	    opt.list || opt.json))
		die(OAI_EX_USAGE, "--list-roles takes no prompt and excludes "
		    "-c, -C, --each, --json and --list-conversations");
	if (opt.list && (argc || opt.conv || opt.cont || opt.each))
		die(OAI_EX_USAGE, "--list-conversations takes no prompt and "
		    "excludes -c, -C and --each");
	if (opt.cont && opt.conv)
		die(OAI_EX_USAGE, "-c and -C exclude each other");
	if (opt.cont && opt.each)
		die(OAI_EX_USAGE, "--each excludes -C");
	if (opt.list || opt.listroles || opt.each)
		return;
	if (opt.conv)
		loadpath = savepath = opt.conv;
	else if (opt.cont) {
		conv_latest(&path);
		loadpath = path.s;
		savepath = nohistory ? NULL : path.s;
	} else if (!nohistory && !opt.dryrun && conv_newpath(&path) == 0) {
		savepath = path.s;
		autosave = 1;
	}
}

/*
 * /system: the conversation file's first line, its system message, is
 * replaced by system (NULL: taken out), or one is put first; the file
 * is replaced as -o replaces one (oai(7)), so it is the old or the new
 * one, never half.  A file not there yet is left: its first exchange
 * begins it with the system message.
 */
static void
convsetsystem(const char *path, const char *system)
{
	struct buf b = BUF_INIT, line = BUF_INIT;
	struct outfile f;
	struct stat st;
	const char *nl;
	size_t first;

	if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (input_try(&b, path) < 0) {
		savefail(path, strerror(errno));
		return;
	}
	nl = memchr(b.s, '\n', b.len);
	first = nl ? (size_t)(nl - b.s) + 1 : b.len;
	if (!issystem(b.s, nl ? first - 1 : first, NULL))
		first = 0;
	if (system) {
		msg_text(&line, "system", system, strlen(system));
		buf_addc(&line, '\n');
	}
	outfile_open(&f, path);
	outfile_write(&f, line.s, line.len);
	outfile_write(&f, b.s + first, b.len - first);
	outfile_commit(&f);
	buf_free(&line);
	buf_free(&b);
}

/* /reset: the next question starts a new saved conversation. */
static void
convreset(void)
{
	static struct buf path = BUF_INIT;

	if (autosave && conv_newpath(&path) == 0)
		savepath = path.s;
}

/* ---- interactive ----------------------------------------------------- */

static void
ihelp(void)
{
	fputs("/system TEXT  set the system message (none: remove it)\n"
	    "/model NAME   switch models\n"
	    "/reset        start a new conversation (the file is kept)\n"
	    "/help         this text\n"
	    "\"\"\"           on a line of its own: the lines up to the next\n"
	    "              \"\"\" line are one message\n"
	    "Ctrl-C stops a reply (what came stays), Ctrl-D leaves.\n",
	    stderr);
}

/* The model and system message an interactive session has now. */
struct session {
	char *model, *system;
	struct msgs *hist;
	struct ledit *le;
};

/* A /command line; /system and /reset say what they did. */
static void
command(struct session *ss, const char *line)
{
	const char *arg = line + strcspn(line, " \t");

	arg += strspn(arg, " \t");
	if (strncmp(line, "/system", 7) == 0 && strchr(" \t", line[7])) {
		free(ss->system);
		ss->system = *arg ? xstrdup(arg) : NULL;
		convsetsystem(savepath, ss->system);
		fprintf(stderr, "%s\n", *arg ? "system message set; the "
		    "conversation goes on" : "system message removed");
	} else if (strncmp(line, "/model", 6) == 0 && strchr(" \t", line[6])) {
		if (*arg) {
			free(ss->model);
			ss->model = xstrdup(arg);
		}
		fprintf(stderr, "model %s\n", ss->model);
	} else if (strcmp(line, "/reset") == 0) {
		fprintf(stderr, "%zu messages forgotten; a new conversation\n",
		    ss->hist->n);
		msgs_clear(ss->hist);
		convreset();
	} else if (strcmp(line, "/help") == 0)
		ihelp();
	else
		fprintf(stderr, "unknown command %s; /help lists them\n", line);
}

/* Ask line; 0 to go on, or the exit status that ends the session.  A
 * question Ctrl-C stopped stays, with what came of the answer (not its
 * tool calls: a call without its result is no history). */
static int
ask(struct oai *o, struct session *ss, const char *line, size_t n)
{
	struct msgs *hist = ss->hist;
	struct buf um = BUF_INIT;
	struct reply r;
	size_t before = hist->n;
	int rc, status = 0, keep;

	msg_text(&um, "user", line, n);
	msgs_add(hist, um.s, um.len);
	rc = converse(o, ss->model, ss->system, hist, &r);
	keep = rc == 0 || rc == OAI_EX_TOOLCALLS;
	if (!keep && rc == OAI_EX_INTR && oai_interrupted == SIGINT) {
		while (hist->n > before + 1)
			free(hist->v[--hist->n]);
		r.cut = keep = 1;
	}
	if (keep) {
		saveconv(savepath, hist, before, r.cut && !r.text.len ? NULL :
		    &r, ss->model, ss->system);
		buf_reset(&um);
		replymsg(&um, &r, NULL);
		if (!r.cut || r.text.len)
			msgs_add(hist, um.s, um.len);
	} else	/* Not answered: the question (and its calls) is not kept. */
		while (hist->n > before)
			free(hist->v[--hist->n]);
	if (rc == OAI_EX_INTR || rc == OAI_EX_TERM) {
		if (oai_interrupted == SIGTERM)
			status = oai_intr_status();
		else
			fprintf(stderr, "[interrupted]\n");
	}
	reply_free(&r);
	buf_free(&um);
	return status;
}

/* After a """ line: the lines up to the next one, joined; NULL when
 * Ctrl-C or Ctrl-D came first (oai_interrupted tells which). */
static char *
readblock(struct ledit *le)
{
	struct buf b = BUF_INIT;
	char *line;
	int first = 1;

	while ((line = ledit_read(le, "... ")) && !oai_interrupted &&
	    strcmp(line, "\"\"\"") != 0) {
		if (*line)
			ledit_add(le, line);
		if (!first)
			buf_addc(&b, '\n');
		buf_adds(&b, line);
		first = 0;
		free(line);
	}
	if (!line || oai_interrupted) {
		free(line);
		buf_free(&b);
		return NULL;
	}
	free(line);
	return buf_steal(&b, NULL);
}

/* The line history ($XDG_STATE_HOME/oai/history): read, or (save set)
 * written back, 0600. */
static void
linehistory(struct ledit *le, int save)
{
	struct buf path = BUF_INIT, dir = BUF_INIT;
	int fd;

	if (nohistory || state_path(&path, "history") < 0)
		return;
	if (!save)
		ledit_load(le, path.s);
	else if (state_path(&dir, NULL) == 0 && state_mkdir(dir.s) == 0 &&
	    (fd = open(path.s, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0) {
		close(fd);
		if (ledit_save(le, path.s) != 0)
			warnx("%s: the line history is not saved", path.s);
	}
	buf_free(&path);
	buf_free(&dir);
}

/* One line (or """ block) read and done; 0 to go on, -1 at the end, or
 * the exit status that ends the session. */
static int
iline(struct oai *o, struct session *ss)
{
	char *line;
	size_t n;
	int status = 0, block = 0;

	oai_interrupted = 0;
	line = ledit_read(ss->le, "> ");
	if (line && strcmp(line, "\"\"\"") == 0 && !oai_interrupted) {
		ledit_add(ss->le, line);
		free(line);
		line = readblock(ss->le);
		block = 1;
	}
	if (oai_interrupted) {
		/* Ctrl-C at the prompt drops the line, like a shell. */
		if (oai_interrupted != SIGINT)
			status = oai_intr_status();
		else
			fputc('\n', stderr);
		free(line);
		return status;
	}
	if (!line)
		return -1;
	n = strlen(line);
	if (n > 0 && strspn(line, " \t\n") < n) {
		if (!block)
			ledit_add(ss->le, line);
		if (line[0] == '/' && !block)
			command(ss, line);
		else if (utf8_invalid(line, n) != (size_t)-1)
			warnx("the line is not valid UTF-8");
		else
			status = ask(o, ss, line, n);
	}
	free(line);
	return status;
}

static int
interactive(struct oai *o, struct msgs *hist)
{
	struct session ss = { xstrdup(opt.model), NULL, hist, NULL };
	int status = 0;

	if (opt.system)
		ss.system = xstrdup(opt.system);
	ss.le = ledit_open("oai-chat", 1000);
	linehistory(ss.le, 0);
	fprintf(stderr, "%s: model %s; /help for commands, Ctrl-D to leave\n",
	    argv0, ss.model);
	while ((status = iline(o, &ss)) == 0)
		;
	fputc('\n', stderr);
	linehistory(ss.le, 1);
	ledit_close(ss.le);
	free(ss.model);
	free(ss.system);
	return status < 0 ? 0 : status;
}

/* ---- map mode: --each ------------------------------------------------ */

/*
 * One request per line of standard input, up to -P at once, one line of
 * output per line of input, in order (lib/ordered.c).  The formats are
 * the ones oai-batch --lines prints (oai(7), LINE FORMATS).
 */
struct each {
	struct oai *o;
	struct lines in;
	struct buf instr;	/* the arguments: put before each line */
	long long skip;		/* --resume: lines the output answers */
	struct oai_usage total;	/* -u: of the answers */
	int worst;		/* status of the lines that failed */
};

/* One line of input. */
struct item {
	struct oai_job j;	/* first: the runner's part */
	long long index;	/* 0-based, in input order */
	char where[128];	/* "standard input:3", for messages */
	struct buf body;	/* the request body: j.rq.body */
};

/* The request for the current line into it, or the reason it is not
 * sent (it->skip): an empty line, a line that is not text, a bad
 * --messages array. */
static void
eachbody(struct each *e, struct item *it)
{
	struct msgs m = MSGS_INIT;

	it->j.skip = 1;
	if (e->in.len == 0)
		return;
	it->j.status = OAI_EX_USAGE;
	if (input_checkmsg(&it->j.rs.error, it->where, e->in.s, e->in.len,
	    0) < 0)
		return;
	if (opt.messages) {
		if (msgs_parse(&m, e->in.s, e->in.len, it->where, 1,
		    &it->j.rs.error) < 0 || m.n == 0) {
			if (!it->j.rs.error.len)
				buf_printf(&it->j.rs.error, "%s: no messages",
				    it->where);
			msgs_free(&m);
			return;
		}
		buildbody(&it->body, opt.model, opt.system, &m, 0);
		msgs_free(&m);
	} else	/* as oai-batch -e chat --lines makes it */
		chat_linebody(&it->body, opt.model, opt.system, e->instr.s,
		    e->instr.len, e->in.s, e->in.len);
	it->j.skip = it->j.status = 0;
}

static int
eachnext(void *ctx, struct item *it)
{
	struct each *e = ctx;
	int k;

	do {
		if ((k = lines_next(&e->in)) < 0) {
			if (e->in.err.len)
				warnx("%s", e->in.err.s);
			return e->in.status;
		}
		if (k == 0)
			return 0;
	} while (e->in.line <= e->skip);
	it->index = e->in.line - 1;
	snprintf(it->where, sizeof it->where, "%s:%lld", e->in.name,
	    e->in.line);
	it->j.rq.method = "POST";
	it->j.rq.path = "/chat/completions";
	it->j.rq.model = opt.model;
	eachbody(e, it);
	return 1;
}

static void
eachdrop(void *ctx, struct oai_job *j)
{
	struct item *it = (struct item *)(void *)j;

	(void)ctx;
	buf_free(&it->body);
	oai_resp_free(&it->j.rs);
	free(it);
}

/* The job of the next line: 1; 0 at the end; or an exit status. */
static int
eachmake(void *ctx, struct oai_job **j)
{
	struct item *it = xcalloc(1, sizeof *it);
	int k;

	buf_init(&it->body);
	it->j.rs = (struct oai_resp)OAI_RESP_INIT;
	if ((k = eachnext(ctx, it)) != 1) {
		eachdrop(ctx, &it->j);
		return k;
	}
	it->j.rq.body = it->body.s;
	it->j.rq.bodylen = it->body.len;
	it->j.rq.defer_error = 1;
	*j = &it->j;
	return 1;
}

/* One line of output for one line of input; a failure is said on
 * stderr with the input's line, and the run goes on.  The budget stops
 * it: said with the line, nothing more printed. */
static int
eachdone(void *ctx, struct oai_job *job)
{
	struct each *e = ctx;
	struct item *it = (struct item *)(void *)job;
	struct json j = JSON_INIT;
	struct buf reply = BUF_INIT;
	int ch = -1;

	if (job->rs.budget) {
		warnx("%s: %s; it and what follows were not sent", it->where,
		    job->rs.error.s);
		return OAI_EX_REJECTED;
	}
	if (!job->skip && !job->status)
		oai_usage_add(&e->total, &job->rs.usage);
	if (!job->status && !job->skip && (ch = chat_reply(&j,
	    job->rs.body.s, job->rs.body.len, &reply)) < 0) {
		it->j.status = OAI_EX_FAILURE;
		buf_printf(&it->j.rs.error, "unexpected response from %s%s: "
		    "not a chat completion", e->o->base_url, it->j.rq.path);
	}
	if (it->j.status && it->j.skip)
		warnx("%s", it->j.rs.error.s);
	else if (it->j.status)
		warnx("%s: %s", it->where, it->j.rs.error.s);
	chat_eachline(opt.format == FMT_JSONL, &(struct chatline){ it->index,
	    job->skip, job->status ? &job->rs.error : NULL, job->rs.status, &j,
	    ch, &reply }, e->o->key);
	if (job->status > e->worst)
		e->worst = job->status;
	json_free(&j);
	buf_free(&reply);
	return 0;
}

/* --dry-run: the request of each line, one per line. */
static int
eachdry(struct each *e)
{
	struct oai_job *j;
	int k;

	while ((k = eachmake(e, &j)) == 1) {
		if (j->status)
			warnx("%s", j->rs.error.s);
		else if (!j->skip)
			out_json(j->rq.body, j->rq.bodylen);
		eachdrop(e, j);
	}
	return k;
}

static int
eachmode(struct oai *o, int argc, char *argv[])
{
	struct oai_ordered run = { .make = eachmake, .finish = eachdone,
	    .drop = eachdrop, .keepgoing = 1 };
	struct each e = { .o = o, .instr = BUF_INIT };
	int i, rc;

	for (i = 0; i < argc; i++)
		buf_printf(&e.instr, "%s%s", i ? " " : "", argv[i]);
	input_check("the prompt", e.instr.s, e.instr.len, 0);
	if (opt.budget > 0 && !oai_has_price(opt.model))
		die(OAI_EX_USAGE, "--budget: no price for %s; set OAI_PRICES",
		    opt.model);
	lines_init(&e.in, NULL, 0, LINES_CRLF);
	if (opt.output)
		e.skip = outfile_lines(opt.output, opt.resume);
	if (opt.dryrun)
		rc = eachdry(&e);
	else {
		oai_setup(o);
		o->want_usage = opt.usage;
		run.parallel = (int)opt.parallel;
		run.budget = opt.budget;
		run.ctx = &e;
		run.in = &e.in;
		oai_usage_init(&e.total, NULL);
		rc = oai_ordered_run(o, &run);
		if (rc != OAI_EX_INTR && rc != OAI_EX_TERM && opt.usage)
			oai_usage_print(&e.total);
		if (rc != OAI_EX_INTR && rc != OAI_EX_TERM && e.worst > rc)
			rc = e.worst;
	}
	lines_free(&e.in);
	buf_free(&e.instr);
	return rc;
}

/* ---- main ------------------------------------------------------------ */

/* --messages: the messages on standard input. */
static void
stdinmessages(struct msgs *m, int argc)
{
	struct buf in = BUF_INIT;
	size_t before = m->n;

	if (argc)
		die(OAI_EX_USAGE, "--messages takes no prompt arguments");
	input_read(&in, "-");
	input_check("standard input", in.s, in.len, 0);
	parsemessages(m, in.s, in.len, "standard input", 1);
	if (m->n == before)
		die(OAI_EX_USAGE, "--messages: no messages on standard input");
	buf_free(&in);
}

/* The user message: standard input, then -f files, then the arguments. */
static void
prompt(struct msgs *m, int argc, char *argv[], int tty)
{
	struct buf text = BUF_INIT, in = BUF_INIT;

	prompt_read(&text, argc, argv, &opt.files, tty);
	if (text.len == 0 && !opt.images.n)
		die(OAI_EX_USAGE, "no prompt: give it as arguments or on "
		    "standard input");
	buf_reset(&in);
	usermessage(&in, text.s, text.len);
	msgs_add(m, in.s, in.len);
	buf_free(&text);
	buf_free(&in);
}

/* The options of map mode, which need --each or exclude it. */
static void
eachchecks(void)
{
	if (!opt.each) {
		if (opt.output || opt.resume || opt.budget > 0 ||
		    opt.format || opt.has_parallel)
			die(OAI_EX_USAGE, "-o, -P, --budget, --format and "
			    "--resume need --each");
		return;
	}
	if (opt.conv || opt.files.n || opt.images.n || opt.json)
		die(OAI_EX_USAGE, "--each excludes -c, -f, --image and --json");
	if (opt.toolpaths.n || opt.toolsfile)
		die(OAI_EX_USAGE, "--each excludes --tool and --tools");
	if (opt.resume && !opt.output)
		die(OAI_EX_USAGE, "--resume needs -o file");
}

/* Checks of the options, before anything is read. */
static void
checks(void)
{
	if (opt.messages && (opt.files.n || opt.images.n))
		die(OAI_EX_USAGE, "--messages excludes --file and --image");
	eachchecks();
	chatreq_check(&oai_chatreq);
	if (opt.toolpaths.n && opt.toolsfile)
		die(OAI_EX_USAGE, "--tool and --tools exclude each other");
	if (opt.confirm && !opt.toolpaths.n)
		die(OAI_EX_USAGE, "--confirm needs --tool");
	loadtools();
	if (!(opt.model = oai_env("model", "OAI_CHAT_MODEL", opt.model)))
		opt.model = "gpt-4o";
	if (opt.system)
		input_check("--system", opt.system, strlen(opt.system), 0);
}

/* One exchange, or the body it would send. */
static int
once(struct oai *o, struct msgs *m, size_t hist)
{
	struct buf body = BUF_INIT;
	struct reply r;
	int rc;

	if (opt.dryrun) {
		buildbody(&body, opt.model, opt.system, m, !opt.nostream);
		out_json(body.s, body.len);
		buf_free(&body);
		return 0;
	}
	oai_setup(o);
	rc = converse(o, opt.model, opt.system, m, &r);
	if (rc == 0 || rc == OAI_EX_TOOLCALLS)
		saveconv(savepath, m, hist, &r, opt.model, NULL);
	reply_free(&r);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct oai o;
	struct msgs m = MSGS_INIT;
	const char *model;
	size_t hist;
	int i, rc, tty, ichat;

	i = oai_start(&o, &tool, argc, argv);
	opt.streamusage = opt.usage || o.meta_fd >= 0;
	argc -= i;
	argv += i;
	model = oai_given("model") ? opt.model : NULL;	/* -m's or -r's */
	convchoose(argc);
	checks();
	if (opt.listroles)
		return oai_finish(&o, oai_role_list());
	if (opt.list)
		return oai_finish(&o, conv_list(opt.json));
	if (opt.each) {
		rc = eachmode(&o, argc, argv);
		return oai_finish(&o, rc);
	}
	tty = isatty(0);
	ichat = !opt.messages && argc == 0 && !opt.files.n && !opt.images.n &&
	    tty;
	if (loadpath)
		loadconv(&m, loadpath);
	/* -m, else the model the conversation was last used with */
	if (!model && m.model && *m.model)
		opt.model = m.model;
	hist = (loadpath || savepath) && convsystem(&m, !ichat && savepath) ?
	    0 : m.n;
	if (ichat) {
		if (opt.dryrun)
			die(OAI_EX_USAGE, "no prompt: give it as arguments or "
			    "on standard input");
		oai_setup(&o);
		rc = interactive(&o, &m);
	} else {
		if (opt.messages)
			stdinmessages(&m, argc);
		else
			prompt(&m, argc, argv, tty);
		rc = once(&o, &m, hist);
	}
	msgs_free(&m);
	return oai_finish(&o, rc);
}
