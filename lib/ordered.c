/* See LICENSE file for copyright and license details. */
#include <stdlib.h>

#include "oai.h"

/*
 * Requests in parallel, answers in order (oai.h): the one runner of
 * oai-chat --each, oai-embed and oai-moderate -l.  A queue of jobs in
 * the order they were made, at most 2 * parallel of them, answered or
 * not, so memory does not grow with the input and a slow answer holds
 * back at most that much; the head is finished as soon as it is done.
 */
struct run {
	const struct oai_ordered *p;
	struct oai_multi *m;
	struct oai_job *head, **tail;
	int queued;		/* made and not finished */
	int eof;		/* make() is not called again */
	int worst;		/* of what make() and finish() returned */
	int stop;		/* an exit status that ends the run now */
};

static int
worse(int a, int b)
{
	return b > a ? b : a;
}

static int
interrupt(int status)
{
	return status == OAI_EX_INTR || status == OAI_EX_TERM;
}

/* Make jobs while there is room; one that is not skipped is sent. */
static void
fill(struct run *r)
{
	const struct oai_ordered *p = r->p;
	struct oai_job *j;
	int k;

	while (!r->eof && r->queued < 2 * p->parallel) {
		if (p->in && oai_multi_pending(r->m) && !lines_ready(p->in))
			break;	/* the answers must not wait for it */
		if ((k = p->make(p->ctx, &j)) != 1) {
			r->eof = 1;
			r->worst = worse(r->worst, k);
			if (interrupt(k))
				r->stop = k;
			break;
		}
		j->done = j->skip;
		j->next = NULL;
		*r->tail = j;
		r->tail = &j->next;
		if (r->queued++ == 0 && p->first)
			p->first(p->ctx, j);
		if (!j->skip)
			oai_multi_add(r->m, &j->rq, &j->rs, j);
	}
}

/* Finish the jobs at the head that are done, in order; the next one
 * becomes the first, and may take its answer again if it paused. */
static void
drain(struct run *r)
{
	const struct oai_ordered *p = r->p;
	struct oai_job *j;
	int k;

	while (!r->stop && (j = r->head) && j->done) {
		if ((k = p->finish(p->ctx, j)) != 0)
			r->worst = r->stop = worse(r->worst, k);
		out_flush();
		if (!(r->head = j->next))
			r->tail = &r->head;
		r->queued--;
		p->drop(p->ctx, j);
		if (!r->stop && r->head) {
			if (p->first)
				p->first(p->ctx, r->head);
			oai_multi_resume(r->m, r->head);
		}
	}
}

/* Whether a failure stops the making of jobs: any does, unless the
 * jobs are independent; then one every later request would share. */
static int
stopsinput(const struct oai_ordered *p, const struct oai_job *j)
{
	return !p->keepgoing || j->rs.budget || j->status == OAI_EX_AUTH ||
	    j->status == OAI_EX_USAGE;
}

int
oai_ordered_run(struct oai *o, const struct oai_ordered *p)
{
	struct run r = { p, NULL, NULL, NULL, 0, 0, 0, 0 };
	struct oai_job *j;
	int status;

	r.tail = &r.head;
	r.m = oai_multi_new(o, p->parallel);
	if (p->budget > 0)
		oai_multi_budget(r.m, p->budget);
	for (;;) {
		fill(&r);
		drain(&r);
		if (r.stop || (!r.head && r.eof))
			break;
		oai_multi_watch(r.m, p->in && !r.eof &&
		    r.queued < 2 * p->parallel ? p->in->fd : -1);
		if (!(j = oai_multi_wait(r.m, &status)))
			continue;	/* input is there */
		j->done = 1;
		if ((j->status = status) && stopsinput(p, j))
			r.eof = 1;
		if (interrupt(status))
			r.stop = r.worst = status;
	}
	oai_multi_free(r.m);	/* aborts what is still in flight */
	while ((j = r.head)) {
		r.head = j->next;
		p->drop(p->ctx, j);
	}
	return interrupt(r.stop) ? r.stop : r.worst;
}
