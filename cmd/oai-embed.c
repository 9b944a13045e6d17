/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * Lines in, vectors out, in input order.  Inputs go out in batches (at
 * most MAXINPUTS inputs and MAXBATCH estimated tokens each), up to -P
 * batches in flight (lib/ordered.c), so memory does not depend on the
 * size of the input.  Nor on the size of the answers: each is decoded
 * as it arrives (lib/jscan.c), base64 straight into float32; the first
 * unfinished batch writes its vectors as they come, the others hold at
 * most HOLDMAX bytes of vectors each and then pause their transfer
 * until their turn.
 */
#define MAXINPUTS 2048		/* the API's inputs per request */
#define MAXBATCH 300000		/* the API's tokens per request */
#define HOLDMAX ((size_t)1 << 20)	/* vectors a waiting batch holds */

struct where {			/* an input, for messages */
	const char *fname;
	long long line;
};

/* What a batch knows of each of its inputs' vectors. */
enum { GOT_HELD = 1, GOT_WRITTEN = 2, GOT_SEEN = 4 /* in this answer */ };

struct batch {
	struct oai_job j;	/* first: the pipeline's part */
	long long first;	/* index of its first input */
	int n;			/* inputs */
	struct where *at;	/* at[0..n) */
	struct buf body;
	struct buf texts;	/* --with-text: each input as size_t length,
				 * then its bytes (a line may hold a NUL) */
	/* the answer, as it arrives */
	struct jscan js;
	int isfirst;		/* vectors go out as they come */
	int written;		/* vectors 0..written-1 are out */
	size_t textpos;		/* in texts, of vector written */
	unsigned char *got;	/* GOT_* of each input */
	size_t *off;		/* where a held vector is in held */
	struct buf *held;	/* vectors waiting for their turn (a
				 * buffer of the pool, or NULL) */
	int nheld;
	int count;		/* elements of data so far */
	int sawdata;		/* data is an array */
	const char *why;	/* what was wrong with the answer */
	/* the element being read */
	long long idx;
	int kind;		/* 0, or the embedding's JSCAN_STR / _ARR */
	int inarr;
	struct base64_dec b64;
	struct buf vec;		/* its vector: float32, little-endian */
	struct buf usage;	/* the answer's usage object, as it came */
	struct buf modelname;	/* and its model */
	struct batch *next;	/* on the free list */
};

static const char *model = "text-embedding-3-small";
static long long dims, parallel = 4, batchsize = MAXINPUTS;
static int format = VEC_JSONL, wholeflag, skipempty, withtext, dryrun;
static int dimsseen;		/* dimensions of the first vector */
static long long nextindex;	/* of the next input placed */
static struct buf inerr = BUF_INIT;	/* an input error, reported last */
static int instatus;		/* and its exit status */
static int pending;		/* the reader's line did not fit the last batch */
static int usageflag;
static double budget;		/* --budget USD, 0: none */
static struct oai_usage total;	/* -u: of the batches written */
static struct oai o;
static struct batch *spare;	/* finished batches, their memory kept */
static struct buf line = BUF_INIT;	/* a vector as text */

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
	OAI_CHOICE(0, "format", "jsonl | tsv | f32", &format, vec_formats,
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

/* Next input in r->s (length r->len): 1, or 0 at the end or after an
 * input error (then inerr and instatus say what). */
static int
nextinput(struct lines *r)
{
	int k;

	if (pending) {
		pending = 0;
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
	int ok;

	buf_printf(&where, "%s:%lld", r->name, r->line);
	if (!(ok = vec_checkinput(&inerr, where.s, r->s, r->len) == 0))
		instatus = OAI_EX_USAGE;
	buf_free(&where);
	return ok;
}

static int sink(void *ctx, const char *p, size_t n);
static int rewind_(void *ctx);
static int onvalue(void *ctx, struct jscan *s, enum jscan_ev ev,
    const char *p, size_t n);

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
	b->j.rq = (struct oai_req){ .method = "POST", .path = "/embeddings",
	    .body = b->body.s, .bodylen = b->body.len,
	    /* One line says both what failed and where the output stops. */
	    .defer_error = 1,
	    .sink = sink, .sink_ctx = b, .rewind = rewind_, .model = model,
	    .body_max = oai_limit(OAI_BODY_MAX) };
	oai_resp_free(&b->j.rs);
	b->j.rs = (struct oai_resp)OAI_RESP_INIT;
}

/* A batch, with the memory of one finished before if there is one. */
static struct batch *
newbatch(void)
{
	struct batch *b = spare;

	if (b) {
		spare = b->next;
		buf_reset(&b->body);
		buf_reset(&b->texts);
		return b;
	}
	b = xcalloc(1, sizeof *b);
	buf_init(&b->body);
	buf_init(&b->texts);
	buf_init(&b->vec);
	buf_init(&b->usage);
	buf_init(&b->modelname);
	b->j.rs = (struct oai_resp)OAI_RESP_INIT;
	b->at = xreallocarray(NULL, (size_t)batchsize, sizeof *b->at);
	b->got = xmalloc((size_t)batchsize);
	b->off = xreallocarray(NULL, (size_t)batchsize, sizeof *b->off);
	jscan_init(&b->js, onvalue, b);
	return b;
}

static void
freebatch(struct batch *b)
{
	buf_free(&b->body);
	buf_free(&b->texts);
	buf_free(&b->vec);
	buf_free(&b->usage);
	buf_free(&b->modelname);
	oai_resp_free(&b->j.rs);
	jscan_free(&b->js);
	free(b->at);
	free(b->got);
	free(b->off);
	free(b);
}

/*
 * Read the next batch.  Returns it, or NULL at the end of the input or
 * after an input error (then inerr says what).
 */
static struct batch *
readbatch(struct lines *r)
{
	struct batch *b = newbatch();
	struct jw w;
	size_t bytes = 0;

	b->n = 0;
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
			pending = 1;
			break;
		}
		if (b->n == 0)
			b->first = nextindex;
		b->at[b->n].fname = r->name;
		b->at[b->n].line = r->line;
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
		b->next = spare;
		spare = b;
		return NULL;
	}
	endbody(b, &w);
	return b;
}

/* ---- output --------------------------------------------------------- */

/* Vector i of b (dimsseen float32, little-endian) to standard output. */
static void
writevec(struct batch *b, int i, const unsigned char *v)
{
	const char *text = NULL;
	size_t tl = 0;

	if (withtext && format == VEC_JSONL) {
		memcpy(&tl, b->texts.s + b->textpos, sizeof tl);
		text = b->texts.s + b->textpos + sizeof tl;
		b->textpos += sizeof tl + tl;
	}
	vec_write(&line, format, b->first + i, text, tl, v, dimsseen);
}

/*
 * The buffers of vectors held: one for each batch holding any, so that
 * only batches in flight or done out of turn have one (at most 2 * -P),
 * and they are reused.
 */
static struct buf *pool[2 * 64];
static int npool;

static void
release(struct batch *b)
{
	if (b->held) {
		buf_reset(b->held);
		pool[npool++] = b->held;
		b->held = NULL;
	}
}

/*
 * Write the vectors held that are next in order, up to input upto (the
 * last one waits for the end of the answer: a batch is written whole
 * only when its answer was whole and right).
 */
static void
drain(struct batch *b, int upto)
{
	while (b->written < upto && (b->got[b->written] & GOT_HELD)) {
		writevec(b, b->written,
		    (unsigned char *)b->held->s + b->off[b->written]);
		b->got[b->written++] = GOT_WRITTEN | GOT_SEEN;
		if (--b->nheld == 0)
			release(b);
	}
}

/* Vector idx of the answer is whole, in b->vec: out, or held. */
static void
place(struct batch *b, int idx)
{
	if (b->isfirst && idx == b->written && idx < b->n - 1) {
		writevec(b, idx, (unsigned char *)b->vec.s);
		b->got[b->written++] |= GOT_WRITTEN;
		drain(b, b->n - 1);
		return;
	}
	if (!b->held)
		b->held = npool ? pool[--npool] : xcalloc(1, sizeof *b->held);
	b->off[idx] = b->held->len;
	buf_add(b->held, b->vec.s, b->vec.len);
	b->got[idx] |= GOT_HELD;
	b->nheld++;
}

/* ---- the answer, as it arrives -------------------------------------- */

/* An element of data is whole: check it, then place its vector. */
static const char *
element(struct batch *b)
{
	size_t len = b->vec.len / 4;

	if (b->idx < 0 || b->idx >= b->n || (b->got[b->idx] & GOT_SEEN))
		return "bad or repeated index";
	if (!b->kind)
		return "no embedding";
	if (b->kind == JSCAN_STR && b->vec.len % 4)
		return "bad base64 embedding";
	if (!dimsseen)
		dimsseen = (int)len;
	if (len == 0 || len != (size_t)dimsseen)
		return "vectors of different sizes";
	b->got[b->idx] |= GOT_SEEN;
	/* a vector written by an attempt before this one stays written */
	if (!(b->got[b->idx] & GOT_WRITTEN))
		place(b, (int)b->idx);
	return NULL;
}

/* A number of an embedding array, as float32 (the hot path of float
 * arrays). */
static const char *
number(struct batch *b, float f)
{
	vec_addf32(&b->vec, f);
	return NULL;
}

/* A value three deep: data[i].index and data[i].embedding matter. */
static const char *
invalue(struct batch *b, const struct jscan *s, enum jscan_ev ev,
    const char *p, size_t n)
{
	int emb = jscan_at(s, "data.*.embedding");

	if (ev == JSCAN_NUM && jscan_at(s, "data.*.index")) {
		char *end;

		b->idx = strtoll(p, &end, 10);
		if (end != p + n)
			b->idx = -1;
	} else if (emb && ev == JSCAN_STR) {
		long k;

		b->kind = JSCAN_STR;
		buf_grow(&b->vec, n / 4 * 3 + 3);
		if ((k = base64_dec_feed(&b->b64, p, n,
		    (unsigned char *)b->vec.s + b->vec.len)) < 0)
			return "bad base64 embedding";
		b->vec.len += (size_t)k;
		b->vec.s[b->vec.len] = '\0';
	} else if (emb && ev == JSCAN_STR_END) {
		b->kind = JSCAN_STR;
		if (base64_dec_end(&b->b64) < 0)
			return "bad base64 embedding";
	} else if (emb && ev == JSCAN_ARR)
		b->kind = b->inarr = JSCAN_ARR;
	else if (emb && ev == JSCAN_ARR_END)
		b->inarr = 0;
	return NULL;
}

/*
 * The values around data: its start and end, and the answer's usage and
 * model, for -u, --budget and --meta-fd (lib reads them from bodies it
 * keeps; this one is not kept), set when the answer ends.
 */
static const char *
toplevel(struct batch *b, struct jscan *s, enum jscan_ev ev, const char *p,
    size_t n)
{
	struct oai_usage *u = &b->j.rs.usage;
	struct json j = JSON_INIT;

	if (jscan_at(s, "data")) {
		if (ev == JSCAN_ARR)
			b->sawdata = 1;
		else if (ev == JSCAN_ARR_END && b->count != b->n)
			return "wrong number of embeddings";
	} else if (ev == JSCAN_OBJ && jscan_at(s, "usage"))
		jscan_record(s, &b->usage);
	else if (ev == JSCAN_STR && jscan_at(s, "model"))
		buf_add(&b->modelname, p, n);
	else if (ev == JSCAN_OBJ_END && s->depth == 0) {
		if (json_parse(&j, b->usage.s, b->usage.len) == 0)
			oai_usage_json(u, &j, 0);
		if (b->modelname.len)
			snprintf(u->model, sizeof u->model, "%s",
			    b->modelname.s);
		json_free(&j);
	}
	return NULL;
}

static int
onvalue(void *ctx, struct jscan *s, enum jscan_ev ev, const char *p,
    size_t n)
{
	struct batch *b = ctx;
	const char *why = NULL;

	if (s->depth == 4 && b->inarr)	/* in data[i].embedding */
		why = ev == JSCAN_NUM ? number(b, s->num) :
		    "bad embedding";
	else if (s->depth == 3)
		why = invalue(b, s, ev, p, n);
	else if (s->depth == 2 && jscan_at(s, "data.*")) {
		if (ev == JSCAN_OBJ) {
			if (++b->count > b->n)
				why = "wrong number of embeddings";
			b->idx = -1;
			b->kind = b->inarr = 0;
			buf_reset(&b->vec);
			b->b64 = (struct base64_dec)BASE64_DEC_INIT;
		} else
			why = ev == JSCAN_OBJ_END ? element(b) :
			    "bad or repeated index";
	} else if (s->depth <= 1)
		why = toplevel(b, s, ev, p, n);
	if (!why)
		return 0;
	b->why = why;
	return OAI_EX_FAILURE;
}

/* The request's sink: the answer of b as it arrives. */
static int
sink(void *ctx, const char *p, size_t n)
{
	struct batch *b = ctx;
	int r;

	if (!b->isfirst && b->held && b->held->len >= oai_limit(HOLDMAX))
		return OAI_SINK_PAUSE;	/* until its turn (first()) */
	if ((r = jscan_feed(&b->js, p, n)) < 0) {
		b->why = "not an embedding list";
		r = OAI_EX_FAILURE;
	}
	return r;
}

/* Ready for an answer: the first attempt's, or another's after a retry
 * (what was written stays written; its vectors are skipped). */
static int
rewind_(void *ctx)
{
	struct batch *b = ctx;
	int i;

	for (i = 0; i < b->n; i++)
		b->got[i] &= GOT_WRITTEN;
	release(b);
	buf_reset(&b->usage);
	buf_reset(&b->modelname);
	b->nheld = b->count = b->sawdata = 0;
	b->why = NULL;
	jscan_reset(&b->js);
	return 0;
}

/* ---- the run -------------------------------------------------------- */

static int
make(void *ctx, struct oai_job **j)
{
	struct batch *b = readbatch(ctx);

	if (!b)
		return 0;	/* an input error: said after the run */
	b->isfirst = b->written = 0;
	b->textpos = 0;
	memset(b->got, 0, (size_t)b->n);
	rewind_(b);
	*j = &b->j;
	return 1;
}

static void
first(void *ctx, struct oai_job *j)
{
	struct batch *b = (struct batch *)(void *)j;

	(void)ctx;
	b->isfirst = 1;
	drain(b, b->n - 1);
}

/* The answer of b has ended (status 0: all of it came): check what
 * only its end can tell, write what is left; 0 or an exit status. */
static int
finish(void *ctx, struct oai_job *j)
{
	struct batch *b = (struct batch *)(void *)j;
	const struct where *at;
	int status = j->status;

	(void)ctx;
	if (!status && !b->why && (jscan_end(&b->js) != 0 || !b->sawdata))
		b->why = "not an embedding list";
	if (!status && !b->why) {
		drain(b, b->n);
		if (b->written < b->n)
			b->why = "wrong number of embeddings";
	}
	out_flush();
	at = &b->at[b->written < b->n ? b->written : b->n - 1];
	if (b->why)
		return oai_unexpected(&o, &b->j.rq, "%s (%s:%lld and what "
		    "follows were not embedded)", b->why, at->fname, at->line);
	if (status && b->j.rs.error.len)
		warnx("%s (%s:%lld and what follows were not embedded)",
		    b->j.rs.error.s, at->fname, at->line);
	if (!status)
		oai_usage_add(&total, &b->j.rs.usage);
	return status;
}

static void
drop(void *ctx, struct oai_job *j)
{
	struct batch *b = (struct batch *)(void *)j;

	(void)ctx;
	release(b);
	b->next = spare;
	spare = b;
}

static int
dry(struct lines *r)
{
	struct batch *b;

	while ((b = readbatch(r))) {
		out_add(b->body.s, b->body.len);
		out_add("\n", 1);
		drop(NULL, &b->j);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct oai_ordered pipe = { .make = make, .first = first,
	    .finish = finish, .drop = drop };
	struct lines r;
	struct batch *b;
	int i, rc;

	i = oai_start(&o, &tool, argc, argv);
	model = oai_env("model", "OAI_EMBED_MODEL", model);
	if (withtext && format != VEC_JSONL)
		die(OAI_EX_USAGE, "--with-text needs --format jsonl");
	lines_init(&r, argv + i, argc - i,
	    LINES_CRLF | (wholeflag ? LINES_WHOLE : 0));
	pipe.ctx = &r;
	if (dryrun)
		rc = dry(&r);
	else {
		if (format == VEC_F32)
			out_refuse_tty("float32 vectors", "use --format jsonl");
		oai_setup(&o);
		o.want_usage = usageflag;
		if (budget > 0 && !oai_has_price(model))
			die(OAI_EX_USAGE, "--budget: no price for %s; set "
			    "OAI_PRICES", model);
		oai_usage_init(&total, model);
		pipe.parallel = (int)parallel;
		pipe.budget = budget;
		rc = oai_ordered_run(&o, &pipe);
		if (usageflag && rc != OAI_EX_INTR && rc != OAI_EX_TERM)
			oai_usage_print(&total);
	}
	if (!rc && instatus) {	/* an input error ends what was embedded */
		if (inerr.len)
			warnx("%s", inerr.s);
		rc = instatus;
	}
	while ((b = spare)) {
		spare = b->next;
		freebatch(b);
	}
	while (npool > 0) {
		buf_free(pool[--npool]);
		free(pool[npool]);
	}
	lines_free(&r);
	buf_free(&inerr);
	buf_free(&line);
	return oai_finish(&o, rc);
}
