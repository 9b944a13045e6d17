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
 * Images: made from a prompt (POST /images/generations, JSON), edited
 * (/images/edits, a form with the images) or varied (/images/variations,
 * dall-e-2).  The answer carries each image as base64 inside the JSON
 * body, which is held once, as it came; each image is decoded from it a
 * window at a time straight into its file, so no image is ever held a
 * second time.  An image given as a URL is downloaded into its file as
 * it arrives.  Each file is complete before it takes its name.  Streamed
 * (--partial-images), each event carries one image, partial or final,
 * and is decoded the same way from the event's data, held once.
 */

#define DALLE_MAX (4LL * 1024 * 1024)	/* dall-e-2 images, masks: < 4 MB */
#define GPT_MAX (50LL * 1024 * 1024)	/* GPT image models: < 50 MB each */
#define MAXEDITS 16			/* images one edit takes */
#define WINDOW 49152			/* base64 characters decoded at once */

enum { GENERATE, EDIT, VARY };
enum { OTHER, DALLE2, DALLE3, GPT };	/* model families */

static const char *const qualities[] = { "auto", "low", "medium", "high",
	"standard", "hd", NULL };
static const char *const styles[] = { "vivid", "natural", NULL };
static const char *const backgrounds[] = { "auto", "transparent", "opaque",
	NULL };
static const char *const formats[] = { "png", "jpeg", "webp", NULL };
static const char *const moderations[] = { "auto", "low", NULL };
static const char *const fidelities[] = { "low", "high", NULL };
static const char *const rformats[] = { "b64_json", "url", NULL };

static struct {
	const char *model, *size, *output, *user, *mask, *variation;
	struct oai_list edits;
	long long n, compression, partial;
	int has_n, has_compression, has_partial;
	/* choices: index, or -1 when not given */
	int quality, style, background, format, moderation, fidelity, rformat;
	int json, dryrun;
	/* derived by checks() */
	int mode, family;
	const char *oformat;	/* output_format to send, or NULL */
} opt = {
	.quality = -1, .style = -1, .background = -1, .format = -1,
	.moderation = -1, .fidelity = -1, .rformat = -1, .n = 1
};

static void output(struct oai *o, const char *arg);
static void size(struct oai *o, const char *arg);

static const struct oai_opt opts[] = {
	OAI_NAME('m', "model", "model", &opt.model, "model name",
	    "gpt-image-1 (default), gpt-image-1.5,\n"
	    "gpt-image-1-mini, dall-e-3, dall-e-2"),
	OAI_INT('n', "count", "n", &opt.n, &opt.has_n, 1, 10,
	    "how many images, 1 to 10 (default 1)"),
	OAI_FN('o', "output", "file", output,
	    "write to file (FILE-1.EXT ... with -n) and\n"
	    "print the names written"),
	OAI_CHOICE('q', "quality", "quality", &opt.quality, qualities,
	    "auto, low, medium, high (GPT image models);\n"
	    "standard, hd (dall-e-3)"),
	OAI_FN('s', "size", "size", size,
	    "WIDTHxHEIGHT or auto (e.g. 1024x1024)"),
	OAI_LIST(0, "edit", "file", &opt.edits,
	    "edit this image (repeatable: up to 16 for\n"
	    "GPT image models)"),
	OAI_NAME(0, "mask", "file", &opt.mask, "file name",
	    "PNG whose transparent areas are edited"),
	OAI_NAME(0, "variation", "file", &opt.variation, "file name",
	    "make variations of this PNG (dall-e-2)"),
	OAI_CHOICE(0, "background", "background", &opt.background,
	    backgrounds, "auto, transparent, opaque"),
	OAI_FLAG(0, "dry-run", &opt.dryrun,
	    "print the request (JSON, or the form a part\n"
	    "a line), send nothing"),
	OAI_CHOICE(0, "input-fidelity", "fidelity", &opt.fidelity, fidelities,
	    "low, high: how closely an edit keeps\n"
	    "the input's features"),
	OAI_FLAG(0, "json", &opt.json, "print the API's JSON response"),
	OAI_CHOICE(0, "moderation", "level", &opt.moderation, moderations,
	    "auto, low"),
	OAI_INT(0, "output-compression", "percent", &opt.compression,
	    &opt.has_compression, 0, 100, "0 to 100, for jpeg and webp"),
	OAI_CHOICE(0, "output-format", "format", &opt.format, formats,
	    "png, jpeg, webp (GPT image models)"),
	OAI_INT(0, "partial-images", "n", &opt.partial, &opt.has_partial,
	    0, 3, "stream: 0 to 3 partial images first, each\n"
	    "written to FILE-partial-K.EXT (GPT image models)"),
	OAI_CHOICE(0, "response-format", "format", &opt.rformat, rformats,
	    "b64_json (default), url (dall-e)"),
	OAI_CHOICE(0, "style", "style", &opt.style, styles,
	    "vivid, natural (dall-e-3)"),
	OAI_NAME(0, "user", "id", &opt.user, "user id",
	    "an id for your end user"),
	OAI_COMMON,
	OAI_END
};

static const struct oai_tool tool = {
	"[prompt ...]",
	"Make images from the prompt (the arguments, or standard input),\n"
	"edit images or make variations, and write them to standard output\n"
	"or to files.",
	opts
};

static void
output(struct oai *o, const char *arg)
{
	(void)o;
	opt.output = output_arg(arg);
}

static void
size(struct oai *o, const char *arg)
{
	size_t w = strspn(arg, "0123456789");

	(void)o;
	if (strcmp(arg, "auto") != 0 && (w == 0 || arg[w] != 'x' ||
	    !arg[w + 1] || strspn(arg + w + 1, "0123456789") !=
	    strlen(arg + w + 1) || strlen(arg) > 11))
		die(OAI_EX_USAGE, "--size: '%s' is not WIDTHxHEIGHT or auto",
		    arg);
	opt.size = arg;
}

/* ---- what the models take (CreateImage*Request) ----------------------- */

static int
family(const char *m)
{
	if (strcmp(m, "dall-e-2") == 0)
		return DALLE2;
	if (strcmp(m, "dall-e-3") == 0)
		return DALLE3;
	if (strncmp(m, "gpt-image", 9) == 0 ||
	    strncmp(m, "chatgpt-image", 13) == 0)
		return GPT;
	return OTHER;	/* another server's: its own rules */
}

static int
isdalle(void)
{
	return opt.family == DALLE2 || opt.family == DALLE3;
}

static int
among(const char *s, const char *const list[])
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* The sizes dall-e models make; the GPT models' rules are the API's. */
static void
checksize(void)
{
	static const char *const d2[] = { "256x256", "512x512", "1024x1024",
		NULL };
	static const char *const d3[] = { "1024x1024", "1792x1024",
		"1024x1792", NULL };

	if (!opt.size)
		return;
	if (opt.family == DALLE2 && !among(opt.size, d2))
		die(OAI_EX_USAGE, "--size: dall-e-2 makes 256x256, 512x512 or "
		    "1024x1024 images");
	if (opt.family == DALLE3 && !among(opt.size, d3))
		die(OAI_EX_USAGE, "--size: dall-e-3 makes 1024x1024, "
		    "1792x1024 or 1024x1792 images");
}

static void
checkquality(void)
{
	const char *q = opt.quality < 0 ? NULL : qualities[opt.quality];

	if (!q || strcmp(q, "auto") == 0)
		return;
	if (opt.family == GPT && (!strcmp(q, "standard") || !strcmp(q, "hd")))
		die(OAI_EX_USAGE, "--quality: %s takes low, medium, high or "
		    "auto", opt.model);
	if (opt.family == DALLE3 && strcmp(q, "standard") && strcmp(q, "hd"))
		die(OAI_EX_USAGE, "--quality: dall-e-3 takes standard or hd");
	if (opt.family == DALLE2 && strcmp(q, "standard"))
		die(OAI_EX_USAGE, "--quality: dall-e-2 takes standard only");
	if (opt.mode == EDIT && strcmp(q, "hd") == 0)
		die(OAI_EX_USAGE, "--quality: edits take no hd");
}

/* What the extension of -o says: a format, "" if it says none. */
static const char *
extformat(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (!dot || (slash && dot < slash) || dot == path ||
	    (slash && dot == slash + 1))
		return "";
	dot++;
	if (strcasecmp(dot, "png") == 0)
		return "png";
	if (strcasecmp(dot, "jpg") == 0 || strcasecmp(dot, "jpeg") == 0)
		return "jpeg";
	if (strcasecmp(dot, "webp") == 0)
		return "webp";
	return "";
}

/* The format asked and the extension of -o agree, or one gives the
 * other: -o logo.webp asks for webp. */
static void
checkformat(void)
{
	const char *asked = opt.format < 0 ? NULL : formats[opt.format];
	const char *ext = opt.output ? extformat(opt.output) : "";

	if (isdalle() && *ext && strcmp(ext, "png"))
		die(OAI_EX_USAGE, "-o %s: %s makes PNG images", opt.output,
		    opt.model);
	if (asked && *ext && strcmp(asked, ext))
		die(OAI_EX_USAGE, "-o %s is named for %s, but --output-format "
		    "is %s", opt.output, ext, asked);
	/* png is the default: only another format needs asking for */
	opt.oformat = asked ? asked : isdalle() || !*ext ||
	    !strcmp(ext, "png") || opt.mode == VARY ? NULL : ext;
	if (opt.has_compression && (!opt.oformat ||
	    !strcmp(opt.oformat, "png")))
		die(OAI_EX_USAGE, "--output-compression needs --output-format "
		    "jpeg or webp");
	if (opt.background == 1 && opt.oformat &&
	    !strcmp(opt.oformat, "jpeg"))
		die(OAI_EX_USAGE, "--background transparent needs png or webp");
}

/* Options only the GPT image models take, or only one endpoint. */
static void
checkfamily(void)
{
	const char *gptonly = opt.background >= 0 ? "--background" :
	    opt.format >= 0 ? "--output-format" : opt.has_compression ?
	    "--output-compression" : opt.moderation >= 0 ? "--moderation" :
	    opt.fidelity >= 0 ? "--input-fidelity" : opt.has_partial ?
	    "--partial-images" : NULL;

	if (gptonly && (isdalle() || opt.mode == VARY))
		die(OAI_EX_USAGE, "%s is for the GPT image models, not %s",
		    gptonly, opt.model);
	if (opt.style >= 0 && opt.family != DALLE3 && opt.family != OTHER)
		die(OAI_EX_USAGE, "--style is for dall-e-3, not %s", opt.model);
	if (opt.rformat >= 0 && opt.family == GPT)
		die(OAI_EX_USAGE, "--response-format: %s always answers "
		    "b64_json", opt.model);
	if (opt.family == DALLE3 && opt.n != 1)
		die(OAI_EX_USAGE, "--count: dall-e-3 makes one image at a time");
	if (opt.family == DALLE3 && opt.mode != GENERATE)
		die(OAI_EX_USAGE, "dall-e-3 does not edit images; use %s",
		    "gpt-image-1 or dall-e-2");
	if (opt.fidelity >= 0 && opt.mode != EDIT)
		die(OAI_EX_USAGE, "--input-fidelity is for --edit");
	if (opt.fidelity >= 0 && !strcmp(opt.model, "gpt-image-1-mini"))
		die(OAI_EX_USAGE, "--input-fidelity: gpt-image-1-mini does "
		    "not take it");
	if (opt.moderation >= 0 && opt.mode != GENERATE)
		die(OAI_EX_USAGE, "--moderation is for generations");
	if (opt.style >= 0 && opt.mode != GENERATE)
		die(OAI_EX_USAGE, "--style is for generations");
}

static void
checks(void)
{
	if (opt.edits.n && opt.variation)
		die(OAI_EX_USAGE, "--edit and --variation exclude each other");
	if (opt.mask && !opt.edits.n)
		die(OAI_EX_USAGE, "--mask needs --edit");
	opt.mode = opt.edits.n ? EDIT : opt.variation ? VARY : GENERATE;
	if (!opt.model)
		opt.model = opt.mode == VARY ? "dall-e-2" : "gpt-image-1";
	opt.family = family(opt.model);
	if (opt.mode == VARY && opt.family != DALLE2)
		die(OAI_EX_USAGE, "--variation: only dall-e-2 makes "
		    "variations, not %s", opt.model);
	if (opt.edits.n > (opt.family == DALLE2 ? 1 : MAXEDITS))
		die(OAI_EX_USAGE, "--edit: %s takes %s", opt.model,
		    opt.family == DALLE2 ? "one image" : "at most 16 images");
	checkfamily();
	checkquality();
	checksize();
	checkformat();
	if (opt.user)
		input_check("--user", opt.user, strlen(opt.user), 0);
	if (opt.n > 1 && !opt.output && !opt.json && !opt.dryrun)
		die(OAI_EX_USAGE, "--count %lld: several images need -o FILE",
		    opt.n);
	if (opt.partial > 0 && !opt.output && !opt.json && !opt.dryrun)
		die(OAI_EX_USAGE, "--partial-images %lld: partial images need "
		    "-o FILE", opt.partial);
	if (!opt.output && !opt.json && !opt.dryrun)
		out_refuse_tty("an image", "use -o FILE");
}

/* ---- the input images -------------------------------------------------- */

struct image {
	const char *path;
	const char *type;	/* image/png... */
	unsigned long w, h;	/* PNG only: 0 otherwise */
};

static void
toobig(const char *path, long long size, long long max, const char *who)
{
	die(OAI_EX_USAGE, "%s: %lld bytes is over the %lld MB limit of %s",
	    path, size, max >> 20, who);
}

/*
 * Check an input image before sending (CreateImageEditRequest,
 * CreateImageVariationRequest): a readable regular file, PNG under 4 MB
 * (and square, for an image) for dall-e-2 and for a mask, PNG, JPEG or
 * WebP under 50 MB for the GPT image models.
 */
static void
checkimage(struct image *im, const char *path, int mask)
{
	unsigned char head[32];
	struct stat st;
	ssize_t n;
	int fd, dalle = opt.family == DALLE2 || mask;

	im->path = path;
	im->w = im->h = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		edie(OAI_EX_USAGE, "%s", path);
	if (!S_ISREG(st.st_mode))
		die(OAI_EX_USAGE, "%s: not a regular file", path);
	while ((n = read(fd, head, sizeof head)) < 0 && errno == EINTR)
		;
	if (n < 0)
		edie(OAI_EX_USAGE, "%s", path);
	close(fd);
	if (n == 0)
		die(OAI_EX_USAGE, "%s: empty file", path);
	im->type = image_type(head, (size_t)n);
	if (png_size(head, (size_t)n, &im->w, &im->h) < 0)
		im->w = im->h = 0;
	if (dalle && (!im->type || strcmp(im->type, "image/png")))
		die(OAI_EX_USAGE, "%s: not a PNG image (%s takes PNG only)",
		    path, mask ? "a mask" : "dall-e-2");
	if (dalle && st.st_size >= DALLE_MAX)
		toobig(path, (long long)st.st_size, DALLE_MAX, mask ?
		    "a mask" : "dall-e-2");
	if (opt.family == DALLE2 && !mask && im->w != im->h)
		die(OAI_EX_USAGE, "%s: %lux%lu is not square (dall-e-2 takes "
		    "square images)", path, im->w, im->h);
	if (!im->type || !strcmp(im->type, "image/gif"))
		die(OAI_EX_USAGE, "%s: not a PNG, JPEG or WebP image", path);
	if (st.st_size >= GPT_MAX)
		toobig(path, (long long)st.st_size, GPT_MAX, opt.model);
}

static void
checkimages(struct image *im, struct image *mask)
{
	int i;

	for (i = 0; i < opt.edits.n; i++)
		checkimage(&im[i], opt.edits.v[i], 0);
	if (opt.variation)
		checkimage(&im[0], opt.variation, 0);
	if (!opt.mask)
		return;
	checkimage(mask, opt.mask, 1);
	if (im[0].w && (mask->w != im[0].w || mask->h != im[0].h))
		die(OAI_EX_USAGE, "%s: %lux%lu, but %s is %lux%lu: the mask "
		    "must be the image's size", opt.mask, mask->w, mask->h,
		    im[0].path, im[0].w, im[0].h);
}

/* The prompt's limit, in characters (CreateImageRequest). */
static void
checkprompt(const struct buf *p)
{
	size_t i, chars = 0, max = opt.family == DALLE2 ? 1000 :
	    opt.family == DALLE3 ? 4000 : opt.family == GPT ? 32000 : 0;

	for (i = 0; i < p->len; i++)
		chars += ((unsigned char)p->s[i] & 0xc0) != 0x80;
	if (max && chars > max)
		die(OAI_EX_USAGE, "the prompt is %zu characters, over the %zu "
		    "%s takes", chars, max, opt.model);
}

/* ---- the request --------------------------------------------------------- */

/* response_format: b64_json where the model lets us choose. */
static const char *
rformat(void)
{
	if (opt.rformat >= 0)
		return rformats[opt.rformat];
	return isdalle() ? "b64_json" : NULL;
}

static void
buildbody(struct buf *body, const struct buf *prompt)
{
	struct jw w;

	jw_init(&w, body);
	jw_obj(&w);
	jw_key(&w, "model");
	jw_str(&w, opt.model);
	jw_key(&w, "prompt");
	jw_strn(&w, prompt->s, prompt->len);
#define STR(k, v) if (v) { jw_key(&w, k); jw_str(&w, v); }
#define CHOICE(k, i, list) STR(k, (i) >= 0 ? (list)[i] : NULL)
	if (opt.has_n) {
		jw_key(&w, "n");
		jw_int(&w, opt.n);
	}
	STR("size", opt.size);
	CHOICE("quality", opt.quality, qualities);
	CHOICE("style", opt.style, styles);
	CHOICE("background", opt.background, backgrounds);
	STR("output_format", opt.oformat);
	if (opt.has_compression) {
		jw_key(&w, "output_compression");
		jw_int(&w, opt.compression);
	}
	CHOICE("moderation", opt.moderation, moderations);
	STR("response_format", rformat());
	STR("user", opt.user);
#undef CHOICE
#undef STR
	if (opt.has_partial) {
		jw_key(&w, "stream");
		jw_bool(&w, 1);
		jw_key(&w, "partial_images");
		jw_int(&w, opt.partial);
	}
	jw_obj_end(&w);
}

/* The form of an edit or a variation: the fields, then the files. */
static int
buildparts(struct oai_part *parts, const struct buf *prompt,
    const struct image *im, const struct image *mask, char nums[3][24])
{
	int np = 0, i, nim = opt.mode == EDIT ? opt.edits.n : 1;

#define FIELD(k, v) if (v) parts[np++] = (struct oai_part){ .name = (k), \
	.value = (v) }
#define CHOICE(k, i, list) FIELD(k, (i) >= 0 ? (list)[i] : NULL)
	FIELD("model", opt.model);
	if (opt.mode == EDIT)
		FIELD("prompt", prompt->s);
	snprintf(nums[0], sizeof nums[0], "%lld", opt.n);
	snprintf(nums[1], sizeof nums[1], "%lld", opt.compression);
	snprintf(nums[2], sizeof nums[2], "%lld", opt.partial);
	FIELD("n", opt.has_n ? nums[0] : NULL);
	FIELD("size", opt.size);
	CHOICE("quality", opt.quality, qualities);
	CHOICE("background", opt.background, backgrounds);
	FIELD("output_format", opt.oformat);
	FIELD("output_compression", opt.has_compression ? nums[1] : NULL);
	CHOICE("input_fidelity", opt.fidelity, fidelities);
	FIELD("response_format", rformat());
	FIELD("user", opt.user);
	FIELD("stream", opt.has_partial ? "true" : NULL);
	FIELD("partial_images", opt.has_partial ? nums[2] : NULL);
#undef CHOICE
#undef FIELD
	/* several images: image[] (the GPT image models) */
	for (i = 0; i < nim; i++)
		parts[np++] = (struct oai_part){ .name = nim > 1 ? "image[]" :
		    "image", .path = im[i].path, .type = im[i].type,
		    .max = opt.family == DALLE2 ? DALLE_MAX : GPT_MAX };
	if (opt.mask)
		parts[np++] = (struct oai_part){ .name = "mask",
		    .path = mask->path, .type = mask->type, .max = DALLE_MAX };
	return np;
}

/* ---- the images that come back ----------------------------------------- */

struct dest {
	struct outfile f;
	int tofile;
	long long bytes;
	int checked;		/* a download's content type looked at */
	struct oai *o;
	const struct oai_req *rq;
	struct oai_resp *rs;
};

static void
emit(struct dest *d, const void *p, size_t n)
{
	d->bytes += (long long)n;
	if (d->tofile)
		outfile_write(&d->f, p, n);
	else
		out_add(p, n);
}

/* Decode the base64 of a JSON string as it stands in the body (raw,
 * still escaped: "\/" is a slash) into d, a window at a time. */
static int
decode(struct dest *d, const char *s, size_t n)
{
	static unsigned char out[WINDOW / 4 * 3 + 3];
	struct base64_dec b = BASE64_DEC_INIT;
	size_t i = 0, k;
	long r;

	while (i < n) {
		if (s[i] == '\\') {
			if (i + 1 < n && s[i + 1] == '/')
				r = base64_dec_feed(&b, "/", 1, out);
			else if (i + 1 < n && strchr("nr", s[i + 1]))
				r = 0;	/* a line break of wrapped base64 */
			else
				return -1;
			i += 2;
		} else {
			for (k = i; k < n && k - i < WINDOW && s[k] != '\\';)
				k++;
			r = base64_dec_feed(&b, s + i, k - i, out);
			i = k;
		}
		if (r < 0)
			return -1;
		emit(d, out, (size_t)r);
	}
	return base64_dec_end(&b);
}

/* A downloaded image, as it arrives. */
static int
dlsink(void *ctx, const char *p, size_t n)
{
	struct dest *d = ctx;
	const char *ct = d->rs->content_type;

	if (!d->checked) {
		d->checked = 1;
		if (strncasecmp(ct, "application/json", 16) == 0 ||
		    strncasecmp(ct, "text/", 5) == 0)
			return oai_unexpected(d->o, d->rq, "%s instead of an "
			    "image", ct);
	}
	if ((unsigned long long)d->bytes + n > oai_limit(OAI_BODY_MAX))
		return oai_unexpected(d->o, d->rq, "an image over %zu bytes",
		    oai_limit(OAI_BODY_MAX));
	emit(d, p, n);
	return 0;
}

static int
download(struct oai *o, struct dest *d, const char *url)
{
	struct oai_req rq = { .method = "GET", .url = url, .stream = 1,
	    .accept = "image/*", .sink = dlsink, .sink_ctx = d };
	struct oai_resp rs = OAI_RESP_INIT;
	int rc;

	d->o = o;
	d->rq = &rq;
	d->rs = &rs;
	if ((rc = oai_request(o, &rq, &rs)) == 0 && d->bytes == 0)
		rc = oai_unexpected(o, &rq, "an empty image");
	oai_resp_free(&rs);
	return rc;
}

/* path with -what-i before its extension (at its end when it has none). */
static char *
suffixed(const char *path, const char *what, long long i)
{
	struct buf b = BUF_INIT;
	const char *slash = strrchr(path, '/'), *dot;
	const char *base = slash ? slash + 1 : path;

	dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = base + strlen(base);
	buf_add(&b, path, (size_t)(dot - path));
	buf_printf(&b, "-%s%lld%s", what, i, dot);
	return buf_steal(&b, NULL);
}

/* FILE-i.EXT for image i (from 1) of several; FILE itself for one. */
static char *
outname(long long i)
{
	return opt.n == 1 ? xstrdup(opt.output) : suffixed(opt.output, "", i);
}

/* FILE-partial-k.EXT, FILE-i-partial-k.EXT: partial image k (from 0)
 * of image i. */
static char *
partname(long long i, long long k)
{
	char *name = outname(i), *p = suffixed(name, "partial-", k);

	free(name);
	return p;
}

/* -v: the prompt dall-e-3 actually used. */
static void
revised(const struct oai *o, const struct json *j, int t)
{
	struct buf s = BUF_INIT, line = BUF_INIT;

	if (o->verbose && json_str(j, json_get(j, t, "revised_prompt"),
	    &s) == 0) {
		buf_addline(&line, s.s, s.len);
		warnx("revised prompt: %s", line.s);
	}
	buf_free(&s);
	buf_free(&line);
}

/*
 * An image, the b64_json or url member of j's object t, to the file
 * name (NULL: standard output), which takes its name once it is whole;
 * the name is printed then.  what names it in messages ("image 2").
 */
static int
putimage(struct oai *o, const struct oai_req *rq, const struct json *j,
    int t, const char *name, const char *what)
{
	struct dest d;
	int b64 = json_get(j, t, "b64_json"), url = json_get(j, t, "url");
	size_t n;
	const char *s;
	int rc = 0;

	memset(&d, 0, sizeof d);
	if (json_type(j, b64) != JSON_STRING && json_type(j, url) !=
	    JSON_STRING)
		return oai_unexpected(o, rq, "%s has neither b64_json nor url",
		    what);
	if ((d.tofile = name != NULL))
		outfile_open(&d.f, name);
	if (json_type(j, b64) == JSON_STRING) {
		s = json_raw(j, b64, &n);
		if (decode(&d, s, n) < 0 || d.bytes == 0)
			rc = oai_unexpected(o, rq, "%s is not base64", what);
	} else {
		char *u = json_strdup(j, url);

		rc = download(o, &d, u);
		free(u);
	}
	if (rc == 0 && oai_interrupted)
		rc = oai_intr_status();
	if (rc == 0 && d.tofile) {
		outfile_commit(&d.f);
		if (!opt.json)
			out_printf("%s\n", name);
	} else if (d.tofile)
		outfile_abort(&d.f);
	out_flush();
	return rc;
}

/* --meta-fd: "revised_prompt", the prompt each image was made from
 * (dall-e-3), null for an image without one; only when any has one. */
static void
metarevised(void *ctx, struct jw *w, const struct oai_resp *rs)
{
	struct json j = JSON_INIT;
	struct buf s = BUF_INIT;
	int data = 0, t, i, n, any = 0;

	(void)ctx;
	if (json_parse(&j, rs->body.s, rs->body.len) < 0 ||
	    json_type(&j, data = json_get(&j, 0, "data")) != JSON_ARRAY)
		n = 0;
	else
		n = json_size(&j, data);
	for (i = 0, t = data + 1; i < n; i++, t = json_skip(&j, t))
		any |= json_type(&j, json_get(&j, t, "revised_prompt")) ==
		    JSON_STRING;
	if (any) {
		jw_key(w, "revised_prompt");
		jw_arr(w);
	}
	for (i = 0, t = data + 1; any && i < n; i++, t = json_skip(&j, t)) {
		buf_reset(&s);
		if (json_str(&j, json_get(&j, t, "revised_prompt"), &s) == 0)
			jw_strn(w, s.s, s.len);
		else
			jw_null(w);
	}
	if (any)
		jw_arr_end(w);
	buf_free(&s);
	json_free(&j);
}

/* Image i (from 1), element t of data, to its file or standard output. */
static int
writeimage(struct oai *o, const struct oai_req *rq, const struct json *j,
    int t, long long i)
{
	char *name = opt.output ? outname(i) : NULL, what[32];
	int rc;

	revised(o, j, t);
	snprintf(what, sizeof what, "image %lld", i);
	rc = putimage(o, rq, j, t, name, what);
	free(name);
	return rc;
}

/* Every image of the answer; the ones before a failure stay written. */
static int
writeimages(struct oai *o, const struct oai_req *rq, const struct buf *body)
{
	struct json j = JSON_INIT;
	int data, i, n = 0, t, rc = 0;

	if ((data = oai_resp_json(o, rq, body, &j, "data", JSON_ARRAY,
	    "no list of images")) < 0)
		rc = OAI_EX_FAILURE;
	else if ((n = json_size(&j, data)) == 0 || n > opt.n)
		rc = oai_unexpected(o, rq, "%d images, %lld asked for", n,
		    opt.n);
	for (i = 0, t = data + 1; rc == 0 && i < n; i++, t = json_skip(&j, t))
		rc = writeimage(o, rq, &j, t, i + 1);
	if (rc == 0 && n < opt.n) {
		warnx("%d of the %lld images asked for came back", n, opt.n);
		rc = OAI_EX_FAILURE;
	}
	json_free(&j);
	return rc;
}

/* ---- streamed: --partial-images ------------------------------------ */

struct stream {
	struct oai *o;
	const struct oai_req *rq;
	struct oai_events ev;
	long long done;		/* final images written */
};

static int
endswith(const struct json *j, int t, const char *suffix)
{
	size_t n, k = strlen(suffix);
	const char *s;

	if (json_type(j, t) != JSON_STRING)
		return 0;
	s = json_raw(j, t, &n);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/*
 * An event of image_generation.* or image_edit.*: a partial image to
 * its own file, or a final one.  The events do not say which image of
 * several a partial one belongs to: it counts for the next to finish.
 */
static int
onevent(void *ctx, const struct json *j, const struct sse_event *sev)
{
	struct stream *s = ctx;
	int type = json_get(j, 0, "type");
	long long k;
	char *name, what[64];
	int rc;

	(void)sev;
	if (endswith(j, type, ".partial_image")) {
		if (!opt.output)
			return 0;	/* --json: the event says it all */
		if (json_int(j, json_get(j, 0, "partial_image_index"),
		    &k) < 0 || k < 0 || k > 99)
			return oai_unexpected(s->o, s->rq, "a partial image "
			    "without a partial_image_index");
		snprintf(what, sizeof what, "partial image %lld", k);
		name = partname(s->done + 1, k);
	} else if (endswith(j, type, ".completed")) {
		if (s->done == opt.n)
			return oai_unexpected(s->o, s->rq, "more than the "
			    "%lld images asked for", opt.n);
		s->ev.done = ++s->done == opt.n;	/* no [DONE] comes */
		if (!opt.output && opt.json)
			return 0;
		snprintf(what, sizeof what, "image %lld", s->done);
		name = opt.output ? outname(s->done) : NULL;
	} else
		return 0;	/* another kind: not ours to judge */
	rc = putimage(s->o, s->rq, j, 0, name, what);
	free(name);
	return rc;
}

static int
streamed(struct oai *o, struct oai_req *rq)
{
	struct stream s = { .o = o, .rq = rq };
	struct oai_resp rs = OAI_RESP_INIT;
	int rc;

	oai_events_init(&s.ev, onevent, &s);
	s.ev.json = opt.json;
	oai_events_request(rq, &s.ev);
	rq->events = &s.ev;
	if ((rc = oai_request(o, rq, &rs)) == 0 && s.done < opt.n) {
		warnx("the stream ended after %lld of the %lld images asked "
		    "for", s.done, opt.n);
		rc = OAI_EX_FAILURE;
	}
	oai_events_free(&s.ev);
	oai_resp_free(&rs);
	return rc;
}

static int
run(struct oai *o, const struct buf *prompt, const struct image *im,
    const struct image *mask)
{
	struct oai_part parts[16 + MAXEDITS];
	struct oai_req rq = { .method = "POST", .model = opt.model };
	struct oai_resp rs = OAI_RESP_INIT;
	struct buf body = BUF_INIT;
	char nums[3][24];
	int rc;

	if (opt.mode == GENERATE) {
		buildbody(&body, prompt);
		rq.path = "/images/generations";
		rq.body = body.s;
		rq.bodylen = body.len;
	} else {
		rq.path = opt.mode == EDIT ? "/images/edits" :
		    "/images/variations";
		rq.parts = parts;
		rq.nparts = buildparts(parts, prompt, im, mask, nums);
	}
	oai_setup(o);
	rq.meta = metarevised;
	if (opt.has_partial)
		rc = streamed(o, &rq);
	else if ((rc = oai_request(o, &rq, &rs)) == 0 &&
	    (opt.output || !opt.json))
		rc = writeimages(o, &rq, &rs.body);
	if (rc == 0 && opt.json)
		out_json(rs.body.s, rs.body.len);
	buf_free(&body);
	oai_resp_free(&rs);
	return rc;
}

/* --dry-run of an edit or a variation: the form, a part a line. */
static void
dryform(const struct buf *prompt, const struct image *im,
    const struct image *mask)
{
	struct oai_part parts[16 + MAXEDITS];
	char nums[3][24];

	oai_form_print(parts, buildparts(parts, prompt, im, mask, nums));
}

int
main(int argc, char *argv[])
{
	struct oai o;
	struct buf prompt = BUF_INIT, body = BUF_INIT;
	struct image im[MAXEDITS], mask;
	int i, rc = 0;

	i = oai_start(&o, &tool, argc, argv);
	checks();
	if (opt.mode == VARY && argc > i)
		die(OAI_EX_USAGE, "--variation takes no prompt");
	if (opt.mode != VARY) {
		prompt_read(&prompt, argc - i, argv + i, NULL, isatty(0));
		if (prompt.len == 0)
			die(OAI_EX_USAGE, "no prompt: give it as arguments or "
			    "on standard input");
		checkprompt(&prompt);
	}
	checkimages(im, &mask);
	if (opt.dryrun && opt.mode == GENERATE) {
		buildbody(&body, &prompt);
		out_json(body.s, body.len);
	} else if (opt.dryrun)
		dryform(&prompt, im, &mask);
	else
		rc = run(&o, &prompt, im, &mask);
	buf_free(&prompt);
	buf_free(&body);
	return oai_finish(&o, rc);
}
