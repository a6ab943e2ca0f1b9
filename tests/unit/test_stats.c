/* test_stats.c - postern stats: counting, the counters file's codec (round trip, every malformed case),
 * both outputs for a fixed clock, the depth of a real spool, and concurrent adders losing nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "queue/store/envelope.h"
#include "queue/store/spool.h"
#include "queue/store/stats.h"

#define FILE1 "VERSION 1\nSINCE 1796000000\nSENT-TLS 7\nSENT-PLAIN 2\nDEFERRED-TLS 0\nDEFERRED-PLAIN 3\n" \
	      "BOUNCED-TLS 1\nBOUNCED-PLAIN 0\n"

Test(stats, count)
{
	static const struct {
		char state;
		const char *tls;
		int outcome, enc;
	} rows[] = {
		{ 'S', "TLSv1.3/verified", STATS_SENT, 1 },
		{ 'S', "none", STATS_SENT, 0 },
		{ 'S', NULL, STATS_SENT, 0 },
		{ 'S', "", STATS_SENT, 0 },
		{ 'D', "TLSv1.2/unverified", STATS_DEFERRED, 1 },
		{ 'D', "none", STATS_DEFERRED, 0 },
		{ 'F', "TLSv1.3/verified", STATS_BOUNCED, 1 },
		{ 'F', NULL, STATS_BOUNCED, 0 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct stats_counters c = { 0 };

		cr_assert(stats_empty(&c));
		stats_count(&c, rows[i].state, rows[i].tls);
		cr_assert_eq(c.n[rows[i].outcome][rows[i].enc], 1, "row %zu", i);
		cr_assert(!stats_empty(&c), "row %zu", i);
		c.n[rows[i].outcome][rows[i].enc] = 0;
		cr_assert(stats_empty(&c), "row %zu: counted elsewhere too", i);
	}
}

Test(stats, add_saturates_and_keeps_the_earlier_start)
{
	struct stats_counters a = { .since = 200 }, b = { .since = 100 }, z = { 0 };

	a.n[STATS_SENT][1] = 9223372036854775800ULL;
	b.n[STATS_SENT][1] = 100;
	b.n[STATS_BOUNCED][0] = 2;
	stats_add(&a, &b);
	cr_assert_eq(a.n[STATS_SENT][1], 9223372036854775807ULL);
	cr_assert_eq(a.n[STATS_BOUNCED][0], 2);
	cr_assert_eq(a.since, 100);
	stats_add(&a, &z);	/* (an adder that never started keeps the start) */
	cr_assert_eq(a.since, 100);
}

Test(stats, parse_round_trip)
{
	struct stats_counters c;
	struct err e = { 0 };
	struct buf out;

	cr_assert_eq(stats_parse(FILE1, strlen(FILE1), &c, &e), 0, "%s", e.msg);
	cr_assert_eq(c.since, 1796000000);
	cr_assert_eq(c.n[STATS_SENT][1], 7);
	cr_assert_eq(c.n[STATS_SENT][0], 2);
	cr_assert_eq(c.n[STATS_DEFERRED][0], 3);
	cr_assert_eq(c.n[STATS_BOUNCED][1], 1);
	buf_init(&out, STATS_FILE_MAX);
	cr_assert_eq(stats_format(&c, &out, &e), 0);
	cr_assert_str_eq(buf_str(&out), FILE1);
	buf_free(&out);
}

Test(stats, parse_refuses)
{
	static const struct {
		const char *in;
		const char *want;
	} rows[] = {
		{ "", "line 1" },
		{ "VERSION 2\n", "line 1" },
		{ "VERSION 1\n", "line 2" },
		{ "VERSION 1\nSINCE 01\n", "line 2" },
		{ "VERSION 1\nSINCE -1\n", "line 2" },
		{ "VERSION 1\nSINCE 253402300800\n", "line 2" },
		{ "VERSION 1\nSINCE 1\nSENT-PLAIN 1\n", "line 3" },	/* out of order */
		{ "VERSION 1\nSINCE 1\nSENT-TLS 9223372036854775808\n", "line 3" },
		{ "VERSION 1\nSINCE 1\nSENT-TLS 1x\n", "line 3" },
		{ "VERSION 1\nSINCE 1\nSENT-TLS  1\n", "line 3" },
		{ "VERSION 1\nSINCE 1\nSENT-TLS 1", "line 3" },	/* no newline */
		{ FILE1 "X 1\n", "line 9" },
		{ FILE1 "\n", "line 9" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct stats_counters c;
		struct err e = { 0 };

		cr_assert_eq(stats_parse(rows[i].in, strlen(rows[i].in), &c, &e), -1, "row %zu accepted", i);
		cr_assert_eq(e.code, EX_DATAERR, "row %zu", i);
		cr_assert_not_null(strstr(e.msg, rows[i].want), "row %zu: %s", i, e.msg);
		cr_assert_eq(c.since, 0, "row %zu: left half-read", i);
	}
	/* over the ceiling */
	char big[STATS_FILE_MAX + 1];
	struct stats_counters c;
	struct err e = { 0 };
	memset(big, '1', sizeof big);
	cr_assert_eq(stats_parse(big, sizeof big, &c, &e), -1);
	cr_assert_not_null(strstr(e.msg, "over"), "%s", e.msg);
}

Test(stats, outputs)
{
	static const char text[] =
	    "queue: 2 new, 1 deferred, 1 held\n"
	    "unreadable envelopes: 1 (see mailq)\n"
	    "oldest message: 3600 s (arrived 2026-12-01T00:00:00Z)\n"
	    "recipients since 2026-11-30T00:53:20Z:\n"
	    "  sent     9 (TLS 7, plaintext 2)\n"
	    "  deferred 3 (TLS 0, plaintext 3)\n"
	    "  bounced  1 (TLS 1, plaintext 0)\n";
	static const char prom[] =
	    "# HELP postern_queue_messages Messages in postern's queue, by state.\n"
	    "# TYPE postern_queue_messages gauge\n"
	    "postern_queue_messages{state=\"new\"} 2\n"
	    "postern_queue_messages{state=\"deferred\"} 1\n"
	    "postern_queue_messages{state=\"held\"} 1\n"
	    "# HELP postern_queue_unreadable_messages Queued messages whose envelope could not be read.\n"
	    "# TYPE postern_queue_unreadable_messages gauge\n"
	    "postern_queue_unreadable_messages 1\n"
	    "# HELP postern_queue_oldest_message_age_seconds Age of the oldest queued message (0: the queue is "
	    "empty).\n"
	    "# TYPE postern_queue_oldest_message_age_seconds gauge\n"
	    "postern_queue_oldest_message_age_seconds 3600\n"
	    "# HELP postern_recipients_total Recipient outcomes recorded by queue runs since the counters "
	    "started.\n"
	    "# TYPE postern_recipients_total counter\n"
	    "postern_recipients_total{outcome=\"sent\",tls=\"yes\"} 7\n"
	    "postern_recipients_total{outcome=\"sent\",tls=\"no\"} 2\n"
	    "postern_recipients_total{outcome=\"deferred\",tls=\"yes\"} 0\n"
	    "postern_recipients_total{outcome=\"deferred\",tls=\"no\"} 3\n"
	    "postern_recipients_total{outcome=\"bounced\",tls=\"yes\"} 1\n"
	    "postern_recipients_total{outcome=\"bounced\",tls=\"no\"} 0\n"
	    "# HELP postern_counters_start_time_seconds When the counters started (unix time; 0: not yet).\n"
	    "# TYPE postern_counters_start_time_seconds gauge\n"
	    "postern_counters_start_time_seconds 1796000000\n";
	struct stats_queue q = { .nnew = 2, .ndeferred = 1, .nheld = 1, .unreadable = 1, .oldest = 1796083200 };
	struct stats_counters c;
	struct err e = { 0 };
	struct buf out;

	cr_assert_eq(stats_parse(FILE1, strlen(FILE1), &c, &e), 0);
	buf_init(&out, STATS_TEXT_MAX);
	cr_assert_eq(stats_format_text(&c, &q, 1796086800, &out, &e), 0);
	cr_assert_str_eq(buf_str(&out), text);
	buf_reset(&out);
	cr_assert_eq(stats_format_prom(&c, &q, 1796086800, &out, &e), 0);
	cr_assert_str_eq(buf_str(&out), prom);
	/* an empty queue and no counters yet; a clock behind the oldest arrival is no negative age */
	struct stats_queue empty = { 0 };
	struct stats_counters none = { 0 };
	buf_reset(&out);
	cr_assert_eq(stats_format_text(&none, &empty, 1796086800, &out, &e), 0);
	cr_assert_not_null(strstr(buf_str(&out), "oldest message: none\nrecipients since: no queue run"));
	q.oldest = 1796086801;
	buf_reset(&out);
	cr_assert_eq(stats_format_prom(&c, &q, 1796086800, &out, &e), 0);
	cr_assert_not_null(strstr(buf_str(&out), "postern_queue_oldest_message_age_seconds 0\n"));
	buf_free(&out);
}

static char root[64];
static struct spool *sp;

static void setup(void)
{
	struct err e = { 0 };

	snprintf(root, sizeof root, "/tmp/postern-stats-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(spool_init(root, (gid_t)-1, &e), 0, "%s", e.msg);
	sp = spool_open(root, &e);
	cr_assert_not_null(sp, "%s", e.msg);
}

static void teardown(void)
{
	char cmd[256];

	spool_close(sp);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

/* Eight processes adding 200 times each at once: every increment is there, the start is the first. */
Test(stats, concurrent_adders_lose_nothing, .init = setup, .fini = teardown)
{
	enum { PROCS = 8, ADDS = 200 };
	struct stats_counters c, one = { 0 };
	struct err e = { 0 };
	pid_t pid[PROCS];

	cr_assert_eq(spool_counters_get(sp, &c, &e), 0, "no counters yet");
	cr_assert_eq(spool_counters_add(sp, &one, 5, true, &e), 0, "nothing to add");
	cr_assert_eq(spool_counters_get(sp, &c, &e), 0, "nothing added: still none");
	stats_count(&one, 'S', "TLSv1.3/verified");
	stats_count(&one, 'D', "none");
	for (int p = 0; p < PROCS; p++) {
		if ((pid[p] = fork()) == 0) {
			struct spool *mine = spool_open(root, &e);
			for (int i = 0; i < ADDS; i++)
				if (mine == NULL || spool_counters_add(mine, &one, 1000 + p, true, &e) < 0)
					_exit(1);
			_exit(0);
		}
		cr_assert_gt(pid[p], 0);
	}
	for (int p = 0; p < PROCS; p++) {
		int st;
		cr_assert_eq(waitpid(pid[p], &st, 0), pid[p]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "adder %d failed", p);
	}
	cr_assert_eq(spool_counters_get(sp, &c, &e), 1, "%s", e.msg);
	cr_assert_eq(c.n[STATS_SENT][1], PROCS * ADDS);
	cr_assert_eq(c.n[STATS_DEFERRED][0], PROCS * ADDS);
	cr_assert_eq(c.n[STATS_SENT][0], 0);
	cr_assert(c.since >= 1000 && c.since < 1000 + PROCS, "since %lld", c.since);
}

/* A counters file that is not postern's is left alone and named; the depth of a real spool. */
Test(stats, bad_file_and_depth, .init = setup, .fini = teardown)
{
	struct stats_counters c, one = { 0 };
	struct stats_queue q;
	struct err e = { 0 };
	char p[128];
	FILE *f;

	snprintf(p, sizeof p, "%s/counters", root);
	cr_assert_not_null(f = fopen(p, "w"));
	fputs("garbage\n", f);
	fclose(f);
	stats_count(&one, 'S', NULL);
	cr_assert_eq(spool_counters_add(sp, &one, 1, true, &e), -1);
	cr_assert_not_null(strstr(e.msg, "remove it"), "%s", e.msg);
	cr_assert_eq(spool_counters_get(sp, &c, &e), -1);
	cr_assert_eq(stats_collect(sp, &q, &e), 0, "%s", e.msg);
	cr_assert_eq(q.nnew + q.ndeferred + q.nheld + q.unreadable, 0);
	cr_assert_eq(q.oldest, 0);
}

/* The textfile: written whole, mode 0644 whatever the umask, no temporary left. */
Test(stats, textfile, .init = setup, .fini = teardown)
{
	struct buf b;
	struct err e = { 0 };
	struct stat st;
	char p[128], got[64] = "";
	FILE *f;

	snprintf(p, sizeof p, "%s/postern.prom", root);
	buf_init(&b, 64);
	cr_assert_eq(buf_adds(&b, "postern_x 1\n"), 0);
	umask(077);
	cr_assert_eq(stats_write_textfile(p, &b, &e), 0, "%s", e.msg);
	cr_assert_eq(stats_write_textfile(p, &b, &e), 0, "replacing: %s", e.msg);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0644);
	cr_assert_not_null(f = fopen(p, "r"));
	cr_assert_not_null(fgets(got, sizeof got, f));
	fclose(f);
	cr_assert_str_eq(got, "postern_x 1\n");
	snprintf(p, sizeof p, "%s/nonexistent/postern.prom", root);
	cr_assert_eq(stats_write_textfile(p, &b, &e), -1);
	cr_assert_eq(e.code, EX_CANTCREAT);
	buf_free(&b);
}

/* A caller's own run (create false) never creates the files, only adds to them; the file is rewritten
 * in place (same inode: its owner stays whoever created it); a lock held elsewhere is waited for a
 * bounded time, never for ever. */
Test(stats, unprivileged_and_busy, .init = setup, .fini = teardown)
{
	struct stats_counters c, one = { 0 };
	struct err e = { 0 };
	struct stat st1, st2;
	char p[128], lp[128];
	int fd;

	snprintf(p, sizeof p, "%s/counters", root);
	snprintf(lp, sizeof lp, "%s/counters.lock", root);
	stats_count(&one, 'S', NULL);
	cr_assert_eq(spool_counters_add(sp, &one, 7, false, &e), 0, "%s", e.msg);
	cr_assert_eq(access(p, F_OK), -1, "created by an unprivileged run");
	cr_assert_eq(access(lp, F_OK), -1, "lock created by an unprivileged run");
	cr_assert_eq(spool_counters_add(sp, &one, 8, true, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(p, &st1), 0);
	cr_assert_eq(spool_counters_add(sp, &one, 9, false, &e), 0, "%s", e.msg);
	cr_assert_eq(stat(p, &st2), 0);
	cr_assert_eq(st1.st_ino, st2.st_ino, "replaced, not rewritten in place");
	cr_assert_eq(spool_counters_get(sp, &c, &e), 1, "%s", e.msg);
	cr_assert_eq(c.n[STATS_SENT][0], 2);
	cr_assert_eq(c.since, 8);

	/* someone holds the lock (a stopped run): the add gives up, reading still works */
	cr_assert_geq(fd = open(lp, O_RDWR), 0);
	if (fork() == 0) {
		(void)flock(fd, LOCK_EX);
		sleep(3);
		_exit(0);
	}
	usleep(200 * 1000);
	time_t t0 = time(NULL);
	cr_assert_eq(spool_counters_add(sp, &one, 10, true, &e), -1);
	cr_assert_not_null(strstr(e.msg, "busy"), "%s", e.msg);
	cr_assert_leq(time(NULL) - t0, 3, "waited too long");
	cr_assert_eq(spool_counters_get(sp, &c, &e), 1, "%s", e.msg);
	cr_assert_eq(c.n[STATS_SENT][0], 2);
	close(fd);
	(void)wait(NULL);
}
