/*
 * mailq.h - list the queue in the format of Postfix's mailq / postqueue -p.
 *
 * NAME
 *	mailq - what check_mailq, log tools and administrators' scripts already parse
 * DESCRIPTION
 *	The layout follows Postfix's sendmail-compatible listing (short queue-id form):
 *	  -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
 *	  <id><' ', '*' (being delivered) or '!' (held)> padded to 11, size right-aligned in 7, "Www Mmm dd hh:mm:ss " (20), sender
 *	  (MAILER-DAEMON for <>); for each pending recipient, when its reason differs from the previous
 *	  recipient's: "(reason)" right-aligned to column 78 (left-aligned when longer, never folded,
 *	  as Postfix does so that parsers find it on one line; "(reason unavailable)" when a reason is
 *	  followed by none); then the recipient at column 41. A blank line between messages, and
 *	  "-- N Kbytes in M Request(s)." at the end, or "Mail queue is empty".
 *	Our ids are 19 characters, so the size column is pushed right on message lines, exactly as
 *	Postfix's format strings would do; every field stays whitespace-separated.
 *	Arrival times are local time (TZ). Control bytes in addresses and reasons (which come from
 *	remote servers) are printed as '?'.
 *	mailq_print only: when the last queue run left a warning in the spool (spool_warning_get), it
 *	comes first, on its own line: "-- Warning from the last queue run: TEXT" (escaped, log_safe).
 * ERRORS
 *	mailq_format: only a full buffer. mailq_print: a queue that cannot be listed (75); unreadable
 *	envelopes are skipped, the listing completed, and then reported as an error. A write error is
 *	74, except EPIPE (the reader went away: `mailq | head`), which ends the listing with 0.
 */
#ifndef POSTERN_MAILQ_H
#define POSTERN_MAILQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "queue/store/envelope.h"
#include "queue/store/spool.h"

/* mailq_format - the whole listing of n messages (locked[i]: being delivered now) into out. Pure
 * but for the time zone. */
int mailq_format(const struct envelope *v, const bool *locked, size_t n, struct buf *out, struct err *e);

/* mailq_print - list the spool on out, one message at a time. */
int mailq_print(struct spool *s, FILE *out, struct err *e);

#endif
