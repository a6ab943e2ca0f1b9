/* test_qadmin.c - postern queue's pure parts: the command line (a table), the JSON string escaping
 * (a table), and mailq --json's lines against a golden file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/run/qadmin.h"

#define ID1 "6566A1F20B12C9D3E7F"
#define ID2 "6566AEB0C3500ABCDEF"

#include "tests/unit/slurp.h"

struct prow {
	const char *argv[6];
	int rc;			/* 0 or -1 */
	enum qa_op op;
	size_t nids;
	bool body, all;
	const char *sender, *rcpt;
	const char *why;	/* substring of the reason when refused */
};

static const struct prow prows[] = {
	{ { "queue", "show", ID1 }, 0, QA_SHOW, 1, false, false, NULL, NULL, NULL },
	{ { "queue", "show", "-b", ID1, ID2 }, 0, QA_SHOW, 2, true, false, NULL, NULL, NULL },
	{ { "queue", "delete", ID1, ID2 }, 0, QA_DELETE, 2, false, false, NULL, NULL, NULL },
	{ { "queue", "delete", "--all" }, 0, QA_DELETE, 0, false, true, NULL, NULL, NULL },
	{ { "queue", "delete", "--sender", "a@b" }, 0, QA_DELETE, 0, false, false, "a@b", NULL, NULL },
	{ { "queue", "delete", "--sender", "" }, 0, QA_DELETE, 0, false, false, "", NULL, NULL },
	{ { "queue", "delete", "--recipient", "c@d" }, 0, QA_DELETE, 0, false, false, NULL, "c@d", NULL },
	{ { "queue", "hold", ID1 }, 0, QA_HOLD, 1, false, false, NULL, NULL, NULL },
	{ { "queue", "release", ID1 }, 0, QA_RELEASE, 1, false, false, NULL, NULL, NULL },
	{ { "queue", "requeue", ID1, ID2 }, 0, QA_REQUEUE, 2, false, false, NULL, NULL, NULL },
	{ { "queue", "list", "--json" }, 0, QA_LIST, 0, false, false, NULL, NULL, NULL },
	{ { "queue", "-d", ID1 }, 0, QA_DELETE, 1, false, false, NULL, NULL, NULL },
	{ { "queue", "-d", "--all" }, 0, QA_DELETE, 0, false, true, NULL, NULL, NULL },
	{ { "queue", "-h", ID1 }, 0, QA_HOLD, 1, false, false, NULL, NULL, NULL },
	{ { "queue", "-H", ID1, ID2 }, 0, QA_RELEASE, 2, false, false, NULL, NULL, NULL },
	{ { "queue", "-r", ID1 }, 0, QA_REQUEUE, 1, false, false, NULL, NULL, NULL },
	{ { "queue", "-x", ID1 }, -1, 0, 0, false, false, NULL, NULL, "unknown subcommand" },
	{ { "queue" }, -1, 0, 0, false, false, NULL, NULL, "no subcommand" },
	{ { "queue", "purge" }, -1, 0, 0, false, false, NULL, NULL, "unknown subcommand" },
	{ { "queue", "hold" }, -1, 0, 0, false, false, NULL, NULL, "no queue id" },
	{ { "queue", "hold", "../../etc/passwdAAAA" }, -1, 0, 0, false, false, NULL, NULL, "not a queue id" },
	{ { "queue", "hold", "6566a1f20b12c9d3e7f" }, -1, 0, 0, false, false, NULL, NULL, "not a queue id" },
	{ { "queue", "release", "-x", ID1 }, -1, 0, 0, false, false, NULL, NULL, "unknown option" },
	{ { "queue", "delete" }, -1, 0, 0, false, false, NULL, NULL, "no queue id" },
	{ { "queue", "delete", "--all", ID1 }, -1, 0, 0, false, false, NULL, NULL, "unknown option" },
	{ { "queue", "delete", "--sender" }, -1, 0, 0, false, false, NULL, NULL, "takes one address" },
	{ { "queue", "delete", "--recipient", "" }, -1, 0, 0, false, false, NULL, NULL, "bad address" },
	{ { "queue", "list" }, -1, 0, 0, false, false, NULL, NULL, "usage" },
	{ { "queue", "show", "-b" }, -1, 0, 0, false, false, NULL, NULL, "no queue id" },
};

Test(qadmin, parse)
{
	for (size_t i = 0; i < sizeof prows / sizeof prows[0]; i++) {
		const struct prow *p = &prows[i];
		struct qa_cmd c;
		struct err e = { 0 };
		int argc = 0;

		char *av[6];

		memcpy(av, p->argv, sizeof av);	/* (argv is char *const *: the table's literals are const) */
		while (argc < 6 && p->argv[argc] != NULL)
			argc++;
		int r = qadmin_parse(argc, av, &c, &e);
		cr_assert_eq(r, p->rc, "row %zu: %d (%s)", i, r, e.msg);
		if (r < 0) {
			cr_assert_eq(e.code, EX_USAGE, "row %zu", i);
			cr_assert(strstr(e.msg, p->why) != NULL, "row %zu: %s", i, e.msg);
			continue;
		}
		cr_assert_eq(c.op, p->op, "row %zu", i);
		cr_assert_eq(c.nids, p->nids, "row %zu", i);
		cr_assert_eq(c.body, p->body, "row %zu", i);
		cr_assert_eq(c.all, p->all, "row %zu", i);
		cr_assert_str_eq(c.sender ? c.sender : "(null)", p->sender ? p->sender : "(null)", "row %zu", i);
		cr_assert_str_eq(c.rcpt ? c.rcpt : "(null)", p->rcpt ? p->rcpt : "(null)", "row %zu", i);
	}
	struct qa_cmd c;
	struct err e = { 0 };
	static char q[] = "queue", h[] = "hold", id[] = ID1;
	char *many[QA_MAX_IDS + 3] = { q, h };
	for (int k = 2; k < QA_MAX_IDS + 3; k++)
		many[k] = id;
	cr_assert_eq(qadmin_parse(QA_MAX_IDS + 3, many, &c, &e), -1, "too many ids");
	cr_assert_eq(qadmin_parse(QA_MAX_IDS + 2, many, &c, &e), 0, "%s", e.msg);
}

Test(qadmin, json_golden)
{
	struct env_rcpt r1[] = {
		{ .addr = (char *)"bruno@example.net", .attempts = 2,
		  .diag = (char *)"connect to mail.example.net[192.0.2.26]:25: Connection refused" },
	};
	struct env_rcpt r2[] = {
		{ .addr = (char *)"a@example.net", .attempts = 1, .diag = (char *)"452 4.2.2 \"Mailbox\" full" },
		{ .addr = (char *)"c@example.net", .state = RCPT_SENT, .diag = (char *)"250 ok" },
		{ .addr = (char *)"d@example.net" },
		{ .addr = (char *)"z@example.net", .state = RCPT_FAILED, .diag = (char *)"550 no" },
		{ .addr = (char *)"e\x1b[31m@example.net", .diag = (char *)"bad \xff reply\\" },
	};
	struct env_rcpt r3[] = { { .addr = (char *)"x@example.org" } };
	struct envelope v[4] = {
		{ .id = ID1, .arrival = 1701226994, .sender = (char *)"ana@example.com", .size = 442,
		  .attempts = 2, .next_try = 1701230000, .rcpt = r1, .nrcpt = 1 },
		{ .id = ID2, .arrival = 1701230000, .sender = (char *)"", .size = 120000, .attempts = 1,
		  .next_try = 0, .rcpt = r2, .nrcpt = 5 },
		{ .id = "6592FFFF0000012345F", .arrival = 1704067199, .sender = (char *)"root@host.example",
		  .size = 5, .held = true, .rcpt = r3, .nrcpt = 1 },
		{ .id = "6592FFFF0000012346A", .arrival = 1704067200, .sender = (char *)"root@host.example",
		  .size = 6, .rcpt = r3, .nrcpt = 1 },
	};
	bool locked[4] = { true, false, false, false };
	char *want = slurp("tests/unit/golden/mailq-json.txt");
	struct buf out;

	buf_init(&out, 1 << 16);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(qadmin_json(&v[i], locked[i], &out), 0);
	cr_assert_str_eq(buf_str(&out), want);
	free(want);
	struct buf tiny;
	buf_init(&tiny, 40);
	cr_assert_eq(qadmin_json(&v[0], false, &tiny), -1, "a full buffer is an error");
	buf_free(&tiny);
	buf_free(&out);
}

Test(qadmin, matches)
{
	struct env_rcpt r[] = { { .addr = (char *)"Bob@Example.net" }, { .addr = (char *)"c@d" } };
	struct envelope env = { .sender = (char *)"", .rcpt = r, .nrcpt = 2 };
	struct qa_cmd c = { .op = QA_DELETE };

	cr_expect_not(qadmin_matches(&c, &env), "nothing selected");
	c.all = true;
	cr_expect(qadmin_matches(&c, &env));
	c.all = false;
	c.sender = "<>";
	cr_expect(qadmin_matches(&c, &env), "<> is the null sender");
	c.sender = "";
	cr_expect(qadmin_matches(&c, &env));
	env.sender = (char *)"Ana@Example.com";
	cr_expect_not(qadmin_matches(&c, &env));
	c.sender = "ana@example.com";
	cr_expect(qadmin_matches(&c, &env), "case-insensitive");
	c.sender = "ana@example.co";
	cr_expect_not(qadmin_matches(&c, &env), "exact, not a substring");
	c.sender = NULL;
	c.rcpt = "bob@example.net";
	cr_expect(qadmin_matches(&c, &env));
	c.rcpt = "b@example.net";
	cr_expect_not(qadmin_matches(&c, &env));
}
