/* See LICENSE file for copyright and license details. */
#ifndef OAI_H
#define OAI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

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
	OAI_EX_TOOLCALLS = 6,	/* the reply is tool calls, not run */
	OAI_EX_INTR = 130,	/* interrupted (SIGINT) */
	OAI_EX_TERM = 143	/* terminated (SIGTERM) */
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

/* While w is set (NULL: no longer), messages say where what they are
 * about comes from: "argv0: w: message" (w is a config file's
 * "FILE:LINE"). */
void oai_msg_where(const char *w);

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Overwrite n bytes in a way the compiler may not elide (secrets). */
void wipe(void *p, size_t n);

/*
 * The regular files of dir (symbolic links followed) whose names keep()
 * takes, never one beginning with '.', in readdir() order: each name
 * (allocated) and when it was last changed, into *out (to dirfiles_free()).
 * Returns their number: 0 when dir does not exist, -1 (errno) when it
 * cannot be read.
 */
struct dirfile {
	char *name;
	struct timespec mtime;
};
long dir_files(const char *dir, int (*keep)(const char *name),
    struct dirfile **out);
void dirfiles_free(struct dirfile *v, long n);

/*
 * Every message of warnx()/die()/edie() is redacted: the key set here
 * (when at least 8 bytes; NULL: none) and any token shaped like an
 * OpenAI key ("sk-" and 8 or more of [A-Za-z0-9_-], not inside a word)
 * are replaced, so that a server echoing the Authorization header cannot
 * make a tool print it.  key must stay valid until replaced.
 */
struct buf;
void oai_redact_key(const char *key);
/* s[0..n) into out with key (NULL: none) and sk- tokens redacted; out
 * must hold n + n / 4 + 16 bytes; returns the length (no NUL added). */
size_t oai_redact(char *out, const char *s, size_t n, const char *key);
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
 * s is always a NUL-terminated string (after len bytes), from BUF_INIT
 * on: an empty buffer points at the shared empty oai_slopbuf (git's
 * strbuf), so it can be passed to string functions without a guard; it
 * may contain NUL bytes.  The buffer owns s once cap > 0; buf_free()
 * releases it and leaves an empty buffer.  s may move on every add.
 * Zeroed memory (calloc, memset) is not a valid buffer: use BUF_INIT or
 * buf_init().
 */
struct buf {
	char *s;
	size_t len;
	size_t cap;
};

extern char oai_slopbuf[];
#define BUF_INIT { oai_slopbuf, 0, 0 }
#define buf_init(b) (*(b) = (struct buf)BUF_INIT)

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
/* Append a name from a server or a user (a model id) for a terminal
 * line, visibly escaped: control characters (C0, DEL, C1), bytes that
 * are not UTF-8 and the backslash become \n, \r, \t, \\ or \xHH. */
void buf_addesc(struct buf *b, const char *s, size_t n);
/*
 * Append a reply as one line, reversibly (oai(7), LINE FORMATS): a
 * backslash becomes \\, a line feed \n, a carriage return \r, a NUL
 * \0; every other byte is as it was.  Map mode's text format, and the
 * Batch API's lines, so line i of the output answers line i of input.
 */
void buf_addescline(struct buf *b, const char *s, size_t n);
void buf_reset(struct buf *b);			/* len = 0, keeps memory */
void buf_free(struct buf *b);
/* Take ownership of the bytes (NUL-terminated, never NULL); b is reset. */
char *buf_steal(struct buf *b, size_t *len);

/* Append the whole of fd / a file ("-" is stdin) to b.  Return 0, or -1
 * with errno set: EINTR once interrupted (looked at between reads, so a
 * flood cannot hold it off).  _max: at most max bytes, EFBIG past it. */
int buf_readfd(struct buf *b, int fd);
int buf_readfd_max(struct buf *b, int fd, size_t max);
int buf_readfile(struct buf *b, const char *path);

/* ---- input.c: what the user gives ----------------------------------- */

/* The most a tool reads as one input (a prompt, a file, a line): far
 * beyond what any model takes, so only a runaway pipe meets it. */
#define OAI_INPUT_MAX (64 << 20)

/* How messages name a path: "standard input" for "-". */
const char *input_name(const char *path);
/*
 * Append the whole of path ("-" is standard input) to b.  input_try
 * returns 0, or -1 with errno set (EFBIG past OAI_INPUT_MAX);
 * input_read dies with OAI_EX_USAGE and one line naming the input.  An
 * interruption exits quietly with 130 or 143 in both.
 */
int input_try(struct buf *b, const char *path);
void input_read(struct buf *b, const char *path);
/*
 * Is s[0..n) text?  Valid UTF-8, and without NUL bytes unless nulok.
 * input_check dies with OAI_EX_USAGE: "WHERE: not valid UTF-8 at byte
 * offset N", "WHERE: a NUL byte at byte offset N"; input_checkmsg
 * appends that line to why and returns -1 instead.
 */
void input_check(const char *where, const char *s, size_t n, int nulok);
int input_checkmsg(struct buf *why, const char *where, const char *s,
    size_t n, int nulok);

/*
 * Lines of the FILE operands in turn ("-" is standard input; no operand
 * means standard input), each NUL-terminated without its newline (it may
 * hold NUL bytes), with where it comes from for messages: "NAME:LINE".
 * LINES_WHOLE: each file is one input (line 1, one final newline
 * dropped); LINES_CRLF: a CR before the newline goes too.
 */
enum { LINES_WHOLE = 1, LINES_CRLF = 2 };

struct lines {
	char **files;
	int nfiles, cur;
	int flags;
	int fd;			/* of files[cur], -1 when none is open */
	int eof;
	struct buf in;		/* what was read of it */
	size_t off;		/* start of the next line in in */
	const char *name;	/* input_name() of files[cur] */
	long long line;		/* number of the current line */
	char *s;		/* the current line: valid until the next call */
	size_t len;
	int status;		/* after -1: OAI_EX_USAGE, 130 or 143 */
	struct buf err;		/* after -1: the one line, empty when interrupted */
};

void lines_init(struct lines *r, char **files, int nfiles, int flags);
/* 1 with the next line in r->s, 0 at the end, -1 on error (then status
 * and err say what; every later call returns -1 again). */
int lines_next(struct lines *r);
/* Would lines_next() return now?  0 only when it would wait for input
 * (no whole line read, the descriptor not readable). */
int lines_ready(const struct lines *r);
void lines_free(struct lines *r);

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
/* out_reserve(n): room for n bytes at the end of what is buffered, to
 * format in place (no copy); out_commit(k): k of them (k <= n) are
 * output, flushed once 64 KiB are buffered. */
char *out_reserve(size_t n);
void out_commit(size_t n);
void out_adds(const char *s);
void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void out_flush(void);
void out_close(void);
/* Standard output was closed at start (it now points at /dev/null so no
 * socket can take fd 1): the first write fails as a write to a closed
 * descriptor would. */
void out_closed_at_start(void);
int oai_output_started(void);
/* buf_addescline() of s[0..n) and a newline, to standard output. */
void out_escline(const char *s, size_t n);
/* Die with a hint when stdout is a terminal: binary output never goes
 * there.  alt, if not NULL, is another way out ("use -o FILE"). */
void out_refuse_tty(const char *what, const char *alt);

/* ---- outfile.c: -o FILE -------------------------------------------- */

/*
 * The one way a tool writes an output file (oai(7), FILES): a regular
 * file or a new name is replaced atomically through a temporary file
 * beside it; a device, a FIFO or /dev/stdout is written in place, never
 * replaced; a symbolic link is followed (a dangling one creates the file
 * it names).  The temporary file is removed on failure, at exit, and by
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGUSR1 and SIGUSR2 (in the
 * handler); SIGXFSZ is ignored so that a size limit is a write error.
 * Functions die on errors: 2 for a directory or a socket, 5 otherwise.
 */
struct outfile {
	int fd;			/* write here (or with outfile_write) */
	int direct;		/* written in place: not a regular file */
	char *name;		/* as given, for messages */
	char *target;		/* the file replaced, links followed */
	char *tmp;		/* the temporary file until committed */
	int slot;
};

void outfile_open(struct outfile *f, const char *path);
void outfile_write(struct outfile *f, const void *p, size_t n);
/* Give the file its mode and put it in place; interrupted (the flag
 * oai_init()'s handlers set): remove it and exit 130/143 instead. */
void outfile_commit(struct outfile *f);
/* Remove the temporary file, keep whatever was there (f may be unused). */
void outfile_abort(struct outfile *f);
/*
 * Follow the symbolic links of path's last component (at most 40), as
 * open() would; return the name reached (malloc'd; it need not exist),
 * or NULL with errno ELOOP.  *viafd, if not NULL, is set when a name on
 * the way is a descriptor name (/proc/..., /dev/fd/...).
 */
char *path_follow(const char *path, int *viafd);
/*
 * -o FILE for output written a line at a time and resumed (oai-chat
 * --each): path becomes standard output, written in place as lines
 * are done, so an interrupted run keeps them.  Emptied first, or with
 * resume kept up to its last whole line (a cut last line goes; path
 * must then be a regular file, or be missing).  Returns the whole
 * lines kept.  Dies with 2 or 5 as outfile_open() does.
 */
long long outfile_lines(const char *path, int resume);

/* ---- utf8.c --------------------------------------------------------- */

/* Return the offset of the first byte that is not part of valid UTF-8
 * (overlongs, surrogates and > U+10FFFF are invalid), or (size_t)-1. */
size_t utf8_invalid(const char *s, size_t n);
/* Length of the longest prefix of s[0..n) that does not end inside a
 * multi-byte sequence (for holding back a split character). */
size_t utf8_complete(const char *s, size_t n);
/* Characters of UTF-8 text: the bytes that do not continue one. */
size_t utf8_nchars(const char *s, size_t n);

/* ---- cpu.c: what this CPU has --------------------------------------- */

/*
 * CPU_SIMD: the SIMD paths are built (x86-64, a compiler with GCC's
 * intrinsics and target attributes); CPU_AVX2 marks a function of the
 * AVX2 path.  Each path is taken only where the CPU has it: 1 if it has
 * AVX2 (cpu_avx2()), or AVX-512 F, DQ, CD and BW (cpu_avx512()); 0
 * without CPU_SIMD.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#define CPU_SIMD 1
#define CPU_AVX2 __attribute__((target("avx2")))
#endif
int cpu_avx2(void);
int cpu_avx512(void);

/* ---- base64.c ------------------------------------------------------- */

/* Append the standard (RFC 4648, padded) base64 form of src[0..n) to b. */
void base64_encode(struct buf *b, const void *src, size_t n);
/* Append the bytes of standard base64 s[0..n) (padding optional) to b;
 * -1 (b unchanged in length) if s is not base64. */
int base64_decode(struct buf *b, const char *s, size_t n);
/*
 * The same, a piece at a time: feed the characters in pieces of any
 * length; each call writes the bytes completed so far to out, which must
 * hold n / 4 * 3 + 3, and returns their number, or -1 once the input is
 * not base64 (a character outside the alphabet, padding misplaced or
 * followed by more).  base64_dec_end(): 0 if the whole was complete
 * (padded or not), -1 if it stopped inside a byte.
 */
struct base64_dec {
	unsigned v;		/* the bits not yet written */
	int bits;
	unsigned long long nch;	/* characters seen, padding included */
	int pad;		/* '=' seen */
};

#define BASE64_DEC_INIT { 0, 0, 0, 0 }
long base64_dec_feed(struct base64_dec *d, const char *s, size_t n,
    unsigned char *out);
int base64_dec_end(const struct base64_dec *d);

/* Little-endian 32-bit words (WAV headers, float32 vectors). */
static inline void
le32_put(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static inline uint32_t
le32_get(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* ---- image.c -------------------------------------------------------- */

/* The content type of an image from its first bytes (PNG, JPEG, GIF,
 * WebP: "image/png"...), or NULL. */
const char *image_type(const void *head, size_t n);
/* A PNG's width and height, from its first 24 bytes (the signature and
 * the IHDR chunk); -1 if they are not those of a PNG. */
int png_size(const void *head, size_t n, unsigned long *w,
    unsigned long *h);

/* ---- f32.c ---------------------------------------------------------- */

/*
 * The shortest decimal ("%.*g", smallest precision) that strtof reads
 * back as f, into s (at least F32_BUFSIZE bytes); "null" for NaN and
 * infinities (not JSON numbers).  Returns its length.
 */
#define F32_BUFSIZE 32
size_t f32_shortest(char *s, float f);
/* The n little-endian float32 at v as f32_shortest() prints them, sep
 * between them, into s (at least n * F32_BUFSIZE bytes); returns the
 * length (the NUL after it not counted). */
size_t f32_list(char *s, const unsigned char *v, size_t n, int sep);
/*
 * f32_list()'s paths, slowest first; f32_list() takes the fastest this
 * CPU has.  f32_path(p): p's name ("scalar", "avx2", "avx512") if
 * this CPU has it, else NULL.  f32_list_path(): f32_list() by path p,
 * which this CPU must have: the same bytes by every path (for tests and
 * benchmarks).
 */
enum { F32_SCALAR, F32_AVX2, F32_AVX512, F32_NPATHS };
const char *f32_path(int p);
size_t f32_list_path(int p, char *s, const unsigned char *v, size_t n,
    int sep);
/* (float)strtod(p, NULL) for the JSON number p, faster. */
float f32_parse(const char *p);
/*
 * The JSON number at the start of p[0..n), checked and read in one pass:
 * its length, its value (float)strtod as f32_parse() has it in *f; or 0
 * if p[0..n) does not begin with a whole JSON number followed by a byte
 * that cannot continue it (n may cut it), or if the value takes strtod
 * (f32_parse() then has it).  The fast path of float-array embeddings.
 */
size_t f32_scan(const char *p, size_t n, float *f);

/* ---- vecout.c: embedding vectors as oai-embed prints them ---------- */

enum { VEC_JSONL, VEC_TSV, VEC_F32 };	/* as in vec_formats[] */
extern const char *const vec_formats[];	/* --format's names, NULL-ended */
/*
 * Vector v (dims float32, little-endian) of input index to standard
 * output in format: a JSON line {"index","text","embedding"} ("text"
 * only when text is not NULL: text[0..tl)), a line of tab-separated
 * numbers, or the raw float32.  line is scratch space.
 */
void vec_write(struct buf *line, int format, long long index,
    const char *text, size_t tl, const unsigned char *v, int dims);
/* A guess at the tokens of n bytes of text, never too low. */
size_t vec_tokens(size_t n);
/* Is s[0..n) an input the embeddings API takes?  0, or -1 after one
 * line onto why: "WHERE: empty input (...)", not UTF-8, too long. */
int vec_checkinput(struct buf *why, const char *where, const char *s,
    size_t n);
/*
 * The one reading of an embedding's float array, so that every tool
 * prints the same bytes for it: number p (JSON text, ended by the
 * character after it) onto vec as a little-endian float32, f32_parse()'s
 * rounding; vec_addarray() does so for each element of array t of j (a
 * json_parse() text, where a character always follows an element):
 * 0, or -1 when one is not a number.
 */
struct json;
void vec_addnum(struct buf *vec, const char *p);
/* f onto vec as a little-endian float32 (vec_addnum()'s second half) */
void vec_addf32(struct buf *vec, float f);
int vec_addarray(struct buf *vec, const struct json *j, int t);

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

/* ---- jscan.c: JSON read as it arrives ------------------------------ */

/*
 * A document fed in pieces of any size (a response body as it comes),
 * checked against json_parse()'s grammar as it goes and reported value
 * by value, without the text being kept.  The callback sees where each
 * value sits (jscan_at(), s->depth, s->f[]) and returns 0 to go on, or
 * a positive status to stop; jscan_feed() then returns that.
 */
enum jscan_ev {
	JSCAN_OBJ, JSCAN_ARR,		/* a container begins (p NULL) */
	JSCAN_OBJ_END, JSCAN_ARR_END,	/* and ends, where it sits */
	JSCAN_STR,	/* a piece of a string, unescaped (split anywhere,
			 * even inside a UTF-8 character) */
	JSCAN_STR_END,	/* the string is whole */
	JSCAN_NUM,	/* a number, whole: p[0..n), p[n] not a number's
			 * byte (NUL, or the chunk's); its value as
			 * float32 (f32_parse()'s) in s->num */
	JSCAN_TRUE, JSCAN_FALSE, JSCAN_NULL
};

#define JSCAN_KEYMAX 32

struct jscan_frame {		/* a container open around the value */
	int obj;		/* object, else array */
	long long n;		/* the member or element (from 0) being read */
	size_t keylen;		/* the member's name: its length, */
	char key[JSCAN_KEYMAX];	/* its first JSCAN_KEYMAX bytes */
};

struct jscan;
typedef int (*jscan_cb)(void *ctx, struct jscan *s, enum jscan_ev ev,
    const char *p, size_t n);

struct jscan {
	jscan_cb cb;
	void *ctx;
	int depth;		/* containers around the value reported */
	struct jscan_frame *f;	/* f[0] outermost */
	int cap;
	size_t off;		/* bytes fed */
	/* the reader's state */
	int state, iskey, failed;
	int u8need;
	unsigned char u8lo, u8hi;
	char esc[12];
	int esclen;
	const char *word;
	int wordpos;
	struct buf tok;
	float num;		/* JSCAN_NUM's value */
	struct buf *rec;	/* jscan_record() */
	int recdepth, recnew, recend, opench;
	size_t recfrom;
};

void jscan_init(struct jscan *s, jscan_cb cb, void *ctx);
/* Returns 0, -1 once the text is not JSON, or the callback's stop
 * status; after anything but 0, every later call returns it again. */
int jscan_feed(struct jscan *s, const char *p, size_t n);
/* The end of the text: 0 if it held exactly one whole value, else as
 * jscan_feed(). */
int jscan_end(struct jscan *s);
/* Ready for another document (memory kept). */
void jscan_reset(struct jscan *s);
void jscan_free(struct jscan *s);
/* From the callback of a JSCAN_OBJ or JSCAN_ARR: append the text of
 * that container, as it came, to b (a small part kept whole: a usage
 * object).  b is whole once its end has been reported. */
void jscan_record(struct jscan *s, struct buf *b);
/* Does the value being reported sit at path: "data.*.embedding" ("*"
 * any element of an array, a number one element, a name a member of an
 * object; "" the root)? */
int jscan_at(const struct jscan *s, const char *path);

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
/* Append JSON text s without the whitespace between tokens: valid JSON
 * becomes one line (strings hold no raw line breaks). */
void json_compact(struct buf *b, const char *s, size_t n);

/* ---- msgs.c: chat messages ------------------------------------------ */

struct msgs {			/* compact JSON texts of message objects */
	char **v;
	size_t n, cap;
	char *model;		/* msgs_parse(): the last assistant's "model" */
};

#define MSGS_INIT { NULL, 0, 0, NULL }

void msgs_add(struct msgs *m, const char *json, size_t n);
void msgs_clear(struct msgs *m);
void msgs_free(struct msgs *m);
/*
 * Append the messages in s[0..n): one JSON object with a string "role"
 * per line (blank lines skipped; a conversation file), or with arrayok
 * also one JSON array of them (--messages).  Return 0, or -1 with one
 * line in err naming what (and the line): "what:3: not a JSON message
 * object with a role"; the messages before the bad one stay added.
 * An assistant message's string "model" (oai-chat -c records the model
 * that way; it is no API field) is taken out of it into m->model.
 */
/* Append {"role":ROLE,"content":TEXT} to b. */
void msg_text(struct buf *b, const char *role, const char *text, size_t n);
int msgs_parse(struct msgs *m, const char *s, size_t n, const char *what,
    int arrayok, struct buf *err);

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
	size_t indata;		/* a data line goes on (into data, not line):
				 * its length so far; 0 when none */
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
	int meta_fd;		/* --meta-fd / OAI_META_FD, or -1 */
	int want_usage;		/* read usage from every response (-u, budget) */
};

/* The common options' ids, for oai_option() (lib/opt.c's table). */
enum {
	OPT_BASE_URL = 0x1000,
	OPT_API_KEY_FILE,
	OPT_TIMEOUT,
	OPT_MAX_TIME,
	OPT_RETRIES,
	OPT_VERBOSE,
	OPT_VERSION,
	OPT_META_FD
};

/* ---- opt.c: a tool's interface, written once ----------------------- */

/*
 * Each tool describes its options once, as a table of struct oai_opt
 * ending with OAI_END and holding OAI_COMMON where the common options
 * (--base-url, --api-key-file, --timeout, --retries, -v/--verbose,
 * -h/--help, --version; oai(7)) go.  oai_options() parses argv by it
 * and returns optind; usage (oai_usage(), on stderr, exit 2) and --help
 * are made from it, so they agree with each other and, by a test, with
 * the man page and the completions.  A tool that takes a common letter
 * for itself (-v) leaves the common option its long name only.
 * Messages name an option by its long name: "--model: empty model name".
 */
enum oai_opt_type {
	OAI_OPT_END = 0,
	OAI_OPT_FLAG,		/* int *target counts: 1 after one -x */
	OAI_OPT_STR,		/* const char **target = the argument */
	OAI_OPT_INT,		/* long long *target, in [min, max] */
	OAI_OPT_NUM,		/* double *target, in [min, max] */
	OAI_OPT_CHOICE,		/* int *target = index in choices */
	OAI_OPT_LIST,		/* struct oai_list *target: each one added */
	OAI_OPT_FN,		/* fn(o, argument) */
	OAI_OPT_TEXT,		/* STR; "@file": the file's text */
	OAI_OPT_REFUSED,	/* dies with help, the reason; in no usage */
	OAI_OPT_COMMON		/* the common options come here */
};

struct oai;

struct oai_list {		/* a repeatable option's arguments */
	const char **v;
	int n;
};

struct oai_opt {
	enum oai_opt_type type;
	int shortname;		/* 'm', or 0 */
	const char *longname;	/* "model", or NULL */
	const char *arg;	/* placeholder ("model"); NULL: no argument */
	const char *help;	/* --help text; '\n' between its lines */
	void *target;
	int *seen;		/* set to 1 when given, or NULL */
	double min, max;	/* INT, NUM */
	const char *const *choices;	/* CHOICE: NULL-terminated */
	const char *empty;	/* STR: refuse "" as "empty <this>" */
	void (*fn)(struct oai *o, const char *arg);
};

/* Type-checked target pointers: a wrong type is a compile error. */
#define OAI_PTR_(T, p)	((void *)(1 ? (p) : (T *)0))
#define OAI_FLAG(s, l, var, h) { .type = OAI_OPT_FLAG, .shortname = (s), \
	.longname = (l), .help = (h), .target = OAI_PTR_(int, var) }
#define OAI_STR(s, l, a, var, h) { .type = OAI_OPT_STR, .shortname = (s), \
	.longname = (l), .arg = (a), .help = (h), \
	.target = OAI_PTR_(const char *, var) }
#define OAI_NAME(s, l, a, var, what, h) { .type = OAI_OPT_STR, \
	.shortname = (s), .longname = (l), .arg = (a), .help = (h), \
	.target = OAI_PTR_(const char *, var), .empty = (what) }
#define OAI_INT(s, l, a, var, given, lo, hi, h) { .type = OAI_OPT_INT, \
	.shortname = (s), .longname = (l), .arg = (a), .help = (h), \
	.target = OAI_PTR_(long long, var), .seen = (given), .min = (lo), \
	.max = (hi) }
#define OAI_NUM(s, l, a, var, given, lo, hi, h) { .type = OAI_OPT_NUM, \
	.shortname = (s), .longname = (l), .arg = (a), .help = (h), \
	.target = OAI_PTR_(double, var), .seen = (given), .min = (lo), \
	.max = (hi) }
#define OAI_CHOICE(s, l, a, var, list, h) { .type = OAI_OPT_CHOICE, \
	.shortname = (s), .longname = (l), .arg = (a), .help = (h), \
	.target = OAI_PTR_(int, var), .choices = (list) }
#define OAI_LIST(s, l, a, var, h) { .type = OAI_OPT_LIST, .shortname = (s), \
	.longname = (l), .arg = (a), .help = (h), \
	.target = OAI_PTR_(struct oai_list, var) }
/* A list of at most n arguments, none empty: "--stop: empty stop
 * sequence", "--stop: at most 4 stop sequences". */
#define OAI_LISTMAX(s, l, a, var, n, what, h) { .type = OAI_OPT_LIST, \
	.shortname = (s), .longname = (l), .arg = (a), .help = (h), \
	.target = OAI_PTR_(struct oai_list, var), .max = (n), .empty = (what) }
#define OAI_FN(s, l, a, f, h) { .type = OAI_OPT_FN, .shortname = (s), \
	.longname = (l), .arg = (a), .help = (h), .fn = (f) }
/* A text that may come from a file: -s @prompt.txt (- is standard
 * input; "@@..." is "@..."); the file's final newlines dropped. */
#define OAI_TEXT(s, l, a, var, h) { .type = OAI_OPT_TEXT, .shortname = (s), \
	.longname = (l), .arg = (a), .help = (h), \
	.target = OAI_PTR_(const char *, var) }
/* An option a neighbouring tool has and this one cannot: given, it dies
 * with "--name: why" (status 2) instead of the usage; it is in no usage
 * or help (the tool's man page says why). */
#define OAI_REFUSED(s, l, a, why) { .type = OAI_OPT_REFUSED, \
	.shortname = (s), .longname = (l), .arg = (a), .help = (why) }
#define OAI_COMMON	{ .type = OAI_OPT_COMMON }
#define OAI_END		{ .type = OAI_OPT_END }

struct oai_tool {
	const char *operands;	/* in the usage: "[file ...]" */
	const char *about;	/* --help: what the tool does */
	const struct oai_opt *opts;
};

int oai_options(struct oai *o, const struct oai_tool *t, int argc,
    char *argv[]);
/* oai_init() and oai_options(): a tool's first line.  Returns optind. */
int oai_start(struct oai *o, const struct oai_tool *t, int argc,
    char *argv[]);
/* A tool's last line: out_close(), oai_cleanup(), return status. */
int oai_finish(struct oai *o, int status);
/* The usage of the tool oai_options() parsed for, on stderr; exit 2. */
void oai_usage(void) __attribute__((noreturn));

/*
 * The config file and roles (oai(7) CONFIGURATION).  oai_options()
 * gives each option that the command line left alone the value of a
 * role (oai-chat -r), else of the config file, unless the option's
 * environment variable is set (OPENAI_BASE_URL, OAI_META_FD,
 * OPENAI_API_KEY for --api-key-file): flag > role > environment >
 * config > built-in default.  In a tool's own section and in a role an
 * unknown key is an error; before any section it is ignored.  Errors
 * in a file die with OAI_EX_USAGE: "argv0: FILE:LINE: what is wrong".
 */
struct oai_setting {
	char *key;		/* a long option name */
	char *value;		/* NULL: the key alone (a flag) */
	char *where;		/* "FILE:LINE" */
	int scoped;		/* the tool's section or a role */
};

struct oai_settings {
	struct oai_setting *v;
	int n;
	char *path;		/* the file read */
	char *text;		/* a role's system prompt, or NULL */
};

/* The config file's settings for tool: $OAI_CONFIG (empty: none), else
 * $XDG_CONFIG_HOME/oai/config or ~/.config/oai/config.  Returns 0 when
 * there is none (a file that does not exist is no error), else 1. */
int oai_config_read(struct oai_settings *s, const char *tool);
/* Role name's settings and prompt, from the roles directory beside the
 * config file; a role that is not there dies saying where it looked. */
void oai_role_read(struct oai_settings *s, const char *name);
/* --list-roles: the names -r takes, one a line, sorted (C order): the
 * regular files of the roles directory, but for names beginning with a
 * dot or holding a newline; none when it does not exist.  Returns 0. */
int oai_role_list(void);
void oai_settings_free(struct oai_settings *s);
/* -r/--role's handler: OAI_FN('r', "role", "name", oai_opt_role, ...). */
void oai_opt_role(struct oai *o, const char *name);
/*
 * The value of option key (a long name) once its environment variable
 * env is seen: env's value when it is set, not empty, and the option
 * came from no flag and no role; else cur.  For the tools' own
 * variables (OAI_CHAT_MODEL...), read after oai_start().
 */
const char *oai_env(const char *key, const char *env, const char *cur);
/* Did the command line or a role give option key (not the config
 * file)?  What a tool's own state (a conversation's model) overrides. */
int oai_given(const char *key);

/*
 * Process setup: set argv0, make sure fds 0-2 are open, ignore SIGPIPE,
 * install SIGINT/SIGTERM handlers, seed the retry jitter, read the
 * environment into o.  Never calls setlocale(); libcurl's global set-up
 * waits for the first request.
 */
void oai_init(struct oai *o, int argc, char *argv[]);
/*
 * Handle a common option (from lib/opt.c's table).  Return 1 if c was
 * one (OPT_VERSION prints the version and exits), 0 if not.
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
/* The same check for a URL a server gave (oai_req.url): a query is
 * allowed, and no message shows it. */
int oai_check_url(const char *url, struct buf *why, int *flags);
/* Release curl and wipe the key. */
void oai_cleanup(struct oai *o);
/* Set by the signal handlers: nonzero (the signal number) once
 * interrupted. */
extern volatile int oai_interrupted;
/* Exit status for an interruption: 130 for SIGINT, 143 for SIGTERM. */
int oai_intr_status(void);

/* ---- price.c: usage and cost ---------------------------------------- */

/*
 * What one request used, as the API reports it (or the tool knows it:
 * the characters sent for speech), and what that cost.  A count is -1
 * when unknown.  model is the model that answered, else the one asked.
 */
struct oai_usage {
	char model[128];
	long long input, output;	/* tokens */
	long long cached;		/* of input: cached (discounted) */
	long long reasoning;		/* of output */
	long long audio_in, audio_out;	/* of input and output */
	long long chars;		/* speech: characters of input */
	double seconds;			/* transcription: audio seconds */
	long long images;		/* images made, of variant */
	char variant[64];		/* images: "SIZE/QUALITY" */
	int batch;			/* the Batch API: half price */
	double cost;			/* USD; -1 when no price is known */
	long long requests;		/* how many requests this adds up */
};

/* Every count unknown, no cost yet, for model (NULL: none). */
void oai_usage_init(struct oai_usage *u, const char *model);
/* Read the usage object t of a response (chat, embeddings, audio:
 * prompt/completion or input/output tokens and their details, or
 * {"type": "duration", "seconds": N}) into u.  0, or -1 if t is none. */
int oai_usage_json(struct oai_usage *u, const struct json *j, int t);
/*
 * The price table (oai(7), PRICES): the documented prices of
 * OAI_PRICES_DATE built in, then $OAI_PRICES's lines (read once).
 * oai_cost() sets u->cost from u's model and counts, -1 when no price
 * is known or the counts a price needs are missing; returns u->cost.
 */
#define OAI_PRICES_DATE "2024-06-01"
double oai_cost(struct oai_usage *u);
/* Add one request's usage to a total (cost unknown if either is). */
void oai_usage_add(struct oai_usage *total, const struct oai_usage *u);
/*
 * -u: "usage: 3 prompt + 4 completion = 7 tokens, $0.000075" (or the
 * characters, seconds or tokens of a tool without output tokens) on
 * stderr, and once per model "no price for M; set OAI_PRICES" when the
 * cost is unknown; "usage: not reported by the server" when u holds
 * nothing.
 */
void oai_usage_print(const struct oai_usage *u);
/* -u for a chat or completion: u priced by the model the server named
 * (answered; gpt-4o-mini is not gpt-4o), else the one asked for. */
void oai_usage_report(const struct oai_usage *u, const char *answered,
    const char *asked);
/* "no price for M; set OAI_PRICES", said once per model and process. */
void oai_noprice(const char *model);
/* Is any price known for model (for --budget, before sending)? */
int oai_has_price(const char *model);

/* ---- http.c: requests ---------------------------------------------- */

struct oai_part {		/* one multipart/form-data field */
	const char *name;
	const char *value;	/* text value, or NULL for a file */
	const char *path;	/* file to stream from ("-" is stdin) */
	const char *filename;	/* file name sent for the upload */
	const char *type;	/* content type of the file part, or NULL */
	/* A file part is counted as it is sent: more than max bytes (0: no
	 * limit) stops the request with toobig (or a line of the lib's)
	 * and exit 2, as does a file that turns out empty. */
	long long max;
	const char *toobig;
};

/*
 * --dry-run of a multipart form, to standard output, one line a part in
 * order: a field as NAME=VALUE, a file as NAME=@PATH (N bytes, TYPE)
 * (or "standard input" for "-"); values and paths escaped as one line
 * (buf_addescline: a newline is \n, a backslash \\).
 */
void oai_form_print(const struct oai_part *parts, int n);

/*
 * A sink receives the 2xx response body as it arrives.  It returns 0 to
 * go on, or an exit status to stop the transfer; oai_request() then
 * returns that status.  Sinks write output through out_*.
 */
typedef int (*oai_sink)(void *ctx, const char *p, size_t n);
/* Under oai_multi only: the sink has not taken the bytes and the
 * transfer waits; they come again after oai_multi_resume(). */
#define OAI_SINK_PAUSE (-1)

struct oai_resp;

struct oai_req {
	const char *method;		/* "GET", "POST", "DELETE" */
	const char *path;		/* appended to base_url: "/models" */
	/* Or a whole URL elsewhere, from a response (an image to
	 * download): no key, organisation or project goes with it; it is
	 * checked as the base URL is (https unless loopback; a query is
	 * allowed but never shown: it may hold a signature). */
	const char *url;
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
	/* For usage and cost: the model asked for (when the answer does not
	 * name one), and the characters sent (speech; 0: none). */
	const char *model;
	long long chars;
	/* The event stream the sink feeds (oai_events), whose usage and
	 * model count; NULL: the body's, when it is JSON. */
	const struct oai_events *events;
	/* With a sink: the most a 2xx body may hold (0: no limit).  Past
	 * it the transfer stops as a buffered body's does ("the response
	 * is larger than ..."); with a limit the body may come compressed. */
	size_t body_max;
	/* With a sink: start it over for another attempt after it has
	 * received data (a connection lost, a 5xx); 0 if it can, and the
	 * request is retried as one whose sink saw nothing; -1 if not. */
	int (*rewind)(void *ctx);
	/* --meta-fd: members of the tool's own for the request's line,
	 * written with w after cost_usd, from a 2xx answer (rs->body when
	 * buffered); NULL: none. */
	void (*meta)(void *ctx, struct jw *w, const struct oai_resp *rs);
	void *meta_ctx;
};

struct oai_resp {
	long status;			/* HTTP status, 0 if none */
	struct buf body;		/* non-2xx bodies, and 2xx without sink */
	char content_type[128];
	char request_id[128];
	int attempts;			/* requests made */
	struct buf error;		/* the error line, with defer_error */
	/* After a 2xx: what the answer used (from its usage object, or its
	 * event stream's through oai_events_sink; read when o->want_usage
	 * or --meta-fd asks, or from rq->events) and its cost. */
	struct oai_usage usage;
	int budget;			/* not sent: over the --budget */
	long long retry_after_ms;	/* Retry-After of the last answer, or -1 */
};

#define OAI_RESP_INIT { .body = BUF_INIT, .error = BUF_INIT, \
	.retry_after_ms = -1 }

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

/* ---- resp.c: what comes back --------------------------------------- */

/*
 * The one line for a 2xx answer that is not what was asked for:
 * "unexpected response from BASE/PATH: WHY".  Returns OAI_EX_FAILURE.
 */
int oai_unexpected(const struct oai *o, const struct oai_req *rq,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Parse a 2xx JSON body into j and check that the value at path (see
 * json_path(); "" is the root) has the given type.  Return its token, or
 * -1 after oai_unexpected(o, rq, what).
 */
int oai_resp_json(const struct oai *o, const struct oai_req *rq,
    const struct buf *body, struct json *j, const char *path,
    enum json_type type, const char *what);
/* --json: the API's JSON as it came, ending with one newline. */
void out_json(const char *s, size_t n);
/* JSON text s compacted onto one line (an SSE data: may span several). */
void out_json_line(const char *s, size_t n);
/* The exit status for an API error object e met inside a 2xx answer
 * (an error event): by its type or code, as the HTTP status would be. */
int oai_error_status(const struct json *j, int e);

/*
 * Event streams whose data are JSON objects (chat, transcriptions, and
 * the tools to come): oai_events_sink is the request's sink.  "[DONE]"
 * sets done and ends the events; empty data is skipped; data that is not
 * a JSON object, and error events ("error" member, event or type), are
 * the one-line error ("error in the stream: MESSAGE") and stop the
 * transfer with 5 or the error's status; errout, if set, is ended
 * first (textout_end(errout, 0): the text so far stays a prefix).
 * Every other event goes to cb, parsed in j (printed first, compacted
 * on one line, when json is set: --json), then standard output is
 * flushed; cb returns 0 or an exit status.
 */
struct oai_events;
typedef int (*oai_event_cb)(void *ctx, const struct json *j,
    const struct sse_event *ev);

struct oai_events {
	struct sse sse;
	struct json j;
	oai_event_cb cb;
	void *ctx;
	struct textout *errout;	/* the text to end before an error */
	int json;		/* --json: print each event's JSON, one a line */
	int done;		/* [DONE] seen */
	struct oai_usage usage;	/* the last usage object and model seen */
};

void oai_events_init(struct oai_events *s, oai_event_cb cb, void *ctx);
int oai_events_sink(void *ctx, const char *p, size_t n);
void oai_events_free(struct oai_events *s);
/* Make rq a streamed request whose events go to s: Accept
 * text/event-stream, the stall timeout, [DONE] completes it. */
void oai_events_request(struct oai_req *rq, struct oai_events *s);

/* ---- prompt.c: text in, text out (oai-chat, oai-complete) --------- */

/* Append part to a prompt without its trailing newlines, parts
 * separated by a blank line. */
void prompt_addpart(struct buf *prompt, const char *s, size_t n);
/*
 * The prompt: standard input (unless tty is set, or one of files is
 * "-"), then each of files (may be NULL), then the arguments joined by
 * spaces; each part without its trailing newlines, parts separated by a
 * blank line, appended to text (which stays empty when all are).  Dies
 * with OAI_EX_USAGE on input that cannot be read or is not text.
 */
void prompt_read(struct buf *text, int argc, char *argv[],
    const struct oai_list *files, int tty);

/*
 * Generated text streamed to standard output.  Text goes out as it
 * comes, except newlines at the end beyond the first: the text ends with
 * exactly one, and a line-reading consumer gets each line as soon as its
 * newline arrives.  textout_end() ends the text on its own line; cut
 * short (complete 0) it gets no newline in a pipe, so what was printed
 * is an exact prefix, and one at a terminal, for the prompt.  Start from
 * TEXTOUT_INIT; textout_end() makes it ready for the next text.
 */
struct textout {
	size_t pendnl;		/* trailing newlines held back */
	int printed;		/* text other than newlines went out */
	int nlout;		/* and after it, the first trailing newline */
};

#define TEXTOUT_INIT { 0, 0, 0 }

void textout_add(struct textout *t, const char *s, size_t n);
void textout_end(struct textout *t, int complete);

/*
 * n texts generated at once (-n), interleaved in a stream: the one
 * being printed (cur) goes out as it comes, through out; the others are
 * held until the ones before them have finished, so each is printed
 * whole, in order, with sep (NULL: nothing) between two.
 */
struct choice {
	struct buf held;
	char *finish;		/* finish_reason, once known */
};

struct choices {
	struct textout out;
	struct choice *c;
	int n, cur;
	const char *sep;
};

void choices_init(struct choices *cs, int n, const char *sep);
/* The index of choice object t, element i of its array: its "index", or
 * i; -1 after one line when it is not 0 to n - 1. */
int choices_index(const struct choices *cs, const struct json *j, int t,
    int i);
void choices_add(struct choices *cs, int idx, const char *s, size_t n);
/* Choice idx finished: the ones after it that can be go out. */
void choices_finish(struct choices *cs, int idx, const char *reason,
    size_t n);
/* The end of the answer: complete, every choice left goes out; then
 * textout_end(). */
void choices_end(struct choices *cs, int complete);
void choices_free(struct choices *cs);
/* The n a request body asks for ("n", --param's too), 2 to max, else 1. */
int body_choices(const struct buf *body, int max);

/* "stream":true, and with usage "stream_options":{"include_usage":true}
 * (-u), into an object being written. */
void stream_write(struct jw *w, int usage);

/* The sampling options the text endpoints share, as given. */
struct sampling {
	double temp, top_p, fpen, ppen;
	int has_temp, has_top_p, has_fpen, has_ppen;
	long long max_tokens, seed;
	int has_max_tokens, has_seed;
	struct oai_list stop;
};

/* The given ones into an object being written: temperature, top_p,
 * maxkey (the endpoint's name for max_tokens), stop (an array), seed,
 * frequency_penalty, presence_penalty. */
void sampling_write(struct jw *w, const struct sampling *s,
    const char *maxkey);

/* ---- param.c: --param KEY=VALUE ------------------------------------ */

/*
 * Set any field of a request body: VALUE is JSON when it parses as
 * JSON, else a string; a dotted KEY (a.b) sets a field of a nested
 * object, made when missing.  A field the tool wrote is replaced where
 * it stands, a later param overrides an earlier one, new fields go at
 * the end.  body must be a JSON object.  Dies with OAI_EX_USAGE on a
 * param that is not KEY=VALUE, has an empty key, is not UTF-8, or sets
 * stream (the tool's: it decides how the answer is read).
 */
void params_apply(struct buf *body, const struct oai_list *params);

/*
 * --logit-bias TOKEN=BIAS, or a JSON object {"TOKEN": BIAS, ...}: token
 * ids 0 and up, biases -100 to 100, a later token's bias wins; dies
 * with OAI_EX_USAGE naming what is wrong.  _write puts "logit_bias"
 * into an object being written, when any was given.
 */
struct logit_bias {
	struct {
		long long token, bias;
	} *v;
	size_t n;
};

void logit_bias_add(struct logit_bias *lb, const char *arg);
void logit_bias_write(struct jw *w, const struct logit_bias *lb);
/* The --logit-bias of the tool being run: OAI_FN(0, "logit-bias", ...,
 * logit_bias_opt, ...) adds to oai_logit_bias. */
extern struct logit_bias oai_logit_bias;
void logit_bias_opt(struct oai *o, const char *arg);
/* An -o/--output argument: "-" is standard output (NULL); an empty
 * name dies with OAI_EX_USAGE. */
const char *output_arg(const char *arg);

/* ---- run.c: running a program (oai-chat --tool) ------------------- */

/*
 * Run argv[0] (a path) with argv, through fork and execv, never a
 * shell: in[0..inlen) on its standard input (closed after it), its
 * standard output kept in out up to max bytes (the rest is read and
 * dropped: truncated), its standard error the caller's.  Past
 * timeout_ms, or once oai_interrupted is set, it and its process group
 * are killed (timedout, interrupted).  Returns 0 with status its exit
 * status (128 + N when killed by signal N), or -1 with errno when it
 * could not be started (exec's errno: ENOENT, EACCES...).
 */
struct proc {
	long long timeout_ms;	/* set by the caller */
	size_t max;		/* set by the caller */
	struct buf out;
	int status;
	int timedout, truncated, interrupted;
};

int run_program(struct proc *r, char *const argv[], const char *in,
    size_t inlen);

/* ---- files.c: the Files API (oai-files, oai-batch) ----------------- */

/*
 * prefix, then id as one path segment, then suffix: "/files/" ID
 * "/content".  An id that is empty, "." or "..", or holds "/", a
 * control character or bytes that are not UTF-8 is refused (-1: libcurl
 * would resolve dot segments); other bytes are percent-encoded.
 */
int oai_idpath(struct buf *path, const char *prefix, const char *id,
    const char *suffix);
/* The one line for an id oai_idpath() refused: "invalid WHAT id: 'X'"
 * (escaped); returns OAI_EX_USAGE. */
int oai_badid(const char *what, const char *id);
/*
 * POST /files: path ("-" is standard input) streamed as filename, with
 * purpose; the file object is left in rs->body and its id, if id is not
 * NULL, in id.  0 or an exit status (the line already printed).
 */
int oai_file_upload(struct oai *o, const char *path, const char *filename,
    const char *purpose, struct oai_resp *rs, struct buf *id);
/* GET /files/ID/content through sink (NULL: into rs->body). */
int oai_file_content(struct oai *o, const char *id, oai_sink sink,
    void *ctx, struct oai_resp *rs);
/* DELETE /files/ID; the answer in rs->body. */
int oai_file_delete(struct oai *o, const char *id, struct oai_resp *rs);
/* A sink writing to the descriptor *(int *)ctx (for downloads to a
 * temporary file); OAI_EX_FAILURE with a line on a write error. */
int oai_fd_sink(void *ctx, const char *p, size_t n);

/* ---- chatline.c: the lines of oai-chat --each ---------------------- */

/* The reply of chat completion body[0..n) into reply (parsed into j):
 * its choice's token, or -1 when the body is not a chat completion. */
int chat_reply(struct json *j, const char *body, size_t n, struct buf *reply);

struct chatline {		/* one input line's outcome */
	long long index;	/* of the input line, from 0 */
	int skip;		/* not sent (an empty line) */
	const struct buf *error;	/* why it failed, or NULL */
	long status;		/* and the HTTP status, 0: none */
	const struct json *j;	/* the answer, chat_reply()'s */
	int ch;
	const struct buf *reply;
};

/* Its line of output to standard output (oai(7), LINE FORMATS): text
 * (escaped, empty when it failed or was skipped) or jsonl; key is
 * redacted from error messages. */
void chat_eachline(int jsonl, const struct chatline *l, const char *key);

/* ---- chatreq.c: the chat request oai-chat and oai-batch make ------- */

/*
 * The options that shape a chat completion request, as given: both
 * tools' tables take them through the OAI_CHAT_* entries below (one
 * definition, the same names, ranges and help), so one builder makes
 * both tools' bodies from them.
 */
struct chatreq {
	struct sampling s;
	long long n, logprobs;
	int has_n, has_logprobs, store, jsonobj;
	int effort, verbosity, tier;	/* index in chat_efforts...; -1 */
	struct oai_list params, metadata;
	const char *prediction, *schema;	/* files, as given */
	char *predtext;			/* chatreq_check(): --prediction's */
	char *schema_json, *schema_name;	/* and --schema's */
};

extern struct chatreq oai_chatreq;
extern const char *const chat_efforts[], *const chat_verbosities[],
    *const chat_tiers[];

#define OAI_CHAT_TEMPERATURE OAI_NUM('t', "temperature", "temp", \
	&oai_chatreq.s.temp, &oai_chatreq.s.has_temp, 0, 2, \
	"sampling temperature, 0 to 2")
#define OAI_CHAT_FREQUENCY_PENALTY OAI_NUM(0, "frequency-penalty", "n", \
	&oai_chatreq.s.fpen, &oai_chatreq.s.has_fpen, -2, 2, "-2 to 2")
#define OAI_CHAT_JSON_OBJECT OAI_FLAG(0, "json-object", \
	&oai_chatreq.jsonobj, "ask for a JSON object as the reply")
#define OAI_CHAT_LOGIT_BIAS OAI_FN(0, "logit-bias", "token=bias | json", \
	logit_bias_opt, "bias a token id, -100 to 100 (repeatable),\nor " \
	"a JSON object of them")
#define OAI_CHAT_LOGPROBS OAI_INT(0, "logprobs", "n", &oai_chatreq.logprobs, \
	&oai_chatreq.has_logprobs, 0, 20, "log probabilities of each token " \
	"and of\nthe n likeliest, 0 to 20 (see --json)")
#define OAI_CHAT_MAX_TOKENS OAI_INT(0, "max-tokens", "n", \
	&oai_chatreq.s.max_tokens, &oai_chatreq.s.has_max_tokens, 1, \
	2147483647LL, "limit the reply's length in tokens")
#define OAI_CHAT_METADATA OAI_LIST(0, "metadata", "key=value", \
	&oai_chatreq.metadata, "tag a stored completion (repeatable)")
#define OAI_CHAT_PARAM OAI_LIST(0, "param", "key=value", &oai_chatreq.params, \
	"set any body field: value is JSON, else\na string; a.b nests " \
	"(repeatable)")
#define OAI_CHAT_PREDICTION OAI_STR(0, "prediction", "file", \
	&oai_chatreq.prediction, "the reply will mostly be file's text\n" \
	"(predicted output)")
#define OAI_CHAT_PRESENCE_PENALTY OAI_NUM(0, "presence-penalty", "n", \
	&oai_chatreq.s.ppen, &oai_chatreq.s.has_ppen, -2, 2, "-2 to 2")
#define OAI_CHAT_REASONING_EFFORT OAI_CHOICE(0, "reasoning-effort", "effort", \
	&oai_chatreq.effort, chat_efforts, "reasoning models: none, minimal, " \
	"low,\nmedium, high, xhigh or max")
#define OAI_CHAT_SCHEMA OAI_STR(0, "schema", "file", &oai_chatreq.schema, \
	"the reply follows this JSON schema")
#define OAI_CHAT_SEED OAI_INT(0, "seed", "n", &oai_chatreq.s.seed, \
	&oai_chatreq.s.has_seed, -9223372036854775807.0, \
	9223372036854775807.0, "ask for deterministic sampling")
#define OAI_CHAT_SERVICE_TIER OAI_CHOICE(0, "service-tier", "tier", \
	&oai_chatreq.tier, chat_tiers, "auto, default, flex, scale, " \
	"priority or\nfast")
#define OAI_CHAT_STOP OAI_LISTMAX(0, "stop", "text", &oai_chatreq.s.stop, 4, \
	"stop sequence", "stop sequence (up to 4)")
#define OAI_CHAT_STORE OAI_FLAG(0, "store", &oai_chatreq.store, \
	"store the completion (distillation, evals)")
#define OAI_CHAT_TOP_P OAI_NUM(0, "top-p", "n", &oai_chatreq.s.top_p, \
	&oai_chatreq.s.has_top_p, 0, 1, "nucleus sampling, 0 to 1")
#define OAI_CHAT_VERBOSITY OAI_CHOICE(0, "verbosity", "level", \
	&oai_chatreq.verbosity, chat_verbosities, "low, medium or high")

/* The long name of the first OAI_CHAT_* option the command line or a
 * role gave, or NULL (for a tool to refuse them where they do not go). */
const char *chatreq_given(void);
/* Check the options and read their files (--prediction, --schema);
 * dies with OAI_EX_USAGE naming what is wrong. */
void chatreq_check(struct chatreq *r);

/* What else a body holds: model, system message (or NULL), "stream"
 * (with usage: streamusage), the "tools" array (NULL or empty: none). */
struct chatbody {
	const char *model, *system;
	int stream, streamusage;
	const struct buf *tools;
};

/* The body for messages m, oai_chatreq's options and --param applied. */
void chat_body(struct buf *b, const struct chatbody *c, const struct msgs *m);
/* The request oai-chat --each and oai-batch -e chat --lines make of
 * line[0..n): instr (may be empty) and the line as the user message,
 * after system (or NULL). */
void chat_linebody(struct buf *b, const char *model, const char *system,
    const char *instr, size_t il, const char *line, size_t n);

/* ---- multi.c: several requests at once ----------------------------- */

/*
 * Up to `parallel` requests in flight over libcurl's multi interface
 * (one connection cache), each retried as oai_request() retries, the
 * response buffered in rs->body or given to the request's sink (which
 * may pause it: OAI_SINK_PAUSE).  A 429 holds back the start of every
 * request until its Retry-After (or backoff) has passed.  rq, its body
 * and rs must stay valid until the request is returned by
 * oai_multi_wait().  Requests start in the order they were added, and
 * one waiting to be retried keeps its place: none after it starts
 * first (so that paused ones cannot hold every slot from it).
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
/*
 * --budget: once the cost of the answers so far, with as much again for
 * each request in flight, would pass usd, requests not yet started are
 * not sent: they are returned with status OAI_EX_REJECTED, rs->budget
 * set and the reason in rs->error (every one after the first too).
 */
void oai_multi_budget(struct oai_multi *m, double usd);
/* oai_multi_wait() also returns, NULL with *status -1, once fd (-1:
 * none) is readable: a reader of a slow input is not held up. */
void oai_multi_watch(struct oai_multi *m, int fd);
/* Let the request of user take its body again, if its sink paused it;
 * the sink may be called before this returns. */
void oai_multi_resume(struct oai_multi *m, void *user);
/* Abort whatever is left and free m (NULL is fine). */
void oai_multi_free(struct oai_multi *m);

/* ---- ordered.c: requests in parallel, answers in order -------------- */

/*
 * The one runner of every tool that sends many requests (oai-chat
 * --each, oai-embed, oai-moderate -l): make() makes jobs while fewer
 * than 2 * parallel are unfinished, so memory does not grow with the
 * input; up to parallel are in flight over oai_multi (paced by the
 * server's rate-limit headers and 429s, stopped by budget); finish()
 * takes them strictly in the order they were made, each as soon as it
 * is next.  first() (may be NULL) tells a job it is the first
 * unfinished one, once, before its finish() and before a transfer it
 * paused resumes: a sink that streams writes from then on and holds its
 * answer until then.  A job that fails stops the making of new ones
 * (with keepgoing, only a failure every later request would share:
 * authentication, usage, budget); those made before it are still
 * finished, and so is it.
 */
struct oai_job {		/* the first member of the caller's job */
	struct oai_req rq;	/* set by make(), with rs */
	struct oai_resp rs;	/* rs.error: why it failed (defer_error) */
	int skip;		/* make(): not sent; finished as made */
	int status;		/* 0, or the exit status it failed with */
	int done;		/* the run's own */
	struct oai_job *next;	/* the run's own */
};

struct oai_ordered {
	int parallel;
	double budget;		/* USD, oai_multi_budget(); 0: none */
	int keepgoing;		/* the jobs are independent (see above) */
	/* The lines make() reads, if any: while requests are in flight,
	 * make() waits until a line is there instead of holding them up. */
	const struct lines *in;
	/* The next job in *j, its rq and rs set: 1; 0 at the end of the
	 * input; or an exit status (> 1, already said) that ends it there. */
	int (*make)(void *ctx, struct oai_job **j);
	void (*first)(void *ctx, struct oai_job *j);
	/* The first job has ended with j->status (0: a 2xx answer, or
	 * skipped; else the exit status, its error printed or, with
	 * rq.defer_error, in rs.error; rs.budget when the budget stopped
	 * it): write its output; 0 goes on, an exit status ends the run. */
	int (*finish)(void *ctx, struct oai_job *j);
	/* Free a job, finished or not. */
	void (*drop)(void *ctx, struct oai_job *j);
	void *ctx;
};

/* Run it to its end: 130 or 143 when interrupted (no finish() after
 * that), else the worst status make() and finish() returned, or 0. */
int oai_ordered_run(struct oai *o, const struct oai_ordered *p);

/* ---- convs.c: oai-chat's saved conversations and line history ------ */

/* $XDG_STATE_HOME/oai/name (default ~/.local/state/oai/name; name NULL:
 * the directory) into b; -1 (ENOENT) with neither variable set. */
int state_path(struct buf *b, const char *name);
/* mkdir -p dir, new directories 0700; 0 or -1 (errno). */
int state_mkdir(const char *dir);
/* A new conversation's file name: conversations/YYYYMMDD-HHMMSS-PID
 * .jsonl under the state directory (not created); 0 or -1 (errno). */
int conv_newpath(struct buf *b);
/* The conversation changed last (--continue) into path; dies when there
 * is none (status 2) or the directory cannot be read. */
int conv_latest(struct buf *path);
/* Remove all but the max conversations changed last beside path (a new
 * one of conv_newpath(), just written, and always kept):
 * OAI_HISTORY_SIZE (oai-chat(1)). */
void conv_prune(const char *path, long max);
/* --list-conversations: one line each, oldest change first (oai-chat(1));
 * 0, or 2 when a file is not a conversation (said on stderr). */
int conv_list(int json);

/* ---- lineedit.c: oai-chat's interactive line editor (libedit) ------ */

/*
 * Lines edited with libedit (emacs keys, ~/.editrc) and a history of
 * histsize lines; LC_CTYPE becomes UTF-8 (only that category).  When
 * standard input and output are a terminal and TERM is set and not
 * "dumb", bracketed paste is on while a line is read: a paste is put in
 * the line with its newlines.  Between lines (a reply streaming) the
 * terminal's EOF character is off, so that a Ctrl-D typed then waits for
 * the next read, which ends; the terminal's modes from before come back
 * at ledit_close(), at exit, and before SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP
 * or SIGQUIT stops or ends the program (handlers kept for the session).
 * Programs using it link with -ledit.
 */
struct ledit;
struct ledit *ledit_open(const char *name, int histsize);
/* One line (malloc'd, no final newline; a paste's newlines kept), or
 * NULL at the end of the input or when a signal set oai_interrupted. */
char *ledit_read(struct ledit *le, const char *prompt);
void ledit_add(struct ledit *le, const char *line);
/* The history file (libedit's format): 0, or -1. */
int ledit_load(struct ledit *le, const char *path);
int ledit_save(struct ledit *le, const char *path);
void ledit_close(struct ledit *le);

#endif
