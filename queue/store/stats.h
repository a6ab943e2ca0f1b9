/*
 * stats.h - postern stats: the queue's depth by state, its oldest message, and the recipient outcomes
 * counted by queue runs since the counters started; as text or in Prometheus's text exposition format.
 *
 * NAME
 *	stats - what a monitoring system wants to know about the queue, cheaply
 * DESCRIPTION
 *	The counters live in the spool (spool_counters_add, spool.h): each runner process (the pass and
 *	every worker that finished messages of its own) counts in memory and adds what it counted to the
 *	spool's file once, at its end, under a lock; so concurrent workers never lose an increment and a
 *	pass costs one small read and write. The counters file, one "KEY value" line each, in this
 *	fixed order (numbers canonical, so stats_format(stats_parse(x)) == x):
 *	  VERSION 1
 *	  SINCE <unix time the counters started>
 *	  SENT-TLS n, SENT-PLAIN n, DEFERRED-TLS n, DEFERRED-PLAIN n, BOUNCED-TLS n, BOUNCED-PLAIN n
 *	What is counted is recipients: one per outcome a queue run recorded (a recipient deferred three
 *	times counts three deferrals); "TLS" when the connection that decided it was encrypted.
 *	Recipients whose queue lifetime ran out are counted as bounced, without TLS.
 * UNTRUSTED INPUT
 *	The counters file (writable by the postern group only, but parsed strictly: stats_parse).
 * ERRORS
 *	stats_parse: "counters line N: reason", code 65. Formatting: only a full buffer (code 70).
 */
#ifndef POSTERN_STATS_H
#define POSTERN_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/buf.h"
#include "lib/err.h"

struct spool;

enum stats_outcome { STATS_SENT, STATS_DEFERRED, STATS_BOUNCED, STATS_NOUTCOMES };

/* The counters file's ceiling: 8 short lines of at most 20 digits. */
#define STATS_FILE_MAX 512
/* What postern stats prints, in either format: a few dozen short lines. */
#define STATS_TEXT_MAX 4096

struct stats_counters {
	long long since;	/* unix time the counters started (0: never) */
	unsigned long long n[STATS_NOUTCOMES][2];	/* [outcome][0 plaintext, 1 TLS] */
};

/* The queue now. */
struct stats_queue {
	size_t nnew, ndeferred, nheld;	/* held ones counted only as held */
	size_t unreadable;		/* envelopes that could not be read (not in the counts) */
	long long oldest;		/* arrival of the oldest message; 0 when the queue is empty */
};

/* stats_count - one recipient outcome as the runner records it ('S' sent, 'F' failed, else deferred),
 * over a connection whose TLS summary was tls ("none", "" or NULL: plaintext). */
void stats_count(struct stats_counters *c, char state, const char *tls);

/* stats_add - a += b (saturating); a->since is the earlier non-zero one. */
void stats_add(struct stats_counters *a, const struct stats_counters *b);

/* stats_empty - nothing was counted. */
bool stats_empty(const struct stats_counters *c);

/* stats_parse - the counters file (len bytes) into *c. Pure. 0, or -1 with code 65. */
int stats_parse(const char *buf, size_t len, struct stats_counters *c, struct err *e);

/* stats_format - the counters file's canonical text appended to out. -1 (code 70) if out is full. */
int stats_format(const struct stats_counters *c, struct buf *out, struct err *e);

/* stats_collect - the queue now: every message's envelope read (as mailq does). -1 if the spool
 * cannot be listed. */
int stats_collect(struct spool *sp, struct stats_queue *q, struct err *e);

/* stats_format_text - what `postern stats` prints, at `now` (UTC dates). Pure. */
int stats_format_text(const struct stats_counters *c, const struct stats_queue *q, long long now,
    struct buf *out, struct err *e);

/* stats_format_prom - the same in Prometheus's text exposition format (node_exporter's textfile
 * collector reads it). Pure. */
int stats_format_prom(const struct stats_counters *c, const struct stats_queue *q, long long now,
    struct buf *out, struct err *e);

/* stats_write_textfile - write text to path atomically: path.tmp.<pid> in its folder, mode 0644,
 * then renamed over path (a reader never sees half a file). -1 with the reason (code 73). */
int stats_write_textfile(const char *path, const struct buf *text, struct err *e);

/* stats_main - postern stats [--prometheus]: the spool's counters and the queue now, on out. Who may
 * run it is the caller's to check (mailq_users). A sysexits code; reasons on err. */
int stats_main(const char *spool, int argc, char *const *argv, FILE *out, FILE *err);

#endif
