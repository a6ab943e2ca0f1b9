/*
 * mailq.c - the Postfix-compatible queue listing (see mailq.h).
 *
 * The column widths are Postfix's (src/postqueue/showq_compat.c, short queue-id form): heading
 * "%-11s %7s %-20s %s", message line "%-11s %7ld %20.20s %s" where the 20 characters are asctime()'s
 * "Www Mmm dd hh:mm:ss " (trailing space included), reasons padded to end at column 78.
 */
#include "queue/store/mailq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/date.h"
#include "lib/log.h"
#include "lib/text.h"

/* Column of the sender/recipient field: 11 + 1 + 7 + 1 + 20 + 1. */
#define MQ_ADDR_COL 41
/* A reason shorter than this is right-aligned so that its ")" ends at column 78. */
#define MQ_REASON_WIDTH 76

struct mq {
	unsigned long long bytes;
	unsigned long count;
};


/* add_safe - append s with control bytes (which could drive a terminal) shown as '?'; an SMTPUTF8
 * address keeps its 8-bit octets. */
static int add_safe(struct buf *b, const char *s)
{
	return text_safe_add(b, s, strlen(s), TEXT_MARK_8BIT);
}

/* add_time - asctime()'s first 20 characters, locale-independent: "Thu Mar  2 07:10:58 ". */
static int add_time(struct buf *b, long long t)
{
	char d[DATE_MAX];

	if (date_format(d, t, DATE_MAILQ, false) < 0)
		return buf_adds(b, "??? ??? ?? ??:??:?? ");
	return buf_printf(b, "%s ", d);
}

/* mq_message - the heading (first message) or a blank line, then one message. */
static int mq_message(struct mq *q, const struct envelope *env, bool locked, struct buf *b)
{
	const char *saved = "", *why;
	size_t i, len;
	int bad = 0;

	if (q->count++ == 0)
		bad |= buf_printf(b, "%-11s %7s %-20s %s\n", "-Queue ID-", "--Size--", "----Arrival Time----",
				  "-Sender/Recipient-------");
	else
		bad |= buf_addc(b, '\n');
	q->bytes += env->size > 0 ? (unsigned long long)env->size : 0;
	len = strnlen(env->id, sizeof env->id);
	bad |= buf_printf(b, "%.*s%c%*s %7lld ", (int)len, env->id,
			  env->held ? '!' : locked ? '*' : ' ',
			  len < 10 ? (int)(10 - len) : 0, "", env->size);
	bad |= add_time(b, env->arrival);
	bad |= buf_addc(b, ' ');
	bad |= env->sender[0] == '\0' ? buf_adds(b, "MAILER-DAEMON") : add_safe(b, env->sender);
	bad |= buf_addc(b, '\n');
	for (i = 0; i < env->nrcpt; i++) {
		const struct env_rcpt *r = &env->rcpt[i];
		if (r->state != RCPT_PENDING)
			continue;
		why = r->diag != NULL ? r->diag : "";
		if (strcmp(why, saved) != 0) {	/* Postfix shows a reason only when it changes */
			saved = why;
			if (why[0] == '\0')
				why = "reason unavailable";
			len = strlen(why);
			bad |= buf_printf(b, "%*s(", len < MQ_REASON_WIDTH ? (int)(MQ_REASON_WIDTH - len) : 0, "");
			bad |= add_safe(b, why);
			bad |= buf_adds(b, ")\n");
		}
		bad |= buf_printf(b, "%*s", MQ_ADDR_COL, "");
		bad |= add_safe(b, r->addr);
		bad |= buf_addc(b, '\n');
	}
	return bad ? -1 : 0;
}

/* mq_end - the summary line. */
static int mq_end(const struct mq *q, struct buf *b)
{
	if (q->count == 0)
		return buf_adds(b, "Mail queue is empty\n");
	return buf_printf(b, "\n-- %llu Kbytes in %lu Request%s.\n", q->bytes / 1024, q->count,
			  q->count == 1 ? "" : "s");
}

/* mailq_format - see mailq.h */
int mailq_format(const struct envelope *v, const bool *locked, size_t n, struct buf *out, struct err *e)
{
	struct mq q = { 0 };
	size_t i;

	for (i = 0; i < n; i++)
		if (mq_message(&q, &v[i], locked[i], out) < 0)
			return err_set(e, EX_TEMPFAIL, "mailq: listing too large");
	if (mq_end(&q, out) < 0)
		return err_set(e, EX_TEMPFAIL, "mailq: listing too large");
	return 0;
}

/* flush - write b to out and empty it. 1 when the reader has gone (EPIPE: `mailq | head`), which ends
 * the listing quietly; -1 on any other write error. */
static int flush(struct buf *b, FILE *out, struct err *e)
{
	if ((b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len) || (b->len == 0 && fflush(out) != 0))
		return errno == EPIPE ? 1 : err_set(e, EX_IOERR, "mailq: write error: %s", strerror(errno));
	buf_reset(b);
	return 0;
}

/* mq_warning - the header line: the last queue run's warning, if it left one (e.g. the client
 * certificate is unusable and mail goes out without it), escaped. */
static void mq_warning(struct spool *s, FILE *out)
{
	char w[SPOOL_WARNING_MAX], safe[TEXT_VIS_SIZE(SPOOL_WARNING_MAX)];

	if (spool_warning_get(s, w, sizeof w) == 1) {
		(void)log_safe(safe, sizeof safe, w, strlen(w));
		fprintf(out, "-- Warning from the last queue run: %s\n", safe);
	}
}

/* mailq_print - see mailq.h */
int mailq_print(struct spool *s, FILE *out, struct err *e)
{
	struct spool_entry *v;
	struct envelope env;
	struct err first = { 0 }, e2;
	struct mq q = { 0 };
	struct buf b;
	size_t n, i, unreadable = 0;
	int r, rc = 0;

	if (spool_scan(s, &v, &n, e) < 0)
		return -1;
	mq_warning(s, out);
	/* a message of LIM_RCPTS recipients with long reasons fits */
	buf_init(&b, (size_t)LIM_RCPTS * (MQ_ADDR_COL + LIM_PATH + ENV_MAX_DIAG + 8) + 4096);
	for (i = 0; i < n && rc == 0; i++) {
		err_clear(&e2);
		if (v[i].state == SPOOL_NEW && spool_committing(s, v[i].id) == 1)
			continue;	/* its commit is not complete: it may yet be taken back */
		if ((r = spool_read_env(s, v[i].id, &env, &e2)) == 0)
			continue;	/* delivered meanwhile */
		if (r < 0) {
			if (unreadable++ == 0)
				first = e2;
			continue;
		}
		if (mq_message(&q, &env, spool_is_locked(s, v[i].id) == 1, &b) < 0)
			rc = err_set(e, EX_TEMPFAIL, "mailq: %s: listing too large", v[i].id);
		env_free(&env);
		if (rc == 0)
			rc = flush(&b, out, e);
	}
	free(v);
	if (rc == 0 && mq_end(&q, &b) < 0)
		rc = err_set(e, EX_TEMPFAIL, "mailq: listing too large");
	if (rc == 0 && (rc = flush(&b, out, e)) == 0)
		rc = flush(&b, out, e);	/* (b is empty now: this one flushes out) */
	buf_free(&b);
	if (rc == 1)
		return 0;	/* nobody reads the rest: not an error */
	if (rc == 0 && unreadable > 0)
		rc = err_set(e, EX_TEMPFAIL, "mailq: %zu queue file%s unreadable (%s)", unreadable,
			     unreadable == 1 ? "" : "s", first.msg);
	return rc;
}
