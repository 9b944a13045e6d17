/* See LICENSE file for copyright and license details. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * --param KEY=VALUE: any field of a request body, for the parameters a
 * tool has no option for (yet).  The params become a tree of keys (a
 * dotted key is a path), merged into the body the tool built: a field
 * named by a param is replaced where it stands, objects on a param's
 * path are merged into, fields that are new go at the end.
 */

struct pnode {
	char *name;
	char *value;		/* JSON text; NULL for an object of kids */
	struct pnode *kids;
	size_t nkids;
	int used;
};

/* Empty n, keeping its name. */
static void
pclear(struct pnode *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++) {
		pclear(&n->kids[i]);
		free(n->kids[i].name);
	}
	free(n->kids);
	free(n->value);
	n->kids = NULL;
	n->nkids = 0;
	n->value = NULL;
}

static struct pnode *
find(struct pnode *n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		if (strlen(n->kids[i].name) == len &&
		    memcmp(n->kids[i].name, name, len) == 0)
			return &n->kids[i];
	return NULL;
}

static struct pnode *
child(struct pnode *n, const char *name, size_t len)
{
	struct pnode *c;

	if ((c = find(n, name, len)))
		return c;
	n->kids = xreallocarray(n->kids, n->nkids + 1, sizeof *n->kids);
	memset(&n->kids[n->nkids], 0, sizeof *n->kids);
	n->kids[n->nkids].name = xstrndup(name, len);
	return &n->kids[n->nkids++];
}

/* The JSON text of a param's value: JSON as given, else a string. */
static char *
pvalue(const char *v)
{
	struct buf b = BUF_INIT;
	struct json j = JSON_INIT;

	if (json_parse(&j, v, strlen(v)) == 0)
		json_compact(&b, v, strlen(v));
	else
		json_quote(&b, v, strlen(v));
	json_free(&j);
	return buf_steal(&b, NULL);
}

static void
padd(struct pnode *root, const char *arg)
{
	const char *eq = strchr(arg, '='), *k, *dot;
	struct pnode *n = root;

	input_check("--param", arg, strlen(arg), 0);
	if (!eq || eq == arg)
		die(OAI_EX_USAGE, "--param: '%s' is not key=value", arg);
	if (strncmp(arg, "stream=", 7) == 0 || strncmp(arg, "stream.", 7) == 0)
		die(OAI_EX_USAGE, "--param: stream is the tool's to set "
		    "(--no-stream)");
	if (eq[-1] == '.')
		die(OAI_EX_USAGE, "--param: '%.*s' has an empty key",
		    (int)(eq - arg), arg);
	for (k = arg; k < eq; k = dot + 1) {
		if (!(dot = memchr(k, '.', (size_t)(eq - k))))
			dot = eq;
		if (dot == k)
			die(OAI_EX_USAGE, "--param: '%.*s' has an empty key",
			    (int)(eq - arg), arg);
		n = child(n, k, (size_t)(dot - k));
		if (dot == eq) {
			pclear(n);	/* a later a replaces an earlier a.b */
			n->value = pvalue(eq + 1);
		} else if (n->value) {
			free(n->value);	/* a later a.b turns a into an object */
			n->value = NULL;
		}
	}
}

static void
pwrite(struct jw *w, const struct pnode *n)
{
	if (n->value)
		jw_raw(w, n->value, strlen(n->value));
}

/* Object t of j (or none: t < 0) with the kids of n merged in. */
static void
merge(struct jw *w, const struct json *j, int t, struct pnode *n)
{
	struct pnode *p;
	const char *raw;
	size_t i, len;
	int k, v, m;
	char *key;

	jw_obj(w);
	for (m = 0, k = t + 1; t >= 0 && m < json_size(j, t); m++,
	    k = json_skip(j, v)) {
		v = k + 1;
		key = json_strdup(j, k);
		jw_key(w, key);
		if (!(p = find(n, key, strlen(key)))) {
			raw = json_text(j, v, &len);
			jw_raw(w, raw, len);
		} else if (p->value)
			pwrite(w, p);
		else
			merge(w, j, json_type(j, v) == JSON_OBJECT ? v : -1, p);
		if (p)
			p->used = 1;
		free(key);
	}
	for (i = 0; i < n->nkids; i++) {
		if (n->kids[i].used)
			continue;
		jw_key(w, n->kids[i].name);
		if (n->kids[i].value)
			pwrite(w, &n->kids[i]);
		else
			merge(w, NULL, -1, &n->kids[i]);
	}
	jw_obj_end(w);
}

void
params_apply(struct buf *body, const struct oai_list *params)
{
	struct pnode root = { 0 };
	struct json j = JSON_INIT;
	struct buf out = BUF_INIT;
	struct jw w;
	int i;

	if (!params || params->n == 0)
		return;
	for (i = 0; i < params->n; i++)
		padd(&root, params->v[i]);
	if (json_parse(&j, body->s, body->len) < 0 ||
	    json_type(&j, 0) != JSON_OBJECT)
		die(OAI_EX_FAILURE, "--param: the request body is not an "
		    "object");
	jw_init(&w, &out);
	merge(&w, &j, 0, &root);
	json_free(&j);
	pclear(&root);
	buf_free(body);
	*body = out;
}

/* ---- --logit-bias ------------------------------------------------------ */

static void
addbias(struct logit_bias *lb, const char *token, const char *bias)
{
	long long t = xstrtonum("--logit-bias", token, 0, INT_MAX);
	long long b = xstrtonum("--logit-bias", bias, -100, 100);
	size_t i;

	for (i = 0; i < lb->n && lb->v[i].token != t; i++)
		;
	if (i == lb->n)
		lb->v = xreallocarray(lb->v, ++lb->n, sizeof *lb->v);
	lb->v[i].token = t;
	lb->v[i].bias = b;
}

struct logit_bias oai_logit_bias;

void
logit_bias_opt(struct oai *o, const char *arg)
{
	(void)o;
	logit_bias_add(&oai_logit_bias, arg);
}

const char *
output_arg(const char *arg)
{
	if (!*arg)
		die(OAI_EX_USAGE, "--output: empty file name");
	return strcmp(arg, "-") ? arg : NULL;
}

void
logit_bias_add(struct logit_bias *lb, const char *arg)
{
	struct json j = JSON_INIT;
	struct buf k = BUF_INIT, v = BUF_INIT;
	const char *eq, *raw;
	size_t len;
	int i, t;

	if (*arg != '{') {
		if (!(eq = strchr(arg, '=')))
			die(OAI_EX_USAGE, "--logit-bias: '%s' is not token=bias "
			    "or a JSON object", arg);
		buf_add(&k, arg, (size_t)(eq - arg));
		addbias(lb, k.s, eq + 1);
		buf_free(&k);
		return;
	}
	if (json_parse(&j, arg, strlen(arg)) < 0 ||
	    json_type(&j, 0) != JSON_OBJECT)
		die(OAI_EX_USAGE, "--logit-bias: not a JSON object");
	for (i = 0, t = 1; i < json_size(&j, 0); i++, t = json_skip(&j, t)) {
		buf_reset(&k);
		buf_reset(&v);
		json_str(&j, t, &k);
		t++;
		raw = json_text(&j, t, &len);	/* "1" is not a number */
		buf_add(&v, raw, len);
		addbias(lb, k.s, v.s);
	}
	json_free(&j);
	buf_free(&k);
	buf_free(&v);
}

void
logit_bias_write(struct jw *w, const struct logit_bias *lb)
{
	char tok[32];
	size_t i;

	if (!lb->n)
		return;
	jw_key(w, "logit_bias");
	jw_obj(w);
	for (i = 0; i < lb->n; i++) {
		snprintf(tok, sizeof tok, "%lld", lb->v[i].token);
		jw_key(w, tok);
		jw_int(w, lb->v[i].bias);
	}
	jw_obj_end(w);
}
