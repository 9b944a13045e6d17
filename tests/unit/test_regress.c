/* See LICENSE file for copyright and license details. */
/*
 * Replay every input in fuzz/regress/<target>/ (crashes the fuzzers
 * found, kept once fixed) through the fuzz targets, built here as
 * plain code against lib/liboai.a: no libFuzzer needed, and under
 * `make check SANITIZE=1` with ASan+UBSan.  Each input runs in a child,
 * so one crash is one failed test.  Run from the top directory (as
 * tests/run does) or give the regress directory as argument.  TAP.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oai.h"

/* Every target in this one unit, each under its own name. */
#define LLVMFuzzerTestOneInput fuzz_json
#include "../../fuzz/json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_sse
#include "../../fuzz/sse.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_jsonw
#include "../../fuzz/jsonw.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_errbody
#include "../../fuzz/errbody.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_retryafter
#include "../../fuzz/retryafter.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_conv
#include "../../fuzz/conv.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_upload
#include "../../fuzz/upload.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_baseurl
#include "../../fuzz/baseurl.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_redact
#include "../../fuzz/redact.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_jscan
#include "../../fuzz/jscan.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_base64
#include "../../fuzz/base64.c"
#undef LLVMFuzzerTestOneInput

static const struct {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} targets[] = {
	{ "json", fuzz_json },
	{ "sse", fuzz_sse },
	{ "jsonw", fuzz_jsonw },
	{ "errbody", fuzz_errbody },
	{ "retryafter", fuzz_retryafter },
	{ "conv", fuzz_conv },
	{ "upload", fuzz_upload },
	{ "baseurl", fuzz_baseurl },
	{ "redact", fuzz_redact },
	{ "jscan", fuzz_jscan },
	{ "base64", fuzz_base64 },
};

static int ntest, nfail;

/* Run fn on the file's bytes (path NULL: on no bytes) in a child. */
static void
replay(const char *target, int (*fn)(const uint8_t *, size_t),
    const char *path, const char *label)
{
	struct buf b = BUF_INIT;
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		if (path && buf_readfile(&b, path) < 0) {
			perror(path);
			_exit(3);
		}
		fn((const uint8_t *)(b.len ? b.s : ""), b.len);
		buf_free(&b);
		_exit(0);
	}
	ntest++;
	if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0) {
		printf("ok %d - %s: %s\n", ntest, target, label);
		return;
	}
	nfail++;
	if (WIFSIGNALED(st))
		printf("not ok %d - %s: %s: signal %d\n", ntest, target, label,
		    WTERMSIG(st));
	else
		printf("not ok %d - %s: %s: exit %d\n", ntest, target, label,
		    WEXITSTATUS(st));
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char *argv[])
{
	const char *top = argc > 1 ? argv[1] : "fuzz/regress";
	struct dirent *de;
	struct buf path = BUF_INIT;
	char **names;
	size_t i, nn, cap;
	DIR *d;
	size_t t;

	argv0 = "test_regress";
	for (t = 0; t < sizeof targets / sizeof targets[0]; t++) {
		replay(targets[t].name, targets[t].fn, NULL, "empty input");
		buf_reset(&path);
		buf_printf(&path, "%s/%s", top, targets[t].name);
		if (!(d = opendir(path.s)))
			continue;
		names = NULL;
		nn = cap = 0;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if (nn == cap) {
				cap = cap ? cap * 2 : 16;
				names = xreallocarray(names, cap,
				    sizeof *names);
			}
			names[nn++] = xstrdup(de->d_name);
		}
		closedir(d);
		if (nn)
			qsort(names, nn, sizeof *names, cmp);
		for (i = 0; i < nn; i++) {
			buf_reset(&path);
			buf_printf(&path, "%s/%s/%s", top, targets[t].name,
			    names[i]);
			replay(targets[t].name, targets[t].fn, path.s,
			    names[i]);
			free(names[i]);
		}
		free(names);
	}
	buf_free(&path);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
