/*
 * compose.h - the unprivileged half of submission: read, check and complete the message.
 *
 * Runs in a child that has given up the postern group for good (DESIGN.md, privilege model). Untrusted
 * input: argv recipients, -f/-F, and every byte of stdin. It writes the completed message into the spool
 * data file it inherited and finally hands the parent the envelope in the one record of handoff.h,
 * which the parent re-validates before the commit. Nothing is signed here: the queue side signs the
 * stored message before its first delivery attempt (queue/run/sign.h).
 */
#ifndef POSTERN_COMPOSE_H
#define POSTERN_COMPOSE_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "conf/aliases.h"
#include "conf/config.h"
#include "lib/err.h"
#include "sendmail/args.h"

struct compose_ctx {
	const struct opts *o;
	const struct config *c;
	const struct aliases *al;	/* may be NULL */
	const char *id;		/* queue id */
	int infd;		/* the message */
	int datafd;		/* spool data file, empty */
	int tofd;		/* the pipe to the privileged parent */
	time_t now;
	uid_t uid;
	const char *user;	/* login name of uid */
	const char *gecos;	/* full name of uid, or "" */
};

/* compose_run - do the whole unprivileged half. Returns 0, or -1 with e (sysexits code and reason). */
int compose_run(const struct compose_ctx *x, struct err *e);

/* compose_received - the Received: trace line (CRLF, folded) for queue id `id`. Pure but for the zone. */
int compose_received(struct buf *out, const char *hostname, unsigned long uid, const char *id, time_t now);

/* compose_date - an RFC 5322 date-time in the local zone, e.g. "Wed, 25 Nov 2026 20:30:01 +0000"
 * (lib/date.h's DATE_RFC5322). */
int compose_date(struct buf *out, time_t now);

#endif
