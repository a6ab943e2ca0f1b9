/*
 * compose.h - the unprivileged half of submission: read, check and complete the message.
 *
 * Runs in a child that has given up the postern group for good (DESIGN.md, privilege model). Untrusted
 * input: argv recipients, -f/-F, and every byte of stdin. It writes the completed message into the spool
 * data file it inherited, asks the privileged parent to sign DKIM digests, and finally hands the parent
 * the envelope (env_format text), which the parent re-validates before the commit.
 *
 * Wire protocol on the two pipes (one line each, fixed format):
 *   parent -> child  "A <alg> <alg> ...\n"   after loading the keys: 0 rsa-sha256, 1 ed25519-sha256
 *                    per dkim line of the configuration, in order (always sent; read when signing)
 *   child -> parent  "S <key index> <64 hex digits>\n"    sign this SHA-256 digest with that key
 *   parent -> child  "B <base64>\n" | "E <reason>\n"
 *   child -> parent  "L <text>\n"                   a note for the log (e.g. why it is unsigned)
 *   child -> parent  "V <length>\n" followed by <length> bytes of envelope text; then the child exits 0.
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
	int tofd, fromfd;	/* pipes to and from the privileged parent */
	time_t now;
	uid_t uid;
	const char *user;	/* login name of uid */
	const char *gecos;	/* full name of uid, or "" */
};

/* compose_run - do the whole unprivileged half. Returns 0, or -1 with e (sysexits code and reason). */
int compose_run(const struct compose_ctx *x, struct err *e);

/* compose_received - the Received: trace line (CRLF, folded) for queue id `id`. Pure but for the zone. */
int compose_received(struct buf *out, const char *hostname, unsigned long uid, const char *id, time_t now);

/* compose_date - an RFC 5322 date-time in the local zone, e.g. "Wed, 25 Nov 2026 20:30:01 +0000". */
int compose_date(struct buf *out, time_t now);

/* compose_signing_keys - indexes into c->dkim of the keys that sign mail From `domain`: those of the
 * domain itself, else of its nearest parent that has keys. Returns how many were stored in idx (<= max). */
size_t compose_signing_keys(const struct config *c, const char *domain, size_t *idx, size_t max);

#endif
