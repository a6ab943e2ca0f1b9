/* test_args.c - the sendmail(8) command line, as real callers write it, and hostile forms. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "sendmail/args.h"

#define MAXARGS 12

struct row {
	const char *argv[MAXARGS];	/* NULL-terminated */
	int want;			/* 0 or -1 */
	const char *want_err;		/* substring of the error, when want is -1 */
};

static int run(const struct row *r, struct opts *o, struct err *e)
{
	static char *argv[MAXARGS];	/* test-only scratch */
	int argc = 0;

	while (r->argv[argc] != NULL) {
		argv[argc] = (char *)(uintptr_t)r->argv[argc];
		argc++;
	}
	argv[argc] = NULL;
	err_clear(e);
	return args_parse(argc, argv, o, e);
}

Test(args, table)
{
	static const struct row rows[] = {
		/* real callers */
		{ { "sendmail", "-t", "-i", NULL }, 0, NULL },			/* PHP mail() */
		{ { "sendmail", "-t", "-i", "-fbounce@example.com", NULL }, 0, NULL },
		{ { "sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root", NULL }, 0, NULL },
		{ { "sendmail", "-oem", "-oi", "--", "user@example.com", NULL }, 0, NULL },	/* mutt */
		{ { "sendmail", "-oi", "-oem", "--", "a@x.org", "b@y.org", NULL }, 0, NULL },
		{ { "/usr/sbin/sendmail", "-i", "root", NULL }, 0, NULL },	/* mail -s subj root */
		{ { "sendmail", "-t", NULL }, 0, NULL },			/* logwatch */
		{ { "sendmail", "-ti", NULL }, 0, NULL },
		{ { "sendmail", "-f", "<>", "-t", NULL }, 0, NULL },
		{ { "sendmail", "-r", "a@b.c", "x@y.z", NULL }, 0, NULL },
		{ { "sendmail", "-odq", "-odb", "-odi", "-oeq", "-oew", "-oep", "-oee", NULL }, 0, NULL },
		{ { "sendmail", "-N", "success,failure", "-R", "hdrs", "-V", "abc123", "x@y.z", NULL }, 0, NULL },
		{ { "sendmail", "-Nnever", "-Rfull", "-U", "-Lpostern", "-h", "3", "-n", "-G", "x@y", NULL }, 0, NULL },
		{ { "sendmail", "-Ac", "-Am", "-O", "DeliveryMode=b", "-om", "-os", "x@y", NULL }, 0, NULL },
		{ { "sendmail", "-q", NULL }, 0, NULL },
		{ { "sendmail", "-q30m", NULL }, 0, NULL },
		{ { "sendmail", "-qRexample.com", NULL }, 0, NULL },
		{ { "sendmail", "-qSuser@x", NULL }, 0, NULL },
		{ { "sendmail", "-qIABC", NULL }, 0, NULL },
		{ { "sendmail", "-qR", "example.com", NULL }, 0, NULL },	/* separated, as some scripts write it */
		{ { "sendmail", "-qS", "user@x", "-v", NULL }, 0, NULL },
		{ { "sendmail", "-bp", NULL }, 0, NULL },
		{ { "sendmail", "-bs", NULL }, 0, NULL },
		{ { "sendmail", "-bv", "root", NULL }, 0, NULL },
		{ { "sendmail", "-bi", NULL }, 0, NULL },
		{ { "sendmail", "--", "-weird@example.com", NULL }, 0, NULL },
		{ { "sendmail", "-pESMTP:host", "x@y", NULL }, 0, NULL },
		/* refused: files, debugging, daemons */
		{ { "sendmail", "-X", "/tmp/log", "x@y", NULL }, -1, "-X" },
		{ { "sendmail", "-X/tmp/log", NULL }, -1, "-X" },
		{ { "sendmail", "-d0.1", NULL }, -1, "-d" },
		{ { "sendmail", "-bd", NULL }, -1, "-bd" },
		{ { "sendmail", "-bD", NULL }, -1, "-bD" },
		{ { "sendmail", "-bt", NULL }, -1, "-bt" },
		{ { "sendmail", "-bz", NULL }, -1, "unknown mode" },
		{ { "sendmail", "-oQ/tmp", NULL }, -1, "-oQ" },
		{ { "sendmail", "-oA/tmp/aliases", NULL }, -1, "-oA" },
		{ { "sendmail", "-OQueueDirectory=/tmp", NULL }, -1, "QueueDirectory" },
		{ { "sendmail", "-O", "AliasFile=/tmp/a", NULL }, -1, "AliasFile" },
		{ { "sendmail", "-Z", NULL }, -1, "-Z: unknown option" },
		{ { "sendmail", "-tZ", NULL }, -1, "-Z: unknown option" },
		/* injection and malformed values */
		{ { "sendmail", "-fa@b.c\r\nBcc: victim@x", NULL }, -1, "CR or LF" },
		{ { "sendmail", "-f", "a@b.c\n", NULL }, -1, "CR or LF" },
		{ { "sendmail", "-FEvil\nBcc: x@y", NULL }, -1, "CR or LF" },
		{ { "sendmail", "--", "a@b\r\nRCPT TO:<x@y>", NULL }, -1, "CR or LF" },
		{ { "sendmail", "x@y", "-f", "z@w", NULL }, -1, "options must come before" },
		{ { "sendmail", "-f", NULL }, -1, "missing value" },
		{ { "sendmail", "-B", "9BIT", NULL }, -1, "-B" },
		{ { "sendmail", "-N", "sometimes", NULL }, -1, "-N" },
		{ { "sendmail", "-N", "success,", NULL }, -1, "-N" },
		{ { "sendmail", "-R", "body", NULL }, -1, "-R" },
		{ { "sendmail", "-V", "a=b", NULL }, -1, "-V" },
		{ { "sendmail", "-h", "x", NULL }, -1, "-h" },
		{ { "sendmail", "-q5x", NULL }, -1, "-q" },
		{ { "sendmail", "-qR", NULL }, -1, "-qR" },
		{ { "sendmail", "-oex", NULL }, -1, "-oe" },
		{ { "sendmail", "-odz", NULL }, -1, "-od" },
		{ { "sendmail", "-A", "x", NULL }, -1, "-A" },
		{ { "sendmail", "", NULL }, -1, "empty" },
	};
	size_t i;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct opts o;
		struct err e;
		int r = run(&rows[i], &o, &e);

		cr_expect_eq(r, rows[i].want, "row %zu (%s %s): got %d (%s)", i, rows[i].argv[1],
		    rows[i].argv[2] ? rows[i].argv[2] : "", r, e.msg);
		if (rows[i].want < 0) {
			cr_expect_eq(e.code, EX_USAGE, "row %zu: code %d", i, e.code);
			cr_expect(strstr(e.msg, rows[i].want_err) != NULL, "row %zu: error \"%s\" lacks \"%s\"",
			    i, e.msg, rows[i].want_err);
		}
	}
}

Test(args, values)
{
	struct row r1 = { { "sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root", NULL }, 0, NULL };
	struct row r2 = { { "sendmail", "-t", "-i", "-fbounce@example.com", "extra@x.org", NULL }, 0, NULL };
	struct row r3 = { { "sendmail", "-q1h30m", NULL }, 0, NULL };
	struct opts o;
	struct err e;

	cr_assert_eq(run(&r1, &o, &e), 0);
	cr_expect_str_eq(o.fullname, "CronDaemon");
	cr_expect(!o.dot_ends);
	cr_expect_eq(o.body, BODY_8BITMIME);
	cr_expect_eq(o.errmode, 'm');
	cr_expect_eq(o.mode, MODE_SUBMIT);
	cr_assert_eq(o.nrcpt, 1);
	cr_expect_str_eq(o.rcpt[0], "root");

	cr_assert_eq(run(&r2, &o, &e), 0);
	cr_expect(o.extract);
	cr_expect_str_eq(o.sender, "bounce@example.com");
	cr_assert_eq(o.nrcpt, 1);
	cr_expect(o.dot_ends == false);

	cr_assert_eq(run(&r3, &o, &e), 0);
	cr_expect_eq(o.mode, MODE_QUEUE);
	cr_expect_eq(o.qinterval, 5400);

	struct row r4 = { { "sendmail", "-qR", "example.org", NULL }, 0, NULL };
	cr_assert_eq(run(&r4, &o, &e), 0);
	cr_expect_eq(o.mode, MODE_QUEUE);
	cr_expect_str_eq(o.q_domain, "example.org");
	cr_expect_eq(o.nrcpt, 0);
}

Test(args, personalities)
{
	struct row m = { { "/usr/bin/mailq", NULL }, 0, NULL };
	struct row q = { { "runq", NULL }, 0, NULL };
	struct row n = { { "/usr/bin/newaliases", NULL }, 0, NULL };
	struct row p = { { "/usr/sbin/postern", "dkim-keygen", "example.com", "sel", NULL }, 0, NULL };
	struct row d = { { "sendmail", NULL }, 0, NULL };
	struct opts o;
	struct err e;

	cr_assert_eq(run(&m, &o, &e), 0);
	cr_expect_eq(o.mode, MODE_MAILQ);
	cr_assert_eq(run(&q, &o, &e), 0);
	cr_expect_eq(o.mode, MODE_QUEUE);
	cr_assert_eq(run(&n, &o, &e), 0);
	cr_expect_eq(o.mode, MODE_NEWALIASES);
	cr_assert_eq(run(&p, &o, &e), 0);
	cr_expect_eq(o.mode, MODE_ADMIN);
	cr_expect_eq(o.admin_argc, 3);
	cr_expect_str_eq(o.admin_argv[0], "dkim-keygen");
	cr_assert_eq(run(&d, &o, &e), 0);
	cr_expect_eq(o.mode, MODE_SUBMIT);
	cr_expect(o.dot_ends);
	cr_expect_eq(o.nrcpt, 0);
	cr_expect_str_eq(args_personality("/x/y/sendmail"), "sendmail");
	cr_expect_str_eq(args_personality(""), "sendmail");
}

/* mailq --json and sendmail -bp --json list as JSON; --json with any other mode is a usage error. */
Test(args, mailq_json)
{
	struct row m = { { "mailq", "--json", NULL }, 0, NULL };
	struct row bp = { { "sendmail", "-bp", "--json", NULL }, 0, NULL };
	struct row plain = { { "mailq", NULL }, 0, NULL };
	struct row bad = { { "sendmail", "--json", "-t", NULL }, 0, NULL };
	struct opts o;
	struct err e;

	cr_assert_eq(run(&m, &o, &e), 0, "%s", e.msg);
	cr_expect(o.json && o.mode == MODE_MAILQ);
	cr_assert_eq(run(&bp, &o, &e), 0, "%s", e.msg);
	cr_expect(o.json && o.mode == MODE_MAILQ);
	cr_assert_eq(run(&plain, &o, &e), 0);
	cr_expect_not(o.json);
	cr_assert_eq(run(&bad, &o, &e), -1);
	cr_expect_eq(e.code, EX_USAGE);
	cr_expect(strstr(e.msg, "--json") != NULL, "%s", e.msg);
}

Test(args, may_list_queue)
{
	static const struct {
		enum mailq_users who;
		bool root, member, want;
	} t[] = {
		{ MAILQ_ANYONE, false, false, true }, { MAILQ_ANYONE, true, false, true },
		{ MAILQ_GROUP, false, false, false }, { MAILQ_GROUP, false, true, true },
		{ MAILQ_GROUP, true, false, true }, { MAILQ_ROOT, false, true, false },
		{ MAILQ_ROOT, false, false, false }, { MAILQ_ROOT, true, false, true },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		cr_expect_eq(args_may_list_queue(t[i].who, t[i].root, t[i].member), t[i].want, "row %zu", i);
}
