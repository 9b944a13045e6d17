/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oai.h"

/*
 * The text tools (oai-chat, oai-complete): one way to take a prompt from
 * standard input, files and arguments, and one way to stream generated
 * text to standard output.
 */

/* The text of path ("-" is standard input), which must be text. */
static void
readtext(struct buf *b, const char *path)
{
	size_t from = b->len;

	input_read(b, path);
	input_check(input_name(path), b->s + from, b->len - from, 0);
}

void
prompt_addpart(struct buf *prompt, const char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '\n')
		n--;
	if (n == 0)
		return;
	if (prompt->len)
		buf_adds(prompt, "\n\n");
	buf_add(prompt, s, n);
}

void
prompt_read(struct buf *text, int argc, char *argv[],
    const struct oai_list *files, int tty)
{
	struct buf in = BUF_INIT, args = BUF_INIT;
	int i, stdinused = 0;

	for (i = 0; i < argc; i++) {
		if (i)
			buf_addc(&args, ' ');
		buf_adds(&args, argv[i]);
	}
	input_check("the prompt", args.s, args.len, 0);
	for (i = 0; files && i < files->n; i++)
		if (strcmp(files->v[i], "-") == 0)
			stdinused = 1;
	if (!tty && !stdinused) {
		readtext(&in, "-");
		prompt_addpart(text, in.s, in.len);
	}
	for (i = 0; files && i < files->n; i++) {
		buf_reset(&in);
		readtext(&in, files->v[i]);
		prompt_addpart(text, in.s, in.len);
	}
	prompt_addpart(text, args.s, args.len);
	buf_free(&in);
	buf_free(&args);
}

void
textout_add(struct textout *t, const char *s, size_t n)
{
	size_t k = n;

	while (k > 0 && s[k - 1] == '\n')
		k--;
	if (k == 0 && (!t->printed || t->nlout)) {
		t->pendnl += n;
		return;
	}
	if (k > 0) {
		for (; t->pendnl; t->pendnl--)
			out_add("\n", 1);
		out_add(s, k);
		t->printed = 1;
		t->nlout = 0;
	}
	if (n > k) {
		out_add("\n", 1);
		t->nlout = 1;
		t->pendnl = n - k - 1;
	}
}

void
textout_end(struct textout *t, int complete)
{
	if (t->printed && !t->nlout && (complete || isatty(1)))
		out_add("\n", 1);
	t->printed = t->nlout = 0;
	t->pendnl = 0;
}

void
sampling_write(struct jw *w, const struct sampling *s, const char *maxkey)
{
	int i;

	if (s->has_temp) {
		jw_key(w, "temperature");
		jw_num(w, s->temp);
	}
	if (s->has_top_p) {
		jw_key(w, "top_p");
		jw_num(w, s->top_p);
	}
	if (s->has_max_tokens) {
		jw_key(w, maxkey);
		jw_int(w, s->max_tokens);
	}
	if (s->stop.n) {
		jw_key(w, "stop");
		jw_arr(w);
		for (i = 0; i < s->stop.n; i++)
			jw_str(w, s->stop.v[i]);
		jw_arr_end(w);
	}
	if (s->has_seed) {
		jw_key(w, "seed");
		jw_int(w, s->seed);
	}
	if (s->has_fpen) {
		jw_key(w, "frequency_penalty");
		jw_num(w, s->fpen);
	}
	if (s->has_ppen) {
		jw_key(w, "presence_penalty");
		jw_num(w, s->ppen);
	}
}

void
stream_write(struct jw *w, int usage)
{
	jw_key(w, "stream");
	jw_bool(w, 1);
	if (usage) {
		jw_key(w, "stream_options");
		jw_obj(w);
		jw_key(w, "include_usage");
		jw_bool(w, 1);
		jw_obj_end(w);
	}
}

/* Print the choices after cur that can be: all, or the finished ones. */
static void
choices_advance(struct choices *cs, int all)
{
	struct choice *c;

	while (cs->cur < cs->n - 1 && (all || cs->c[cs->cur].finish)) {
		textout_end(&cs->out, 1);
		if (cs->sep)
			out_adds(cs->sep);
		c = &cs->c[++cs->cur];
		if (c->held.len)
			textout_add(&cs->out, c->held.s, c->held.len);
		buf_free(&c->held);
	}
}

void
choices_init(struct choices *cs, int n, const char *sep)
{
	int i;

	memset(cs, 0, sizeof *cs);
	cs->n = n < 1 ? 1 : n;
	cs->sep = sep;
	cs->c = xcalloc((size_t)cs->n, sizeof *cs->c);
	for (i = 0; i < cs->n; i++)
		buf_init(&cs->c[i].held);
}

int
choices_index(const struct choices *cs, const struct json *j, int t, int i)
{
	long long idx;

	if (json_int(j, json_get(j, t, "index"), &idx) < 0)
		idx = i;
	if (idx < 0 || idx >= cs->n) {
		warnx("unexpected response: choice index %lld (0 to %d)", idx,
		    cs->n - 1);
		return -1;
	}
	return (int)idx;
}

void
choices_add(struct choices *cs, int idx, const char *s, size_t n)
{
	if (!n)
		return;
	if (idx == cs->cur)
		textout_add(&cs->out, s, n);
	else
		buf_add(&cs->c[idx].held, s, n);
}

void
choices_finish(struct choices *cs, int idx, const char *reason, size_t n)
{
	free(cs->c[idx].finish);
	cs->c[idx].finish = xstrndup(reason, n);
	choices_advance(cs, 0);
}

void
choices_end(struct choices *cs, int complete)
{
	if (complete)
		choices_advance(cs, 1);
	textout_end(&cs->out, complete);
}

void
choices_free(struct choices *cs)
{
	int i;

	for (i = 0; i < cs->n; i++) {
		buf_free(&cs->c[i].held);
		free(cs->c[i].finish);
	}
	free(cs->c);
	cs->c = NULL;
	cs->n = 0;
}

int
body_choices(const struct buf *body, int max)
{
	struct json j = JSON_INIT;
	long long n;
	int k = 1;

	if (json_parse(&j, body->s, body->len) == 0 &&
	    json_int(&j, json_get(&j, 0, "n"), &n) == 0 && n > 1 && n <= max)
		k = (int)n;
	json_free(&j);
	return k;
}
