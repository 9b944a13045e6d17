/* See LICENSE file for copyright and license details. */
#ifndef OAI_H
#define OAI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * liboai: everything two tools of the suite share.  One header, one
 * static library.  Conventions: functions named x* die on failure;
 * functions returning int return 0 on success; "exit status" values are
 * the OAI_EX_* contract documented in oai(7).
 */

#define OAI_VERSION "0.1.0"
#define OAI_DEFAULT_BASE_URL "https://api.openai.com/v1"

/* Exit statuses, the same for every tool (oai(7)). */
enum {
	OAI_EX_OK = 0,
	OAI_EX_NEGATIVE = 1,	/* a tool's negative answer (flagged, refusal) */
	OAI_EX_USAGE = 2,	/* usage error or bad input */
	OAI_EX_AUTH = 3,	/* authentication or configuration */
	OAI_EX_REJECTED = 4,	/* request rejected: other 4xx */
	OAI_EX_FAILURE = 5,	/* server, network or output failure */
	OAI_EX_INTR = 130	/* interrupted (SIGINT); SIGTERM gives 143 */
};

/* ---- util.c: messages, allocation ---------------------------------- */

extern const char *argv0;	/* program name, set by oai_init() */

/* "argv0: message\n" on stderr; die() then exits with status. */
void die(int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* die() with ": strerror(errno)" appended. */
void edie(int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Overwrite n bytes in a way the compiler may not elide (secrets). */
void wipe(void *p, size_t n);

/*
 * Every message of warnx()/die()/edie() is redacted: the key set here
 * (when at least 8 bytes; NULL: none) and any token shaped like an
 * OpenAI key ("sk-" and 8 or more of [A-Za-z0-9_-], not inside a word)
 * are replaced, so that a server echoing the Authorization header cannot
 * make a tool print it.  key must stay valid until replaced.
 */
struct buf;
void oai_redact_key(const char *key);
/* Append s[0..n) to b with key (NULL: none) and sk- tokens redacted:
 * the key becomes "[redacted]", a token "sk-[redacted]". */
void buf_addredacted(struct buf *b, const char *s, size_t n,
    const char *key);

/*
 * Strict number parsing, OpenBSD strtonum style: the whole string must be
 * a number in [min, max].  On failure die(OAI_EX_USAGE) with a message
 * naming the option, e.g. "oai-chat: --temperature: 3 is out of range
 * (0 to 2)".
 */
long long xstrtonum(const char *opt, const char *s, long long min, long long max);
double xstrtod(const char *opt, const char *s, double min, double max);
/* Index of arg in the NULL-terminated choices, or die(OAI_EX_USAGE) with
 * "opt: 'arg' is not one of a, b, c". */
int xchoice(const char *opt, const char *arg, const char *const choices[]);

/*
 * Limits on what a server can make a tool hold (oai(7) SECURITY): a
 * buffered response body (2048 embeddings of 3072 dimensions as JSON
 * numbers take about 150 MiB), an error body, one line or the data of
 * one event of a stream.  Past one, the transfer stops with one line
 * and OAI_EX_FAILURE.
 */
#define OAI_BODY_MAX	((size_t)256 << 20)
#define OAI_ERRBODY_MAX	((size_t)1 << 20)
#define OAI_SSE_MAX	((size_t)64 << 20)
/* The limit n as it applies: the test suite divides every limit by
 * $OAI_TEST_LIMIT_DIV, to test them without sending hundreds of MiB. */
size_t oai_limit(size_t n);
/* "256 MiB", "1 KiB", "100 bytes": n for a message. */
const char *oai_size(char *s, size_t sz, size_t n);

/* ---- buf.c: growable byte buffer ----------------------------------- */

/*
 * s is always NUL-terminated (after len bytes) once anything was added,
 * so it can be passed to string functions; it may contain NUL bytes.
 * The buffer owns s; buf_free() releases it.  s may move on every add.
 */
struct buf {
	char *s;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_grow(struct buf *b, size_t extra);	/* ensure room for extra+1 */
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, int c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append text that may hold line breaks or escape sequences (an error
 * body, a model's words) as one line: control characters become spaces,
 * trailing blanks and line ends go. */
void buf_addline(struct buf *b, const char *s, size_t n);
void buf_reset(struct buf *b);			/* len = 0, keeps memory */
void buf_free(struct buf *b);
/* Take ownership of the bytes (NUL-terminated, never NULL); b is reset. */
char *buf_steal(struct buf *b, size_t *len);

/* Read the whole of fd / a file ("-" is stdin) into b.  Return 0 or -1
 * with errno set. */
int buf_readfd(struct buf *b, int fd);
int buf_readfile(struct buf *b, const char *path);

/* ---- out.c: standard output ---------------------------------------- */

/*
 * Every byte a tool writes to stdout goes through here.  Writes loop on
 * partial writes and retry EINTR.  A closed pipe (EPIPE) ends the process
 * quietly with status 0; any other write error dies with a message and
 * OAI_EX_FAILURE.  out_add() buffers (flushing itself past 64 KiB);
 * out_flush() writes what is buffered: call it after each streamed event.
 * out_close() flushes, closes stdout and checks for errors: call it last.
 * oai_output_started() tells whether any byte has reached stdout, after
 * which requests are no longer retried.
 */
void out_add(const void *p, size_t n);
void out_adds(const char *s);
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_flush(void);
void out_close(void);
/* Standard output was closed at start (it now points at /dev/null so no
 * socket can take fd 1): the first write fails as a write to a closed
 * descriptor would. */
void out_closed_at_start(void);
int oai_output_started(void);
/* Die with a hint when stdout is a terminal: binary output never goes
 * there.  alt, if not NULL, is another way out ("use -o FILE"). */
void out_refuse_tty(const char *what, const char *alt);

/* ---- utf8.c --------------------------------------------------------- */

/* Return the offset of the first byte that is not part of valid UTF-8
 * (overlongs, surrogates and > U+10FFFF are invalid), or (size_t)-1. */
size_t utf8_invalid(const char *s, size_t n);
/* Length of the longest prefix of s[0..n) that does not end inside a
 * multi-byte sequence (for holding back a split character). */
size_t utf8_complete(const char *s, size_t n);

/* ---- base64.c ------------------------------------------------------- */

/* Append the standard (RFC 4648, padded) base64 form of src[0..n) to b. */
void base64_encode(struct buf *b, const void *src, size_t n);

/* ---- f32.c ---------------------------------------------------------- */

/*
 * The shortest decimal ("%.*g", smallest precision) that strtof reads
 * back as f, into s (at least F32_BUFSIZE bytes); "null" for NaN and
 * infinities (not JSON numbers).  Returns its length.
 */
#define F32_BUFSIZE 32
size_t f32_shortest(char *s, float f);

/* ---- json.c: reading (jsmn) ---------------------------------------- */

enum json_type {
	JSON_NONE = 0, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_PRIMITIVE
};

/*
 * A parsed document.  Tokens are offsets into src, which must stay valid
 * and unmoved while the json lives.  Token 0 is the root.  jsmn is
 * included only by json.c, so tokens are opaque here.
 */
struct json {
	const char *src;
	size_t len;
	void *tok;	/* jsmntok_t[] */
	int ntok;
	int cap;
};

#define JSON_INIT { NULL, 0, NULL, 0, 0 }
#define JSON_MAX_DEPTH 512

/*
 * Parse exactly one JSON value (RFC 8259, strictly: no trailing garbage,
 * no NUL bytes, no leading zeros, no bare words other than true, false,
 * null, no trailing commas, strings must be valid UTF-8 with valid
 * escapes, nesting at most JSON_MAX_DEPTH).  Surrounding whitespace is
 * allowed.  Return 0, or -1 when the text is not valid JSON.  May be
 * called again on the same struct to parse another text (reuses memory).
 */
int json_parse(struct json *j, const char *src, size_t len);
void json_free(struct json *j);

enum json_type json_type(const struct json *j, int t);
/* Number of members (object) or elements (array); 0 otherwise. */
int json_size(const struct json *j, int t);
/* Index of the token following the whole subtree of t. */
int json_skip(const struct json *j, int t);
/* Value token of member key in object t, or -1 (also when t < 0). */
int json_get(const struct json *j, int t, const char *key);
/* Token of element i of array t, or -1. */
int json_at(const struct json *j, int t, int i);
/*
 * Follow a dotted path from t: "error.message", "choices.0.delta.content".
 * Numeric components index arrays.  -1 when any step is missing.
 */
int json_path(const struct json *j, int t, const char *path);
/* Raw text of token t (for strings: without the quotes, still escaped). */
const char *json_raw(const struct json *j, int t, size_t *len);
/* Raw text of the whole value, with quotes for strings. */
const char *json_text(const struct json *j, int t, size_t *len);
int json_is_null(const struct json *j, int t);	/* t < 0 counts as null */
/* 1 when t is the literal true. */
int json_is_true(const struct json *j, int t);
/* Is t a string equal (after unescaping) to s? */
int json_streq(const struct json *j, int t, const char *s);
/* Append the unescaped UTF-8 value of string t to b.  Returns -1 if t is
 * not a string.  \u0000 becomes a NUL byte in b. */
int json_str(const struct json *j, int t, struct buf *b);
/* Unescaped copy (malloc'd) of string t, or NULL if t is not a string. */
char *json_strdup(const struct json *j, int t);
/* Number value of a primitive; -1 if t is not a number. */
int json_num(const struct json *j, int t, double *v);
int json_int(const struct json *j, int t, long long *v);

/* ---- json.c: writing ----------------------------------------------- */

/*
 * The one writer that builds every request body.  Commas and nesting are
 * tracked, every string is escaped here.  Text that is not valid UTF-8
 * dies with OAI_EX_USAGE naming the byte offset ("input is not valid
 * UTF-8 at byte offset N"); check with utf8_invalid() first to name the
 * source better.  Output is compact JSON (no spaces).
 */
struct jw {
	struct buf *b;
	int depth;
	unsigned char first[JSON_MAX_DEPTH];	/* no member written yet */
	int after_key;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj(struct jw *w);		/* { */
void jw_obj_end(struct jw *w);		/* } */
void jw_arr(struct jw *w);		/* [ */
void jw_arr_end(struct jw *w);		/* ] */
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
void jw_num(struct jw *w, double v);	/* shortest round-trip form */
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Insert an already valid JSON value verbatim (e.g. a parsed schema). */
void jw_raw(struct jw *w, const char *json, size_t n);
/* Append the escaped form of s (with quotes) to b: for one-off use. */
void json_quote(struct buf *b, const char *s, size_t n);

/* ---- sse.c: server-sent events (WHATWG) ---------------------------- */

struct sse_event {
	const char *event;	/* "message" unless an event: field set it */
	const char *data;	/* NUL-terminated; datalen excludes the NUL */
	size_t datalen;
	const char *id;		/* last event id in force */
};

/* Return 0 to go on; anything else stops the parser, and sse_feed()
 * returns that value. */
typedef int (*sse_cb)(void *ctx, const struct sse_event *ev);

struct sse {
	sse_cb cb;
	void *ctx;
	struct buf line;	/* current line without terminator */
	struct buf data;
	struct buf event;
	struct buf id;		/* last event id buffer */
	struct buf pendid;	/* id set since last dispatch */
	long retry_ms;		/* -1 until a retry: field set it */
	size_t max;		/* longest line, and data of one event */
	int started;		/* BOM check done */
	int bompos;		/* bytes of a BOM seen so far */
	int lastcr;		/* last byte was CR: a following LF is ignored */
	int stopped;
};

/*
 * A server that never ends a line or an event must not fill the memory:
 * sse_init() sets max to OAI_SSE_MAX (see oai_limit()); past it,
 * sse_feed() prints one line and returns OAI_EX_FAILURE.
 */
void sse_init(struct sse *p, sse_cb cb, void *ctx);
/* Feed any chunk of the stream.  Returns 0, the callback's stop value
 * or OAI_EX_FAILURE (over max). */
int sse_feed(struct sse *p, const char *s, size_t n);
/* End of stream: an incomplete event is discarded (WHATWG). */
void sse_free(struct sse *p);

/* ---- config.c: configuration and options --------------------------- */

struct oai {
	char *base_url;		/* without trailing slash */
	char *key;		/* secret: NULL when none; wiped at exit */
	char *org;		/* OPENAI_ORG_ID */
	char *project;		/* OPENAI_PROJECT_ID */
	const char *key_file;	/* --api-key-file */
	long timeout;		/* seconds: total for requests, stall for streams */
	long max_time;		/* seconds: total for any request, streams too */
	long connect_timeout;	/* seconds */
	int retries;		/* default 2 */
	int verbose;
	int direct;		/* never through a proxy (plain http, loopback) */
	void *curl;		/* CURL *, reused across requests */
	void *share;		/* reserved */
};

/*
 * Common options, the same in every tool.  Tools put OAI_COMMON_LONGOPTS
 * at the end of their struct option array (before the zero entry) and
 * pass unknown option characters to oai_option().  Short -h is help;
 * -v is --verbose unless a tool documents it otherwise.
 */
enum {
	OPT_BASE_URL = 0x1000,
	OPT_API_KEY_FILE,
	OPT_TIMEOUT,
	OPT_MAX_TIME,
	OPT_RETRIES,
	OPT_VERBOSE,
	OPT_VERSION,
	OPT_HELP,
	OPT_TOOL = 0x2000	/* tools number their long-only options from here */
};

#define OAI_COMMON_LONGOPTS \
	{ "base-url",     required_argument, NULL, OPT_BASE_URL }, \
	{ "api-key-file", required_argument, NULL, OPT_API_KEY_FILE }, \
	{ "timeout",      required_argument, NULL, OPT_TIMEOUT }, \
	{ "max-time",     required_argument, NULL, OPT_MAX_TIME }, \
	{ "retries",      required_argument, NULL, OPT_RETRIES }, \
	{ "verbose",      no_argument,       NULL, OPT_VERBOSE }, \
	{ "version",      no_argument,       NULL, OPT_VERSION }, \
	{ "help",         no_argument,       NULL, OPT_HELP }

/* Usage text for the common options, for the tools' usage(). */
#define OAI_COMMON_USAGE \
	"       [--base-url URL] [--api-key-file FILE]\n" \
	"       [--timeout SECONDS] [--max-time SECONDS]\n" \
	"       [--retries N] [-v | --verbose] [-h | --help] [--version]"

#define OAI_COMMON_HELP \
	"Common options:\n" \
	"      --base-url URL        API base URL (default $OPENAI_BASE_URL or\n" \
	"                            " OAI_DEFAULT_BASE_URL ")\n" \
	"      --api-key-file FILE   read the API key from FILE (mode 0600)\n" \
	"      --timeout SECONDS     request timeout; for streams, the longest\n" \
	"                            silence allowed (default 600)\n" \
	"      --max-time SECONDS    the longest any request may take, streams\n" \
	"                            too (default 3600)\n" \
	"      --retries N           retries on connection errors, 408, 409,\n" \
	"                            429 and 5xx (default 2)\n" \
	"  -v, --verbose             print request details on stderr\n" \
	"  -h, --help                print this help and exit\n" \
	"      --version             print the version and exit\n"

/*
 * Process setup: set argv0, make sure fds 0-2 are open, ignore SIGPIPE,
 * install SIGINT/SIGTERM handlers, curl_global_init, read the
 * environment into o.  Never calls setlocale().
 */
void oai_init(struct oai *o, int argc, char *argv[]);
/*
 * Handle a common option.  Return 1 if c was one (OPT_HELP and
 * OPT_VERSION return 1 after setting *help / printing the version and
 * exiting), 0 if not.
 */
int oai_option(struct oai *o, int c, const char *arg);
/*
 * After option parsing: read the key file, check the configuration
 * (missing key for api.openai.com, http:// to a non-loopback host),
 * die with OAI_EX_AUTH or OAI_EX_USAGE on problems.  Call before the
 * first request, and not for --dry-run.
 */
void oai_setup(struct oai *o);
/*
 * The base URL check of oai_setup(): http or https, no user name,
 * password, query or fragment (refused without echoing the URL: they
 * may hold secrets), plain http only to a loopback host unless
 * allow_http.  Returns 0, or OAI_EX_USAGE with the reason (one line) in
 * why.  *flags gets OAI_URL_DIRECT (no proxy may carry the request:
 * plain http, or a loopback host) and OAI_URL_OPENAI (api.openai.com).
 */
enum { OAI_URL_DIRECT = 1, OAI_URL_OPENAI = 2 };
int oai_check_base_url(const char *url, int allow_http, struct buf *why,
    int *flags);
/* Release curl and wipe the key. */
void oai_cleanup(struct oai *o);
/* Set by the signal handlers: nonzero (the signal number) once
 * interrupted. */
extern volatile int oai_interrupted;
/* Exit status for an interruption: 130 for SIGINT, 143 for SIGTERM. */
int oai_intr_status(void);

/* ---- http.c: requests ---------------------------------------------- */

struct oai_part {		/* one multipart/form-data field */
	const char *name;
	const char *value;	/* text value, or NULL for a file */
	const char *path;	/* file to stream from ("-" is stdin) */
	const char *filename;	/* file name sent for the upload */
	const char *type;	/* content type of the file part, or NULL */
};

/*
 * A sink receives the 2xx response body as it arrives.  It returns 0 to
 * go on, or an exit status to stop the transfer; oai_request() then
 * returns that status.  Sinks write output through out_*.
 */
typedef int (*oai_sink)(void *ctx, const char *p, size_t n);

struct oai_req {
	const char *method;		/* "GET", "POST", "DELETE" */
	const char *path;		/* appended to base_url: "/models" */
	const char *body;		/* request body, or NULL */
	size_t bodylen;
	const char *content_type;	/* default "application/json" with body */
	const struct oai_part *parts;	/* multipart form, or NULL */
	int nparts;
	int stream;			/* long response: stall timeout */
	const char *accept;		/* Accept header, or NULL */
	oai_sink sink;			/* NULL: body buffered in resp->body */
	void *sink_ctx;
	/* Called for upload progress (bytes sent, total); may be NULL. */
	void (*progress)(void *ctx, long long sent, long long total);
	void *progress_ctx;
	/* Set by the sink once the response is whole (SSE [DONE]): a
	 * connection that drops or stays silent after that is no error. */
	const int *complete;
	/* Keep the one-line error (without the "argv0: " prefix) in
	 * resp->error instead of printing it, for a caller that adds to it. */
	int defer_error;
};

struct oai_resp {
	long status;			/* HTTP status, 0 if none */
	struct buf body;		/* non-2xx bodies, and 2xx without sink */
	char content_type[128];
	char request_id[128];
	int attempts;			/* requests made */
	struct buf error;		/* the error line, with defer_error */
};

#define OAI_RESP_INIT { 0, BUF_INIT, "", "", 0, BUF_INIT }

/*
 * Make the request, retrying as the official SDKs do (connection errors,
 * 408, 409, 429, 5xx; x-should-retry; retry-after-ms / Retry-After;
 * backoff min(0.5 * 2^n, 8) s with jitter), but never once the sink has
 * received data or anything reached stdout.  Returns 0 on 2xx.
 * Otherwise prints the one-line error ("argv0: 404 model_not_found:
 * message") and returns the exit status (3, 4, 5, 130, or the sink's).
 */
int oai_request(struct oai *o, const struct oai_req *rq, struct oai_resp *rs);
void oai_resp_free(struct oai_resp *rs);

/*
 * Format the API's error body for a status into one line (no prefix, no
 * newline): "404 model_not_found: The model 'x' does not exist".  Used by
 * oai_request() and for error events inside streams.
 */
void oai_error_line(struct buf *out, long status, const char *body, size_t len);
/* Exit status for an HTTP status: 401/403 -> 3, 4xx -> 4, else 5. */
int oai_status_exit(long status);
/*
 * Parse a Retry-After value (delta seconds or HTTP date) into
 * milliseconds from now; -1 if unparseable.
 */
long long oai_parse_retry_after(const char *v, size_t n);

/* ---- multi.c: several requests at once ----------------------------- */

/*
 * Up to `parallel` requests in flight over libcurl's multi interface
 * (one connection cache), each retried as oai_request() retries, the
 * response always buffered in rs->body (no sinks).  A 429 holds back the
 * start of every request until its Retry-After (or backoff) has passed.
 * rq, its body and rs must stay valid until the request is returned by
 * oai_multi_wait().  Requests start in the order they were added.
 */
struct oai_multi;

struct oai_multi *oai_multi_new(struct oai *o, int parallel);
void oai_multi_add(struct oai_multi *m, const struct oai_req *rq,
    struct oai_resp *rs, void *user);
/*
 * Run until some request has finished (after its retries), in the order
 * they finish; return its user pointer and set *status to 0 (2xx) or an
 * exit status, the one-line error already printed as oai_request() does.
 * NULL when no request is left.  After an interruption every request
 * left is returned with status 130 or 143.
 */
void *oai_multi_wait(struct oai_multi *m, int *status);
int oai_multi_pending(const struct oai_multi *m);	/* any left? */
/* Abort whatever is left and free m (NULL is fine). */
void oai_multi_free(struct oai_multi *m);

#endif
