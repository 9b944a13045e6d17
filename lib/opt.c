/* See LICENSE file for copyright and license details. */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

int
xchoice(const char *opt, const char *arg, const char *const choices[])
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; choices[i]; i++)
		if (strcmp(arg, choices[i]) == 0)
			return i;
	for (i = 0; choices[i]; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", choices[i]);
	die(OAI_EX_USAGE, "%s: '%s' is not one of %s", opt, arg, b.s);
}

/*
 * A tool's interface as data (git's parse-options, curl's aliases[]):
 * one table per tool, with the common options spliced in where the tool
 * puts OAI_COMMON, gives the getopt string, the long options, usage()
 * (equal to the man page's SYNOPSIS) and --help.  A short letter the
 * tool takes for itself is taken from the common option that had it
 * (oai-moderate's and oai-speak's -v): that one keeps its long name.
 */

#define MAXOPTS 64
#define HELPCOL 28		/* where help texts start */
#define WIDTH 80

static void common_base_url(struct oai *o, const char *arg);
static void common_key_file(struct oai *o, const char *arg);
static void common_timeout(struct oai *o, const char *arg);
static void common_max_time(struct oai *o, const char *arg);
static void common_retries(struct oai *o, const char *arg);
static void common_verbose(struct oai *o, const char *arg);
static void common_meta_fd(struct oai *o, const char *arg);
static void common_help(struct oai *o, const char *arg);
static void common_version(struct oai *o, const char *arg);

static const struct oai_opt common[] = {
	OAI_FN(0, "base-url", "URL", common_base_url,
	    "API base URL (default $OPENAI_BASE_URL or\n"
	    OAI_DEFAULT_BASE_URL ")"),
	OAI_FN(0, "api-key-file", "file", common_key_file,
	    "read the API key from file (mode 0600)"),
	OAI_FN(0, "timeout", "seconds", common_timeout,
	    "request timeout; for streams, the longest\n"
	    "silence allowed (default 600)"),
	OAI_FN(0, "max-time", "seconds", common_max_time,
	    "the longest any request may take, streams\n"
	    "too (default 3600)"),
	OAI_FN(0, "retries", "n", common_retries,
	    "retries on connection errors, 408, 409,\n"
	    "429 and 5xx (default 2)"),
	OAI_FN(0, "meta-fd", "fd", common_meta_fd,
	    "one JSON line per request on descriptor\n"
	    "fd: ids, times, usage, cost"),
	OAI_FN('v', "verbose", NULL, common_verbose,
	    "print request details on stderr"),
	OAI_FN('h', "help", NULL, common_help, "print this help and exit"),
	OAI_FN(0, "version", NULL, common_version,
	    "print the version and exit"),
	OAI_END
};

/* The flattened table of the tool being run. */
static struct ent {
	const struct oai_opt *o;
	int shortname;		/* 0 when none (or taken by the tool) */
	int common;
} ents[MAXOPTS];
static int nents;
static const struct oai_tool *tool;

static void
common_base_url(struct oai *o, const char *arg)
{
	oai_option(o, OPT_BASE_URL, arg);
}

static void
common_max_time(struct oai *o, const char *arg)
{
	oai_option(o, OPT_MAX_TIME, arg);
}

static void
common_key_file(struct oai *o, const char *arg)
{
	oai_option(o, OPT_API_KEY_FILE, arg);
}

static void
common_timeout(struct oai *o, const char *arg)
{
	oai_option(o, OPT_TIMEOUT, arg);
}

static void
common_retries(struct oai *o, const char *arg)
{
	oai_option(o, OPT_RETRIES, arg);
}

static void
common_meta_fd(struct oai *o, const char *arg)
{
	oai_option(o, OPT_META_FD, arg);
}

static void
common_verbose(struct oai *o, const char *arg)
{
	(void)arg;
	o->verbose++;
}

static void
common_version(struct oai *o, const char *arg)
{
	(void)arg;
	oai_option(o, OPT_VERSION, NULL);
}

static int
taken(const struct oai_opt *t, int c)
{
	for (; t->type != OAI_OPT_END; t++)
		if (t->type != OAI_OPT_COMMON && t->shortname == c)
			return 1;
	return 0;
}

static void
add(const struct oai_opt *o, int shortname, int iscommon)
{
	if (nents == MAXOPTS)
		die(OAI_EX_FAILURE, "too many options");
	ents[nents].o = o;
	ents[nents].shortname = shortname;
	ents[nents].common = iscommon;
	nents++;
}

static void
flatten(const struct oai_tool *t)
{
	const struct oai_opt *p, *c;

	tool = t;
	nents = 0;
	for (p = t->opts; p->type != OAI_OPT_END; p++) {
		if (p->type != OAI_OPT_COMMON) {
			add(p, p->shortname, 0);
			continue;
		}
		for (c = common; c->type != OAI_OPT_END; c++)
			add(c, taken(t->opts, c->shortname) ? 0 : c->shortname,
			    1);
	}
}

/* ---- usage and help ---------------------------------------------------- */

/* Append item to the usage in b, wrapping before the 80th column. */
static void
item(struct buf *b, size_t *col, const char *s)
{
	size_t n = strlen(s);

	if (*col + 1 + n >= WIDTH) {
		buf_adds(b, "\n      ");
		*col = 6;
	}
	buf_addc(b, ' ');
	buf_adds(b, s);
	*col += 1 + n;
}

/* "[-m model]", "[--json]", "[-v | --verbose]" */
static void
optitem(struct buf *b, size_t *col, const struct ent *e)
{
	struct buf s = BUF_INIT;

	if (e->shortname && e->common && e->o->longname)
		buf_printf(&s, "[-%c | --%s", e->shortname, e->o->longname);
	else if (e->shortname)
		buf_printf(&s, "[-%c", e->shortname);
	else
		buf_printf(&s, "[--%s", e->o->longname);
	if (e->o->arg)
		buf_printf(&s, " %s", e->o->arg);
	buf_addc(&s, ']');
	item(b, col, s.s);
	buf_free(&s);
}

static int
bychar(const void *a, const void *b)
{
	return *(const char *)a - *(const char *)b;
}

/*
 * OpenBSD style(9): the tool's flags without arguments first, sorted, in
 * one group ([-lqv]); its other options in table order; the operands;
 * then the common options.
 */
static void
synopsis(struct buf *b)
{
	char flags[MAXOPTS + 4] = "[-";
	size_t col, nf = 2;
	int i;

	buf_printf(b, "usage: %s", argv0);
	col = strlen(b->s);
	for (i = 0; i < nents; i++)
		if (!ents[i].common && ents[i].shortname && !ents[i].o->arg)
			flags[nf++] = (char)ents[i].shortname;
	if (nf > 2) {
		qsort(flags + 2, nf - 2, 1, bychar);
		flags[nf++] = ']';
		flags[nf] = '\0';
		item(b, &col, flags);
	}
	for (i = 0; i < nents; i++)
		if (!ents[i].common && !(ents[i].shortname && !ents[i].o->arg))
			optitem(b, &col, &ents[i]);
	if (tool->operands && *tool->operands)
		item(b, &col, tool->operands);
	for (i = 0; i < nents; i++)
		if (ents[i].common)
			optitem(b, &col, &ents[i]);
	buf_addc(b, '\n');
}

void
oai_usage(void)
{
	struct buf b = BUF_INIT;

	synopsis(&b);
	fputs(b.s, stderr);
	buf_free(&b);
	exit(OAI_EX_USAGE);
}

/* "  -m, --model model         help", continued lines aligned. */
static void
helpline(struct buf *b, const struct ent *e)
{
	size_t start = b->len;
	const char *h = e->o->help ? e->o->help : "", *nl;

	if (e->shortname && e->o->longname)
		buf_printf(b, "  -%c, --%s", e->shortname, e->o->longname);
	else if (e->shortname)
		buf_printf(b, "  -%c", e->shortname);
	else
		buf_printf(b, "      --%s", e->o->longname);
	if (e->o->arg)
		buf_printf(b, " %s", e->o->arg);
	if (b->len - start > HELPCOL - 2) {
		buf_addc(b, '\n');
		start = b->len;
	}
	for (;;) {
		while (b->len - start < HELPCOL)
			buf_addc(b, ' ');
		nl = strchr(h, '\n');
		buf_add(b, h, nl ? (size_t)(nl - h) : strlen(h));
		buf_addc(b, '\n');
		if (!nl)
			break;
		h = nl + 1;
		start = b->len;
	}
}

static void
common_help(struct oai *o, const char *arg)
{
	struct buf b = BUF_INIT;
	int i, c;

	(void)o;
	(void)arg;
	synopsis(&b);
	if (tool->about)
		buf_printf(&b, "\n%s\n", tool->about);
	for (c = 0; c <= 1; c++) {
		buf_adds(&b, c ? "\nCommon options (see oai(7)):\n" : "\n");
		for (i = 0; i < nents; i++)
			if (ents[i].common == c)
				helpline(&b, &ents[i]);
	}
	out_add(b.s, b.len);
	buf_free(&b);
	out_close();
	exit(0);
}

/* ---- parsing ------------------------------------------------------------ */

/* How messages name an option: its long name, or its letter. */
static const char *
optname(const struct ent *e, char *tmp)
{
	if (e->o->longname) {
		snprintf(tmp, 64, "--%s", e->o->longname);
		return tmp;
	}
	snprintf(tmp, 64, "-%c", e->shortname);
	return tmp;
}

static void
apply(struct oai *o, const struct ent *e, const char *arg)
{
	const struct oai_opt *p = e->o;
	char name[64];

	if (p->seen)
		*p->seen = 1;
	switch (p->type) {
	case OAI_OPT_FLAG:
		++*(int *)p->target;
		break;
	case OAI_OPT_STR:
		if (p->empty && !*arg)
			die(OAI_EX_USAGE, "%s: empty %s", optname(e, name),
			    p->empty);
		*(const char **)p->target = arg;
		break;
	case OAI_OPT_INT:
		/* doubles hold the range: the ends of long long saturate */
		*(long long *)p->target = xstrtonum(optname(e, name), arg,
		    p->min <= -0x1p63 ? LLONG_MIN : (long long)p->min,
		    p->max >= 0x1p63 ? LLONG_MAX : (long long)p->max);
		break;
	case OAI_OPT_NUM:
		*(double *)p->target = xstrtod(optname(e, name), arg, p->min,
		    p->max);
		break;
	case OAI_OPT_CHOICE:
		*(int *)p->target = xchoice(optname(e, name), arg, p->choices);
		break;
	case OAI_OPT_LIST: {
		struct oai_list *l = p->target;

		if (p->empty && !*arg)
			die(OAI_EX_USAGE, "%s: empty %s", optname(e, name),
			    p->empty);
		if (p->max > 0 && l->n >= p->max)
			die(OAI_EX_USAGE, "%s: at most %d %ss", optname(e, name),
			    (int)p->max, p->empty ? p->empty : "value");

		l->v = xreallocarray(l->v, (size_t)l->n + 1, sizeof *l->v);
		l->v[l->n++] = arg;
		break;
	}
	case OAI_OPT_FN:
		p->fn(o, arg);
		break;
	default:
		break;
	}
}

int
oai_options(struct oai *o, const struct oai_tool *t, int argc, char *argv[])
{
	struct option lo[MAXOPTS + 1];
	char so[2 * MAXOPTS + 1];
	size_t ns = 0;
	int i, k, nl = 0, c;

	flatten(t);
	for (i = 0; i < nents; i++) {
		if (ents[i].shortname) {
			so[ns++] = (char)ents[i].shortname;
			if (ents[i].o->arg)
				so[ns++] = ':';
		}
		if (ents[i].o->longname)
			lo[nl++] = (struct option){ ents[i].o->longname,
			    ents[i].o->arg ? required_argument : no_argument,
			    NULL, 256 + i };
	}
	so[ns] = '\0';
	lo[nl] = (struct option){ NULL, 0, NULL, 0 };
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c >= 256) {
			apply(o, &ents[c - 256], optarg);
			continue;
		}
		for (k = 0; k < nents && ents[k].shortname != c; k++)
			;
		if (c == '?' || c == ':' || k == nents)
			oai_usage();
		apply(o, &ents[k], optarg);
	}
	return optind;
}

int
oai_start(struct oai *o, const struct oai_tool *t, int argc, char *argv[])
{
	oai_init(o, argc, argv);
	return oai_options(o, t, argc, argv);
}

int
oai_finish(struct oai *o, int status)
{
	out_close();
	oai_cleanup(o);
	return status;
}
