/* See LICENSE file for copyright and license details. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "oai.h"

const char *argv0 = "oai";
static const char *secret;	/* oai_redact_key() */
static const char *where;	/* oai_msg_where() */

static int
keychar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

size_t
oai_redact(char *out, const char *s, size_t n, const char *key)
{
	size_t i = 0, j, o = 0, k = key ? strlen(key) : 0;

	while (i < n) {
		if (k && n - i >= k && memcmp(s + i, key, k) == 0) {
			memcpy(out + o, "[redacted]", 10);
			o += 10;
			i += k;
			continue;
		}
		/* sk- then at least 8 key characters, not inside a word
		 * ("task-..." is no key). */
		if (n - i >= 11 && memcmp(s + i, "sk-", 3) == 0 &&
		    (i == 0 || !keychar((unsigned char)s[i - 1]))) {
			for (j = i + 3; j < n && keychar((unsigned char)s[j]);
			    j++)
				;
			if (j - i >= 11) {
				memcpy(out + o, "sk-[redacted]", 13);
				o += 13;
				i = j;
				continue;
			}
		}
		out[o++] = s[i++];
	}
	return o;
}

static void
vwarn(const char *fmt, va_list ap, int errnum)
{
	/* No struct buf here (buf.c dies through us).  One write to the
	 * unbuffered stderr, so lines from parallel tools do not mix. */
	char small[1024], *big = NULL, *line, *red;
	const char *m = small, *e = errnum ? strerror(errnum) : "";
	va_list aq;
	size_t len;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(small, sizeof small, fmt, aq);
	va_end(aq);
	if (n < 0)
		small[0] = '\0';
	else if ((size_t)n >= sizeof small && (big = malloc((size_t)n + 1))) {
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		m = big;
	}
	len = strlen(argv0) + (where ? strlen(where) + 2 : 0) + strlen(m) +
	    strlen(e) + 5;
	line = malloc(len);
	/* Redaction grows a text by at most a quarter (oai_redact()). */
	red = malloc(len + len / 4 + 16);
	if (line && red) {
		snprintf(line, len, "%s: %s%s%s%s%s\n", argv0, where ? where :
		    "", where ? ": " : "", m, errnum ? ": " : "", e);
		len = oai_redact(red, line, strlen(line), secret);
		fwrite(red, 1, len, stderr);
	} else
		fprintf(stderr, "%s: out of memory\n", argv0);
	fflush(stderr);
	/* What went unredacted into them may be the key. */
	wipe(small, sizeof small);
	if (big)
		wipe(big, strlen(big));
	if (line)
		wipe(line, strlen(line));
	free(big);
	free(line);
	free(red);
}

void
oai_msg_where(const char *w)
{
	where = w;
}

void
oai_redact_key(const char *key)
{
	secret = key && strlen(key) >= 8 ? key : NULL;
}

size_t
oai_limit(size_t n)
{
	static long div = -1;
	const char *s;

	if (div < 0)
		div = (s = getenv("OAI_TEST_LIMIT_DIV")) && atol(s) > 0 ?
		    atol(s) : 1;
	return n / (size_t)div ? n / (size_t)div : 1;
}

const char *
oai_size(char *s, size_t sz, size_t n)
{
	if (n >= 1 << 20 && n % (1 << 20) == 0)
		snprintf(s, sz, "%zu MiB", n >> 20);
	else if (n >= 1 << 10 && n % (1 << 10) == 0)
		snprintf(s, sz, "%zu KiB", n >> 10);
	else
		snprintf(s, sz, "%zu bytes", n);
	return s;
}

void
warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap, 0);
	va_end(ap);
}

void
die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap, 0);
	va_end(ap);
	exit(status);
}

void
edie(int status, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vwarn(fmt, ap, e);
	va_end(ap);
	exit(status);
}

static void
nomem(void)
{
	/* No allocation here: we are out of memory. */
	static const char msg[] = ": out of memory\n";

	fputs(argv0, stderr);
	fputs(msg, stderr);
	exit(OAI_EX_FAILURE);
}

#ifdef OAI_FAILALLOC
/*
 * Test builds (make FAILALLOC=1): OAI_FAILALLOC=n in the environment makes
 * the n-th allocation through these wrappers fail, so tests can walk every
 * allocation of a tool's main path and see a clean exit each time.
 */
static int
failnow(void)
{
	static long n = -1, count;
	const char *s;

	if (n < 0)
		n = (s = getenv("OAI_FAILALLOC")) ? atol(s) : 0;
	return n > 0 && ++count == n;
}
#define malloc(n)	(failnow() ? NULL : malloc(n))
#define calloc(a, b)	(failnow() ? NULL : calloc(a, b))
#define realloc(p, n)	(failnow() ? NULL : realloc(p, n))
#endif

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		nomem();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		nomem();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n ? n : 1)))
		nomem();
	return p;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		nomem();
	return xrealloc(p, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
wipe(void *p, size_t n)
{
	/* A volatile pointer keeps the stores from being optimised away. */
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

long long
xstrtonum(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '+')
		die(OAI_EX_USAGE, "%s: '%s' is not a number", opt, s);
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		die(OAI_EX_USAGE, "%s: '%s' is not a number", opt, s);
	if (errno == ERANGE || v < min || v > max)
		die(OAI_EX_USAGE, "%s: %s is out of range (%lld to %lld)",
		    opt, s, min, max);
	return v;
}

double
xstrtod(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '+')
		die(OAI_EX_USAGE, "%s: '%s' is not a number", opt, s);
	v = strtod(s, &end);
	if (*end != '\0' || isnan(v) || isinf(v))
		die(OAI_EX_USAGE, "%s: '%s' is not a number", opt, s);
	if (errno == ERANGE || v < min || v > max)
		die(OAI_EX_USAGE, "%s: %s is out of range (%g to %g)",
		    opt, s, min, max);
	return v;
}

long
dir_files(const char *dir, int (*keep)(const char *name),
    struct dirfile **out)
{
	struct buf path = BUF_INIT;
	struct dirfile *v = NULL;
	struct dirent *d;
	struct stat st;
	size_t k = 0, cap = 0;
	DIR *dp;

	*out = NULL;
	if (!(dp = opendir(dir)))
		return errno == ENOENT ? 0 : -1;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.' || !keep(d->d_name))
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, d->d_name);
		if (stat(path.s, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (k == cap)	/* doubling: a 1000-file scan, 10 reallocs */
			v = xreallocarray(v, cap = cap ? 2 * cap : 16,
			    sizeof *v);
		v[k].name = xstrdup(d->d_name);
		v[k++].mtime = st.st_mtim;
	}
	closedir(dp);
	buf_free(&path);
	*out = v;
	return (long)k;
}

void
dirfiles_free(struct dirfile *v, long n)
{
	while (n > 0)
		free(v[--n].name);
	free(v);
}
