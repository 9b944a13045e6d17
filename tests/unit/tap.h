/* See LICENSE file for copyright and license details. */
/* Included once by each unit test: needs <stdarg.h> and <stdio.h>. */
/* TAP: one line per case, the plan at the end. */
static int ntest, nfail;

static void
ok(int pass, const char *name, const char *fmt, ...)
{
	va_list ap;

	ntest++;
	if (pass) {
		printf("ok %d - %s\n", ntest, name);
		return;
	}
	nfail++;
	printf("not ok %d - %s", ntest, name);
	if (fmt) {
		fputs(": ", stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
}

static void
skip(const char *why)
{
	ntest++;
	printf("ok %d # skip %s\n", ntest, why);
}
