/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include <histedit.h>

#include "oai.h"

/*
 * The interactive line editor: libedit through its own interface, since
 * its readline one cannot bind a sequence of several characters, which
 * bracketed paste needs.  While a line is read, and only then, the
 * terminal is asked to mark what is pasted (ESC [ 200 ~ ... ESC [ 201 ~);
 * the text between the marks goes into the line, newlines and all,
 * instead of ending it.
 *
 * libedit puts the terminal in raw mode while it reads a line and back
 * in canonical ("cooked") mode between lines, while a reply streams.  A
 * Ctrl-D typed then (or sent by script(1) at the end of its input) was a
 * canonical end of file for a read nobody did, and raw mode turned it
 * into nothing: the chat waited for ever.  So between lines the EOF
 * character is off (libedit's setty -x -eof, which its own relearning
 * of the modes keeps): a Ctrl-D is then a byte that waits in the queue,
 * and the next read sees it as Ctrl-D on an empty line, the end.
 * Everything else of cooked mode stays (echo, Ctrl-C, Ctrl-Z, output
 * post-processing, typed-ahead text for the next prompt).
 *
 * The terminal's modes from before, and the paste mode off, come back
 * at the end (el_end), at exit (die()), and before a signal stops or
 * ends the program (as less(1) and vi(1) do); on again when it is
 * continued.  SIGINT and SIGTERM only set oai_interrupted: they end the
 * read or the reply, and the session ends the normal way.
 */

#define PASTE_ON	"\033[?2004h"
#define PASTE_OFF	"\033[?2004l"

struct ledit {
	EditLine *el;
	History *h;
	const char *prompt;
	int paste;		/* the terminal is told to mark pastes */
};

static volatile sig_atomic_t pasteon;	/* it is, now */
static volatile sig_atomic_t reading;	/* libedit has the terminal */
static volatile sig_atomic_t ttyfd = -1; /* the terminal whose modes we
					 * changed, or -1 */
static struct termios ttyorig;		/* its modes before */
static const int stopsigs[] = { SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP, SIGQUIT };
static struct sigaction prevsa[sizeof stopsigs / sizeof stopsigs[0]];

/* Async-signal-safe. */
static void
tell(const char *seq)
{
	size_t n = strlen(seq);
	ssize_t w;

	while (n > 0 && ((w = write(STDOUT_FILENO, seq, n)) > 0 ||
	    (w < 0 && errno == EINTR)))
		if (w > 0) {
			seq += w;
			n -= (size_t)w;
		}
}

/* Async-signal-safe: the terminal is ours to change (a process in the
 * background that changed it would be stopped by SIGTTOU). */
static int
foreground(void)
{
	return ttyfd >= 0 && tcgetpgrp(ttyfd) == getpgrp();
}

/*
 * A signal that stops or ends the program: the modes from before the
 * session first.  Continued, between lines the modes as they were; in
 * a read libedit's own SIGCONT handler puts raw mode back (and would
 * take the modes we set for its cooked ones).
 */
static void
onstop(int sig)
{
	struct sigaction dfl, mine;
	struct termios cur;
	sigset_t s;
	int e = errno, saved = 0;

	if (pasteon)
		tell(PASTE_OFF);
	if (foreground()) {
		saved = !reading && tcgetattr(ttyfd, &cur) == 0;
		tcsetattr(ttyfd, TCSADRAIN, &ttyorig);
	}
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, &mine);
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
	/* continued */
	sigaction(sig, &mine, NULL);
	if (saved && foreground())
		tcsetattr(ttyfd, TCSADRAIN, &cur);
	if (pasteon)
		tell(PASTE_ON);
	errno = e;
}

/* At the end of the session, or at exit (die() in it): the terminal
 * as it was. */
static void
restore(void)
{
	if (pasteon) {
		pasteon = 0;
		tell(PASTE_OFF);
	}
	if (foreground())
		tcsetattr(ttyfd, TCSADRAIN, &ttyorig);
	ttyfd = -1;
}

/* The handlers of stopsigs: onstop (on) or the ones from before. */
static void
stophandlers(int on)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onstop;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof stopsigs / sizeof stopsigs[0]; i++)
		if (!on)
			sigaction(stopsigs[i], &prevsa[i], NULL);
		else if (sigaction(stopsigs[i], NULL, &prevsa[i]) == 0 &&
		    prevsa[i].sa_handler != SIG_IGN)	/* nohup's stays */
			sigaction(stopsigs[i], &sa, NULL);
}

static void
pastemode(struct ledit *le, int on)
{
	if (!le->paste || pasteon == on)
		return;
	fflush(stdout);
	pasteon = on;
	tell(on ? PASTE_ON : PASTE_OFF);
}

/*
 * Bound to ESC [ 200 ~: read up to ESC [ 201 ~ and insert it, a CR or
 * CR LF (what terminals send for a pasted newline) as a newline.
 * Interrupted or at the end of the input, the line ends as at Ctrl-D
 * (the caller tells the two apart by oai_interrupted).
 */
static unsigned char
onpaste(EditLine *el, int ch)
{
	static const wchar_t end[] = L"\033[201~";
	const size_t nend = sizeof end / sizeof end[0] - 1;
	wchar_t *s = NULL, c;
	size_t n = 0, cap = 0, o, i;

	(void)ch;
	for (;;) {
		if (el_wgetc(el, &c) != 1 || oai_interrupted) {
			free(s);
			return CC_EOF;
		}
		if (n + 2 > cap) {
			cap = cap ? 2 * cap : 256;
			s = xreallocarray(s, cap, sizeof *s);
		}
		s[n++] = c;
		if (n >= nend && wmemcmp(s + n - nend, end, nend) == 0)
			break;
	}
	n -= nend;
	for (i = o = 0; i < n; i++) {
		if (s[i] == L'\r' && i + 1 < n && s[i + 1] == L'\n')
			continue;
		if (s[i] != L'\0')
			s[o++] = s[i] == L'\r' ? L'\n' : s[i];
	}
	s[o] = L'\0';
	if (o > 0)
		el_winsertstr(el, s);
	free(s);
	return CC_REFRESH;
}

static char *
prompt(EditLine *el)
{
	struct ledit *le;

	el_get(el, EL_CLIENTDATA, &le);
	return (char *)le->prompt;
}

/*
 * Lines are UTF-8: the character type comes from the environment when
 * it is UTF-8, else C.UTF-8 (the C locale would drop every byte over
 * 0x7f).  Only LC_CTYPE: numbers must keep their '.'.
 */
static void
utf8ctype(void)
{
	const char *cs;

	if (setlocale(LC_CTYPE, "") && (cs = nl_langinfo(CODESET)) &&
	    strcmp(cs, "UTF-8") == 0)
		return;
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C");
}

/* A terminal that takes bracketed paste: both ends one, not dumb. */
static int
pasteable(void)
{
	const char *t = getenv("TERM");

	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && t && *t &&
	    strcmp(t, "dumb") != 0;
}

struct ledit *
ledit_open(const char *name, int histsize)
{
	static int registered;
	struct ledit *le = xcalloc(1, sizeof *le);
	HistEvent ev;
	int edit = 0;

	utf8ctype();
	/* libedit's own test: it changes the terminal's modes only then */
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
	    tcgetattr(STDIN_FILENO, &ttyorig) == 0) {
		if (!registered++)
			atexit(restore);
		stophandlers(1);
		ttyfd = STDIN_FILENO;
	}
	if (!(le->el = el_init(name, stdin, stdout, stderr)))
		die(OAI_EX_FAILURE, "cannot set up the line editor");
	le->h = history_init();
	if (!le->h)
		die(OAI_EX_FAILURE, "cannot set up the line history");
	history(le->h, &ev, H_SETSIZE, histsize);
	le->prompt = "";
	el_set(le->el, EL_CLIENTDATA, le);
	el_set(le->el, EL_EDITOR, "emacs");
	el_set(le->el, EL_SIGNAL, 1);
	el_set(le->el, EL_HIST, history, le->h);
	el_set(le->el, EL_PROMPT, prompt);
	/* what libedit's readline interface binds beyond its defaults */
	el_set(le->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
	el_set(le->el, EL_BIND, "\\e[1~", "ed-move-to-beg", NULL);
	el_set(le->el, EL_BIND, "\\e[4~", "ed-move-to-end", NULL);
	el_set(le->el, EL_BIND, "\\e[H", "ed-move-to-beg", NULL);
	el_set(le->el, EL_BIND, "\\e[F", "ed-move-to-end", NULL);
	el_set(le->el, EL_BIND, "\\e[3~", "ed-delete-next-char", NULL);
	el_set(le->el, EL_BIND, "\\e[1;5C", "em-next-word", NULL);
	el_set(le->el, EL_BIND, "\\e[1;5D", "ed-prev-word", NULL);
	/* wide: the narrow call copies the strings and never frees them */
	el_wset(le->el, EL_ADDFN, L"oai-paste", L"bracketed paste", onpaste);
	el_set(le->el, EL_BIND, "\\e[200~", "oai-paste", NULL);
	el_source(le->el, NULL);	/* ~/.editrc */
	/* Between lines a Ctrl-D waits in the queue (at the top).  Not
	 * when ~/.editrc says "edit off": libedit then reads in canonical
	 * mode, where the EOF character must stay. */
	if (ttyfd >= 0 && el_get(le->el, EL_EDITMODE, &edit) == 0 && edit)
		el_wset(le->el, EL_SETTY, L"-x", L"-eof", L"eof=", NULL);
	le->paste = pasteable();
	return le;
}

char *
ledit_read(struct ledit *le, const char *p)
{
	const char *s;
	char *line;
	int n = 0;

	le->prompt = p;
	pastemode(le, 1);
	reading = 1;
	s = el_gets(le->el, &n);
	reading = 0;
	pastemode(le, 0);
	if (!s || n <= 0)
		return NULL;
	line = xstrndup(s, (size_t)n);
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	return line;
}

void
ledit_add(struct ledit *le, const char *line)
{
	HistEvent ev;

	history(le->h, &ev, H_ENTER, line);
}

int
ledit_load(struct ledit *le, const char *path)
{
	HistEvent ev;

	return history(le->h, &ev, H_LOAD, path) < 0 ? -1 : 0;
}

int
ledit_save(struct ledit *le, const char *path)
{
	HistEvent ev;

	return history(le->h, &ev, H_SAVE, path) < 0 ? -1 : 0;
}

void
ledit_close(struct ledit *le)
{
	if (!le)
		return;
	pastemode(le, 0);
	el_end(le->el);
	if (ttyfd >= 0) {
		restore();
		stophandlers(0);
	}
	history_end(le->h);
	free(le);
}
