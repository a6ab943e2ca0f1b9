/*
 * runner.c - the queue runner's entry and its decisions: what a pass takes (selection, the caller's
 * own messages), how it is grouped by destination, the batch size and the retry schedule. The pass
 * itself, its batches and workers, is runq_pass.c. See runner.h.
 *
 * SECURITY: when root runs the queue, it becomes the postern user before anything touches the network;
 * an unprivileged caller's run takes only the messages it submitted.
 */
#include "queue/run/runner.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/limits.h"
#include "queue/wire/auth.h"
#include "queue/store/envelope.h"
#include "queue/run/runq.h"
#include "queue/store/spool.h"
#include "queue/wire/tls.h"

/* runner_batch_size - see runner.h */
size_t runner_batch_size(unsigned long long nofile, int max_connections)
{
	unsigned long long reserve = 64 + 2ULL * (unsigned long long)(max_connections > 0 ? max_connections : 0);
	unsigned long long n = nofile > reserve ? (nofile - reserve) / 2 : 0;

	return n < 1 ? 1 : n > RUNNER_BATCH ? RUNNER_BATCH : (size_t)n;
}

/* batch_limit - the batch size this process can afford; the soft descriptor limit is raised (within
 * the hard one) when two full batches would not fit. */
size_t runq_batch_limit(const struct config *c)
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

/* rcpt_domain - the domain part of a stored recipient (they always have one). */
static const char *rcpt_domain(const char *a)
{
	const char *at = strrchr(a, '@');

	return at ? at + 1 : "";
}

bool runq_selected(const struct runner_opts *ro, const struct envelope *env, long long now)
{
	if (env->held)
		return false;	/* on hold: not even -q or -qI takes it (postern queue release does) */
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
size_t runq_own_entries(struct runq_ctx *x, struct spool_entry *ent, size_t nent)
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

/* runq_dest_is - see runq.h */
bool runq_dest_is(const struct runq_dest *d, const char *domain, const struct conf_relay *relay)
{
	if (domain != NULL)
		return d->domain != NULL && strcasecmp(d->domain, domain) == 0;
	if (d->domain != NULL || (d->relay == NULL) != (relay == NULL))
		return false;
	return relay == NULL || (strcmp(d->relay->host, relay->host) == 0 && d->relay->port == relay->port);
}

/* group - the destinations of the pending recipients. */
struct runq_dest *runq_group(const struct config *c, struct runq_msg *q, size_t nq, size_t *nd)
{
	struct runq_dest *d = NULL;
	size_t n = 0, i, k, j;

	for (i = 0; i < nq; i++) {
		for (k = 0; k < q[i].env.nrcpt; k++) {
			const char *dom = rcpt_domain(q[i].env.rcpt[k].addr);
			const struct conf_relay *relay;
			enum conf_via via = conf_dest_for(c, q[i].env.sender, dom, &relay);

			if (via == CONF_VIA_SMARTHOST || via == CONF_VIA_SENDER)
				dom = NULL;	/* one destination per relay, whatever the recipient domain */

			if (q[i].env.rcpt[k].state != RCPT_PENDING)
				continue;
			for (j = 0; j < n && !runq_dest_is(&d[j], dom, relay); j++)
				;
			if (j == n) {
				d = xreallocarray(d, n + 1, sizeof *d);
				memset(&d[n], 0, sizeof d[n]);
				d[n].domain = dom ? xstrdup(dom) : NULL;
				d[n].relay = relay;
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
			return EX_USAGE;
		ent = xcalloc(1, sizeof *ent);
		memcpy(ent[0].id, x->ro->id, strlen(x->ro->id) + 1);
		nent = 1;
	} else {
		if (spool_scan(x->sp, &ent, &nent, &e) < 0) {
			log_msg(x->lg, LOG_ERR, "cannot read the spool: %s", e.msg);
			return EX_TEMPFAIL;
		}
		if (!x->ro->own_only)	/* (the spool's housekeeping is for root's and postern's runs) */
			(void)spool_sweep(x->sp, now, ent, nent, &e);
	}
	nent = runq_own_entries(x, ent, nent);
	x->signer = signer_new(x->c, x->lg);	/* keys once per pass: a fixed key applies to the next */
	runq_deliver(x, &ent, &nent, now);
	signer_free(x->signer);
	x->signer = NULL;
	free(ent);
	runq_stats_flush(x);	/* (the workers added theirs as they ended) */
	runq_stats_write(x);
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
		return EX_NOPERM;
	if (runq_ctx_open(&x, &ro, c, lg, &e) < 0) {
		fprintf(stderr, "sendmail: %s\n", e.msg);
		log_msg(lg, LOG_ERR, "queue run: %s", e.msg);
		return e.code ? e.code : EX_TEMPFAIL;
	}
	rc = runq_pass(&x);
	runq_ctx_close(&x);
	return rc;
}
