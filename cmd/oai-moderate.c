/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * Text is sent in chunks the model accepts: at most CHUNK estimated
 * tokens each and REQMAX per request.  A token takes at least one byte,
 * so counting bytes never underestimates.  Text longer than REQMAX is
 * checked in several requests; the score of a category is its highest
 * over the chunks, as OpenAI's own long-input handling reports it.
 */
#define CHUNK 4096
#define REQMAX 32768
#define MAXIN 32		/* inputs per request */
#define MAXCAT 64

static const char *omni[] = {
	"harassment", "harassment/threatening", "hate", "hate/threatening",
	"illicit", "illicit/violent", "self-harm", "self-harm/intent",
	"self-harm/instructions", "sexual", "sexual/minors", "violence",
	"violence/graphic", NULL
};

/* One text checked: the whole input, or one line. */
struct owner {
	const char *fname;
	long long line;
	char *text;
	size_t len;
	double score[MAXCAT];
	int flag[MAXCAT];
	int apiflag;
};

struct chunk {
	struct owner *o;
	const char *s;
	size_t n;
};

static char *cat[MAXCAT];	/* category names in the order first seen */
static int ncat;
static struct {
	char *name;
	double score;
} thr[MAXCAT];
static int nthr;
static const char *model = "omni-moderation-latest";
static int lflag, vflag, qflag, jsonflag, dryrun, nchunks;
static long long parallel = 4;
static int nfiles;

static void addthreshold(struct oai *o, const char *arg);

static const struct oai_opt opts[] = {
	OAI_FLAG('l', "lines", &lflag,
	    "check each line on its own and print\nthe flagged lines"),
	OAI_FLAG('v', "invert-match", &vflag,
	    "with -l: print the clean lines instead"),
	OAI_INT('P', "parallel", "n", &parallel, NULL, 1, 64,
	    "with -l: requests in flight at once\n(default 4)"),
	OAI_FLAG('q', "quiet", &qflag, "print nothing; the exit status tells"),
	OAI_FLAG(0, "json", &jsonflag, "print the verdict as JSON"),
	OAI_FLAG(0, "dry-run", &dryrun,
	    "print the request bodies (one a line), send\nnothing"),
	OAI_NAME('m', "model", "model", &model, "model name",
	    "moderation model (default\nomni-moderation-latest)"),
	OAI_FN(0, "threshold", "category=score", addthreshold,
	    "flag category when its score is at least\nscore (0 to 1), "
	    "whatever the API says"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[file ...]",
	"Check text with the moderation API.  Exit 0 when it is clean,\n"
	"1 when it is flagged, above 1 on trouble.",
	opts
};

static int
catindex(const char *name, size_t n)
{
	int i;

	for (i = 0; i < ncat; i++)
		if (strlen(cat[i]) == n && memcmp(cat[i], name, n) == 0)
			return i;
	if (ncat == MAXCAT)
		return -1;
	cat[ncat] = xstrndup(name, n);
	return ncat++;
}

static void
addthreshold(struct oai *o, const char *arg)
{
	const char *eq = strrchr(arg, '=');

	(void)o;
	if (!eq || eq == arg)
		die(OAI_EX_USAGE, "--threshold: '%s' is not CATEGORY=SCORE", arg);
	if (nthr == MAXCAT)
		die(OAI_EX_USAGE, "--threshold: too many");
	thr[nthr].name = xstrndup(arg, (size_t)(eq - arg));
	thr[nthr].score = xstrtod("--threshold", eq + 1, 0, 1);
	nthr++;
}

/* The categories a model reports: the legacy text models lack two. */
static void
checkthresholds(void)
{
	int legacy = strncmp(model, "text-moderation", 15) == 0;
	int i, k;

	for (i = 0; i < nthr; i++) {
		for (k = 0; omni[k]; k++)
			if (strcmp(thr[i].name, omni[k]) == 0)
				break;
		if (!omni[k] || (legacy && strncmp(omni[k], "illicit", 7) == 0))
			die(OAI_EX_USAGE, "--threshold: %s is not a category "
			    "of %s", thr[i].name, model);
	}
}

/* ---- requests ------------------------------------------------------- */

/* The request body for chunks c[0..n). */
static void
reqbody(struct buf *body, const struct chunk *c, int n)
{
	struct jw w;
	int i;

	jw_init(&w, body);
	jw_obj(&w);
	jw_key(&w, "input");
	jw_arr(&w);
	for (i = 0; i < n; i++)
		jw_strn(&w, c[i].s, c[i].n);
	jw_arr_end(&w);
	jw_key(&w, "model");
	jw_str(&w, model);
	jw_obj_end(&w);
}

/* Fold the answer to chunks c[0..n) into their owners; 0 or 5. */
static int
fold(struct oai *o, const struct oai_req *rq, const struct buf *body,
    struct chunk *c, int n)
{
	struct buf name = BUF_INIT;
	struct json j = JSON_INIT;
	int i, k, res, r, cats, scores, t, rc = 0;
	double d;

	if ((res = oai_resp_json(o, rq, body, &j, "results", JSON_ARRAY,
	    "no results")) < 0 || json_size(&j, res) != n) {
		if (res >= 0)
			oai_unexpected(o, rq, "%d results for the %d inputs "
			    "sent", json_size(&j, res), n);
		rc = OAI_EX_FAILURE;
		n = 0;
	}
	for (i = 0, r = res + 1; i < n; i++, r = json_skip(&j, r)) {
		struct owner *ow = c[i].o;

		if (json_is_true(&j, json_get(&j, r, "flagged")))
			ow->apiflag = 1;
		scores = json_get(&j, r, "category_scores");
		cats = json_get(&j, r, "categories");
		if (json_type(&j, scores) != JSON_OBJECT)
			continue;
		for (k = 0, t = scores + 1; k < json_size(&j, scores);
		    k++, t = json_skip(&j, t + 1)) {
			int ci;

			buf_reset(&name);
			json_str(&j, t, &name);
			if ((ci = catindex(name.s, name.len)) < 0)
				continue;
			if (json_num(&j, t + 1, &d) == 0 && d > ow->score[ci])
				ow->score[ci] = d;
			if (json_is_true(&j, json_get(&j, cats, name.s)))
				ow->flag[ci] = 1;
		}
	}
	json_free(&j);
	buf_free(&name);
	return rc;
}

/* Check chunks c[0..n) in one request; fold the results into owners. */
static int
check(struct oai *o, struct chunk *c, int n)
{
	struct buf body = BUF_INIT;
	struct oai_req rq = { .method = "POST", .path = "/moderations" };
	struct oai_resp rs = OAI_RESP_INIT;
	int rc;

	reqbody(&body, c, n);
	if (dryrun) {
		out_json_line(body.s, body.len);
		buf_free(&body);
		return 0;
	}
	rq.body = body.s;
	rq.bodylen = body.len;
	if ((rc = oai_request(o, &rq, &rs)) == 0)
		rc = fold(o, &rq, &rs.body, c, n);
	oai_resp_free(&rs);
	buf_free(&body);
	return rc;
}

/* Split an owner's text into chunks of at most CHUNK bytes, at a space
 * when there is one in the second half, never inside a character. */
static void
chunkify(struct owner *ow, struct chunk **c, int *n, int *cap)
{
	const char *s = ow->text;
	size_t left = ow->len, k, i;

	while (left) {
		k = left;
		if (k > CHUNK) {
			k = utf8_complete(s, CHUNK);
			for (i = k; i > CHUNK / 2; i--)
				if (s[i - 1] == ' ' || s[i - 1] == '\n') {
					k = i;
					break;
				}
			if (k == 0)
				k = CHUNK;	/* not UTF-8: the API says so */
		}
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 16;
			*c = xreallocarray(*c, (size_t)*cap, sizeof **c);
		}
		(*c)[*n].o = ow;
		(*c)[*n].s = s;
		(*c)[*n].n = k;
		(*n)++;
		s += k;
		left -= k;
	}
}

/* Check all chunks, in requests of at most MAXIN chunks and REQMAX. */
static int
checkall(struct oai *o, struct chunk *c, int n)
{
	int i = 0, k, rc;
	size_t bytes;

	nchunks += n;
	while (i < n) {
		bytes = c[i].n;
		for (k = i + 1; k < n && k - i < MAXIN &&
		    bytes + c[k].n <= REQMAX; k++)
			bytes += c[k].n;
		if ((rc = check(o, c + i, k - i)))
			return rc;
		i = k;
	}
	return 0;
}

/* ---- verdicts ------------------------------------------------------- */

static int
catflagged(const struct owner *ow, int ci)
{
	int i;

	for (i = 0; i < nthr; i++)
		if (strcmp(thr[i].name, cat[ci]) == 0)
			return ow->score[ci] >= thr[i].score;
	return ow->flag[ci];
}

static int
flagged(const struct owner *ow)
{
	int i;

	for (i = 0; i < ncat; i++)
		if (catflagged(ow, i))
			return 1;
	/* a response without categories still has a verdict */
	return ncat == 0 && ow->apiflag;
}

static void
printjson(const struct owner *ow)
{
	struct buf b = BUF_INIT;
	struct jw w;
	int i;

	jw_init(&w, &b);
	jw_obj(&w);
	if (lflag) {
		if (nfiles > 1) {
			jw_key(&w, "file");
			jw_str(&w, ow->fname);
		}
		jw_key(&w, "line");
		jw_int(&w, ow->line);
		jw_key(&w, "text");
		jw_strn(&w, ow->text, ow->len);
	}
	jw_key(&w, "flagged");
	jw_bool(&w, flagged(ow));
	jw_key(&w, "flagged_categories");
	jw_arr(&w);
	for (i = 0; i < ncat; i++)
		if (catflagged(ow, i))
			jw_str(&w, cat[i]);
	jw_arr_end(&w);
	jw_key(&w, "category_scores");
	jw_obj(&w);
	for (i = 0; i < ncat; i++) {
		jw_key(&w, cat[i]);
		jw_num(&w, ow->score[i]);
	}
	jw_obj_end(&w);
	if (!lflag) {
		jw_key(&w, "chunks");
		jw_int(&w, nchunks);
	}
	jw_key(&w, "model");
	jw_str(&w, model);
	jw_obj_end(&w);
	buf_addc(&b, '\n');
	out_add(b.s, b.len);
	buf_free(&b);
}

static void
verdict(const struct owner *ow)
{
	int i;

	if (qflag)
		return;
	if (jsonflag) {
		printjson(ow);
		return;
	}
	out_adds(flagged(ow) ? "flagged\n" : "ok\n");
	for (i = 0; i < ncat; i++)
		if (catflagged(ow, i))
			out_printf("%s\t%.6f\n", cat[i], ow->score[i]);
}

/* -l: print a line as grep would, when selected. */
static void
printline(const struct owner *ow)
{
	if (qflag || flagged(ow) == vflag)
		return;
	if (jsonflag) {
		printjson(ow);
		return;
	}
	if (nfiles > 1)
		out_printf("%s:", ow->fname);
	out_add(ow->text, ow->len);
	out_add("\n", 1);
}

/* ---- modes ---------------------------------------------------------- */

static int
whole(struct oai *o, char **files, int n)
{
	static char *stdinonly[] = { "-", NULL };
	struct buf in = BUF_INIT;
	struct owner *ow = xcalloc(1, sizeof *ow);
	struct chunk *c = NULL;
	int i, nc = 0, cap = 0, rc;
	size_t from;

	if (n == 0) {
		files = stdinonly;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		from = in.len;
		input_read(&in, files[i]);
		input_check(input_name(files[i]), in.s + from, in.len - from, 1);
	}
	if (in.len == 0)
		die(OAI_EX_USAGE, "empty input: nothing to check");
	ow->text = in.s;
	ow->len = in.len;
	chunkify(ow, &c, &nc, &cap);
	if ((rc = checkall(o, c, nc)) == 0 && !dryrun) {
		verdict(ow);
		rc = flagged(ow) ? OAI_EX_NEGATIVE : 0;
	}
	free(c);
	free(ow);
	buf_free(&in);
	return rc;
}

/*
 * -l: each line is an owner, its chunks go out in requests of at most
 * MAXIN chunks and REQMAX bytes, up to -P requests at once
 * (lib/ordered.c), and the lines are printed in order as the requests
 * finish.  A line belongs to the request that carries its last chunk;
 * empty lines at the very end, to a job that is not sent.
 */
struct ljob {
	struct oai_job j;	/* first: the pipeline's part */
	struct buf body;
	struct chunk *c;	/* the chunks sent */
	int nc, ccap;
	struct owner **ow;	/* the lines printed when it ends */
	int no, ocap;
};

static struct oai *oo;
static struct lines rd;
static struct chunk *pc;	/* the chunks of the line being sent */
static int npc, pccap, ipc;
static struct owner *pown;	/* that line */
static struct buf inerr = BUF_INIT;	/* an input error, reported last */
static int instatus, anyflagged;

static void
freeowner(struct owner *ow)
{
	if (ow) {
		free(ow->text);
		free(ow);
	}
}

static void
addowner(struct ljob *m, struct owner *ow)
{
	if (m->no == m->ocap) {
		m->ocap = m->ocap ? 2 * m->ocap : 64;
		m->ow = xreallocarray(m->ow, (size_t)m->ocap, sizeof *m->ow);
	}
	m->ow[m->no++] = ow;
}

/* The next line as an owner, its chunks in pc; 0 at the end or after
 * an input error (then inerr and instatus say what). */
static int
nextline(void)
{
	struct buf where = BUF_INIT;
	int k;

	if (instatus || (k = lines_next(&rd)) == 0)
		return 0;
	if (k < 0) {
		buf_add(&inerr, rd.err.s, rd.err.len);
		instatus = rd.status;
		return 0;
	}
	buf_printf(&where, "%s:%lld", rd.name, rd.line);
	if (input_checkmsg(&inerr, where.s, rd.s, rd.len, 1) < 0)
		instatus = OAI_EX_USAGE;
	buf_free(&where);
	if (instatus)
		return 0;
	pown = xcalloc(1, sizeof *pown);
	pown->fname = rd.name;
	pown->line = rd.line;
	pown->text = xstrndup(rd.s, rd.len);
	pown->len = rd.len;
	npc = ipc = 0;
	chunkify(pown, &pc, &npc, &pccap);
	return 1;
}

/* Fill m with chunks, lines read as needed. */
static void
filljob(struct ljob *m)
{
	size_t bytes = 0;

	for (;;) {
		if (ipc < npc) {
			if (m->nc == MAXIN ||
			    (m->nc && bytes + pc[ipc].n > REQMAX))
				return;
			if (m->nc == m->ccap) {
				m->ccap = m->ccap ? 2 * m->ccap : MAXIN;
				m->c = xreallocarray(m->c, (size_t)m->ccap,
				    sizeof *m->c);
			}
			bytes += pc[ipc].n;
			m->c[m->nc++] = pc[ipc++];
		}
		if (pown && ipc == npc) {
			addowner(m, pown);	/* its last chunk is here */
			pown = NULL;
		}
		if (ipc < npc)
			continue;
		if (m->nc >= MAXIN || bytes >= REQMAX || !nextline())
			return;
	}
}

static void ldrop(void *ctx, struct oai_job *j);

static int
lmake(void *ctx, struct oai_job **j)
{
	struct ljob *m = xcalloc(1, sizeof *m);

	(void)ctx;
	buf_init(&m->body);
	m->j.rs = (struct oai_resp)OAI_RESP_INIT;
	filljob(m);
	*j = &m->j;
	if (m->nc == 0 && m->no == 0) {
		ldrop(NULL, &m->j);
		return 0;
	}
	if ((m->j.skip = m->nc == 0))	/* empty lines only: none sent */
		return 1;
	reqbody(&m->body, m->c, m->nc);
	m->j.rq = (struct oai_req){ .method = "POST", .path = "/moderations",
	    .body = m->body.s, .bodylen = m->body.len };
	nchunks += m->nc;
	return 1;
}

/* Print the lines of m as grep would. */
static void
printlines(struct ljob *m)
{
	int i;

	for (i = 0; i < m->no; i++) {
		printline(m->ow[i]);
		anyflagged |= flagged(m->ow[i]);
	}
	out_flush();
}

static int
lfinish(void *ctx, struct oai_job *j)
{
	struct ljob *m = (struct ljob *)(void *)j;
	int status = j->status;

	(void)ctx;
	if (status || (!j->skip &&
	    (status = fold(oo, &j->rq, &j->rs.body, m->c, m->nc))))
		return status;
	printlines(m);
	return 0;
}

static void
ldrop(void *ctx, struct oai_job *j)
{
	struct ljob *m = (struct ljob *)(void *)j;
	int i;

	(void)ctx;
	for (i = 0; i < m->no; i++)
		freeowner(m->ow[i]);
	free(m->ow);
	free(m->c);
	buf_free(&m->body);
	oai_resp_free(&m->j.rs);
	free(m);
}

/* --dry-run -l: each request's body, as the pipeline would make them. */
static int
dry(void)
{
	struct oai_job *j;

	while (lmake(NULL, &j)) {
		if (!j->skip)
			out_json_line(j->rq.body, j->rq.bodylen);
		ldrop(NULL, j);
	}
	return 0;
}

static int
lines(struct oai *o, char **files, int n)
{
	struct oai_ordered pipe = { .parallel = (int)parallel, .make = lmake,
	    .finish = lfinish, .drop = ldrop };
	int rc;

	oo = o;
	lines_init(&rd, files, n, LINES_CRLF);
	rc = dryrun ? dry() : oai_ordered_run(o, &pipe);
	if (!rc && instatus) {	/* an input error ends what was checked */
		if (inerr.len)
			warnx("%s", inerr.s);
		rc = instatus;
	}
	freeowner(pown);
	free(pc);
	lines_free(&rd);
	buf_free(&inerr);
	return rc ? rc : anyflagged ? OAI_EX_NEGATIVE : 0;
}

static void
cleanup(void)
{
	int i;

	for (i = 0; i < ncat; i++)
		free(cat[i]);
	for (i = 0; i < nthr; i++)
		free(thr[i].name);
}

int
main(int argc, char *argv[])
{
	struct oai o;
	int i = oai_start(&o, &tool, argc, argv), rc;

	argc -= i;
	argv += i;
	if (vflag && !lflag)
		die(OAI_EX_USAGE, "-v needs -l (for --verbose, spell it out)");
	checkthresholds();
	if (!dryrun)
		oai_setup(&o);
	nfiles = argc ? argc : 1;
	rc = lflag ? lines(&o, argv, argc) : whole(&o, argv, argc);
	cleanup();
	return oai_finish(&o, rc);
}
