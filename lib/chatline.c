/* See LICENSE file for copyright and license details. */
#include <string.h>

#include "oai.h"

/*
 * The lines of oai-chat --each (oai(7), LINE FORMATS), for every tool
 * that prints them (oai-chat --each, oai-batch -e chat --lines), so that
 * their outputs are the same bytes.
 */

int
chat_reply(struct json *j, const char *body, size_t n, struct buf *reply)
{
	int ch;

	if (json_parse(j, body, n) < 0 ||
	    json_type(j, ch = json_path(j, 0, "choices.0")) != JSON_OBJECT)
		return -1;
	json_str(j, json_path(j, ch, "message.content"), reply);
	return ch;
}

/* {"index", "reply", "finish_reason", "usage"}, or {"index", "error":
 * {"status", "message"}}, or {"index", "reply": null}. */
static void
jsonline(const struct chatline *l, const char *key)
{
	struct buf b = BUF_INIT, msg = BUF_INIT;
	const char *u;
	size_t ul;

	buf_printf(&b, "{\"index\":%lld,", l->index);
	if (l->error) {
		buf_addredacted(&msg, l->error->s, l->error->len, key);
		buf_printf(&b, "\"error\":{\"status\":%ld,\"message\":",
		    l->status);
		json_quote(&b, msg.s, msg.len);
		buf_addc(&b, '}');
	} else if (l->skip)
		buf_adds(&b, "\"reply\":null");
	else {
		buf_adds(&b, "\"reply\":");
		json_quote(&b, l->reply->s, l->reply->len);
		buf_adds(&b, ",\"finish_reason\":");
		u = json_text(l->j, json_get(l->j, l->ch, "finish_reason"), &ul);
		buf_add(&b, u ? u : "null", u ? ul : 4);
		if ((u = json_text(l->j, json_get(l->j, 0, "usage"), &ul))) {
			buf_adds(&b, ",\"usage\":");
			json_compact(&b, u, ul);
		}
	}
	buf_adds(&b, "}\n");
	out_add(b.s, b.len);
	buf_free(&b);
	buf_free(&msg);
}

void
chat_eachline(int jsonl, const struct chatline *l, const char *key)
{
	if (jsonl)
		jsonline(l, key);
	else if (l->error || l->skip)
		out_add("\n", 1);
	else
		out_escline(l->reply->s, l->reply->len);
}
