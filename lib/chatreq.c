/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * The one builder of chat completion request bodies: oai-chat (one
 * shot, conversations, --each) and oai-batch -e chat --lines make
 * theirs here, from the options both take (OAI_CHAT_* table entries,
 * into oai_chatreq), so a line's body is the same bytes whichever tool
 * sends it.
 */

struct chatreq oai_chatreq = { .n = 1, .effort = -1, .verbosity = -1,
	.tier = -1 };

const char *const chat_efforts[] = { "none", "minimal", "low", "medium",
	"high", "xhigh", "max", NULL };
const char *const chat_verbosities[] = { "low", "medium", "high", NULL };
const char *const chat_tiers[] = { "auto", "default", "flex", "scale",
	"priority", "fast", NULL };

/* The long names of the OAI_CHAT_* options, for chatreq_given(). */
static const char *const names[] = { "temperature", "frequency-penalty",
	"json-object", "logit-bias", "logprobs", "max-tokens", "metadata",
	"param", "prediction", "presence-penalty", "reasoning-effort",
	"schema", "seed", "service-tier", "stop", "store", "top-p",
	"verbosity", NULL };

const char *
chatreq_given(void)
{
	int i;

	for (i = 0; names[i]; i++)
		if (oai_given(names[i]))
			return names[i];
	return NULL;
}

/* --schema: the file's JSON object, compacted, and a name for it. */
static void
readschema(struct chatreq *r, const char *path)
{
	struct buf b = BUF_INIT, c = BUF_INIT;
	struct json j = JSON_INIT;
	const char *base;
	char *p, *name;

	input_read(&b, path);
	if (json_parse(&j, b.s, b.len) < 0 ||
	    json_type(&j, 0) != JSON_OBJECT)
		die(OAI_EX_USAGE, "%s: not a JSON schema object", path);
	json_free(&j);
	json_compact(&c, b.s, b.len);
	r->schema_json = buf_steal(&c, NULL);
	buf_free(&b);
	/* The API wants a name matching ^[a-zA-Z0-9_-]{1,64}$. */
	base = strrchr(path, '/');
	name = xstrdup(base ? base + 1 : path);
	if ((p = strchr(name, '.')) && p != name)
		*p = '\0';
	for (p = name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-", *p))
			*p = '_';
	if (strlen(name) > 64)
		name[64] = '\0';
	if (!*name || strcmp(path, "-") == 0) {
		free(name);
		name = xstrdup("schema");
	}
	r->schema_name = name;
}

/* --metadata: at most 16 key=value, keys up to 64 characters, values
 * up to 512 (the API's limits). */
static void
checkmetadata(const struct oai_list *l)
{
	const char *v, *eq;
	int i;

	if (l->n > 16)
		die(OAI_EX_USAGE, "--metadata: at most 16 pairs");
	for (i = 0; i < l->n; i++) {
		v = l->v[i];
		input_check("--metadata", v, strlen(v), 0);
		if (!(eq = strchr(v, '=')) || eq == v)
			die(OAI_EX_USAGE, "--metadata: '%s' is not key=value", v);
		if (utf8_nchars(v, (size_t)(eq - v)) > 64 ||
		    utf8_nchars(eq + 1, strlen(eq + 1)) > 512)
			die(OAI_EX_USAGE, "--metadata: '%.*s': keys are at most "
			    "64 characters, values 512", (int)(eq - v), v);
	}
}

void
chatreq_check(struct chatreq *r)
{
	struct buf b = BUF_INIT;

	if (r->jsonobj && r->schema)
		die(OAI_EX_USAGE, "--json-object and --schema exclude each "
		    "other");
	checkmetadata(&r->metadata);
	if (r->prediction) {
		input_read(&b, r->prediction);
		input_check(input_name(r->prediction), b.s, b.len, 0);
		r->predtext = buf_steal(&b, NULL);
	}
	if (r->schema)
		readschema(r, r->schema);
}

/* --json-object or --schema. */
static void
body_format(struct jw *w, const struct chatreq *r)
{
	if (!r->jsonobj && !r->schema_json)
		return;
	jw_key(w, "response_format");
	jw_obj(w);
	jw_key(w, "type");
	if (r->schema_json) {
		jw_str(w, "json_schema");
		jw_key(w, "json_schema");
		jw_obj(w);
		jw_key(w, "name");
		jw_str(w, r->schema_name);
		jw_key(w, "schema");
		jw_raw(w, r->schema_json, strlen(r->schema_json));
		jw_key(w, "strict");
		jw_bool(w, 1);
		jw_obj_end(w);
	} else
		jw_str(w, "json_object");
	jw_obj_end(w);
}

/* Options that name a field and a value: --reasoning-effort... */
static void
body_params(struct jw *w, const struct chatreq *r)
{
	const char *const *v[] = { chat_efforts, chat_verbosities, chat_tiers };
	const char *k[] = { "reasoning_effort", "verbosity", "service_tier" };
	int i, c[] = { r->effort, r->verbosity, r->tier };

	for (i = 0; i < 3; i++) {
		if (c[i] < 0)
			continue;
		jw_key(w, k[i]);
		jw_str(w, v[i][c[i]]);
	}
	if (r->has_n) {
		jw_key(w, "n");
		jw_int(w, r->n);
	}
	if (r->has_logprobs) {
		jw_key(w, "logprobs");
		jw_bool(w, 1);
		jw_key(w, "top_logprobs");
		jw_int(w, r->logprobs);
	}
	logit_bias_write(w, &oai_logit_bias);
	if (r->store) {
		jw_key(w, "store");
		jw_bool(w, 1);
	}
}

/* The key of --metadata's key=value arg, and a later one's (which
 * wins). */
static int
metakey(const char *arg, const char *later)
{
	size_t k = strcspn(arg, "=");

	return strncmp(arg, later, k) == 0 && later[k] == '=';
}

/* --metadata, --prediction: objects. */
static void
body_objects(struct jw *w, const struct chatreq *r)
{
	const struct oai_list *l = &r->metadata;
	const char *v;
	char *key;
	int i, k;

	for (i = 0; i < l->n; i++) {
		if (i == 0) {
			jw_key(w, "metadata");
			jw_obj(w);
		}
		v = l->v[i];
		for (k = i + 1; k < l->n && !metakey(v, l->v[k]); k++)
			;
		if (k < l->n)
			continue;
		key = xstrndup(v, strcspn(v, "="));
		jw_key(w, key);
		jw_str(w, v + strlen(key) + 1);
		free(key);
		if (i == l->n - 1)
			jw_obj_end(w);
	}
	if (r->predtext) {
		jw_key(w, "prediction");
		jw_obj(w);
		jw_key(w, "type");
		jw_str(w, "content");
		jw_key(w, "content");
		jw_str(w, r->predtext);
		jw_obj_end(w);
	}
}

void
chat_body(struct buf *b, const struct chatbody *c, const struct msgs *m)
{
	const struct chatreq *r = &oai_chatreq;
	struct buf sys = BUF_INIT;
	struct jw w;
	size_t i;

	buf_reset(b);
	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "model");
	jw_str(&w, c->model);
	jw_key(&w, "messages");
	jw_arr(&w);
	if (c->system) {
		msg_text(&sys, "system", c->system, strlen(c->system));
		jw_raw(&w, sys.s, sys.len);
	}
	for (i = 0; i < m->n; i++)
		jw_raw(&w, m->v[i], strlen(m->v[i]));
	jw_arr_end(&w);
	if (c->stream)
		stream_write(&w, c->streamusage);
	sampling_write(&w, &r->s, "max_completion_tokens");
	body_format(&w, r);
	body_params(&w, r);
	body_objects(&w, r);
	if (c->tools && c->tools->len) {
		jw_key(&w, "tools");
		jw_raw(&w, c->tools->s, c->tools->len);
	}
	jw_obj_end(&w);
	buf_free(&sys);
	params_apply(b, &r->params);
}

void
chat_linebody(struct buf *b, const char *model, const char *system,
    const char *instr, size_t il, const char *line, size_t n)
{
	struct buf text = BUF_INIT, um = BUF_INIT;
	struct msgs m = MSGS_INIT;

	buf_add(&text, instr, il);
	prompt_addpart(&text, line, n);
	msg_text(&um, "user", text.s, text.len);
	msgs_add(&m, um.s, um.len);
	chat_body(b, &(struct chatbody){ .model = model, .system = system },
	    &m);
	msgs_free(&m);
	buf_free(&text);
	buf_free(&um);
}
