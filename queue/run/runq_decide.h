/*
 * runq_decide.h - what happens to a message after a delivery attempt, decided in one pure function
 * with the clock passed in: its pending recipients expire, a non-delivery report is owed, it is
 * removed, a delay warning is due, and when it is tried next. runq_finish (runq.c) applies the
 * decision: the spool writes, the reports and their failure handling are its.
 *
 * The rules:
 *   - expiry: recipients still pending once queue_lifetime has passed since arrival (now - arrival
 *     >= queue_lifetime) fail with 4.4.7 (RFC 3463 3.5);
 *   - a non-delivery report is owed when a recipient failed (now or by expiry) whose NOTIFY is the
 *     default or has FAILURE (RFC 3461 4.1: NEVER, or a list without FAILURE, asks for none), unless
 *     the sender is the null sender or the message is itself a report (RFC 5321 6.1, RFC 3461 6.2:
 *     a bounce never bounces);
 *   - removed when nothing is pending (after expiry);
 *   - a delay warning, once (env->warned), when something is still pending, delay_warning is on
 *     (> 0) and has passed since arrival (>=), and a pending recipient's NOTIFY is the default or has
 *     DELAY; not for the null sender or a report either;
 *   - the next attempt: now + runq_backoff(attempts counting this one).
 */
#ifndef POSTERN_RUNQ_DECIDE_H
#define POSTERN_RUNQ_DECIDE_H

#include <stdbool.h>

#include "conf/config.h"
#include "queue/store/envelope.h"

struct runq_decision {
	bool expire;		/* the pending recipients fail as expired (4.4.7) */
	bool report_failed;	/* a non-delivery report is owed to the sender */
	bool remove;		/* nothing is pending (after expiry): the message is done */
	bool warn;		/* a delay warning is owed (only when !remove) */
	long long next_try;	/* when !remove: the next attempt (unix time) */
};

/* runq_after_attempt - the decision for env as the attempt left it (recipients' states recorded,
 * env->attempts not yet counting this attempt), at time now. Pure. */
struct runq_decision runq_after_attempt(const struct config *c, const struct envelope *env, long long now);

/* runq_backoff - seconds until the next attempt after `attempts` attempts: retry_min doubled each
 * time, at most retry_max. Pure. */
long runq_backoff(const struct config *c, int attempts);

#endif
