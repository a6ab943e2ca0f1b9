/*
 * runner.c - one pass over the spool. See runner.h.
 *
 * A pass takes the queue in batches of up to RUNNER_BATCH locked messages (fewer when the descriptor
 * limit is low); a batch's recipients are grouped by destination and each destination goes to a worker
 * process (runq_worker.c), at most max_connections at once. The next batch is read while the workers
 * of the last one run, so the connections stay busy.
 * A message that goes to one destination only is its worker's to finish; one shared by several
 * destinations is finished here, when its last destination has reported.
 *
 * SECURITY: when root runs the queue, it becomes the postern user before anything touches the network.
 * Result lines from workers are parsed strictly (a worker parses hostile replies, so its output is not
 * trusted blindly either).
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
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

#define SPLIT_MIN 16		/* messages per connection before a destination gets another one */

/* runner_batch_size - see runner.h */
size_t runner_batch_size(unsigned long long nofile, int max_connections)
{
	unsigned long long reserve = 64 + 2ULL * (unsigned long long)(max_connections > 0 ? max_connections : 0);
	unsigned long long n = nofile > reserve ? (nofile - reserve) / 2 : 0;

	return n < 1 ? 1 : n > RUNNER_BATCH ? RUNNER_BATCH : (size_t)n;
}

/* batch_limit - the batch size this process can afford; the soft descriptor limit is raised (within
 * the hard one) when two full batches would not fit. */
static size_t batch_limit(const struct config *c)
{
	unsigned long long want = 2ULL * RUNNER_BATCH + 64 + 2ULL * (unsigned long long)c->max_connections;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return runner_batch_size(1024, c->max_connections);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want && rl.rlim_max > rl.rlim_cur) {
		struct rlimit up = rl;

		up.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	return runner_batch_size(rl.rlim_cur == RLIM_INFINITY ? ~0ULL : rl.rlim_cur, c->max_connections);
}

long runner_backoff(const struct config *c, int attempts)
{
	long d = c->retry_min;

	for (int i = 1; i < attempts && d < c->retry_max; i++)
		d = d > c->retry_max / 2 ? c->retry_max : d * 2;
	return d < c->retry_max ? d : c->retry_max;
}

/* rcpt_domain - the domain part of a stored recipient (they always have one). */
static const char *rcpt_domain(const char *a)
{
	const char *at = strrchr(a, '@');

	return at ? at + 1 : "";
}

static bool selected(const struct runner_opts *ro, const struct envelope *env, long long now)
{
	if (ro->own_only && env->uid != ro->owner)
		return false;	/* (own_entries already left it out, unlocked; this is the locked check) */
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

/* own_entries - for an unprivileged caller, keep only the entries whose envelope names the caller as
 * submitter, read without taking any lock: a caller stopped with SIGSTOP at any moment must never be
 * holding another user's message. Returns the new count. */
static size_t own_entries(struct runq_ctx *x, struct spool_entry *ent, size_t nent)
{
	size_t i, k = 0;

	if (!x->ro->own_only)
		return nent;
	for (i = 0; i < nent; i++) {
		struct envelope env;
		struct err e;
		bool mine;

		err_clear(&e);
		memset(&env, 0, sizeof env);
		mine = spool_read_env(x->sp, ent[i].id, &env, &e) == 1 && env.uid == x->ro->owner;
		env_free(&env);
		if (mine)
			ent[k++] = ent[i];
	}
	return k;
}

/* group - the destinations of the pending recipients. */
static struct runq_dest *group(const struct config *c, struct runq_msg *q, size_t nq, size_t *nd)
{
	struct runq_dest *d = NULL;
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
			struct runq_dest *t = &d[j];
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
static struct runq_dest *split(const struct config *c, struct runq_dest *d, size_t *nd)
{
	size_t n = *nd, out = 0, i, k, m;
	struct runq_dest *v = NULL;

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
			struct runq_dest *t = &v[out + k];

			memset(t, 0, sizeof *t);
			t->domain = d[i].domain ? xstrdup(d[i].domain) : NULL;
			t->fd = -1;
			t->msg = xcalloc(d[i].nmsg / parts + 1, sizeof *t->msg);
			t->ridx = xcalloc(d[i].nmsg / parts + 1, sizeof *t->ridx);
			t->nr = xcalloc(d[i].nmsg / parts + 1, sizeof *t->nr);
		}
		for (m = 0; m < d[i].nmsg; m++) {
			struct runq_dest *t = &v[out + m % parts];

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

static void free_dests(struct runq_dest *d, size_t n)
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

/* A batch and its destinations. A pass keeps at most two: the one being delivered and the next. */
struct batch {
	struct runq_msg *q;
	size_t nq;
	struct runq_dest *d;
	size_t nd;
	size_t next;		/* destinations started (or given up) */
	size_t running;
};

/* take_line - parse one result line and apply it. */
static void take_line(struct runq_ctx *x, struct batch *b, struct runq_dest *d, char *line)
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
	runq_apply(x, &b->q[d->msg[mi]], d->ridx[mi][ki], f[3][0], f[4], f[5], f[6], f[7]);
	/* the message is finished (durably) as soon as every destination has answered for it, not when
	 * the worker exits: a runner killed later then sends again only what was in flight */
	if (d->left[mi] > 0 && --d->left[mi] == 0 && --b->q[d->msg[mi]].inflight == 0)
		runq_finish(x, &b->q[d->msg[mi]]);
	return;
bad:
	log_msg(x->lg, LOG_ERR, "internal error: malformed result from a delivery worker");
}

/* drain - read what a worker wrote; apply complete lines. Returns 0 at EOF. */
static int drain(struct runq_ctx *x, struct batch *b, struct runq_dest *d)
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
		take_line(x, b, d, d->in.data);
		used = (size_t)(nl - d->in.data) + 1;
		memmove(d->in.data, nl + 1, d->in.len - used);
		d->in.len -= used;
	}
	return 1;
}

/* keep_only - in a new worker: close the descriptor of every message but d's (of every live batch),
 * so that the worker holding a message's last descriptor is the one that finishes it. */
static void keep_only(struct batch *live, size_t nlive, struct batch *b, const struct runq_dest *d)
{
	bool *mine = xcalloc(b->nq ? b->nq : 1, sizeof *mine);

	for (size_t m = 0; m < d->nmsg; m++)
		mine[d->msg[m]] = true;
	for (size_t k = 0; k < nlive; k++)
		for (size_t i = 0; i < live[k].nq; i++)
			if (&live[k] != b || !mine[i]) {
				spool_msg_unlock(live[k].q[i].m);
				live[k].q[i].m = NULL;
			}
	free(mine);
}

/* spawn - start the worker for destination d of batch b; the messages that go nowhere else become its
 * own. live: every batch alive (the worker closes the descriptors of theirs). */
static int spawn(struct runq_ctx *x, struct batch *live, size_t nlive, struct batch *b, struct runq_dest *d)
{
	struct runq_msg *q = b->q;
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
		keep_only(live, nlive, b, d);
		runq_worker(x, q, d, p[1]);
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

/* busy - workers running in all live batches. */
static size_t busy(const struct batch *live, size_t nlive)
{
	size_t n = 0;

	for (size_t k = 0; k < nlive; k++)
		n += live[k].running;
	return n;
}

/* start - start destinations of b while connections are free. */
static void start(struct runq_ctx *x, struct batch *live, size_t nlive, struct batch *b)
{
	while (busy(live, nlive) < (size_t)x->c->max_connections && b->next < b->nd) {
		struct runq_dest *d = &b->d[b->next++];

		if (spawn(x, live, nlive, b, d) < 0) {
			log_msg(x->lg, LOG_WARNING, "cannot start a delivery worker: %s", strerror(errno));
			for (size_t m = 0; m < d->nmsg; m++) {
				d->left[m] = 0;
				b->q[d->msg[m]].inflight--;	/* left pending; the next run takes it */
			}
			continue;
		}
		b->running++;
	}
}

/* Workers whose delivery is over but who were still finishing their messages when their pipe closed;
 * the pass waits for them before it ends. */
struct lingering {
	pid_t *pid;
	size_t n;
};

/* reap - worker d of b has closed its pipe; what it did not report stays pending. */
static void reap(struct runq_ctx *x, struct batch *b, struct runq_dest *d, struct lingering *lg)
{
	close(d->fd);
	d->fd = -1;
	/* the pipe closes when the delivery is done; the worker may still be removing its messages, and
	 * its connection slot goes to the next destination meanwhile */
	if (waitpid(d->pid, NULL, WNOHANG) == 0) {
		lg->pid = xreallocarray(lg->pid, lg->n + 1, sizeof *lg->pid);
		lg->pid[lg->n++] = d->pid;
	}
	b->running--;
	for (size_t m = 0; m < d->nmsg; m++)
		if (d->left[m] > 0) {
			d->left[m] = 0;
			if (--b->q[d->msg[m]].inflight == 0)
				runq_finish(x, &b->q[d->msg[m]]);
		}
}

/* load - lock and read up to max selected messages from ent[*cur..] and group them. 0: none taken. */
static size_t load(struct runq_ctx *x, const struct spool_entry *ent, size_t nent, size_t *cur, long long now,
    size_t max, struct batch *b)
{
	struct err e;

	err_clear(&e);
	memset(b, 0, sizeof *b);
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
		if (!selected(x->ro, &m->env, now)) {
			env_free(&m->env);
			spool_msg_unlock(m->m);
			m->m = NULL;
			continue;
		}
		buf_init(&m->prefix, 256 * 1024);
		for (size_t k = 0; k < m->env.nprepend; k++)
			if (buf_adds(&m->prefix, m->env.prepend[k]) < 0 || buf_adds(&m->prefix, "\r\n") < 0)
				log_msg(x->lg, LOG_ERR, "%s: prepended headers too large", m->env.id);
		b->nq++;
	}
	if (b->nq == 0) {
		free(b->q);
		b->q = NULL;
		return 0;
	}
	b->d = split(x->c, group(x->c, b->q, b->nq, &b->nd), &b->nd);
	for (size_t i = 0; i < b->nd; i++) {
		b->d[i].left = xcalloc(b->d[i].nmsg ? b->d[i].nmsg : 1, sizeof *b->d[i].left);
		for (size_t m = 0; m < b->d[i].nmsg; m++)
			b->d[i].left[m] = b->d[i].nr[m];
	}
	for (size_t i = 0; i < b->nq; i++)
		if (b->q[i].inflight == 0)
			runq_finish(x, &b->q[i]);	/* nothing pending (e.g. a bounce that could not be queued) */
	return b->nq;
}

/* unload - b is done: let go of what is left of it. */
static void unload(struct batch *b)
{
	free_dests(b->d, b->nd);
	for (size_t i = 0; i < b->nq; i++) {
		env_free(&b->q[i].env);
		buf_free(&b->q[i].prefix);
		spool_msg_unlock(b->q[i].m);
	}
	free(b->q);
}

/* stop - SIGTERM: each worker finishes its transaction and starts no other, no worker starts, and what
 * was read ahead is let go untouched. */
static void stop(struct batch *live, size_t nlive)
{
	for (size_t k = 0; k < nlive; k++) {
		struct batch *b = &live[k];

		for (size_t i = 0; i < b->nd; i++)
			if (b->d[i].fd >= 0)
				kill(b->d[i].pid, SIGTERM);
		for (; b->next < b->nd; b->next++)
			for (size_t m = 0; m < b->d[b->next].nmsg; m++)
				b->d[b->next].left[m] = 0;
	}
}

/* deliver - the pass's messages ent[0..nent), batch by batch, the next batch loaded while the last
 * one's workers run. */
static void deliver(struct runq_ctx *x, const struct spool_entry *ent, size_t nent, long long now)
{
	struct batch live[2];
	struct lingering lg = { NULL, 0 };
	size_t nlive = 0, cur = 0, np, i, k;
	size_t batch = batch_limit(x->c), maxw = (size_t)x->c->max_connections;
	/* one poll slot per connection at most, for the whole pass */
	struct pollfd *pfd = xcalloc(maxw, sizeof *pfd);
	struct runq_dest **who = xcalloc(maxw, sizeof *who);
	struct batch **whob = xcalloc(maxw, sizeof *whob);
	bool stopping = false;
	struct err e;

	for (;;) {
		if (x->stop != NULL && *x->stop && !stopping) {
			stopping = true;
			stop(live, nlive);
		}
		for (k = 0; k < nlive && !stopping; k++)
			start(x, live, nlive, &live[k]);
		/* read ahead as soon as every destination read so far has its worker */
		if (!stopping && cur < nent && nlive < 2 && (nlive == 0 || live[nlive - 1].next == live[nlive - 1].nd)) {
			if (load(x, ent, nent, &cur, now, batch, &live[nlive]) > 0)
				nlive++;
			continue;
		}
		for (k = 0; k < nlive;) {
			if (live[k].next < live[k].nd || live[k].running > 0) {
				k++;
				continue;
			}
			unload(&live[k]);
			memmove(&live[k], &live[k + 1], (nlive - k - 1) * sizeof *live);
			nlive--;
		}
		if (busy(live, nlive) == 0) {
			if (nlive == 0 && (stopping || cur >= nent))
				break;
			continue;
		}
		np = 0;
		for (k = 0; k < nlive; k++)
			for (i = 0; i < live[k].nd && np < maxw; i++)
				if (live[k].d[i].fd >= 0) {
					pfd[np].fd = live[k].d[i].fd;
					pfd[np].events = POLLIN;
					whob[np] = &live[k];
					who[np++] = &live[k].d[i];
				}
		if (poll(pfd, np, -1) < 0 && errno != EINTR)
			np = 0;
		for (i = 0; i < np; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) || drain(x, whob[i], who[i]))
				continue;
			reap(x, whob[i], who[i], &lg);
		}
	}
	free(pfd);
	free(who);
	free(whob);
	for (i = 0; i < lg.n; i++)
		while (waitpid(lg.pid[i], NULL, 0) < 0 && errno == EINTR)
			;
	free(lg.pid);
	/* removals are not synced one by one (a crash that undid one would only mean a message sent
	 * twice, never one lost); the pass makes them durable here, once, for every worker */
	err_clear(&e);
	if (nent > 0 && spool_sync(x->sp, &e) < 0)
		log_msg(x->lg, LOG_WARNING, "%s", e.msg);
}

int runq_pass(struct runq_ctx *x)
{
	struct spool_entry *ent = NULL;
	size_t nent = 0;
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
		if (!x->ro->own_only)	/* (the spool's housekeeping is for root's and postern's runs) */
			(void)spool_sweep(x->sp, now, ent, nent, &e);
	}
	nent = own_entries(x, ent, nent);
	deliver(x, ent, nent, now);
	free(ent);
	return 0;
}

int runner_main(const struct runner_opts *caller, const struct config *c, struct log *lg)
{
	struct runner_opts ro = *caller;
	struct passwd *pw = getpwnam("postern");
	struct runq_ctx x;
	struct err e;
	int rc;

	err_clear(&e);
	if (!runner_privileged(getuid(), pw != NULL ? pw->pw_uid : (uid_t)-1)) {
		/* any local user: their own messages only, and no long-lived runner in their name */
		if (ro.interval > 0) {
			fprintf(stderr, "sendmail: only root or the postern user may start a periodic queue runner\n");
			log_msg(lg, LOG_NOTICE, "periodic queue runner refused to uid=%lu", (unsigned long)getuid());
			return EX_NOPERM;
		}
		ro.own_only = true;
		ro.owner = getuid();
	}
	if (runner_set_limits(&e) < 0) {
		fprintf(stderr, "sendmail: %s\n", e.msg);
		log_msg(lg, LOG_ERR, "queue run: %s", e.msg);
		return e.code;
	}
	if (ro.interval > 0)
		return runq_periodic(&ro, c, lg);
	if (runq_become_postern(lg) < 0)
		return 77;
	if (runq_ctx_open(&x, &ro, c, lg, &e) < 0) {
		fprintf(stderr, "sendmail: %s\n", e.msg);
		log_msg(lg, LOG_ERR, "queue run: %s", e.msg);
		return e.code ? e.code : 75;
	}
	rc = runq_pass(&x);
	runq_ctx_close(&x);
	return rc;
}
