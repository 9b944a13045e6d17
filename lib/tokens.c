/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * -u: the tokens a response reports and what they cost, for every tool
 * whose answer has a usage object (chat, completions).  Prices are
 * built in and can be added to or overridden by $OAI_PRICES.
 */

struct price {
	char *model;
	double in, out;		/* dollars per million tokens */
};

static struct price *prices;
static size_t nprices;

static void
setprice(const char *model, double in, double out)
{
	size_t i;

	for (i = 0; i < nprices; i++)
		if (strcmp(prices[i].model, model) == 0)
			break;
	if (i == nprices) {
		prices = xreallocarray(prices, ++nprices, sizeof *prices);
		prices[i].model = xstrdup(model);
	}
	prices[i].in = in;
	prices[i].out = out;
}

/* OAI_PRICES: lines "MODEL INPUT OUTPUT" in dollars per million
 * tokens; # starts a comment. */
static void
loadprices(void)
{
	struct buf b = BUF_INIT;
	const char *path = getenv("OAI_PRICES");
	char *line, *save = NULL, *m, *a, *c, *end1, *end2;
	double in, out;
	size_t n = 0;

	setprice("gpt-4o", 5, 15);
	setprice("gpt-4-turbo", 10, 30);
	setprice("gpt-3.5-turbo", 0.5, 1.5);
	setprice("gpt-3.5-turbo-instruct", 1.5, 2);
	setprice("davinci-002", 2, 2);
	setprice("babbage-002", 0.4, 0.4);
	if (!path || !*path)
		return;
	if (input_try(&b, path) < 0) {
		warnx("OAI_PRICES: %s: %s", path, strerror(errno));
		return;
	}
	for (line = strtok_r(b.s, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		n++;
		if ((m = strchr(line, '#')))
			*m = '\0';
		if (!(m = strtok(line, " \t\r")))
			continue;
		a = strtok(NULL, " \t\r");
		c = strtok(NULL, " \t\r");
		if (!a || !c || strtok(NULL, " \t\r") ||
		    (in = strtod(a, &end1)) < 0 || *end1 ||
		    (out = strtod(c, &end2)) < 0 || *end2) {
			warnx("OAI_PRICES: %s:%zu: expected MODEL INPUT OUTPUT",
			    path, n);
			continue;
		}
		setprice(m, in, out);
	}
	buf_free(&b);
}

/* A model's prices: its exact name, or a known name followed by a
 * dated snapshot suffix ("gpt-4o-2024-08-06", "gpt-3.5-turbo-0125"). */
static const struct price *
findprice(const char *model)
{
	size_t i, k;

	for (i = 0; i < nprices; i++)
		if (strcmp(prices[i].model, model) == 0)
			return &prices[i];
	for (i = 0; i < nprices; i++) {
		k = strlen(prices[i].model);
		if (strncmp(prices[i].model, model, k) == 0 &&
		    model[k] == '-' && model[k + 1] >= '0' &&
		    model[k + 1] <= '9')
			return &prices[i];
	}
	return NULL;
}

void
tokens_read(struct tokens *u, const struct json *j, int t)
{
	if (json_type(j, t) != JSON_OBJECT)
		return;
	u->has = 1;
	json_int(j, json_get(j, t, "prompt_tokens"), &u->prompt);
	json_int(j, json_get(j, t, "completion_tokens"), &u->completion);
	json_int(j, json_get(j, t, "total_tokens"), &u->total);
}

void
tokens_print(const struct tokens *u, const char *model)
{
	const struct price *p;

	if (!u->has) {
		warnx("usage: not reported by the server");
		return;
	}
	if (!prices)
		loadprices();
	p = findprice(model);
	if (p)
		warnx("usage: %lld prompt + %lld completion = %lld tokens, "
		    "$%.6f", u->prompt, u->completion, u->total,
		    ((double)u->prompt * p->in + (double)u->completion *
		    p->out) / 1e6);
	else
		warnx("usage: %lld prompt + %lld completion = %lld tokens",
		    u->prompt, u->completion, u->total);
}
