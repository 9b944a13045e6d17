/* See LICENSE file for copyright and license details. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oai.h"

/*
 * Running a program the user named (oai-chat --tool): fork and execv,
 * never a shell, so nothing a model writes is ever parsed as a command
 * line.  What it is given goes to its standard input; what it prints is
 * kept up to a limit and the rest read and dropped, so it never blocks
 * on a full pipe; a deadline kills it and whatever it started.
 */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: the pipes on 0 and 1, signals as a program expects
 * them, a process group of its own (the deadline kills all of it). */
static void
child(char *const argv[], int in, int out, int errfd)
{
	struct sigaction sa;
	sigset_t none;
	int e;

	setpgid(0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(127);
	if (in > 1)
		close(in);
	if (out > 1)
		close(out);
	execv(argv[0], argv);
	e = errno;
	if (write(errfd, &e, sizeof e) < 0) {}
	_exit(127);
}

/* Feed in, read out, until both are done, the deadline or a signal. */
static void
pump(struct proc *r, int win, int rout, const char *in, size_t inlen,
    long long deadline)
{
	struct pollfd p[2];
	char tmp[8192];
	size_t off = 0;
	ssize_t k;
	long long left;

	if (inlen == 0) {
		close(win);
		win = -1;
	}
	while (rout >= 0) {
		if (oai_interrupted) {
			r->interrupted = 1;
			break;
		}
		if ((left = deadline - now_ms()) <= 0) {
			r->timedout = 1;
			break;
		}
		p[0] = (struct pollfd){ .fd = rout, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = win, .events = POLLOUT };
		if (poll(p, win >= 0 ? 2 : 1, left > 1000 ? 1000 : (int)left)
		    < 0)
			continue;	/* EINTR: looked at above */
		if (win >= 0 && p[1].revents) {
			k = write(win, in + off, inlen - off);
			if (k > 0)
				off += (size_t)k;
			if ((k < 0 && errno != EINTR && errno != EAGAIN) ||
			    off == inlen) {
				close(win);	/* EPIPE: it reads no more */
				win = -1;
			}
		}
		if (p[0].revents) {
			if ((k = read(rout, tmp, sizeof tmp)) < 0 &&
			    errno != EINTR && errno != EAGAIN)
				k = 0;
			if (k == 0) {
				close(rout);
				rout = -1;
			} else if (k > 0) {
				size_t room = r->max > r->out.len ?
				    r->max - r->out.len : 0;
				size_t keep = (size_t)k < room ? (size_t)k : room;

				buf_add(&r->out, tmp, keep);
				if (keep < (size_t)k)
					r->truncated = 1;
			}
		}
	}
	if (win >= 0)
		close(win);
	if (rout >= 0)
		close(rout);
}

int
run_program(struct proc *r, char *const argv[], const char *in, size_t inlen)
{
	int pin[2], pout[2], perr[2], e, st;
	pid_t pid;
	ssize_t k;

	r->status = -1;
	r->timedout = r->truncated = r->interrupted = 0;
	if (pipe(pin) < 0)
		return -1;
	if (pipe(pout) < 0 || pipe(perr) < 0) {
		e = errno;
		close(pin[0]);
		close(pin[1]);
		errno = e;
		return -1;
	}
	fcntl(perr[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) < 0) {
		e = errno;
		close(pin[0]), close(pin[1]), close(pout[0]), close(pout[1]);
		close(perr[0]), close(perr[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		close(pin[1]), close(pout[0]), close(perr[0]);
		child(argv, pin[0], pout[1], perr[1]);
	}
	close(pin[0]), close(pout[1]), close(perr[1]);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	fcntl(pin[1], F_SETFD, FD_CLOEXEC);
	fcntl(pout[0], F_SETFD, FD_CLOEXEC);
	/* exec failed: its errno comes through the pipe exec closes */
	do
		k = read(perr[0], &e, sizeof e);
	while (k < 0 && errno == EINTR);
	close(perr[0]);
	if (k == (ssize_t)sizeof e) {
		close(pin[1]), close(pout[0]);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		errno = e;
		return -1;
	}
	pump(r, pin[1], pout[0], in, inlen, now_ms() + r->timeout_ms);
	if (r->timedout || r->interrupted)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) :
	    WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
	return 0;
}
