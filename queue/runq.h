/*
 * runq.h - the runner's internals shared by runner.c (the pass and its workers), runq.c (recording
 * outcomes, finishing messages, bounces) and periodic.c (the -qTIME loop). Not used outside queue/.
 */
#ifndef POSTERN_RUNQ_H
#define POSTERN_RUNQ_H

#include <sys/types.h>

#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/log.h"
#include "queue/envelope.h"
#include "queue/reaper.h"
#include "queue/runner.h"
#include "queue/spool.h"
#include "queue/tls.h"

struct runq_ctx {
	const struct runner_opts *ro;
	const struct config *c;
	struct log *lg;
	struct spool *sp;
	struct dns *dns;
	struct tls_client_ctx *tls;	/* NULL when TLS could not be set up (logged) */
	char *auth_user, *auth_pass;	/* smarthost credentials, or NULL */
	volatile int *stop;		/* periodic runner: SIGTERM seen */
	struct reaper *reaper;		/* in a worker: removes finished messages beside it (or NULL) */
};

struct runq_msg {
	struct spool_msg *m;	/* locked */
	struct envelope env;
	struct buf prefix;	/* the prepended header lines, CRLF */
	int inflight;		/* destinations not yet done */
	bool owned;		/* finished by the one worker it goes to (runner.c) */
};

/* A destination of a batch: a domain (or the smarthost) and the messages going there, delivered by one
 * worker process over one connection (a busy destination is split over several). */
struct runq_dest {
	char *domain;		/* NULL: the smarthost */
	size_t *msg;		/* indexes into the batch's messages */
	size_t **ridx;		/* per message: envelope recipient indexes */
	size_t *nr;
	size_t *left;		/* parent: per message, recipients not yet reported */
	size_t nmsg;
	pid_t pid;
	int fd;			/* parent: the worker's result pipe, or -1 */
	struct buf in;
};

/* A worker reports the outcomes of the messages it shares with other destinations to the parent, one
 * line each, "R\tMSG\tRCPT\tS|D|F\tSTATUS\tRELAY\tTLS\tDIAG\n" (MSG and RCPT index the destination's
 * lists), shorter than RUNQ_RESULT_LINE so that each is one atomic pipe write. */
#define RUNQ_RESULT_LINE 2048

/* runq_worker - in a forked worker whose descriptors are d's messages only: deliver d, whose
 * messages are q[d->msg[..]]. The messages with q[i].owned are the worker's own (it records, finishes
 * and removes them, and it is the last holder of their locks); the others it reports on fd. It closes
 * fd when the delivery is over (its reaper may still be removing messages then: the parent waits for
 * the process at the end of the pass). Never returns. */
void runq_worker(struct runq_ctx *x, struct runq_msg *q, struct runq_dest *d, int fd)
    __attribute__((noreturn));

/* runq_become_postern - when root, become the postern user (a warning if there is none). */
int runq_become_postern(struct log *lg);

/* runq_ctx_open - spool, resolver, TLS context, credentials. */
int runq_ctx_open(struct runq_ctx *x, const struct runner_opts *ro, const struct config *c, struct log *lg,
    struct err *e);
void runq_ctx_close(struct runq_ctx *x);

/* runq_pass - one pass over the spool. Returns a sysexits code. */
int runq_pass(struct runq_ctx *x);

/* runq_apply - record one recipient's outcome in the envelope (in memory) and log it. */
void runq_apply(struct runq_ctx *x, struct runq_msg *q, size_t rcpt, char state, const char *status,
    const char *relay, const char *tls, const char *diag);

/* runq_finish - all destinations of q are done: remove it (bouncing failures) or defer it, durably.
 * A removed message is unlocked and q->m is NULL afterwards (with a reaper, it goes there). */
void runq_finish(struct runq_ctx *x, struct runq_msg *q);

/* runq_periodic - the -qTIME loop with pidfile, SIGHUP reload and SIGTERM. */
int runq_periodic(const struct runner_opts *ro, const struct config *c, struct log *lg);

#endif
