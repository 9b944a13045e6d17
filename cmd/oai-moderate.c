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
static int lflag, vflag, qflag, jsonflag, nchunks;
static int nfiles;

static void addthreshold(struct oai *o, const char *arg);

static const struct oai_opt opts[] = {
	OAI_FLAG('l', "lines", &lflag,
	    "check each line on its own and print\nthe flagged lines"),
	OAI_FLAG('v', "invert-match", &vflag,
	    "with -l: print the clean lines instead"),
	OAI_FLAG('q', "quiet", &qflag, "print nothing; the exit status tells"),
	OAI_FLAG(0, "json", &jsonflag, "print the verdict as JSON"),
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

/* Check chunks c[0..n) in one request; fold the results into owners. */
static int
check(struct oai *o, struct chunk *c, int n)
{
	struct buf body = BUF_INIT, name = BUF_INIT;
	struct oai_req rq = { .method = "POST", .path = "/moderations" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct json j = JSON_INIT;
	struct jw w;
	int i, k, res, r, cats, scores, t, rc;
	double d;

	jw_init(&w, &body);
	jw_obj(&w);
	jw_key(&w, "input");
	jw_arr(&w);
	for (i = 0; i < n; i++)
		jw_strn(&w, c[i].s, c[i].n);
	jw_arr_end(&w);
	jw_key(&w, "model");
	jw_str(&w, model);
	jw_obj_end(&w);
	rq.body = body.s;
	rq.bodylen = body.len;
	if ((rc = oai_request(o, &rq, &rs)))
		goto out;
	if ((res = oai_resp_json(o, &rq, &rs.body, &j, "results", JSON_ARRAY,
	    "no results")) < 0 || json_size(&j, res) != n) {
		if (res >= 0)
			oai_unexpected(o, &rq, "%d results for the %d inputs "
			    "sent", json_size(&j, res), n);
		rc = OAI_EX_FAILURE;
		goto out;
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
out:
	json_free(&j);
	oai_resp_free(&rs);
	buf_free(&body);
	buf_free(&name);
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
	if ((rc = checkall(o, c, nc)) == 0) {
		verdict(ow);
		rc = flagged(ow) ? OAI_EX_NEGATIVE : 0;
	}
	free(c);
	free(ow);
	buf_free(&in);
	return rc;
}

/* -l: the lines read and not yet checked, about one request's worth. */
struct window {
	struct owner **ow;
	int no, ocap;
	struct chunk *c;
	int nc, ccap;
	size_t bytes;
};

static void
addline(struct window *w, const struct lines *r)
{
	struct owner *ow;

	if (w->no == w->ocap) {
		w->ocap = w->ocap ? 2 * w->ocap : 64;
		w->ow = xreallocarray(w->ow, (size_t)w->ocap, sizeof *w->ow);
	}
	/* one allocation each: chunks point to them */
	ow = w->ow[w->no++] = xcalloc(1, sizeof *ow);
	ow->fname = r->name;
	ow->line = r->line;
	ow->text = xstrndup(r->s, r->len);
	ow->len = r->len;
	chunkify(ow, &w->c, &w->nc, &w->ccap);
	w->bytes += r->len;
}

static void
dropwindow(struct window *w)
{
	int i;

	for (i = 0; i < w->no; i++) {
		free(w->ow[i]->text);
		free(w->ow[i]);
	}
	w->no = w->nc = 0;
	w->bytes = 0;
}

/* Check the window's lines and print them as grep would. */
static int
sendwindow(struct oai *o, struct window *w, int *any)
{
	int i, rc;

	if (w->nc && (rc = checkall(o, w->c, w->nc)))
		return rc;
	for (i = 0; i < w->no; i++) {
		printline(w->ow[i]);
		*any |= flagged(w->ow[i]);
	}
	out_flush();
	dropwindow(w);
	return 0;
}

static int
lines(struct oai *o, char **files, int n)
{
	struct window w = { NULL, 0, 0, NULL, 0, 0, 0 };
	struct buf why = BUF_INIT, where = BUF_INIT;
	struct lines r;
	int k = 0, rc = 0, any = 0;

	lines_init(&r, files, n, 0);
	while (!rc && (k = lines_next(&r)) > 0) {
		buf_reset(&where);
		buf_printf(&where, "%s:%lld", r.name, r.line);
		if (input_checkmsg(&why, where.s, r.s, r.len, 1) < 0) {
			warnx("%s", why.s);
			rc = OAI_EX_USAGE;
			break;
		}
		addline(&w, &r);
		if (w.nc >= MAXIN || w.bytes >= REQMAX)
			rc = sendwindow(o, &w, &any);
	}
	if (!rc && k < 0 && r.err.len)
		warnx("%s", r.err.s);
	if (!rc)
		rc = k < 0 ? r.status : sendwindow(o, &w, &any);
	dropwindow(&w);
	free(w.ow);
	free(w.c);
	lines_free(&r);
	buf_free(&why);
	buf_free(&where);
	return rc ? rc : any ? OAI_EX_NEGATIVE : 0;
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
	oai_setup(&o);
	nfiles = argc ? argc : 1;
	rc = lflag ? lines(&o, argv, argc) : whole(&o, argv, argc);
	cleanup();
	return oai_finish(&o, rc);
}
