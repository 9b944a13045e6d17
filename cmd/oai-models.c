/* See LICENSE file for copyright and license details. */
#include <getopt.h>
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

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-l] [--json] [ID ...]\n%s\n", argv0,
	    OAI_COMMON_USAGE);
	exit(OAI_EX_USAGE);
}

static void
help(void)
{
	out_printf("usage: %s [-l] [--json] [ID ...]\n\n"
	    "List the models the API offers, sorted by id, or show the\n"
	    "models named.\n\n"
	    "  -l, --long                also print the creation date (UTC) "
	    "and owner\n"
	    "      --json                print the API's JSON response\n"
	    "%s", argv0, OAI_COMMON_HELP);
	out_close();
	exit(0);
}

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
	buf_addesc(&b, raw.s ? raw.s : "", raw.len);
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

/*
 * An id given as an argument becomes one path segment: no "/", no "."
 * or ".." (libcurl would resolve them: /v1/models/.. is /v1/), no
 * control characters; the rest is percent-encoded.  -1 if refused.
 */
static int
idpath(struct buf *path, const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)id;
	size_t i, n = strlen(id);

	if (n == 0 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    strchr(id, '/') || utf8_invalid(id, n) != (size_t)-1)
		return -1;
	for (i = 0; i < n; i++)
		if (u[i] < 0x20 || u[i] == 0x7f ||
		    (u[i] == 0xc2 && u[i + 1] < 0xa0))
			return -1;
	buf_reset(path);
	buf_adds(path, "/models/");
	for (i = 0; i < n; i++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-._~:@", u[i]) && u[i])
			buf_addc(path, u[i]);
		else {
			buf_addc(path, '%');
			buf_addc(path, hex[u[i] >> 4]);
			buf_addc(path, hex[u[i] & 15]);
		}
	}
	return 0;
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

static void
printjson(const struct buf *body)
{
	out_add(body->s, body->len);
	if (body->len == 0 || body->s[body->len - 1] != '\n')
		out_add("\n", 1);
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
		printjson(&rs.body);
		goto out;
	}
	if (json_parse(&j, rs.body.s ? rs.body.s : "", rs.body.len) < 0 ||
	    json_type(&j, data = json_get(&j, 0, "data")) != JSON_ARRAY) {
		warnx("unexpected response from %s/models: not a model list",
		    o->base_url);
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

static int
show(struct oai *o, char **ids, int n)
{
	struct oai_resp rs = OAI_RESP_INIT;
	struct json j = JSON_INIT;
	struct buf path = BUF_INIT;
	struct model *m = xcalloc((size_t)n, sizeof *m);
	size_t nm = 0;
	int i, rc, worst = 0;

	for (i = 0; i < n; i++) {
		struct oai_req rq = { .method = "GET" };

		if (idpath(&path, ids[i]) < 0) {
			buf_reset(&path);
			buf_addesc(&path, ids[i], strlen(ids[i]));
			warnx("invalid model id: '%s'", path.s);
			worst = worst ? worst : OAI_EX_USAGE;
			continue;
		}
		rq.path = path.s;
		if ((rc = oai_request(o, &rq, &rs))) {
			/* Like ls: report, go on with the others. */
			if (!worst || rc == OAI_EX_INTR || rc > worst)
				worst = rc;
			if (rc == OAI_EX_INTR || rc == 143)
				break;
			continue;
		}
		if (jsonflag) {
			printjson(&rs.body);
			continue;
		}
		if (json_parse(&j, rs.body.s ? rs.body.s : "", rs.body.len) < 0 ||
		    json_type(&j, 0) != JSON_OBJECT) {
			buf_reset(&path);
			buf_addesc(&path, ids[i], strlen(ids[i]));
			warnx("unexpected response for model %s", path.s);
			worst = OAI_EX_FAILURE;
			continue;
		}
		/* Printed together at the end so -l columns line up. */
		readmodel(&j, 0, &m[nm++]);
	}
	printmodels(m, nm);
	freemodels(m, nm);
	json_free(&j);
	buf_free(&path);
	oai_resp_free(&rs);
	return worst;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, OPT_TOOL },
		OAI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct oai o;
	int c, rc;

	oai_init(&o, argc, argv);
	while ((c = getopt_long(argc, argv, "hlv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			help();
			break;
		case 'l':
			lflag = 1;
			break;
		case 'v':
			o.verbose++;
			break;
		case OPT_TOOL:
			jsonflag = 1;
			break;
		default:
			if (!oai_option(&o, c, optarg))
				usage();
		}
	}
	argc -= optind;
	argv += optind;
	oai_setup(&o);
	rc = argc ? show(&o, argv, argc) : list(&o);
	out_close();
	oai_cleanup(&o);
	return rc;
}
