/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * Lines in, vectors out, in input order.  Inputs go out in batches (at
 * most MAXINPUTS inputs and MAXBATCH estimated tokens each), up to -P
 * batches in flight; at most 2 * P batches are read and not yet written,
 * so memory does not depend on the size of the input.
 */
#define MAXINPUTS 2048		/* the API's inputs per request */
#define MAXBATCH 300000		/* the API's tokens per request */
#define MAXTOKENS 8192		/* the models' tokens per input */

enum { FMT_JSONL, FMT_TSV, FMT_F32 };	/* as in formats[] */
static const char *const formats[] = { "jsonl", "tsv", "f32", NULL };

struct batch {
	long long first;	/* index of its first input */
	const char *fname;	/* where its first input comes from */
	long long line;
	int n;			/* inputs */
	struct buf body;
	struct buf texts;	/* --with-text: each input as size_t length,
				 * then its bytes (a line may hold a NUL) */
	struct oai_req rq;
	struct oai_resp rs;
	int done, status;
	struct batch *next;
};

static const char *model = "text-embedding-3-small";
static long long dims, parallel = 4, batchsize = MAXINPUTS;
static int format = FMT_JSONL, wholeflag, skipempty, withtext, dryrun;
static int dimsseen;		/* dimensions of the first vector */
static long long nextindex;	/* of the next input placed */
static struct buf inerr = BUF_INIT;	/* an input error, reported last */
static int instatus;		/* and its exit status */
static int held;		/* the reader's line did not fit the last batch */
static int usageflag;
static double budget;		/* --budget USD, 0: none */
static struct oai_usage total;	/* -u: of the batches written */

static const struct oai_opt opts[] = {
	OAI_INT('P', "parallel", "n", &parallel, NULL, 1, 64,
	    "requests in flight at once (default 4)"),
	OAI_FLAG('u', "usage", &usageflag,
	    "print token usage and cost on stderr"),
	OAI_INT('b', "batch-size", "n", &batchsize, NULL, 1, MAXINPUTS,
	    "inputs per request, at most 2048 (default)"),
	OAI_NAME('m', "model", "model", &model, "model name",
	    "embedding model (default $OAI_EMBED_MODEL\n"
	    "or text-embedding-3-small)"),
	OAI_INT(0, "dimensions", "n", &dims, NULL, 1, 65536,
	    "ask for n dimensions (text-embedding-3-*)"),
	OAI_CHOICE(0, "format", "jsonl | tsv | f32", &format, formats,
	    "jsonl (default), tsv, or f32: raw\n"
	    "little-endian float32, never to a terminal"),
	OAI_FLAG(0, "with-text", &withtext, "jsonl: add each input as \"text\""),
	OAI_FLAG(0, "whole", &wholeflag,
	    "each file (or standard input) is one input"),
	OAI_FLAG(0, "skip-empty", &skipempty,
	    "skip empty lines instead of failing"),
	OAI_NUM(0, "budget", "usd", &budget, NULL, 0.000001, 1e9,
	    "send no more requests once the cost would\n"
	    "pass usd dollars"),
	OAI_FLAG(0, "dry-run", &dryrun,
	    "print the request bodies, send nothing"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[file ...]",
	"Embed each line of the files (or of standard input) and print one\n"
	"vector per line, in input order.",
	opts
};

/* ---- input ---------------------------------------------------------- */

/* A token takes at least one byte, so bytes bound the tokens of a
 * batch; for a single input, 3 bytes a token is a safe guess for text. */
static size_t
estimate(size_t n)
{
	return (n + 2) / 3;
}

/* Next input in r->s (length r->len): 1, or 0 at the end or after an
 * input error (then inerr and instatus say what). */
static int
nextinput(struct lines *r)
{
	int k;

	if (held) {
		held = 0;
		return 1;
	}
	if ((k = lines_next(r)) >= 0)
		return k;
	buf_add(&inerr, r->err.s, r->err.len);
	instatus = r->status;
	return 0;
}

/* Is the input r holds one the API takes?  If not, say why in inerr. */
static int
acceptable(const struct lines *r)
{
	struct buf where = BUF_INIT;
	int ok = 0;

	buf_printf(&where, "%s:%lld", r->name, r->line);
	if (r->len == 0)
		buf_printf(&inerr, "%s: empty input (the API rejects it; "
		    "--skip-empty skips it)", where.s);
	else if (input_checkmsg(&inerr, where.s, r->s, r->len, 1) < 0)
		;
	else if (estimate(r->len) > MAXTOKENS)
		buf_printf(&inerr, "%s: input too long (%zu bytes, about %zu "
		    "tokens; the model takes %d)", where.s, r->len,
		    estimate(r->len), MAXTOKENS);
	else
		ok = 1;
	if (!ok)
		instatus = OAI_EX_USAGE;
	buf_free(&where);
	return ok;
}

/* The request around the inputs written so far. */
static void
endbody(struct batch *b, struct jw *w)
{
	jw_arr_end(w);
	jw_key(w, "model");
	jw_str(w, model);
	jw_key(w, "encoding_format");
	jw_str(w, "base64");
	if (dims) {
		jw_key(w, "dimensions");
		jw_int(w, dims);
	}
	jw_obj_end(w);
	b->rq.method = "POST";
	b->rq.path = "/embeddings";
	b->rq.body = b->body.s;
	b->rq.bodylen = b->body.len;
	/* One line says both what failed and where the output stops. */
	b->rq.defer_error = 1;
	b->rs = (struct oai_resp)OAI_RESP_INIT;
}

static void
freebatch(struct batch *b)
{
	buf_free(&b->body);
	buf_free(&b->texts);
	oai_resp_free(&b->rs);
	free(b);
}

/*
 * Read the next batch.  Returns it, or NULL at the end of the input or
 * after an input error (then inerr says what).
 */
static struct batch *
readbatch(struct lines *r)
{
	struct batch *b = xcalloc(1, sizeof *b);
	struct jw w;
	size_t bytes = 0;

	buf_init(&b->body);
	buf_init(&b->texts);
	jw_init(&w, &b->body);
	jw_obj(&w);
	jw_key(&w, "input");
	jw_arr(&w);
	while (!instatus && b->n < batchsize && nextinput(r) > 0) {
		if (r->len == 0 && !wholeflag && skipempty)
			continue;
		if (!acceptable(r))
			break;
		if (b->n > 0 && bytes + r->len > MAXBATCH) {
			held = 1;
			break;
		}
		if (b->n == 0) {
			b->fname = r->name;
			b->line = r->line;
			b->first = nextindex;
		}
		jw_strn(&w, r->s, r->len);
		if (withtext) {
			buf_add(&b->texts, &r->len, sizeof r->len);
			buf_add(&b->texts, r->s, r->len);
		}
		bytes += r->len;
		b->n++;
		nextindex++;
	}
	if (b->n == 0) {
		freebatch(b);
		return NULL;
	}
	endbody(b, &w);
	return b;
}

/* ---- output --------------------------------------------------------- */

static int
badresp(struct oai *o, struct batch *b, const char *why)
{
	return oai_unexpected(o, &b->rq, "%s (%s:%lld and what follows were "
	    "not embedded)", why, b->fname, b->line);
}

/* Embedding e (base64, or numbers from a server that ignores
 * encoding_format) as little-endian float32 onto raw; NULL or why not. */
static const char *
decode(const struct json *j, int e, struct buf *raw)
{
	size_t vl, start = raw->len;
	unsigned char p[4];
	uint32_t u;
	double d;
	float f;
	int k, el;

	if (json_type(j, e) == JSON_STRING) {
		const char *s = json_raw(j, e, &vl);

		return base64_decode(raw, s, vl) < 0 ||
		    (raw->len - start) % 4 ? "bad base64 embedding" : NULL;
	}
	if (json_type(j, e) != JSON_ARRAY)
		return "no embedding";
	/* walk the elements in order (json_at() starts over each time) */
	for (k = 0, el = e + 1; k < json_size(j, e); k++,
	    el = json_skip(j, el)) {
		if (json_num(j, el, &d) < 0)
			return "bad embedding";
		f = (float)d;
		memcpy(&u, &f, 4);
		le32_put(p, u);
		buf_add(raw, p, 4);
	}
	return NULL;
}

/* The vectors of the answer, into raw in input order (off[i] where
 * vector i starts); 0 or an exit status. */
static int
vectors(struct oai *o, struct batch *b, struct buf *raw, size_t *off)
{
	struct json j = JSON_INIT;
	int data, t, i, rc = 0;
	const char *why;
	long long idx;
	size_t len;

	if ((data = oai_resp_json(o, &b->rq, &b->rs.body, &j, "data",
	    JSON_ARRAY, "not an embedding list")) < 0)
		rc = OAI_EX_FAILURE;	/* said, without the input's place */
	else if (json_size(&j, data) != b->n)
		rc = badresp(o, b, "wrong number of embeddings");
	for (i = 0; i < b->n; i++)
		off[i] = (size_t)-1;
	for (i = 0, t = data + 1; !rc && i < b->n; i++, t = json_skip(&j, t)) {
		if (json_int(&j, json_get(&j, t, "index"), &idx) < 0 ||
		    idx < 0 || idx >= b->n || off[idx] != (size_t)-1) {
			rc = badresp(o, b, "bad or repeated index");
			break;
		}
		off[idx] = raw->len;
		if ((why = decode(&j, json_get(&j, t, "embedding"), raw))) {
			rc = badresp(o, b, why);
			break;
		}
		len = (raw->len - off[idx]) / 4;
		if (!dimsseen)
			dimsseen = (int)len;
		if (len == 0 || len != (size_t)dimsseen)
			rc = badresp(o, b, "vectors of different sizes");
	}
	json_free(&j);
	return rc;
}

/* One vector v as a jsonl or tsv line into line. */
static void
formatline(struct buf *line, struct batch *b, int i, const unsigned char *v,
    const char **text)
{
	uint32_t u;
	size_t tl;
	float f;
	int k;

	buf_reset(line);
	if (format == FMT_JSONL) {
		buf_printf(line, "{\"index\":%lld,", b->first + i);
		if (withtext) {
			memcpy(&tl, *text, sizeof tl);
			*text += sizeof tl;
			buf_adds(line, "\"text\":");
			json_quote(line, *text, tl);
			buf_addc(line, ',');
			*text += tl;
		}
		buf_adds(line, "\"embedding\":[");
	}
	/* at most F32_BUFSIZE bytes a number with its separator */
	buf_grow(line, (size_t)dimsseen * F32_BUFSIZE + 4);
	for (k = 0; k < dimsseen; k++) {
		if (k)
			line->s[line->len++] = format == FMT_TSV ? '\t' : ',';
		u = le32_get(v + 4 * k);
		memcpy(&f, &u, sizeof f);
		line->len += f32_shortest(line->s + line->len, f);
	}
	line->s[line->len] = '\0';
	buf_adds(line, format == FMT_JSONL ? "]}\n" : "\n");
}

/* Print the vectors of a finished batch; 0 or an exit status. */
static int
writebatch(struct oai *o, struct batch *b)
{
	struct buf raw = BUF_INIT, line = BUF_INIT;
	size_t *off = xcalloc((size_t)b->n, sizeof *off);
	const char *text = b->texts.s;
	int i, rc;

	if ((rc = vectors(o, b, &raw, off)) == 0) {
		for (i = 0; i < b->n; i++) {
			const unsigned char *v = (unsigned char *)raw.s + off[i];

			if (format == FMT_F32) {
				/* raw is little-endian already, as f32 is */
				out_add(v, (size_t)dimsseen * 4);
				continue;
			}
			formatline(&line, b, i, v, &text);
			out_add(line.s, line.len);
		}
		out_flush();
	}
	free(off);
	buf_free(&raw);
	buf_free(&line);
	return rc;
}

/* ---- the run -------------------------------------------------------- */

static int
dry(struct lines *r)
{
	struct batch *b;

	while ((b = readbatch(r))) {
		out_add(b->body.s, b->body.len);
		out_add("\n", 1);
		freebatch(b);
	}
	return 0;
}

/* Write what is complete, in order: 0, or the status of a failure. */
static int
writedone(struct oai *o, struct batch **head, struct batch ***tail,
    int *outstanding)
{
	struct batch *b;

	while (*head && (*head)->done) {
		b = *head;
		if (b->status || (b->status = writebatch(o, b)) != 0) {
			if (b->rs.error.len)
				warnx("%s (%s:%lld and what follows were not "
				    "embedded)", b->rs.error.s, b->fname,
				    b->line);
			return b->status;
		}
		oai_usage_add(&total, &b->rs.usage);
		if (!(*head = b->next))
			*tail = head;
		freebatch(b);
		--*outstanding;
	}
	return 0;
}

static int
run(struct oai *o, struct lines *r)
{
	struct oai_multi *m = oai_multi_new(o, (int)parallel);

	if (budget > 0)
		oai_multi_budget(m, budget);
	struct batch *head = NULL, **tail = &head, *b;
	int outstanding = 0, stopped = 0, status, rc = 0;

	while (!rc) {
		while (!stopped && outstanding < 2 * parallel) {
			if (!(b = readbatch(r))) {
				stopped = 1;
				break;
			}
			oai_multi_add(m, &b->rq, &b->rs, b);
			*tail = b;
			tail = &b->next;
			outstanding++;
		}
		if (!(b = oai_multi_wait(m, &status)))
			break;
		b->done = 1;
		if ((b->status = status))
			stopped = 1;	/* start nothing new */
		rc = writedone(o, &head, &tail, &outstanding);
	}
	oai_multi_free(m);	/* aborts later batches after a failure */
	while (head) {
		b = head->next;
		freebatch(head);
		head = b;
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	struct lines r;
	struct oai o;
	const char *s;
	int i, rc;

	if ((s = getenv("OAI_EMBED_MODEL")) && *s)
		model = s;
	i = oai_start(&o, &tool, argc, argv);
	if (withtext && format != FMT_JSONL)
		die(OAI_EX_USAGE, "--with-text needs --format jsonl");
	lines_init(&r, argv + i, argc - i,
	    LINES_CRLF | (wholeflag ? LINES_WHOLE : 0));
	if (dryrun)
		rc = dry(&r);
	else {
		if (format == FMT_F32)
			out_refuse_tty("float32 vectors", "use --format jsonl");
		oai_setup(&o);
		o.want_usage = usageflag;
		if (budget > 0 && !oai_has_price(model))
			die(OAI_EX_USAGE, "--budget: no price for %s; set "
			    "OAI_PRICES", model);
		oai_usage_init(&total, model);
		rc = run(&o, &r);
		if (usageflag && rc != OAI_EX_INTR && rc != OAI_EX_TERM)
			oai_usage_print(&total);
	}
	if (!rc && instatus) {	/* an input error ends what was embedded */
		if (inerr.len)
			warnx("%s", inerr.s);
		rc = instatus;
	}
	lines_free(&r);
	buf_free(&inerr);
	return oai_finish(&o, rc);
}
