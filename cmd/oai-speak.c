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
 * Text to speech.  Audio goes out as it arrives.  Text over the API's
 * limit is spoken in several requests whose audio is joined into one
 * stream: mp3 (frames resynchronise; ID3 tags of later parts dropped),
 * pcm (raw samples) and wav (one header; sizes fixed when the output
 * can be seeked, else left "unknown" as in the API's own streams).
 */

#define MAXCHARS 4096		/* the API's limit, in characters */
#define UNKNOWN32 0xffffffffUL	/* WAV size meaning "until the end" */

static const char *const formats[] = { "mp3", "opus", "aac", "flac", "wav",
	"pcm", NULL };

static struct {
	int format;		/* in formats[] */
	const char *model, *voice, *output, *instr;
	double speed;		/* 0: not given */
	int usage;
	int dryrun;
} opt = { 0, "tts-1", "alloy", NULL, NULL, 0, 0, 0 };

static struct oai_usage total;	/* -u: of the parts spoken */

static void output(struct oai *o, const char *arg);

static const struct oai_opt opts[] = {
	OAI_CHOICE('f', "format", "format", &opt.format, formats,
	    "mp3 (default), opus, aac, flac, wav, pcm"),
	OAI_NAME('m', "model", "model", &opt.model, "model name",
	    "tts-1 (default), tts-1-hd, gpt-4o-mini-tts"),
	OAI_FN('o', "output", "file", output,
	    "write to file (atomically if a regular file)"),
	OAI_FLAG('u', "usage", &opt.usage,
	    "print the characters and cost on stderr"),
	OAI_NAME('v', "voice", "voice", &opt.voice, "voice name",
	    "voice (default alloy)"),
	OAI_FLAG(0, "dry-run", &opt.dryrun,
	    "print the request bodies (one a line), send nothing"),
	OAI_STR(0, "instructions", "text", &opt.instr,
	    "how to speak (not with tts-1, tts-1-hd)"),
	OAI_NUM(0, "speed", "speed", &opt.speed, NULL, 0.25, 4,
	    "0.25 to 4 (default 1)"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[text ...]",
	"Speak the text (the arguments, or standard input) and write the\n"
	"audio to standard output as it arrives, or to a file.",
	opts
};

static void
output(struct oai *o, const char *arg)
{
	(void)o;
	opt.output = output_arg(arg);
}

/* ---- splitting ---------------------------------------------------------- */

static int
isspc(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
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

static struct outfile of;	/* -o; of.name is NULL without it */
static char *text;		/* global: still reachable when we die() */

static void
emit(const void *p, size_t n)
{
	if (of.name)
		outfile_write(&of, p, n);
	else
		out_add(p, n);
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
	struct oai *o;		/* for the unexpected-response line */
	const struct oai_req *rq;
};

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
		sz = le32_get(h + off + 4);
		if (memcmp(h + off, "data", 4) != 0)
			continue;
		off += 8;
		j->inhdr = 0;
		j->left = sz == UNKNOWN32 || sz == 0 ?
		    (unsigned long long)-1 : sz;
		if (j->part == 0) {
			if (j->nparts > 1 && !j->patchable) {
				/* total unknown until the end: say so */
				le32_put(h + 4, UNKNOWN32);
				le32_put(h + off - 4, UNKNOWN32);
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
			return oai_unexpected(j->o, j->rq, "%s instead of "
			    "audio", ct);
		}
	}
	if (strcmp(j->format, "wav") == 0) {
		if (wavfeed(j, p, n) < 0)
			return oai_unexpected(j->o, j->rq, "not WAV audio");
	} else if (strcmp(j->format, "mp3") == 0)
		mp3feed(j, p, n);
	else
		emit(p, n);
	if (!of.name)
		out_flush();	/* a player downstream starts now */
	return 0;
}

/* Seek back and write the real sizes into the WAV header. */
static void
wavpatch(struct join *j)
{
	unsigned char b[4];
	unsigned long long riff = j->hdrlen - 8 + j->datatotal;
	int fd = of.name ? of.fd : 1;

	if (!j->patchable || !j->hdrlen)
		return;
	if (!of.name)
		out_flush();
	le32_put(b, riff > UNKNOWN32 ? UNKNOWN32 : (uint32_t)riff);
	if (pwrite(fd, b, 4, j->start + 4) != 4)
		edie(OAI_EX_FAILURE, "cannot fix the WAV header");
	le32_put(b, j->datatotal > UNKNOWN32 ? UNKNOWN32 :
	    (uint32_t)j->datatotal);
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

/* ---- the run ------------------------------------------------------------ */

static void
checks(void)
{
	const char *model = opt.model;

	if (opt.instr && (strcmp(model, "tts-1") == 0 ||
	    strcmp(model, "tts-1-hd") == 0))
		die(OAI_EX_USAGE, "--instructions does not work with %s; use "
		    "-m gpt-4o-mini-tts", model);
	if (opt.instr)
		input_check("--instructions", opt.instr, strlen(opt.instr), 1);
	if (opt.instr &&
	    utf8_nchars(opt.instr, strlen(opt.instr)) > MAXCHARS)
		die(OAI_EX_USAGE, "--instructions: over the API's %d "
		    "characters", MAXCHARS);
	if (!opt.output && !opt.dryrun)
		out_refuse_tty("audio", "use -o FILE");
}

/* The text: the arguments joined by spaces, or standard input. */
static char *
readtext(int argc, char *argv[], size_t *n)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < argc; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, argv[i]);
	}
	if (argc == 0)
		input_read(&b, "-");
	input_check(argc ? "the text" : "standard input", b.s, b.len, 0);
	return buf_steal(&b, n);
}

/* Cut the text into requests; refuse what cannot be joined. */
static size_t
plan(const char *s, size_t n, size_t **off, size_t **len)
{
	const char *format = formats[opt.format];
	size_t np = split(s, n, off, len);

	if (np == 0)
		die(OAI_EX_USAGE, "no text to speak");
	if (np > 1 && strcmp(format, "mp3") && strcmp(format, "wav") &&
	    strcmp(format, "pcm"))
		die(OAI_EX_USAGE, "the text is %zu characters, over the API's "
		    "%d, and %s audio cannot be joined: use -f mp3, wav or pcm "
		    "(and convert), or split the text yourself",
		    utf8_nchars(s, n), MAXCHARS, format);
	return np;
}

static void
buildbody(struct buf *body, const char *s, size_t n)
{
	struct jw w;

	buf_reset(body);
	jw_init(&w, body);
	jw_obj(&w);
	jw_key(&w, "model");
	jw_str(&w, opt.model);
	jw_key(&w, "input");
	jw_strn(&w, s, n);
	jw_key(&w, "voice");
	jw_str(&w, opt.voice);
	if (opt.instr) {
		jw_key(&w, "instructions");
		jw_str(&w, opt.instr);
	}
	jw_key(&w, "response_format");
	jw_str(&w, formats[opt.format]);
	if (opt.speed > 0) {
		jw_key(&w, "speed");
		jw_num(&w, opt.speed);
	}
	jw_obj_end(&w);
}

/* Request part i of np (text s[0..n)) and join its audio. */
static int
speakpart(struct oai *o, struct oai_req *rq, struct join *j, size_t i,
    size_t np, const char *s, size_t n)
{
	struct buf body = BUF_INIT;
	int rc;

	buildbody(&body, s, n);
	rq->body = body.s;
	rq->bodylen = body.len;
	rq->chars = (long long)utf8_nchars(s, n);
	j->part = (int)i;
	j->checked = 0;
	j->id3n = 0;
	j->skip = 0;
	j->inhdr = 1;
	buf_reset(&j->hdr);
	if (o->verbose && np > 1)
		warnx("part %zu of %zu: %zu characters", i + 1, np,
		    utf8_nchars(s, n));
	rc = oai_request(o, rq, j->rs);
	if (rc == 0 && !j->checked)	/* a 2xx with no body at all */
		rc = oai_unexpected(o, rq, "no audio");
	else if (rc == 0 && !strcmp(j->format, "wav") && j->inhdr)
		rc = oai_unexpected(o, rq, "not WAV audio");
	if (rc == 0 && oai_interrupted)
		rc = oai_intr_status();
	if (rc == 0)
		oai_usage_add(&total, &j->rs->usage);
	buf_free(&body);
	return rc;
}

static int
speak(struct oai *o, size_t np, const size_t *off, const size_t *len)
{
	struct oai_req rq = { .method = "POST", .path = "/audio/speech" };
	struct oai_resp rs = OAI_RESP_INIT;
	struct join j;
	size_t i;
	int rc = 0;

	memset(&j, 0, sizeof j);
	buf_init(&j.hdr);
	j.format = formats[opt.format];
	j.nparts = (int)np;
	j.rs = &rs;
	j.o = o;
	j.rq = &rq;
	if (opt.output)
		outfile_open(&of, opt.output);
	j.patchable = seekable(of.name ? of.fd : 1, &j.start);
	rq.stream = 1;		/* a long download is fine; silence is not */
	rq.accept = "application/octet-stream";
	rq.sink = sink;
	rq.sink_ctx = &j;
	rq.model = opt.model;
	oai_usage_init(&total, opt.model);
	for (i = 0; i < np && rc == 0; i++)
		rc = speakpart(o, &rq, &j, i, np, text + off[i], len[i]);
	if (rc == 0 && strcmp(j.format, "wav") == 0)
		wavpatch(&j);
	if (rc == 0 && opt.output)
		outfile_commit(&of);
	else
		outfile_abort(&of);
	buf_free(&j.hdr);
	oai_resp_free(&rs);
	return rc;
}

/* --dry-run: each part's request body, a line each. */
static int
dry(size_t np, const size_t *off, const size_t *len)
{
	struct buf body = BUF_INIT;
	size_t i;

	for (i = 0; i < np; i++) {
		buildbody(&body, text + off[i], len[i]);
		out_json_line(body.s, body.len);
	}
	buf_free(&body);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct oai o;
	size_t n, np, *off, *len;
	int i, rc;

	i = oai_start(&o, &tool, argc, argv);
	checks();
	text = readtext(argc - i, argv + i, &n);
	np = plan(text, n, &off, &len);
	if (opt.dryrun)
		rc = dry(np, off, len);
	else {
		oai_setup(&o);
		rc = speak(&o, np, off, len);
	}
	if (opt.usage && rc == 0 && !opt.dryrun)
		oai_usage_print(&total);
	free(off);
	free(len);
	free(text);
	return oai_finish(&o, rc);
}
