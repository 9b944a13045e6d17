/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * One price table for every tool.  Prices are in US dollars, as
 * published on OAI_PRICES_DATE; OAI_PRICES=FILE adds to them or
 * replaces them (a newer model, a new price, a private deployment).
 */
enum { P_TOKENS, P_CHARS, P_MINUTE, P_IMAGE };

struct price {
	char *name;		/* model, or "model/SIZE/QUALITY" (images) */
	int unit;
	double in, out;		/* P_TOKENS: per 1M input, output tokens;
				 * otherwise in is the price per unit:
				 * 1M characters, a minute, an image */
	double cached;		/* P_TOKENS: per 1M cached input; -1: as in */
};

static const struct {
	const char *name;
	int unit;
	double in, out, cached;
} builtin[] = {
	{ "gpt-4o", P_TOKENS, 5, 15, 2.5 },
	{ "gpt-4-turbo", P_TOKENS, 10, 30, -1 },
	{ "gpt-4-turbo-preview", P_TOKENS, 10, 30, -1 },
	{ "gpt-4-0125-preview", P_TOKENS, 10, 30, -1 },
	{ "gpt-4-1106-preview", P_TOKENS, 10, 30, -1 },
	{ "gpt-4-vision-preview", P_TOKENS, 10, 30, -1 },
	{ "gpt-4-1106-vision-preview", P_TOKENS, 10, 30, -1 },
	{ "gpt-3.5-turbo", P_TOKENS, 0.5, 1.5, -1 },
	{ "gpt-3.5-turbo-instruct", P_TOKENS, 1.5, 2, -1 },
	{ "davinci-002", P_TOKENS, 2, 2, -1 },
	{ "babbage-002", P_TOKENS, 0.4, 0.4, -1 },
	{ "text-embedding-3-small", P_TOKENS, 0.02, 0, -1 },
	{ "text-embedding-3-large", P_TOKENS, 0.13, 0, -1 },
	{ "text-embedding-ada-002", P_TOKENS, 0.10, 0, -1 },
	{ "tts-1", P_CHARS, 15, 0, -1 },
	{ "tts-1-hd", P_CHARS, 30, 0, -1 },
	{ "whisper-1", P_MINUTE, 0.006, 0, -1 },
	{ "dall-e-3/1024x1024/standard", P_IMAGE, 0.040, 0, -1 },
	{ "dall-e-3/1024x1792/standard", P_IMAGE, 0.080, 0, -1 },
	{ "dall-e-3/1792x1024/standard", P_IMAGE, 0.080, 0, -1 },
	{ "dall-e-3/1024x1024/hd", P_IMAGE, 0.080, 0, -1 },
	{ "dall-e-3/1024x1792/hd", P_IMAGE, 0.120, 0, -1 },
	{ "dall-e-3/1792x1024/hd", P_IMAGE, 0.120, 0, -1 },
	{ "dall-e-2/1024x1024/standard", P_IMAGE, 0.020, 0, -1 },
	{ "dall-e-2/512x512/standard", P_IMAGE, 0.018, 0, -1 },
	{ "dall-e-2/256x256/standard", P_IMAGE, 0.016, 0, -1 },
};

static const char *const units[] = { "tokens", "chars", "minute", "image",
	NULL };

static struct price *prices;
static size_t nprices;
static int loaded;

static void
setprice(const char *name, int unit, double in, double out, double cached)
{
	size_t i;

	for (i = 0; i < nprices; i++)
		if (strcmp(prices[i].name, name) == 0)
			break;
	if (i == nprices) {
		prices = xreallocarray(prices, ++nprices, sizeof *prices);
		prices[i].name = xstrdup(name);
	}
	prices[i].unit = unit;
	prices[i].in = in;
	prices[i].out = out;
	prices[i].cached = cached;
}

/* A price: a number >= 0, all of it. */
static int
pnum(const char *s, double *v)
{
	char *end;

	if (!s)
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	return end == s || *end || errno || !(*v >= 0 && *v < 1e9) ? -1 : 0;
}

/*
 * One line of OAI_PRICES, cut into at most 5 words: "MODEL IN OUT
 * [CACHED]" (per 1M tokens), or "NAME PRICE UNIT" with UNIT chars (per
 * 1M characters), minute or image.  0, or -1 if it is none of these.
 */
static int
priceline(char **w, int n)
{
	double a, b, c = -1;
	int u;

	for (u = 1; units[u] && n == 3; u++)
		if (strcmp(w[2], units[u]) == 0) {
			if (pnum(w[1], &a) < 0)
				return -1;
			setprice(w[0], u, a, 0, -1);
			return 0;
		}
	if ((n != 3 && n != 4) || pnum(w[1], &a) < 0 || pnum(w[2], &b) < 0 ||
	    (n == 4 && pnum(w[3], &c) < 0))
		return -1;
	setprice(w[0], P_TOKENS, a, b, c);
	return 0;
}

static void
loadfile(const char *path)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL, *ws, *w[5], *p;
	size_t ln = 0;
	int n;

	if (input_try(&b, path) < 0) {
		warnx("OAI_PRICES: %s: %s", path, strerror(errno));
		return;
	}
	for (line = b.s; line && *line; line = p) {
		if ((p = strchr(line, '\n')))
			*p++ = '\0';
		ln++;
		if ((ws = strchr(line, '#')))
			*ws = '\0';
		for (n = 0, ws = strtok_r(line, " \t\r", &save); ws && n < 5;
		    ws = strtok_r(NULL, " \t\r", &save))
			w[n++] = ws;
		if (n && priceline(w, n) < 0)
			warnx("OAI_PRICES: %s:%zu: expected MODEL INPUT OUTPUT "
			    "[CACHED], or NAME PRICE chars|minute|image",
			    path, ln);
	}
	buf_free(&b);
}

static void
load(void)
{
	const char *path = getenv("OAI_PRICES");
	size_t i;

	if (loaded)
		return;
	loaded = 1;
	for (i = 0; i < sizeof builtin / sizeof *builtin; i++)
		setprice(builtin[i].name, builtin[i].unit, builtin[i].in,
		    builtin[i].out, builtin[i].cached);
	if (path && *path)
		loadfile(path);
}

/* A price by its exact name, or a known name followed by a dated
 * snapshot suffix ("gpt-4o-2024-08-06", "gpt-3.5-turbo-0125"): never
 * another model's (gpt-4o-mini is not gpt-4o). */
static const struct price *
findprice(const char *name)
{
	size_t i, k;

	load();
	for (i = 0; i < nprices; i++)
		if (strcmp(prices[i].name, name) == 0)
			return &prices[i];
	for (i = 0; i < nprices; i++) {
		k = strlen(prices[i].name);
		if (strncmp(prices[i].name, name, k) == 0 && name[k] == '-' &&
		    name[k + 1] >= '0' && name[k + 1] <= '9')
			return &prices[i];
	}
	return NULL;
}

int
oai_has_price(const char *model)
{
	return findprice(model) != NULL;
}

void
oai_usage_init(struct oai_usage *u, const char *model)
{
	memset(u, 0, sizeof *u);
	snprintf(u->model, sizeof u->model, "%s", model ? model : "");
	u->input = u->output = u->cached = u->reasoning = -1;
	u->audio_in = u->audio_out = u->chars = u->images = -1;
	u->seconds = -1;
	u->cost = -1;
}

static void
count(const struct json *j, int t, const char *k1, const char *k2,
    long long *v)
{
	long long n;

	if (json_int(j, json_get(j, t, k1), &n) == 0 ||
	    (k2 && json_int(j, json_get(j, t, k2), &n) == 0))
		*v = n;
}

int
oai_usage_json(struct oai_usage *u, const struct json *j, int t)
{
	int in, out;
	double s;

	if (json_type(j, t) != JSON_OBJECT)
		return -1;
	count(j, t, "prompt_tokens", "input_tokens", &u->input);
	count(j, t, "completion_tokens", "output_tokens", &u->output);
	in = json_get(j, t, "prompt_tokens_details");
	if (in < 0)
		in = json_get(j, t, "input_tokens_details");
	if (in < 0)
		in = json_get(j, t, "input_token_details");
	out = json_get(j, t, "completion_tokens_details");
	if (out < 0)
		out = json_get(j, t, "output_tokens_details");
	count(j, in, "cached_tokens", NULL, &u->cached);
	count(j, in, "audio_tokens", NULL, &u->audio_in);
	count(j, out, "reasoning_tokens", NULL, &u->reasoning);
	count(j, out, "audio_tokens", NULL, &u->audio_out);
	if (json_num(j, json_get(j, t, "seconds"), &s) == 0 && s >= 0)
		u->seconds = s;
	u->requests = 1;
	return 0;
}

static double
tokencost(const struct price *p, const struct oai_usage *u)
{
	long long cached = u->cached > 0 && u->cached <= u->input ?
	    u->cached : 0;

	return ((double)(u->input - cached) * p->in +
	    (double)cached * (p->cached >= 0 ? p->cached : p->in) +
	    (double)(u->output > 0 ? u->output : 0) * p->out) / 1e6;
}

double
oai_cost(struct oai_usage *u)
{
	const struct price *p;
	char name[256];

	u->cost = -1;
	if (u->images >= 0) {
		snprintf(name, sizeof name, "%s/%s", u->model, u->variant);
		if ((p = findprice(name)) && p->unit == P_IMAGE)
			u->cost = (double)u->images * p->in;
	} else if ((p = findprice(u->model))) {
		if (p->unit == P_TOKENS && u->input >= 0)
			u->cost = tokencost(p, u);
		else if (p->unit == P_CHARS && u->chars >= 0)
			u->cost = (double)u->chars * p->in / 1e6;
		else if (p->unit == P_MINUTE && u->seconds >= 0)
			u->cost = u->seconds / 60 * p->in;
	}
	/* The Batch API costs half the synchronous price, input and output
	 * ("Batch API: save 50% on inputs and outputs", the pricing page,
	 * https://openai.com/api/pricing/; the Batch guide,
	 * https://platform.openai.com/docs/guides/batch). */
	if (u->cost > 0 && u->batch)
		u->cost /= 2;
	return u->cost;
}

static void
sum(long long *t, long long v)
{
	if (v >= 0)
		*t = *t >= 0 ? *t + v : v;
}

void
oai_usage_add(struct oai_usage *t, const struct oai_usage *u)
{
	int first = t->requests == 0;

	if (first || !*t->model)
		snprintf(t->model, sizeof t->model, "%s", u->model);
	sum(&t->input, u->input);
	sum(&t->output, u->output);
	sum(&t->cached, u->cached);
	sum(&t->reasoning, u->reasoning);
	sum(&t->audio_in, u->audio_in);
	sum(&t->audio_out, u->audio_out);
	sum(&t->chars, u->chars);
	sum(&t->images, u->images);
	if (u->seconds >= 0)
		t->seconds = (t->seconds >= 0 ? t->seconds : 0) + u->seconds;
	if (first)
		t->cost = u->cost;
	else if (t->cost >= 0)
		t->cost = u->cost >= 0 ? t->cost + u->cost : -1;
	t->requests += u->requests > 0 ? u->requests : 1;
}

void
oai_noprice(const char *model)
{
	static struct buf said = BUF_INIT;	/* "\nmodel\n" each */
	struct buf k = BUF_INIT, esc = BUF_INIT;

	buf_printf(&k, "\n%s\n", model);
	if (!strstr(said.s, k.s)) {
		buf_add(&said, k.s, k.len);
		buf_addesc(&esc, model, strlen(model));
		warnx("no price for %s; set OAI_PRICES", *model ? esc.s :
		    "an unnamed model");
	}
	buf_free(&k);
	buf_free(&esc);
}

void
oai_usage_print(const struct oai_usage *u)
{
	struct buf b = BUF_INIT;

	if (u->input >= 0 && u->output >= 0) {
		buf_printf(&b, "%lld prompt", u->input);
		if (u->cached > 0)
			buf_printf(&b, " (%lld cached)", u->cached);
		buf_printf(&b, " + %lld completion = %lld tokens", u->output,
		    u->input + u->output);
	} else if (u->input >= 0)
		buf_printf(&b, "%lld tokens", u->input);
	else if (u->chars >= 0)
		buf_printf(&b, "%lld characters", u->chars);
	else if (u->seconds >= 0)
		buf_printf(&b, "%g seconds", u->seconds);
	else if (u->images >= 0)
		buf_printf(&b, "%lld images", u->images);
	else {
		warnx("usage: not reported by the server");
		return;
	}
	if (u->requests > 1)
		buf_printf(&b, " in %lld requests", u->requests);
	if (u->cost >= 0.0000005 || u->cost == 0)
		buf_printf(&b, ", $%.6f", u->cost);
	else if (u->cost > 0)	/* an embedding's fraction of a cent */
		buf_printf(&b, ", $%.2g", u->cost);
	warnx("usage: %s", b.s);
	if (u->cost < 0)
		oai_noprice(u->model);
	buf_free(&b);
}

void
oai_usage_report(const struct oai_usage *u0, const char *answered,
    const char *asked)
{
	struct oai_usage u = *u0;

	if (!u.requests) {
		warnx("usage: not reported by the server");
		return;
	}
	snprintf(u.model, sizeof u.model, "%s", answered ? answered : asked);
	oai_cost(&u);
	oai_usage_print(&u);
}
