/*
 * qadmin.h - postern queue: show, delete, hold, release, requeue and list the queued messages.
 *
 * NAME
 *	qadmin - what postsuper, postcat and postqueue -j do for Postfix, for root and the postern user
 * DESCRIPTION
 *	postern queue show [-b] ID...		the envelope and the header section (-b: and the body)
 *	postern queue delete ID... | --all | --sender ADDR | --recipient ADDR
 *	postern queue hold ID...		never delivered, never expires, until released
 *	postern queue release ID...
 *	postern queue requeue ID...		due now; attempts kept
 *	postern queue list --json		as mailq --json
 *	As postsuper: -d (delete), -h (hold), -H (release), -r (requeue) name the same subcommands.
 *	Each change takes the message's lock (spool_lock): a message a runner holds is reported busy and
 *	left as it is. One log line per message changed. Held is the envelope's HELD flag (envelope.h).
 *
 *	JSON (qadmin_json): one object per message and line, Postfix's postqueue -j field names:
 *	queue_name ("hold" when held, "active" when a runner holds it, "incoming" when never attempted,
 *	else "deferred"), queue_id, arrival_time, message_size, forced_expire (always false: postern has
 *	no forced expiry), sender ("" for <>), recipients (the pending ones: address, and delay_reason
 *	when there is one), then postern's own: held, and forced (attempted before and made due now by
 *	requeue). Strings: '"', '\' and control bytes escaped (\n, \t, \u00XX...), valid UTF-8 kept as
 *	it is, and each byte of an invalid UTF-8 sequence written as \u00XX (its value).
 * ERRORS
 *	qadmin_main exits 64 on usage, 77 for a caller that is neither root nor the postern user, 66 when a
 *	named message is not in the queue, 75 when one is busy (a runner holds it) or storage fails; the
 *	worst of these when several messages are named, after trying every one.
 */
#ifndef POSTERN_QADMIN_H
#define POSTERN_QADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf/config.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"
#include "queue/store/envelope.h"
#include "queue/store/spool.h"

enum qa_op { QA_SHOW, QA_DELETE, QA_HOLD, QA_RELEASE, QA_REQUEUE, QA_LIST };

/* The most IDs one command names (a longer list: use --all, --sender or --recipient, or xargs). */
#define QA_MAX_IDS 1000

struct qa_cmd {
	enum qa_op op;
	bool body;		/* show -b */
	bool json;		/* list --json */
	bool all;		/* delete --all */
	const char *sender;	/* delete --sender ("<>" or "" = the null sender) */
	const char *rcpt;	/* delete --recipient */
	char *const *ids;	/* borrowed from argv */
	size_t nids;
};

/* qadmin_parse - argv[0] is "queue". Pure. 0, or -1 with a reason and code 64. */
int qadmin_parse(int argc, char *const *argv, struct qa_cmd *c, struct err *e);


/* qadmin_json - one message as one line of JSON (see DESCRIPTION). Pure. -1: buffer full. */
int qadmin_json(const struct envelope *env, bool locked, struct buf *out);

/* qadmin_matches - delete's selection: --all, or the sender is c->sender, or a recipient is c->rcpt
 * (case-insensitive, exact). Pure. */
bool qadmin_matches(const struct qa_cmd *c, const struct envelope *env);

/* qadmin_list_json - every message of the spool, one line each, on out (mailq --json). */
int qadmin_list_json(struct spool *s, FILE *out, struct err *e);

/* qadmin_main - postern queue ...: the exit status. */
int qadmin_main(const struct config *conf, struct log *lg, int argc, char *const *argv, FILE *out, FILE *err);

#endif
