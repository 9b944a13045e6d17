/* See LICENSE file for copyright and license details. */
#include <stdlib.h>

#include "oai.h"

/*
 * Requests in parallel, answers in order: the shape of oai-embed and
 * oai-moderate -l (a reader of batches, a writer of results).  Jobs
 * are made while fewer than 2 * parallel are unfinished, so memory
 * does not grow with the input; up to parallel are in flight; each is
 * finished only after every job made before it.  A job that fails
 * stops the making of new ones: those before it are still finished
 * (their output written), then its failure ends the run.
 */

/* Finish the jobs at the head that are done, in order; the next one
 * becomes the first, and may take its answer again if it paused. */
static int
finishdone(struct oai_multi *m, const struct oai_ordered *p,
    struct oai_job **head, struct oai_job ***tail, int *outstanding)
{
	struct oai_job *j;
	int rc = 0;

	while (!rc && *head && (*head)->done) {
		j = *head;
		rc = p->finish(p->ctx, j, j->status);
		if (!(*head = j->next))
			*tail = head;
		p->drop(p->ctx, j);
		--*outstanding;
		if (!rc && *head) {
			if (p->first)
				p->first(p->ctx, *head);
			oai_multi_resume(m, *head);
		}
	}
	return rc;
}

int
oai_ordered_run(struct oai *o, int parallel, const struct oai_ordered *p)
{
	struct oai_multi *m = oai_multi_new(o, parallel);
	struct oai_job *head = NULL, **tail = &head, *j;
	int outstanding = 0, stopped = 0, status, rc = 0;

	if (p->budget > 0)
		oai_multi_budget(m, p->budget);
	while (!rc) {
		while (!stopped && outstanding < 2 * parallel) {
			if (!(j = p->make(p->ctx))) {
				stopped = 1;
				break;
			}
			j->done = j->status = 0;
			j->next = NULL;
			oai_multi_add(m, &j->rq, &j->rs, j);
			*tail = j;
			tail = &j->next;
			if (outstanding++ == 0 && p->first)
				p->first(p->ctx, j);
		}
		if (!(j = oai_multi_wait(m, &status)))
			break;
		j->done = 1;
		if ((j->status = status))
			stopped = 1;	/* make nothing new */
		rc = finishdone(m, p, &head, &tail, &outstanding);
	}
	oai_multi_free(m);	/* aborts the jobs after a failure */
	while (head) {
		j = head->next;
		p->drop(p->ctx, head);
		head = j;
	}
	return rc;
}
