/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oai.h"

/*
 * -o FILE, the one rule for every tool (oai(7), FILES):
 *
 * - a regular file, or a name that does not exist yet, is replaced
 *   atomically: the output goes to a hidden temporary file beside it,
 *   renamed over it only once complete; a failed or interrupted run
 *   leaves the old file as it was and no temporary file behind;
 * - anything else (character or block device, FIFO, /dev/stdout and the
 *   other descriptor names under /dev/fd and /proc) is opened and written
 *   in place, never replaced: `-o /dev/null` keeps the device node;
 * - a symbolic link is followed, as cp(1) and the shell's > do: the file
 *   it points to gets the output under the rules above and the link
 *   stays; a dangling link creates the file it names.
 *
 * The temporary file is created 0600 and given its final mode only when
 * renamed: 0666 less the umask for a new file, the replaced file's
 * permission bits without setuid, setgid and sticky (as cp does).
 */

#define MAXLIVE 8		/* temporary files open at once */
#define MAXHOPS 40		/* symbolic links followed, as Linux does */

/* Temporary files to remove if a signal ends the process.  Changed only
 * with the signals below blocked, read by the handler. */
static char *volatile live[MAXLIVE];
static int installed;
/* Removed in the handler, then the signal does what it did before. */
static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM,
	SIGUSR1, SIGUSR2 };
static struct sigaction prev[sizeof fatal / sizeof fatal[0]];

static void
unlinklive(void)
{
	int i;

	for (i = 0; i < MAXLIVE; i++)
		if (live[i])
			unlink(live[i]);
}

/* Async-signal-safe: unlink(), sigaction(), raise() and whatever the
 * previous handler (the flag oai_init() sets) does. */
static void
onfatal(int sig)
{
	size_t i;
	int e = errno;

	unlinklive();
	for (i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
		if (fatal[i] != sig)
			continue;
		if (prev[i].sa_handler == SIG_DFL) {
			/* Die of it as before: the shell sees 128 + sig. */
			sigaction(sig, &prev[i], NULL);
			raise(sig);	/* delivered when we return */
		} else if (prev[i].sa_flags & SA_SIGINFO)
			prev[i].sa_sigaction(sig, NULL, NULL);
		else if (prev[i].sa_handler != SIG_IGN)
			prev[i].sa_handler(sig);
	}
	errno = e;
}

static void
block(sigset_t *old)
{
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	for (i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		sigaddset(&set, fatal[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void
install(void)
{
	struct sigaction sa;
	size_t i;

	if (installed)
		return;
	installed = 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onfatal;
	sigfillset(&sa.sa_mask);	/* one handler at a time */
	for (i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
		sigaction(fatal[i], NULL, &prev[i]);
		/* nohup's ignored SIGHUP stays ignored */
		if (prev[i].sa_handler != SIG_IGN)
			sigaction(fatal[i], &sa, NULL);
	}
	/* A file size limit (ulimit -f) is a write error (EFBIG) that
	 * removes the temporary file, not a silent death that keeps it. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGXFSZ, &sa, NULL);
	atexit(unlinklive);	/* die() anywhere */
}

static void
setlive(struct outfile *f, char *tmp)
{
	sigset_t old;
	int i;

	block(&old);
	if (tmp) {
		for (i = 0; i < MAXLIVE && live[i]; i++)
			;
		if (i == MAXLIVE)
			die(OAI_EX_FAILURE, "too many output files at once");
		live[i] = tmp;
		f->slot = i;
	} else if (f->slot >= 0) {
		live[f->slot] = NULL;
		f->slot = -1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* A name that stands for a descriptor: written in place. */
static int
isfdname(const char *p)
{
	return strncmp(p, "/proc/", 6) == 0 || strncmp(p, "/dev/fd/", 8) == 0;
}

char *
path_follow(const char *path, int *viafd)
{
	struct buf link = BUF_INIT, next = BUF_INIT;
	struct stat st;
	char *p = xstrdup(path), *d;
	ssize_t n;
	int hops;

	if (viafd)
		*viafd = isfdname(p);
	for (hops = 0;; hops++) {
		if (lstat(p, &st) < 0 || !S_ISLNK(st.st_mode))
			break;
		if (hops == MAXHOPS) {
			free(p);
			p = NULL;
			errno = ELOOP;
			break;
		}
		/* st_size is 0 for /proc's links: grow until it fits */
		for (buf_reset(&link);; buf_grow(&link, link.cap * 2)) {
			buf_grow(&link, 256);
			if ((n = readlink(p, link.s, link.cap - 1)) < 0)
				break;
			if ((size_t)n < link.cap - 1)
				break;
		}
		if (n < 0)
			break;	/* gone meanwhile: use p as it is */
		link.len = (size_t)n;
		link.s[n] = '\0';
		buf_reset(&next);
		if (link.s[0] != '/') {
			d = xstrdup(p);
			buf_printf(&next, "%s/", dirname(d));
			free(d);
		}
		buf_add(&next, link.s, link.len);
		free(p);
		p = buf_steal(&next, NULL);
		if (viafd && isfdname(p))
			*viafd = 1;
	}
	buf_free(&link);
	buf_free(&next);
	return p;
}

void
outfile_open(struct outfile *f, const char *path)
{
	struct buf b = BUF_INIT;
	struct stat st;
	char *d1, *d2;
	int viafd = 0;

	memset(f, 0, sizeof *f);
	f->fd = -1;
	f->slot = -1;
	f->name = xstrdup(path);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		die(OAI_EX_USAGE, "-o: %s is a directory", path);
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		die(OAI_EX_USAGE, "-o: %s is a socket", path);
	install();
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		f->direct = 1;	/* a device or a FIFO: blocks like > */
		if ((f->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0)
			edie(OAI_EX_FAILURE, "%s", path);
		return;
	}
	if (!(f->target = path_follow(path, &viafd)))
		edie(OAI_EX_FAILURE, "%s", path);
	if (viafd) {
		/* /dev/stdout redirected to a file: as the shell's > */
		f->direct = 1;
		if ((f->fd = open(path, O_WRONLY | O_TRUNC | O_NOCTTY |
		    O_CLOEXEC)) < 0)
			edie(OAI_EX_FAILURE, "%s", path);
		return;
	}
	/* Beside the file it replaces, so that rename() is atomic. */
	d1 = xstrdup(f->target);
	d2 = xstrdup(f->target);
	buf_printf(&b, "%s/.%s.XXXXXX", dirname(d1), basename(d2));
	free(d1);
	free(d2);
	f->tmp = buf_steal(&b, NULL);
	{
		sigset_t old;

		/* no signal between creating it and knowing its name */
		block(&old);
		f->fd = mkstemp(f->tmp);
		if (f->fd >= 0)
			setlive(f, f->tmp);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	if (f->fd < 0)
		edie(OAI_EX_FAILURE, "%s", path);
	fcntl(f->fd, F_SETFD, FD_CLOEXEC);
}

void
outfile_write(struct outfile *f, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(f->fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			edie(OAI_EX_FAILURE, "write error on %s", f->name);
		}
		s += w;
		n -= (size_t)w;
	}
}

static void
release(struct outfile *f)
{
	free(f->name);
	free(f->target);
	free(f->tmp);
	f->name = f->target = f->tmp = NULL;
	f->fd = -1;
}

void
outfile_commit(struct outfile *f)
{
	struct stat st;
	sigset_t old;
	mode_t mode, um;
	char *d;
	int dfd, e;

	if (f->direct) {
		if (close(f->fd) < 0)
			edie(OAI_EX_FAILURE, "%s", f->name);
		release(f);
		return;
	}
	if (stat(f->target, &st) == 0)
		mode = st.st_mode & 0777;	/* no setuid, setgid, sticky */
	else {
		um = umask(0);
		umask(um);
		mode = 0666 & ~um;
	}
	if (fchmod(f->fd, mode) < 0 || fsync(f->fd) < 0 || close(f->fd) < 0) {
		e = errno;
		f->fd = -1;
		outfile_abort(f);
		errno = e;
		edie(OAI_EX_FAILURE, "write error on %s", f->name);
	}
	f->fd = -1;
	/* An interruption either came before (no file) or comes after
	 * (the file is complete and stays). */
	block(&old);
	if (oai_interrupted) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		outfile_abort(f);
		exit(oai_intr_status());
	}
	if (rename(f->tmp, f->target) < 0) {
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		outfile_abort(f);
		errno = e;
		edie(OAI_EX_FAILURE, "%s", f->name);
	}
	setlive(f, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* make the rename itself durable */
	d = xstrdup(f->target);
	if ((dfd = open(dirname(d), O_RDONLY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(d);
	release(f);
}

void
outfile_abort(struct outfile *f)
{
	if (!f->name)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp) {
		unlink(f->tmp);
		setlive(f, NULL);
	}
	release(f);
}

/* The whole lines of fd (from its start), and the offset after the
 * last of them. */
static long long
wholelines(int fd, const char *path, off_t *end)
{
	char b[65536];
	long long lines = 0;
	off_t off = 0;
	ssize_t n, i;

	*end = 0;
	while ((n = pread(fd, b, sizeof b, off)) != 0) {
		if (n < 0 && errno == EINTR && !oai_interrupted)
			continue;
		if (n < 0)
			edie(OAI_EX_FAILURE, "%s", path);
		for (i = 0; i < n; i++)
			if (b[i] == '\n') {
				lines++;
				*end = off + i + 1;
			}
		off += n;
	}
	return lines;
}

long long
outfile_lines(const char *path, int resume)
{
	struct stat st;
	long long lines = 0;
	off_t end;
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		die(OAI_EX_USAGE, "-o: %s is a directory", path);
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		die(OAI_EX_USAGE, "-o: %s is a socket", path);
	if (resume && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		die(OAI_EX_USAGE, "--resume: %s is not a regular file", path);
	if ((fd = open(path, (resume ? O_RDWR : O_WRONLY) | O_CREAT |
	    O_NOCTTY | O_CLOEXEC, 0666)) < 0)
		edie(OAI_EX_FAILURE, "%s", path);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		lines = resume ? wholelines(fd, path, &end) : 0;
		if (ftruncate(fd, resume ? end : 0) < 0 ||
		    lseek(fd, 0, SEEK_END) < 0)
			edie(OAI_EX_FAILURE, "%s", path);
	}
	if (dup2(fd, 1) < 0)
		edie(OAI_EX_FAILURE, "%s", path);
	close(fd);
	return lines;
}
