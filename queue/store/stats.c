/*
 * stats.c - counting outcomes, the counters file's codec, the queue's depth, and the two outputs of
 * postern stats. See stats.h.
 */
#include "queue/store/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/date.h"
#include "lib/fdio.h"
#include "queue/store/envelope.h"
#include "queue/store/spool.h"

/* The counters file's keys after VERSION and SINCE, in file order: [outcome][tls]. */
static const char *const ckey[STATS_NOUTCOMES][2] = {
	{ "SENT-PLAIN", "SENT-TLS" }, { "DEFERRED-PLAIN", "DEFERRED-TLS" }, { "BOUNCED-PLAIN", "BOUNCED-TLS" },
};
static const char *const oname[STATS_NOUTCOMES] = { "sent", "deferred", "bounced" };
/* The longest number a counter may hold (the file's canonical decimal stays under 20 digits). */
#define STATS_MAX_COUNT 9223372036854775807ULL
/* A time stamp beyond the year 9999 is nonsense. */
#define STATS_MAX_TIME 253402300799LL

/* stats_count - see stats.h */
void stats_count(struct stats_counters *c, char state, const char *tls)
{
	enum stats_outcome o = state == 'S' ? STATS_SENT : state == 'F' ? STATS_BOUNCED : STATS_DEFERRED;
	int enc = tls != NULL && tls[0] != '\0' && strcmp(tls, "none") != 0;

	if (c->n[o][enc] < STATS_MAX_COUNT)
		c->n[o][enc]++;
}

/* stats_add - see stats.h */
void stats_add(struct stats_counters *a, const struct stats_counters *b)
{
	for (int o = 0; o < STATS_NOUTCOMES; o++)
		for (int t = 0; t < 2; t++)
			a->n[o][t] = STATS_MAX_COUNT - a->n[o][t] < b->n[o][t] ? STATS_MAX_COUNT : a->n[o][t] + b->n[o][t];
	if (a->since == 0 || (b->since != 0 && b->since < a->since))
		a->since = b->since;
}

/* stats_empty - see stats.h */
bool stats_empty(const struct stats_counters *c)
{
	for (int o = 0; o < STATS_NOUTCOMES; o++)
		if (c->n[o][0] != 0 || c->n[o][1] != 0)
			return false;
	return true;
}

/* num - a canonical decimal (no sign, no leading zero) of at most max. */
static int num(struct span v, unsigned long long max, unsigned long long *out)
{
	unsigned long long x = 0;

	if (v.n == 0 || v.n > 20 || (v.n > 1 && v.p[0] == '0'))
		return -1;
	for (size_t i = 0; i < v.n; i++) {
		unsigned d = (unsigned)(v.p[i] - '0');

		if (d > 9 || x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*out = x;
	return 0;
}

/* line - the next line of buf from *off, which must be "key value"; the value in *v. */
static int line(const char *buf, size_t len, size_t *off, const char *key, struct span *v)
{
	size_t k = strlen(key);
	const char *nl = *off < len ? memchr(buf + *off, '\n', len - *off) : NULL;
	const char *p = buf + *off;

	if (nl == NULL || (size_t)(nl - p) < k + 1 || memcmp(p, key, k) != 0 || p[k] != ' ')
		return -1;
	*v = span_make(p + k + 1, (size_t)(nl - p) - k - 1);
	*off = (size_t)(nl - buf) + 1;
	return 0;
}

/* stats_parse - see stats.h */
int stats_parse(const char *buf, size_t len, struct stats_counters *c, struct err *e)
{
	unsigned long long x;
	struct span v;
	size_t off = 0, lineno = 1;

	memset(c, 0, sizeof *c);
	if (len > STATS_FILE_MAX)
		return err_set(e, EX_DATAERR, "counters: file over %d bytes", STATS_FILE_MAX);
	if (line(buf, len, &off, "VERSION", &v) < 0 || !span_eq(v, "1"))
		goto bad;
	lineno++;
	if (line(buf, len, &off, "SINCE", &v) < 0 || num(v, STATS_MAX_TIME, &x) < 0)
		goto bad;
	c->since = (long long)x;
	for (int o = 0; o < STATS_NOUTCOMES; o++)
		for (int t = 1; t >= 0; t--) {
			lineno++;
			if (line(buf, len, &off, ckey[o][t], &v) < 0 || num(v, STATS_MAX_COUNT, &c->n[o][t]) < 0)
				goto bad;
		}
	if (off != len) {
		lineno++;
		goto bad;
	}
	return 0;
bad:
	memset(c, 0, sizeof *c);
	return err_set(e, EX_DATAERR, "counters line %zu: not what postern writes", lineno);
}

/* stats_format - see stats.h */
int stats_format(const struct stats_counters *c, struct buf *out, struct err *e)
{
	int bad = buf_printf(out, "VERSION 1\nSINCE %lld\n", c->since < 0 ? 0 : c->since);

	for (int o = 0; o < STATS_NOUTCOMES; o++)
		for (int t = 1; t >= 0; t--)
			bad |= buf_printf(out, "%s %llu\n", ckey[o][t], c->n[o][t]);
	return bad ? err_set(e, EX_SOFTWARE, "counters: buffer full") : 0;
}

/* stats_collect - see stats.h */
int stats_collect(struct spool *sp, struct stats_queue *q, struct err *e)
{
	struct spool_entry *v = NULL;
	size_t n = 0;

	memset(q, 0, sizeof *q);
	if (spool_scan(sp, &v, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct envelope env;
		struct err e2;
		int r = spool_read_env(sp, v[i].id, &env, &e2);

		if (r == 0)
			continue;	/* (delivered meanwhile) */
		if (r < 0) {
			q->unreadable++;
			continue;
		}
		if (env.held)
			q->nheld++;
		else if (v[i].state == SPOOL_NEW)
			q->nnew++;
		else
			q->ndeferred++;
		if (q->oldest == 0 || env.arrival < q->oldest)
			q->oldest = env.arrival;
		env_free(&env);
	}
	free(v);
	return 0;
}

/* utc - a unix time as 2026-12-01T01:02:03Z into dst (the number itself if it is out of range). */
static const char *utc(char dst[DATE_MAX], long long t)
{
	if (date_format(dst, t, DATE_ISO, true) < 0)
		(void)snprintf(dst, DATE_MAX, "%lld", t);
	return dst;
}

/* age - how old the oldest message is at now (0 for an empty queue, never negative). */
static long long age(const struct stats_queue *q, long long now)
{
	return q->oldest == 0 || now < q->oldest ? 0 : now - q->oldest;
}

/* stats_format_text - see stats.h */
int stats_format_text(const struct stats_counters *c, const struct stats_queue *q, long long now,
    struct buf *out, struct err *e)
{
	char when[DATE_MAX];
	int bad = 0;

	bad |= buf_printf(out, "queue: %zu new, %zu deferred, %zu held\n", q->nnew, q->ndeferred, q->nheld);
	if (q->unreadable > 0)
		bad |= buf_printf(out, "unreadable envelopes: %zu (see mailq)\n", q->unreadable);
	if (q->oldest == 0)
		bad |= buf_adds(out, "oldest message: none\n");
	else
		bad |= buf_printf(out, "oldest message: %lld s (arrived %s)\n", age(q, now), utc(when, q->oldest));
	if (c->since == 0)
		bad |= buf_adds(out, "recipients since: no queue run has counted any yet\n");
	else
		bad |= buf_printf(out, "recipients since %s:\n", utc(when, c->since));
	for (int o = 0; o < STATS_NOUTCOMES; o++)
		bad |= buf_printf(out, "  %-8s %llu (TLS %llu, plaintext %llu)\n", oname[o],
				  c->n[o][0] + c->n[o][1], c->n[o][1], c->n[o][0]);
	return bad ? err_set(e, EX_SOFTWARE, "stats: buffer full") : 0;
}

/* stats_format_prom - see stats.h */
int stats_format_prom(const struct stats_counters *c, const struct stats_queue *q, long long now,
    struct buf *out, struct err *e)
{
	int bad = 0;

	bad |= buf_adds(out, "# HELP postern_queue_messages Messages in postern's queue, by state.\n"
			     "# TYPE postern_queue_messages gauge\n");
	bad |= buf_printf(out, "postern_queue_messages{state=\"new\"} %zu\n"
			       "postern_queue_messages{state=\"deferred\"} %zu\n"
			       "postern_queue_messages{state=\"held\"} %zu\n", q->nnew, q->ndeferred, q->nheld);
	bad |= buf_printf(out, "# HELP postern_queue_unreadable_messages Queued messages whose envelope could not "
			       "be read.\n# TYPE postern_queue_unreadable_messages gauge\n"
			       "postern_queue_unreadable_messages %zu\n", q->unreadable);
	bad |= buf_printf(out, "# HELP postern_queue_oldest_message_age_seconds Age of the oldest queued message "
			       "(0: the queue is empty).\n# TYPE postern_queue_oldest_message_age_seconds gauge\n"
			       "postern_queue_oldest_message_age_seconds %lld\n", age(q, now));
	bad |= buf_adds(out, "# HELP postern_recipients_total Recipient outcomes recorded by queue runs since "
			     "the counters started.\n# TYPE postern_recipients_total counter\n");
	for (int o = 0; o < STATS_NOUTCOMES; o++)
		for (int t = 1; t >= 0; t--)
			bad |= buf_printf(out, "postern_recipients_total{outcome=\"%s\",tls=\"%s\"} %llu\n", oname[o],
					  t ? "yes" : "no", c->n[o][t]);
	bad |= buf_printf(out, "# HELP postern_counters_start_time_seconds When the counters started (unix "
			       "time; 0: not yet).\n# TYPE postern_counters_start_time_seconds gauge\n"
			       "postern_counters_start_time_seconds %lld\n", c->since);
	return bad ? err_set(e, EX_SOFTWARE, "stats: buffer full") : 0;
}

/* stats_write_textfile - see stats.h */
int stats_write_textfile(const char *path, const struct buf *text, struct err *e)
{
	struct buf tmp;
	int fd, rc = 0;

	buf_init(&tmp, PATH_MAX);
	if (buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		buf_free(&tmp);
		return err_set(e, EX_CANTCREAT, "stats_file: name too long");
	}
	(void)unlink(buf_str(&tmp));	/* a leftover of a killed run with our pid */
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0) {
		/* (0644 whatever the umask: node_exporter runs as another user) */
		bool ok = fchmod(fd, 0644) == 0 && fdio_write_all(fd, text->data ? text->data : "", text->len) == 0;

		if (close(fd) < 0 || !ok)
			fd = -1;
		else if (rename(buf_str(&tmp), path) == 0)
			goto done;
	}
	rc = err_set(e, EX_CANTCREAT, "stats_file: cannot write %s: %s", path, strerror(errno));
	(void)unlink(buf_str(&tmp));
done:
	buf_free(&tmp);
	return rc;
}

/* stats_main - see stats.h */
int stats_main(const char *spool, int argc, char *const *argv, FILE *out, FILE *err)
{
	struct stats_counters c;
	struct stats_queue q;
	struct spool *sp;
	struct buf b;
	struct err e;
	bool prom = false;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--prometheus") == 0)
			prom = true;
		else {
			fprintf(err, "usage: postern stats [--prometheus]\n");
			return EX_USAGE;
		}
	}
	err_clear(&e);
	if ((sp = spool_open(spool, &e)) == NULL) {
		fprintf(err, "postern: stats: %s\n", e.msg);
		return e.code ? e.code : EX_TEMPFAIL;
	}
	buf_init(&b, STATS_TEXT_MAX);
	if (spool_counters_get(sp, &c, &e) < 0 || stats_collect(sp, &q, &e) < 0 ||
	    (prom ? stats_format_prom : stats_format_text)(&c, &q, (long long)time(NULL), &b, &e) < 0) {
		fprintf(err, "postern: stats: %s\n", e.msg);
		rc = e.code ? e.code : EX_TEMPFAIL;
	} else if (fwrite(buf_str(&b), 1, b.len, out) != b.len || fflush(out) != 0)
		rc = EX_IOERR;
	buf_free(&b);
	spool_close(sp);
	return rc;
}
