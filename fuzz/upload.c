/* See LICENSE file for copyright and license details. */
/*
 * libFuzzer target: the upload reader behind the multipart builder
 * (lib/form.c), which counts a file part's bytes as libcurl asks for
 * them.  Input layout:
 *
 *   byte 0       the part's max (0: no limit); 255 means 1000
 *   byte 1       bit 7: a pipe (size unknown) instead of a regular
 *                file; low 4 bits: number k of read sizes
 *   bytes 2..k+1 the sizes libcurl asks for (0 counts as 1)
 *   the rest     the file
 *
 * What comes out must be a prefix of the file; the whole file when it
 * is not empty and within max; an empty file and one over max end with
 * an abort saying which; a regular file rewinds and reads the same
 * again, a pipe refuses to.
 */
#include <fcntl.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fuzz.h"
#include "httpint.h"

/* Read everything the way libcurl would; return the last result. */
static size_t
upload_fz_drain(void *s, const uint8_t *len, int k, struct buf *got)
{
	char chunk[256];
	size_t want, n = 0;
	int i;

	for (i = 0;; i++) {
		want = k ? len[i % k] : 64;
		if (want == 0)
			want = 1;
		n = upload_read(chunk, 1, want, s);
		if (n == CURL_READFUNC_ABORT || n == 0)
			return n;
		FUZZ_CHECK(n <= want);
		buf_add(got, chunk, n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oai_part part = { .name = "file" };
	struct upload up;
	struct buf got = BUF_INIT, path = BUF_INIT;
	char tmp[] = "/tmp/fuzz-upload.XXXXXX";
	const uint8_t *len, *file;
	size_t n, r, want;
	curl_off_t sz;
	int k, pipe_, fd = -1, pfd[2];
	void *s;

	if (size < 2)
		return 0;
	part.max = data[0] == 255 ? 1000 : data[0];
	pipe_ = data[1] & 0x80;
	k = data[1] & 15;
	if (size - 2 < (size_t)k)
		return 0;
	len = data + 2;
	file = data + 2 + k;
	n = size - 2 - k;
	if (pipe_) {
		if (n > 60000 || pipe(pfd) < 0)
			return 0;
		if (n && write(pfd[1], file, n) != (ssize_t)n)
			abort();
		close(pfd[1]);
		buf_printf(&path, "/dev/fd/%d", pfd[0]);
	} else {
		if ((fd = mkstemp(tmp)) < 0)
			abort();
		if (n && write(fd, file, n) != (ssize_t)n)
			abort();
		buf_adds(&path, tmp);
	}
	part.path = path.s;
	memset(&up, 0, sizeof up);
	s = upload_open(&part, &up, &sz);
	FUZZ_CHECK(pipe_ ? sz == -1 : sz == (curl_off_t)n);
	r = upload_fz_drain(s, len, k, &got);
	FUZZ_CHECK(got.len <= n && fuzz_eq(got.s, got.len, file, got.len));
	FUZZ_CHECK((long long)got.len == up.sent ||
	    (up.why == UPLOAD_TOOBIG && (long long)got.len < up.sent));
	if (n == 0) {
		FUZZ_CHECK(r == CURL_READFUNC_ABORT && up.why == UPLOAD_EMPTY);
	} else if (part.max && (long long)n > part.max) {
		FUZZ_CHECK(r == CURL_READFUNC_ABORT && up.why == UPLOAD_TOOBIG);
		FUZZ_CHECK((long long)got.len <= part.max);
	} else {
		FUZZ_CHECK(r == 0 && up.why == UPLOAD_OK);
		FUZZ_CHECK(fuzz_eq(got.s, got.len, file, n));
	}
	if (pipe_)
		FUZZ_CHECK(upload_seek(s, 0, SEEK_SET) ==
		    CURL_SEEKFUNC_CANTSEEK);
	else if (up.why == UPLOAD_OK) {
		FUZZ_CHECK(upload_seek(s, 0, SEEK_SET) == CURL_SEEKFUNC_OK);
		buf_reset(&got);
		want = (size_t)upload_fz_drain(s, len, k, &got);
		FUZZ_CHECK(want == 0 && fuzz_eq(got.s, got.len, file, n));
	}
	upload_free(s);
	if (pipe_)
		close(pfd[0]);
	else {
		close(fd);
		unlink(tmp);
	}
	buf_free(&got);
	buf_free(&path);
	return 0;
}
