/*
 * runner.c - one pass over the spool, and the periodic loop. See runner.h.
 *
 * SECURITY: when root runs the queue, it becomes the postern user before anything touches the network.
 * Workers are forked per destination; they only read the data files and report on a pipe; every state
 * change of the spool is made here, by spool.c's renames. Result lines from workers are parsed strictly
 * (a worker parses hostile replies, so its output is not trusted blindly either).
 */
#include "queue/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/limits.h"
#include "queue/auth.h"
#include "queue/deliver.h"
#include "queue/envelope.h"
#include "queue/runq.h"
#include "queue/spool.h"
#include "queue/tls.h"

#define BATCH 256		/* messages locked at once (each holds a descriptor) */
#define RESULT_LINE 2048
#define SPLIT_MIN 16		/* messages per connection before a destination gets another one */

long runner_backoff(const struct config *c, int attempts)
{
	long d = c->retry_min;

	for (int i = 1; i < attempts && d < c->retry_max; i++)
		d = d > c->retry_max / 2 ? c->retry_max : d * 2;
	return d < c->retry_max ? d : c->retry_max;
}

struct qdest {
	char *domain;		/* NULL: the smarthost */
	size_t *msg;		/* indexes into the pass's messages */
	size_t **ridx;		/* per message: envelope recipient indexes */
	size_t *nr;
	size_t *left;		/* per message: recipients not yet reported */
	size_t nmsg;
	pid_t pid;
	int fd;
	struct buf in;
};

/* rcpt_domain - the domain part of a stored recipient (they always have one). */
static const char *rcpt_domain(const char *a)
{
	const char *at = strrchr(a, '@');

	return at ? at + 1 : "";
}

static bool selected(const struct runner_opts *ro, const struct envelope *env, long long now)
{
	if (ro->sender != NULL && strcasestr(env->sender, ro->sender) == NULL)
		return false;
	if (ro->domain != NULL) {
		size_t i;

		for (i = 0; i < env->nrcpt; i++)
			if (env->rcpt[i].state == RCPT_PENDING && strcasestr(rcpt_domain(env->rcpt[i].addr),
			    ro->domain) != NULL)
				break;
		if (i == env->nrcpt)
			return false;
	}
	return ro->force || ro->id != NULL || env->next_try <= now;
}

/* group - the destinations of the pending recipients. */
static struct qdest *group(const struct config *c, struct runq_msg *q, size_t nq, size_t *nd)
{
	struct qdest *d = NULL;
	size_t n = 0, i, k, j;

	for (i = 0; i < nq; i++) {
		for (k = 0; k < q[i].env.nrcpt; k++) {
			const char *dom = c->smarthost ? NULL : rcpt_domain(q[i].env.rcpt[k].addr);

			if (q[i].env.rcpt[k].state != RCPT_PENDING)
				continue;
			for (j = 0; j < n; j++)
				if (dom == NULL ? d[j].domain == NULL : (d[j].domain && strcasecmp(d[j].domain, dom) == 0))
					break;
			if (j == n) {
				d = xreallocarray(d, n + 1, sizeof *d);
				memset(&d[n], 0, sizeof d[n]);
				d[n].domain = dom ? xstrdup(dom) : NULL;
				d[n].fd = -1;
				n++;
			}
			struct qdest *t = &d[j];
			if (t->nmsg == 0 || t->msg[t->nmsg - 1] != i) {
				t->msg = xreallocarray(t->msg, t->nmsg + 1, sizeof *t->msg);
				t->ridx = xreallocarray(t->ridx, t->nmsg + 1, sizeof *t->ridx);
				t->nr = xreallocarray(t->nr, t->nmsg + 1, sizeof *t->nr);
				t->msg[t->nmsg] = i;
				t->ridx[t->nmsg] = NULL;
				t->nr[t->nmsg] = 0;
				t->nmsg++;
				q[i].inflight++;
			}
			size_t m = t->nmsg - 1;
			t->ridx[m] = xreallocarray(t->ridx[m], t->nr[m] + 1, sizeof **t->ridx);
			t->ridx[m][t->nr[m]++] = k;
		}
	}
	*nd = n;
	return d;
}

/* split - a destination with many messages is shared out over several connections (at most
 * max_connections in all), each taking whole messages, so one busy destination is not one long queue. */
static struct qdest *split(const struct config *c, struct qdest *d, size_t *nd)
{
	size_t n = *nd, out = 0, i, k, m;
	struct qdest *v = NULL;

	for (i = 0; i < n; i++) {
		size_t parts = d[i].nmsg / SPLIT_MIN;

		if (parts > (size_t)c->max_connections)
			parts = (size_t)c->max_connections;
		if (parts < 2) {
			v = xreallocarray(v, out + 1, sizeof *v);
			v[out++] = d[i];
			continue;
		}
		v = xreallocarray(v, out + parts, sizeof *v);
		for (k = 0; k < parts; k++) {
			struct qdest *t = &v[out + k];

			memset(t, 0, sizeof *t);
			t->domain = d[i].domain ? xstrdup(d[i].domain) : NULL;
			t->fd = -1;
			t->msg = xcalloc(d[i].nmsg / parts + 1, sizeof *t->msg);
			t->ridx = xcalloc(d[i].nmsg / parts + 1, sizeof *t->ridx);
			t->nr = xcalloc(d[i].nmsg / parts + 1, sizeof *t->nr);
		}
		for (m = 0; m < d[i].nmsg; m++) {
			struct qdest *t = &v[out + m % parts];

			t->msg[t->nmsg] = d[i].msg[m];
			t->ridx[t->nmsg] = d[i].ridx[m];	/* ownership moves */
			t->nr[t->nmsg] = d[i].nr[m];
			t->nmsg++;
		}
		out += parts;
		free(d[i].domain);
		free(d[i].msg);
		free(d[i].ridx);
		free(d[i].nr);
	}
	free(d);
	*nd = out;
	return v;
}

static void free_dests(struct qdest *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t m = 0; m < d[i].nmsg; m++)
			free(d[i].ridx[m]);
		free(d[i].ridx);
		free(d[i].nr);
		free(d[i].left);
		free(d[i].msg);
		free(d[i].domain);
		buf_free(&d[i].in);
	}
	free(d);
}

/* worker side ---------------------------------------------------------------------------------- */

/* What a worker knows of its destination. A message whose pending recipients all go to this one
 * destination is the worker's own: the parent closed its descriptor after the fork, so the worker holds
 * the lock alone, records the outcomes and finishes the message itself (removal, deferral, report), and
 * the removals of different destinations run in parallel. A message shared with other destinations
 * stays the parent's: its outcomes go up the pipe as result lines. */
struct wctx {
	struct runq_ctx *x;
	struct runq_msg *q;
	const struct qdest *d;
	size_t *left;		/* per message of d: own recipients not yet reported */
	int fd;			/* the result pipe */
	bool finished;		/* some message was finished here: sync the spool before exiting */
};

static void worker_finish(struct wctx *w, size_t mi)
{
	struct runq_msg *qm = &w->q[w->d->msg[mi]];

	runq_finish(w->x, qm);		/* a removed message went to the reaper */
	spool_msg_unlock(qm->m);	/* a deferred one: the last close, here */
	qm->m = NULL;
	qm->owned = false;
	w->finished = true;
}

static void worker_report(void *ctx, const struct dlv_result *r)
{
	struct wctx *w = ctx;
	struct runq_msg *qm = &w->q[w->d->msg[r->msg]];
	char line[RESULT_LINE];
	int n;

	if (qm->owned) {
		runq_apply(w->x, qm, w->d->ridx[r->msg][r->rcpt], (char)r->state, r->status, r->relay, r->tls,
		    r->diag);
		if (w->left[r->msg] > 0 && --w->left[r->msg] == 0)
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

/* worker - deliver one destination; never returns. */
static void worker(struct runq_ctx *x, struct runq_msg *q, size_t nq, const struct qdest *d, int fd)
{
	struct dlv_msg *dm = xcalloc(d->nmsg, sizeof *dm);
	struct dlv_dest dd;
	struct dlv_env de;
	struct wctx w = { .x = x, .q = q, .d = d, .fd = fd };
	struct err e;

	/* the descriptors of other destinations' messages are theirs to close last */
	for (size_t i = 0; i < nq; i++)
		q[i].mine = false;
	for (size_t m = 0; m < d->nmsg; m++)
		q[d->msg[m]].mine = true;
	for (size_t i = 0; i < nq; i++)
		if (!q[i].mine && q[i].m != NULL) {
			spool_msg_unlock(q[i].m);
			q[i].m = NULL;
		}
	x->reaper = reaper_start(x->lg, d->nmsg);
	w.left = xcalloc(d->nmsg ? d->nmsg : 1, sizeof *w.left);
	for (size_t m = 0; m < d->nmsg; m++) {
		struct runq_msg *qm = &q[d->msg[m]];
		const char **rc = xcalloc(d->nr[m], sizeof *rc);

		w.left[m] = d->nr[m];
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
	if (x->reaper != NULL)
		reaper_finish(x->reaper);
	err_clear(&e);
	if (w.finished && spool_sync(x->sp, &e) < 0)
		log_msg(x->lg, LOG_WARNING, "%s", e.msg);
	_exit(0);
}

/* parent side ---------------------------------------------------------------------------------- */

/* take_line - parse one result line and apply it. */
static void take_line(struct runq_ctx *x, struct runq_msg *q, struct qdest *d, char *line)
{
	char *f[8];
	size_t n = 0, mi, ki;
	char *p = line, *end;

	while (n < 8) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 8 || strcmp(f[0], "R") != 0 || strlen(f[3]) != 1)
		goto bad;
	mi = strtoul(f[1], &end, 10);
	if (*end != '\0' || mi >= d->nmsg)
		goto bad;
	ki = strtoul(f[2], &end, 10);
	if (*end != '\0' || ki >= d->nr[mi] || strchr("SDF", f[3][0]) == NULL || d->left[mi] == 0)
		goto bad;	/* (a worker's own messages are not reported here) */
	runq_apply(x, &q[d->msg[mi]], d->ridx[mi][ki], f[3][0], f[4], f[5], f[6], f[7]);
	/* the message is finished (durably) as soon as every destination has answered for it, not when
	 * the worker exits: a runner killed later then sends again only what was in flight */
	if (d->left[mi] > 0 && --d->left[mi] == 0 && --q[d->msg[mi]].inflight == 0)
		runq_finish(x, &q[d->msg[mi]]);
	return;
bad:
	log_msg(x->lg, LOG_ERR, "internal error: malformed result from a delivery worker");
}

/* drain - read what a worker wrote; apply complete lines. Returns 0 at EOF. */
static int drain(struct runq_ctx *x, struct runq_msg *q, struct qdest *d)
{
	char tmp[4096];
	ssize_t r = read(d->fd, tmp, sizeof tmp);

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (r <= 0)
		return 0;
	if (buf_add(&d->in, tmp, (size_t)r) < 0) {
		log_msg(x->lg, LOG_ERR, "internal error: delivery worker output too long");
		return 0;
	}
	for (;;) {
		char *nl = memchr(d->in.data, '\n', d->in.len);
		size_t used;

		if (nl == NULL)
			break;
		*nl = '\0';
		take_line(x, q, d, d->in.data);
		used = (size_t)(nl - d->in.data) + 1;
		memmove(d->in.data, nl + 1, d->in.len - used);
		d->in.len -= used;
	}
	return 1;
}

/* spawn - start the worker for destination d; the messages that go nowhere else become its own. */
static int spawn(struct runq_ctx *x, struct runq_msg *q, size_t nq, struct qdest *d)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	for (size_t m = 0; m < d->nmsg; m++)
		q[d->msg[m]].owned = q[d->msg[m]].inflight == 1;
	fflush(NULL);
	d->pid = fork();
	if (d->pid < 0) {
		for (size_t m = 0; m < d->nmsg; m++)
			q[d->msg[m]].owned = false;
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (d->pid == 0) {
		pid_t parent = getppid();

		close(p[0]);
		/* a runner killed with SIGKILL takes its workers along: the messages they hold stay queued */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(0);
		worker(x, q, nq, d, p[1]);
	}
	close(p[1]);
	d->fd = p[0];
	buf_init(&d->in, 1024 * 1024);
	/* the worker holds the lock of its own messages alone from here; if it dies, the kernel releases
	 * them and they stay queued for the next run */
	for (size_t m = 0; m < d->nmsg; m++) {
		struct runq_msg *qm = &q[d->msg[m]];

		if (!qm->owned)
			continue;
		spool_msg_unlock(qm->m);
		qm->m = NULL;
		qm->inflight = 0;
		d->left[m] = 0;
	}
	return 0;
}

/* deliver_batch - run the workers, at most max_connections at once, and finish each message as soon
 * as its last destination is done. */
static void deliver_batch(struct runq_ctx *x, struct runq_msg *q, size_t nq)
{
	size_t nd = 0, next = 0, running = 0, i;
	bool stopping = false;
	struct qdest *d = split(x->c, group(x->c, q, nq, &nd), &nd);

	for (i = 0; i < nd; i++) {
		d[i].left = xcalloc(d[i].nmsg ? d[i].nmsg : 1, sizeof *d[i].left);
		for (size_t m = 0; m < d[i].nmsg; m++)
			d[i].left[m] = d[i].nr[m];
	}

	for (i = 0; i < nq; i++)
		if (q[i].inflight == 0)
			runq_finish(x, &q[i]);	/* nothing pending (e.g. a bounce that could not be queued) */
	while (next < nd || running > 0) {
		struct pollfd pfd[64];
		size_t who[64], np = 0;

		while (running < (size_t)x->c->max_connections && next < nd) {
			if (spawn(x, q, nq, &d[next]) < 0) {
				log_msg(x->lg, LOG_WARNING, "cannot start a delivery worker: %s", strerror(errno));
				for (size_t m = 0; m < d[next].nmsg; m++) {
					d[next].left[m] = 0;
					q[d[next].msg[m]].inflight--;	/* left pending; the next run takes it */
				}
			} else {
				running++;
			}
			next++;
		}
		for (i = 0; i < nd && np < 64; i++)
			if (d[i].fd >= 0) {
				pfd[np].fd = d[i].fd;
				pfd[np].events = POLLIN;
				who[np++] = i;
			}
		if (np == 0)
			break;
		if (poll(pfd, np, -1) < 0 && errno != EINTR)
			break;
		if (x->stop != NULL && *x->stop && !stopping) {
			/* SIGTERM: each worker finishes its transaction and starts no other */
			stopping = true;
			for (i = 0; i < nd; i++)
				if (d[i].fd >= 0)
					kill(d[i].pid, SIGTERM);
			next = nd;	/* and no new worker starts */
		}
		for (i = 0; i < np; i++) {
			struct qdest *t = &d[who[i]];

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) || drain(x, q, t))
				continue;
			close(t->fd);
			t->fd = -1;
			while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
				;
			running--;
			for (size_t m = 0; m < t->nmsg; m++)	/* a worker that died without reporting all */
				if (t->left[m] > 0) {
					t->left[m] = 0;
					if (--q[t->msg[m]].inflight == 0)
						runq_finish(x, &q[t->msg[m]]);
				}
		}
	}
	free_dests(d, nd);
}

int runq_pass(struct runq_ctx *x)
{
	struct spool_entry *ent = NULL;
	size_t nent = 0, cur = 0;
	struct err e;
	long long now = (long long)time(NULL);

	err_clear(&e);
	if (x->ro->id != NULL) {
		/* -qI, as started after each submission: that message only, without reading the queue */
		if (!env_id_valid(x->ro->id, strlen(x->ro->id)))
			return 64;
		ent = xcalloc(1, sizeof *ent);
		memcpy(ent[0].id, x->ro->id, strlen(x->ro->id) + 1);
		nent = 1;
	} else {
		if (spool_scan(x->sp, &ent, &nent, &e) < 0) {
			log_msg(x->lg, LOG_ERR, "cannot read the spool: %s", e.msg);
			return 75;
		}
		(void)spool_sweep(x->sp, now, ent, nent, &e);
	}
	while (cur < nent) {
		struct runq_msg *q = xcalloc(BATCH, sizeof *q);
		size_t nq = 0;

		for (; cur < nent && nq < BATCH; cur++) {
			struct runq_msg *m = &q[nq];

			if (x->ro->id != NULL && strcmp(x->ro->id, ent[cur].id) != 0)
				continue;
			if (spool_lock(x->sp, ent[cur].id, &m->m, &e) != 1)
				continue;
			if (spool_msg_env(m->m, &m->env, &e) < 0) {
				log_msg(x->lg, LOG_ERR, "%s: unreadable envelope, left in the queue: %s", ent[cur].id, e.msg);
				spool_msg_unlock(m->m);
				continue;
			}
			if (!selected(x->ro, &m->env, now)) {
				env_free(&m->env);
				spool_msg_unlock(m->m);
				continue;
			}
			buf_init(&m->prefix, 256 * 1024);
			for (size_t k = 0; k < m->env.nprepend; k++)
				if (buf_adds(&m->prefix, m->env.prepend[k]) < 0 || buf_adds(&m->prefix, "\r\n") < 0)
					log_msg(x->lg, LOG_ERR, "%s: prepended headers too large", m->env.id);
			nq++;
		}
		if (nq > 0) {
			deliver_batch(x, q, nq);
			if (spool_sync(x->sp, &e) < 0)
				log_msg(x->lg, LOG_WARNING, "%s", e.msg);
		}
		for (size_t i = 0; i < nq; i++) {
			env_free(&q[i].env);
			buf_free(&q[i].prefix);
			spool_msg_unlock(q[i].m);
		}
		free(q);
	}
	free(ent);
	return 0;
}

int runner_main(const struct runner_opts *ro, const struct config *c, struct log *lg)
{
	struct runq_ctx x;
	struct err e;
	int rc;

	err_clear(&e);
	if (ro->interval > 0)
		return runq_periodic(ro, c, lg);
	if (runq_become_postern(lg) < 0)
		return 77;
	if (runq_ctx_open(&x, ro, c, lg, &e) < 0) {
		fprintf(stderr, "sendmail: %s\n", e.msg);
		log_msg(lg, LOG_ERR, "queue run: %s", e.msg);
		return e.code ? e.code : 75;
	}
	rc = runq_pass(&x);
	runq_ctx_close(&x);
	return rc;
}
