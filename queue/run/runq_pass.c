/*
 * runq_pass.c - a pass's batches, its workers and how messages are handed out to them. See runq.h.
 *
 * A pass locks the messages it takes in batches of up to RUNNER_BATCH (fewer when the descriptor limit
 * is low) and groups each batch's recipients by destination. Workers (runq_worker.c), one process and
 * one connection each, at most max_connections at once and max_per_destination to one destination
 * (several for a busy one), are handed a
 * destination's messages one by one, RUNQ_WINDOW ahead of their progress. A worker silent for
 * RUNQ_STALL_MS in the middle of a message loses what it has not started to the other connections
 * (the claim words of runq.h make that safe), and a batch is read as soon as everything read so far is
 * in workers' hands, so a stalled connection holds up only the message it has.
 * A message that goes to one destination only is finished by the worker that takes it; one shared by
 * several destinations is finished here, when its last destination has answered for it. A message a
 * worker gives back untried goes to another connection, or, when its destination was given up, is let
 * go untouched: no attempt is counted for it.
 *
 * SECURITY: result lines from workers are parsed strictly (runq_line.h): a worker parses hostile
 * replies, so its output is not trusted blindly either.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "queue/run/runq.h"
#include "queue/run/runq_line.h"
#include "queue/store/spool.h"

#define SPLIT_MIN 16		/* messages per connection before a destination gets another one */
#define DRAIN_CHUNK 4096	/* one read of a worker's result lines */

/* free_dests - d[0..n), their claim words unmapped. */
static void free_dests(struct runq_dest *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t m = 0; m < d[i].nmsg; m++)
			free(d[i].ridx[m]);
		free(d[i].ridx);
		free(d[i].nr);
		free(d[i].left);
		free(d[i].ring);
		free(d[i].msg);
		free(d[i].domain);
		if (d[i].claim != NULL)
			munmap((void *)(uintptr_t)d[i].claim, (d[i].nmsg ? d[i].nmsg : 1) * sizeof *d[i].claim);
	}
	free(d);
}

/* A batch and its destinations. */
struct batch {
	struct runq_msg *q;
	size_t nq;
	struct runq_dest *d;
	size_t nd;
	size_t held;		/* messages whose lock this process still holds */
	int running;		/* workers */
};

/* A worker, seen from the runner: one connection to one destination of one batch. */
struct conn {
	pid_t pid;
	int rfd, wfd;		/* its results; its assignments */
	size_t b;		/* index of its batch in the pass's list */
	struct runq_dest *d;
	uint32_t id;
	size_t out[RUNQ_WINDOW];	/* handed to it and not yet answered for */
	size_t nout;
	long long heard_ms;	/* when it last said something (or was given work) */
	bool ended;		/* "E" sent */
	bool stalled;
	struct buf in;
};

/* The pass: its batches, its workers, the spool entries still to read. */
struct pass {
	struct runq_ctx *x;
	struct batch **b;	/* live batches (pointers stay put while the list grows) */
	size_t nb;
	struct conn *c;		/* running workers, at most max_connections */
	size_t nc;
	pid_t *linger;		/* workers whose pipe closed but which had not exited yet */
	size_t nlinger;
	size_t batch;		/* messages per batch */
	bool stopping;
};

static size_t held(const struct pass *P)
{
	size_t n = 0;

	for (size_t k = 0; k < P->nb; k++)
		n += P->b[k]->held;
	return n;
}

/* release - let go of message i of b untouched by this pass (nothing was recorded for it). */
static void release(struct batch *b, size_t i)
{
	if (b->q[i].m == NULL)
		return;
	spool_msg_unlock(b->q[i].m);
	b->q[i].m = NULL;
	b->held--;
}

/* settle - one destination is done with message i of b; the last one finishes it, durably (or lets it
 * go untouched when nothing was recorded for it in this pass). */
static void settle(struct runq_ctx *x, struct batch *b, size_t i)
{
	struct runq_msg *q = &b->q[i];

	if (q->inflight <= 0 || --q->inflight > 0 || q->m == NULL)
		return;
	if (q->touched) {
		runq_finish(x, q);	/* a removed message is let go there (q->m NULL) */
		if (q->m == NULL) {
			b->held--;
			return;
		}
	}
	release(b, i);
}

/* dest_done - destination d of b has answered for its message mi (or given it back). */
static void dest_done(struct runq_ctx *x, struct batch *b, struct runq_dest *d, size_t mi)
{
	if (d->left[mi] == 0)
		return;
	d->left[mi] = 0;
	settle(x, b, d->msg[mi]);
}

static void ring_push(struct runq_dest *d, size_t mi, bool front)
{
	if (front)
		d->ring[d->rhead = (d->rhead + d->nmsg - 1) % d->nmsg] = mi;
	else
		d->ring[(d->rhead + d->rlen) % d->nmsg] = mi;
	d->rlen++;
}

static size_t ring_pop(struct runq_dest *d)
{
	size_t mi = d->ring[d->rhead];

	d->rhead = (d->rhead + 1) % d->nmsg;
	d->rlen--;
	return mi;
}

/* give_up - what destination d of b has not handed out is not attempted in this pass. */
static void give_up(struct runq_ctx *x, struct batch *b, struct runq_dest *d)
{
	while (d->rlen > 0) {
		size_t mi = ring_pop(d);

		d->left[mi] = 0;
		settle(x, b, d->msg[mi]);
	}
}

static void conn_drop_out(struct conn *c, size_t mi)
{
	for (size_t k = 0; k < c->nout; k++)
		if (c->out[k] == mi) {
			c->out[k] = c->out[--c->nout];
			return;
		}
}

/* take_line - parse one line of a worker and apply it. */
static void take_line(struct pass *P, struct conn *c, const char *line, size_t len)
{
	struct runq_ctx *x = P->x;
	struct batch *b = P->b[c->b];
	struct runq_dest *d = c->d;
	struct runq_line l;
	size_t mi;

	if (runq_line_parse(line, len, &l) < 0)
		goto bad;
	if (l.kind == RUNQ_L_WAIT)
		return;	/* waiting for work: it is not stalled (drain noted it), feed gives it some */
	mi = l.msg;
	if (mi >= d->nmsg || d->left[mi] == 0)
		goto bad;
	switch (l.kind) {
	case RUNQ_L_RESULT:	/* a recipient of a shared message */
		if (l.rcpt >= d->nr[mi])
			goto bad;
		b->q[d->msg[mi]].touched = true;
		runq_apply(x, &b->q[d->msg[mi]], d->ridx[mi][l.rcpt], l.state, l.status, l.relay, l.tls, l.diag);
		/* a 2xx the finish just below does not record at once goes in place now (one write per
		 * recipient only for messages still in flight: most finish with their last reply) */
		if (l.state == 'S' && (d->left[mi] > 1 || b->q[d->msg[mi]].inflight > 1))
			runq_mark_sent(x, &b->q[d->msg[mi]], d->ridx[mi][l.rcpt]);
		/* the message is finished (durably) as soon as every destination has answered for it, not
		 * when the worker exits: a runner killed later then sends again only what was in flight */
		if (--d->left[mi] == 0) {
			conn_drop_out(c, mi);
			settle(x, b, d->msg[mi]);
		}
		return;
	case RUNQ_L_FINISHED:	/* an own message, finished by the worker: its descriptor here goes */
		if (!b->q[d->msg[mi]].owned)
			goto bad;
		d->left[mi] = 0;
		conn_drop_out(c, mi);
		b->q[d->msg[mi]].inflight = 0;
		release(b, d->msg[mi]);
		return;
	case RUNQ_L_UNTRIED:	/* not attempted: another connection may take it */
		conn_drop_out(c, mi);
		if (!d->dead && !P->stopping) {
			atomic_store(&d->claim[mi], RUNQ_FREE);
			ring_push(d, mi, true);
			return;
		}
		d->left[mi] = 0;
		settle(x, b, d->msg[mi]);
		return;
	default:
		break;
	}
bad:
	log_msg(x->lg, LOG_ERR, "internal error: malformed result from a delivery worker");
}

/* drain - read what a worker wrote; apply complete lines. Returns 0 at EOF. */
static int drain(struct pass *P, struct conn *c)
{
	char tmp[DRAIN_CHUNK];
	ssize_t r = read(c->rfd, tmp, sizeof tmp);

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (r <= 0)
		return 0;
	c->heard_ms = now_ms();
	if (c->stalled) {
		c->stalled = false;
		c->d->stalled--;
	}
	if (buf_add(&c->in, tmp, (size_t)r) < 0) {
		log_msg(P->x->lg, LOG_ERR, "internal error: delivery worker output too long");
		return 0;
	}
	for (;;) {
		char *nl = memchr(c->in.data, '\n', c->in.len);
		size_t used;

		if (nl == NULL)
			break;
		take_line(P, c, c->in.data, (size_t)(nl - c->in.data));
		used = (size_t)(nl - c->in.data) + 1;
		memmove(c->in.data, nl + 1, c->in.len - used);
		c->in.len -= used;
	}
	return 1;
}

/* tell - one line to a worker (a worker that is gone shows as its result pipe's end). */
static void tell(struct conn *c, enum runq_kind kind, size_t mi)
{
	struct runq_line l = { .kind = kind, .msg = mi };
	char line[RUNQ_LINE_MAX];
	int n = runq_line_format(&l, line, sizeof line);

	if (n < 0 || write(c->wfd, line, (size_t)n) != n)
		c->ended = true;
}

/* feed - hand worker c messages of its destination up to RUNQ_WINDOW; "E" once there are none left
 * for it. */
static void feed(struct pass *P, struct conn *c)
{
	struct runq_dest *d = c->d;

	if (c->ended || c->stalled)
		return;
	while (!P->stopping && c->nout < RUNQ_WINDOW && d->rlen > 0) {
		size_t mi = ring_pop(d);

		atomic_store(&d->claim[mi], RUNQ_CLAIM(c->id, RUNQ_ASSIGNED));
		c->out[c->nout++] = mi;
		tell(c, RUNQ_L_MSG, mi);
		c->heard_ms = now_ms();
	}
	if (c->nout == 0 && (d->rlen == 0 || P->stopping) && !c->ended) {
		tell(c, RUNQ_L_END, 0);
		c->ended = true;
	}
}

/* started - c is in the middle of a message. */
static bool started(const struct conn *c)
{
	for (size_t k = 0; k < c->nout; k++)
		if (atomic_load(&c->d->claim[c->out[k]]) == RUNQ_CLAIM(c->id, RUNQ_STARTED))
			return true;
	return false;
}

/* take_back - c has been silent for RUNQ_STALL_MS in the middle of a message: what it has not started goes to other connections. */
static void take_back(struct conn *c)
{
	struct runq_dest *d = c->d;

	c->stalled = true;
	d->stalled++;
	for (size_t k = c->nout; k-- > 0;) {
		uint32_t want = RUNQ_CLAIM(c->id, RUNQ_ASSIGNED);
		size_t mi = c->out[k];

		if (!atomic_compare_exchange_strong(&d->claim[mi], &want, RUNQ_FREE))
			continue;	/* started: it stays with c */
		c->out[k] = c->out[--c->nout];
		ring_push(d, mi, true);	/* (stopping: let go when c ends) */
	}
}

/* keep_only - in a new worker: close the descriptor of every message but d's (of every live batch). */
static void keep_only(struct pass *P, struct batch *b, const struct runq_dest *d)
{
	bool *mine = xcalloc(b->nq ? b->nq : 1, sizeof *mine);

	for (size_t m = 0; m < d->nmsg; m++)
		mine[d->msg[m]] = true;
	for (size_t k = 0; k < P->nb; k++)
		for (size_t i = 0; i < P->b[k]->nq; i++)
			if (P->b[k] != b || !mine[i]) {
				spool_msg_unlock(P->b[k]->q[i].m);
				P->b[k]->q[i].m = NULL;
			}
	for (size_t k = 0; k < P->nc; k++) {
		close(P->c[k].rfd);
		close(P->c[k].wfd);
	}
	free(mine);
}

/* spawn - start a worker for destination d of batch bi. */
static int spawn(struct pass *P, size_t bi, struct runq_dest *d)
{
	struct batch *b = P->b[bi];
	struct conn *c = &P->c[P->nc];
	int res[2], asg[2];

	if (pipe2(res, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(asg, O_CLOEXEC) < 0) {
		close(res[0]);
		close(res[1]);
		return -1;
	}
	memset(c, 0, sizeof *c);
	c->b = bi;
	c->d = d;
	c->id = ++d->ids;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		close(res[0]);
		close(res[1]);
		close(asg[0]);
		close(asg[1]);
		return -1;
	}
	if (c->pid == 0) {
		pid_t parent = getppid();

		close(res[0]);
		close(asg[1]);
		/* a runner killed with SIGKILL takes its workers along: the messages they hold stay queued */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(0);
		keep_only(P, b, d);
		runq_worker(P->x, b->q, d, c->id, asg[0], res[1]);
	}
	close(res[1]);
	close(asg[0]);
	c->rfd = res[0];
	c->wfd = asg[1];
	c->heard_ms = now_ms();
	buf_init(&c->in, 1024 * 1024);
	d->workers++;
	b->running++;
	P->nc++;
	return 0;
}

/* wants_worker - d has messages to hand out and too few connections working on them. */
static bool wants_worker(const struct runq_dest *d)
{
	int working = d->workers - d->stalled;

	return d->rlen > 0 && !d->dead && (working <= 0 || d->rlen > (size_t)working * SPLIT_MIN);
}

/* dest_working - connections working for destination (domain, relay) (runq_dest_is) in every batch
 * of the pass; a stalled one is not counted: it holds only the message it started. */
static int dest_working(const struct pass *P, const char *domain, const struct conf_relay *relay)
{
	int n = 0;

	for (size_t k = 0; k < P->nb; k++)
		for (size_t i = 0; i < P->b[k]->nd; i++) {
			const struct runq_dest *d = &P->b[k]->d[i];

			if (runq_dest_is(d, domain, relay))
				n += d->workers - d->stalled;
		}
	return n;
}

/* start - start workers while connections are free, oldest batch first, at most
 * max_per_destination working for one destination (one when destination_rate_delay is set). */
static void start(struct pass *P)
{
	size_t maxc = (size_t)P->x->c->max_connections;
	/* a rate delay is kept by one connection pacing itself (deliver.c) */
	int maxd = P->x->c->destination_rate_delay > 0 ? 1 : P->x->c->max_per_destination;

	for (size_t k = 0; k < P->nb && !P->stopping; k++)
		for (size_t i = 0; i < P->b[k]->nd && P->nc < maxc; i++) {
			struct runq_dest *d = &P->b[k]->d[i];

			while (P->nc < maxc && wants_worker(d) && dest_working(P, d->domain, d->relay) < maxd) {
				if (spawn(P, k, d) < 0) {
					log_msg(P->x->lg, LOG_WARNING, "cannot start a delivery worker: %s",
					    strerror(errno));
					d->dead = true;
					give_up(P->x, P->b[k], d);	/* left pending; the next run takes it */
				}
			}
		}
}

/* ended - worker c has closed its pipe: what it did not answer for is given back (or, started, stays
 * pending for the next run); if it ended before it was told "E", it gave up on its destination, and
 * after RUNQ_GIVEUPS of those the destination is left for the next pass. */
static void ended(struct pass *P, size_t ci)
{
	struct conn *c = &P->c[ci];
	struct batch *b = P->b[c->b];
	struct runq_dest *d = c->d;

	close(c->rfd);
	close(c->wfd);
	buf_free(&c->in);
	if (waitpid(c->pid, NULL, WNOHANG) == 0) {	/* it may still be removing its messages */
		P->linger = xreallocarray(P->linger, P->nlinger + 1, sizeof *P->linger);
		P->linger[P->nlinger++] = c->pid;
	}
	if (!c->ended && ++d->giveups >= RUNQ_GIVEUPS)
		d->dead = true;	/* (one that gave up alone may have been unlucky: another tries) */
	for (size_t k = 0; k < c->nout; k++) {
		uint32_t want = RUNQ_CLAIM(c->id, RUNQ_ASSIGNED);
		size_t mi = c->out[k];

		if (!d->dead && atomic_compare_exchange_strong(&d->claim[mi], &want, RUNQ_FREE))
			ring_push(d, mi, true);
		else
			dest_done(P->x, b, d, mi);
	}
	if (d->dead || P->stopping)
		give_up(P->x, b, d);
	if (c->stalled)
		d->stalled--;
	d->workers--;
	b->running--;
	P->c[ci] = P->c[--P->nc];
}

/* hold - the message cannot be signed (a key problem, sign.h): each pending recipient is deferred
 * with the reason, which mailq shows, and the message is finished like any deferral (backoff, delay
 * warning, expiry). Nothing was sent. */
static void hold(struct runq_ctx *x, struct runq_msg *m, const char *why)
{
	for (size_t k = 0; k < m->env.nrcpt; k++)
		if (m->env.rcpt[k].state == RCPT_PENDING)
			runq_apply(x, m, k, 'D', SIGN_HOLD_STATUS, "none", "none", why);
	runq_finish(x, m);
}

/* sign - DKIM-sign m before its first attempt and store the fields with it, so that retries send the
 * same ones and a bounce quotes them; *rewritten: the stored envelope was replaced, and the caller
 * must sync it (spool_sync_rewrites) before the first MAIL FROM. 0: deliver it; -1: not in this pass
 * (held for a key problem, or its envelope could not be read back). When the fields cannot be stored
 * (a full disk), the message still goes, signed: a later attempt signs it again. */
static int sign(struct runq_ctx *x, struct runq_msg *m, long long now, bool *rewritten)
{
	const char *id = spool_msg_id(m->m);
	struct buf note;
	struct err e;
	int r = 0;

	*rewritten = false;
	buf_init(&note, SIGN_NOTE_MAX);
	err_clear(&e);
	switch (sign_message(x->signer, spool_msg_data_fd(m->m), &m->env, now, &note, &e)) {
	case SIGN_UNSIGNED:
		if (note.len > 0)
			log_msg(x->lg, x->c->dkim_required ? LOG_INFO : LOG_WARNING, "%s: %s", id, buf_str(&note));
		break;
	case SIGN_HOLD:
		log_msg(x->lg, LOG_NOTICE, "%s: held: %s", id, e.msg);
		hold(x, m, e.msg);
		r = -1;
		break;
	case SIGN_SIGNED:
		if (note.len > 0)
			log_msg(x->lg, LOG_INFO, "%s: %s", id, buf_str(&note));
		/* stored (its folders synced by the caller, once for the batch, before its first MAIL
		 * FROM); then read back, so that spool_msg_mark can still record states in place in the
		 * file that is now the record */
		if (spool_msg_rewrite(m->m, &m->env, &e) < 0) {
			log_msg(x->lg, LOG_WARNING, "%s: cannot store its DKIM signature, sent with it anyway: %s",
			    id, e.msg);
			break;
		}
		*rewritten = true;
		env_free(&m->env);
		if ((r = spool_msg_env(m->m, &m->env, &e)) < 0)
			log_msg(x->lg, LOG_ERR, "%s: unreadable envelope after signing, left in the queue: %s", id,
			    e.msg);
		break;
	}
	buf_free(&note);
	return r < 0 ? -1 : 0;
}

/* sync_signed - make the envelopes sign() rewrote durable, one sync of the folders for them all. */
static void sync_signed(struct runq_ctx *x, struct spool_msg *const *ms, size_t n)
{
	struct err e;

	err_clear(&e);
	if (spool_sync_rewrites(x->sp, ms, n, &e) < 0)
		for (size_t i = 0; i < n; i++)
			log_msg(x->lg, LOG_WARNING, "%s: DKIM signature stored but not synced: %s", spool_msg_id(ms[i]),
			    e.msg);
}

/* load - lock and read up to max selected messages from ent[*cur..] and group them. NULL: none taken. */
static struct batch *load(struct runq_ctx *x, const struct spool_entry *ent, size_t nent, size_t *cur,
    long long now, size_t max)
{
	struct batch *b = xcalloc(1, sizeof *b);
	struct spool_msg **signed_ = xcalloc(max ? max : 1, sizeof *signed_);	/* rewritten, in the batch */
	size_t nsigned = 0;
	struct err e;

	err_clear(&e);
	b->q = xcalloc(max, sizeof *b->q);
	for (; *cur < nent && b->nq < max; (*cur)++) {
		struct runq_msg *m = &b->q[b->nq];
		const char *id = ent[*cur].id;

		if (x->ro->id != NULL && strcmp(x->ro->id, id) != 0)
			continue;
		if (spool_lock(x->sp, id, &m->m, &e) != 1)
			continue;
		if (spool_msg_env(m->m, &m->env, &e) < 0) {
			log_msg(x->lg, LOG_ERR, "%s: unreadable envelope, left in the queue: %s", id, e.msg);
			spool_msg_unlock(m->m);
			m->m = NULL;
			continue;
		}
		if (!runq_selected(x->ro, &m->env, now)) {
			env_free(&m->env);
			spool_msg_unlock(m->m);
			m->m = NULL;
			continue;
		}
		if (x->signer != NULL && sign_needed(x->c, &m->env)) {
			bool rewritten;
			int r = sign(x, m, now, &rewritten);

			if (r < 0) {
				if (rewritten)	/* (rare: synced on its own, it is not in the batch) */
					sync_signed(x, &m->m, 1);
				spool_msg_unlock(m->m);	/* (NULL when hold() finished it for good) */
				env_free(&m->env);
				m->m = NULL;
				continue;
			}
			if (rewritten)
				signed_[nsigned++] = m->m;
		}
		buf_init(&m->prefix, 256 * 1024);
		for (size_t k = 0; k < m->env.nprepend; k++)
			if (buf_adds(&m->prefix, m->env.prepend[k]) < 0 || buf_adds(&m->prefix, "\r\n") < 0)
				log_msg(x->lg, LOG_ERR, "%s: prepended headers too large", m->env.id);
		b->nq++;
	}
	sync_signed(x, signed_, nsigned);	/* before any of them is sent */
	free(signed_);
	if (b->nq == 0) {
		free(b->q);
		free(b);
		return NULL;
	}
	b->held = b->nq;
	b->d = runq_group(x->c, b->q, b->nq, &b->nd);
	for (size_t i = 0; i < b->nq; i++)
		b->q[i].owned = b->q[i].inflight == 1;
	for (size_t i = 0; i < b->nd; i++) {
		struct runq_dest *d = &b->d[i];
		size_t n = d->nmsg ? d->nmsg : 1;
		void *shared = mmap(NULL, n * sizeof *d->claim, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		    -1, 0);

		d->claim = shared == MAP_FAILED ? NULL : shared;
		d->left = xcalloc(n, sizeof *d->left);
		d->ring = xcalloc(n, sizeof *d->ring);
		for (size_t m = 0; m < d->nmsg; m++) {
			d->left[m] = d->nr[m];
			d->ring[m] = m;
		}
		d->rlen = d->nmsg;
		if (d->claim == NULL) {
			log_msg(x->lg, LOG_WARNING, "cannot map memory for a destination: %s", strerror(errno));
			d->dead = true;
			give_up(x, b, d);
		}
	}
	for (size_t i = 0; i < b->nq; i++)
		if (b->q[i].inflight == 0 && b->q[i].m != NULL) {
			b->q[i].inflight = 1;	/* nothing pending (e.g. a bounce that could not be queued) */
			b->q[i].touched = true;
			settle(x, b, i);
		}
	return b;
}

/* unload - batch k is over: let go of what is left of it. */
static void unload(struct pass *P, size_t k)
{
	struct batch *b = P->b[k];

	free_dests(b->d, b->nd);
	for (size_t i = 0; i < b->nq; i++) {
		env_free(&b->q[i].env);
		buf_free(&b->q[i].prefix);
		spool_msg_unlock(b->q[i].m);
	}
	free(b->q);
	free(b);
	memmove(&P->b[k], &P->b[k + 1], (P->nb - k - 1) * sizeof *P->b);
	P->nb--;
	for (size_t i = 0; i < P->nc; i++)
		if (P->c[i].b > k)
			P->c[i].b--;
}

/* over - nothing of batch b is handed out any more or in a worker. */
static bool over(const struct batch *b)
{
	if (b->running > 0)
		return false;
	for (size_t i = 0; i < b->nd; i++)
		if (b->d[i].rlen > 0)
			return false;
	return true;
}

/* all_handed_out - every destination read so far has given its messages to workers (or up). */
static bool all_handed_out(const struct pass *P)
{
	for (size_t k = 0; k < P->nb; k++)
		for (size_t i = 0; i < P->b[k]->nd; i++)
			if (P->b[k]->d[i].rlen > 0 && !P->b[k]->d[i].dead)
				return false;
	return true;
}

/* stop - SIGTERM: each worker finishes its transaction and starts no other, no worker starts, and what
 * was handed out but not started comes back untouched. */
static void stop(struct pass *P)
{
	P->stopping = true;
	for (size_t i = 0; i < P->nc; i++)
		kill(P->c[i].pid, SIGTERM);
	for (size_t k = 0; k < P->nb; k++)
		for (size_t i = 0; i < P->b[k]->nd; i++)
			give_up(P->x, P->b[k], &P->b[k]->d[i]);
}

static void reap_lingering(struct pass *P, bool wait)
{
	for (size_t i = 0; i < P->nlinger;) {
		pid_t r;

		while ((r = waitpid(P->linger[i], NULL, wait ? 0 : WNOHANG)) < 0 && errno == EINTR)
			;
		if (r == 0) {
			i++;
			continue;
		}
		P->linger[i] = P->linger[--P->nlinger];
	}
}

/* runq_deliver - see runq.h. The pass's messages ent[0..nent), batch by batch: a new batch is read as soon as every
 * destination read so far has its workers and the descriptors allow, so a stalled connection holds
 * up only what it has started. */
void runq_deliver(struct runq_ctx *x, struct spool_entry **entp, size_t *nentp, long long now)
{
	struct pass P;
	struct spool_entry *ent = *entp;
	size_t nent = *nentp, cur = 0, maxc = (size_t)x->c->max_connections;
	long long scanned_ms = now_ms();
	struct pollfd *pfd = xcalloc(maxc ? maxc : 1, sizeof *pfd);
	struct err e;

	memset(&P, 0, sizeof P);
	P.x = x;
	P.batch = runq_batch_limit(x->c);
	P.c = xcalloc(maxc ? maxc : 1, sizeof *P.c);
	for (;;) {
		struct batch *nb;
		long long t;
		size_t np, i;
		int timeout = -1;

		if (x->stop != NULL && *x->stop && !P.stopping)
			stop(&P);
		start(&P);
		for (i = 0; i < P.nc; i++)
			feed(&P, &P.c[i]);
		/* read ahead as soon as everything read so far is in workers' hands */
		if (!P.stopping && cur < nent && all_handed_out(&P) && held(&P) + P.batch <= 2 * P.batch) {
			if ((nb = load(x, ent, nent, &cur, now, P.batch)) != NULL) {
				P.b = xreallocarray(P.b, P.nb + 1, sizeof *P.b);
				P.b[P.nb++] = nb;
			}
			continue;
		}
		for (size_t k = 0; k < P.nb;)
			if (over(P.b[k]))
				unload(&P, k);
			else
				k++;
		reap_lingering(&P, false);
		if (P.nc == 0) {
			if (P.nb == 0 && (P.stopping || cur >= nent))
				break;
			continue;
		}
		t = now_ms();
		/* only stragglers left (a periodic runner): what became due meanwhile need not wait for them */
		if (x->rescan > 0 && !P.stopping && cur >= nent && all_handed_out(&P)) {
			long long due = scanned_ms + x->rescan * 1000;

			if (t >= due) {
				struct spool_entry *fresh = NULL;
				size_t nfresh = 0;

				err_clear(&e);
				scanned_ms = t;
				if (spool_scan(x->sp, &fresh, &nfresh, &e) == 0) {
					free(ent);
					ent = fresh;
					nent = runq_own_entries(x, fresh, nfresh);
					cur = 0;
					now = (long long)time(NULL);
				}
				continue;
			}
			timeout = (int)(due - t);
		}
		for (i = 0; i < P.nc; i++) {
			struct conn *c = &P.c[i];

			pfd[i].fd = c->rfd;
			pfd[i].events = POLLIN;
			if (c->nout > 1 && !c->stalled && started(c)) {
				if (t - c->heard_ms >= RUNQ_STALL_MS) {
					take_back(c);
					timeout = 0;	/* hand out what came back */
					continue;
				}
				long long left = RUNQ_STALL_MS - (t - c->heard_ms);
				if (timeout < 0 || left < timeout)
					timeout = (int)left;
			}
		}
		/* a worker that closed its pipe and is still removing its messages is reaped soon after */
		if (P.nlinger > 0 && (timeout < 0 || timeout > RUNQ_REAP_MS))
			timeout = RUNQ_REAP_MS;
		np = P.nc;
		if (poll(pfd, np, timeout) < 0 && errno != EINTR)
			np = 0;
		for (i = np; i-- > 0;)
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) && !drain(&P, &P.c[i]))
				ended(&P, i);
	}
	free(pfd);
	free(P.c);
	free(P.b);
	reap_lingering(&P, true);
	free(P.linger);
	/* removals are not synced one by one (a crash that undid one would only mean a message sent
	 * twice, never one lost); the pass makes them durable here, once, for every worker */
	err_clear(&e);
	if (nent > 0 && spool_sync(x->sp, &e) < 0)
		log_msg(x->lg, LOG_WARNING, "%s", e.msg);
	*entp = ent;
	*nentp = nent;
}

