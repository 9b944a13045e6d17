/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oai.h"

/* One model of a listing; id and owner escaped for a terminal line. */
struct model {
	char *id;
	long long created;
	char *owner;
};

static int lflag, jsonflag;

static const struct oai_opt opts[] = {
	OAI_FLAG('l', "long", &lflag,
	    "also print the creation date (UTC) and owner"),
	OAI_FLAG(0, "json", &jsonflag, "print the API's JSON response"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[id ...]",
	"List the models the API offers, sorted by id, or show the\n"
	"models named.",
	opts
};

static int
byid(const void *a, const void *b)
{
	return strcmp(((const struct model *)a)->id,
	    ((const struct model *)b)->id);
}

/* The string t, escaped (a server's id may hold a NUL, a newline or a
 * terminal escape), or NULL if t is not a string. */
static char *
escstr(const struct json *j, int t)
{
	struct buf raw = BUF_INIT, b = BUF_INIT;

	if (json_str(j, t, &raw) < 0)
		return NULL;
	buf_addesc(&b, raw.s, raw.len);
	buf_free(&raw);
	return buf_steal(&b, NULL);
}

static void
readmodel(const struct json *j, int t, struct model *m)
{
	long long v;

	m->id = escstr(j, json_get(j, t, "id"));
	m->owner = escstr(j, json_get(j, t, "owned_by"));
	m->created = json_int(j, json_get(j, t, "created"), &v) == 0 ? v : -1;
	if (!m->id)
		die(OAI_EX_FAILURE, "unexpected response: a model without id");
}

static void
printmodels(struct model *m, size_t n)
{
	size_t i, w = 0;
	char date[32];
	struct tm tm;
	time_t t;

	for (i = 0; i < n; i++)
		if (strlen(m[i].id) > w)
			w = strlen(m[i].id);
	for (i = 0; i < n; i++) {
		if (!lflag) {
			out_printf("%s\n", m[i].id);
			continue;
		}
		t = (time_t)m[i].created;
		if (m[i].created < 0 || !gmtime_r(&t, &tm) ||
		    !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm))
			strcpy(date, "-");
		out_printf("%-*s  %-20s  %s\n", (int)w, m[i].id, date,
		    m[i].owner ? m[i].owner : "-");
	}
}

static void
freemodels(struct model *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].id);
		free(m[i].owner);
	}
	free(m);
}

static int
list(struct oai *o)
{
	struct oai_req rq = { .method = "GET", .path = "/models" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct json j = JSON_INIT;
	struct model *m;
	int data, i, n, t, rc;

	if ((rc = oai_request(o, &rq, &rs)))
		goto out;
	if (jsonflag) {
		out_json(rs.body.s, rs.body.len);
		goto out;
	}
	if ((data = oai_resp_json(o, &rq, &rs.body, &j, "data", JSON_ARRAY,
	    "not a model list")) < 0) {
		rc = OAI_EX_FAILURE;
		goto out;
	}
	n = json_size(&j, data);
	m = xcalloc((size_t)n + 1, sizeof *m);
	for (i = 0, t = data + 1; i < n; i++, t = json_skip(&j, t))
		readmodel(&j, t, &m[i]);
	qsort(m, (size_t)n, sizeof *m, byid);
	printmodels(m, (size_t)n);
	freemodels(m, (size_t)n);
out:
	json_free(&j);
	oai_resp_free(&rs);
	return rc;
}

/* One model into m; 0 or an exit status (already reported). */
static int
showone(struct oai *o, const char *id, struct json *j, struct model *m)
{
	struct oai_resp rs = OAI_RESP_INIT;
	struct buf path = BUF_INIT;
	struct oai_req rq = { .method = "GET" };
	int rc;

	if (oai_idpath(&path, "/models/", id, "") < 0)
		return oai_badid("model", id);
	rq.path = path.s;
	if ((rc = oai_request(o, &rq, &rs)) == 0) {
		if (jsonflag)
			out_json(rs.body.s, rs.body.len);
		else if (oai_resp_json(o, &rq, &rs.body, j, "", JSON_OBJECT,
		    "not a model") < 0)
			rc = OAI_EX_FAILURE;
		else
			readmodel(j, 0, m);
	}
	buf_free(&path);
	oai_resp_free(&rs);
	return rc;
}

/* Like ls: report each failure, go on with the others, exit with the
 * worst; printed together at the end so -l columns line up. */
static int
show(struct oai *o, char **ids, int n)
{
	struct json j = JSON_INIT;
	struct model *m = xcalloc((size_t)n, sizeof *m);
	size_t nm = 0;
	int i, rc, worst = 0;

	for (i = 0; i < n; i++) {
		if ((rc = showone(o, ids[i], &j, &m[nm])) == 0) {
			nm += m[nm].id != NULL;
			continue;
		}
		if (!worst || rc == OAI_EX_INTR || rc > worst)
			worst = rc;
		if (rc == OAI_EX_INTR || rc == OAI_EX_TERM)
			break;
	}
	printmodels(m, nm);
	freemodels(m, nm);
	json_free(&j);
	return worst;
}

int
main(int argc, char *argv[])
{
	struct oai o;
	int i = oai_start(&o, &tool, argc, argv);

	oai_setup(&o);
	return oai_finish(&o, argc > i ? show(&o, argv + i, argc - i) :
	    list(&o));
}
