/* test_mailq.c - the Postfix-compatible listing, byte for byte against golden files. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/store/mailq.h"

#include "tests/unit/slurp.h"

static void utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

#define LONG_REASON "host mx.example.net[192.0.2.1] said: 452 4.2.2 Mailbox full, try again later (in reply to RCPT TO command)"

Test(mailq, golden, .init = utc)
{
	struct env_rcpt r1[] = {
		{ .addr = (char *)"bruno@example.net", .attempts = 2,
		  .diag = (char *)"connect to mail.example.net[192.0.2.26]:25: Connection refused" },
	};
	struct env_rcpt r2[] = {
		{ .addr = (char *)"a@example.net", .attempts = 1, .diag = (char *)LONG_REASON },
		{ .addr = (char *)"b@example.net", .attempts = 1, .diag = (char *)LONG_REASON },
		{ .addr = (char *)"c@example.net", .state = RCPT_SENT, .diag = (char *)"250 ok" },
		{ .addr = (char *)"d@example.net" },
		{ .addr = (char *)"z@example.net", .state = RCPT_FAILED, .diag = (char *)"550 no" },
		{ .addr = (char *)"e\x1b[31m@example.net", .diag = (char *)"bad \x1b[2J reply" },
	};
	struct env_rcpt r3[] = { { .addr = (char *)"x@example.org" }, { .addr = (char *)"y@example.org" } };
	struct envelope v[3] = {
		{ .id = "6566A1F20B12C9D3E7F", .arrival = 1701226994, .sender = (char *)"ana@example.com",
		  .size = 442, .rcpt = r1, .nrcpt = 1 },
		{ .id = "6566AEB0C3500ABCDEF", .arrival = 1701230000, .sender = (char *)"", .size = 120000,
		  .rcpt = r2, .nrcpt = 6 },
		{ .id = "6592FFFF0000012345F", .arrival = 1704067199, .sender = (char *)"root@host.example",
		  .size = 5, .rcpt = r3, .nrcpt = 2, .held = true },
	};
	bool locked[3] = { true, false, false };
	struct err e = { 0 };
	struct buf out;
	char *want = slurp("tests/unit/golden/mailq-queue.txt");

	buf_init(&out, 1 << 20);
	cr_assert_eq(mailq_format(v, locked, 3, &out, &e), 0, "%s", e.msg);
	cr_assert_str_eq(buf_str(&out), want);
	free(want);

	buf_reset(&out);
	want = slurp("tests/unit/golden/mailq-empty.txt");
	cr_assert_eq(mailq_format(NULL, NULL, 0, &out, &e), 0);
	cr_assert_str_eq(buf_str(&out), want);
	free(want);

	/* a full buffer is an error, not a truncated listing */
	struct buf tiny;
	buf_init(&tiny, 100);
	cr_assert_eq(mailq_format(v, locked, 3, &tiny, &e), -1);
	buf_free(&tiny);
	buf_free(&out);
}

/* mailq_print over a real spool: one message, locked or not, and an unreadable envelope. */
Test(mailq, print_spool, .init = utc)
{
	char root[] = "/tmp/postern-mailq-XXXXXX", cmd[256], id[ENV_ID_LEN + 1], *got;
	struct env_rcpt r = { .addr = (char *)"bob@example.net" };
	struct envelope env = { .sender = (char *)"alice@example.org", .size = 3, .arrival = 1701226994,
				.rcpt = &r, .nrcpt = 1 };
	struct err e = { 0 };
	struct spool_msg *m;
	struct spool *s;
	size_t len;
	FILE *f;

	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(spool_init(root, (gid_t)-1, &e), 0);
	cr_assert_not_null(s = spool_open(root, &e));

	f = open_memstream(&got, &len);
	cr_assert_eq(mailq_print(s, f, &e), 0, "%s", e.msg);
	fclose(f);
	cr_assert_str_eq(got, "Mail queue is empty\n");
	free(got);

	struct spool_tx *t = spool_tx_begin(s, &e);
	cr_assert_eq(write(spool_tx_data_fd(t), "abc", 3), 3);
	memcpy(id, spool_tx_id(t), sizeof id);
	memcpy(env.id, id, sizeof id);
	cr_assert_eq(spool_tx_commit(t, &env, &e), 0, "%s", e.msg);
	spool_tx_abort(t);
	cr_assert_eq(spool_lock(s, id, &m, &e), 1);

	char want[512];
	snprintf(want, sizeof want,
		 "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
		 "%s*       3 Wed Nov 29 03:03:14  alice@example.org\n"
		 "                                         bob@example.net\n\n"
		 "-- 0 Kbytes in 1 Request.\n", id);
	f = open_memstream(&got, &len);
	cr_assert_eq(mailq_print(s, f, &e), 0, "%s", e.msg);
	fclose(f);
	cr_assert_str_eq(got, want);
	free(got);
	spool_msg_unlock(m);

	/* a corrupt envelope: the rest is listed, then an error names it */
	snprintf(cmd, sizeof cmd, "printf 'junk\\n' > %s/new/0000000000000000000; touch %s/data/0000000000000000000", root, root);
	cr_assert_eq(system(cmd), 0);
	f = open_memstream(&got, &len);
	cr_assert_eq(mailq_print(s, f, &e), -1);
	fclose(f);
	cr_assert_not_null(strstr(got, "-- 0 Kbytes in 1 Request.\n"), "%s", got);
	cr_assert_not_null(strstr(e.msg, "1 queue file unreadable"), "%s", e.msg);
	cr_assert_not_null(strstr(e.msg, "0000000000000000000"), "%s", e.msg);
	free(got);

	spool_close(s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

/* `mailq | head`: a reader that has gone (EPIPE, SIGPIPE ignored as the front door does) ends the listing
 * quietly with 0; any other write error is still 74. */
Test(mailq, print_reader_gone, .init = utc)
{
	char root[] = "/tmp/postern-mailq-XXXXXX", cmd[256];
	struct env_rcpt r = { .addr = (char *)"bob@example.net" };
	struct envelope env = { .sender = (char *)"alice@example.org", .size = 3, .arrival = 1701226994,
				.rcpt = &r, .nrcpt = 1 };
	struct err e = { 0 };
	struct spool *s;
	int p[2];
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(spool_init(root, (gid_t)-1, &e), 0);
	cr_assert_not_null(s = spool_open(root, &e));
	for (int i = 0; i < 2; i++) {
		struct spool_tx *t = spool_tx_begin(s, &e);

		cr_assert_eq(write(spool_tx_data_fd(t), "abc", 3), 3);
		memcpy(env.id, spool_tx_id(t), ENV_ID_LEN + 1);
		cr_assert_eq(spool_tx_commit(t, &env, &e), 0, "%s", e.msg);
		spool_tx_abort(t);
	}
	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	cr_assert_not_null(f = fdopen(p[1], "w"));
	cr_assert_eq(mailq_print(s, f, &e), 0, "%s", e.msg);
	fclose(f);
	cr_assert_not_null(f = fopen("/dev/full", "w"));
	cr_assert_eq(mailq_print(s, f, &e), -1);
	cr_assert_eq(e.code, EX_IOERR);
	cr_assert_not_null(strstr(e.msg, "write error"), "%s", e.msg);
	fclose(f);
	spool_close(s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}
