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

/* Where an option's value came from, lowest first (oai(7) CONFIGURATION). */
enum { SRC_NONE, SRC_CONFIG, SRC_ROLE, SRC_ARGV };

/* The flattened table of the tool being run. */
static struct ent {
	const struct oai_opt *o;
	int shortname;		/* 0 when none (or taken by the tool) */
	int common;
	int src;		/* SRC_* */
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
	ents[nents].src = SRC_NONE;
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

/* An option the tool names only to refuse it: in no usage or help. */
static int
refused(const struct ent *e)
{
	return e->o->type == OAI_OPT_REFUSED;
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
		if (!ents[i].common && ents[i].shortname && !ents[i].o->arg &&
		    !refused(&ents[i]))
			flags[nf++] = (char)ents[i].shortname;
	if (nf > 2) {
		qsort(flags + 2, nf - 2, 1, bychar);
		flags[nf++] = ']';
		flags[nf] = '\0';
		item(b, &col, flags);
	}
	for (i = 0; i < nents; i++)
		if (!ents[i].common && !(ents[i].shortname && !ents[i].o->arg) &&
		    !refused(&ents[i]))
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
			if (ents[i].common == c && !refused(&ents[i]))
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

/* Texts read for OAI_OPT_TEXT options: they live until exit. */
static char **texts;
static int ntexts;

/* -s @FILE: the text of FILE ("-": standard input); "@@x" is "@x". */
static const char *
attext(const char *opt, const char *arg)
{
	struct buf b = BUF_INIT;

	if (arg[0] != '@')
		return arg;
	if (arg[1] == '@')
		return arg + 1;
	if (!arg[1])
		die(OAI_EX_USAGE, "%s: @ without a file name (@@ begins a "
		    "text with @)", opt);
	if (input_try(&b, arg + 1) < 0)
		edie(OAI_EX_USAGE, "%s: cannot read %s", opt,
		    input_name(arg + 1));
	input_check(input_name(arg + 1), b.s, b.len, 0);
	while (b.len && b.s[b.len - 1] == '\n')
		b.s[--b.len] = '\0';
	texts = xreallocarray(texts, (size_t)ntexts + 1, sizeof *texts);
	return texts[ntexts++] = buf_steal(&b, NULL);
}

/* literal: arg is the text itself, even with a leading @ (a role's). */
static void
apply(struct oai *o, const struct ent *e, const char *arg, int literal)
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
	case OAI_OPT_TEXT:
		*(const char **)p->target = literal ? arg :
		    attext(optname(e, name), arg);
		break;
	case OAI_OPT_REFUSED:
		die(OAI_EX_USAGE, "%s: %s", optname(e, name), p->help);
	default:
		break;
	}
}

/* ---- the config file and roles -------------------------------------- */

static struct oai_settings conf, role;

/* The config file gives way to these variables (the role does not). */
static const struct {
	const char *key, *env;
} envkeys[] = {
	{ "base-url", "OPENAI_BASE_URL" },
	{ "meta-fd", "OAI_META_FD" },
	{ "api-key-file", "OPENAI_API_KEY" },
};

static struct ent *
byname(const char *key)
{
	int i;

	for (i = 0; i < nents; i++)
		if (ents[i].o->longname && strcmp(ents[i].o->longname, key) == 0)
			return &ents[i];
	return NULL;
}

static int
envset(const char *key)
{
	const char *s;
	size_t i;

	for (i = 0; i < sizeof envkeys / sizeof *envkeys; i++)
		if (strcmp(envkeys[i].key, key) == 0)
			return (s = getenv(envkeys[i].env)) && *s;
	return 0;
}

/*
 * Options whose values differ in kind from tool to tool (a chat model is
 * no embedding model; formats are per tool): a line before any section
 * would send one tool's value to another, so they need a section.
 */
static int
pertool(const char *key)
{
	static const char *const keys[] = { "model", "format", "output" };
	size_t i;

	for (i = 0; i < sizeof keys / sizeof *keys; i++)
		if (strcmp(keys[i], key) == 0)
			return 1;
	return 0;
}

/* The option e (or none) of setting s, checked; NULL: not for us. */
static struct ent *
settingent(const struct oai_setting *s)
{
	struct ent *e = byname(s->key);

	if (strcmp(s->key, "api-key") == 0)
		die(OAI_EX_USAGE, "%s: the API key goes in a file of its own, "
		    "mode 0600: api-key-file = FILE", s->where);
	if (!s->scoped && pertool(s->key))
		die(OAI_EX_USAGE, "%s: --%s means something else in each tool: "
		    "set it in a tool's section, such as [%s]", s->where,
		    s->key, argv0);
	if (!e) {
		if (s->scoped)
			die(OAI_EX_USAGE, "%s: %s has no option --%s", s->where,
			    argv0, s->key);
		return NULL;
	}
	if (e->o->fn == common_help || e->o->fn == common_version ||
	    e->o->fn == oai_opt_role)
		die(OAI_EX_USAGE, "%s: --%s goes on the command line only",
		    s->where, s->key);
	if (!e->o->arg && s->value && strcmp(s->value, "true") != 0 &&
	    strcmp(s->value, "false") != 0)
		die(OAI_EX_USAGE, "%s: --%s takes no value: write %s, "
		    "%s = true or %s = false", s->where, s->key, s->key,
		    s->key, s->key);
	if (e->o->arg && !s->value)
		die(OAI_EX_USAGE, "%s: --%s needs a value", s->where, s->key);
	return e;
}

/* Setting s for an option the layers above src left alone. */
static void
setting(struct oai *o, const struct oai_setting *s, int src)
{
	struct ent *e = settingent(s);

	if (!e || e->src > src || (src == SRC_CONFIG && envset(s->key)))
		return;
	if (!e->o->arg && s->value && strcmp(s->value, "false") == 0)
		return;
	e->src = src;
	oai_msg_where(s->where);
	apply(o, e, s->value, 0);
	oai_msg_where(NULL);
}

/* The role's options and prompt, then the config file's, under the
 * command line's (oai(7) CONFIGURATION). */
static void
layers(struct oai *o)
{
	struct ent *sys;
	int i;

	for (i = 0; i < role.n; i++)
		setting(o, &role.v[i], SRC_ROLE);
	if (role.text && (sys = byname("system")) && sys->src <= SRC_ROLE) {
		sys->src = SRC_ROLE;
		apply(o, sys, role.text, 1);
	}
	if (oai_config_read(&conf, argv0))
		for (i = 0; i < conf.n; i++)
			setting(o, &conf.v[i], SRC_CONFIG);
	if (o->verbose && conf.path)
		warnx("config %s", conf.path);
	if (o->verbose && role.path)
		warnx("role %s", role.path);
}

void
oai_opt_role(struct oai *o, const char *name)
{
	(void)o;
	oai_role_read(&role, name);
}

int
oai_given(const char *key)
{
	const struct ent *e = byname(key);

	return e && e->src >= SRC_ROLE;
}

const char *
oai_env(const char *key, const char *env, const char *cur)
{
	const struct ent *e = byname(key);
	const char *s = getenv(env);

	return s && *s && (!e || e->src < SRC_ROLE) ? s : cur;
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
		if (c >= 256)
			k = c - 256;
		else {
			for (k = 0; k < nents && ents[k].shortname != c; k++)
				;
			if (c == '?' || c == ':' || k == nents)
				oai_usage();
		}
		ents[k].src = SRC_ARGV;
		apply(o, &ents[k], optarg, 0);
	}
	layers(o);
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
