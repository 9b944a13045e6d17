/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oai.h"

/*
 * The Files API: list, upload, get, show, delete.  One mode a run; the
 * operands are files to upload or ids, each reported on its own and the
 * worst status returned, as ls and rm do.
 */

static int dflag, gflag, iflag, uflag, jsonflag;
static const char *purpose, *fname;

static const struct oai_opt opts[] = {
	OAI_FLAG('d', "delete", &dflag, "delete the files with the ids given"),
	OAI_FLAG('g', "get", &gflag,
	    "write the content of the files given to\n"
	    "standard output (binary: never to a terminal)"),
	OAI_FLAG('i', "info", &iflag, "show the files with the ids given"),
	OAI_FLAG('u', "upload", &uflag,
	    "upload the files given (- is standard input)\n"
	    "with -p; print their ids"),
	OAI_NAME('p', "purpose", "purpose", &purpose, "purpose",
	    "upload: batch, fine-tune, assistants, vision,\n"
	    "user_data or evals; list: only this purpose"),
	OAI_NAME(0, "filename", "name", &fname, "file name",
	    "file name sent for an upload of standard input"),
	OAI_FLAG(0, "json", &jsonflag, "print the API's JSON responses"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[id | file ...]",
	"List the files stored with the API (id, bytes, creation date,\n"
	"purpose, file name), or upload, get, show or delete files.",
	opts
};

/* One file of a listing, escaped for a terminal line. */
struct file {
	char *id, *purpose, *name;
	long long bytes, created;
};

static char *
escstr(const struct json *j, int t)
{
	struct buf raw = BUF_INIT, b = BUF_INIT;

	if (json_str(j, t, &raw) < 0)
		buf_adds(&b, "-");
	else
		buf_addesc(&b, raw.s, raw.len);
	buf_free(&raw);
	return buf_steal(&b, NULL);
}

static void
readfile(const struct json *j, int t, struct file *f)
{
	f->id = escstr(j, json_get(j, t, "id"));
	f->purpose = escstr(j, json_get(j, t, "purpose"));
	f->name = escstr(j, json_get(j, t, "filename"));
	if (json_int(j, json_get(j, t, "bytes"), &f->bytes) < 0)
		f->bytes = -1;
	if (json_int(j, json_get(j, t, "created_at"), &f->created) < 0)
		f->created = -1;
}

static void
freefiles(struct file *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].id);
		free(f[i].purpose);
		free(f[i].name);
	}
	free(f);
}

/* id, bytes, date, purpose, name: columns aligned over the lot. */
static void
printfiles(const struct file *f, size_t n)
{
	size_t i;
	int wid = 0, wb = 0, wp = 0, k;
	char date[32], num[32];
	struct tm tm;
	time_t t;

	for (i = 0; i < n; i++) {
		if ((k = (int)strlen(f[i].id)) > wid)
			wid = k;
		if ((k = snprintf(num, sizeof num, "%lld", f[i].bytes)) > wb)
			wb = k;
		if ((k = (int)strlen(f[i].purpose)) > wp)
			wp = k;
	}
	for (i = 0; i < n; i++) {
		t = (time_t)f[i].created;
		if (f[i].created < 0 || !gmtime_r(&t, &tm) ||
		    !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm))
			strcpy(date, "-");
		if (f[i].bytes < 0)
			strcpy(num, "-");
		else
			snprintf(num, sizeof num, "%lld", f[i].bytes);
		out_printf("%-*s  %*s  %-20s  %-*s  %s\n", wid, f[i].id, wb, num,
		    date, wp, f[i].purpose, f[i].name);
	}
}

/* ---- list ----------------------------------------------------------- */

/* One page of the listing after the id after (NULL: the first); its
 * files onto *v, and the id to go on after in next (empty: the end). */
static int
listpage(struct oai *o, const char *after, struct file **v, size_t *n,
    struct buf *next)
{
	struct oai_req rq = { .method = "GET" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct json j = JSON_INIT;
	struct buf path = BUF_INIT, q = BUF_INIT;
	int data, i, k, t, rc;

	buf_adds(&path, "/files?order=asc");
	if (purpose && oai_idpath(&q, "&purpose=", purpose, "") == 0)
		buf_adds(&path, q.s);
	if (after && oai_idpath(&q, "&after=", after, "") == 0)
		buf_adds(&path, q.s);
	rq.path = path.s;
	buf_reset(next);
	if ((rc = oai_request(o, &rq, &rs)))
		goto out;
	if (jsonflag)
		out_json(rs.body.s, rs.body.len);
	else if ((data = oai_resp_json(o, &rq, &rs.body, &j, "data",
	    JSON_ARRAY, "not a file list")) < 0)
		rc = OAI_EX_FAILURE;
	else {
		k = json_size(&j, data);
		*v = xreallocarray(*v, *n + (size_t)k + 1, sizeof **v);
		for (i = 0, t = data + 1; i < k; i++, t = json_skip(&j, t))
			readfile(&j, t, &(*v)[(*n)++]);
		if (k > 0 && json_is_true(&j, json_get(&j, 0, "has_more")))
			json_str(&j, json_get(&j, json_at(&j, data, k - 1),
			    "id"), next);
		if (next->len && after && strcmp(next->s, after) == 0)
			buf_reset(next);	/* a server going round in circles */
	}
out:
	json_free(&j);
	buf_free(&path);
	buf_free(&q);
	oai_resp_free(&rs);
	return rc;
}

static int
list(struct oai *o)
{
	struct file *v = NULL;
	struct buf after = BUF_INIT, next = BUF_INIT;
	size_t n = 0;
	int rc;

	if (purpose && oai_idpath(&next, "", purpose, "") < 0)
		return oai_badid("purpose", purpose);
	while ((rc = listpage(o, after.len ? after.s : NULL, &v, &n,
	    &next)) == 0 && next.len) {
		buf_reset(&after);
		buf_add(&after, next.s, next.len);
	}
	if (rc == 0 && !jsonflag)
		printfiles(v, n);
	freefiles(v, n);
	buf_free(&after);
	buf_free(&next);
	return rc;
}

/* ---- the ids and files given --------------------------------------- */

/* One file shown (-i): into f, or its JSON printed. */
static int
info(struct oai *o, const char *id, struct file *f)
{
	struct oai_req rq = { .method = "GET" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct json j = JSON_INIT;
	struct buf path = BUF_INIT;
	int rc;

	if (oai_idpath(&path, "/files/", id, "") < 0)
		return oai_badid("file", id);
	rq.path = path.s;
	if ((rc = oai_request(o, &rq, &rs)) == 0) {
		if (jsonflag)
			out_json(rs.body.s, rs.body.len);
		else if (oai_resp_json(o, &rq, &rs.body, &j, "", JSON_OBJECT,
		    "not a file object") < 0)
			rc = OAI_EX_FAILURE;
		else
			readfile(&j, 0, f);
	}
	json_free(&j);
	buf_free(&path);
	oai_resp_free(&rs);
	return rc;
}

/* -g: the content, refused at a terminal when it is not text. */
struct get {
	int checked;
};

static int
getsink(void *ctx, const char *p, size_t n)
{
	struct get *g = ctx;
	size_t k = utf8_complete(p, n);

	if (!g->checked++ && isatty(1) && (memchr(p, '\0', n) ||
	    utf8_invalid(p, k) != (size_t)-1))
		out_refuse_tty("binary content", NULL);
	out_add(p, n);
	return 0;
}

static int
get(struct oai *o, const char *id)
{
	struct oai_resp rs = OAI_RESP_INIT;
	struct get g = { 0 };
	int rc = oai_file_content(o, id, getsink, &g, &rs);

	out_flush();
	oai_resp_free(&rs);
	return rc;
}

static int
delete(struct oai *o, const char *id)
{
	struct oai_resp rs = OAI_RESP_INIT;
	int rc = oai_file_delete(o, id, &rs);

	if (rc == 0 && jsonflag)
		out_json(rs.body.s, rs.body.len);
	oai_resp_free(&rs);
	return rc;
}

/* The name an upload goes by: the file's own, or --filename. */
static const char *
upname(const char *path)
{
	const char *base = strrchr(path, '/');

	if (fname)
		return fname;
	return base && base[1] ? base + 1 : path;
}

static int
upload(struct oai *o, const char *path)
{
	struct oai_resp rs = OAI_RESP_INIT;
	struct buf id = BUF_INIT;
	int rc = oai_file_upload(o, path, upname(path), purpose, &rs, &id);

	if (rc == 0 && jsonflag)
		out_json(rs.body.s, rs.body.len);
	else if (rc == 0) {
		buf_reset(&rs.body);
		buf_addesc(&rs.body, id.s, id.len);
		out_printf("%s\n", rs.body.s);
	}
	out_flush();
	buf_free(&id);
	oai_resp_free(&rs);
	return rc;
}

/* Refuse what cannot be uploaded before anything is. */
static void
checkuploads(char **paths, int n)
{
	struct stat st;
	int i, stdin_ = 0;

	if (!purpose)
		die(OAI_EX_USAGE, "-u needs -p purpose");
	for (i = 0; i < n; i++) {
		if (strcmp(paths[i], "-") == 0) {
			if (stdin_++ || !fname)
				die(OAI_EX_USAGE, "standard input can be "
				    "uploaded once, named with --filename");
			continue;
		}
		if (stat(paths[i], &st) < 0 || access(paths[i], R_OK) < 0)
			edie(OAI_EX_USAGE, "%s", paths[i]);
		if (S_ISDIR(st.st_mode))
			die(OAI_EX_USAGE, "%s: is a directory", paths[i]);
	}
	if (fname && !stdin_)
		die(OAI_EX_USAGE, "--filename names standard input (-)");
}

/* Each operand in turn; -i prints at the end so columns line up. */
static int
each(struct oai *o, char **args, int n)
{
	struct file *f = xcalloc((size_t)n + 1, sizeof *f);
	size_t nf = 0;
	int i, rc, worst = 0;

	for (i = 0; i < n; i++) {
		if (iflag)
			nf += (rc = info(o, args[i], &f[nf])) == 0 && !jsonflag;
		else
			rc = gflag ? get(o, args[i]) : dflag ?
			    delete(o, args[i]) : upload(o, args[i]);
		if (rc && (!worst || rc == OAI_EX_INTR || rc > worst))
			worst = rc;
		if (rc == OAI_EX_INTR || rc == OAI_EX_TERM)
			break;
	}
	printfiles(f, nf);
	freefiles(f, nf);
	return worst;
}

int
main(int argc, char *argv[])
{
	struct oai o;
	int i = oai_start(&o, &tool, argc, argv);

	if (dflag + gflag + iflag + uflag > 1)
		die(OAI_EX_USAGE, "-d, -g, -i and -u do not go together");
	if (dflag + gflag + iflag + uflag == 0 && argc > i)
		die(OAI_EX_USAGE, "ids need -d, -g or -i; files need -u");
	if (dflag + gflag + iflag + uflag == 1 && argc == i)
		die(OAI_EX_USAGE, "-%c needs %s", dflag ? 'd' : gflag ? 'g' :
		    iflag ? 'i' : 'u', uflag ? "files" : "ids");
	if (uflag)
		checkuploads(argv + i, argc - i);
	else if (fname)
		die(OAI_EX_USAGE, "--filename goes with -u");
	else if (purpose && argc > i)
		die(OAI_EX_USAGE, "-p goes with -u, or alone to list");
	oai_setup(&o);
	return oai_finish(&o, argc > i ? each(&o, argv + i, argc - i) :
	    list(&o));
}
