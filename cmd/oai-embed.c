/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <getopt.h>
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

/* Where the reader is. */
struct reader {
	char **files;
	int nfiles, cur;
	FILE *f;
	const char *fname;
	long long line;
	char *s;		/* getline buffer */
	size_t cap;
	/* a line read but not yet placed (it did not fit the last batch) */
	int held;
	size_t heldlen;
	long long heldline;
	int eof;
};

static const char *model = "text-embedding-3-small";
static long dims, parallel = 4, batchsize = MAXINPUTS;
static int format = FMT_JSONL, wholeflag, skipempty, withtext, dryrun;
static int dimsseen;		/* dimensions of the first vector */
static long long nextindex;	/* of the next input placed */
static struct buf inerr = BUF_INIT;	/* an input error, reported last */

#define USAGE \
	"usage: %s [-P N] [-b N] [-m MODEL] [--dimensions N]\n" \
	"       [--format jsonl | tsv | f32] [--with-text] [--whole]\n" \
	"       [--skip-empty] [--dry-run] [FILE ...]\n"

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
	    "Embed each line of the files (or of standard input) and print one\n"
	    "vector per line, in input order.\n\n"
	    "  -m, --model MODEL         embedding model (default $OAI_EMBED_MODEL\n"
	    "                            or text-embedding-3-small)\n"
	    "      --dimensions N        ask for N dimensions (text-embedding-3-*)\n"
	    "      --format FORMAT       jsonl (default), tsv, or f32: raw\n"
	    "                            little-endian float32, never to a terminal\n"
	    "      --with-text           jsonl: add each input as \"text\"\n"
	    "      --whole               each file (or standard input) is one input\n"
	    "      --skip-empty          skip empty lines instead of failing\n"
	    "  -P, --parallel N          requests in flight at once (default 4)\n"
	    "  -b, --batch-size N        inputs per request, at most 2048 (default)\n"
	    "      --dry-run             print the request bodies, send nothing\n"
	    "%s", argv0, OAI_COMMON_HELP);
	out_close();
	exit(0);
}

/* ---- input ---------------------------------------------------------- */

static int
openfile(struct reader *r)
{
	const char *p = r->files[r->cur];

	r->line = 0;
	if (strcmp(p, "-") == 0) {
		r->f = stdin;
		r->fname = "stdin";
		return 0;
	}
	r->fname = p;
	if (!(r->f = fopen(p, "r"))) {
		buf_printf(&inerr, "%s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

static void
closefile(struct reader *r)
{
	if (r->f && r->f != stdin)
		fclose(r->f);
	r->f = NULL;
}

/* Next input into r->s (length *n), or 0 at the end, -1 on error. */
static int
nextinput(struct reader *r, size_t *n)
{
	ssize_t k;

	if (r->held) {
		r->held = 0;
		*n = r->heldlen;
		r->line = r->heldline;
		return 1;
	}
	for (;;) {
		if (r->eof)
			return 0;
		if (!r->f) {
			if (r->cur >= r->nfiles) {
				r->eof = 1;
				return 0;
			}
			if (openfile(r) < 0)
				return -1;
		}
		if (wholeflag) {
			struct buf b = BUF_INIT;

			if (buf_readfd(&b, fileno(r->f)) < 0) {
				buf_printf(&inerr, "%s: %s", r->fname,
				    strerror(errno));
				buf_free(&b);
				return -1;
			}
			closefile(r);
			r->cur++;
			r->line = 1;
			/* "echo text |" means the text, not its newline */
			if (b.len && b.s[b.len - 1] == '\n')
				b.len--;
			free(r->s);
			r->s = b.len ? b.s : (free(b.s), xstrdup(""));
			r->cap = b.len + 1;
			r->s[b.len] = '\0';
			*n = b.len;
			return 1;
		}
		errno = 0;
		if ((k = getline(&r->s, &r->cap, r->f)) < 0) {
			if (ferror(r->f)) {
				buf_printf(&inerr, "%s: %s", r->fname,
				    strerror(errno ? errno : EIO));
				return -1;
			}
			closefile(r);
			r->cur++;
			continue;
		}
		r->line++;
		if (k && r->s[k - 1] == '\n')
			k--;
		if (k && r->s[k - 1] == '\r')
			k--;
		r->s[k] = '\0';
		*n = (size_t)k;
		return 1;
	}
}

/* A token takes at least one byte, so bytes bound the tokens of a
 * batch; for a single input, 3 bytes a token is a safe guess for text. */
static size_t
estimate(size_t n)
{
	return (n + 2) / 3;
}

/*
 * Read the next batch.  Returns it, or NULL at the end of the input or
 * after an input error (then inerr says what).
 */
static struct batch *
readbatch(struct reader *r)
{
	struct batch *b;
	struct jw w;
	size_t n, bytes = 0, bad;
	int rc = 0;

	b = xcalloc(1, sizeof *b);
	jw_init(&w, &b->body);
	jw_obj(&w);
	jw_key(&w, "input");
	jw_arr(&w);
	while (b->n < batchsize && (rc = nextinput(r, &n)) > 0) {
		if (n == 0 && !wholeflag && skipempty)
			continue;
		if (n == 0) {
			buf_printf(&inerr, "%s:%lld: empty input (the API "
			    "rejects it; --skip-empty skips it)", r->fname,
			    r->line);
			r->eof = 1;
			break;
		}
		if ((bad = utf8_invalid(r->s, n)) != (size_t)-1) {
			buf_printf(&inerr, "%s:%lld: not valid UTF-8 at byte "
			    "%zu", r->fname, r->line, bad + 1);
			r->eof = 1;
			break;
		}
		if (estimate(n) > MAXTOKENS) {
			buf_printf(&inerr, "%s:%lld: input too long (%zu bytes,"
			    " about %zu tokens; the model takes %d)", r->fname,
			    r->line, n, estimate(n), MAXTOKENS);
			r->eof = 1;
			break;
		}
		if (b->n > 0 && bytes + n > MAXBATCH) {
			r->held = 1;
			r->heldlen = n;
			r->heldline = r->line;
			break;
		}
		if (b->n == 0) {
			b->fname = r->fname;
			b->line = r->line;
			b->first = nextindex;
		}
		jw_strn(&w, r->s, n);
		if (withtext) {
			buf_add(&b->texts, &n, sizeof n);
			buf_add(&b->texts, r->s, n);
		}
		bytes += n;
		b->n++;
		nextindex++;
	}
	if (rc < 0)
		r->eof = 1;
	if (b->n == 0) {
		buf_free(&b->body);
		free(b);
		return NULL;
	}
	jw_arr_end(&w);
	jw_key(&w, "model");
	jw_str(&w, model);
	jw_key(&w, "encoding_format");
	jw_str(&w, "base64");
	if (dims) {
		jw_key(&w, "dimensions");
		jw_int(&w, dims);
	}
	jw_obj_end(&w);
	b->rq.method = "POST";
	b->rq.path = "/embeddings";
	b->rq.body = b->body.s;
	b->rq.bodylen = b->body.len;
	/* One line says both what failed and where the output stops. */
	b->rq.defer_error = 1;
	b->rs = (struct oai_resp)OAI_RESP_INIT;
	return b;
}

static void
freebatch(struct batch *b)
{
	buf_free(&b->body);
	buf_free(&b->texts);
	oai_resp_free(&b->rs);
	free(b);
}

/* ---- output --------------------------------------------------------- */

/* Decode standard base64 (padding optional) into b; -1 if malformed. */
static int
b64decode(struct buf *b, const char *s, size_t n)
{
	static signed char val[256];
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	unsigned char *o;
	unsigned v = 0;
	int bits = 0, d, i;
	size_t k;

	if (!val[0]) {
		memset(val, -1, sizeof val);
		for (i = 0; i < 64; i++)
			val[(unsigned char)al[i]] = (signed char)i;
	}
	while (n && s[n - 1] == '=')
		n--;
	buf_grow(b, n / 4 * 3 + 3);
	o = (unsigned char *)b->s + b->len;
	for (k = 0; k + 4 <= n; k += 4) {	/* 4 characters, 3 bytes */
		int a0 = val[p[k]], a1 = val[p[k + 1]], a2 = val[p[k + 2]],
		    a3 = val[p[k + 3]];

		if ((a0 | a1 | a2 | a3) < 0)
			return -1;
		v = (unsigned)a0 << 18 | (unsigned)a1 << 12 |
		    (unsigned)a2 << 6 | (unsigned)a3;
		*o++ = (unsigned char)(v >> 16);
		*o++ = (unsigned char)(v >> 8);
		*o++ = (unsigned char)v;
	}
	for (v = 0; k < n; k++) {
		if ((d = val[p[k]]) < 0)
			return -1;
		v = (v << 6) | (unsigned)d;
		if ((bits += 6) >= 8) {
			bits -= 8;
			*o++ = (unsigned char)((v >> bits) & 0xff);
		}
	}
	b->len = (size_t)((char *)o - b->s);
	b->s[b->len] = '\0';
	return 0;
}

static float
getf32(const unsigned char *p)
{
	uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

static int
badresp(struct batch *b, const char *why)
{
	warnx("unexpected response for %s:%lld and the %d inputs from "
	    "there: %s", b->fname, b->line, b->n, why);
	return OAI_EX_FAILURE;
}

/* Print the vectors of a finished batch; 0 or an exit status. */
static int
writebatch(struct batch *b)
{
	struct json j = JSON_INIT;
	struct buf raw = BUF_INIT, line = BUF_INIT;
	size_t *off = NULL, *len = NULL, vl;
	const char *text = b->texts.s;
	int data, t, e, i, k, rc = 0, nd = 0;
	long long idx;
	double d;

	if (json_parse(&j, b->rs.body.s ? b->rs.body.s : "", b->rs.body.len) < 0
	    || json_type(&j, data = json_get(&j, 0, "data")) != JSON_ARRAY) {
		rc = badresp(b, "not an embedding list");
		goto out;
	}
	if (json_size(&j, data) != b->n) {
		rc = badresp(b, "wrong number of embeddings");
		goto out;
	}
	/* The vectors, decoded into raw in input order. */
	off = xcalloc((size_t)b->n, sizeof *off);
	len = xcalloc((size_t)b->n, sizeof *len);
	for (i = 0; i < b->n; i++)
		len[i] = (size_t)-1;
	for (i = 0, t = data + 1; i < b->n; i++, t = json_skip(&j, t)) {
		if (json_int(&j, json_get(&j, t, "index"), &idx) < 0 ||
		    idx < 0 || idx >= b->n || len[idx] != (size_t)-1) {
			rc = badresp(b, "bad or repeated index");
			goto out;
		}
		e = json_get(&j, t, "embedding");
		off[idx] = raw.len;
		if (json_type(&j, e) == JSON_STRING) {
			const char *s = json_raw(&j, e, &vl);

			if (b64decode(&raw, s, vl) < 0 || (raw.len -
			    off[idx]) % 4) {
				rc = badresp(b, "bad base64 embedding");
				goto out;
			}
		} else if (json_type(&j, e) == JSON_ARRAY) {
			/* a server that ignores encoding_format: walk the
			 * elements in order (json_at() starts over each time) */
			int el = e + 1;

			for (k = 0; k < json_size(&j, e); k++,
			    el = json_skip(&j, el)) {
				float f;
				unsigned char p[4];
				uint32_t u;

				if (json_num(&j, el, &d) < 0) {
					rc = badresp(b, "bad embedding");
					goto out;
				}
				f = (float)d;
				memcpy(&u, &f, 4);
				p[0] = u & 0xff, p[1] = (u >> 8) & 0xff;
				p[2] = (u >> 16) & 0xff, p[3] = u >> 24;
				buf_add(&raw, p, 4);
			}
		} else {
			rc = badresp(b, "no embedding");
			goto out;
		}
		len[idx] = (raw.len - off[idx]) / 4;
		if (!dimsseen)
			dimsseen = (int)len[idx];
		if (len[idx] == 0 || len[idx] != (size_t)dimsseen) {
			rc = badresp(b, "vectors of different sizes");
			goto out;
		}
	}
	nd = dimsseen;
	for (i = 0; i < b->n; i++) {
		const unsigned char *v = (unsigned char *)raw.s + off[i];

		if (format == FMT_F32) {
			/* raw is little-endian already, as f32 is */
			out_add(v, (size_t)nd * 4);
			continue;
		}
		buf_reset(&line);
		if (format == FMT_JSONL) {
			buf_printf(&line, "{\"index\":%lld,", b->first + i);
			if (withtext) {
				size_t tl;

				memcpy(&tl, text, sizeof tl);
				text += sizeof tl;
				buf_adds(&line, "\"text\":");
				json_quote(&line, text, tl);
				buf_addc(&line, ',');
				text += tl;
			}
			buf_adds(&line, "\"embedding\":[");
		}
		/* at most F32_BUFSIZE bytes a number with its separator */
		buf_grow(&line, (size_t)nd * F32_BUFSIZE + 4);
		for (k = 0; k < nd; k++) {
			if (k)
				line.s[line.len++] = format == FMT_TSV ? '\t' :
				    ',';
			line.len += f32_shortest(line.s + line.len,
			    getf32(v + 4 * k));
		}
		line.s[line.len] = '\0';
		buf_adds(&line, format == FMT_JSONL ? "]}\n" : "\n");
		out_add(line.s, line.len);
	}
	out_flush();
out:
	free(off);
	free(len);
	buf_free(&raw);
	buf_free(&line);
	json_free(&j);
	return rc;
}

/* ---- the run -------------------------------------------------------- */

static int
dry(struct reader *r)
{
	struct batch *b;

	while ((b = readbatch(r))) {
		out_add(b->body.s, b->body.len);
		out_add("\n", 1);
		freebatch(b);
	}
	return 0;
}

static int
run(struct oai *o, struct reader *r)
{
	struct oai_multi *m = oai_multi_new(o, (int)parallel);
	struct batch *head = NULL, **tail = &head, *b;
	int outstanding = 0, stopped = 0, status, rc = 0;

	for (;;) {
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
		b->status = status;
		if (status)
			stopped = 1;	/* start nothing new */
		/* Write what is complete, in order. */
		while (head && head->done) {
			b = head;
			if (!b->status && (b->status = writebatch(b)) == 0) {
				head = b->next;
				if (!head)
					tail = &head;
				freebatch(b);
				outstanding--;
				continue;
			}
			rc = b->status;
			if (b->rs.error.len)
				warnx("%s (%s:%lld and what follows were not "
				    "embedded)", b->rs.error.s, b->fname,
				    b->line);
			goto out;
		}
	}
	if (inerr.len && oai_interrupted)
		rc = oai_intr_status();	/* a read cut by Ctrl-C: quietly */
	else if (inerr.len) {
		warnx("%s", inerr.s);
		rc = OAI_EX_USAGE;
	}
out:
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
	enum { OPT_DIMS = OPT_TOOL, OPT_FORMAT, OPT_WITHTEXT, OPT_WHOLE,
	    OPT_SKIPEMPTY, OPT_DRYRUN };
	static const struct option longopts[] = {
		{ "batch-size", required_argument, NULL, 'b' },
		{ "dimensions", required_argument, NULL, OPT_DIMS },
		{ "dry-run", no_argument, NULL, OPT_DRYRUN },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "model", required_argument, NULL, 'm' },
		{ "parallel", required_argument, NULL, 'P' },
		{ "skip-empty", no_argument, NULL, OPT_SKIPEMPTY },
		{ "whole", no_argument, NULL, OPT_WHOLE },
		{ "with-text", no_argument, NULL, OPT_WITHTEXT },
		OAI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static char *stdinonly[] = { "-", NULL };
	struct reader r;
	struct oai o;
	const char *s;
	int c, rc;

	oai_init(&o, argc, argv);
	if ((s = getenv("OAI_EMBED_MODEL")) && *s)
		model = s;
	while ((c = getopt_long(argc, argv, "b:hm:P:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			batchsize = (long)xstrtonum("--batch-size", optarg, 1,
			    MAXINPUTS);
			break;
		case 'h':
		case OPT_HELP:
			help();
			break;
		case 'm':
			if (!*optarg)
				die(OAI_EX_USAGE, "--model: empty model name");
			model = optarg;
			break;
		case 'P':
			parallel = (long)xstrtonum("--parallel", optarg, 1, 64);
			break;
		case 'v':
			o.verbose++;
			break;
		case OPT_DIMS:
			dims = (long)xstrtonum("--dimensions", optarg, 1, 65536);
			break;
		case OPT_DRYRUN:
			dryrun = 1;
			break;
		case OPT_FORMAT:
			format = xchoice("--format", optarg, formats);
			break;
		case OPT_SKIPEMPTY:
			skipempty = 1;
			break;
		case OPT_WHOLE:
			wholeflag = 1;
			break;
		case OPT_WITHTEXT:
			withtext = 1;
			break;
		default:
			if (!oai_option(&o, c, optarg))
				usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (withtext && format != FMT_JSONL)
		die(OAI_EX_USAGE, "--with-text needs --format jsonl");
	memset(&r, 0, sizeof r);
	r.files = argc ? argv : stdinonly;
	r.nfiles = argc ? argc : 1;
	if (dryrun)
		rc = dry(&r);
	else {
		if (format == FMT_F32)
			out_refuse_tty("float32 vectors", "use --format jsonl");
		oai_setup(&o);
		rc = run(&o, &r);
	}
	if (dryrun && inerr.len && oai_interrupted)
		rc = oai_intr_status();
	else if (dryrun && inerr.len) {
		warnx("%s", inerr.s);
		rc = OAI_EX_USAGE;
	}
	closefile(&r);
	free(r.s);
	buf_free(&inerr);
	out_close();
	oai_cleanup(&o);
	return rc;
}
