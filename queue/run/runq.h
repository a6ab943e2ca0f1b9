/*
 * runq.h - the runner's internals shared by runner.c (the pass and its workers), runq.c (recording
 * outcomes, finishing messages, bounces) and periodic.c (the -qTIME loop). Not used outside queue/.
 */
#ifndef POSTERN_RUNQ_H
#define POSTERN_RUNQ_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/config.h"
#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/log.h"
#include "queue/store/envelope.h"
#include "queue/store/reaper.h"
#include "queue/run/runner_opts.h"
#include "queue/run/sign.h"
#include "queue/store/spool.h"
#include "queue/store/stats.h"
#include "queue/wire/tls.h"

struct runq_ctx {
	const struct runner_opts *ro;
	const struct config *c;
	struct log *lg;
	struct spool *sp;
	struct dns *dns;
	struct tls_client_ctx *tls;	/* NULL when TLS could not be set up (logged) */
	char *auth_user, *auth_pass;	/* smarthost credentials, or NULL */
	char *hauth_user[CONF_SMARTHOSTS], *hauth_pass[CONF_SMARTHOSTS];	/* smarthost_auth HOST FILE's */
	volatile int *stop;		/* periodic runner: SIGTERM seen */
	long rescan;			/* periodic runner: while only stragglers keep a pass going, read
					 * the spool again every this many seconds (0: never) */
	struct reaper *reaper;		/* in a worker: removes finished messages beside it (or NULL) */
	struct stats_counters counts;	/* outcomes this process recorded, not yet added to the spool's */
	struct signer *signer;		/* the pass's DKIM keys, loaded when first needed (runq_pass) */
};

struct runq_msg {
	struct spool_msg *m;	/* locked; NULL once let go */
	struct envelope env;
	struct buf prefix;	/* the prepended header lines, CRLF */
	int inflight;		/* destinations not yet done */
	bool owned;		/* goes to one destination: the worker that takes it finishes it */
	bool touched;		/* an outcome was recorded in this pass (else it is let go untouched) */
	size_t hist_fresh;	/* the newest history entries are this pass's (env_hist_note) */
};

/* Who has a message of a destination, one word per message in memory shared by the runner and the
 * destination's workers: the owning worker's id << 2 | a claim state. The runner assigns a message
 * (ASSIGNED) and may take it back while it is still ASSIGNED; a worker turns it into STARTED, with a
 * compare-and-swap, before it commits the message to a connection (its MAIL FROM, or for a pipelined
 * one its body). So a message the runner took back is never sent by the worker that had it. */
enum runq_claim { RUNQ_FREE = 0, RUNQ_ASSIGNED = 1, RUNQ_STARTED = 2 };
#define RUNQ_CLAIM(id, st) ((uint32_t)(id) << 2 | (uint32_t)(st))

/* A destination of a batch: a domain (or the smarthost, or a sender's relay) and the messages going
 * there, handed out one by one to the workers (one process and connection each) that serve it. */
struct runq_dest {
	char *domain;		/* NULL: the smarthost, or relay */
	const struct conf_relay *relay;	/* with domain NULL: the sender_route relay (the config's), or
					 * NULL: the smarthost */
	size_t *msg;		/* indexes into the batch's messages */
	size_t **ridx;		/* per message: envelope recipient indexes */
	size_t *nr;
	size_t nmsg;
	_Atomic uint32_t *claim;	/* per message, shared with the workers (see runq_claim) */
	size_t *left;		/* runner: per message, recipients not yet reported */
	size_t *ring, rhead, rlen;	/* runner: messages not handed out yet (taken-back ones first) */
	int workers;		/* runner: running */
	int stalled;		/* runner: running, but silent for RUNQ_STALL_MS */
	uint32_t ids;		/* runner: worker ids given out */
	int giveups;		/* runner: workers that gave up on it after delivering something */
	bool dead;		/* runner: RUNQ_GIVEUPS workers gave up on it; no other is started in
				 * this pass, and what it has left is not attempted */
};

/* Workers that may give up on a destination in one pass (each after DLV_NOPROGRESS connections in
 * a row without an answer) before the destination is left for the next pass. */
#define RUNQ_GIVEUPS 3

/* Messages handed to a worker ahead of its progress (enough to pipeline the next one). */
#define RUNQ_WINDOW 32
/* A worker silent this long, with messages it has not started, loses them to the other connections. */
#define RUNQ_STALL_MS 1000

/* How soon a worker that has closed its pipe but not yet exited is reaped (milliseconds). */
#define RUNQ_REAP_MS 50

/* The lines between the runner and a worker: queue/run/runq_line.h. */

/* runq_worker - in a forked worker whose descriptors are d's messages only: deliver the messages of d
 * that the runner hands out on `in` (q[d->msg[..]]), reporting on `out`; id is this worker's claim id.
 * A message with q[i].owned is the worker's own once it starts it (it records, finishes and removes
 * it). It closes `out` when the delivery is over (its reaper may still be removing messages then).
 * Never returns. */
void runq_worker(struct runq_ctx *x, struct runq_msg *q, struct runq_dest *d, uint32_t id, int in, int out)
    __attribute__((noreturn));

/* runq_become_postern - when root, become the postern user (a warning if there is none). */
int runq_become_postern(struct log *lg);

/* runq_ctx_open - spool, resolver, TLS context, credentials. */
int runq_ctx_open(struct runq_ctx *x, const struct runner_opts *ro, const struct config *c, struct log *lg,
    struct err *e);
void runq_ctx_close(struct runq_ctx *x);

/* runq_pass - one pass over the spool. Returns a sysexits code. */
int runq_pass(struct runq_ctx *x);

/* runq_deliver - the pass's messages ent[0..n), read batch by batch and handed out to workers
 * (runq_pass.c); a periodic runner's pass (x->rescan) may replace *ent and *n by a fresh scan. */
void runq_deliver(struct runq_ctx *x, struct spool_entry **ent, size_t *n, long long now);

/* What runner.c decides for a pass (the selection and grouping of messages). */
/* runq_batch_limit - the batch size this process can afford (the soft descriptor limit is raised within
 * the hard one when two full batches would not fit). */
size_t runq_batch_limit(const struct config *c);
/* runq_selected - env is a message this run takes (-qR, -qS, -qI, the caller's own, due unless forced);
 * never a held one (postern queue hold). */
bool runq_selected(const struct runner_opts *ro, const struct envelope *env, long long now);
/* runq_own_entries - for an unprivileged caller, only the entries it submitted (the others are not even
 * locked); everything otherwise. Returns the new count. */
size_t runq_own_entries(struct runq_ctx *x, struct spool_entry *ent, size_t nent);
/* runq_group - the destinations of q[0..nq)'s pending recipients (conf_dest_for: a recipient domain,
 * the smarthost, or a sender's relay, one destination per host and port whatever the recipient
 * domains); each q[i].inflight counts its destinations. */
struct runq_dest *runq_group(const struct config *c, struct runq_msg *q, size_t nq, size_t *nd);
/* runq_dest_is - d is the destination (domain, relay) (domain NULL: relay's, or the smarthost's). */
bool runq_dest_is(const struct runq_dest *d, const char *domain, const struct conf_relay *relay);

/* runq_apply - record one recipient's outcome in the envelope (in memory), and the host in its
 * history, and log it. */
void runq_apply(struct runq_ctx *x, struct runq_msg *q, size_t rcpt, char state, const char *status,
    const char *relay, const char *tls, const char *diag);
/* runq_mark_sent - recipient rcpt's 2xx, written in place in the envelope file at once, for a message
 * that is not finished with it (its other recipients still in flight, at this host or the next MX):
 * a run killed before the finish then does not send to it again. */
void runq_mark_sent(struct runq_ctx *x, const struct runq_msg *q, size_t rcpt);

/* runq_finish - all destinations of q are done: remove it (bouncing failures) or defer it, durably.
 * A removed message is unlocked and q->m is NULL afterwards (with a reaper, it goes there). */
void runq_finish(struct runq_ctx *x, struct runq_msg *q);

/* runq_stats_flush - add what this process counted to the spool's counters (once, at its end) and
 * start counting from zero; a failure is logged. Only runs by root or the postern user create the
 * counters (spool_counters_add). */
void runq_stats_flush(struct runq_ctx *x);
/* runq_stats_write - with stats_file set, in a run by root or the postern user: write the textfile
 * (postern stats --prometheus) now; a failure is logged. */
void runq_stats_write(struct runq_ctx *x);

/* runq_periodic - the -qTIME loop with pidfile, SIGHUP reload and SIGTERM. */
int runq_periodic(const struct runner_opts *ro, const struct config *c, struct log *lg);

#endif
