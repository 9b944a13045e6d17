/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oai.h"

/*
 * Text to speech.  Audio goes out as it arrives.  Text over the API's
 * limit is spoken in several requests whose audio is joined into one
 * stream: mp3 (frames resynchronise; ID3 tags of later parts dropped),
 * pcm (raw samples) and wav (one header; sizes fixed when the output
 * can be seeked, else left "unknown" as in the API's own streams).
 */

#define MAXCHARS 4096		/* the API's limit, in characters */
#define UNKNOWN32 0xffffffffUL	/* WAV size meaning "until the end" */

enum {
	OPT_INSTRUCTIONS = OPT_TOOL,
	OPT_SPEED
};

static const char *const formats[] = { "mp3", "opus", "aac", "flac", "wav",
	"pcm", NULL };

#define USAGE \
	"usage: %s [-f format] [-m model] [-o file] [-v voice]\n" \
	"       [--instructions text] [--speed speed] [text ...]\n"

static void
usage(void)
{
	fprintf(stderr, USAGE "%s\n", argv0,
	    "       [--base-url URL] [--api-key-file FILE]\n"
	    "       [--timeout SECONDS] [--max-time SECONDS]\n"
	    "       [--retries N] [--verbose] [-h | --help] [--version]");
	exit(OAI_EX_USAGE);
}

static void
help(void)
{
	out_printf(USAGE "\n"
	    "Speak the text (the arguments, or standard input) and write the\n"
	    "audio to standard output as it arrives, or to a file.\n\n"
	    "  -f, --format FORMAT       mp3 (default), opus, aac, flac, wav, "
	    "pcm\n"
	    "  -m, --model MODEL         tts-1 (default), tts-1-hd, "
	    "gpt-4o-mini-tts\n"
	    "  -o, --output FILE         write to FILE, atomically\n"
	    "  -v, --voice VOICE         voice (default alloy)\n"
	    "      --instructions TEXT   how to speak (not with tts-1, "
	    "tts-1-hd)\n"
	    "      --speed SPEED         0.25 to 4 (default 1)\n\n"
	    "%s", argv0,
	    "Common options (-v is --voice here: use --verbose):\n"
	    "      --base-url URL        API base URL (default $OPENAI_BASE_URL "
	    "or\n"
	    "                            " OAI_DEFAULT_BASE_URL ")\n"
	    "      --api-key-file FILE   read the API key from FILE (mode 0600)\n"
	    "      --timeout SECONDS     the longest silence allowed while "
	    "audio\n"
	    "                            arrives (default 600)\n"
	    "      --max-time SECONDS    the longest any request may take "
	    "(default\n"
	    "                            3600)\n"
	    "      --retries N           retries on connection errors, 408, "
	    "409,\n"
	    "                            429 and 5xx (default 2)\n"
	    "      --verbose             print request details on stderr\n"
	    "  -h, --help                print this help and exit\n"
	    "      --version             print the version and exit\n");
	out_close();
	exit(0);
}

/* ---- splitting ---------------------------------------------------------- */

static int
isspc(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

static size_t
nchars(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* Byte length of the sentence end at s (., !, ?, or a full-width one,
 * with closing quotes and brackets), 0 if none; a Latin sentence end
 * needs a space after it ("3.14" is not one); a line end is one. */
static size_t
sentend(const char *s, size_t n)
{
	size_t k = 0;

	if (n >= 3 && (memcmp(s, "\xe3\x80\x82", 3) == 0 ||
	    memcmp(s, "\xef\xbc\x81", 3) == 0 ||
	    memcmp(s, "\xef\xbc\x9f", 3) == 0))
		return 3;
	if (*s == '\n')
		return 1;	/* a line end always ends something */
	if (*s != '.' && *s != '!' && *s != '?')
		return 0;
	k = 1;
	while (k < n && strchr(".!?\"')]", s[k]))
		k++;
	return k == n || isspc((unsigned char)s[k]) ? k : 0;
}

/*
 * Cut text into pieces of at most MAXCHARS characters: at the last
 * sentence end that fits (unless it leaves less than half a piece), else
 * the last space, else (one enormous word) at a character boundary.  Pieces are trimmed; returns their number,
 * *off and *len hold them.
 */
static size_t
split(const char *s, size_t n, size_t **off, size_t **len)
{
	size_t np = 0, cap = 0, pos = 0, i, k, chars, cut, sent, sp, e;

	*off = *len = NULL;
	while (pos < n) {
		while (pos < n && isspc((unsigned char)s[pos]))
			pos++;
		if (pos == n)
			break;
		/* i: byte end of the first MAXCHARS characters */
		for (i = pos, chars = 0; i < n; i++) {
			if (((unsigned char)s[i] & 0xc0) != 0x80 &&
			    chars++ == MAXCHARS)
				break;
		}
		cut = i;
		if (i < n) {
			sent = sp = 0;
			for (k = pos; k < i; k++) {
				if ((e = sentend(s + k, n - k)) && k + e <= i)
					sent = k + e;
				if (isspc((unsigned char)s[k]) && k > pos)
					sp = k;
			}
			/* a space right at the limit counts too */
			if (isspc((unsigned char)s[i]))
				sp = i;
			/* a sentence end early in the window would make
			 * a tiny request: then a space is the better cut */
			if (sent && sent - pos < (i - pos) / 2 && sp > sent)
				sent = 0;
			cut = sent ? sent : sp ? sp : i;
		}
		e = cut;
		while (e > pos && isspc((unsigned char)s[e - 1]))
			e--;
		if (np == cap) {
			cap = cap ? cap * 2 : 4;
			*off = xreallocarray(*off, cap, sizeof **off);
			*len = xreallocarray(*len, cap, sizeof **len);
		}
		(*off)[np] = pos;
		(*len)[np++] = e - pos;
		pos = cut;
	}
	return np;
}

/* ---- output --------------------------------------------------------------- */

static char *tmppath;		/* -o's temporary file, until renamed */
static char *text;		/* global: still reachable when we die() */
static int ofd = -1;		/* its descriptor; -1: standard output */

static void
rmtmp(void)
{
	if (tmppath) {
		unlink(tmppath);
		free(tmppath);
		tmppath = NULL;
	}
}

static void
emit(const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	if (ofd < 0) {
		out_add(p, n);
		return;
	}
	while (n > 0) {
		if ((w = write(ofd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			edie(OAI_EX_FAILURE, "write error on %s", tmppath);
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Create the temporary file beside path, so rename() is atomic. */
static void
opentmp(const char *path)
{
	struct buf b = BUF_INIT;
	char *d1 = xstrdup(path), *d2 = xstrdup(path);
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		die(OAI_EX_USAGE, "-o: %s is a directory", path);
	buf_printf(&b, "%s/.%s.XXXXXX", dirname(d1), basename(d2));
	free(d1);
	free(d2);
	tmppath = buf_steal(&b, NULL);
	if ((ofd = mkstemp(tmppath)) < 0) {
		int e = errno;

		free(tmppath);
		tmppath = NULL;
		errno = e;
		edie(OAI_EX_FAILURE, "%s", path);
	}
	atexit(rmtmp);	/* die() anywhere, or an interruption */
}

static void
committmp(const char *path)
{
	struct stat st;
	mode_t mode, um;
	char *d;
	int dfd;

	/* mkstemp made it 0600: give it the mode a new file gets, or keep
	 * the mode of the file it replaces. */
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	else {
		um = umask(0);
		umask(um);
		mode = 0666 & ~um;
	}
	if (fchmod(ofd, mode) < 0 || fsync(ofd) < 0)
		edie(OAI_EX_FAILURE, "%s", tmppath);
	if (close(ofd) < 0)
		edie(OAI_EX_FAILURE, "%s", tmppath);
	ofd = -1;
	if (rename(tmppath, path) < 0)
		edie(OAI_EX_FAILURE, "%s", path);
	free(tmppath);
	tmppath = NULL;
	/* make the rename itself durable */
	d = xstrdup(path);
	if ((dfd = open(dirname(d), O_RDONLY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(d);
}

/* ---- joining the parts --------------------------------------------------- */

struct join {
	const char *format;
	int part;		/* 0 for the first request */
	int nparts;
	struct oai_resp *rs;
	int checked;		/* content type looked at */
	/* mp3: later parts' ID3v2 tags are skipped */
	unsigned char id3[10];
	size_t id3n;
	unsigned long long skip;
	/* wav */
	struct buf hdr;		/* the current part's header, until data */
	int inhdr;
	unsigned long long left;	/* data bytes still expected */
	unsigned long long datatotal;	/* data bytes written */
	size_t hdrlen;		/* length of the header written */
	int patchable;		/* output can be seeked to fix sizes */
	off_t start;		/* output offset of the header */
};

static void
put32(unsigned char *p, unsigned long v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static unsigned long
get32(const unsigned char *p)
{
	return p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	    (unsigned long)p[3] << 24;
}

static void
wavdata(struct join *j, const char *p, size_t n)
{
	if (n > j->left)
		n = (size_t)j->left;	/* chunks after data: not audio */
	if (j->left != (unsigned long long)-1)
		j->left -= n;
	j->datatotal += n;
	emit(p, n);
}

/* Feed a wav part: returns -1 when the bytes are not WAV. */
static int
wavfeed(struct join *j, const char *p, size_t n)
{
	unsigned char *h;
	size_t off, rest;
	unsigned long sz;

	if (!j->inhdr) {
		wavdata(j, p, n);
		return 0;
	}
	buf_add(&j->hdr, p, n);
	h = (unsigned char *)j->hdr.s;
	if (j->hdr.len < 12)
		return 0;
	if (memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
		return -1;
	for (off = 12; off + 8 <= j->hdr.len; off += 8 + sz + (sz & 1)) {
		sz = get32(h + off + 4);
		if (memcmp(h + off, "data", 4) != 0)
			continue;
		off += 8;
		j->inhdr = 0;
		j->left = sz == UNKNOWN32 || sz == 0 ?
		    (unsigned long long)-1 : sz;
		if (j->part == 0) {
			if (j->nparts > 1 && !j->patchable) {
				/* total unknown until the end: say so */
				put32(h + 4, UNKNOWN32);
				put32(h + off - 4, UNKNOWN32);
			}
			emit(h, off);
			j->hdrlen = off;
		}
		rest = j->hdr.len - off;
		if (rest)
			wavdata(j, j->hdr.s + off, rest);
		buf_free(&j->hdr);
		return 0;
	}
	return j->hdr.len > 65536 ? -1 : 0;
}

static int
mp3feed(struct join *j, const char *p, size_t n)
{
	size_t k;

	if (j->part == 0) {
		emit(p, n);
		return 0;
	}
	/* first 10 bytes of a later part: an ID3v2 header? */
	while (j->id3n < 10 && n) {
		j->id3[j->id3n++] = (unsigned char)*p++;
		n--;
		if (j->id3n == 10) {
			unsigned char *t = j->id3;

			if (memcmp(t, "ID3", 3) == 0 && !((t[6] | t[7] | t[8] |
			    t[9]) & 0x80))
				j->skip = ((unsigned long long)t[6] << 21 |
				    t[7] << 14 | t[8] << 7 | t[9]) +
				    (t[5] & 0x10 ? 10 : 0);
			else
				emit(t, 10);
		}
	}
	if (j->id3n < 10)
		return 0;
	k = n < j->skip ? n : (size_t)j->skip;
	j->skip -= k;
	emit(p + k, n - k);
	return 0;
}

static int
sink(void *ctx, const char *p, size_t n)
{
	struct join *j = ctx;
	const char *ct = j->rs->content_type;

	if (!j->checked) {
		j->checked = 1;
		if (strncasecmp(ct, "application/json", 16) == 0 ||
		    strncasecmp(ct, "text/", 5) == 0) {
			warnx("unexpected response: %s instead of audio", ct);
			return OAI_EX_FAILURE;
		}
	}
	if (strcmp(j->format, "wav") == 0) {
		if (wavfeed(j, p, n) < 0) {
			warnx("unexpected response: not WAV audio");
			return OAI_EX_FAILURE;
		}
	} else if (strcmp(j->format, "mp3") == 0)
		mp3feed(j, p, n);
	else
		emit(p, n);
	if (ofd < 0)
		out_flush();	/* a player downstream starts now */
	return 0;
}

/* Seek back and write the real sizes into the WAV header. */
static void
wavpatch(struct join *j)
{
	unsigned char b[4];
	unsigned long long riff = j->hdrlen - 8 + j->datatotal;
	int fd = ofd < 0 ? 1 : ofd;

	if (!j->patchable || !j->hdrlen)
		return;
	if (ofd < 0)
		out_flush();
	put32(b, riff > UNKNOWN32 ? UNKNOWN32 : (unsigned long)riff);
	if (pwrite(fd, b, 4, j->start + 4) != 4)
		edie(OAI_EX_FAILURE, "cannot fix the WAV header");
	put32(b, j->datatotal > UNKNOWN32 ? UNKNOWN32 :
	    (unsigned long)j->datatotal);
	if (pwrite(fd, b, 4, j->start + (off_t)j->hdrlen - 4) != 4)
		edie(OAI_EX_FAILURE, "cannot fix the WAV header");
}

/* Can fd be seeked back to fix a header (a regular file, not O_APPEND)? */
static int
seekable(int fd, off_t *start)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((fl = fcntl(fd, F_GETFL)) < 0 || (fl & O_APPEND))
		return 0;
	return (*start = lseek(fd, 0, SEEK_CUR)) >= 0;
}

/* ---- main ---------------------------------------------------------------- */

static char *
readtext(int argc, char *argv[], size_t *n)
{
	struct buf b = BUF_INIT;
	size_t bad;
	int i;

	if (argc > 0) {
		for (i = 0; i < argc; i++) {
			if (i)
				buf_addc(&b, ' ');
			buf_adds(&b, argv[i]);
		}
	} else if (buf_readfd(&b, 0) < 0)
		edie(OAI_EX_FAILURE, "standard input");
	if (oai_interrupted)
		exit(oai_intr_status());
	if ((bad = utf8_invalid(b.s ? b.s : "", b.len)) != (size_t)-1)
		die(OAI_EX_USAGE, "input is not valid UTF-8 at byte offset %zu",
		    bad);
	if (memchr(b.s ? b.s : "", '\0', b.len))
		die(OAI_EX_USAGE, "input contains a NUL byte at byte offset %zu",
		    (size_t)((char *)memchr(b.s, '\0', b.len) - b.s));
	return buf_steal(&b, n);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format",       required_argument, NULL, 'f' },
		{ "model",        required_argument, NULL, 'm' },
		{ "output",       required_argument, NULL, 'o' },
		{ "voice",        required_argument, NULL, 'v' },
		{ "instructions", required_argument, NULL, OPT_INSTRUCTIONS },
		{ "speed",        required_argument, NULL, OPT_SPEED },
		OAI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct oai o;
	struct oai_req rq = { .method = "POST", .path = "/audio/speech" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct buf body = BUF_INIT;
	struct jw w;
	struct join j;
	const char *format = "mp3", *model = "tts-1", *voice = "alloy";
	const char *output = NULL, *instr = NULL;
	double speed = 0;
	size_t n, np, i, *off, *len;
	int c, rc = 0;

	oai_init(&o, argc, argv);
	while ((c = getopt_long(argc, argv, "f:hm:o:v:", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'f':
			format = formats[xchoice("-f", optarg, formats)];
			break;
		case 'h':
		case OPT_HELP:
			help();
			break;
		case 'm':
			if (!*optarg)
				die(OAI_EX_USAGE, "-m: empty model name");
			model = optarg;
			break;
		case 'o':
			if (!*optarg)
				die(OAI_EX_USAGE, "-o: empty file name");
			output = strcmp(optarg, "-") ? optarg : NULL;
			break;
		case 'v':
			if (!*optarg)
				die(OAI_EX_USAGE, "-v: empty voice name");
			voice = optarg;
			break;
		case OPT_INSTRUCTIONS:
			instr = optarg;
			break;
		case OPT_SPEED:
			speed = xstrtod("--speed", optarg, 0.25, 4);
			break;
		default:
			if (!oai_option(&o, c, optarg))
				usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (instr && (strcmp(model, "tts-1") == 0 ||
	    strcmp(model, "tts-1-hd") == 0))
		die(OAI_EX_USAGE, "--instructions does not work with %s; use "
		    "-m gpt-4o-mini-tts", model);
	if (instr && utf8_invalid(instr, strlen(instr)) != (size_t)-1)
		die(OAI_EX_USAGE, "--instructions: not valid UTF-8 at byte "
		    "offset %zu", utf8_invalid(instr, strlen(instr)));
	if (instr && nchars(instr, strlen(instr)) > MAXCHARS)
		die(OAI_EX_USAGE, "--instructions: over the API's %d "
		    "characters", MAXCHARS);
	if (!output)
		out_refuse_tty("audio", "use -o FILE");

	text = readtext(argc, argv, &n);
	np = split(text, n, &off, &len);
	if (np == 0)
		die(OAI_EX_USAGE, "no text to speak");
	if (np > 1 && strcmp(format, "mp3") && strcmp(format, "wav") &&
	    strcmp(format, "pcm"))
		die(OAI_EX_USAGE, "the text is %zu characters, over the API's "
		    "%d, and %s audio cannot be joined: use -f mp3, wav or pcm "
		    "(and convert), or split the text yourself",
		    nchars(text, n), MAXCHARS, format);
	oai_setup(&o);

	memset(&j, 0, sizeof j);
	j.format = format;
	j.nparts = (int)np;
	j.rs = &rs;
	if (output) {
		opentmp(output);
		j.patchable = 1;
		j.start = 0;
	} else
		j.patchable = seekable(1, &j.start);

	rq.stream = 1;		/* a long download is fine; silence is not */
	rq.accept = "application/octet-stream";
	rq.sink = sink;
	rq.sink_ctx = &j;
	for (i = 0; i < np && rc == 0; i++) {
		buf_reset(&body);
		jw_init(&w, &body);
		jw_obj(&w);
		jw_key(&w, "model");
		jw_str(&w, model);
		jw_key(&w, "input");
		jw_strn(&w, text + off[i], len[i]);
		jw_key(&w, "voice");
		jw_str(&w, voice);
		if (instr) {
			jw_key(&w, "instructions");
			jw_str(&w, instr);
		}
		jw_key(&w, "response_format");
		jw_str(&w, format);
		if (speed > 0) {
			jw_key(&w, "speed");
			jw_num(&w, speed);
		}
		jw_obj_end(&w);
		rq.body = body.s;
		rq.bodylen = body.len;
		j.part = (int)i;
		j.checked = 0;
		j.id3n = 0;
		j.skip = 0;
		j.inhdr = 1;
		buf_reset(&j.hdr);
		if (o.verbose && np > 1)
			warnx("part %zu of %zu: %zu characters", i + 1, np,
			    nchars(text + off[i], len[i]));
		rc = oai_request(&o, &rq, &rs);
		if (rc == 0 && !j.checked) {
			/* The sink never ran: a 2xx with no body at all. */
			warnx("unexpected response: no audio");
			rc = OAI_EX_FAILURE;
		} else if (rc == 0 && !strcmp(format, "wav") && j.inhdr) {
			warnx("unexpected response: not WAV audio");
			rc = OAI_EX_FAILURE;
		}
		if (rc == 0 && oai_interrupted)
			rc = oai_intr_status();
	}
	if (rc == 0 && strcmp(format, "wav") == 0)
		wavpatch(&j);
	if (rc == 0 && output)
		committmp(output);
	else if (output)
		rmtmp();
	buf_free(&j.hdr);
	buf_free(&body);
	free(off);
	free(len);
	free(text);
	oai_resp_free(&rs);
	out_close();
	oai_cleanup(&o);
	return rc;
}
