/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <getopt.h>
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

#define USAGE \
	"usage: %s [-lqv] [--json] [-m MODEL] [--threshold CATEGORY=SCORE]\n" \
	"       [FILE ...]\n"

/* The common text, less its "-v": here -v is --invert-match. */
static const char *
nov(struct buf *b, const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);

	buf_reset(b);
	if (!p)
		buf_adds(b, s);
	else {
		buf_add(b, s, (size_t)(p - s));
		buf_adds(b, to);
		buf_adds(b, p + strlen(from));
	}
	return b->s;
}

static void
usage(void)
{
	struct buf b = BUF_INIT;

	fprintf(stderr, USAGE "%s\n", argv0, nov(&b, OAI_COMMON_USAGE,
	    "[-v | --verbose]", "[--verbose]"));
	buf_free(&b);
	exit(OAI_EX_USAGE);
}

static void
help(void)
{
	struct buf b = BUF_INIT;

	out_printf(USAGE "\n"
	    "Check text with the moderation API.  Exit 0 when it is clean,\n"
	    "1 when it is flagged, above 1 on trouble.\n\n"
	    "  -l, --lines               check each line on its own and print\n"
	    "                            the flagged lines\n"
	    "  -v, --invert-match        with -l: print the clean lines instead\n"
	    "  -q, --quiet               print nothing; the exit status tells\n"
	    "      --json                print the verdict as JSON\n"
	    "  -m, --model MODEL         moderation model (default\n"
	    "                            omni-moderation-latest)\n"
	    "      --threshold CAT=SCORE flag CAT when its score is at least\n"
	    "                            SCORE (0 to 1), whatever the API says\n"
	    "%s", argv0, nov(&b, OAI_COMMON_HELP, "  -v, --verbose ",
	    "      --verbose "));
	buf_free(&b);
	out_close();
	exit(0);
}

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
addthreshold(const char *arg)
{
	const char *eq = strrchr(arg, '=');

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
	if (json_parse(&j, rs.body.s ? rs.body.s : "", rs.body.len) < 0 ||
	    json_type(&j, res = json_get(&j, 0, "results")) != JSON_ARRAY ||
	    json_size(&j, res) != n) {
		warnx("unexpected response from %s/moderations: no results "
		    "for the %d inputs sent", o->base_url, n);
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
	struct buf in = BUF_INIT;
	struct owner *ow = xcalloc(1, sizeof *ow);
	struct chunk *c = NULL;
	int i, nc = 0, cap = 0, rc;
	size_t bad;

	for (i = 0; i < n; i++)
		if (buf_readfile(&in, files[i]) < 0) {
			if (oai_interrupted)	/* Ctrl-C: quietly */
				exit(oai_intr_status());
			edie(OAI_EX_USAGE, "%s", strcmp(files[i], "-") == 0 ?
			    "stdin" : files[i]);
		}
	if ((bad = utf8_invalid(in.s ? in.s : "", in.len)) != (size_t)-1)
		die(OAI_EX_USAGE, "input is not valid UTF-8 at byte offset %zu",
		    bad);
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

/* -l: lines in windows of about one request, printed as they come. */
static int
lines(struct oai *o, char **files, int n)
{
	struct owner **ow = NULL;
	struct chunk *c = NULL;
	int no = 0, ocap = 0, nc = 0, ccap = 0, fi, i, rc = 0, any = 0;
	size_t bytes = 0, bad;
	char *s = NULL;
	size_t cap = 0;
	ssize_t k;
	FILE *f;

	for (fi = 0; fi < n && !rc; fi++) {
		const char *fname = strcmp(files[fi], "-") == 0 ? "stdin" :
		    files[fi];
		long long line = 0;
		int eof = 0;

		if (strcmp(files[fi], "-") == 0)
			f = stdin;
		else if (!(f = fopen(files[fi], "r"))) {
			warnx("%s: %s", files[fi], strerror(errno));
			rc = OAI_EX_USAGE;
			break;
		}
		while (!rc && !eof) {
			errno = 0;
			if ((k = getline(&s, &cap, f)) >= 0) {
				line++;
				if (k && s[k - 1] == '\n')
					s[--k] = '\0';
				if ((bad = utf8_invalid(s, (size_t)k)) !=
				    (size_t)-1) {
					warnx("%s:%lld: not valid UTF-8 at byte "
					    "%zu", fname, line, bad + 1);
					rc = OAI_EX_USAGE;
					break;
				}
				if (no == ocap) {
					ocap = ocap ? 2 * ocap : 64;
					ow = xreallocarray(ow, (size_t)ocap,
					    sizeof *ow);
				}
				/* one allocation each: chunks point to them */
				ow[no] = xcalloc(1, sizeof **ow);
				ow[no]->fname = fname;
				ow[no]->line = line;
				ow[no]->text = xstrndup(s, (size_t)k);
				ow[no]->len = (size_t)k;
				chunkify(ow[no], &c, &nc, &ccap);
				bytes += (size_t)k;
				no++;
			} else if (ferror(f) && oai_interrupted) {
				rc = oai_intr_status();	/* Ctrl-C: quietly */
			} else if (ferror(f)) {
				warnx("%s: %s", fname, strerror(errno));
				rc = OAI_EX_USAGE;
			} else
				eof = 1;
			/* Send when a request is full, or at the end. */
			if (rc || !(nc >= MAXIN || bytes >= REQMAX ||
			    (eof && fi == n - 1)))
				continue;
			if (nc && (rc = checkall(o, c, nc)))
				break;
			for (i = 0; i < no; i++) {
				printline(ow[i]);
				any |= flagged(ow[i]);
				free(ow[i]->text);
				free(ow[i]);
			}
			out_flush();
			no = nc = 0;
			bytes = 0;
		}
		if (f != stdin)
			fclose(f);
	}
	for (i = 0; i < no; i++) {
		free(ow[i]->text);
		free(ow[i]);
	}
	free(ow);
	free(c);
	free(s);
	return rc ? rc : any ? OAI_EX_NEGATIVE : 0;
}

int
main(int argc, char *argv[])
{
	enum { OPT_JSON = OPT_TOOL, OPT_THRESHOLD };
	static const struct option longopts[] = {
		{ "invert-match", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "lines", no_argument, NULL, 'l' },
		{ "model", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		OAI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static char *stdinonly[] = { "-", NULL };
	struct oai o;
	int c, i, rc;

	oai_init(&o, argc, argv);
	while ((c = getopt_long(argc, argv, "hlm:qv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			help();
			break;
		case 'l':
			lflag = 1;
			break;
		case 'm':
			if (!*optarg)
				die(OAI_EX_USAGE, "--model: empty model name");
			model = optarg;
			break;
		case 'q':
			qflag = 1;
			break;
		case 'v':	/* grep's -v; --verbose stays --verbose */
			vflag = 1;
			break;
		case OPT_JSON:
			jsonflag = 1;
			break;
		case OPT_THRESHOLD:
			addthreshold(optarg);
			break;
		default:
			if (!oai_option(&o, c, optarg))
				usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (vflag && !lflag)
		die(OAI_EX_USAGE, "-v needs -l (for --verbose, spell it out)");
	checkthresholds();
	oai_setup(&o);
	nfiles = argc ? argc : 1;
	rc = lflag ? lines(&o, argc ? argv : stdinonly, nfiles) :
	    whole(&o, argc ? argv : stdinonly, nfiles);
	out_close();
	for (i = 0; i < ncat; i++)
		free(cat[i]);
	for (i = 0; i < nthr; i++)
		free(thr[i].name);
	oai_cleanup(&o);
	return rc;
}
