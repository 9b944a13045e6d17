/* See LICENSE file for copyright and license details. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>

#include "oai.h"
#include "httpint.h"

static int metafd(const char *what, const char *arg);

volatile int oai_interrupted;
static int curlready;		/* curl_global_init() done */
static struct oai *current;	/* for the atexit wipe */

static void
onsignal(int sig)
{
	oai_interrupted = sig;
}

int
oai_intr_status(void)
{
	return oai_interrupted == SIGTERM ? OAI_EX_TERM : OAI_EX_INTR;
}

static void
atexit_cleanup(void)
{
	if (current)
		oai_cleanup(current);
	if (curlready)
		curl_global_cleanup();
}

/*
 * libcurl's global set-up (TLS libraries) costs more than the rest of a
 * tool's start: done only when a request is coming, so --help, --version
 * and --dry-run start instantly.
 */
void
oai_curl_init(void)
{
	if (curlready)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(OAI_EX_FAILURE, "cannot initialise libcurl");
	curlready = 1;
}

/* libcurl and our writes assume 0-2 are open: a closed stdout must not
 * become the socket we send the key over. */
static void
openfds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			if (open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
				_exit(OAI_EX_FAILURE);
			if (fd == 1)
				out_closed_at_start();
		}
}

/*
 * Once a key is in memory no core dump may hold it (a Ctrl-\\ with core
 * dumps enabled would write it to a file): the process is made
 * non-dumpable, which on Linux also keeps other processes of the user
 * from reading its memory and environment through /proc or ptrace.
 */
static void
nodump(void)
{
	struct rlimit rl = { 0, 0 };

#ifdef __linux__
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	setrlimit(RLIMIT_CORE, &rl);
}

/* o->key changes only here: the messages redact it, no dump holds it. */
static void
setkey(struct oai *o, char *key)
{
	if (o->key) {
		wipe(o->key, strlen(o->key));
		free(o->key);
	}
	o->key = key;
	oai_redact_key(key);
	if (key)
		nodump();
}

static char *
trimurl(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	return xstrndup(s, n);
}

void
oai_init(struct oai *o, int argc, char *argv[])
{
	struct sigaction sa;
	const char *s;

	if (argc > 0 && argv[0] && *argv[0]) {
		argv0 = strrchr(argv[0], '/');
		argv0 = argv0 ? argv0 + 1 : argv[0];
		/* getopt's messages use argv[0]: the same prefix as ours. */
		argv[0] = (char *)argv0;
	}
	openfds();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* No SA_RESTART: a blocked read of stdin must return on Ctrl-C. */
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* Backoff jitter: seeded once, so the retries of one request and
	 * of parallel ones do not all wait alike. */
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	memset(o, 0, sizeof *o);
	o->timeout = 600;
	o->max_time = 3600;
	o->connect_timeout = 10;
	o->retries = 2;
	s = getenv("OPENAI_BASE_URL");
	o->base_url = trimurl(s && *s ? s : OAI_DEFAULT_BASE_URL);
	if ((s = getenv("OPENAI_API_KEY")) && *s)
		setkey(o, xstrdup(s));
	if ((s = getenv("OPENAI_ORG_ID")) && *s)
		o->org = xstrdup(s);
	if ((s = getenv("OPENAI_PROJECT_ID")) && *s)
		o->project = xstrdup(s);
	o->meta_fd = -1;
	if ((s = getenv("OAI_META_FD")) && *s)
		o->meta_fd = metafd("OAI_META_FD", s);
	current = o;
	atexit(atexit_cleanup);
}

/* --meta-fd, OAI_META_FD: a descriptor open for writing. */
static int
metafd(const char *what, const char *arg)
{
	int fd = (int)xstrtonum(what, arg, 0, 1 << 20), fl;

	if ((fl = fcntl(fd, F_GETFL)) < 0)
		die(OAI_EX_USAGE, "%s: %d is not an open descriptor", what, fd);
	if ((fl & O_ACCMODE) == O_RDONLY)
		die(OAI_EX_USAGE, "%s: %d is not open for writing", what, fd);
	return fd;
}

int
oai_option(struct oai *o, int c, const char *arg)
{
	switch (c) {
	case OPT_BASE_URL:
		free(o->base_url);
		o->base_url = trimurl(arg);
		return 1;
	case OPT_API_KEY_FILE:
		o->key_file = arg;
		return 1;
	case OPT_TIMEOUT:
		o->timeout = (long)xstrtonum("--timeout", arg, 1, 86400 * 7);
		if (o->connect_timeout > o->timeout)
			o->connect_timeout = o->timeout;
		return 1;
	case OPT_MAX_TIME:
		o->max_time = (long)xstrtonum("--max-time", arg, 1, 86400 * 7);
		return 1;
	case OPT_RETRIES:
		o->retries = (int)xstrtonum("--retries", arg, 0, 100);
		return 1;
	case OPT_VERBOSE:
		o->verbose++;
		return 1;
	case OPT_META_FD:
		o->meta_fd = metafd("--meta-fd", arg);
		return 1;
	case OPT_VERSION:
		out_printf("%s (oai) %s\n", argv0, OAI_VERSION);
		out_close();
		exit(0);
	}
	return 0;
}

/* Key file, the ssh way: ours, a regular file, not a link, mode 0600. */
static char *
readkeyfile(const char *path)
{
	struct buf b = BUF_INIT;
	struct stat st;
	char *key;
	size_t i, n;
	int fd;

	/* O_NONBLOCK: a FIFO must be refused below, not wait for a writer
	 * (no effect on the reads of a regular file). */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK))
	    < 0) {
		if (errno == ELOOP)
			die(OAI_EX_AUTH, "key file %s is a symbolic link; "
			    "refusing to use it", path);
		edie(OAI_EX_AUTH, "cannot open key file %s", path);
	}
	if (fstat(fd, &st) < 0)
		edie(OAI_EX_AUTH, "cannot stat key file %s", path);
	if (!S_ISREG(st.st_mode))
		die(OAI_EX_AUTH, "key file %s is not a regular file", path);
	if (st.st_uid != geteuid())
		die(OAI_EX_AUTH, "key file %s is owned by another user "
		    "(uid %ld); refusing to use it", path, (long)st.st_uid);
	if (st.st_mode & 077)
		die(OAI_EX_AUTH, "key file %s is readable by group or others "
		    "(mode %04o); run: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
	if (buf_readfd(&b, fd) < 0)
		edie(OAI_EX_AUTH, "cannot read key file %s", path);
	close(fd);
	/* The key is the first line, without surrounding blanks. */
	for (i = 0; i < b.len && isspace((unsigned char)b.s[i]); i++)
		;
	for (n = i; n < b.len && b.s[n] != '\n' && b.s[n] != '\r'; n++)
		;
	while (n > i && isspace((unsigned char)b.s[n - 1]))
		n--;
	if (n == i) {
		wipe(b.s, b.len);
		buf_free(&b);
		die(OAI_EX_AUTH, "key file %s is empty", path);
	}
	key = xstrndup(b.s + i, n - i);
	wipe(b.s, b.cap);
	buf_free(&b);
	return key;
}

static int
isloopback(const char *host)
{
	struct in_addr a;

	/* 127.0.0.0/8 as an address: "127.0.0.1.example.com" is a name
	 * anyone can point anywhere. */
	if (inet_pton(AF_INET, host, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return strcasecmp(host, "localhost") == 0 ||
	    strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

/* v goes into a header line: no room for CR/LF tricks. */
static void
headersafe(const char *what, const char *v)
{
	for (; v && *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			die(OAI_EX_AUTH, "%s contains a control character",
			    what);
}

/*
 * Where the authority of a URL ends and a secret could hide: is there an
 * '@' in it (user:password@host)?  A byte scan of our own, before libcurl
 * parses anything, so that no message below echoes a URL holding one.
 */
static int
hasuserinfo(const char *url)
{
	const char *p = url, *q;

	for (q = p; isalnum((unsigned char)*q) || *q == '+' || *q == '-' ||
	    *q == '.'; q++)
		;
	if (q > p && *q == ':')
		p = q + 1;
	while (*p == '/' || *p == '\\')
		p++;
	for (; *p && *p != '/' && *p != '\\'; p++)
		if (*p == '@')
			return 1;
	return 0;
}

/* What messages show of a URL: up to its query or fragment (a
 * download's may hold a signature). */
static void
addurl(struct buf *why, const char *url)
{
	buf_addline(why, url, strcspn(url, "?#"));
}

/*
 * The checks of a base URL (base: 1) or of a URL a server gave (base: 0;
 * a query allowed).  See oai_check_base_url().
 */
static int
checkurl(const char *url, int base, int allow_http, struct buf *why,
    int *flags)
{
	const char *noun = base ? "base URL" : "URL";
	CURLU *u;
	char *scheme = NULL, *host = NULL, *part;
	int status = OAI_EX_USAGE, i;
	static const CURLUPart secret[] = { CURLUPART_USER,
	    CURLUPART_PASSWORD, CURLUPART_OPTIONS };

	*flags = 0;
	/* Neither is sent as part of a request path; and either may hold
	 * a token: refused without echoing the URL. */
	if (base && strchr(url, '?')) {
		buf_adds(why, "base URL must not contain a query (?...)");
		return status;
	}
	if (base && strchr(url, '#')) {
		buf_adds(why, "base URL must not contain a fragment (#...)");
		return status;
	}
	if (hasuserinfo(url))
		goto creds;
	if (!(u = curl_url()))
		die(OAI_EX_FAILURE, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		buf_printf(why, "invalid %s: ", noun);
		addurl(why, url);
		goto out;
	}
	/* libcurl may read a URL otherwise than the scan above did. */
	for (i = 0; i < 3; i++)
		if (curl_url_get(u, secret[i], &part, 0) == CURLUE_OK) {
			curl_free(part);
			curl_free(scheme);
			curl_free(host);
			curl_url_cleanup(u);
			goto creds;
		}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		buf_printf(why, "%s must be http or https: ", noun);
		addurl(why, url);
	} else if (strcmp(scheme, "http") == 0 && !isloopback(host) &&
	    !allow_http) {
		buf_adds(why, "refusing plain http to ");
		buf_addline(why, host, strlen(host));
		buf_printf(why, " (the %s would travel unencrypted); "
		    "use https or set OAI_ALLOW_HTTP=1", base ? "key and data" :
		    "data");
	} else {
		status = 0;
		/* A proxy would get the key in clear text over http, and
		 * would connect to its own loopback, not ours. */
		if (strcmp(scheme, "http") == 0 || isloopback(host))
			*flags |= OAI_URL_DIRECT;
		if (strcasecmp(host, "api.openai.com") == 0)
			*flags |= OAI_URL_OPENAI;
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return status;
creds:
	buf_printf(why, "%s must not contain a user name or password "
	    "(user:password@host)%s", noun, base ? "; use --api-key-file for "
	    "the key" : "");
	return OAI_EX_USAGE;
}

int
oai_check_base_url(const char *url, int allow_http, struct buf *why,
    int *flags)
{
	return checkurl(url, 1, allow_http, why, flags);
}

int
oai_check_url(const char *url, struct buf *why, int *flags)
{
	const char *allow = getenv("OAI_ALLOW_HTTP");

	return checkurl(url, 0, allow && strcmp(allow, "1") == 0, why, flags);
}

void
oai_setup(struct oai *o)
{
	struct buf msg = BUF_INIT;
	const char *p, *allow;
	int status, flags;

	oai_curl_init();
	/* The environment's key is dropped first: when the key file is
	 * refused, the atexit wipe finds nothing to free twice. */
	if (o->key_file) {
		setkey(o, NULL);
		setkey(o, readkeyfile(o->key_file));
	}
	headersafe("OPENAI_ORG_ID", o->org);
	headersafe("OPENAI_PROJECT_ID", o->project);
	if (o->key)
		for (p = o->key; *p; p++)
			if (*p < 0x21 || *p > 0x7e)
				die(OAI_EX_AUTH, "the API key contains a "
				    "space or control character");

	allow = getenv("OAI_ALLOW_HTTP");
	status = oai_check_base_url(o->base_url, allow &&
	    strcmp(allow, "1") == 0, &msg, &flags);
	if (!status && !o->key && (flags & OAI_URL_OPENAI)) {
		status = OAI_EX_AUTH;
		buf_adds(&msg, "no API key: set OPENAI_API_KEY or use "
		    "--api-key-file FILE");
	}
	o->direct = (flags & OAI_URL_DIRECT) != 0;
	if (status) {
		warnx("%s", msg.s);
		buf_free(&msg);
		exit(status);
	}
}

void
oai_cleanup(struct oai *o)
{
	if (o->curl) {
		curl_easy_cleanup(o->curl);
		o->curl = NULL;
	}
	setkey(o, NULL);
	free(o->base_url);
	free(o->org);
	free(o->project);
	o->base_url = o->org = o->project = NULL;
	if (current == o)
		current = NULL;
}

/* ---- the config file and roles (oai(7) CONFIGURATION) ----------------- */

#define CONFIG_MAX (1 << 20)	/* a settings file is a few lines */

/* The sections a config file may have: the programs of the suite. */
static const char *const tools[] = { "oai-batch", "oai-chat",
	"oai-complete", "oai-embed", "oai-files", "oai-image", "oai-models",
	"oai-moderate", "oai-speak", "oai-transcribe", NULL };

static int
blank(int c)
{
	return c == ' ' || c == '\t';
}

/* $XDG_CONFIG_HOME/oai/rest, or ~/.config/oai/rest; NULL without a
 * home (XDG: a relative XDG_CONFIG_HOME is ignored). */
static char *
configpath(const char *rest)
{
	struct buf b = BUF_INIT;
	const char *s;

	if ((s = getenv("XDG_CONFIG_HOME")) && *s == '/')
		buf_printf(&b, "%s/oai/%s", s, rest);
	else if ((s = getenv("HOME")) && *s)
		buf_printf(&b, "%s/.config/oai/%s", s, rest);
	else
		return NULL;
	return buf_steal(&b, NULL);
}

/* The text of a settings file into b: 0, or -1 when there is none
 * (absent: never an error).  Anything else wrong with it dies. */
static int
readsettings(struct buf *b, const char *path, const char *what)
{
	struct buf why = BUF_INIT;
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO is refused below, not waited on. */
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return -1;
		edie(OAI_EX_USAGE, "cannot open %s %s", what, path);
	}
	if (fstat(fd, &st) < 0)
		edie(OAI_EX_USAGE, "cannot stat %s %s", what, path);
	if (!S_ISREG(st.st_mode))
		die(OAI_EX_USAGE, "%s %s is not a regular file", what, path);
	if (buf_readfd_max(b, fd, CONFIG_MAX) < 0) {
		if (errno == EFBIG)
			die(OAI_EX_USAGE, "%s %s is over %d KiB", what, path,
			    CONFIG_MAX >> 10);
		edie(OAI_EX_USAGE, "cannot read %s %s", what, path);
	}
	close(fd);
	if (input_checkmsg(&why, path, b->s, b->len, 0) < 0)
		die(OAI_EX_USAGE, "%s", why.s);
	return 0;
}

/*
 * A value as written, but for a leading "~/" or "@~/" (a path in the
 * home directory, as git reads its config): ~ is $HOME there.
 */
static char *
tilde(const char *v, size_t n)
{
	struct buf b = BUF_INIT;
	const char *home = getenv("HOME");
	size_t at = n > 0 && v[0] == '@';

	if (!home || !*home || n < at + 2 || v[at] != '~' || v[at + 1] != '/')
		return xstrndup(v, n);
	buf_add(&b, v, at);
	buf_adds(&b, home);
	buf_add(&b, v + at + 1, n - at - 1);
	return buf_steal(&b, NULL);
}

static void
addsetting(struct oai_settings *s, const char *key, size_t kl,
    const char *val, size_t vl, int hasval, const char *path, int line,
    int scoped)
{
	struct oai_setting *p;
	struct buf w = BUF_INIT;

	s->v = xreallocarray(s->v, (size_t)s->n + 1, sizeof *s->v);
	p = &s->v[s->n++];
	p->key = xstrndup(key, kl);
	p->value = hasval ? tilde(val, vl) : NULL;
	buf_printf(&w, "%s:%d", path, line);
	p->where = buf_steal(&w, NULL);
	p->scoped = scoped;
}

static const char *rolepath;	/* the role file being read */

/* "[name]": the section's name, or die. */
static const char *
section(const char *l, size_t n, const char *where)
{
	static char name[64];
	size_t i;

	if (n < 2 || l[n - 1] != ']')
		die(OAI_EX_USAGE, "%s: a section header is [name]", where);
	l++;
	n -= 2;
	while (n && blank(*l))
		l++, n--;
	while (n && blank(l[n - 1]))
		n--;
	for (i = 0; tools[i]; i++)
		if (strlen(tools[i]) == n && memcmp(tools[i], l, n) == 0)
			return tools[i];
	snprintf(name, sizeof name, "%.*s", n > 40 ? 40 : (int)n, l);
	die(OAI_EX_USAGE, "%s: unknown section [%s]: sections are named after "
	    "the tools (oai-chat...)", where, name);
}

/* One "key = value" or "key" line l[0..n) (trimmed), or die. */
static void
keyline(struct oai_settings *s, const char *l, size_t n, const char *path,
    int line, int scoped, const char *where)
{
	size_t k = 0, v;

	while (k < n && ((l[k] >= 'a' && l[k] <= 'z') || (l[k] >= '0' &&
	    l[k] <= '9') || l[k] == '-'))
		k++;
	for (v = k; v < n && blank(l[v]); v++)
		;
	if (k == 0 || (v < n && l[v] != '='))
		die(OAI_EX_USAGE, "%s: expected key = value (a long option "
		    "name, '=', its value)%s", where, path == rolepath ?
		    "; the system prompt goes after an empty line or ---" :
		    ", a [section] or a # comment");
	if (v == n) {
		if (s)
			addsetting(s, l, k, NULL, 0, 0, path, line, scoped);
		return;
	}
	for (v++; v < n && blank(l[v]); v++)
		;
	if (s)
		addsetting(s, l, k, l + v, n - v, 1, path, line, scoped);
}

/*
 * The settings of text[0..len) (a file at path) for tool into s.  A
 * role (tool NULL): no sections, and the header ends at an empty line
 * or "---"; returns where the text after it starts, or -1 without one.
 */
static long
parse(struct oai_settings *s, const char *path, const char *text,
    size_t len, const char *tool)
{
	struct buf where = BUF_INIT;
	const char *l, *end, *sect = NULL;
	size_t pos = 0, n;
	int line = 0;

	while (pos < len) {
		l = text + pos;
		end = memchr(l, '\n', len - pos);
		n = end ? (size_t)(end - l) : len - pos;
		pos += n + (end != NULL);
		line++;
		buf_reset(&where);
		buf_printf(&where, "%s:%d", path, line);
		while (n && (blank(l[n - 1]) || l[n - 1] == '\r'))
			n--;
		while (n && blank(*l))
			l++, n--;
		if (!tool && (n == 0 || (n == 3 && memcmp(l, "---", 3) == 0))) {
			buf_free(&where);
			return (long)pos;
		}
		if (n == 0 || *l == '#')
			continue;
		if (*l == '[') {
			if (!tool)
				die(OAI_EX_USAGE, "%s: a role file has no "
				    "sections", where.s);
			sect = section(l, n, where.s);
			continue;
		}
		keyline(!tool || !sect || strcmp(sect, tool) == 0 ? s : NULL, l,
		    n, path, line, !tool || sect != NULL, where.s);
	}
	buf_free(&where);
	return -1;
}

void
oai_settings_free(struct oai_settings *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].value);
		free(s->v[i].where);
	}
	free(s->v);
	free(s->path);
	free(s->text);
	memset(s, 0, sizeof *s);
}

int
oai_config_read(struct oai_settings *s, const char *tool)
{
	struct buf b = BUF_INIT;
	const char *env = getenv("OAI_CONFIG");
	char *path;

	if (env && !*env)
		return 0;
	if (!(path = env ? xstrdup(env) : configpath("config")))
		return 0;
	if (readsettings(&b, path, "config file") < 0) {
		free(path);
		return 0;
	}
	s->path = path;
	parse(s, path, b.s, b.len, tool);
	buf_free(&b);
	return 1;
}

static int
byname(const void *a, const void *b)
{
	return strcmp(((const struct dirfile *)a)->name,
	    ((const struct dirfile *)b)->name);
}

/* what -r takes (oai_role_read()), on a line of its own */
static int
rolename(const char *name)
{
	return !strchr(name, '\n');
}

int
oai_role_list(void)
{
	struct dirfile *v;
	char *dir;
	long n, k;

	if (!(dir = configpath("roles")))
		die(OAI_EX_USAGE, "--list-roles: $XDG_CONFIG_HOME/oai/roles or "
		    "$HOME/.config/oai/roles: neither is set");
	if ((n = dir_files(dir, rolename, &v)) < 0)
		edie(OAI_EX_FAILURE, "%s", dir);
	if (n > 0)
		qsort(v, (size_t)n, sizeof *v, byname);
	for (k = 0; k < n; k++) {
		out_adds(v[k].name);
		out_add("\n", 1);
	}
	dirfiles_free(v, n);
	free(dir);
	return 0;
}

void
oai_role_read(struct oai_settings *s, const char *name)
{
	struct buf b = BUF_INIT;
	char *path, *rest;
	long body;
	size_t n;

	if (!*name || *name == '.' || strchr(name, '/'))
		die(OAI_EX_USAGE, "--role: '%s' is not a role name (a file "
		    "name in the roles directory)", name);
	oai_settings_free(s);
	rest = xmalloc(strlen(name) + 7);
	strcpy(rest, "roles/");
	strcat(rest, name);
	path = configpath(rest);
	free(rest);
	if (!path || readsettings(&b, path, "role file") < 0)
		die(OAI_EX_USAGE, "--role: no role '%s' (looked for %s)", name,
		    path ? path : "$XDG_CONFIG_HOME/oai/roles or "
		    "$HOME/.config/oai/roles: neither is set");
	rolepath = s->path = path;
	if ((body = parse(s, path, b.s, b.len, NULL)) < 0)
		die(OAI_EX_USAGE, "%s: no empty line or --- after the options, "
		    "before the system prompt", path);
	/* The prompt without the blank lines around it. */
	while ((size_t)body < b.len && (b.s[body] == '\n' ||
	    b.s[body] == '\r'))
		body++;
	n = b.len;
	while (n > (size_t)body && isspace((unsigned char)b.s[n - 1]))
		n--;
	s->text = n > (size_t)body ? xstrndup(b.s + body, n - (size_t)body) :
	    NULL;
	buf_free(&b);
}
