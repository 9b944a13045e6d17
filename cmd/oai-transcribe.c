/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

enum {
	OPT_PROMPT = OPT_TOOL,
	OPT_TIMESTAMPS,
	OPT_TRANSLATE,
	OPT_STREAM,
	OPT_FILENAME
};

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

#define USAGE \
	"usage: %s [-f format] [-l language] [-m model] [-t temperature]\n" \
	"       [--filename name] [--prompt text] [--stream]\n" \
	"       [--timestamps word|segment] [--translate] file | -\n"

static void
usage(void)
{
	fprintf(stderr, USAGE "%s\n", argv0, OAI_COMMON_USAGE);
	exit(OAI_EX_USAGE);
}

static void
help(void)
{
	out_printf(USAGE "\n"
	    "Transcribe speech in an audio file (flac, m4a, mp3, mp4, mpeg,\n"
	    "mpga, ogg, wav, webm; at most 25 MB), or - for standard input.\n\n"
	    "  -f, --format FORMAT       text (default), json, verbose_json, "
	    "srt, vtt\n"
	    "  -l, --language LANG       language of the audio (ISO-639-1, "
	    "e.g. en)\n"
	    "  -m, --model MODEL         model (default whisper-1)\n"
	    "  -t, --temperature T       sampling temperature, 0 to 1\n"
	    "      --filename NAME       file name sent for the upload "
	    "(needed with -)\n"
	    "      --prompt TEXT         text to guide the style or vocabulary\n"
	    "      --stream              print the text as it is transcribed\n"
	    "                            (gpt-4o-transcribe, "
	    "gpt-4o-mini-transcribe)\n"
	    "      --timestamps WHICH    word or segment timestamps "
	    "(repeatable;\n"
	    "                            needs -f verbose_json)\n"
	    "      --translate           translate the speech into English\n"
	    "%s", argv0, OAI_COMMON_HELP);
	out_close();
	exit(0);
}

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
	struct sse sse;
	struct json j;
	struct buf tmp;
	struct buf plain;	/* a body that is not an event stream */
	struct oai_resp *rs;
	int issse;		/* -1 until the content type is known */
	int done;
	int nl;			/* last byte written was a newline */
	int rc;
};

static int
onevent(void *ctx, const struct sse_event *ev)
{
	struct stream *s = ctx;
	struct json *j = &s->j;
	int t;

	if (ev->datalen == 6 && memcmp(ev->data, "[DONE]", 6) == 0)
		return 0;
	if (json_parse(j, ev->data, ev->datalen) < 0 ||
	    json_type(j, 0) != JSON_OBJECT) {
		warnx("unexpected event in the stream: not a JSON object");
		return s->rc = OAI_EX_FAILURE;
	}
	t = json_get(j, 0, "type");
	if (json_streq(j, t, "transcript.text.delta")) {
		buf_reset(&s->tmp);
		if (json_str(j, json_get(j, 0, "delta"), &s->tmp) == 0 &&
		    s->tmp.len) {
			out_add(s->tmp.s, s->tmp.len);
			out_flush();
			s->nl = s->tmp.s[s->tmp.len - 1] == '\n';
		}
	} else if (json_streq(j, t, "transcript.text.done")) {
		s->done = 1;
	} else if (json_streq(j, t, "error") || json_get(j, 0, "error") >= 0) {
		buf_reset(&s->tmp);
		oai_error_line(&s->tmp, 0, ev->data, ev->datalen);
		warnx("error in the stream: %s", s->tmp.s ? s->tmp.s : "");
		return s->rc = OAI_EX_FAILURE;
	}
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
	if (!s->issse) {
		/* The server did not stream (whisper-1 ignores it): the
		 * whole JSON answer, printed at the end. */
		if (s->plain.len + n > (1 << 24))
			return OAI_EX_FAILURE;
		buf_add(&s->plain, p, n);
		return 0;
	}
	if (sse_feed(&s->sse, p, n))
		return s->rc ? s->rc : OAI_EX_FAILURE;
	return 0;
}

static int
printplain(struct stream *s)
{
	struct json *j = &s->j;
	int t;

	if (json_parse(j, s->plain.s ? s->plain.s : "", s->plain.len) < 0 ||
	    json_type(j, t = json_get(j, 0, "text")) != JSON_STRING) {
		warnx("unexpected response: neither an event stream nor a "
		    "transcription");
		return OAI_EX_FAILURE;
	}
	buf_reset(&s->tmp);
	json_str(j, t, &s->tmp);
	out_add(s->tmp.s, s->tmp.len);
	out_add("\n", 1);
	return 0;
}

/* ---- main ------------------------------------------------------------- */

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format",      required_argument, NULL, 'f' },
		{ "language",    required_argument, NULL, 'l' },
		{ "model",       required_argument, NULL, 'm' },
		{ "temperature", required_argument, NULL, 't' },
		{ "filename",    required_argument, NULL, OPT_FILENAME },
		{ "prompt",      required_argument, NULL, OPT_PROMPT },
		{ "stream",      no_argument,       NULL, OPT_STREAM },
		{ "timestamps",  required_argument, NULL, OPT_TIMESTAMPS },
		{ "translate",   no_argument,       NULL, OPT_TRANSLATE },
		OAI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct oai o;
	struct oai_part parts[12];
	struct oai_req rq = { .method = "POST" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct stream st;
	struct stat sb;
	struct buf tbuf = BUF_INIT;
	struct jw w;
	const char *format = NULL, *language = NULL, *model = "whisper-1";
	const char *temp = NULL, *prompt = NULL, *fname = NULL, *path, *e;
	char *sendname, *big;
	int word = 0, segment = 0, translate = 0, stream = 0, np = 0;
	int c, rc, regular;

	oai_init(&o, argc, argv);
	while ((c = getopt_long(argc, argv, "f:hl:m:t:v", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'f':
			format = formats[xchoice("-f", optarg, formats)];
			break;
		case 'h':
		case OPT_HELP:
			help();
			break;
		case 'l':
			if (!*optarg || strlen(optarg) > 16 ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-") != strlen(optarg))
				die(OAI_EX_USAGE, "-l: invalid language '%s' "
				    "(an ISO-639-1 code such as en)", optarg);
			language = optarg;
			break;
		case 'm':
			if (!*optarg)
				die(OAI_EX_USAGE, "-m: empty model name");
			model = optarg;
			break;
		case 't':
			/* sent as checked: strtod also reads "0x1p-1" */
			buf_reset(&tbuf);
			jw_init(&w, &tbuf);
			jw_num(&w, xstrtod("--temperature", optarg, 0, 1));
			temp = tbuf.s;
			break;
		case 'v':
			o.verbose++;
			break;
		case OPT_FILENAME:
			if (!*optarg || strchr(optarg, '/'))
				die(OAI_EX_USAGE, "--filename: '%s' is not a "
				    "file name", optarg);
			if (!exttype(extof(optarg)))
				die(OAI_EX_USAGE, "--filename: '%s' needs an "
				    "extension the API knows (flac, m4a, mp3, "
				    "mp4, mpeg, mpga, oga, ogg, wav, webm)",
				    optarg);
			fname = optarg;
			break;
		case OPT_PROMPT:
			prompt = optarg;
			break;
		case OPT_STREAM:
			stream = 1;
			break;
		case OPT_TIMESTAMPS:
			if (xchoice("--timestamps", optarg, granularities))
				segment = 1;
			else
				word = 1;
			break;
		case OPT_TRANSLATE:
			translate = 1;
			break;
		default:
			if (!oai_option(&o, c, optarg))
				usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	path = argv[0];

	/* Combinations the API would reject, refused before uploading. */
	if ((word || segment) && (!format || strcmp(format, "verbose_json")))
		die(OAI_EX_USAGE, "--timestamps needs -f verbose_json");
	if (translate && (language || word || segment || stream))
		die(OAI_EX_USAGE, "--translate takes no %s",
		    language ? "-l" : stream ? "--stream" : "--timestamps");
	if (stream && strcmp(model, "whisper-1") == 0)
		die(OAI_EX_USAGE, "--stream needs a model that streams, such "
		    "as gpt-4o-transcribe or gpt-4o-mini-transcribe; whisper-1 "
		    "does not");
	if (stream && format && strcmp(format, "text"))
		die(OAI_EX_USAGE, "--stream prints text: -f %s cannot be "
		    "streamed", format);
	if (prompt && utf8_invalid(prompt, strlen(prompt)) != (size_t)-1)
		die(OAI_EX_USAGE, "--prompt: not valid UTF-8 at byte offset "
		    "%zu", utf8_invalid(prompt, strlen(prompt)));
	if (strcmp(path, "-") == 0) {
		if (!fname)
			die(OAI_EX_USAGE, "reading standard input needs "
			    "--filename NAME.EXT, so that the API knows the "
			    "audio format");
		if (isatty(0))
			die(OAI_EX_USAGE, "standard input is a terminal, not "
			    "audio");
		/* a redirected file can be measured; a pipe cannot, and the
		 * API itself refuses what is over its limit */
		if (fstat(0, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    sb.st_size - lseek(0, 0, SEEK_CUR) > MAXBYTES)
			die(OAI_EX_USAGE, "%s", toobig("standard input",
			    (long long)(sb.st_size - lseek(0, 0, SEEK_CUR))));
		sendname = xstrdup(fname);
	} else if (sendname = checkfile(path, fname, &regular), !regular)
		o.retries = 0;	/* a pipe (<(cmd)) cannot be read twice */

	parts[np++] = (struct oai_part){ .name = "model", .value = model };
	if (!stream)	/* streams are text: the default format */
		parts[np++] = (struct oai_part){ .name = "response_format",
		    .value = format ? format : "text" };
	if (language)
		parts[np++] = (struct oai_part){ .name = "language",
		    .value = language };
	if (prompt)
		parts[np++] = (struct oai_part){ .name = "prompt",
		    .value = prompt };
	if (temp)
		parts[np++] = (struct oai_part){ .name = "temperature",
		    .value = temp };
	if (segment)
		parts[np++] = (struct oai_part){
		    .name = "timestamp_granularities[]", .value = "segment" };
	if (word)
		parts[np++] = (struct oai_part){
		    .name = "timestamp_granularities[]", .value = "word" };
	if (stream)
		parts[np++] = (struct oai_part){ .name = "stream",
		    .value = "true" };
	e = extof(sendname);
	/* a pipe or a device is counted as it is sent */
	big = toobig(strcmp(path, "-") ? path : "standard input", -1);
	parts[np++] = (struct oai_part){ .name = "file", .path = path,
	    .filename = sendname, .type = exttype(e), .max = MAXBYTES,
	    .toobig = big };

	rq.path = translate ? "/audio/translations" : "/audio/transcriptions";
	rq.parts = parts;
	rq.nparts = np;
	rq.accept = stream ? "text/event-stream" : NULL;
	if (isatty(2)) {
		rq.progress = progress;
		rq.progress_ctx = NULL;
	}
	memset(&st, 0, sizeof st);
	if (stream) {
		rq.stream = 1;
		rq.sink = streamsink;
		rq.sink_ctx = &st;
		st.rs = &rs;
		st.issse = -1;
		st.nl = 1;
		sse_init(&st.sse, onevent, &st);
	}

	oai_setup(&o);
	rc = oai_request(&o, &rq, &rs);
	progress_end();
	if (rc == 0 && stream) {
		if (st.issse == 0)
			rc = printplain(&st);
		else if (!st.done) {
			if (!st.nl)
				out_add("\n", 1);
			out_flush();
			warnx("the stream ended before the transcript was "
			    "complete");
			rc = OAI_EX_FAILURE;
		} else if (!st.nl)
			out_add("\n", 1);
	} else if (rc == 0) {
		out_add(rs.body.s, rs.body.len);
		if (rs.body.len && rs.body.s[rs.body.len - 1] != '\n')
			out_add("\n", 1);
	} else if (stream && !st.nl && oai_output_started()) {
		/* end the partial line so the shell prompt is not glued */
		out_add("\n", 1);
	}
	if (stream) {
		sse_free(&st.sse);
		json_free(&st.j);
		buf_free(&st.tmp);
		buf_free(&st.plain);
	}
	free(sendname);
	free(big);
	buf_free(&tbuf);
	oai_resp_free(&rs);
	out_close();
	oai_cleanup(&o);
	return rc;
}
