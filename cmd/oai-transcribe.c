/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oai.h"

/*
 * Speech to text.  The audio is never read into memory: libcurl streams
 * it from the file (or stdin) into the multipart body.
 */

#define MAXBYTES (25LL * 1024 * 1024)	/* the API's upload limit */

/* Extensions the API recognises, with the content type sent for each. */
static const struct {
	const char *ext;
	const char *type;
} exts[] = {
	{ "flac", "audio/flac" }, { "m4a", "audio/mp4" },
	{ "mp3", "audio/mpeg" }, { "mp4", "audio/mp4" },
	{ "mpeg", "audio/mpeg" }, { "mpga", "audio/mpeg" },
	{ "oga", "audio/ogg" }, { "ogg", "audio/ogg" },
	{ "wav", "audio/wav" }, { "webm", "audio/webm" },
};

static const char *const formats[] = { "text", "json", "verbose_json", "srt",
	"vtt", NULL };
static const char *const granularities[] = { "word", "segment", NULL };

static struct {
	int format;		/* in formats[], -1 when not given */
	const char *language, *model, *prompt, *fname;
	double temp;
	int has_temp, word, segment, translate, stream, usage, dryrun;
} opt = { -1, NULL, "whisper-1", NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 };

static void language(struct oai *o, const char *arg);
static void filename(struct oai *o, const char *arg);
static void timestamps(struct oai *o, const char *arg);

static const struct oai_opt opts[] = {
	OAI_CHOICE('f', "format", "format", &opt.format, formats,
	    "text (default), json, verbose_json, srt, vtt"),
	OAI_FN('l', "language", "language", language,
	    "language of the audio (ISO-639-1, e.g. en)"),
	OAI_NAME('m', "model", "model", &opt.model, "model name",
	    "model (default whisper-1)"),
	OAI_FLAG('u', "usage", &opt.usage,
	    "print the audio's seconds or tokens and\n"
	    "the cost on stderr"),
	OAI_NUM('t', "temperature", "temperature", &opt.temp, &opt.has_temp,
	    0, 1, "sampling temperature, 0 to 1"),
	OAI_FLAG(0, "dry-run", &opt.dryrun,
	    "print the form (a part a line), send nothing"),
	OAI_FN(0, "filename", "name", filename,
	    "file name sent for the upload (needed with -)"),
	OAI_STR(0, "prompt", "text", &opt.prompt,
	    "text to guide the style or vocabulary"),
	OAI_FLAG(0, "stream", &opt.stream,
	    "print the text as it is transcribed\n"
	    "(gpt-4o-transcribe, gpt-4o-mini-transcribe)"),
	OAI_FN(0, "timestamps", "word | segment", timestamps,
	    "word or segment timestamps (repeatable;\n"
	    "needs -f verbose_json)"),
	OAI_FLAG(0, "translate", &opt.translate,
	    "translate the speech into English"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"file | -",
	"Transcribe speech in an audio file (flac, m4a, mp3, mp4, mpeg,\n"
	"mpga, ogg, wav, webm; at most 25 MB), or - for standard input.",
	opts
};

static const char *
extof(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && dot != name && !strchr(dot, '/') ? dot + 1 : NULL;
}

static const char *
exttype(const char *ext)
{
	size_t i;

	if (!ext)
		return NULL;
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (strcasecmp(ext, exts[i].ext) == 0)
			return exts[i].type;
	return NULL;
}

static void
language(struct oai *o, const char *arg)
{
	(void)o;
	if (!*arg || strlen(arg) > 16 || strspn(arg, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-") != strlen(arg))
		die(OAI_EX_USAGE, "--language: invalid language '%s' (an "
		    "ISO-639-1 code such as en)", arg);
	opt.language = arg;
}

static void
filename(struct oai *o, const char *arg)
{
	(void)o;
	if (!*arg || strchr(arg, '/'))
		die(OAI_EX_USAGE, "--filename: '%s' is not a file name", arg);
	if (!exttype(extof(arg)))
		die(OAI_EX_USAGE, "--filename: '%s' needs an extension the API "
		    "knows (flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, "
		    "webm)", arg);
	opt.fname = arg;
}

static void
timestamps(struct oai *o, const char *arg)
{
	(void)o;
	if (xchoice("--timestamps", arg, granularities))
		opt.segment = 1;
	else
		opt.word = 1;
}

/* Guess an extension from the first bytes of a file, or NULL. */
static const char *
sniff(const unsigned char *p, size_t n)
{
	if (n >= 3 && memcmp(p, "ID3", 3) == 0)
		return "mp3";
	if (n >= 2 && p[0] == 0xff && (p[1] & 0xe0) == 0xe0 &&
	    (p[1] & 0x06) != 0)
		return "mp3";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0)
		return "wav";
	if (n >= 4 && memcmp(p, "fLaC", 4) == 0)
		return "flac";
	if (n >= 4 && memcmp(p, "OggS", 4) == 0)
		return "ogg";
	if (n >= 4 && memcmp(p, "\x1a\x45\xdf\xa3", 4) == 0)
		return "webm";
	if (n >= 8 && memcmp(p + 4, "ftyp", 4) == 0)
		return "m4a";
	return NULL;
}

/* The line for input over the limit: size bytes, or -1 when it was
 * counted while sending (a pipe, a device). */
static char *
toobig(const char *what, long long size)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s: ", what);
	if (size >= 0)
		buf_printf(&b, "%lld bytes is ", size);
	buf_printf(&b, "over the API's 25 MB (%lld bytes) limit; split the "
	    "audio first, e.g. with ffmpeg -f segment", MAXBYTES);
	return buf_steal(&b, NULL);
}

/*
 * Check the file before uploading: it must be readable and within the
 * API's limit.  Returns the name to send, with an extension the API
 * recognises (sniffed from the content when the name has none).
 */
static char *
checkfile(const char *path, const char *fname, int *regular)
{
	struct stat st;
	unsigned char head[16];
	const char *base, *ext;
	struct buf b = BUF_INIT;
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		edie(OAI_EX_USAGE, "%s", path);
	if (fstat(fd, &st) < 0)
		edie(OAI_EX_USAGE, "%s", path);
	if (S_ISDIR(st.st_mode))
		die(OAI_EX_USAGE, "%s: is a directory", path);
	if (S_ISREG(st.st_mode) && st.st_size > MAXBYTES)
		die(OAI_EX_USAGE, "%s", toobig(path, (long long)st.st_size));
	if (S_ISREG(st.st_mode) && st.st_size == 0)
		die(OAI_EX_USAGE, "%s: empty file", path);
	*regular = S_ISREG(st.st_mode);
	if (S_ISREG(st.st_mode))
		while ((n = read(fd, head, sizeof head)) < 0 && errno == EINTR)
			;
	close(fd);
	if (fname)
		return xstrdup(fname);
	base = strrchr(path, '/');
	base = base && base[1] ? base + 1 : path;
	if (exttype(extof(base)))
		return xstrdup(base);
	/* A name without a usable extension: the API needs one. */
	if (!(ext = n > 0 ? sniff(head, (size_t)n) : NULL))
		die(OAI_EX_USAGE, "%s: cannot tell the audio format; name it "
		    "with --filename NAME.EXT (flac, m4a, mp3, mp4, mpeg, mpga, "
		    "ogg, wav, webm)", path);
	buf_printf(&b, "%s.%s", base, ext);
	return buf_steal(&b, NULL);
}

/* ---- upload progress on a terminal ----------------------------------- */

static int lastpct = -1;

static void
progress(void *ctx, long long sent, long long total)
{
	char bar[31];
	int pct, i, fill;

	(void)ctx;
	pct = (int)(sent * 100 / total);
	if (pct == lastpct)
		return;
	lastpct = pct;
	fill = pct * 30 / 100;
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %3d%% %.1f/%.1f MB", bar, pct,
	    (double)sent / 1e6, (double)total / 1e6);
	fflush(stderr);
}

static void
progress_end(void)
{
	if (lastpct >= 0) {
		/* erase the bar: the terminal is left as it was */
		fputs("\r\033[K", stderr);
		fflush(stderr);
		lastpct = -1;
	}
}

/* ---- streamed transcription ------------------------------------------ */

struct stream {
	struct oai_events ev;
	struct buf tmp;
	struct buf plain;	/* a body that is not an event stream */
	struct oai_resp *rs;
	int issse;		/* -1 until the content type is known */
	int done;		/* transcript.text.done seen */
	int nl;			/* last byte written was a newline */
};

static int
onevent(void *ctx, const struct json *j, const struct sse_event *ev)
{
	struct stream *s = ctx;
	int t = json_get(j, 0, "type");

	(void)ev;
	if (json_streq(j, t, "transcript.text.delta")) {
		buf_reset(&s->tmp);
		if (json_str(j, json_get(j, 0, "delta"), &s->tmp) == 0 &&
		    s->tmp.len) {
			out_add(s->tmp.s, s->tmp.len);
			out_flush();
			s->nl = s->tmp.s[s->tmp.len - 1] == '\n';
		}
	} else if (json_streq(j, t, "transcript.text.done"))
		s->done = 1;
	/* other events (segments, logprobs) are not text: ignored */
	return 0;
}

static int
streamsink(void *ctx, const char *p, size_t n)
{
	struct stream *s = ctx;

	if (s->issse < 0)
		s->issse = strncasecmp(s->rs->content_type, "text/event-stream",
		    17) == 0;
	if (s->issse)
		return oai_events_sink(&s->ev, p, n);
	/* The server did not stream (whisper-1 ignores it): the whole JSON
	 * answer, printed at the end. */
	if (s->plain.len + n > (1 << 24))
		return OAI_EX_FAILURE;
	buf_add(&s->plain, p, n);
	return 0;
}

static void
stream_init(struct stream *s, struct oai_req *rq, struct oai_resp *rs)
{
	memset(s, 0, sizeof *s);
	buf_init(&s->tmp);
	buf_init(&s->plain);
	oai_events_init(&s->ev, onevent, s);
	s->rs = rs;
	s->issse = -1;
	s->nl = 1;
	rq->stream = 1;
	rq->accept = "text/event-stream";
	rq->sink = streamsink;
	rq->sink_ctx = s;
	rq->events = &s->ev;
}

static void
stream_free(struct stream *s)
{
	oai_events_free(&s->ev);
	buf_free(&s->tmp);
	buf_free(&s->plain);
}

/* What is left to print once a streamed request has ended with rc. */
static int
stream_end(struct oai *o, const struct oai_req *rq, struct stream *s, int rc)
{
	int t;

	if (rc == 0 && s->issse == 0) {
		if ((t = oai_resp_json(o, rq, &s->plain, &s->ev.j, "text",
		    JSON_STRING, "neither an event stream nor a transcription"))
		    < 0)
			return OAI_EX_FAILURE;
		buf_reset(&s->tmp);
		json_str(&s->ev.j, t, &s->tmp);
		out_add(s->tmp.s, s->tmp.len);
		out_add("\n", 1);
		return 0;
	}
	/* end the partial line so the shell prompt is not glued */
	if (!s->nl && (rc == 0 || oai_output_started()))
		out_add("\n", 1);
	if (rc == 0 && !s->done) {
		out_flush();
		warnx("the stream ended before the transcript was complete");
		return OAI_EX_FAILURE;
	}
	return rc;
}

/* ---- the run ----------------------------------------------------------- */

/* Combinations the API would reject, refused before uploading. */
static void
checks(void)
{
	const char *format = opt.format < 0 ? NULL : formats[opt.format];

	if ((opt.word || opt.segment) &&
	    (!format || strcmp(format, "verbose_json")))
		die(OAI_EX_USAGE, "--timestamps needs -f verbose_json");
	if (opt.translate && (opt.language || opt.word || opt.segment ||
	    opt.stream))
		die(OAI_EX_USAGE, "--translate takes no %s", opt.language ?
		    "-l" : opt.stream ? "--stream" : "--timestamps");
	if (opt.stream && strcmp(opt.model, "whisper-1") == 0)
		die(OAI_EX_USAGE, "--stream needs a model that streams, such "
		    "as gpt-4o-transcribe or gpt-4o-mini-transcribe; whisper-1 "
		    "does not");
	if (opt.stream && format && strcmp(format, "text"))
		die(OAI_EX_USAGE, "--stream prints text: -f %s cannot be "
		    "streamed", format);
	if (opt.prompt)
		input_check("--prompt", opt.prompt, strlen(opt.prompt), 1);
}

/* The name the upload goes by; standard input is checked here. */
static char *
uploadname(struct oai *o, const char *path)
{
	struct stat sb;
	off_t left;
	int regular;
	char *name;

	if (strcmp(path, "-") != 0) {
		if (!(name = checkfile(path, opt.fname, &regular), regular))
			o->retries = 0;	/* a pipe (<(cmd)) cannot be read twice */
		return name;
	}
	if (!opt.fname)
		die(OAI_EX_USAGE, "reading standard input needs --filename "
		    "NAME.EXT, so that the API knows the audio format");
	if (isatty(0))
		die(OAI_EX_USAGE, "standard input is a terminal, not audio");
	/* a redirected file can be measured; a pipe cannot, and the API
	 * itself refuses what is over its limit */
	if (fstat(0, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (left = sb.st_size - lseek(0, 0, SEEK_CUR)) > MAXBYTES)
		die(OAI_EX_USAGE, "%s", toobig("standard input",
		    (long long)left));
	return xstrdup(opt.fname);
}

/* The form: the fields, then the file. */
static int
buildparts(struct oai_part *parts, const char *path, const char *name,
    struct buf *tbuf, char *big)
{
	struct jw w;
	int np = 0;

#define FIELD(n, v) (parts[np++] = (struct oai_part){ .name = (n), .value = (v) })
	FIELD("model", opt.model);
	if (!opt.stream)	/* streams are text: the default format */
		FIELD("response_format", opt.format < 0 ? "text" :
		    formats[opt.format]);
	if (opt.language)
		FIELD("language", opt.language);
	if (opt.prompt)
		FIELD("prompt", opt.prompt);
	if (opt.has_temp) {
		/* sent as checked: strtod also reads "0x1p-1" */
		jw_init(&w, tbuf);
		jw_num(&w, opt.temp);
		FIELD("temperature", tbuf->s);
	}
	if (opt.segment)
		FIELD("timestamp_granularities[]", "segment");
	if (opt.word)
		FIELD("timestamp_granularities[]", "word");
	if (opt.stream)
		FIELD("stream", "true");
#undef FIELD
	/* a pipe or a device is counted as it is sent (big: its line) */
	parts[np++] = (struct oai_part){ .name = "file", .path = path,
	    .filename = name, .type = exttype(extof(name)), .max = MAXBYTES,
	    .toobig = big };
	return np;
}

static int
transcribe(struct oai *o, const char *path)
{
	struct oai_part parts[12];
	struct oai_req rq = { .method = "POST" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct buf tbuf = BUF_INIT;
	struct stream st;
	char *name = uploadname(o, path);
	char *big = toobig(strcmp(path, "-") ? path : "standard input", -1);
	int rc;

	rq.path = opt.translate ? "/audio/translations" :
	    "/audio/transcriptions";
	rq.parts = parts;
	rq.nparts = buildparts(parts, path, name, &tbuf, big);
	if (opt.dryrun) {
		oai_form_print(parts, rq.nparts);
		rc = 0;
		goto done;
	}
	rq.model = opt.model;
	o->want_usage = opt.usage;
	if (isatty(2))
		rq.progress = progress;
	if (opt.stream)
		stream_init(&st, &rq, &rs);
	oai_setup(o);
	rc = oai_request(o, &rq, &rs);
	progress_end();
	if (opt.stream) {
		rc = stream_end(o, &rq, &st, rc);
		stream_free(&st);
	} else if (rc == 0)
		out_json(rs.body.s, rs.body.len);
	if (rc == 0 && opt.usage)
		oai_usage_print(&rs.usage);
done:
	free(name);
	free(big);
	buf_free(&tbuf);
	oai_resp_free(&rs);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct oai o;
	int i = oai_start(&o, &tool, argc, argv);

	if (argc - i != 1)
		oai_usage();
	checks();
	return oai_finish(&o, transcribe(&o, argv[i]));
}
