/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oai.h"

/*
 * Requests through the Batch API, results in input order.  The input is
 * checked and spooled line by line into temporary files of at most
 * MAXREQ requests and MAXBYTES bytes (one batch each), uploaded from
 * there, and the output and error files are downloaded to temporary
 * files; the results are then read back by offset, one batch at a time,
 * so memory holds indexes, never the data.  The order of a batch's
 * requests is the order of its input file, which --attach downloads.
 */

#define MAXREQ 50000			/* the API's requests per batch */
#define MAXBYTES (200LL * 1000 * 1000)	/* and bytes per input file */
#define POLLMS 5000			/* the first wait between polls */
#define MAXFAILS 10			/* polls failing in a row: give up */

static const struct {
	const char *name, *url;
} endpoints[] = {
	{ "chat", "/v1/chat/completions" },
	{ "embeddings", "/v1/embeddings" },
	{ "completions", "/v1/completions" },
	{ "moderations", "/v1/moderations" },
	{ "responses", "/v1/responses" },
};

static const char *endpoint;	/* -e, as given */
static const char *url;		/* of every request: from -e or the input */
static int detach, listflag, jsonflag, keep, dryrun, usageflag;
static struct oai_usage total;	/* -u: of the results */
static struct oai_list attach, statusids, cancelids;

/* --lines: each line one request, printed as oai-embed or oai-chat
 * --each prints it (lib/vecout.c, lib/chatline.c). */
enum { LF_JSONL = VEC_JSONL, LF_TSV = VEC_TSV, LF_F32 = VEC_F32, LF_TEXT };
static const char *const lineformats[] = { "jsonl", "tsv", "f32", "text",
	NULL };
static int linesflag, format = -1, withtext, skipempty, wholeflag;
static const char *model, *sysmsg;
static long long dims;
static struct buf instr = BUF_INIT;	/* -e chat: the arguments */
static long long nlines;	/* input lines read */
static long long printed;	/* lines of output so far */
static int dimsseen;		/* of the first vector */
/* -e embeddings --lines: after a failed request nothing more is
 * printed, as oai-embed stops there; where it was, its exit status */
static struct buf stopat = BUF_INIT;
static int stoprc;

static const struct oai_opt opts[] = {
	OAI_STR('e', "endpoint", "endpoint", &endpoint,
	    "each line is a request body for endpoint:\n"
	    "chat, embeddings, completions, moderations\n"
	    "or responses (custom_ids generated)"),
	OAI_NAME('m', "model", "model", &model, "model name",
	    "--lines: the model (default as oai-embed\n"
	    "and oai-chat choose it)"),
	OAI_FN('r', "role", "name", oai_opt_role,
	    "--lines -e chat: a role's options and\n"
	    "system message (oai(7) CONFIGURATION)"),
	OAI_TEXT('s', "system", "text | @file", &sysmsg,
	    "--lines -e chat: system message (@file:\nfile's text)"),
	OAI_CHAT_TEMPERATURE,
	OAI_FLAG('u', "usage", &usageflag,
	    "print the results' token usage and cost\n"
	    "(at the Batch API's price) on stderr"),
	OAI_FLAG(0, "lines", &linesflag,
	    "with -e chat or embeddings: each input\n"
	    "line is one request, printed as oai-embed\n"
	    "prints it or oai-chat, one reply a line"),
	OAI_INT(0, "dimensions", "n", &dims, NULL, 1, 65536,
	    "--lines -e embeddings: ask for n dimensions"),
	OAI_CHOICE(0, "format", "jsonl | tsv | f32 | text", &format,
	    lineformats, "--lines: embeddings jsonl (default), tsv\n"
	    "or f32; chat text (default) or jsonl"),
	OAI_FLAG(0, "with-text", &withtext,
	    "--lines -e embeddings, jsonl: add each\n"
	    "input as \"text\""),
	OAI_FLAG(0, "skip-empty", &skipempty,
	    "--lines -e embeddings: skip empty lines\n"
	    "instead of failing"),
	OAI_FLAG(0, "whole", &wholeflag,
	    "--lines -e embeddings: each file (or\n"
	    "standard input) is one input"),
	OAI_CHAT_FREQUENCY_PENALTY,
	OAI_CHAT_JSON_OBJECT,
	OAI_CHAT_LOGIT_BIAS,
	OAI_CHAT_LOGPROBS,
	OAI_CHAT_MAX_TOKENS,
	OAI_CHAT_METADATA,
	OAI_CHAT_PARAM,
	OAI_CHAT_PREDICTION,
	OAI_CHAT_PRESENCE_PENALTY,
	OAI_CHAT_REASONING_EFFORT,
	OAI_CHAT_SCHEMA,
	OAI_CHAT_SEED,
	OAI_CHAT_SERVICE_TIER,
	OAI_CHAT_STOP,
	OAI_CHAT_STORE,
	OAI_CHAT_TOP_P,
	OAI_CHAT_VERBOSITY,
	OAI_FLAG(0, "dry-run", &dryrun,
	    "print the JSONL that would be uploaded,\n"
	    "send nothing"),
	OAI_FLAG(0, "detach", &detach,
	    "create the batches, print their ids, exit"),
	OAI_LIST(0, "attach", "id", &attach,
	    "wait for batch id (repeatable) and print\n"
	    "its results"),
	OAI_LIST(0, "status", "id", &statusids, "show batch id (repeatable)"),
	OAI_FLAG(0, "list", &listflag, "list the batches"),
	OAI_LIST(0, "cancel", "id", &cancelids, "cancel batch id (repeatable)"),
	OAI_FLAG(0, "json", &jsonflag,
	    "--status, --list, --cancel: print the API's\n"
	    "JSON responses"),
	OAI_FLAG(0, "keep-files", &keep,
	    "keep the input, output and error files\n"
	    "after a successful run"),
	/* oai-chat --each's, which cannot work in a batch (oai-batch(1)) */
	OAI_REFUSED('P', "parallel", "n",
	    "the service runs a batch's requests at its own pace"),
	OAI_REFUSED('o', "output", "file", "a batch's output is printed "
	    "once it has ended: redirect standard output"),
	OAI_REFUSED(0, "resume", NULL, "a batch's output is printed once it "
	    "has ended (--attach waits for a batch again)"),
	OAI_REFUSED(0, "budget", "usd", "a batch is paid for whole: see its "
	    "requests with --dry-run, its cost with -u"),
	OAI_REFUSED(0, "no-stream", NULL, "batches never stream"),
	OAI_REFUSED('n', "choices", "n", "each line of output holds one "
	    "reply: a batch would pay for the others"),
	OAI_REFUSED(0, "tool", "path", "tools run between requests, and a "
	    "batch's requests are all sent at once"),
	OAI_REFUSED(0, "tools", "file", "tools run between requests, and a "
	    "batch's requests are all sent at once"),
	OAI_REFUSED(0, "messages", NULL, "each line is a prompt with "
	    "--lines; bare request bodies go with -e chat alone"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[file ...]",
	"Run the JSONL requests of the files (or of standard input) through\n"
	"the Batch API, at half the price, and print the results in input\n"
	"order.",
	opts
};

/* One batch of the run. */
struct job {
	char *id;
	char *spool;		/* its input as uploaded, or NULL (--attach) */
	char *infile;		/* input_file_id */
	char *outfile, *errfile;	/* output_file_id, error_file_id */
	long long first;	/* the index of its first request */
	long long n;		/* its requests */
	long long endline;	/* --lines: the input's lines up to its end
				 * (metadata oai_lines, for --attach) */
	char *inpath;		/* its input file here (spool or download) */
	char status[16];
	long long total, completed, failed;
	struct buf obj;		/* the last batch object */
	int final;
};

static struct job *jobs;
static int njobs;

/* Where the requests come from, for "NAME:LINE" (run: one entry a file
 * of input; --attach: a batch's input file id). */
static struct src {
	long long first;
	char *name;
	long long line0;	/* the line of request first */
} *srcs;
static int nsrcs;

/* ---- temporary files, removed at exit -------------------------------- */

static char **tmps;
static int ntmps;

static void
rmtmps(void)
{
	int i;

	for (i = 0; i < ntmps; i++)
		unlink(tmps[i]);
}

/* A new temporary file, open for writing, its name in *path. */
static int
mktmp(char **path)
{
	const char *dir = getenv("TMPDIR");
	struct buf b = BUF_INIT;
	int fd;

	buf_printf(&b, "%s/oai-batch.XXXXXX", dir && *dir ? dir : "/tmp");
	if ((fd = mkstemp(b.s)) < 0)
		edie(OAI_EX_FAILURE, "%s", b.s);
	if (!ntmps)
		atexit(rmtmps);
	tmps = xreallocarray(tmps, (size_t)ntmps + 1, sizeof *tmps);
	tmps[ntmps++] = *path = buf_steal(&b, NULL);
	return fd;
}

static long long
envnum(const char *name, long long def)
{
	const char *s = getenv(name);

	return s && *s ? xstrtonum(name, s, 1, 1LL << 40) : def;
}

/* ---- a map from custom_id to position -------------------------------- */

struct idmap {
	char **key;
	size_t *klen;
	long long *val;
	size_t cap, n;
};

/* FNV-1a, 64 bits. */
static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static void idmap_grow(struct idmap *m);

/* The value of key k, or -1 after adding it with value v (v < 0: look
 * only). */
static long long
idmap_put(struct idmap *m, const char *k, size_t kl, long long v)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		idmap_grow(m);
	for (i = (size_t)hash(k, kl) & (m->cap - 1); m->key[i];
	    i = (i + 1) & (m->cap - 1))
		if (m->klen[i] == kl && memcmp(m->key[i], k, kl) == 0)
			return m->val[i];
	if (v >= 0) {
		m->key[i] = xstrndup(k, kl);
		m->klen[i] = kl;
		m->val[i] = v;
		m->n++;
	}
	return -1;
}

static void
idmap_free(struct idmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->key[i]);
	free(m->key);
	free(m->klen);
	free(m->val);
	memset(m, 0, sizeof *m);
}

static void
idmap_grow(struct idmap *m)
{
	struct idmap old = *m;
	size_t i;

	m->cap = old.cap ? 2 * old.cap : 1024;
	m->n = 0;
	m->key = xcalloc(m->cap, sizeof *m->key);
	m->klen = xcalloc(m->cap, sizeof *m->klen);
	m->val = xcalloc(m->cap, sizeof *m->val);
	for (i = 0; i < old.cap; i++)
		if (old.key[i])
			idmap_put(m, old.key[i], old.klen[i], old.val[i]);
	idmap_free(&old);
}

/* ---- custom_ids used once, in 8 bytes each ------------------------------ */

/*
 * The custom_ids of a run are told apart by their 64-bit hashes alone
 * (8 bytes an id, whatever its length: 1,000,000 ids take 8 MiB); only
 * ids whose hashes are equal are compared themselves, read again from
 * the spooled input.
 */
static uint64_t *idhash;
static size_t nidhash, idhashcap;

static void
addid(const char *s, size_t n)
{
	if (nidhash == idhashcap) {
		idhashcap = idhashcap ? 2 * idhashcap : 4096;
		idhash = xreallocarray(idhash, idhashcap, sizeof *idhash);
	}
	idhash[nidhash++] = hash(s, n);
}

static int
cmphash(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort v[0..n) in place: heapsort, as qsort(3) may take a copy of
 * the array (glibc's merge sort does), doubling the memory. */
static void
sorthashes(uint64_t *v, size_t n)
{
	size_t i, k, c;
	uint64_t t;

	for (i = n / 2; n > 1;) {
		if (i > 0)
			t = v[--i];
		else {
			t = v[--n];
			v[n] = v[0];
		}
		for (k = i; (c = 2 * k + 1) < n; k = c) {
			if (c + 1 < n && v[c + 1] > v[c])
				c++;
			if (v[c] <= t)
				break;
			v[k] = v[c];
		}
		v[k] = t;
	}
}

static void where(struct buf *b, const struct job *jb, long long pos);

/* Die naming the first request whose custom_id one before it has,
 * among those whose hashes are in dups[0..n) (sorted). */
static void
rescan(const uint64_t *dups, size_t n)
{
	struct idmap m = { 0 };
	struct json j = JSON_INIT;
	struct buf cid = BUF_INIT, at = BUF_INIT;
	struct lines r;
	uint64_t h;
	long long pos;
	int i;

	for (i = 0; i < njobs; i++) {
		lines_init(&r, &jobs[i].spool, 1, 0);
		for (pos = 0; lines_next(&r) > 0; pos++) {
			buf_reset(&cid);
			if (json_parse(&j, r.s, r.len) < 0 || json_str(&j,
			    json_get(&j, 0, "custom_id"), &cid) < 0)
				continue;
			h = hash(cid.s, cid.len);
			if (!bsearch(&h, dups, n, sizeof h, cmphash) ||
			    idmap_put(&m, cid.s, cid.len, pos) < 0)
				continue;
			where(&at, &jobs[i], pos);
			die(OAI_EX_USAGE, "%s: a custom_id used before", at.s);
		}
		lines_free(&r);
	}
	json_free(&j);
	buf_free(&cid);
	buf_free(&at);
	idmap_free(&m);
}

/* After the input is spooled: is every custom_id its own? */
static void
checkids(void)
{
	uint64_t *dups = NULL;
	size_t i, n = 0;

	sorthashes(idhash, nidhash);
	for (i = 1; i < nidhash; i++)
		if (idhash[i] == idhash[i - 1] && (!n ||
		    dups[n - 1] != idhash[i])) {
			dups = xreallocarray(dups, n + 1, sizeof *dups);
			dups[n++] = idhash[i];
		}
	free(idhash);
	idhash = NULL;
	nidhash = idhashcap = 0;
	if (n)
		rescan(dups, n);
	free(dups);
}

/* ---- the input --------------------------------------------------------- */

static const char *
endpointurl(const char *e)
{
	size_t i;

	for (i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
		if (strcmp(e, endpoints[i].name) == 0 ||
		    strcmp(e, endpoints[i].url) == 0)
			return endpoints[i].url;
	return NULL;
}

/* Why line s (parsed in j) is not a request line, or NULL; its
 * custom_id into cid. */
static const char *
badrequest(const struct json *j, struct buf *cid)
{
	int t = json_get(j, 0, "url"), b = json_get(j, 0, "body");
	struct buf u = BUF_INIT;
	const char *why = NULL;

	buf_reset(cid);
	if (json_str(j, json_get(j, 0, "custom_id"), cid) < 0 || !cid->len)
		return "no custom_id";
	if (memchr(cid->s, '\0', cid->len))
		return "a NUL in the custom_id";
	addid(cid->s, cid->len);
	if (!json_streq(j, json_get(j, 0, "method"), "POST"))
		return "the method is not POST";
	if (json_str(j, t, &u) < 0 || !endpointurl(u.s))
		why = "the url is not a batch endpoint (/v1/chat/completions, "
		    "/v1/embeddings, /v1/completions, /v1/moderations, "
		    "/v1/responses)";
	else if (url && strcmp(u.s, url))
		why = "a url other than the first line's: one batch, one "
		    "endpoint";
	else if (!url)
		url = endpointurl(u.s);
	buf_free(&u);
	if (!why && json_type(j, b) != JSON_OBJECT)
		why = "the body is not a JSON object";
	if (!why && json_is_true(j, json_get(j, b, "stream")))
		why = "\"stream\": true (batches do not stream)";
	return why;
}

/* The request line for input line r onto out; dies on bad input. */
static void
request(struct lines *r, struct json *j, struct buf *out, long long index)
{
	struct buf cid = BUF_INIT;
	const char *why = NULL;

	if (r->len == 0)
		why = "an empty line";
	else if (json_parse(j, r->s, r->len) < 0 ||
	    json_type(j, 0) != JSON_OBJECT)
		why = "not a JSON object";
	else if (!endpoint)
		why = badrequest(j, &cid);
	else if (json_is_true(j, json_get(j, 0, "stream")))
		why = "\"stream\": true (batches do not stream)";
	if (why)
		die(OAI_EX_USAGE, "%s:%lld: %s", r->name, r->line, why);
	buf_reset(out);
	if (endpoint)
		buf_printf(out, "{\"custom_id\":\"request-%lld\",\"method\":"
		    "\"POST\",\"url\":\"%s\",\"body\":", index + 1, url);
	json_compact(out, r->s, r->len);
	if (endpoint)
		buf_addc(out, '}');
	buf_addc(out, '\n');
	buf_free(&cid);
}

static int
ischat(void)
{
	return url && strcmp(url, "/v1/chat/completions") == 0;
}

/* --lines: the request of input line r onto out (its custom_id
 * "line-N", N counting the lines of all the input): 1, or 0 for an
 * empty line of -e chat (not sent; its line of output says so, as
 * oai-chat --each's does).  Dies on bad input. */
static int
linerequest(const struct lines *r, struct buf *out)
{
	struct buf body = BUF_INIT, why = BUF_INIT, at = BUF_INIT;
	struct jw w;

	if (r->len == 0 && (ischat() || (skipempty && !wholeflag)))
		return 0;
	buf_printf(&at, "%s:%lld", r->name, r->line);
	if (ischat() ? input_checkmsg(&why, at.s, r->s, r->len, 0) < 0 :
	    vec_checkinput(&why, at.s, r->s, r->len) < 0)
		die(OAI_EX_USAGE, "%s", why.s);
	if (ischat())
		chat_linebody(&body, model, sysmsg, instr.s, instr.len, r->s,
		    r->len);
	else {
		jw_init(&w, &body);
		jw_obj(&w);
		jw_key(&w, "model");
		jw_str(&w, model);
		jw_key(&w, "input");
		jw_strn(&w, r->s, r->len);
		jw_key(&w, "encoding_format");
		jw_str(&w, "base64");
		if (dims) {
			jw_key(&w, "dimensions");
			jw_int(&w, dims);
		}
		jw_obj_end(&w);
	}
	buf_reset(out);
	buf_printf(out, "{\"custom_id\":\"line-%lld\",\"method\":\"POST\","
	    "\"url\":\"%s\",\"body\":%s}\n", nlines, url, body.s);
	buf_free(&body);
	buf_free(&why);
	buf_free(&at);
	return 1;
}

/* Request index comes from line r: a new entry of srcs unless it
 * follows the last one's. */
static void
addsrc(const struct lines *r, long long index)
{
	struct src *l = nsrcs ? &srcs[nsrcs - 1] : NULL;

	if (l && strcmp(l->name, r->name) == 0 &&
	    l->line0 + (index - l->first) == r->line)
		return;
	srcs = xreallocarray(srcs, (size_t)nsrcs + 1, sizeof *srcs);
	srcs[nsrcs].first = index;
	srcs[nsrcs].line0 = r->line;
	srcs[nsrcs++].name = xstrdup(r->name);
}

static void
writeall(int fd, const char *p, size_t n, const char *path)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR && !oai_interrupted)
				continue;
			edie(OAI_EX_FAILURE, "%s", path);
		}
		p += w;
		n -= (size_t)w;
	}
}

static struct job *
newjob(long long first)
{
	struct job *jb;

	jobs = xreallocarray(jobs, (size_t)njobs + 1, sizeof *jobs);
	jb = &jobs[njobs++];
	memset(jb, 0, sizeof *jb);
	buf_init(&jb->obj);
	jb->first = first;
	return jb;
}

/* Check every line and spool it into the jobs' input files. */
static void
spool(char **files, int nfiles)
{
	long long maxreq = envnum("OAI_TEST_BATCH_REQUESTS", MAXREQ);
	long long maxbytes = envnum("OAI_TEST_BATCH_BYTES", MAXBYTES);
	struct json j = JSON_INIT;
	struct buf line = BUF_INIT;
	struct job *jb = NULL;
	long long index = 0, bytes = 0;
	struct lines r;
	int fd = -1, k;

	lines_init(&r, files, nfiles, LINES_CRLF |
	    (wholeflag ? LINES_WHOLE : 0));
	while ((k = lines_next(&r)) > 0) {
		nlines++;
		if (!linesflag)
			request(&r, &j, &line, index);
		else if (!linerequest(&r, &line))
			continue;
		addsrc(&r, index);
		if (!jb || jb->n == maxreq ||
		    bytes + (long long)line.len > maxbytes) {
			if (fd >= 0)
				close(fd);
			if (jb)
				jb->endline = nlines - 1;
			jb = newjob(index);
			fd = mktmp(&jb->spool);
			bytes = 0;
		}
		writeall(fd, line.s, line.len, jb->spool);
		bytes += (long long)line.len;
		jb->n++;
		index++;
	}
	if (k < 0)
		die(r.status, "%s", r.err.s);
	if (fd >= 0 && close(fd) < 0)
		edie(OAI_EX_FAILURE, "%s", jb->spool);
	if (!njobs)
		die(OAI_EX_USAGE, "no requests in the input");
	jb->endline = nlines;
	if (!linesflag && !endpoint)
		checkids();
	lines_free(&r);
	json_free(&j);
	buf_free(&line);
}

/* ---- batches ------------------------------------------------------------ */

static char *
jstr(const struct json *j, int t)
{
	return json_type(j, t) == JSON_STRING ? json_strdup(j, t) : NULL;
}

static long long
jint(const struct json *j, const char *path)
{
	long long v;

	return json_int(j, json_path(j, 0, path), &v) < 0 ? 0 : v;
}

/* String t of j as a number of lines, 0 if it is none. */
static long long
linecount(const struct json *j, int t)
{
	struct buf b = BUF_INIT;
	long long v = 0;
	char *end;

	if (json_str(j, t, &b) == 0 && b.len && b.s[0] >= '0' &&
	    b.s[0] <= '9' && ((v = strtoll(b.s, &end, 10)) < 0 || *end))
		v = 0;
	buf_free(&b);
	return v;
}

/* Take in the batch object in body; 0 or an exit status. */
static int
readjob(struct oai *o, const struct oai_req *rq, struct job *jb,
    const struct buf *body)
{
	struct json j = JSON_INIT;
	struct buf st = BUF_INIT;
	int t;

	if ((t = oai_resp_json(o, rq, body, &j, "status", JSON_STRING,
	    "not a batch")) < 0 || json_type(&j, json_get(&j, 0, "id")) !=
	    JSON_STRING) {
		json_free(&j);
		return t < 0 ? OAI_EX_FAILURE : oai_unexpected(o, rq,
		    "a batch without id");
	}
	json_str(&j, t, &st);
	snprintf(jb->status, sizeof jb->status, "%s", st.s);
	if (!jb->id)
		jb->id = jstr(&j, json_get(&j, 0, "id"));
	free(jb->infile);
	free(jb->outfile);
	free(jb->errfile);
	jb->infile = jstr(&j, json_get(&j, 0, "input_file_id"));
	jb->outfile = jstr(&j, json_get(&j, 0, "output_file_id"));
	jb->errfile = jstr(&j, json_get(&j, 0, "error_file_id"));
	if (!url && linesflag) {	/* --attach: the batch says which */
		t = json_get(&j, 0, "endpoint");
		if (json_streq(&j, t, "/v1/chat/completions") ||
		    json_streq(&j, t, "/v1/embeddings"))
			url = endpointurl(json_streq(&j, t, "/v1/embeddings") ?
			    "embeddings" : "chat");
	}
	if (!jb->spool && (t = json_path(&j, 0, "metadata.oai_lines")) >= 0)
		jb->endline = linecount(&j, t);
	jb->total = jint(&j, "request_counts.total");
	jb->completed = jint(&j, "request_counts.completed");
	jb->failed = jint(&j, "request_counts.failed");
	jb->final = strcmp(st.s, "completed") == 0 ||
	    strcmp(st.s, "failed") == 0 || strcmp(st.s, "expired") == 0 ||
	    strcmp(st.s, "cancelled") == 0;
	buf_reset(&jb->obj);
	buf_add(&jb->obj, body->s, body->len);
	buf_free(&st);
	json_free(&j);
	return 0;
}

/* method PREFIX ID SUFFIX with body; the batch object into jb. */
static int
batchreq(struct oai *o, const char *method, const char *id,
    const char *suffix, const char *body, struct job *jb,
    struct oai_resp *rs)
{
	struct oai_req rq = { .method = method, .body = body,
	    .bodylen = body ? strlen(body) : 0, .defer_error = 1 };
	struct buf path = BUF_INIT;
	int rc;

	if (!id)
		buf_adds(&path, "/batches");
	else if (oai_idpath(&path, "/batches/", id, suffix) < 0)
		return oai_badid("batch", id);
	rq.path = path.s;
	if (!(rc = oai_request(o, &rq, rs)))
		rc = readjob(o, &rq, jb, &rs->body);
	buf_free(&path);
	return rc;
}

/* The deferred error line of rs, said. */
static int
said(struct oai_resp *rs, int rc)
{
	if (rs->error.len)
		warnx("%s", rs->error.s);
	return rc;
}

/* Upload the spool of jb and create its batch. */
static int
create(struct oai *o, struct job *jb, int k)
{
	struct oai_resp rs = OAI_RESP_INIT;
	struct buf id = BUF_INIT, name = BUF_INIT, body = BUF_INIT;
	struct jw w;
	int rc;

	buf_printf(&name, "oai-batch-%d.jsonl", k + 1);
	if (!(rc = oai_file_upload(o, jb->spool, name.s, "batch", &rs,
	    &id))) {
		jw_init(&w, &body);
		jw_obj(&w);
		jw_key(&w, "input_file_id");
		jw_strn(&w, id.s, id.len);
		jw_key(&w, "endpoint");
		jw_str(&w, url);
		jw_key(&w, "completion_window");
		jw_str(&w, "24h");
		if (linesflag) {	/* what --attach cannot see otherwise:
					 * -e chat's empty lines at the end */
			buf_reset(&id);
			buf_printf(&id, "%lld", jb->endline);
			jw_key(&w, "metadata");
			jw_obj(&w);
			jw_key(&w, "oai_lines");
			jw_str(&w, id.s);
			jw_obj_end(&w);
		}
		jw_obj_end(&w);
		oai_resp_free(&rs);
		rs = (struct oai_resp)OAI_RESP_INIT;
		rc = said(&rs, batchreq(o, "POST", NULL, "", body.s, jb, &rs));
	}
	buf_free(&id);
	buf_free(&name);
	buf_free(&body);
	oai_resp_free(&rs);
	return rc;
}

/* "oai-batch --attach ID --attach ID" for the batches created. */
static void
resumehint(const char *why)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < njobs; i++)
		if (jobs[i].id)
			buf_printf(&b, " --attach %s", jobs[i].id);
	if (b.len && linesflag)
		buf_printf(&b, " --lines --format %s%s", lineformats[format],
		    withtext ? " --with-text" : "");
	if (b.len)
		warnx("%s; the batch%s go%s on: %s%s", why, njobs > 1 ? "es" :
		    "", njobs > 1 ? "" : "es", argv0, b.s);
	buf_free(&b);
}

/* ---- waiting ------------------------------------------------------------ */

static void
progress(time_t start, int done)
{
	long long total = 0, completed = 0, failed = 0;
	const char *st = "completed";
	long secs = (long)(time(NULL) - start);
	int i;

	if (!isatty(2))
		return;
	if (done) {
		fputs("\r\033[K", stderr);
		return;
	}
	for (i = 0; i < njobs; i++) {
		total += jobs[i].total;
		completed += jobs[i].completed;
		failed += jobs[i].failed;
		if (!jobs[i].final)
			st = jobs[i].status;
	}
	fprintf(stderr, "\r\033[K%s: %s, %lld/%lld done, %lld failed, "
	    "%ld:%02ld:%02ld", njobs > 1 ? "batches" : jobs[0].id, st,
	    completed, total, failed, secs / 3600, secs / 60 % 60, secs % 60);
	fflush(stderr);
}

/* Sleep ms, or less when interrupted: 0, or the interruption's status. */
static int
pause_ms(long long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) *
	    1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !oai_interrupted)
		;
	return oai_interrupted ? oai_intr_status() : 0;
}

/* Poll one batch; a transient failure (network, 5xx, 429) counts in
 * *fails and is no error until MAXFAILS in a row. */
static int
poll1(struct oai *o, struct job *jb, int *fails, long long *wait)
{
	struct oai_resp rs = OAI_RESP_INIT;
	int rc = batchreq(o, "GET", jb->id, "", NULL, jb, &rs);

	if (rs.retry_after_ms > *wait)
		*wait = rs.retry_after_ms;
	if (rc == 0)
		*fails = 0;
	else if ((rc == OAI_EX_FAILURE || rs.status == 429) &&
	    ++*fails < MAXFAILS)
		rc = 0;
	else
		said(&rs, rc);
	oai_resp_free(&rs);
	return rc;
}

/* Until every batch has ended; backing off from POLLMS to 12 times it. */
static int
waitall(struct oai *o)
{
	long long delay = envnum("OAI_TEST_BATCH_POLL_MS", POLLMS), wait;
	long long maxdelay = 12 * delay;
	time_t start = time(NULL);
	int i, rc = 0, left, fails = 0;

	for (;;) {
		left = 0;
		wait = delay;
		for (i = 0; !rc && i < njobs; i++)
			if (!jobs[i].final) {
				rc = poll1(o, &jobs[i], &fails, &wait);
				left += !jobs[i].final;
			}
		if (rc || !left)
			break;
		progress(start, 0);
		if ((rc = pause_ms(wait)))
			break;
		if ((delay = delay * 3 / 2) > maxdelay)
			delay = maxdelay;
	}
	progress(start, 1);
	if (rc == OAI_EX_INTR || rc == OAI_EX_TERM)
		resumehint("interrupted");
	return rc;
}

/* ---- results ------------------------------------------------------------ */

/* Where a batch's result line is: in its output or its error file. */
enum { NONE, OUT, ERR };
struct res {
	int which;
	off_t off;
	size_t len;
};

static int
download(struct oai *o, const char *id, char **path)
{
	struct oai_resp rs = OAI_RESP_INIT;
	int fd = mktmp(path), rc;

	rc = oai_file_content(o, id, oai_fd_sink, &fd, &rs);
	if (close(fd) < 0 && !rc)
		edie(OAI_EX_FAILURE, "%s", *path);
	oai_resp_free(&rs);
	return rc;
}

/* Each line of file path to fn with its offset; 0 or fn's status. */
static int
eachline(const char *path, int (*fn)(void *, const struct json *, off_t,
    size_t), void *ctx)
{
	struct json j = JSON_INIT;
	struct lines r;
	char *files[1];
	off_t off = 0;
	int k, rc = 0;

	files[0] = (char *)path;
	lines_init(&r, files, 1, 0);
	while (!rc && (k = lines_next(&r)) > 0) {
		if (r.len && json_parse(&j, r.s, r.len) == 0)
			rc = fn(ctx, &j, off, r.len);
		else if (r.len)
			rc = fn(ctx, NULL, off, r.len);
		off += (off_t)r.len + 1;
	}
	if (!rc && k < 0) {
		warnx("%s", r.err.s);
		rc = r.status;
	}
	lines_free(&r);
	json_free(&j);
	return rc;
}

/* --lines: the input line (from 0) of each request of the batch being
 * printed, from its custom_id "line-N". */
static long long *glines;
static size_t glcap;

static int
lineno(const struct buf *cid, long long pos)
{
	char *end;
	long long n;

	if (cid->len < 6 || memcmp(cid->s, "line-", 5) || cid->s[5] < '1' ||
	    cid->s[5] > '9' || (n = strtoll(cid->s + 5, &end, 10)) < 1 ||
	    *end)
		return -1;
	if ((size_t)pos >= glcap) {
		glcap = glcap ? 2 * glcap : 1024;
		glines = xreallocarray(glines, glcap, sizeof *glines);
	}
	glines[pos] = n - 1;
	return 0;
}

/* --with-text: where each request of the batch being printed is in its
 * input file, for its text. */
static struct span {
	off_t off;
	size_t len;
} *spans;
static size_t spancap;

struct scan {
	struct job *jb;
	struct idmap *m;
	struct res *res;
	int which;
	struct buf cid;
};

static int
inputline(void *ctx, const struct json *j, off_t off, size_t len)
{
	struct scan *s = ctx;

	buf_reset(&s->cid);
	if (!j || json_str(j, json_get(j, 0, "custom_id"), &s->cid) < 0 ||
	    idmap_put(s->m, s->cid.s, s->cid.len, s->jb->n) >= 0) {
		warnx("%s: input file %s: line %lld is not a request with a "
		    "custom_id of its own", s->jb->id, s->jb->infile,
		    s->jb->n + 1);
		return OAI_EX_FAILURE;
	}
	if (linesflag && lineno(&s->cid, s->jb->n) < 0) {
		warnx("%s: input file %s: line %lld: not a request of "
		    "oai-batch --lines", s->jb->id, s->jb->infile,
		    s->jb->n + 1);
		return OAI_EX_FAILURE;
	}
	if (withtext && (size_t)s->jb->n >= spancap) {
		spancap = spancap ? 2 * spancap : 1024;
		spans = xreallocarray(spans, spancap, sizeof *spans);
	}
	if (withtext)
		spans[s->jb->n] = (struct span){ off, len };
	s->jb->n++;
	return 0;
}

static int
resultline(void *ctx, const struct json *j, off_t off, size_t len)
{
	struct scan *s = ctx;
	long long pos = -1;

	buf_reset(&s->cid);
	if (j && json_str(j, json_get(j, 0, "custom_id"), &s->cid) == 0)
		pos = idmap_put(s->m, s->cid.s, s->cid.len, -1);
	if (pos < 0 || s->res[pos].which != NONE) {
		warnx("%s: a result that answers no request of the input, or "
		    "one answered already", s->jb->id);
		return OAI_EX_FAILURE;
	}
	s->res[pos] = (struct res){ s->which, off, len };
	return 0;
}

/* "NAME:LINE" of request pos of jb. */
static void
where(struct buf *b, const struct job *jb, long long pos)
{
	long long g = jb->first + pos;
	int i;

	buf_reset(b);
	if (!jb->spool) {
		buf_printf(b, "%s:%lld", jb->infile, pos + 1);
		return;
	}
	for (i = nsrcs - 1; i > 0 && srcs[i].first > g; i--)
		;
	buf_printf(b, "%s:%lld", srcs[i].name, srcs[i].line0 + g -
	    srcs[i].first);
}

/* The request positions of jb (map), from its spool or input file. */
static int
inputmap(struct oai *o, struct job *jb, struct idmap *m)
{
	struct scan s = { jb, m, NULL, NONE, BUF_INIT };
	char *path = jb->spool;
	int rc = 0;

	jb->n = 0;
	if (!path && !jb->infile)
		rc = oai_unexpected(o, &(struct oai_req){ .path = "/batches" },
		    "batch %s without input_file_id", jb->id);
	else if (!path)
		rc = download(o, jb->infile, &path);
	jb->inpath = path;
	if (!rc)
		rc = eachline(path, inputline, &s);
	buf_free(&s.cid);
	return rc;
}

/* Which of jb's requests have a result, and where. */
static int
indexresults(struct oai *o, struct job *jb, struct idmap *m, struct res *res,
    char **paths)
{
	struct scan s = { jb, m, res, OUT, BUF_INIT };
	int rc = 0;

	if (jb->outfile && !(rc = download(o, jb->outfile, &paths[0])))
		rc = eachline(paths[0], resultline, &s);
	s.which = ERR;
	if (!rc && jb->errfile && !(rc = download(o, jb->errfile, &paths[1])))
		rc = eachline(paths[1], resultline, &s);
	buf_free(&s.cid);
	return rc;
}

static void
readat(int fd, const char *path, off_t off, size_t len, struct buf *b)
{
	ssize_t k;
	size_t got = 0;

	buf_reset(b);
	buf_grow(b, len);
	while (got < len) {
		if ((k = pread(fd, b->s + got, len - got, off + (off_t)got)) <= 0) {
			if (k < 0 && errno == EINTR && !oai_interrupted)
				continue;
			edie(OAI_EX_FAILURE, "%s", path);
		}
		got += (size_t)k;
	}
	b->len = len;
	b->s[len] = '\0';
}

/* Why result line b (parsed in j) failed, onto why (its HTTP status in
 * *code, 0 if none); 0 if it did not. */
static int
failure(const struct json *j, struct buf *why, long long *code)
{
	int r = json_get(j, 0, "response"), e = json_get(j, 0, "error"), t;
	const char *s;
	size_t n;

	*code = 0;
	if (json_int(j, json_get(j, r, "status_code"), code) == 0 &&
	    *code >= 200 && *code < 300 && json_is_null(j, e))
		return 0;
	if (*code) {
		t = json_get(j, r, "body");
		s = json_text(j, t, &n);
		oai_error_line(why, *code, t < 0 ? "" : s, t < 0 ? 0 : n);
		return 1;
	}
	if ((t = json_get(j, e, "code")) >= 0 && !json_is_null(j, t)) {
		json_str(j, t, why);
		buf_adds(why, ": ");
	}
	if (json_str(j, json_get(j, e, "message"), why) < 0)
		buf_adds(why, "no response");
	return 1;
}

/* ---- --lines: the output of oai-embed or oai-chat --each ------------ */

static const char *apikey;	/* redacted from error messages */

/* -e chat: the lines of output up to input line g, for the empty lines
 * not sent. */
static void
fill(long long g)
{
	for (; printed < g; printed++)
		chat_eachline(format == LF_JSONL, &(struct chatline){ printed,
		    1, NULL, 0, NULL, -1, NULL }, apikey);
}

/* The embedding of answer body (in j) into vec: NULL, or what is wrong. */
static const char *
embedding(const struct json *j, int body, struct buf *vec)
{
	int e = json_path(j, body, "data.0.embedding"), i;
	struct buf s = BUF_INIT;

	buf_reset(vec);
	if (json_type(j, e) == JSON_STRING) {
		json_str(j, e, &s);
		i = base64_decode(vec, s.s, s.len);
		buf_free(&s);
		if (i < 0 || vec->len % 4)
			return "bad base64 embedding";
	} else if (json_type(j, e) == JSON_ARRAY) {
		/* read as oai-embed reads it, for the same bytes out */
		if (vec_addarray(vec, j, e) < 0)
			return "bad embedding";
	} else
		return "not an embedding list";
	if (!dimsseen)
		dimsseen = (int)(vec->len / 4);
	return vec->len == 0 || vec->len / 4 != (size_t)dimsseen ?
	    "vectors of different sizes" : NULL;
}

/* --with-text: the input of request pos of jb onto text, from its
 * input file (open as fd). */
static void
inputtext(int fd, const struct job *jb, long long pos, struct buf *text)
{
	struct json j = JSON_INIT;
	struct buf l = BUF_INIT;

	readat(fd, jb->inpath, spans[pos].off, spans[pos].len, &l);
	buf_reset(text);
	if (json_parse(&j, l.s, l.len) == 0)
		json_str(&j, json_path(&j, 0, "body.input"), text);
	json_free(&j);
	buf_free(&l);
}

/* The output of request pos of jb, which succeeded (the input file
 * open as infd for --with-text): 0, or -1 after saying onto why what
 * is wrong with the answer.  Embeddings are not printed after a
 * failure (stopat). */
static int
lineout(const struct json *j, const struct job *jb, long long pos, int infd,
    struct buf *why)
{
	int body = json_path(j, 0, "response.body"), ch;
	long long g = glines[pos];
	struct json a = JSON_INIT;
	struct buf reply = BUF_INIT, vec = BUF_INIT, line = BUF_INIT;
	struct buf text = BUF_INIT;
	const char *bad = NULL, *s;
	size_t n;

	if (ischat()) {
		s = json_text(j, body, &n);
		if (!s || (ch = chat_reply(&a, s, n, &reply)) < 0)
			bad = "not a chat completion";
		else {
			fill(g);
			chat_eachline(format == LF_JSONL, &(struct chatline){
			    g, 0, NULL, 0, &a, ch, &reply }, apikey);
			printed = g + 1;
		}
	} else if (!(bad = embedding(j, body, &vec)) && !stopat.len) {
		if (withtext)
			inputtext(infd, jb, pos, &text);
		vec_write(&line, format, jb->first + pos, withtext ? text.s :
		    NULL, text.len, (unsigned char *)vec.s, dimsseen);
	}
	if (bad)
		buf_adds(why, bad);
	buf_free(&text);
	json_free(&a);
	buf_free(&reply);
	buf_free(&vec);
	buf_free(&line);
	return bad ? -1 : 0;
}

/* The output of a request that failed: -e chat's line for it. */
static void
linefail(long long g, long long code, const struct buf *why)
{
	if (!ischat())
		return;
	fill(g);
	chat_eachline(format == LF_JSONL, &(struct chatline){ g, 0, why,
	    (long)code, NULL, -1, NULL }, apikey);
	printed = g + 1;
}

/* ---- printing ----------------------------------------------------------- */

/* -u: the usage of a result that succeeded (parsed in j), priced by the
 * model that answered at the Batch API's price (lib/price.c). */
static void
addusage(const struct json *j)
{
	int body = json_path(j, 0, "response.body");
	struct buf m = BUF_INIT;
	struct oai_usage u;

	if (json_str(j, json_get(j, body, "model"), &m) < 0 && model)
		buf_adds(&m, model);
	oai_usage_init(&u, m.s);
	if (oai_usage_json(&u, j, json_get(j, body, "usage")) == 0) {
		u.batch = 1;
		oai_cost(&u);
		oai_usage_add(&total, &u);
	}
	buf_free(&m);
}

/* Result pos of jb, from its file into line and j: 0 if it succeeded
 * (printed), else why not onto why and its HTTP status into code. */
static int
result1(const struct job *jb, long long pos, const struct res *res, int *fd,
    char **paths, struct buf *line, struct json *j, struct buf *why,
    long long *code)
{
	int i;

	*code = 0;
	if (res[pos].which == NONE) {
		buf_adds(why, "no result");
		return -1;
	}
	i = res[pos].which == OUT ? 0 : 1;
	readat(fd[i], paths[i], res[pos].off, res[pos].len, line);
	if (json_parse(j, line->s, line->len) < 0) {
		buf_adds(why, "a result that is not JSON");
		return -1;
	}
	if (failure(j, why, code))
		return 1;
	if (usageflag)
		addusage(j);
	if (linesflag)
		return lineout(j, jb, pos, fd[2], why) < 0 ? 1 : 0;
	out_add(line->s, line->len);
	out_add("\n", 1);
	return 0;
}

/* Print jb's results in input order; failures on stderr. */
static int
printjob(const struct job *jb, const struct res *res, char **paths)
{
	struct buf line = BUF_INIT, why = BUF_INIT, at = BUF_INIT;
	struct buf cid = BUF_INIT, tmp = BUF_INIT;
	struct json j = JSON_INIT;
	int fd[3] = { -1, -1, -1 }, i, rc = 0, k;
	long long pos, code;

	for (i = 0; i < 2; i++)
		if (paths[i] && (fd[i] = open(paths[i], O_RDONLY)) < 0)
			edie(OAI_EX_FAILURE, "%s", paths[i]);
	if (withtext && (fd[2] = open(jb->inpath, O_RDONLY)) < 0)
		edie(OAI_EX_FAILURE, "%s", jb->inpath);
	for (pos = 0; pos < jb->n; pos++) {
		buf_reset(&why);
		buf_reset(&cid);
		if (!(k = result1(jb, pos, res, fd, paths, &line, &j, &why,
		    &code)))
			continue;
		if (k > 0) {	/* a result, parsed in j */
			buf_adds(&cid, " ");
			json_str(&j, json_get(&j, 0, "custom_id"), &tmp);
			buf_addesc(&cid, tmp.s, tmp.len);
			buf_reset(&tmp);
		}
		where(&at, jb, pos);
		warnx("%s: request%s failed: %s", at.s, cid.s, why.s);
		if (linesflag)
			linefail(glines[pos], code, &why);
		if (linesflag && !ischat() && !stopat.len) {
			buf_adds(&stopat, at.s);
			stoprc = code ? oai_status_exit((long)code) :
			    OAI_EX_FAILURE;
		}
		rc = OAI_EX_FAILURE;
	}
	for (i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	json_free(&j);
	buf_free(&line);
	buf_free(&why);
	buf_free(&at);
	buf_free(&cid);
	buf_free(&tmp);
	return rc;
}

/* A batch that failed validation: the service's errors, by input line. */
static int
invalid(struct job *jb)
{
	struct json j = JSON_INIT;
	struct buf at = BUF_INIT, msg = BUF_INIT, raw = BUF_INIT;
	int data, i, t, n;
	long long line;

	json_parse(&j, jb->obj.s, jb->obj.len);
	data = json_path(&j, 0, "errors.data");
	n = json_size(&j, data);
	warnx("%s failed validation", jb->id);
	for (i = 0, t = data + 1; i < n; i++, t = json_skip(&j, t)) {
		buf_reset(&msg);
		buf_reset(&raw);
		if (json_str(&j, json_get(&j, t, "code"), &raw) == 0)
			buf_adds(&raw, ": ");
		json_str(&j, json_get(&j, t, "message"), &raw);
		buf_addline(&msg, raw.s, raw.len);
		if (json_int(&j, json_get(&j, t, "line"), &line) == 0 &&
		    line > 0) {
			where(&at, jb, line - 1);
			warnx("%s: %s", at.s, msg.s);
		} else
			warnx("%s: %s", jb->id, msg.s);
	}
	json_free(&j);
	buf_free(&at);
	buf_free(&msg);
	buf_free(&raw);
	return OAI_EX_REJECTED;
}

/* Print the results of one ended batch. */
static int
results1(struct oai *o, struct job *jb)
{
	struct idmap m = { 0 };
	struct res *res = NULL;
	char *paths[2] = { NULL, NULL };
	int rc;

	if (strcmp(jb->status, "failed") == 0)
		return invalid(jb);
	if ((rc = inputmap(o, jb, &m)) == 0) {
		res = xcalloc((size_t)jb->n + 1, sizeof *res);
		if ((rc = indexresults(o, jb, &m, res, paths)) == 0)
			rc = printjob(jb, res, paths);
	}
	out_flush();
	if (!rc && strcmp(jb->status, "completed"))
		rc = OAI_EX_FAILURE;
	if (strcmp(jb->status, "completed"))
		warnx("%s %s: %lld of %lld requests completed", jb->id,
		    jb->status, jb->completed, jb->n);
	free(res);
	idmap_free(&m);
	return rc;
}

static int
worse(int a, int b)
{
	return !a || b == OAI_EX_INTR || b == OAI_EX_TERM || (b && b > a &&
	    a != OAI_EX_INTR && a != OAI_EX_TERM) ? b : a;
}

/* Every batch's results, in order; then its files go. */
static int
results(struct oai *o)
{
	struct oai_resp rs = OAI_RESP_INIT;
	const char *ids[3];
	long long end;
	int i, k, rc = 0;

	apikey = o->key;
	for (i = 0; i < njobs && rc != OAI_EX_INTR && rc != OAI_EX_TERM;
	    i++) {
		if (i)
			jobs[i].first = jobs[i - 1].first + jobs[i - 1].n;
		rc = worse(rc, results1(o, &jobs[i]));
	}
	for (i = 0, end = 0; i < njobs; i++)
		if (jobs[i].endline > end)
			end = jobs[i].endline;
	if (linesflag && ischat() && rc != OAI_EX_INTR && rc != OAI_EX_TERM) {
		fill(end);	/* empty lines at the end */
		out_flush();
	}
	if (usageflag && rc != OAI_EX_INTR && rc != OAI_EX_TERM)
		oai_usage_print(&total);
	if (stopat.len && rc != OAI_EX_INTR && rc != OAI_EX_TERM) {
		warnx("%s and what follows are not in the output: it stops "
		    "at the first failed request, as oai-embed's does",
		    stopat.s);
		rc = stoprc;
	}
	for (i = 0; !rc && !keep && i < njobs; i++) {
		ids[0] = jobs[i].infile;
		ids[1] = jobs[i].outfile;
		ids[2] = jobs[i].errfile;
		for (k = 0; !rc && k < 3; k++)
			if (ids[k]) {
				rc = oai_file_delete(o, ids[k], &rs);
				oai_resp_free(&rs);
				rs = (struct oai_resp)OAI_RESP_INIT;
			}
	}
	return rc;
}

/* --lines: the endpoint known, its options and their defaults. */
static void
checklines(void)
{
	const char *e = ischat() ? "chat" : "embeddings";
	int i;

	if (!url || (!ischat() && strcmp(url, "/v1/embeddings")))
		die(OAI_EX_USAGE, "--lines goes with -e chat or -e embeddings");
	if (format < 0)
		format = ischat() ? LF_TEXT : LF_JSONL;
	if (ischat() ? format == LF_TSV || format == LF_F32 :
	    format == LF_TEXT)
		die(OAI_EX_USAGE, "--format %s does not go with -e %s",
		    lineformats[format], e);
	if (ischat() ? dims || withtext || skipempty || wholeflag :
	    sysmsg != NULL)
		die(OAI_EX_USAGE, "%s does not go with -e %s", !ischat() ?
		    "-s" : dims ? "--dimensions" : withtext ? "--with-text" :
		    skipempty ? "--skip-empty" : "--whole", e);
	if (withtext && format != LF_JSONL)
		die(OAI_EX_USAGE, "--with-text needs --format jsonl");
	model = oai_env("model", ischat() ? "OAI_CHAT_MODEL" :
	    "OAI_EMBED_MODEL", model);
	if (!model)
		model = ischat() ? "gpt-4o" : "text-embedding-3-small";
	if (sysmsg)
		input_check("--system", sysmsg, strlen(sysmsg), 0);
	for (i = 0; ischat() && i < oai_chatreq.params.n; i++)
		if (!strncmp(oai_chatreq.params.v[i], "stream=", 7) ||
		    !strncmp(oai_chatreq.params.v[i], "stream.", 7))
			die(OAI_EX_USAGE, "--param: stream does not go in a "
			    "batch (batches do not stream)");
	if (ischat())
		chatreq_check(&oai_chatreq);
	if (format == LF_F32 && !detach && !dryrun)
		out_refuse_tty("float32 vectors", "use --format jsonl");
}

/* ---- the modes ------------------------------------------------------------ */

/* The ids of a repeatable option, each argument split at blanks (so
 * that "$(oai-batch --detach)" passes several). */
static char **
splitids(const struct oai_list *l, int *n)
{
	char **v = NULL, *s, *p, *save;
	int i;

	*n = 0;
	for (i = 0; i < l->n; i++) {
		s = xstrdup(l->v[i]);
		for (p = strtok_r(s, " \t\n", &save); p;
		    p = strtok_r(NULL, " \t\n", &save)) {
			v = xreallocarray(v, (size_t)*n + 1, sizeof *v);
			v[(*n)++] = xstrdup(p);
		}
		free(s);
	}
	return v;
}

/* --dry-run: the input files as they would be uploaded, in turn. */
static int
dryprint(void)
{
	struct lines r;
	int i, k = 0;

	for (i = 0; i < njobs; i++) {
		lines_init(&r, &jobs[i].spool, 1, 0);
		while ((k = lines_next(&r)) > 0) {
			out_add(r.s, r.len);
			out_add("\n", 1);
		}
		if (k < 0)
			die(r.status, "%s", r.err.s);
		lines_free(&r);
	}
	return 0;
}

static int
run(struct oai *o, char **files, int nfiles)
{
	int i, rc = 0;

	if (linesflag && ischat()) {	/* as oai-chat --each */
		for (i = 0; i < nfiles; i++)
			buf_printf(&instr, "%s%s", i ? " " : "", files[i]);
		input_check("the prompt", instr.s, instr.len, 0);
		nfiles = 0;
	}
	spool(files, nfiles);
	if (dryrun)
		return dryprint();
	oai_setup(o);
	for (i = 0; !rc && i < njobs; i++)
		rc = create(o, &jobs[i], i);
	if (rc) {
		resumehint("stopped");
		return rc;
	}
	if (detach) {
		for (i = 0; i < njobs; i++)
			out_printf("%s\n", jobs[i].id);
		return 0;
	}
	return (rc = waitall(o)) ? rc : results(o);
}

static int
attachrun(struct oai *o)
{
	struct oai_resp rs = OAI_RESP_INIT;
	char **ids;
	int i, n, rc = 0;

	ids = splitids(&attach, &n);
	for (i = 0; !rc && i < n; i++) {
		rc = said(&rs, batchreq(o, "GET", ids[i], "", NULL,
		    newjob(0), &rs));
		oai_resp_free(&rs);
		rs = (struct oai_resp)OAI_RESP_INIT;
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (!rc && linesflag)
		checklines();
	return rc ? rc : (rc = waitall(o)) ? rc : results(o);
}

/* One line for a batch: id, state, requests done of all, failed,
 * endpoint; escaped for a terminal. */
static void
showjob(const struct job *jb)
{
	struct json j = JSON_INIT;
	struct buf id = BUF_INIT, st = BUF_INIT, ep = BUF_INIT, raw = BUF_INIT;

	json_parse(&j, jb->obj.s, jb->obj.len);
	buf_addesc(&id, jb->id, strlen(jb->id));
	buf_addesc(&st, jb->status, strlen(jb->status));
	if (json_str(&j, json_get(&j, 0, "endpoint"), &raw) < 0)
		buf_adds(&raw, "-");
	buf_addesc(&ep, raw.s, raw.len);
	out_printf("%s  %s  %lld/%lld  %lld failed  %s\n", id.s, st.s,
	    jb->completed, jb->total, jb->failed, ep.s);
	json_free(&j);
	buf_free(&id);
	buf_free(&st);
	buf_free(&ep);
	buf_free(&raw);
}

/* --status and --cancel: each id in turn, the worst status. */
static int
each(struct oai *o, const struct oai_list *l, int cancel)
{
	struct oai_resp rs = OAI_RESP_INIT;
	struct job *jb;
	char **ids;
	int i, n, rc, worst = 0;

	ids = splitids(l, &n);
	for (i = 0; i < n; i++) {
		jb = newjob(0);
		rc = said(&rs, batchreq(o, cancel ? "POST" : "GET", ids[i],
		    cancel ? "/cancel" : "", NULL, jb, &rs));
		if (!rc && jsonflag)
			out_json(rs.body.s, rs.body.len);
		else if (!rc)
			showjob(jb);
		worst = worse(worst, rc);
		oai_resp_free(&rs);
		rs = (struct oai_resp)OAI_RESP_INIT;
		free(ids[i]);
	}
	free(ids);
	return worst;
}

/* --list: every batch, newest first, page by page. */
static int
list(struct oai *o)
{
	struct oai_req rq = { .method = "GET" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct json j = JSON_INIT;
	struct buf path = BUF_INIT, after = BUF_INIT, q = BUF_INIT;
	int data, i, n, t, rc;

	do {
		buf_reset(&path);
		buf_adds(&path, "/batches?limit=100");
		if (after.len && oai_idpath(&q, "&after=", after.s, "") == 0)
			buf_adds(&path, q.s);
		rq.path = path.s;
		if ((rc = oai_request(o, &rq, &rs)))
			break;
		if (jsonflag)
			out_json(rs.body.s, rs.body.len);
		if ((data = oai_resp_json(o, &rq, &rs.body, &j, "data",
		    JSON_ARRAY, "not a batch list")) < 0) {
			rc = OAI_EX_FAILURE;
			break;
		}
		n = json_size(&j, data);
		buf_reset(&after);
		for (i = 0, t = data + 1; i < n; i++, t = json_skip(&j, t)) {
			struct buf one = BUF_INIT;
			struct job *jb = newjob(0);
			size_t tl;
			const char *tx = json_text(&j, t, &tl);

			buf_add(&one, tx, tl);
			if ((rc = readjob(o, &rq, jb, &one)) == 0 && !jsonflag)
				showjob(jb);
			buf_reset(&after);
			if (jb->id)
				buf_adds(&after, jb->id);
			buf_free(&one);
		}
		if (!json_is_true(&j, json_get(&j, 0, "has_more")))
			buf_reset(&after);
		oai_resp_free(&rs);
		rs = (struct oai_resp)OAI_RESP_INIT;
	} while (!rc && after.len);
	json_free(&j);
	oai_resp_free(&rs);
	buf_free(&path);
	buf_free(&after);
	buf_free(&q);
	return rc;
}

/* -e chat --lines's request options (and -r), -u and --dry-run:
 * where they go. */
static void
checkchat(int modes)
{
	const char *c = chatreq_given();

	if (!c && oai_given("role"))
		c = "role";
	if (c && !linesflag)
		die(OAI_EX_USAGE, "--%s needs --lines and -e chat", c);
	if (c && attach.n)
		die(OAI_EX_USAGE, "--%s goes with a run or --detach", c);
	if (c && linesflag && url && !strcmp(url, "/v1/embeddings"))
		die(OAI_EX_USAGE, "--%s does not go with -e embeddings", c);
	if (usageflag && (detach || (modes && !attach.n)))
		die(OAI_EX_USAGE, "-u goes with a run or --attach");
	if (dryrun && modes)
		die(OAI_EX_USAGE, "--dry-run goes with a run");
}

static void
checkmodes(int nfiles)
{
	int modes = detach + !!attach.n + !!statusids.n + listflag +
	    !!cancelids.n;

	if (modes > 1)
		die(OAI_EX_USAGE, "--detach, --attach, --status, --list and "
		    "--cancel do not go together");
	if (nfiles && (attach.n || statusids.n || listflag || cancelids.n))
		die(OAI_EX_USAGE, "files go with a run or --detach");
	if (jsonflag && !statusids.n && !listflag && !cancelids.n)
		die(OAI_EX_USAGE, "--json goes with --status, --list or "
		    "--cancel");
	if (endpoint && !(url = endpointurl(endpoint)))
		die(OAI_EX_USAGE, "--endpoint: '%s' is not one of chat, "
		    "embeddings, completions, moderations, responses",
		    endpoint);
	if (endpoint && modes && !detach)
		die(OAI_EX_USAGE, "-e goes with a run or --detach");
	if (!linesflag && (model || sysmsg || dims || format >= 0 ||
	    withtext || skipempty || wholeflag))
		die(OAI_EX_USAGE, "-m, -s, --dimensions, --format, "
		    "--with-text, --skip-empty and --whole need --lines");
	if (linesflag && modes && !detach && !attach.n)
		die(OAI_EX_USAGE, "--lines goes with a run, --detach or "
		    "--attach");
	if (attach.n && (model || sysmsg || dims || skipempty || wholeflag))
		die(OAI_EX_USAGE, "-m, -s, --dimensions, --skip-empty and "
		    "--whole go with a run or --detach");
	checkchat(modes);
	if (linesflag && !attach.n)
		checklines();
}

int
main(int argc, char *argv[])
{
	struct oai o;
	int i = oai_start(&o, &tool, argc, argv), rc;

	checkmodes(argc - i);
	oai_usage_init(&total, NULL);
	if (!attach.n && !statusids.n && !listflag && !cancelids.n)
		return oai_finish(&o, run(&o, argv + i, argc - i));
	oai_setup(&o);
	if (attach.n)
		rc = attachrun(&o);
	else if (listflag)
		rc = list(&o);
	else
		rc = each(&o, statusids.n ? &statusids : &cancelids,
		    !!cancelids.n);
	return oai_finish(&o, rc);
}
