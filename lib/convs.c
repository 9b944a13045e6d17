/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oai.h"

/*
 * The saved conversations of oai-chat and its line history, under
 * $XDG_STATE_HOME/oai/ (default ~/.local/state/oai/): one JSONL file of
 * messages each in conversations/, named for when it began
 * (YYYYMMDD-HHMMSS-PID.jsonl), directories 0700, files 0600.
 */

int
state_path(struct buf *b, const char *name)
{
	const char *s = getenv("XDG_STATE_HOME");

	buf_reset(b);
	/* The XDG spec: a relative path is invalid and is ignored. */
	if (s && s[0] == '/')
		buf_printf(b, "%s/oai", s);
	else if ((s = getenv("HOME")) && *s)
		buf_printf(b, "%s/.local/state/oai", s);
	else {
		errno = ENOENT;
		return -1;
	}
	if (name)
		buf_printf(b, "/%s", name);
	return 0;
}

int
state_mkdir(const char *dir)
{
	char *p = xstrdup(dir), *sl;
	int rc = 0;

	/* Parents as mkdir -p makes them; only the last ones are new in
	 * practice (oai/, oai/conversations/): 0700. */
	for (sl = p + 1; rc == 0; sl++) {
		if (*sl != '/' && *sl != '\0')
			continue;
		int end = *sl == '\0';
		*sl = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		if (end)
			break;
		*sl = '/';
	}
	free(p);
	return rc;
}

int
conv_newpath(struct buf *b)
{
	struct buf dir = BUF_INIT;
	struct stat st;
	struct tm tm;
	time_t now = time(NULL);
	char stamp[32];
	int k, rc;

	if ((rc = state_path(&dir, "conversations")) == 0) {
		localtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
		/* /reset twice in a second: a name not taken yet */
		for (k = 1;; k++) {
			buf_reset(b);
			buf_printf(b, "%s/%s-%ld", dir.s, stamp, (long)getpid());
			if (k > 1)
				buf_printf(b, "-%d", k);
			buf_adds(b, ".jsonl");
			if (lstat(b->s, &st) < 0)
				break;
		}
	}
	buf_free(&dir);
	return rc;
}

/* ---- listing --------------------------------------------------------- */

static int
bytime(const void *a, const void *b)
{
	const struct dirfile *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
isjsonl(const char *name)
{
	size_t n = strlen(name);

	return n > 6 && strcmp(name + n - 6, ".jsonl") == 0;
}

/* The conversations in dir, their names without .jsonl, oldest change
 * first; their number, or -1 (errno) when dir cannot be read; none when
 * it does not exist. */
static long
scan(const char *dir, struct dirfile **out)
{
	long k, n = dir_files(dir, isjsonl, out);

	for (k = 0; k < n; k++)
		(*out)[k].name[strlen((*out)[k].name) - 6] = '\0';
	if (n > 0)
		qsort(*out, (size_t)n, sizeof **out, bytime);
	return n;
}

int
conv_latest(struct buf *path)
{
	struct buf dir = BUF_INIT;
	struct dirfile *v;
	long n;

	if (state_path(&dir, "conversations") < 0 ||
	    (n = scan(dir.s, &v)) < 0)
		edie(OAI_EX_FAILURE, "%s", dir.len ? dir.s :
		    "$XDG_STATE_HOME and $HOME");
	if (n == 0)
		die(OAI_EX_USAGE, "--continue: no saved conversation in %s",
		    dir.s);
	buf_reset(path);
	buf_printf(path, "%s/%s.jsonl", dir.s, v[n - 1].name);
	dirfiles_free(v, n);
	buf_free(&dir);
	return 0;
}

/* s is n digits and then the character c */
static int
digits(const char *s, size_t n, int c)
{
	for (; n > 0; n--, s++)
		if (*s < '0' || *s > '9')
			return 0;
	return *s == c;
}

/* name (without .jsonl) is one conv_newpath() gives:
 * YYYYMMDD-HHMMSS-PID or YYYYMMDD-HHMMSS-PID-K */
static int
ournames(const char *name)
{
	size_t n;

	if (!digits(name, 8, '-') || !digits(name + 9, 6, '-') ||
	    !(n = strspn(name += 16, "0123456789")))
		return 0;
	name += n;
	if (*name == '-' && (n = strspn(name + 1, "0123456789")) > 0)
		name += n + 1;
	return *name == '\0';
}

/*
 * Keep the max conversations changed last in path's directory, path (one
 * just begun) always among them: the others are removed, oldest first.
 * Only the files named as conv_newpath() names them count and go: a
 * .jsonl of another name there (a copy, a conversation of -c) is listed
 * but never removed.  path is kept by name, not by its time: another
 * file may look newer (a clock set back, a copy that kept its times, or
 * one saved in the same clock tick).  A file that cannot be removed is
 * said once; the answer and its file stand.
 */
void
conv_prune(const char *path, long max)
{
	struct buf dir = BUF_INIT, f = BUF_INIT;
	const char *self = strrchr(path, '/') + 1;
	size_t selflen = strlen(self) - 6;	/* without .jsonl */
	struct dirfile *v;
	long n, k, drop;
	int said = 0;

	buf_add(&dir, path, (size_t)(self - 1 - path));
	n = scan(dir.s, &v);
	for (k = 0, drop = -max; k < n; k++)
		drop += ournames(v[k].name);
	if (drop > 0)
		for (k = 0; k < n && drop > 0; k++) {
			if (!ournames(v[k].name) ||
			    (strlen(v[k].name) == selflen &&
			    memcmp(v[k].name, self, selflen) == 0))
				continue;
			drop--;
			buf_reset(&f);
			buf_printf(&f, "%s/%s.jsonl", dir.s, v[k].name);
			if (unlink(f.s) < 0 && errno != ENOENT && !said++)
				warnx("%s: not removed (OAI_HISTORY_SIZE): %s",
				    f.s, strerror(errno));
		}
	if (n > 0)
		dirfiles_free(v, n);
	buf_free(&f);
	buf_free(&dir);
}

#define FIRST_MAX 60	/* characters of the first question listed */

/* The first user message's text, on one line, shortened. */
static void
firstline(struct buf *b, const struct msgs *m)
{
	struct json j = JSON_INIT;
	struct buf s = BUF_INIT;
	size_t i, k, n;
	int c, t;

	for (i = 0; i < m->n && !s.len; i++) {
		if (json_parse(&j, m->v[i], strlen(m->v[i])) < 0 ||
		    !json_streq(&j, json_get(&j, 0, "role"), "user"))
			continue;
		c = json_get(&j, 0, "content");
		if (json_type(&j, c) == JSON_ARRAY)	/* its first text part */
			for (k = 0, t = c + 1; k < (size_t)json_size(&j, c);
			    k++, t = json_skip(&j, t))
				if (json_str(&j, json_get(&j, t, "text"), &s)
				    == 0)
					break;
		json_str(&j, c, &s);
	}
	json_free(&j);
	/* whitespace runs become one space; control characters too */
	for (i = n = 0; i < s.len; i++) {
		if ((c = (unsigned char)s.s[i]) <= ' ' || c == 0x7f)
			c = ' ';
		if (c == ' ' && (!b->len || b->s[b->len - 1] == ' '))
			continue;
		if ((c & 0xc0) != 0x80 && ++n > FIRST_MAX) {
			buf_adds(b, "...");
			break;
		}
		buf_addc(b, c);
	}
	while (b->len && b->s[b->len - 1] == ' ')
		b->s[--b->len] = '\0';
	buf_free(&s);
}

/* One conversation's line: text (tab-separated) or a JSON object. */
static int
listone(const char *dir, const struct dirfile *c, int json)
{
	struct buf path = BUF_INIT, text = BUF_INIT, err = BUF_INIT,
	    first = BUF_INIT, line = BUF_INIT;
	struct msgs m = MSGS_INIT;
	char when[32];
	struct tm tm;
	int rc = 0;

	buf_printf(&path, "%s/%s.jsonl", dir, c->name);
	if (input_try(&text, path.s) < 0) {
		warnx("%s: %s", path.s, strerror(errno));
		rc = -1;
	} else if (msgs_parse(&m, text.s, text.len, path.s, 0, &err) < 0) {
		warnx("%s", err.s);
		rc = -1;
	}
	if (rc == 0) {
		firstline(&first, &m);
		if (json) {
			gmtime_r(&c->mtime.tv_sec, &tm);
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
			buf_adds(&line, "{\"id\":");
			json_quote(&line, c->name, strlen(c->name));
			buf_adds(&line, ",\"path\":");
			json_quote(&line, path.s, path.len);
			buf_printf(&line, ",\"modified\":\"%s\",\"model\":",
			    when);
			if (m.model)
				json_quote(&line, m.model, strlen(m.model));
			else
				buf_adds(&line, "null");
			buf_printf(&line, ",\"messages\":%zu,\"first\":", m.n);
			json_quote(&line, first.s, first.len);
			buf_adds(&line, "}\n");
		} else {
			localtime_r(&c->mtime.tv_sec, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
			buf_printf(&line, "%s\t%s\t", c->name, when);
			buf_addline(&line, m.model ? m.model : "-",
			    strlen(m.model ? m.model : "-"));
			buf_printf(&line, "\t%zu\t%s\n", m.n, first.s);
		}
		out_add(line.s, line.len);
	}
	msgs_free(&m);
	buf_free(&path);
	buf_free(&text);
	buf_free(&err);
	buf_free(&first);
	buf_free(&line);
	return rc;
}

int
conv_list(int json)
{
	struct buf dir = BUF_INIT;
	struct dirfile *v;
	long i, n;
	int rc = 0;

	if (state_path(&dir, "conversations") < 0 ||
	    (n = scan(dir.s, &v)) < 0)
		edie(OAI_EX_FAILURE, "%s", dir.len ? dir.s :
		    "$XDG_STATE_HOME and $HOME");
	for (i = 0; i < n; i++)
		if (listone(dir.s, &v[i], json) < 0)
			rc = OAI_EX_USAGE;	/* bad input */
	dirfiles_free(v, n);
	buf_free(&dir);
	return rc;
}
