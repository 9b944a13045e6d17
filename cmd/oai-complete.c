/* See LICENSE file for copyright and license details. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oai.h"

/*
 * oai-complete: the legacy completions endpoint (the base models and
 * gpt-3.5-turbo-instruct) as a text filter, the plain-text sibling of
 * oai-chat: the same prompt, streaming, statuses, through the same lib.
 */

/* The default --max-tokens: the API's own 16 stops most texts mid-way. */
#define MAXTOKENS 256
#define MAXCHOICES 128	/* the API's limit on n */

static struct {
	const char *model, *suffix, *user;
	struct sampling s;
	long long n, logprobs, best_of;
	int has_n, has_logprobs, has_best_of;
	struct oai_list params;
	int echo, nostream, json, usage, dryrun;
	int streamusage;	/* -u or --meta-fd: ask streams for usage */
} opt = { .model = "gpt-3.5-turbo-instruct", .n = 1,
	.s = { .max_tokens = MAXTOKENS, .has_max_tokens = 1 } };



static const struct oai_opt opts[] = {
	OAI_NAME('m', "model", "model", &opt.model, "model name",
	    "model (default gpt-3.5-turbo-instruct)"),
	OAI_INT('n', "choices", "n", &opt.n, &opt.has_n, 1, MAXCHOICES,
	    "how many completions, 1 to 128 (printed\nin turn, a line --- "
	    "between two)"),
	OAI_NUM('t', "temperature", "temp", &opt.s.temp, &opt.s.has_temp, 0, 2,
	    "sampling temperature, 0 to 2"),
	OAI_FLAG('u', "usage", &opt.usage,
	    "print token usage and cost on stderr"),
	OAI_INT(0, "best-of", "n", &opt.best_of, &opt.has_best_of, 1, 20,
	    "make n completions and return the best\n(1 to 20; not streamed)"),
	OAI_FLAG(0, "dry-run", &opt.dryrun,
	    "print the request body, send nothing"),
	OAI_FLAG(0, "echo", &opt.echo, "print the prompt before the completion"),
	OAI_NUM(0, "frequency-penalty", "n", &opt.s.fpen, &opt.s.has_fpen, -2, 2,
	    "-2 to 2"),
	OAI_FLAG(0, "json", &opt.json,
	    "print the API's JSON (streams: one\nchunk per line)"),
	OAI_FN(0, "logit-bias", "token=bias | json", logit_bias_opt,
	    "bias a token id, -100 to 100 (repeatable),\nor a JSON object "
	    "of them"),
	OAI_INT(0, "logprobs", "n", &opt.logprobs, &opt.has_logprobs, 0, 5,
	    "log probabilities of the n likeliest\ntokens, 0 to 5 "
	    "(see --json)"),
	OAI_INT(0, "max-tokens", "n", &opt.s.max_tokens, NULL, 0, INT_MAX,
	    "limit the completion's length in tokens\n(default 256)"),
	OAI_FLAG(0, "no-stream", &opt.nostream,
	    "wait for the whole completion"),
	OAI_LIST(0, "param", "key=value", &opt.params,
	    "set any body field: value is JSON, else\na string; a.b nests "
	    "(repeatable)"),
	OAI_NUM(0, "presence-penalty", "n", &opt.s.ppen, &opt.s.has_ppen, -2, 2,
	    "-2 to 2"),
	OAI_INT(0, "seed", "n", &opt.s.seed, &opt.s.has_seed,
	    -9223372036854775807.0, 9223372036854775807.0,
	    "ask for deterministic sampling"),
	OAI_LISTMAX(0, "stop", "text", &opt.s.stop, 4, "stop sequence",
	    "stop sequence (up to 4)"),
	OAI_STR(0, "suffix", "text", &opt.suffix,
	    "text that comes after the completion"),
	OAI_NUM(0, "top-p", "n", &opt.s.top_p, &opt.s.has_top_p, 0, 1,
	    "nucleus sampling, 0 to 1"),
	OAI_STR(0, "user", "id", &opt.user,
	    "an id for your end user (abuse monitoring)"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[prompt ...]",
	"Send a prompt to the completions API (base models such as\n"
	"davinci-002, and gpt-3.5-turbo-instruct) and stream the text that\n"
	"continues it.  The prompt is the arguments joined by spaces,\n"
	"standard input, or both (standard input first).",
	opts
};

/* ---- the request ----------------------------------------------------- */

/* What the completion holds besides its text. */
static void
body_shape(struct jw *w)
{
	if (opt.has_n) {
		jw_key(w, "n");
		jw_int(w, opt.n);
	}
	if (opt.has_best_of) {
		jw_key(w, "best_of");
		jw_int(w, opt.best_of);
	}
	if (opt.suffix) {
		jw_key(w, "suffix");
		jw_str(w, opt.suffix);
	}
	if (opt.echo) {
		jw_key(w, "echo");
		jw_bool(w, 1);
	}
	if (opt.has_logprobs) {
		jw_key(w, "logprobs");
		jw_int(w, opt.logprobs);
	}
	logit_bias_write(w, &oai_logit_bias);
	if (opt.user) {
		jw_key(w, "user");
		jw_str(w, opt.user);
	}
}

static void
buildbody(struct buf *b, const struct buf *prompt, int stream)
{
	struct jw w;

	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "model");
	jw_str(&w, opt.model);
	jw_key(&w, "prompt");
	jw_strn(&w, prompt->s, prompt->len);
	if (stream)
		stream_write(&w, opt.streamusage);
	sampling_write(&w, &opt.s, "max_tokens");
	body_shape(&w);
	jw_obj_end(&w);
	params_apply(b, &opt.params);
}

/* ---- the answer ------------------------------------------------------ */

struct completion {
	struct oai_events ev;	/* ev.done: [DONE] seen */
	struct choices cs;	/* printed in turn, --- between two */
	char *model;		/* model the server names */
	struct oai_usage usage;	/* usage.requests: reported */
};

static int
readchoice(struct completion *cm, const struct json *j, int t, int i,
    struct buf *s)
{
	const char *f;
	size_t fl;
	int idx, ft;

	if ((idx = choices_index(&cm->cs, j, t, i)) < 0)
		return OAI_EX_FAILURE;
	buf_reset(s);
	if (!opt.json && json_str(j, json_get(j, t, "text"), s) == 0)
		choices_add(&cm->cs, idx, s->s, s->len);
	ft = json_get(j, t, "finish_reason");
	if (json_type(j, ft) == JSON_STRING) {
		f = json_raw(j, ft, &fl);
		choices_finish(&cm->cs, idx, f, fl);
	}
	return 0;
}

/* A chunk or the whole response: they have the same shape. */
static int
readchoices(struct completion *cm, const struct json *j)
{
	struct buf s = BUF_INIT;
	int ch, i, k, t, rc = 0;

	if (!cm->model && json_type(j, t = json_get(j, 0, "model")) ==
	    JSON_STRING)
		cm->model = json_strdup(j, t);
	oai_usage_json(&cm->usage, j, json_get(j, 0, "usage"));
	ch = json_get(j, 0, "choices");
	k = json_type(j, ch) == JSON_ARRAY ? json_size(j, ch) : 0;
	for (i = 0, t = ch + 1; i < k && rc == 0; i++, t = json_skip(j, t))
		rc = readchoice(cm, j, t, i, &s);
	buf_free(&s);
	return rc;
}

static int
onevent(void *ctx, const struct json *j, const struct sse_event *ev)
{
	(void)ev;
	return readchoices(ctx, j);
}

static void
completion_init(struct completion *cm, const struct buf *body)
{
	memset(cm, 0, sizeof *cm);
	oai_usage_init(&cm->usage, NULL);
	oai_events_init(&cm->ev, onevent, cm);
	cm->ev.errout = &cm->cs.out;
	cm->ev.json = opt.json;
	/* as many choices as the body asks for, --param n included */
	choices_init(&cm->cs, body_choices(body, MAXCHOICES),
	    opt.json ? NULL : "---\n");
}

static void
completion_free(struct completion *cm)
{
	oai_events_free(&cm->ev);
	choices_free(&cm->cs);
	free(cm->model);
}

/* Non-streamed: the response body in one piece. */
static int
whole(struct oai *o, const struct oai_req *rq, struct completion *cm,
    const struct buf *body)
{
	if (opt.json)
		out_json(body->s, body->len);
	if (oai_resp_json(o, rq, body, &cm->ev.j, "choices", JSON_ARRAY,
	    "not a completion") < 0)
		return OAI_EX_FAILURE;
	cm->ev.done = 1;
	return readchoices(cm, &cm->ev.j);
}

/* After a complete answer: why a text stopped short, and the cost. */
static void
aftermath(const struct completion *cm)
{
	char which[64];
	const char *f;
	int i;

	for (i = 0; i < cm->cs.n; i++) {
		if (!(f = cm->cs.c[i].finish))
			continue;
		if (cm->cs.n == 1)
			snprintf(which, sizeof which, "the completion");
		else
			snprintf(which, sizeof which, "completion %d of %d",
			    i + 1, cm->cs.n);
		/* at a terminal only: in a pipe the text is what was asked */
		if (strcmp(f, "length") == 0 && isatty(2))
			warnx("warning: %s was cut at the token limit "
			    "(finish_reason length; see --max-tokens)", which);
		else if (strcmp(f, "content_filter") == 0)
			warnx("warning: %s was cut by the content filter "
			    "(finish_reason content_filter)", which);
	}
	if (opt.usage)	/* the server's name is the truth */
		oai_usage_report(&cm->usage, cm->model, opt.model);
}

static int
run(struct oai *o, const struct buf *body, int stream)
{
	struct oai_req rq = { .method = "POST", .path = "/completions" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct completion cm;
	int rc;

	completion_init(&cm, body);
	rq.body = body->s;
	rq.bodylen = body->len;
	if (stream)
		oai_events_request(&rq, &cm.ev);
	rc = oai_request(o, &rq, &rs);
	if (rc == 0 && !stream)
		rc = whole(o, &rq, &cm, &rs.body);
	if (rc == 0 && !cm.ev.done) {
		choices_end(&cm.cs, 0);
		out_flush();
		warnx("the stream ended before [DONE]: the completion is "
		    "incomplete");
		rc = OAI_EX_FAILURE;
	}
	choices_end(&cm.cs, rc == 0);
	out_flush();
	if (rc == 0)
		aftermath(&cm);
	completion_free(&cm);
	oai_resp_free(&rs);
	return rc;
}

/* ---- main ------------------------------------------------------------ */

static void
checks(void)
{
	if (opt.has_best_of && opt.best_of < opt.n)
		die(OAI_EX_USAGE, "--best-of %lld is less than -n %lld",
		    opt.best_of, opt.n);
	if (opt.suffix)
		input_check("--suffix", opt.suffix, strlen(opt.suffix), 0);
	if (opt.user)
		input_check("--user", opt.user, strlen(opt.user), 0);
}

int
main(int argc, char *argv[])
{
	struct oai o;
	struct buf prompt = BUF_INIT, body = BUF_INIT;
	/* best_of answers cannot be streamed (the API refuses) */
	int i, rc = 0, stream;

	i = oai_start(&o, &tool, argc, argv);
	checks();
	opt.streamusage = opt.usage || o.meta_fd >= 0;
	stream = !opt.nostream && !opt.has_best_of;
	prompt_read(&prompt, argc - i, argv + i, NULL, isatty(0));
	if (prompt.len == 0)
		die(OAI_EX_USAGE, "no prompt: give it as arguments or on "
		    "standard input");
	buildbody(&body, &prompt, stream);
	if (opt.dryrun)
		out_json(body.s, body.len);
	else {
		oai_setup(&o);
		rc = run(&o, &body, stream);
	}
	buf_free(&prompt);
	buf_free(&body);
	free(oai_logit_bias.v);
	return oai_finish(&o, rc);
}
