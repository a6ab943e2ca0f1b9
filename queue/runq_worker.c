/*
 * runq_worker.c - a delivery worker: one destination, one process. See runq.h.
 *
 * SECURITY: a worker parses what the network says (through deliver.c); it runs as the postern user with
 * the spool open, like its parent. What it sends up the result pipe is parsed strictly by the parent.
 */
#include "queue/runq.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "lib/buf.h"
#include "queue/deliver.h"

/* What a worker knows of its destination. A message whose pending recipients all go to this one
 * destination is the worker's own: the parent closed its descriptor after the fork, so the worker holds
 * the lock alone, records the outcomes and finishes the message itself (removal, deferral, report), and
 * the removals of different destinations run in parallel. A message shared with other destinations
 * stays the parent's: its outcomes go up the pipe as result lines. */
struct wctx {
	struct runq_ctx *x;
	struct runq_msg *q;
	struct runq_dest *d;	/* d->left: this process's copy, as it was at the fork */
	int fd;			/* the result pipe */
};

static void worker_finish(struct wctx *w, size_t mi)
{
	struct runq_msg *qm = &w->q[w->d->msg[mi]];

	runq_finish(w->x, qm);		/* a removed message went to the reaper */
	spool_msg_unlock(qm->m);	/* a deferred one: the last close, here */
	qm->m = NULL;
	qm->owned = false;
}

static void worker_report(void *ctx, const struct dlv_result *r)
{
	struct wctx *w = ctx;
	struct runq_msg *qm = &w->q[w->d->msg[r->msg]];
	char line[RUNQ_RESULT_LINE];
	int n;

	if (qm->owned) {
		runq_apply(w->x, qm, w->d->ridx[r->msg][r->rcpt], (char)r->state, r->status, r->relay, r->tls,
		    r->diag);
		if (w->d->left[r->msg] > 0 && --w->d->left[r->msg] == 0)
			worker_finish(w, r->msg);
		return;
	}
	n = snprintf(line, sizeof line, "R\t%zu\t%zu\t%c\t%s\t%s\t%s\t%s\n", r->msg, r->rcpt, (char)r->state,
	    r->status, r->relay, r->tls, r->diag);
	/* a pipe write under PIPE_BUF is atomic; if the runner is gone, nothing we send would be recorded,
	 * so stop rather than deliver more that the next run would send again */
	if (n > 0 && (size_t)n < sizeof line && write(w->fd, line, (size_t)n) != n)
		_exit(0);
}

static void worker_transcript(void *ctx, enum smtp_dir dir, const char *line, size_t len)
{
	char safe[1100];

	(void)ctx;
	log_safe(safe, sizeof safe, line, len);
	fprintf(stderr, "%s %s\n", dir == SMTP_DIR_OUT ? ">>>" : "<<<", safe);
}

static uint32_t worker_rnd(void *ctx)
{
	uint32_t v = 0;

	(void)ctx;
	if (getrandom(&v, sizeof v, 0) != sizeof v)
		v = (uint32_t)rand();
	return v;
}

/* runq_worker - see runq.h */
void runq_worker(struct runq_ctx *x, struct runq_msg *q, struct runq_dest *d, int fd)
{
	struct dlv_msg *dm = xcalloc(d->nmsg, sizeof *dm);
	struct dlv_dest dd;
	struct dlv_env de;
	struct wctx w = { .x = x, .q = q, .d = d, .fd = fd };

	x->reaper = reaper_start(x->lg, d->nmsg);
	for (size_t m = 0; m < d->nmsg; m++) {
		struct runq_msg *qm = &q[d->msg[m]];
		const char **rc = xcalloc(d->nr[m], sizeof *rc);

		for (size_t k = 0; k < d->nr[m]; k++)
			rc[k] = qm->env.rcpt[d->ridx[m][k]].addr;
		dm[m].id = qm->env.id;
		dm[m].sender = qm->env.sender;
		dm[m].size = qm->env.size;
		dm[m].body8bit = qm->env.body8bit;
		dm[m].smtputf8 = qm->env.smtputf8;
		dm[m].prefix = buf_str(&qm->prefix);
		dm[m].prefixlen = qm->prefix.len;
		dm[m].datafd = spool_msg_data_fd(qm->m);	/* read with pread: no shared offset to race on */
		dm[m].rcpt = rc;
		dm[m].nrcpt = d->nr[m];
	}
	memset(&dd, 0, sizeof dd);
	dd.domain = d->domain;
	dd.msg = dm;
	dd.nmsg = d->nmsg;
	memset(&de, 0, sizeof de);
	de.c = x->c;
	de.dns = x->dns;
	de.tls = x->tls;
	de.auth.user = x->auth_user;
	de.auth.pass = x->auth_pass;
	de.transcript = x->ro->verbose ? worker_transcript : NULL;
	de.report = worker_report;
	de.report_ctx = &w;
	de.rnd = worker_rnd;
	de.stop = x->stop;
	deliver_dest(&de, &dd);
	/* own messages not answered for in full (a stop, a dropped connection) keep what was learnt */
	for (size_t m = 0; m < d->nmsg; m++)
		if (q[d->msg[m]].owned)
			worker_finish(&w, m);
	close(fd);	/* delivery is over: the parent may give this connection slot to another worker */
	if (x->reaper != NULL)
		reaper_finish(x->reaper);
	_exit(0);	/* (the parent syncs the spool's folders once, at the end of the pass) */
}

