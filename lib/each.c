/* See LICENSE file for copyright and license details. */
#include <stdlib.h>
#include <string.h>

#include "oai.h"

/*
 * The ordered parallel runner (oai.h, each.c): a queue of items in
 * input order, the head handed to done() once it is answered.  The
 * queue holds at most 2 * parallel items, answered or not, so a slow
 * line holds back at most that much.
 */
struct run {
	struct oai *o;
	struct oai_each *e;
	struct oai_multi *m;
	struct oai_item *head, **tail;
	int queued;
	int eof;		/* the input is over (or stopped) */
	int worst;		/* of the items and done() */
	int stop;		/* an exit status that ends the run now */
};

static void
freeitem(struct oai_item *it)
{
	buf_free(&it->body);
	oai_resp_free(&it->rs);
	free(it);
}

static int
worse(int a, int b)
{
	return b > a ? b : a;
}

/* Read inputs while there is room. */
static void
fill(struct run *r)
{
	struct oai_item *it;
	int k;

	while (!r->eof && r->queued < 2 * r->e->parallel) {
		if (r->e->in && oai_multi_pending(r->m) &&
		    !lines_ready(r->e->in))
			break;	/* the answers must not wait for it */
		it = xcalloc(1, sizeof *it);
		buf_init(&it->body);
		it->rs = (struct oai_resp)OAI_RESP_INIT;
		it->rq.method = "POST";
		if ((k = r->e->next(r->e->ctx, it)) != 1) {
			freeitem(it);
			r->eof = 1;
			if (k)
				r->worst = worse(r->worst, k);
			if (k == OAI_EX_INTR || k == OAI_EX_TERM)
				r->stop = k;
			break;
		}
		*r->tail = it;
		r->tail = &it->next;
		r->queued++;
		if (it->skip) {
			it->done = 1;
			continue;
		}
		it->rq.body = it->body.s;
		it->rq.bodylen = it->body.len;
		it->rq.defer_error = 1;
		oai_multi_add(r->m, &it->rq, &it->rs, it);
	}
}

/* The budget stopped the run at it: say where, print nothing more. */
static void
overbudget(struct run *r, struct oai_item *it)
{
	warnx("%s: %s; it and what follows were not sent", it->where,
	    it->rs.error.s);
	r->worst = worse(r->worst, OAI_EX_REJECTED);
	r->stop = OAI_EX_REJECTED;
	r->eof = 1;
}

/* Hand on the answered items at the head of the queue. */
static void
drain(struct run *r)
{
	struct oai_item *it;
	int k;

	while (!r->stop && (it = r->head) && it->done) {
		if (it->rs.budget) {
			overbudget(r, it);
			return;
		}
		if (!it->skip && it->status == 0)
			oai_usage_add(&r->e->total, &it->rs.usage);
		if ((k = r->e->done(r->e->ctx, it)) != 0) {
			r->worst = worse(r->worst, k);
			r->stop = k;
		}
		r->worst = worse(r->worst, it->status);
		/* no point in going on: every request would fail alike */
		if (it->status == OAI_EX_AUTH || it->status == OAI_EX_USAGE)
			r->eof = !it->skip || r->eof;
		out_flush();
		if (!(r->head = it->next))
			r->tail = &r->head;
		r->queued--;
		freeitem(it);
	}
}

int
oai_each_run(struct oai *o, struct oai_each *e)
{
	struct run r = { o, e, NULL, NULL, NULL, 0, 0, 0, 0 };
	struct oai_item *it;
	int status;

	r.tail = &r.head;
	r.m = oai_multi_new(o, e->parallel);
	if (e->budget > 0)
		oai_multi_budget(r.m, e->budget);
	oai_usage_init(&e->total, NULL);
	for (;;) {
		fill(&r);
		drain(&r);
		if (r.stop || (!r.head && r.eof))
			break;
		oai_multi_watch(r.m, e->in && !r.eof &&
		    r.queued < 2 * e->parallel ? e->in->fd : -1);
		if (!(it = oai_multi_wait(r.m, &status)))
			continue;	/* input, or only skipped items queued */
		it->done = 1;
		it->status = status;
		if (status == OAI_EX_INTR || status == OAI_EX_TERM)
			r.stop = r.worst = status;
	}
	oai_multi_free(r.m);
	while ((it = r.head)) {
		r.head = it->next;
		freeitem(it);
	}
	return r.stop == OAI_EX_INTR || r.stop == OAI_EX_TERM ? r.stop :
	    r.worst;
}
