/*
 * runq_worker.c - a delivery worker: one destination, one process. See runq.h.
 *
 * SECURITY: a worker parses what the network says (through deliver.c); it runs as the postern user with
 * the spool open, like its parent. What it sends up the result pipe is parsed strictly by the parent.
 */
#include "queue/run/runq.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/text.h"
#include "queue/wire/deliver.h"
#include "queue/run/mime8.h"
#include "queue/run/runq_line.h"

#define TAG_MAX 32		/* -v's tag for a connection: "[3 example.com]", cut to fit */
#define TRANSCRIPT_SHOW 1100	/* one transcript line as -v shows it: an SMTP line and some escapes */

/* What a worker knows of its destination. The runner hands it messages one by one ("M\tMSG"); a
 * message whose pending recipients all go to this one destination (owned) is the worker's own once it
 * starts it: it records the outcomes and finishes the message itself (removal, deferral, report), so
 * the removals of different connections run in parallel, and says "F\tMSG". A message shared with other
 * destinations stays the runner's: its outcomes go up the pipe as result lines. */
struct wctx {
	struct runq_ctx *x;
	struct runq_msg *q;
	struct runq_dest *d;	/* d->left: this process's copy */
	uint32_t id;		/* this worker's claim id */
	int in, out;		/* from and to the runner */
	char ib[RUNQ_LINE_MAX];	/* what came in from the runner, not yet parsed */
	size_t ilen;
	char tag[TAG_MAX];	/* for -v: which connection a line is from */
	const struct dlv_msg *dm;	/* the destination's messages, as deliver_dest has them */
};

/* say - one line to the runner. If the runner is gone nothing we do would be recorded, so stop rather
 * than deliver more that the next run would send again. */
static void say(struct wctx *w, const struct runq_line *l)
{
	char line[RUNQ_LINE_MAX];
	int n = runq_line_format(l, line, sizeof line);

	if (n < 0) {	/* (fields are made safe and sized before: a broken invariant) */
		log_msg(w->x->lg, LOG_ERR, "internal error: a result line that cannot be written");
		_exit(0);
	}
	if (write(w->out, line, (size_t)n) != n)
		_exit(0);
}

static void say_msg(struct wctx *w, enum runq_kind kind, size_t mi)
{
	struct runq_line l = { .kind = kind, .msg = mi };

	say(w, &l);
}

static void worker_finish(struct wctx *w, size_t mi)
{
	struct runq_msg *qm = &w->q[w->d->msg[mi]];

	runq_finish(w->x, qm);		/* a removed message went to the reaper */
	spool_msg_unlock(qm->m);	/* a deferred one: this worker's descriptor goes here */
	qm->m = NULL;
	qm->owned = false;
	say_msg(w, RUNQ_L_FINISHED, mi);
}

/* copy_safe - a result field for the line: printable, within the line's ceiling. */
static void copy_safe(char *dst, size_t sz, const char *src)
{
	(void)text_safe(dst, sz, src, strnlen(src, sz), TEXT_LINE);
}

static void worker_report(void *ctx, const struct dlv_result *r)
{
	struct wctx *w = ctx;
	struct runq_msg *qm = &w->q[w->d->msg[r->msg]];
	struct runq_line l;

	if (r->state == DLV_UNTRIED) {	/* reported for each recipient; said once */
		if (w->d->left[r->msg] > 0) {
			w->d->left[r->msg] = 0;
			say_msg(w, RUNQ_L_UNTRIED, r->msg);
		}
		return;
	}
	if (qm->owned) {
		runq_apply(w->x, qm, w->d->ridx[r->msg][r->rcpt], (char)r->state, r->status, r->relay, r->tls,
		    r->diag);
		/* a 2xx with more of the message's replies to come (carried on to the next MX, say) goes in
		 * place now; the last reply finishes the message, which records it anyway */
		if (r->state == DLV_SENT && w->d->left[r->msg] > 1)
			runq_mark_sent(w->x, qm, w->d->ridx[r->msg][r->rcpt]);
		if (w->d->left[r->msg] > 0 && --w->d->left[r->msg] == 0)
			worker_finish(w, r->msg);
		return;
	}
	if (w->d->left[r->msg] > 0)
		w->d->left[r->msg]--;
	memset(&l, 0, sizeof l);
	l.kind = RUNQ_L_RESULT;
	l.msg = r->msg;
	l.rcpt = r->rcpt;
	l.state = (char)r->state;
	copy_safe(l.status, sizeof l.status, r->status);
	copy_safe(l.relay, sizeof l.relay, r->relay);
	copy_safe(l.tls, sizeof l.tls, r->tls);
	copy_safe(l.diag, sizeof l.diag, r->diag);
	say(w, &l);
}

/* worker_take - the next message the runner hands out (see dlv_source). */
static long worker_take(void *ctx, bool wait)
{
	struct wctx *w = ctx;

	for (;;) {
		char *nl = memchr(w->ib, '\n', w->ilen);

		if (nl != NULL) {
			size_t used = (size_t)(nl - w->ib) + 1;
			struct runq_line l;
			int r = runq_line_parse(w->ib, used - 1, &l);

			memmove(w->ib, w->ib + used, w->ilen - used);
			w->ilen -= used;
			if (r < 0 || (l.kind == RUNQ_L_MSG && l.msg >= w->d->nmsg))
				continue;	/* (malformed: ignored) */
			if (l.kind == RUNQ_L_MSG)
				return (long)l.msg;
			if (l.kind == RUNQ_L_END)
				return -1;
			continue;
		}
		if (w->ilen == sizeof w->ib)
			return -1;
		struct pollfd p = { .fd = w->in, .events = POLLIN };

		if (poll(&p, 1, 0) <= 0) {
			if (!wait)
				return -2;
			say_msg(w, RUNQ_L_WAIT, 0);	/* (the runner may have taken back what it had given) */
		}
		ssize_t n = read(w->in, w->ib + w->ilen, sizeof w->ib - w->ilen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;	/* the runner is gone: nothing more */
		w->ilen += (size_t)n;
	}
}

/* worker_alive - a "W" line: the runner's stall clock starts again (see dlv_source). */
static void worker_alive(void *ctx)
{
	say_msg(ctx, RUNQ_L_WAIT, 0);
}

/* worker_start - claim m for good, unless the runner took it back (see runq_claim). */
static bool worker_start(void *ctx, size_t m)
{
	struct wctx *w = ctx;
	uint32_t want = RUNQ_CLAIM(w->id, RUNQ_ASSIGNED);

	/* (one started on a connection that was lost is still this worker's) */
	return atomic_compare_exchange_strong(&w->d->claim[m], &want, RUNQ_CLAIM(w->id, RUNQ_STARTED)) ||
	    want == RUNQ_CLAIM(w->id, RUNQ_STARTED);
}

static void worker_transcript(void *ctx, enum smtp_dir dir, const char *line, size_t len)
{
	struct wctx *w = ctx;
	char safe[TRANSCRIPT_SHOW];

	log_safe(safe, sizeof safe, line, len);
	fprintf(stderr, "%s %s %s\n", w->tag, dir == SMTP_DIR_OUT ? ">>>" : "<<<", safe);
}

/* worker_form - message m's 7-bit form for a server without 8BITMIME (dlv_form_fn), signed with the
 * pass's keys: the worker's copy of the signer loads a key at most once in this process. */
static enum dlv_form_result worker_form(void *ctx, size_t m, struct dlv_form *f, struct err *e)
{
	struct wctx *w = ctx;
	const struct dlv_msg *dm = &w->dm[m];
	struct mime8_src src = { .fd = dm->datafd, .size = dm->size, .prefix = dm->prefix,
	    .prefixlen = dm->prefixlen };
	enum dlv_form_result r = mime8_form(w->x->c, w->x->sp, w->x->signer, &src, (long long)time(NULL), f, e);

	if (r == DLV_FORM_MADE)
		log_msg(w->x->lg, LOG_INFO, "%s: 8-bit message converted to 7-bit (quoted-printable) for a "
		    "server without 8BITMIME, size=%lld", dm->id, f->size + (long long)f->prefixlen);
	return r;
}

static uint32_t worker_rnd(void *ctx)
{
	uint32_t v = 0;

	(void)ctx;
	if (getrandom(&v, sizeof v, 0) != sizeof v)
		v = (uint32_t)rand();
	return v;
}

_Static_assert(NOTIFY_SUCCESS == SMTP_NOTIFY_SUCCESS && NOTIFY_FAILURE == SMTP_NOTIFY_FAILURE &&
    NOTIFY_DELAY == SMTP_NOTIFY_DELAY && NOTIFY_NEVER == SMTP_NOTIFY_NEVER, "envelope and SMTP NOTIFY bits");
/* a result crosses the pipe whole: the line's fields hold what a dlv_result holds */
_Static_assert(RUNQ_STATUS_MAX == DLV_STATUS_MAX && RUNQ_RELAY_MAX == DLV_RELAY_MAX &&
    RUNQ_TLS_MAX == DLV_TLS_MAX && RUNQ_DIAG_MAX == DLV_DIAG_MAX, "runq_line and dlv_result text fields");

/* runq_worker - see runq.h */
void runq_worker(struct runq_ctx *x, struct runq_msg *q, struct runq_dest *d, uint32_t id, int in, int out)
{
	struct dlv_msg *dm = xcalloc(d->nmsg ? d->nmsg : 1, sizeof *dm);
	struct dlv_dest dd;
	struct dlv_env de;
	struct wctx w = { .x = x, .q = q, .d = d, .id = id, .in = in, .out = out };

	(void)snprintf(w.tag, sizeof w.tag, "[%.16s#%u]", d->domain ? d->domain : d->relay ? d->relay->host :
	    "smarthost", (unsigned)id);
	memset(&x->counts, 0, sizeof x->counts);	/* (the runner's, copied by fork: its to add) */
	x->reaper = reaper_start(x->lg, d->nmsg);
	for (size_t m = 0; m < d->nmsg; m++) {
		struct runq_msg *qm = &q[d->msg[m]];
		struct smtp_rcpt_params *rc = xcalloc(d->nr[m] ? d->nr[m] : 1, sizeof *rc);

		for (size_t k = 0; k < d->nr[m]; k++) {
			const struct env_rcpt *er = &qm->env.rcpt[d->ridx[m][k]];

			/* (the DSN requests go on to the next hop when it offers DSN: smtp_param.h) */
			rc[k] = (struct smtp_rcpt_params){ er->addr, er->notify, er->orcpt };
		}
		dm[m].id = qm->env.id;
		dm[m].sender = qm->env.sender;
		dm[m].size = qm->env.size;
		dm[m].body8bit = qm->env.body8bit;
		dm[m].smtputf8 = qm->env.smtputf8;
		dm[m].ret = qm->env.ret == 1 ? SMTP_RET_FULL :
		    qm->env.ret == 2 ? SMTP_RET_HDRS : SMTP_RET_NONE;	/* (envelope.h: 1 FULL, 2 HDRS) */
		dm[m].envid = qm->env.envid;
		dm[m].prefix = buf_str(&qm->prefix);
		dm[m].prefixlen = qm->prefix.len;
		dm[m].datafd = qm->m ? spool_msg_data_fd(qm->m) : -1;	/* read with pread: no shared offset */
		dm[m].rcpt = rc;
		dm[m].nrcpt = d->nr[m];
		d->left[m] = d->nr[m];
	}
	memset(&dd, 0, sizeof dd);
	dd.domain = d->domain;
	dd.relay = d->relay;
	dd.msg = dm;
	dd.nmsg = d->nmsg;
	dd.src.take = worker_take;
	dd.src.start = worker_start;
	dd.src.alive = worker_alive;
	dd.src.ctx = &w;
	memset(&de, 0, sizeof de);
	de.c = x->c;
	de.dns = x->dns;
	de.tls = x->tls;
	de.auth.user = x->auth_user;
	de.auth.pass = x->auth_pass;
	for (size_t i = 0; i < CONF_SMARTHOSTS; i++) {
		de.auth.host[i].user = x->hauth_user[i];
		de.auth.host[i].pass = x->hauth_pass[i];
	}
	de.transcript = x->ro->verbose ? worker_transcript : NULL;
	de.transcript_ctx = &w;
	de.report = worker_report;
	de.report_ctx = &w;
	de.rnd = worker_rnd;
	de.stop = x->stop;
	de.form = worker_form;
	de.form_ctx = &w;
	w.dm = dm;
	deliver_dest(&de, &dd);
	close(out);	/* delivery is over: the runner may give this connection slot to another worker */
	if (x->reaper != NULL)
		reaper_finish(x->reaper);
	runq_stats_flush(x);	/* what its own messages' outcomes counted */
	_exit(0);	/* (the runner syncs the spool's folders once, at the end of the pass) */
}
